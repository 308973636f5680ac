package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RelativeTime describes t from now's point of view: "5m ago", "in 3h",
// "just now". Units are truncated, never rounded up, so "59s" never reads
// as "1m".
func RelativeTime(t, now time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = -d
		if d < time.Second {
			return "just now"
		}
		return "in " + coarse(d)
	}
	if d < time.Second {
		return "just now"
	}
	return coarse(d) + " ago"
}

// coarse is a duration in its largest whole unit: "2s", "5m", "3h", "4d".
func coarse(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
}

// FormatDuration is a short duration in at most two units: "120ms", "25s",
// "1m5s", "2h3m", "3d4h". time.Duration's own String ("1h2m3.5s") is too
// precise for a table column.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	const day = 24 * time.Hour
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		return twoUnits(d/time.Minute, "m", d%time.Minute/time.Second, "s")
	case d < day:
		return twoUnits(d/time.Hour, "h", d%time.Hour/time.Minute, "m")
	default:
		return twoUnits(d/day, "d", d%day/time.Hour, "h")
	}
}

// twoUnits drops a zero second unit: "2h", not "2h0m".
func twoUnits(major time.Duration, majorUnit string, minor time.Duration, minorUnit string) string {
	if minor == 0 {
		return fmt.Sprintf("%d%s", major, majorUnit)
	}
	return fmt.Sprintf("%d%s%d%s", major, majorUnit, minor, minorUnit)
}

// CountOf is a count with its noun: "1 job", "1,234 jobs".
func CountOf(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return Count(n) + " " + noun + "s"
}

// Count writes n with thousands separators: 1234567 is "1,234,567".
func Count(n int64) string {
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if digits[0] == '-' {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// truncate shortens s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// oneLine folds a multi-line value, such as an error message, into a cell.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
