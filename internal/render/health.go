package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/jobctl/jobctl/internal/health"
)

// Health prints a health report: as data, the report itself (the guide's
// health response); for people and for Nagios, a plugin's output: the
// status line, then the checklist as its long output. A report of a store
// that could not be reached has no checklist.
func (ios *IO) Health(f Format, r *health.Report) error {
	if !f.human() {
		return ios.Encode(f, r)
	}
	line := NagiosLine(r.State(), r.Summary(), r.PerfData())
	if r.ExitCode() == health.ExitUnreachable {
		_, err := io.WriteString(ios.Out, line)
		return err
	}
	return ios.healthChecklist(line, r)
}

// HealthUnknown prints the Nagios UNKNOWN status line of a check that could
// not run, for a usage error: "JOBCTL UNKNOWN - usage error: …".
func (ios *IO) HealthUnknown(summary string) error {
	_, err := io.WriteString(ios.Out, NagiosLine("UNKNOWN", summary, nil))
	return err
}

// NagiosLine is a Nagios plugin's status line, the same on a terminal and
// in a pipe, where Nagios reads it: "JOBCTL WARNING - 150 pending (warn >
// 100) | pending=150;100 …". The summary may quote the database's own
// error, so it is made inert, and a "|" in it, which would start the
// performance data, is shown as "¦".
func NagiosLine(state, summary string, perf []health.PerfDatum) string {
	line := "JOBCTL " + state + " - " + strings.ReplaceAll(Inert(summary), "|", "¦")
	if len(perf) > 0 {
		line += " | " + health.FormatPerfData(perf)
	}
	return line + "\n"
}

// healthCheck is one line of the checklist. Severity is "" when the check
// passed, else health.Warning or health.Critical.
type healthCheck struct {
	name, severity, text string
}

// healthNameWidth fits the longest check name, "oldest pending".
const healthNameWidth = 14

func (ios *IO) healthChecklist(line string, r *health.Report) error {
	var b strings.Builder
	b.WriteString(line)
	for _, c := range healthChecks(r) {
		// A check's text may quote the database's own error message.
		fmt.Fprintf(&b, "%s %s  %s\n", ios.healthMark(c.severity), padRight(c.name, healthNameWidth), Inert(c.text))
	}
	fmt.Fprintf(&b, "\nStatus: %s\n", ios.healthVerdict(r.Status))
	_, err := io.WriteString(ios.Out, b.String())
	return err
}

// healthChecks reads the checklist off the report: each line's value from
// the checks, its severity and threshold from the problem raised about it.
func healthChecks(r *health.Report) []healthCheck {
	problem := func(checks ...string) *health.Problem {
		for i := range r.Problems {
			for _, c := range checks {
				if r.Problems[i].Check == c {
					return &r.Problems[i]
				}
			}
		}
		return nil
	}
	severity := func(p *health.Problem) string {
		if p == nil {
			return ""
		}
		return p.Severity
	}
	// withThreshold adds the threshold a problem crossed to the value.
	withThreshold := func(value string, p *health.Problem) string {
		if p == nil || p.Threshold == nil {
			return value
		}
		return fmt.Sprintf("%s (threshold %v)", value, p.Threshold)
	}
	c := r.Checks

	db := problem("database", "schema")
	var dbText string
	switch {
	case db == nil:
		dbText = fmt.Sprintf("ok (%.1f ms, schema %s)", val(c.DatabaseLatencyMS), c.Schema)
	case db.Check == "schema":
		dbText = fmt.Sprintf("reachable (%.1f ms); %s", val(c.DatabaseLatencyMS), c.Schema)
	default:
		dbText = c.Database
	}
	checks := []healthCheck{{"database", severity(db), dbText}}
	if c.Worker == "unknown" {
		// No snapshot could be read: every other check is unknown too.
		return checks
	}

	w := problem("worker", "workerLastPing")
	var wText string
	switch {
	case w == nil:
		wText = fmt.Sprintf("%s (%d live, last ping %s)", c.Worker, val(c.LiveWorkers), val(c.WorkerLastPing))
	case w.Check == "worker":
		wText = c.Worker + ": " + w.Message
	default:
		wText = fmt.Sprintf("%s (last ping %s, threshold %v)", c.Worker, val(c.WorkerLastPing), w.Threshold)
	}
	pending, failed := problem("pendingJobs"), problem("failedJobs")
	oldest, stuck := problem("oldestPendingJob"), problem("stuckJobs")
	stuckText := CountOf(val(c.StuckJobs), "job")
	if stuck != nil {
		stuckText += " running longer than timeout + lease"
	}
	return append(checks,
		healthCheck{"worker", severity(w), wText},
		healthCheck{"pending", severity(pending), withThreshold(CountOf(val(c.PendingJobs), "job"), pending)},
		healthCheck{"failed", severity(failed), withThreshold(CountOf(val(c.FailedJobs), "job"), failed)},
		healthCheck{"dead", "", CountOf(val(c.DeadJobs), "job")},
		healthCheck{"oldest pending", severity(oldest), withThreshold(val(c.OldestPendingJob), oldest)},
		healthCheck{"stuck", severity(stuck), stuckText},
	)
}

// val is *p, or the zero value for a figure that was not read.
func val[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// healthMark is ✓, ⚠ or ✗ in colour, or OK, WARN or CRIT without colour,
// where a script or a log reads the line.
func (ios *IO) healthMark(severity string) string {
	if !ios.color {
		switch severity {
		case health.Warning:
			return "WARN"
		case health.Critical:
			return "CRIT"
		}
		return "OK  "
	}
	switch severity {
	case health.Warning:
		return ios.paint(ios.styles.warn, "⚠")
	case health.Critical:
		return ios.paint(ios.styles.bad, "✗")
	}
	return ios.paint(ios.styles.good, "✓")
}

func (ios *IO) healthVerdict(status string) string {
	switch status {
	case health.Healthy:
		return ios.paint(ios.styles.good, status)
	case health.Degraded:
		return ios.paint(ios.styles.warn, status)
	}
	return ios.paint(ios.styles.bad, status)
}
