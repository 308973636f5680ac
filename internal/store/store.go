package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DefaultMaxAttempts is the guide's default retry budget.
const DefaultMaxAttempts = 5

// Errors the backends return; callers test with errors.Is.
var (
	// ErrNotFound means no job (live or archived) has the given ID.
	ErrNotFound = errors.New("not found")
	// ErrSchemaTooNew means the store was migrated by a newer jobctl.
	ErrSchemaTooNew = errors.New("schema is newer than this jobctl")
	// ErrNotMigrated means the store has no jobctl schema yet.
	ErrNotMigrated = errors.New("schema not migrated")
	// ErrExists means the name is taken.
	ErrExists = errors.New("already exists")
	// ErrReadOnly means the store refused a write because it is read-only.
	ErrReadOnly = errors.New("store is read-only")
)

// EnqueueParams describes one job to insert. Zero values take the schema's
// defaults.
type EnqueueParams struct {
	Type         string          `json:"type"`
	Data         json.RawMessage `json:"data,omitempty"`
	Priority     Priority        `json:"priority,omitempty"`
	ScheduledFor time.Time       `json:"scheduledFor,omitzero"`
	DependsOn    []string        `json:"dependsOn,omitempty"`
	MaxAttempts  int             `json:"maxAttempts,omitempty"`
	UniqueKey    string          `json:"uniqueKey,omitempty"`
	UserID       string          `json:"userId,omitempty"`
	ParentID     string          `json:"parentId,omitempty"`
	// MaxDataBytes caps len(Data): zero means DefaultMaxDataBytes,
	// NoDataLimit none (data already checked, e.g. a schedule's).
	MaxDataBytes int `json:"-"`
}

// EnqueueResult is the job Enqueue inserted or, for a unique key already held
// by a live job, the job that holds it.
type EnqueueResult struct {
	Job      *Job
	Existing bool
}

// Filter selects jobs. Empty fields match everything; the fields are ANDed.
type Filter struct {
	IDs      []string
	Statuses []Status
	Types    []string
	// Since and Until bound "createdAt" (inclusive, exclusive).
	Since, Until time.Time
	// FinishedBefore bounds "completedAt" (exclusive): archive and purge's
	// --older.
	FinishedBefore time.Time
	UserID         string
}

// Sort orders a listing.
type Sort string

// Listing orders.
const (
	SortCreatedDesc Sort = "-created" // newest first (the default)
	SortCreatedAsc  Sort = "created"
	SortPriority    Sort = "priority" // highest priority, then oldest scheduledFor
)

// ParseSort accepts the --sort values.
func ParseSort(s string) (Sort, error) {
	switch Sort(s) {
	case SortCreatedDesc, SortCreatedAsc, SortPriority:
		return Sort(s), nil
	}
	return "", fmt.Errorf("unknown sort %q (want created, -created or priority)", s)
}

// ListParams pages through jobs matching a filter.
type ListParams struct {
	Filter
	Limit int
	// After is the ID of the last job of the previous page (keyset paging).
	After string
	Sort  Sort
	// Archived lists "JobArchive" instead of "Job".
	Archived bool
}

// Migration is one schema version and whether it has been applied.
type Migration struct {
	Version   int        `json:"version"`
	Name      string     `json:"name"`
	AppliedAt *time.Time `json:"appliedAt"`
}

// Store is a job store. Every method is safe for concurrent use.
type Store interface {
	Queue
	Schedules
	Actions
	Monitoring
	Accounts

	// Audit lists the audit log, newest first.
	Audit(ctx context.Context, f *AuditFilter) ([]*AuditEntry, error)
	// CountAudit returns how many audit entries match f, ignoring its
	// After and Limit.
	CountAudit(ctx context.Context, f *AuditFilter) (int64, error)

	// Backend names the implementation: "postgres" or "sqlite".
	Backend() string

	// Migrate applies pending migrations and returns the versions it applied.
	Migrate(ctx context.Context) ([]Migration, error)
	// Migrations lists every known migration, applied or not.
	Migrations(ctx context.Context) ([]Migration, error)
	// CheckSchema returns ErrNotMigrated, ErrSchemaTooNew or nil.
	CheckSchema(ctx context.Context) error

	// Enqueue inserts one job, or returns the live job holding its unique key.
	Enqueue(ctx context.Context, p *EnqueueParams) (*EnqueueResult, error)
	// EnqueueMany inserts all jobs in one transaction, or none, calling
	// progress (when not nil) as rows go in.
	EnqueueMany(ctx context.Context, ps []*EnqueueParams, progress func(done int)) (int, error)
	// EnqueueFrom inserts the jobs src yields in one transaction, or none,
	// reading them as it goes so memory does not grow with their number.
	// each (when not nil) gets, in order, the ID of every row: the job
	// inserted or the live job holding its unique key. An error about one
	// row is a *RowError naming the row's line.
	EnqueueFrom(ctx context.Context, src BulkSource, each func(id string)) (int, error)

	// Import inserts whole jobs in any state, all or none: seeding, tests,
	// restoring exported jobs.
	Import(ctx context.Context, jobs []*Job) error

	// Get returns a job by ID from "Job", else from "JobArchive".
	Get(ctx context.Context, id string) (*Job, error)
	// List returns one page of jobs.
	List(ctx context.Context, p *ListParams) ([]*Job, error)
	// Count returns how many jobs match, in "Job" or "JobArchive".
	Count(ctx context.Context, f *Filter, archived bool) (int64, error)
	// CountUpTo is Count for a page that shows a total: exact up to limit
	// matches; above it, the planner's estimate where the store keeps
	// statistics (Postgres), flagged Estimated. An estimate below limit
	// means stale statistics, and the count is made exactly instead.
	CountUpTo(ctx context.Context, f *Filter, archived bool, limit int64) (Tally, error)
	// Related returns j's parent, children, dependencies and dependents.
	Related(ctx context.Context, j *Job) (*Related, error)

	Close() error
}
