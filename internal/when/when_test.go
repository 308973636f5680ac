package when

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"0s", 0},
		{"500ms", 500 * time.Millisecond},
		{"90s", 90 * time.Second},
		{"10m", 10 * time.Minute},
		{"1h", time.Hour},
		{"1h30m", 90 * time.Minute},
		{"1.5h", 90 * time.Minute},
		{"30d", 30 * 24 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"2w", 14 * 24 * time.Hour},
		{"1w2d3h4m5s", (7+2)*24*time.Hour + 3*time.Hour + 4*time.Minute + 5*time.Second},
		{"0.5d", 12 * time.Hour},
		{"1µs", time.Microsecond},
		{"1us", time.Microsecond},
		{"3ns", 3},
		{" 5m ", 5 * time.Minute},
		{"2562047h", 2562047 * time.Hour},
		{"15250w", 15250 * 7 * 24 * time.Hour},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseDurationErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `invalid duration "" (use e.g. 90s, 10m, 1h, 30d)`},
		{"3x", `invalid duration "3x" (use e.g. 90s, 10m, 1h, 30d)`},
		{"30", `invalid duration "30" (use e.g. 90s, 10m, 1h, 30d)`},
		{"d", `invalid duration "d" (use e.g. 90s, 10m, 1h, 30d)`},
		{"1h30", `invalid duration "1h30" (use e.g. 90s, 10m, 1h, 30d)`},
		{"1..5h", `invalid duration "1..5h" (use e.g. 90s, 10m, 1h, 30d)`},
		{".h", `invalid duration ".h" (use e.g. 90s, 10m, 1h, 30d)`},
		{"+1h", `invalid duration "+1h" (use e.g. 90s, 10m, 1h, 30d)`},
		{"1h 30m", `invalid duration "1h 30m" (use e.g. 90s, 10m, 1h, 30d)`},
		{"1H", `invalid duration "1H" (use e.g. 90s, 10m, 1h, 30d)`},
		{"1y", `invalid duration "1y" (use e.g. 90s, 10m, 1h, 30d)`},
		{"today", `invalid duration "today" (use e.g. 90s, 10m, 1h, 30d)`},
		{"-1h", `invalid duration "-1h": must not be negative`},
		{"-0", `invalid duration "-0": must not be negative`},
		{"2562048h", `invalid duration "2562048h": too large (the limit is about 290 years)`},
		{"15251w", `invalid duration "15251w": too large (the limit is about 290 years)`},
		{"15250w15250w", `invalid duration "15250w15250w": too large (the limit is about 290 years)`},
		{"99999999999999999999s", `invalid duration "99999999999999999999s": too large (the limit is about 290 years)`},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err == nil {
			t.Errorf("ParseDuration(%q) = %v, want error", tt.in, got)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseDuration(%q) error\n got: %s\nwant: %s", tt.in, err, tt.want)
		}
	}
}

// now is a Saturday afternoon in a zone with DST, so "today" and dates
// without a zone must come out in that zone, not UTC.
func testNow(t *testing.T) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		loc = time.FixedZone("CEST", 2*60*60)
	}
	return time.Date(2025, 10, 25, 15, 4, 5, 0, loc)
}

