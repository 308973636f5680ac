// Package cron parses the standard five-field cron expressions of
// crontab(5) for recurring jobs (jobctl schedule add NAME --cron '0 0 * * *')
// and computes their activation times.
//
// The dialect is Vixie cron's: minute, hour, day-of-month, month and
// day-of-week fields made of *, numbers, three-letter names, ranges, lists
// and steps, plus the @yearly, @annually, @monthly, @weekly, @daily,
// @midnight and @hourly macros. Extensions of other crons (seconds, year,
// ?, L, W, #, @every, @reboot) are rejected.
package cron

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// A Schedule is a parsed cron expression. It is immutable and safe for
// concurrent use.
type Schedule struct {
	expr string

	// Bit i is set when value i matches. Day-of-week uses bits 0-6 (7 is
	// folded into 0, Sunday).
	minute, hour, dom, month, dow uint64

	// domStar and dowStar record that the field begins with '*', which is
	// what Vixie cron's DOM_STAR and DOW_STAR test. Only when neither is set
	// does a day match if EITHER the day of the month or the weekday does.
	domStar, dowStar bool

	// wild records that the minute or hour field begins with '*' (Vixie's
	// MIN_STAR|HR_STAR): such a schedule also fires in the second pass of a
	// wall-clock hour repeated when DST ends; a fixed-time one fires once.
	wild bool
}

// field describes one of the five fields.
type field struct {
	name   string
	lo, hi int      // the values the field accepts
	names  []string // three-letter names for lo, lo+1, …; nil if none
	hint   string   // how to spell a value, for the unknown-name error
}

