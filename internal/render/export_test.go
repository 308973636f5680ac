package render

import (
	"encoding/json"
	"testing"
	"time"
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
