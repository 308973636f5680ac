// Package ops owns every operator action and read between a typed request
// and the store: selection rules and the guide's status table, dry runs and
// counts, who acted and through which channel (recorded in the audit rows),
// the per-job outcomes in the guide's response shape, and the scope of what
// an account may see. The CLI (internal/cli) and the HTTP server
// (internal/web) are thin adapters over it.
//
// This file holds the types and the Service interface the adapters see;
// the implementation, *Ops, is in the other files.
package ops

import (
	"context"
	"time"

	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// Channel is how an action reached jobctl; audit rows record it as "via".
type Channel string

const (
	ViaCLI Channel = "cli"
	ViaWeb Channel = "web"
	ViaAPI Channel = "api"
)

// Principal is who acts. The CLI acts as RoleAdmin under the OS user's
// name (the database's grants still apply); the web and API act as the
// logged-in account.
type Principal struct {
	Name   string     // written as the audit rows' "userId"
	Role   store.Role // what it may do
	UserID string     // RoleUser: the jobs' "userId" it may see and retry
	Via    Channel
}

// Code is an error's kind; each maps to one HTTP status and one exit code.
type Code string

const (
	CodeInvalid       Code = "invalid_request" // 400, exit 2: bad input
	CodeUnauthorized  Code = "unauthorized"    // 401
	CodeForbidden     Code = "forbidden"       // 403: role lacks the permission, or a foreign job
	CodeNotFound      Code = "not_found"       // 404
	CodeConflict      Code = "conflict"        // 409: the job's status does not allow the action
	CodeUnprocessable Code = "unprocessable"   // 422: well-formed but refused (empty selection, ...)
)

// Error is a refusal with a one-line message. Field, when set, names the
// input it is about in the caller's words (set by the adapter: "--since"
// for the CLI, "since" for a query string).
type Error struct {
	Code    Code
	Message string
	Field   string

	// format and args, when set, make Message with its inputs named as
	// {field} tokens, so each adapter can name them its own way (In).
	format string
	args   []any
}

func (e *Error) Error() string { return e.Message }

// ErrForbiddenJob is the guide's refusal of a job that is not the
// caller's: the API answers it with exactly 403 {"error":"Forbidden"}.
var ErrForbiddenJob = &Error{Code: CodeForbidden, Message: "Forbidden"}

// FilterInput is a filter as a person typed it: flags or query parameters.
// Both adapters fill it, and ParseFilter turns it into a store.Filter with
// one grammar (statuses any case; times as 90s, 1h, 30d, 1w, today,
// yesterday or RFC 3339).
type FilterInput struct {
	Statuses []string
	Types    []string
	Since    string // createdAt >= (query: since)
	Until    string // createdAt < (query: until)
	Older    string // completedAt < now-Older or a time (query: older)
	User     string // "userId" (query: user)
	// Given names the fields the caller supplied, so an empty value
	// (`--type ""`, `?type=`) is told from an absent one and refused.
	Given map[string]bool
}

// ActionRequest is one operator action: by IDs, or by filter (All to
// act on every job in a status the action applies to).
type ActionRequest struct {
	Action        store.Action
	IDs           []string
	Filter        store.Filter // from ParseFilter; Statuses narrow the action's own
	All           bool
	DryRun        bool
	Delay         time.Duration // retry
	ResetAttempts bool          // retry
	Lease         time.Duration // cancel: a RUNNING job's worker is gone after this
	BatchSize     int
	OperationID   string // made up when empty
	// KeepJobs asks for Result.Jobs (the per-job responses).
	KeepJobs bool
	// Progress hears about each committed batch.
	Progress func(batch []store.Changed)
	// Sink, for archive, receives each batch's jobs before the batch
	// commits (the CLI's archive --to writes them to a file there).
	Sink func(jobs []*store.Job) error
}

// JobResponse is one job's outcome: the guide's response to
// POST /api/admin/jobs/[jobId]/retry, with "error" for a refusal.
type JobResponse struct {
	Success         bool         `json:"success"`
	JobID           string       `json:"jobId"`
	Status          string       `json:"status,omitempty"`
	ScheduledFor    *render.Time `json:"scheduledFor,omitempty"` // to the millisecond, as all JSON times
	CancelRequested bool         `json:"cancelRequested,omitempty"`
	Error           string       `json:"error,omitempty"`
	DryRun          bool         `json:"dryRun,omitempty"`
}

// Result is what an action did.
type Result struct {
	OperationID string          `json:"operationId"`
	Action      store.Action    `json:"action"`
	DryRun      bool            `json:"dryRun"`
	Changed     int64           `json:"changed"`         // jobs changed (or, dry, that would be)
	Requested   int64           `json:"cancelRequested"` // RUNNING jobs asked to stop
	Skipped     []store.Skipped `json:"skipped"`         // named jobs refused for their status
	NotFound    []string        `json:"notFound"`
	Jobs        []JobResponse   `json:"jobs,omitempty"` // with KeepJobs
}

// ListRequest is one page of jobs.
type ListRequest struct {
	Filter   store.Filter
	Sort     store.Sort
	Limit    int    // default 50, at most 1000
	After    string // keyset cursor: the last ID of the previous page
	Archived bool
	Count    bool // fill ListResult.Total
	// CountLimit, when above zero, makes Total exact only up to it: above
	// it Total may be the store's estimate (TotalEstimated). The web admin
	// passes ExactCountLimit, so a page of a million matches does not
	// count them; the CLI counts exactly.
	CountLimit int64
}

// ExactCountLimit is how far the web admin's totals and the dashboard's
// counts of COMPLETED and CANCELLED jobs are exact. Counting this many
// index entries takes a few milliseconds; above it Postgres gives the
// planner's estimate.
const ExactCountLimit = 10_000

// ListResult is a page of jobs; Next is the cursor of the next page, ""
// at the end.
type ListResult struct {
	Items          []*store.Job `json:"items"`
	Total          *int64       `json:"total,omitempty"`
	TotalEstimated bool         `json:"totalEstimated,omitempty"`
	Next           string       `json:"next"`
}

// Summary is the dashboard's: the jobs of each status, of the principal's
// scope.
type Summary struct {
	Counts map[store.Status]store.Tally
}

// JobDetail is a job with its related jobs.
type JobDetail struct {
	Job     *store.Job     `json:"job"`
	Related *store.Related `json:"related"`
}

// AuditRequest is one page of the audit log.
type AuditRequest struct {
	Filter store.AuditFilter
}

// AuditResult is a page of the audit log, newest first.
type AuditResult struct {
	Items []*store.AuditEntry `json:"items"`
	Total int64               `json:"total"`
	Next  string              `json:"next"`
}

// Service is everything the CLI and HTTP adapters ask of the operations
// layer. *Ops implements it; adapters depend on the narrow part they use.
type Service interface {
	// Act runs an action as who. A RoleUser may only retry, and only its
	// own jobs: a named foreign job is ErrForbiddenJob, and a filter is
	// narrowed to its UserID. Invalid selections are *Error CodeInvalid
	// or CodeUnprocessable, and change nothing.
	Act(ctx context.Context, who Principal, req *ActionRequest) (*Result, error)
	// Count is how many jobs req would touch (the confirm dialog's number).
	Count(ctx context.Context, who Principal, req *ActionRequest) (int64, error)

	List(ctx context.Context, who Principal, req *ListRequest) (*ListResult, error)
	// Job returns a job and its related jobs; a foreign job is
	// ErrForbiddenJob, a missing one CodeNotFound.
	Job(ctx context.Context, who Principal, id string) (*JobDetail, error)
	Stats(ctx context.Context, who Principal, p *store.StatsParams) (*store.Stats, error)
	// Summary is the dashboard's status summary, cheap enough for every
	// page view and every tick of the live stream: see
	// store.Monitoring.StatusCounts.
	Summary(ctx context.Context, who Principal) (*Summary, error)
	// Types lists the job types for the type filter: every type the store
	// has seen, or, for a RoleUser, those among its newest jobs.
	Types(ctx context.Context, who Principal) ([]string, error)
	Snapshot(ctx context.Context, who Principal) (*store.Snapshot, error)
	Health(ctx context.Context, who Principal) (*health.Report, error)
	Audit(ctx context.Context, who Principal, req *AuditRequest) (*AuditResult, error)
	Workers(ctx context.Context, who Principal) ([]*store.WorkerInfo, error)
	Schedules(ctx context.Context, who Principal) ([]*store.Schedule, error)
}
