// Package health turns a store snapshot into the guide's health report:
// its checks, its thresholds, and a status of healthy, degraded or
// unhealthy, with the Nagios plugin exit codes.
package health

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/store"
)

// Statuses of a report.
const (
	Healthy   = "healthy"
	Degraded  = "degraded"
	Unhealthy = "unhealthy"
)

// Severities of a problem.
const (
	Warning  = "warning"
	Critical = "critical"
)

// Nagios plugin exit codes.
const (
	ExitOK          = 0
	ExitWarning     = 1
	ExitCritical    = 2
	ExitUnreachable = 3
)

// Checks is the guide's "checks" object, plus what jobctl adds after the
// guide's keys. A figure that could not be read (the store is unreachable,
// or its schema unreadable) is nil, null in JSON, never a made-up zero.
type Checks struct {
	Database         string  `json:"database"`
	Redis            string  `json:"redis"`
	Worker           string  `json:"worker"`
	PendingJobs      *int64  `json:"pendingJobs"`
	FailedJobs       *int64  `json:"failedJobs"`
	OldestPendingJob *string `json:"oldestPendingJob"`
	WorkerLastPing   *string `json:"workerLastPing"`

	DeadJobs          *int64   `json:"deadJobs"`
	StuckJobs         *int64   `json:"stuckJobs"`
	LiveWorkers       *int     `json:"liveWorkers"`
	DatabaseLatencyMS *float64 `json:"databaseLatencyMs"`
	Schema            string   `json:"schema"`
}

// Problem is one threshold crossed.
type Problem struct {
	Check     string `json:"check"`
	Severity  string `json:"severity"`
	Message   string `json:"message"`
	Value     any    `json:"value"`
	Threshold any    `json:"threshold"`

	// short is Message in the few words of a Nagios status line.
	short string
}

// Report is the guide's health response.
type Report struct {
	Status   string    `json:"status"`
	Checks   Checks    `json:"checks"`
	Problems []Problem `json:"problems"`

	unreachable bool
	// figures are the raw readings behind Checks, for the performance
	// data; nil when no snapshot could be read.
	figures *figures
}

// figures are a snapshot's readings and the thresholds they were held to.
type figures struct {
	th              config.Health
	oldestPending   time.Duration // 0 when nothing is pending
	lastPing        time.Duration
	pinged          bool // some worker has ever pinged
	pending, failed int64
	dead, stuck     int64
}

// Inputs is what Evaluate reads besides the snapshot.
type Inputs struct {
	Thresholds config.Health
	// Lease and Timeout say when a RUNNING job is stuck: it has run longer
	// than its type's timeout plus the lease.
	Lease   time.Duration
	Timeout func(jobType string) time.Duration
	// Latency is the database round trip; SchemaErr the schema check.
	Latency   time.Duration
	SchemaErr error
}

