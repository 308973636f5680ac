package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/jobctl/jobctl/internal/health"
)

// Health prints a health report: a checklist for people, the report itself
// (the guide's health response) as data.
func (ios *IO) Health(f Format, r *health.Report) error {
	if !f.human() {
		return ios.Encode(f, r)
	}
	return ios.healthChecklist(r)
}

// healthCheck is one line of the checklist. Severity is "" when the check
// passed, else health.Warning or health.Critical.
type healthCheck struct {
	name, severity, text string
}

// healthNameWidth fits the longest check name, "oldest pending".
const healthNameWidth = 14

func (ios *IO) healthChecklist(r *health.Report) error {
	var b strings.Builder
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
		dbText = fmt.Sprintf("ok (%.1f ms, schema %s)", c.DatabaseLatencyMS, c.Schema)
	case db.Check == "schema":
		dbText = fmt.Sprintf("reachable (%.1f ms); %s", c.DatabaseLatencyMS, c.Schema)
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
		wText = fmt.Sprintf("%s (%d live, last ping %s)", c.Worker, c.LiveWorkers, c.WorkerLastPing)
	case w.Check == "worker":
		wText = c.Worker + ": " + w.Message
	default:
		wText = fmt.Sprintf("%s (last ping %s, threshold %v)", c.Worker, c.WorkerLastPing, w.Threshold)
	}
	pending, failed := problem("pendingJobs"), problem("failedJobs")
	oldest, stuck := problem("oldestPendingJob"), problem("stuckJobs")
	stuckText := CountOf(c.StuckJobs, "job")
	if stuck != nil {
		stuckText += " running longer than timeout + lease"
	}
	return append(checks,
		healthCheck{"worker", severity(w), wText},
		healthCheck{"pending", severity(pending), withThreshold(CountOf(c.PendingJobs, "job"), pending)},
		healthCheck{"failed", severity(failed), withThreshold(CountOf(c.FailedJobs, "job"), failed)},
		healthCheck{"dead", "", CountOf(c.DeadJobs, "job")},
		healthCheck{"oldest pending", severity(oldest), withThreshold(c.OldestPendingJob, oldest)},
		healthCheck{"stuck", severity(stuck), stuckText},
	)
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
