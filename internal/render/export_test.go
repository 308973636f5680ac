package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// TestTimeJSON checks that every time in machine-readable output is UTC
// with exactly three fractional digits, and that a zero time is null.
func TestTimeJSON(t *testing.T) {
	east := time.FixedZone("UTC+2", 2*3600)
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 12, 2, 6, 56, 17, 123456789, time.UTC), `"2026-12-02T06:56:17.123Z"`},
		{time.Date(2026, 12, 2, 8, 56, 17, 0, east), `"2026-12-02T06:56:17.000Z"`},
		{time.Date(2026, 12, 2, 6, 56, 17, 999999999, time.UTC), `"2026-12-02T06:56:17.999Z"`},
		{time.Time{}, `null`},
	} {
		b, err := json.Marshal(Time(c.in))
		if err != nil || string(b) != c.want {
			t.Errorf("Time(%v) = %s, %v; want %s", c.in, b, err, c.want)
		}
	}
	if b, _ := json.Marshal(struct{ T *Time }{TimePtr(nil)}); string(b) != `{"T":null}` {
		t.Errorf("TimePtr(nil) = %s", b)
	}
	if b, _ := json.Marshal(struct{ A, B *string }{Opt(""), Opt("x")}); string(b) != `{"A":null,"B":"x"}` {
		t.Errorf("Opt = %s", b)
	}
}

// TestStatsJSONRounds checks that run times print to the millisecond and
// that a type's counts name every status.
func TestStatsJSONRounds(t *testing.T) {
	st := &store.Stats{ByStatus: map[store.Status]int64{store.StatusDead: 2},
		ByType: []*store.TypeStats{{Type: "T", Completed: 2, P50: 46.926500000000004, P95: 0.1 + 0.2}}}
	b, err := marshalJSON(exportStats(st), "")
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, w := range []string{`"p50Seconds":46.927`, `"p95Seconds":0.3}`,
		`"byStatus":{"PENDING":0,"RUNNING":0,"RETRYING":0,"COMPLETED":0,"FAILED":0,"CANCELLED":0,"DEAD":2}`,
		`"counts":{"PENDING":0,"RUNNING":0,"RETRYING":0,"COMPLETED":0,"FAILED":0,"CANCELLED":0,"DEAD":0}`} {
		if !strings.Contains(out, w) {
			t.Errorf("stats JSON lacks %s:\n%s", w, out)
		}
	}
}