var fields = [5]field{
	{name: "minute", lo: 0, hi: 59},
	{name: "hour", lo: 0, hi: 23},
	{name: "day-of-month", lo: 1, hi: 31},
	{name: "month", lo: 1, hi: 12, hint: "JAN-DEC or 1-12",
		names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day-of-week", lo: 0, hi: 7, hint: "SUN-SAT or 0-7",
		names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

const fieldNames = "minute hour day-of-month month day-of-week"

// macros maps each accepted @macro to the expression it stands for.
var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// Parse parses a five-field cron expression or one of the @macros. Fields
// are separated by spaces or tabs; names and macros are case-insensitive.
// Errors are one line naming the expression and, where there is one, the
// field at fault.
func Parse(expr string) (*Schedule, error) {
	f := strings.Fields(expr)
	if len(f) == 0 {
		return nil, fmt.Errorf("cron %q: empty expression", expr)
	}
	if strings.HasPrefix(f[0], "@") {
		return parseMacro(expr, f)
	}
	switch {
	case len(f) == 6 || len(f) == 7:
		return nil, fmt.Errorf("cron %q: expected 5 fields (%s), got %d; seconds and year fields are not supported", expr, fieldNames, len(f))
	case len(f) != 5:
		return nil, fmt.Errorf("cron %q: expected 5 fields (%s), got %d", expr, fieldNames, len(f))
	}
	s := &Schedule{expr: strings.Join(f, " ")}
	dst := [5]*uint64{&s.minute, &s.hour, &s.dom, &s.month, &s.dow}
	for i, text := range f {
		set, err := parseField(&fields[i], text)
		if err != nil {
			return nil, fmt.Errorf("cron %q: %s: %v", expr, fields[i].name, err)
		}
		*dst[i] = set
	}
	if s.dow&(1<<7) != 0 {
		s.dow = s.dow&^(1<<7) | 1 // 7 is Sunday, like 0
	}
	s.wild = f[0][0] == '*' || f[1][0] == '*'
	s.domStar = f[2][0] == '*'
	s.dowStar = f[4][0] == '*'
	return s, nil
}

func parseMacro(expr string, f []string) (*Schedule, error) {
	name := strings.ToLower(f[0])
	switch name {
	case "@every", "@reboot":
		return nil, fmt.Errorf("cron %q: %s is not supported", expr, name)
	}
	spec, ok := macros[name]
	if !ok {
		return nil, fmt.Errorf("cron %q: unknown macro %q (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)", expr, f[0])
	}
	if len(f) > 1 {
		return nil, fmt.Errorf("cron %q: unexpected %q after %s", expr, f[1], name)
	}
	s, err := Parse(spec)
	if err != nil {
		panic("cron: bad macro " + name + ": " + err.Error())
	}
	s.expr = name
	return s, nil
}

// parseField parses one field: a comma-separated list of *, values and
// ranges, each optionally followed by /step. It returns the matching
// values as a bit set.
func parseField(f *field, text string) (uint64, error) {
	switch {
	case strings.Contains(text, "?"):
		return 0, fmt.Errorf(`"?" is not supported (use *)`)
	case strings.Contains(text, "#"):
		return 0, fmt.Errorf(`%q: "#" (nth weekday) is not supported`, text)
	}
	var set uint64
	for _, part := range strings.Split(text, ",") {
		if part == "" {
			return 0, fmt.Errorf("empty element in list %q", text)
		}
		rng, stepText, hasStep := strings.Cut(part, "/")
		var lo, hi int
		switch a, b, isRange := strings.Cut(rng, "-"); {
		case rng == "*":
			lo, hi = f.lo, f.hi
		case isRange:
			if a == "" || b == "" || a == "*" || b == "*" || strings.Contains(b, "-") {
				return 0, fmt.Errorf("invalid range %q", rng)
			}
			var err error
			if lo, err = f.value(a); err != nil {
				return 0, err
			}
			if hi, err = f.value(b); err != nil {
				return 0, err
			}
			if lo > hi {
				return 0, fmt.Errorf("invalid range %q: %d is after %d", rng, lo, hi)
			}
		default:
			var err error
			if lo, err = f.value(a); err != nil {
				return 0, err
			}
			hi = lo
			if hasStep {
				// a/n runs from a to the end of the field; for
				// day-of-week that is Saturday, not 7 (Sunday again).
				hi = f.last()
			}
		}
		step := 1
		if hasStep {
			n, ok := number(stepText)
			switch {
			case !ok:
				return 0, fmt.Errorf("invalid step %q in %q", stepText, part)
			case n < 1 || n > f.span():
				return 0, fmt.Errorf("step %s is out of range 1-%d", stepText, f.span())
			}
			step = n
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

// last is the value a/n runs up to.
func (f *field) last() int {
	if f.name == "day-of-week" {
		return 6
	}
	return f.hi
}

// span is the largest step accepted: the number of distinct values.
func (f *field) span() int {
	return f.last() - f.lo + 1
}

// value parses a single number or name.
func (f *field) value(s string) (int, error) {
	if n, ok := number(s); ok {
		if n < f.lo || n > f.hi {
			return 0, fmt.Errorf("%s is out of range %d-%d", s, f.lo, f.hi)
		}
		return n, nil
	}
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.lo + i, nil
		}
	}
	switch u := strings.ToUpper(s); {
	case u == "L" || u == "W" || u == "LW" ||
		len(u) > 1 && (u[len(u)-1] == 'L' || u[len(u)-1] == 'W') && isDigits(u[:len(u)-1]):
		return 0, fmt.Errorf("%q: L and W are not supported", s)
	case f.names != nil && isLetters(s):
		return 0, fmt.Errorf("unknown name %q (use %s)", s, f.hint)
	}
	return 0, fmt.Errorf("invalid value %q", s)
}

// number parses a non-empty string of ASCII digits. Values too large for
// any field come back as a large number rather than an error, so the caller
// reports them as out of range.
func number(s string) (int, bool) {
	if !isDigits(s) {
		return 0, false
	}
	s = strings.TrimLeft(s, "0")
	if len(s) > 6 {
		return 1 << 30, true
	}
	n, _ := strconv.Atoi("0" + s)
	return n, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// String returns the expression as given, with fields separated by single
// spaces and macros in lower case.
func (s *Schedule) String() string { return s.expr }

// horizonYears bounds the search of Next.
const horizonYears = 5

// Next returns the first activation strictly after after, in after's
// Location, or the zero time if there is none within five years (as for
// "0 0 30 2 *").
//
// Activations are wall-clock times in that location. A time skipped when
// DST starts does not happen. A time repeated when DST ends happens once,
// the first time, unless the minute or hour field begins with '*' (as in
// "*/15 * * * *" or "30 * * * *"): those, like Vixie cron's wildcard jobs,
// fire in both passes.
func (s *Schedule) Next(after time.Time) time.Time {
	loc := after.Location()
	limit := after.AddDate(horizonYears, 0, 0)
	t := after.In(loc)
	for !t.After(limit) {
		if sec, ns := t.Second(), t.Nanosecond(); sec != 0 || ns != 0 || !t.After(after) {
			// To the next whole minute of wall time (whole minutes of
			// elapsed time too, but for a few historical offsets).
			t = advance(t, t.Add(time.Minute-time.Duration(sec)*time.Second-time.Duration(ns)))
			continue
		}
		y, mo, d := t.Date()
		if s.month&(1<<uint(mo)) == 0 {
			t = jump(t, time.Date(y, mo+1, 1, 0, 0, 0, 0, loc))
			continue
		}
		if !s.dayMatches(d, t.Weekday()) {
			t = jump(t, time.Date(y, mo, d+1, 0, 0, 0, 0, loc))
			continue
		}
		h, m, _ := t.Clock()
		if s.hour&(1<<uint(h)) == 0 {
			t = step(t, 60-m)
			continue
		}
		if s.minute&(1<<uint(m)) == 0 {
			t = step(t, nextBit(s.minute, m)-m)
			continue
		}
		if !s.wild {
			if _, again := earlier(t); again {
				t = advance(t, t.Add(time.Minute)) // ran in the first pass
				continue
			}
		}
		return t
	}
	return time.Time{}
}

func (s *Schedule) dayMatches(d int, wd time.Weekday) bool {
	domOK := s.dom&(1<<uint(d)) != 0
	dowOK := s.dow&(1<<uint(wd)) != 0
	if s.domStar || s.dowStar {
		return domOK && dowOK
	}
	return domOK || dowOK
}

// nextBit returns the smallest set bit of set above m, or 60 if none.
func nextBit(set uint64, m int) int {
	rest := set >> uint(m+1)
	if rest == 0 {
		return 60
	}
	return min(m+1+bits.TrailingZeros64(rest), 60)
}

// The helpers below move t forward over instants known not to match:
// those whose wall-clock time is in the rest of t's day or month (jump), or
// the next few minutes of t's hour (step). With the UTC offset fixed, wall
// time runs with elapsed time; they stop at a change of offset, after which
// the wall clock may show a skipped or an earlier time, and look again.

// jump moves t to the instant at which the wall clock first shows n's
// (a later day or month), or to the next change of offset if sooner.
func jump(t, n time.Time) time.Time {
	if e, ok := earlier(n); ok {
		n = e // time.Date may have chosen the second pass
	}
	return advance(t, n)
}

// step moves t forward by minutes of elapsed time, or to the next change of
// offset if sooner.
func step(t time.Time, minutes int) time.Time {
	return advance(t, t.Add(time.Duration(minutes)*time.Minute))
}

func advance(t, n time.Time) time.Time {
	if !n.After(t) {
		n = t.Add(time.Minute)
	}
	if _, end := t.ZoneBounds(); !end.IsZero() && end.Before(n) {
		n = end
	}
	return n
}

// earlier returns the first instant showing the same wall-clock minute as
// t, if it is not t: the clocks went back since then.
func earlier(t time.Time) (time.Time, bool) {
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return time.Time{}, false
	}
	_, now := t.Zone()
	_, before := start.Add(-time.Nanosecond).Zone()
	if before <= now {
		return time.Time{}, false
	}
	u := t.Add(-time.Duration(before-now) * time.Second)
	y1, m1, d1 := t.Date()
	y2, m2, d2 := u.Date()
	if !u.Before(start) || y1 != y2 || m1 != m2 || d1 != d2 || t.Hour() != u.Hour() || t.Minute() != u.Minute() {
		return time.Time{}, false
	}
	return u, true
}
