package store

import (
	"context"
	"encoding/json"
	"time"
)

// WorkerInfo is a row of "Worker", plus the jobs it holds now.
type WorkerInfo struct {
	ID          string    `json:"id"`
	Host        string    `json:"host"`
	PID         int       `json:"pid"`
	StartedAt   time.Time `json:"startedAt"`
	LastPing    time.Time `json:"lastPing"`
	Types       []string  `json:"types"`
	Concurrency int       `json:"concurrency"`
	JobsDone    int64     `json:"jobsDone"`
	Running     int64     `json:"running"`
}

// ClaimParams asks for up to Limit due jobs of the given types.
type ClaimParams struct {
	WorkerID string
	Types    []string
	Limit    int
}

// Completion is one job a worker finished successfully.
type Completion struct {
	ID     string
	Output json.RawMessage
}

// Failure is one failed attempt and what the retry policy made of it:
// RETRYING (with ScheduledFor), FAILED or DEAD.
type Failure struct {
	ID           string
	Status       Status
	ScheduledFor time.Time
	Attempt      Attempt
	Stack        string
}

// DrainState says whether a draining worker has anything left to wait for.
type DrainState struct {
	Due      int64 // claimable now
	Running  int64 // held by some worker
	Retrying int64 // RETRYING, due or not
}

// Schedule is a row of "RecurringJob".
type Schedule struct {
	Name      string          `json:"name"`
	Type      string          `json:"type"`
	Cron      string          `json:"schedule"`
	Timezone  string          `json:"timezone"`
	Data      json.RawMessage `json:"data"`
	Priority  Priority        `json:"priority"`
	NextRunAt time.Time       `json:"nextRunAt"`
	LastRunAt *time.Time      `json:"lastRunAt"`
	LastJobID string          `json:"lastJobId"`
	CreatedAt time.Time       `json:"createdAt"`
	// MaxDataBytes caps len(Data) when the schedule is added, as
	// EnqueueParams.MaxDataBytes does a job's.
	MaxDataBytes int `json:"-"`
}

// Queue is the worker's side of the store. Every state change is guarded
// by the job being RUNNING under the calling worker, so a job rescued from
// a worker presumed dead cannot be finished twice.
type Queue interface {
	RegisterWorker(ctx context.Context, w *WorkerInfo) error
	// Heartbeat refreshes the worker's lastPing and returns the IDs of its
	// running jobs an operator asked to cancel. ErrNotFound means the row
	// was pruned; the worker registers again.
	Heartbeat(ctx context.Context, workerID string, jobsDone int64) ([]string, error)
	DeregisterWorker(ctx context.Context, workerID string) error
	Workers(ctx context.Context) ([]*WorkerInfo, error)
	// PruneWorkers deletes workers silent since before cutoff that hold no
	// jobs.
	PruneWorkers(ctx context.Context, cutoff time.Time) (int64, error)

	// Claim marks up to p.Limit due jobs RUNNING under p.WorkerID, highest
	// priority first, and returns them.
	Claim(ctx context.Context, p *ClaimParams) ([]*Job, error)
	// Complete marks jobs COMPLETED and releases their dependents.
	Complete(ctx context.Context, workerID string, cs []Completion) (int64, error)
	// Fail records failed attempts.
	Fail(ctx context.Context, workerID string, fs []Failure) (int64, error)
	// MarkCancelled ends jobs whose cancel the worker carried out.
	MarkCancelled(ctx context.Context, workerID string, ids []string) (int64, error)
	// Release hands jobs back as PENDING without counting the attempt.
	Release(ctx context.Context, workerID string, ids []string) (int64, error)
	// Expired returns RUNNING jobs whose worker is gone or silent since
	// before cutoff.
	Expired(ctx context.Context, cutoff time.Time, limit int) ([]*Job, error)
	// Drain reports due and running jobs of the given types.
	Drain(ctx context.Context, types []string) (*DrainState, error)
}

// Listener is a store that can push word of new work (Postgres
// LISTEN/NOTIFY). Listen calls wake once it is subscribed (notifications
// sent before then reached nobody), then for each notification, until ctx
// ends or the connection fails.
type Listener interface {
	Listen(ctx context.Context, wake func()) error
}

// OneWriter is a store that takes one write at a time (SQLite). A worker
// gains nothing there from a second claim or outcome write in flight: they
// would wait for each other's turn, each carrying fewer jobs, so a worker
// on such a store claims and writes from one goroutine each.
type OneWriter interface {
	OneWriter()
}
