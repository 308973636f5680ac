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
// guide's keys.
type Checks struct {
	Database         string `json:"database"`
	Redis            string `json:"redis"`
	Worker           string `json:"worker"`
	PendingJobs      int64  `json:"pendingJobs"`
	FailedJobs       int64  `json:"failedJobs"`
	OldestPendingJob string `json:"oldestPendingJob"`
	WorkerLastPing   string `json:"workerLastPing"`

	DeadJobs          int64   `json:"deadJobs"`
	StuckJobs         int64   `json:"stuckJobs"`
	LiveWorkers       int     `json:"liveWorkers"`
	DatabaseLatencyMS float64 `json:"databaseLatencyMs"`
	Schema            string  `json:"schema"`
}

// Problem is one threshold crossed.
type Problem struct {
	Check     string `json:"check"`
	Severity  string `json:"severity"`
	Message   string `json:"message"`
	Value     any    `json:"value"`
	Threshold any    `json:"threshold"`
}

// Report is the guide's health response.
type Report struct {
	Status   string    `json:"status"`
	Checks   Checks    `json:"checks"`
	Problems []Problem `json:"problems"`

	unreachable bool
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
	r := &Report{Problems: []Problem{}, Checks: Checks{
		Database:          "ok",
		Redis:             "not used",
		PendingJobs:       snap.Counts[store.StatusPending],
		FailedJobs:        snap.Counts[store.StatusFailed],
		DeadJobs:          snap.Counts[store.StatusDead],
		OldestPendingJob:  "none",
		WorkerLastPing:    "never",
		DatabaseLatencyMS: math.Round(float64(in.Latency.Microseconds())/10) / 100,
		Schema:            "current",
	}}
	if in.SchemaErr != nil {
		r.Checks.Schema = in.SchemaErr.Error()
		r.add("schema", Critical, "schema: "+in.SchemaErr.Error(), nil, nil)
	}

	var lastPing time.Time
	for _, w := range snap.Workers {
		if w.LastPing.After(lastPing) {
			lastPing = w.LastPing
		}
		if now.Sub(w.LastPing) <= th.MaxWorkerSilence {
			r.Checks.LiveWorkers++
		}
	}
	r.Checks.Worker = "running"
	switch {
	case lastPing.IsZero():
		r.Checks.Worker = "down"
		r.add("worker", Critical, "no worker has registered: start one with `jobctl worker run`", nil, Duration(th.MaxWorkerSilence))
	case r.Checks.LiveWorkers == 0:
		r.Checks.Worker = "down"
		r.Checks.WorkerLastPing = Ago(now.Sub(lastPing))
		r.add("workerLastPing", Critical, fmt.Sprintf("no worker has pinged for %s (threshold %s)", Duration(now.Sub(lastPing)), Duration(th.MaxWorkerSilence)),
			Ago(now.Sub(lastPing)), Duration(th.MaxWorkerSilence))
	default:
		r.Checks.WorkerLastPing = Ago(now.Sub(lastPing))
	}

	if p := r.Checks.PendingJobs; p > th.MaxPending {
		r.add("pendingJobs", Warning, fmt.Sprintf("%d pending jobs (threshold %d): backlog building", p, th.MaxPending), p, th.MaxPending)
	}
	if f := r.Checks.FailedJobs; f > th.MaxFailed {
		r.add("failedJobs", Warning, fmt.Sprintf("%d failed jobs (threshold %d): systematic issue?", f, th.MaxFailed), f, th.MaxFailed)
	}
	if snap.OldestDue != nil {
		age := now.Sub(*snap.OldestDue)
		r.Checks.OldestPendingJob = Duration(age)
		if age > th.MaxOldestPending {
			r.add("oldestPendingJob", Warning, fmt.Sprintf("oldest pending job has waited %s (threshold %s): slow processing", Duration(age), Duration(th.MaxOldestPending)),
				Duration(age), Duration(th.MaxOldestPending))
		}
	}
	for _, j := range snap.Running {
		limit := in.Lease
		if in.Timeout != nil {
			limit += in.Timeout(j.Type)
		}
		if j.StartedAt != nil && now.Sub(*j.StartedAt) > limit {
			r.Checks.StuckJobs++
		}
	}
	if n := r.Checks.StuckJobs; n > 0 {
		r.add("stuckJobs", Warning, fmt.Sprintf("%d jobs RUNNING longer than their timeout plus the lease", n), n, 0)
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

func (r *Report) add(check, severity, msg string, value, threshold any) {
	r.Problems = append(r.Problems, Problem{Check: check, Severity: severity, Message: msg, Value: value, Threshold: threshold})
}

// Unreachable is the report when the store cannot be reached, or refuses
// the check (a login without jobs:read): either way nothing was checked.
func Unreachable(err error) *Report {
	state, msg := "unreachable: ", "store unreachable: "
	var pe *store.PermissionError
	if errors.As(err, &pe) {
		state, msg = "refused: ", "" // the error says "permission denied"
	}
	return &Report{Status: Unhealthy, Checks: Checks{Database: state + err.Error(), Redis: "not used", Worker: "unknown",
		OldestPendingJob: "unknown", WorkerLastPing: "unknown", Schema: "unknown"},
		Problems:    []Problem{{Check: "database", Severity: Critical, Message: msg + err.Error()}},
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