// Evaluate applies the thresholds to a snapshot.
func Evaluate(snap *store.Snapshot, in Inputs) *Report {
	th, now := in.Thresholds, snap.Now
	fig := &figures{th: th, pending: snap.Counts[store.StatusPending], failed: snap.Counts[store.StatusFailed], dead: snap.Counts[store.StatusDead]}
	r := &Report{Problems: []Problem{}, figures: fig, Checks: Checks{
		Database:          "ok",
		Redis:             "not used",
		PendingJobs:       &fig.pending,
		FailedJobs:        &fig.failed,
		DeadJobs:          &fig.dead,
		StuckJobs:         &fig.stuck,
		LiveWorkers:       new(int),
		OldestPendingJob:  ptr("none"),
		WorkerLastPing:    ptr("never"),
		DatabaseLatencyMS: latencyMS(in.Latency),
		Schema:            "current",
	}}
	if in.SchemaErr != nil {
		r.Checks.Schema = in.SchemaErr.Error()
		r.add("schema", Critical, "schema: "+in.SchemaErr.Error(), "schema: "+in.SchemaErr.Error(), nil, nil)
	}

	var lastPing time.Time
	for _, w := range snap.Workers {
		if w.LastPing.After(lastPing) {
			lastPing = w.LastPing
		}
		if now.Sub(w.LastPing) <= th.MaxWorkerSilence {
			*r.Checks.LiveWorkers++
		}
	}
	if !lastPing.IsZero() {
		fig.pinged, fig.lastPing = true, max(now.Sub(lastPing), 0)
		r.Checks.WorkerLastPing = ptr(Ago(fig.lastPing))
	}
	r.Checks.Worker = "running"
	switch {
	case !fig.pinged:
		r.Checks.Worker = "down"
		r.add("worker", Critical, "no worker has registered: start one with `jobctl worker run`", "no worker has registered",
			nil, Duration(th.MaxWorkerSilence))
	case *r.Checks.LiveWorkers == 0:
		r.Checks.Worker = "down"
		r.add("workerLastPing", Critical, fmt.Sprintf("no worker has pinged for %s (threshold %s)", Duration(fig.lastPing), Duration(th.MaxWorkerSilence)),
			"no worker has pinged for "+compact(fig.lastPing), Ago(fig.lastPing), Duration(th.MaxWorkerSilence))
	}

	if p := fig.pending; p > th.MaxPending {
		r.add("pendingJobs", Warning, fmt.Sprintf("%d pending jobs (threshold %d): backlog building", p, th.MaxPending),
			fmt.Sprintf("%d pending (warn > %d)", p, th.MaxPending), p, th.MaxPending)
	}
	if f := fig.failed; f > th.MaxFailed {
		r.add("failedJobs", Warning, fmt.Sprintf("%d failed jobs (threshold %d): systematic issue?", f, th.MaxFailed),
			fmt.Sprintf("%d failed (warn > %d)", f, th.MaxFailed), f, th.MaxFailed)
	}
	if snap.OldestDue != nil {
		age := max(now.Sub(*snap.OldestDue), 0)
		fig.oldestPending = age
		r.Checks.OldestPendingJob = ptr(Duration(age))
		if age > th.MaxOldestPending {
			r.add("oldestPendingJob", Warning, fmt.Sprintf("oldest pending job has waited %s (threshold %s): slow processing", Duration(age), Duration(th.MaxOldestPending)),
				fmt.Sprintf("oldest pending waited %s (warn > %s)", compact(age), exact(th.MaxOldestPending)), Duration(age), Duration(th.MaxOldestPending))
		}
	}
	for _, j := range snap.Running {
		limit := in.Lease
		if in.Timeout != nil {
			limit += in.Timeout(j.Type)
		}
		if j.StartedAt != nil && now.Sub(*j.StartedAt) > limit {
			fig.stuck++
		}
	}
	if n := fig.stuck; n > 0 {
		short := fmt.Sprintf("%d stuck jobs (past timeout + lease)", n)
		if n == 1 {
			short = "1 stuck job (past timeout + lease)"
		}
		r.add("stuckJobs", Warning, fmt.Sprintf("%d jobs RUNNING longer than their timeout plus the lease", n), short, n, 0)
	}

	r.Status = Healthy
	for _, p := range r.Problems {
		if p.Severity == Critical {
			r.Status = Unhealthy
			break
		}
		r.Status = Degraded
	}
	return r
}

func ptr[T any](v T) *T { return &v }

// latencyMS is a round trip in milliseconds, to the hundredth.
func latencyMS(d time.Duration) *float64 {
	return ptr(math.Round(float64(d.Microseconds())/10) / 100)
}

func (r *Report) add(check, severity, msg, short string, value, threshold any) {
	r.Problems = append(r.Problems, Problem{Check: check, Severity: severity, Message: msg, Value: value, Threshold: threshold, short: short})
}

// Unreachable is the report when the store cannot be reached, or refuses
// the check (a login without jobs:read): either way nothing was checked,
// and every figure is unknown.
func Unreachable(err error) *Report {
	state, msg := "unreachable: ", "store unreachable: "
	var pe *store.PermissionError
	if errors.As(err, &pe) {
		state, msg = "refused: ", "" // the error says "permission denied"
	}
	return &Report{Status: Unhealthy, Checks: Checks{Database: state + err.Error(), Redis: "not used", Worker: "unknown", Schema: "unknown"},
		Problems:    []Problem{{Check: "database", Severity: Critical, Message: msg + err.Error()}},
		unreachable: true}
}

// Unchecked is the report when the check could not even start: its config
// file cannot be read, so it has no thresholds to hold the store to.
// Nothing was read.
func Unchecked(err error) *Report {
	return &Report{Status: Unhealthy, Checks: Checks{Database: "unknown", Redis: "not used", Worker: "unknown", Schema: "unknown"},
		Problems:    []Problem{{Check: "config", Severity: Critical, Message: err.Error()}},
		unreachable: true}
}

// ExitCode is the Nagios plugin code for the report.
func (r *Report) ExitCode() int {
	switch r.Status {
	case Healthy:
		return ExitOK
	case Degraded:
		return ExitWarning
	}
	if r.unreachable {
		return ExitUnreachable
	}
	return ExitCritical
}

// Duration says d the way the guide does: "2 minutes", "5 seconds".
func Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return fmt.Sprintf("%d %ss", n, name)
	}
	switch {
	case d < time.Minute:
		return unit(int64(d/time.Second), "second")
	case d < time.Hour:
		return unit(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return unit(int64(d/time.Hour), "hour")
	}
	return unit(int64(d/(24*time.Hour)), "day")
}

// Ago is Duration with " ago": "5 seconds ago".
func Ago(d time.Duration) string { return Duration(d) + " ago" }
