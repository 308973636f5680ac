// Package when parses the durations and times that jobctl's flags accept:
// Go durations with day and week units, and a few absolute forms an
// operator types without thinking (today, 2025-10-25, RFC 3339).
package when

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

const (
	day  = 24 * time.Hour
	week = 7 * day
)

// ParseDuration parses a non-negative duration such as "90s", "1h30m",
// "30d" or "2w": Go's units plus d (24h) and w (7d), in any combination.
func ParseDuration(s string) (time.Duration, error) {
	d, err := parseDuration(strings.TrimSpace(s))
	switch {
	case err == errSyntax:
		return 0, fmt.Errorf("invalid duration %q %v", s, err)
	case err != nil:
		return 0, fmt.Errorf("invalid duration %q: %v", s, err)
	}
	return d, nil
}

var (
	errSyntax   = errors.New("(use e.g. 90s, 10m, 1h, 30d)")
	errNegative = errors.New("must not be negative")
	errTooLarge = errors.New("too large (the limit is about 290 years)")
)

// units maps each unit to what it is fed to time.ParseDuration as, and the
// factor to scale that by: Go has no unit longer than an hour.
var units = map[string]struct {
	as    string
	scale time.Duration
}{
	"ns": {"ns", 1}, "us": {"us", 1}, "\u00b5s": {"us", 1}, "\u03bcs": {"us", 1},
	"ms": {"ms", 1}, "s": {"s", 1}, "m": {"m", 1}, "h": {"h", 1},
	"d": {"h", day / time.Hour}, "w": {"h", week / time.Hour},
}

func parseDuration(s string) (time.Duration, error) {
	switch {
	case s == "0":
		return 0, nil
	case s == "":
		return 0, errSyntax
	case s[0] == '-':
		return 0, errNegative
	}
	var total time.Duration
	for s != "" {
		i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i < 0 {
			return 0, errSyntax // a number with no unit
		}
		j := strings.IndexAny(s[i:], "0123456789.")
		if j < 0 {
			j = len(s) - i
		}
		num, unit := s[:i], s[i:i+j]
		s = s[i+j:]
		u, ok := units[unit]
		if !ok || !isDecimal(num) {
			return 0, errSyntax
		}
		// The term is well formed, so Go can only refuse it for its size.
		d, err := time.ParseDuration(num + u.as)
		if err != nil || d > math.MaxInt64/u.scale {
			return 0, errTooLarge
		}
		d *= u.scale
		if total > math.MaxInt64-d {
			return 0, errTooLarge
		}
		total += d
	}
	return total, nil
}

// isDecimal accepts what time.ParseDuration does for a number: digits with
// at most one point, and at least one digit.
func isDecimal(s string) bool {
	digits, points := 0, 0
	for _, r := range s {
		if r == '.' {
			points++
		} else {
			digits++
		}
	}
	return digits > 0 && points <= 1
}

// ParseTime parses a --since, --until or --older value. A duration means
// that long before now; "now", "today" and "yesterday" mean what they say in
// now's location, as do dates and times written without a zone.
func ParseTime(s string, now time.Time) (time.Time, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "now":
		return now, nil
	case "today":
		return midnight(now, 0), nil
	case "yesterday":
		return midnight(now, -1), nil
	}
	if d, err := parseDuration(t); err == nil {
		return now.Add(-d), nil
	}
	if at, ok := parseAbsolute(t, now.Location()); ok {
		return at, nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q (use a duration like 1h or 30d, today, yesterday, or RFC 3339)", s)
}

// ParseAt parses an enqueue --at value. Unlike ParseTime, a duration points
// forward: "10m" means ten minutes from now.
func ParseAt(s string, now time.Time) (time.Time, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "now") {
		return now, nil
	}
	if d, err := parseDuration(t); err == nil {
		return now.Add(d), nil
	}
	if at, ok := parseAbsolute(t, now.Location()); ok {
		return at, nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q (use a duration from now like 10m, a date like 2025-10-25, or RFC 3339)", s)
}

// zoneless are the layouts read in the caller's location, most specific
// first. The T form is what people paste from RFC 3339 with the zone cut off.
var zoneless = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

func parseAbsolute(s string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, layout := range zoneless {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// midnight goes through time.Date so that a day with a DST change is still
// one calendar day, not 24 hours.
func midnight(now time.Time, days int) time.Time {
	y, m, d := now.Date()
	return time.Date(y, m, d+days, 0, 0, 0, 0, now.Location())
}
