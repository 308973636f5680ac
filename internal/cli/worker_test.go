package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestWorkerLogDurations checks that the JSON log gives every duration in
// seconds under a key naming the unit, and the text log a rounded one.
func TestWorkerLogDurations(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("job completed", "duration", 12345678*time.Nanosecond, "timeout", 30*time.Second, "took", 400*time.Microsecond, "attempt", 2)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	want := map[string]any{"duration_s": 0.012, "timeout_s": 30.0, "took_s": 0.0, "attempt": 2.0}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("json log %s = %#v, want %#v (%s)", k, rec[k], v, buf.String())
		}
	}
	for _, k := range []string{"duration", "timeout", "took"} {
		if _, ok := rec[k]; ok {
			t.Errorf("json log still has %q without its unit: %s", k, buf.String())
		}
	}

	buf.Reset()
	if log, err = newLogger(&buf, "text", "info"); err != nil {
		t.Fatal(err)
	}
	log.Info("job completed", "duration", 1234567891*time.Nanosecond, "took", 12345*time.Nanosecond)
	out := buf.String()
	for _, w := range []string{"duration=1.235s", "took=12µs"} {
		if !strings.Contains(out, w) {
			t.Errorf("text log lacks %s:\n%s", w, out)
		}
	}
}
