package store

import (
	"context"
	"time"
)

// Snapshot is what `jobctl health` and the metrics read. Every query
// behind it is an index scan over the few non-final jobs, so it stays fast
// on a table of millions.
type Snapshot struct {
	Counts map[Status]int64 // PENDING, RUNNING, RETRYING, FAILED, DEAD
	// OldestDue is the scheduledFor of the oldest PENDING job that is due.
	OldestDue *time.Time
	// Running lists the RUNNING jobs (id, type, startedAt, workerId only).
	Running []*Job
	Workers []*WorkerInfo
	// Now is the database's clock when the snapshot was taken.
	Now time.Time
}

// StatsParams narrows `jobctl stats`.
type StatsParams struct {
	Since     time.Time // window for durations and the top errors; zero: all time
	Types     []string
	TopErrors int // how many error messages to list (default 5)
	// UserID, when set, counts only the jobs whose "userId" it is: what
	// a RoleUser account may see of the dashboard.
	UserID string
}

// TypeStats is one job type's row in `jobctl stats`.
type TypeStats struct {
	Type   string           `json:"type"`
	Counts map[Status]int64 `json:"counts"`
	// Durations of COMPLETED jobs in the window.
	Completed int64   `json:"completedInWindow"`
	P50       float64 `json:"p50Seconds"`
	P95       float64 `json:"p95Seconds"`
}

// ErrorCount is one of the most common error messages.
type ErrorCount struct {
	Message string `json:"errorMessage"`
	Code    string `json:"errorCode"`
	Count   int64  `json:"count"`
}

// Stats is `jobctl stats`: the guide's dashboard numbers.
type Stats struct {
	ByStatus     map[Status]int64 `json:"byStatus"`
	ByType       []*TypeStats     `json:"byType"`
	Completed1h  int64            `json:"completedLastHour"`
	Failed1h     int64            `json:"failedLastHour"`
	Completed24h int64            `json:"completedLast24h"`
	Failed24h    int64            `json:"failedLast24h"`
	TopErrors    []ErrorCount     `json:"topErrors"`
	Now          time.Time        `json:"now"`
}

// Monitoring is the store's side of health, stats and metrics.
type Monitoring interface {
	Snapshot(ctx context.Context) (*Snapshot, error)
	// SnapshotFor is Snapshot over only the jobs whose "userId" is
	// userID (counts, oldest due, running), for a RoleUser's dashboard;
	// Workers are listed whole, since they hold no job data.
	SnapshotFor(ctx context.Context, userID string) (*Snapshot, error)
	Stats(ctx context.Context, p *StatsParams) (*Stats, error)
	// StatusCounts is the dashboard's summary: the jobs of each status (of
	// userID's jobs when it is set). The live statuses and FAILED and DEAD
	// are counted exactly, as health does; COMPLETED and CANCELLED, which
	// grow with the table's history, exactly up to limit and above it as
	// CountUpTo says.
	StatusCounts(ctx context.Context, userID string, limit int64) (map[Status]Tally, error)
	// Types lists every job type ever enqueued, in order: a catalog the
	// store keeps as jobs are inserted, so it is not a scan of the jobs.
	// With userID, the types among that user's 10,000 newest jobs (an
	// index range of its jobs, bounded), since the catalog is everyone's.
	Types(ctx context.Context, userID string) ([]string, error)
}

// Tally is a count that may be an estimate.
type Tally struct {
	N int64
	// Estimated: N is the planner's estimate from the table's statistics
	// (refreshed by ANALYZE), not a count; it is at least the limit that
	// was asked for.
	Estimated bool
}