func TestParseTime(t *testing.T) {
	now := testNow(t)
	loc := now.Location()
	tests := []struct {
		in   string
		want time.Time
	}{
		{"now", now},
		{"NOW", now},
		{"1h", now.Add(-time.Hour)},
		{"30d", now.Add(-30 * 24 * time.Hour)},
		{"90s", now.Add(-90 * time.Second)},
		{"0", now},
		{"today", time.Date(2025, 10, 25, 0, 0, 0, 0, loc)},
		{"Today", time.Date(2025, 10, 25, 0, 0, 0, 0, loc)},
		{"yesterday", time.Date(2025, 10, 24, 0, 0, 0, 0, loc)},
		{"2025-10-25T10:00:00Z", time.Date(2025, 10, 25, 10, 0, 0, 0, time.UTC)},
		{"2025-10-25T10:00:00.123+02:00", time.Date(2025, 10, 25, 8, 0, 0, 123e6, time.UTC)},
		{"2025-10-25", time.Date(2025, 10, 25, 0, 0, 0, 0, loc)},
		{"2025-10-25 10:00", time.Date(2025, 10, 25, 10, 0, 0, 0, loc)},
		{"2025-10-25 10:00:30", time.Date(2025, 10, 25, 10, 0, 30, 0, loc)},
		{"2025-10-25T10:00", time.Date(2025, 10, 25, 10, 0, 0, 0, loc)},
		{"2025-10-25T10:00:30", time.Date(2025, 10, 25, 10, 0, 30, 0, loc)},
		{" 2025-10-25 ", time.Date(2025, 10, 25, 0, 0, 0, 0, loc)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, now)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// The day after Berlin's clocks go back is 25 hours long: "yesterday" is
// still the previous calendar day's midnight.
func TestParseTimeAcrossDST(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	now := time.Date(2025, 10, 27, 0, 30, 0, 0, loc)
	got, err := ParseTime("yesterday", now)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 10, 26, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("yesterday = %v, want %v", got, want)
	}
}

func TestParseTimeErrors(t *testing.T) {
	now := testNow(t)
	for _, in := range []string{"", "x", "-1h", "tomorrow", "2025-13-01", "2025-10-25 25:00", "10/25/2025", "1h ago", "2025-10-25T10:00:00Q"} {
		got, err := ParseTime(in, now)
		if err == nil {
			t.Errorf("ParseTime(%q) = %v, want error", in, got)
			continue
		}
		want := `invalid time "` + in + `" (use a duration like 1h or 30d, today, yesterday, or RFC 3339)`
		if err.Error() != want {
			t.Errorf("ParseTime(%q) error\n got: %s\nwant: %s", in, err, want)
		}
	}
}

func TestParseAt(t *testing.T) {
	now := testNow(t)
	loc := now.Location()
	tests := []struct {
		in   string
		want time.Time
	}{
		{"10m", now.Add(10 * time.Minute)},
		{"1d", now.Add(24 * time.Hour)},
		{"now", now},
		{"2025-10-26T10:00:00Z", time.Date(2025, 10, 26, 10, 0, 0, 0, time.UTC)},
		{"2025-10-26", time.Date(2025, 10, 26, 0, 0, 0, 0, loc)},
		{"2025-10-26 10:00", time.Date(2025, 10, 26, 10, 0, 0, 0, loc)},
	}
	for _, tt := range tests {
		got, err := ParseAt(tt.in, now)
		if err != nil {
			t.Errorf("ParseAt(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("ParseAt(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{"", "soon", "-10m", "today"} {
		if got, err := ParseAt(in, now); err == nil {
			t.Errorf("ParseAt(%q) = %v, want error", in, got)
		} else if !strings.HasPrefix(err.Error(), `invalid time "`+in+`" (use a duration from now`) {
			t.Errorf("ParseAt(%q) error: %s", in, err)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90s", "1h", "30d", "1d12h", "2w", "500ms", "1h30m", "0", "-1h", "3x", "1.5µs", "15250w", ".5h", "1."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid duration ") {
				t.Fatalf("ParseDuration(%q): error without the usual prefix: %v", s, err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		// Go's own rendering of any duration we accept must read back.
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v, but ParseDuration(%q) = %v, %v", s, d, d.String(), back, err)
		}
		// What Go accepts (without a sign) we accept, with the same meaning.
		if want, err := time.ParseDuration(s); err == nil && !strings.ContainsAny(s, "+-") && d != want {
			t.Fatalf("ParseDuration(%q) = %v, time.ParseDuration = %v", s, d, want)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"1h", "30d", "now", "today", "yesterday", "2025-10-25T10:00:00Z", "2025-10-25", "2025-10-25 10:00", "x", "2025-10-25T10:00:00.5-07:00", "0"} {
		f.Add(s)
	}
	now := time.Date(2025, 10, 25, 15, 4, 5, 0, time.FixedZone("X", 2*60*60))
	f.Fuzz(func(t *testing.T, s string) {
		past, err := ParseTime(s, now)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid time ") {
				t.Fatalf("ParseTime(%q): error without the usual prefix: %v", s, err)
			}
		} else {
			// Every time we accept is one we can print in RFC 3339 and
			// read back to the same instant.
			text := past.Format(time.RFC3339Nano)
			back, err := ParseTime(text, now)
			if err != nil || !back.Equal(past) {
				t.Fatalf("ParseTime(%q) = %s, which reads back as %v, %v", s, text, back, err)
			}
		}
		at, atErr := ParseAt(s, now)
		d, durErr := ParseDuration(s)
		if durErr == nil {
			// A duration points back from now for ParseTime and forward
			// for ParseAt.
			if err != nil || !past.Equal(now.Add(-d)) {
				t.Fatalf("ParseTime(%q) = %v, %v; want now-%v", s, past, err, d)
			}
			if atErr != nil || !at.Equal(now.Add(d)) {
				t.Fatalf("ParseAt(%q) = %v, %v; want now+%v", s, at, atErr, d)
			}
		} else if atErr == nil && err == nil && !at.Equal(past) {
			t.Fatalf("ParseTime(%q) = %v but ParseAt = %v for an absolute time", s, past, at)
		}
	})
}
