package health

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The Nagios plugin states, by exit code.
var states = [...]string{ExitOK: "OK", ExitWarning: "WARNING", ExitCritical: "CRITICAL", ExitUnreachable: "UNKNOWN"}

// State is the report's Nagios state: OK, WARNING, CRITICAL or UNKNOWN,
// as its exit code says.
func (r *Report) State() string { return states[r.ExitCode()] }

// Summary is the text of a Nagios status line: each problem in a few words,
// the critical ones first, or, when there is none, the main figures.
func (r *Report) Summary() string {
	var parts []string
	for _, sev := range []string{Critical, Warning} {
		for _, p := range r.Problems {
			if p.Severity != sev {
				continue
			}
			if p.short != "" {
				parts = append(parts, p.short)
			} else {
				parts = append(parts, p.Message)
			}
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	if f := r.figures; f != nil && r.Checks.LiveWorkers != nil {
		live := fmt.Sprintf("%d live workers", *r.Checks.LiveWorkers)
		if *r.Checks.LiveWorkers == 1 {
			live = "1 live worker"
		}
		return fmt.Sprintf("%s, %d pending, %d failed, %d dead", live, f.pending, f.failed, f.dead)
	}
	return r.Status
}

// PerfDatum is one figure of a Nagios plugin's performance data:
// label=value[UOM];[warn];[crit];[min];[max].
type PerfDatum struct {
	Label string
	// Value is the reading; Unknown says it could not be taken, which the
	// guidelines write as U.
	Value   float64
	Unknown bool
	UOM     string // "", "s", "ms", "%", "B", "c"…
	// Warn and Crit are the thresholds, Min and Max the range; nil when
	// there is none.
	Warn, Crit, Min, Max *float64
}

// String is the datum as the plugin guidelines write it, trailing empty
// fields dropped: "pending=15;100", "worker_last_ping=5s;;60", "dead=0".
func (p PerfDatum) String() string {
	label := p.Label
	if strings.ContainsAny(label, " '=") {
		label = "'" + strings.ReplaceAll(label, "'", "''") + "'"
	}
	value := "U"
	if !p.Unknown {
		value = number(p.Value) + p.UOM
	}
	fields := []string{label + "=" + value}
	for _, f := range []*float64{p.Warn, p.Crit, p.Min, p.Max} {
		if f == nil {
			fields = append(fields, "")
		} else {
			fields = append(fields, number(*f))
		}
	}
	for len(fields) > 1 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	return strings.Join(fields, ";")
}

func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// FormatPerfData joins data with spaces, as the text after a status line's
// "|".
func FormatPerfData(data []PerfDatum) string {
	s := make([]string, len(data))
	for i, d := range data {
		s[i] = d.String()
	}
	return strings.Join(s, " ")
}

// PerfData is the report's figures with their thresholds, durations in
// seconds; none when no snapshot could be read. A worker that has never
// pinged has an unknown last ping.
func (r *Report) PerfData() []PerfDatum {
	f := r.figures
	if f == nil {
		return nil
	}
	count := func(label string, v int64, warn *float64) PerfDatum {
		return PerfDatum{Label: label, Value: float64(v), Warn: warn}
	}
	seconds := func(d time.Duration) *float64 { return ptr(d.Seconds()) }
	return []PerfDatum{
		count("pending", f.pending, ptr(float64(f.th.MaxPending))),
		count("failed", f.failed, ptr(float64(f.th.MaxFailed))),
		count("dead", f.dead, nil),
		{Label: "oldest_pending", Value: float64(int64(f.oldestPending.Seconds())), UOM: "s", Warn: seconds(f.th.MaxOldestPending)},
		{Label: "worker_last_ping", Value: float64(int64(f.lastPing.Seconds())), Unknown: !f.pinged, UOM: "s", Crit: seconds(f.th.MaxWorkerSilence)},
		count("stuck", f.stuck, ptr(0.0)),
	}
}

// compact is a measured duration in the fewest characters, truncated:
// "95s", "45m", "5h", "3d".
func compact(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int64(d/time.Second))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int64(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int64(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int64(d/(24*time.Hour)))
}

// exact is a threshold in the largest unit that says it exactly: "1m",
// "30m", "2h", "90s", "1.5s".
func exact(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d >= u.d && d%u.d == 0 {
			return fmt.Sprintf("%d%s", d/u.d, u.name)
		}
	}
	return d.String()
}
