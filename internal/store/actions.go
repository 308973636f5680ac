package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Action is an operator action on jobs.
type Action string

// The operator actions, by the guide's action table.
const (
	ActRetry   Action = "retry"
	ActCancel  Action = "cancel"
	ActStart   Action = "start"
	ActDelete  Action = "delete"
	ActPurge   Action = "purge"
	ActArchive Action = "archive"
	ActRestore Action = "restore"
)

// Allowed lists the statuses each action applies to: the guide's "Actions
// Available" column. Archive and purge default to these when no --status is
// given; an explicit --status may widen them (never to live jobs).
var Allowed = map[Action][]Status{
	ActRetry:   {StatusFailed, StatusDead, StatusCancelled},
	ActCancel:  {StatusPending, StatusRetrying, StatusRunning},
	ActStart:   {StatusPending},
	ActDelete:  {StatusPending, StatusCompleted, StatusFailed, StatusCancelled, StatusDead},
	ActPurge:   {StatusCompleted, StatusFailed, StatusCancelled, StatusDead},
	ActArchive: {StatusCompleted, StatusCancelled, StatusDead},
}

// AuditAction is the "AuditLog" action an operator action writes.
func (a Action) AuditAction() string {
	return map[Action]string{
		ActRetry: ActionRetry, ActCancel: ActionCancel, ActStart: ActionStart, ActDelete: ActionDelete,
		ActPurge: ActionPurge, ActArchive: ActionArchive, ActRestore: ActionRestore,
	}[a]
}

// DefaultBatch is how many jobs one transaction of a bulk action takes
// when the caller names no size: small enough that workers never wait long
// on its locks, nor, on Postgres, on the WAL it wrote. Beside a working
// worker, archives in batches of 1,000 kept its longest claim under 100 ms
// in 3 runs of 4 (75-129 ms), in batches of 5,000 in 1 of 4 (88-160 ms),
// at the same speed: a worker's commit after an archive batch waits for
// that batch's WAL to reach the disk (README).
const DefaultBatch = 1000

// SQLiteArchiveBatch is an archive's batch size on the embedded store when
// the caller names none: it pauses after every batch, so a million jobs in
// batches of DefaultBatch would pause for 20 s.
const SQLiteArchiveBatch = 5000

// LeftAs names where an action that takes jobs out of "Job" leaves them:
// DELETED or ARCHIVED; "" for actions that change them in place. Audit
// rows and -o json report it as the job's new status.
func (a Action) LeftAs() string {
	switch a {
	case ActDelete, ActPurge:
		return "DELETED"
	case ActArchive:
		return "ARCHIVED"
	}
	return ""
}

// RefusalReason says why a job in status st is not acted on:
// "job_x is COMPLETED: retry needs FAILED, DEAD or CANCELLED".
func RefusalReason(a Action, id string, st Status, allowed []Status) string {
	return fmt.Sprintf("%s is %s: %s needs %s", id, st, a, OrList(allowed))
}

// OrList names statuses as "A, B or C".
func OrList(ss []Status) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	if n := len(names); n > 1 {
		return strings.Join(names[:n-1], ", ") + " or " + names[n-1]
	}
	return strings.Join(names, "")
}

// ActionParams is one bulk operator action. Jobs are chosen by IDs or, when
// IDs is empty, by Filter; either way only jobs in an allowed status are
// touched. Work runs in batches of BatchSize, each one transaction with its
// audit rows, so an interrupted action leaves every job done or untouched.
type ActionParams struct {
	Action   Action
	IDs      []string
	Filter   Filter
	Statuses []Status // allowed statuses; nil means Allowed[Action]
	Actor    string
	// Via is the channel the action came through ("cli", "web", "api"),
	// written into each audit row's metadata so a row tells a click
	// from a command; empty writes nothing.
	Via         string
	OperationID string
	BatchSize   int
	DryRun      bool

	// Cancel: a RUNNING job whose worker is gone (no "Worker" row, or
	// none that pinged within Lease) is cancelled at once, since nobody
	// would carry out a request to stop. Zero means DefaultLease.
	Lease time.Duration

	// Retry.
	Delay         time.Duration
	ResetAttempts bool

	// Sink, for archive, receives each batch's jobs before the batch
	// commits (archive --to writes and flushes them there).
	Sink func(jobs []*Job) error
	// Progress hears about each committed batch (or, in a dry run, each
	// batch that would change).
	Progress func(batch []Changed)
}

// DefaultLease is how long a worker may go without a ping before its jobs
// are taken for orphans: worker run's default --lease.
const DefaultLease = 60 * time.Second

// AllowedStatuses is p.Statuses, or the action's defaults.
func (p *ActionParams) AllowedStatuses() []Status {
	if len(p.Statuses) > 0 {
		return p.Statuses
	}
	return Allowed[p.Action]
}

// Changed is one job an action changed (or would change).
type Changed struct {
	ID             string    `json:"jobId"`
	Type           string    `json:"type"`
	PreviousStatus Status    `json:"previousStatus"`
	Status         Status    `json:"status"`
	ScheduledFor   time.Time `json:"scheduledFor"`
	// CancelRequested: a RUNNING job was asked to stop; its worker ends it.
	CancelRequested bool `json:"cancelRequested,omitempty"`
}

// Skipped is a named job the action refused.
type Skipped struct {
	ID     string `json:"jobId"`
	Status Status `json:"status"`
	Reason string `json:"reason"`
}

// ActionResult counts what an action did.
type ActionResult struct {
	Changed   int64     `json:"changed"`
	Requested int64     `json:"cancelRequested"`
	Skipped   []Skipped `json:"skipped"`
	NotFound  []string  `json:"notFound"`
}

// Actions is the store's side of operator actions.
type Actions interface {
	Act(ctx context.Context, p *ActionParams) (*ActionResult, error)
}
