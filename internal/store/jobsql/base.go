package jobsql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// Base implements the store.Store methods whose SQL is the same on every
// backend. A backend embeds it and adds what differs: opening, migrations,
// bulk insert.
type Base struct {
	D  *Dialect
	DB DB
	// InTx runs fn in a write transaction, once. The methods below go
	// through write, which runs it again after a deadlock.
	InTx func(ctx context.Context, fn func(DB) error) error
	// Wrap turns driver errors into the store's errors. op names the
	// operation and perm is the permission it declares it needs, which a
	// refusal by the database's grants reports.
	Wrap func(op string, perm store.Permission, err error) error
}

// Get implements store.Store.
func (b *Base) Get(ctx context.Context, id string) (*store.Job, error) {
	j, err := Get(ctx, b.DB, b.D, id)
	return j, b.Wrap("get job", store.PermRead, err)
}

// List implements store.Store.
func (b *Base) List(ctx context.Context, p *store.ListParams) ([]*store.Job, error) {
	jobs, err := List(ctx, b.DB, b.D, p)
	return jobs, b.Wrap("list jobs", store.PermRead, err)
}

// Count implements store.Store.
func (b *Base) Count(ctx context.Context, f *store.Filter, archived bool) (int64, error) {
	n, err := Count(ctx, b.DB, b.D, f, archived)
	return n, b.Wrap("count jobs", store.PermRead, err)
}

// Related implements store.Store.
func (b *Base) Related(ctx context.Context, j *store.Job) (*store.Related, error) {
	rel, err := Related(ctx, b.DB, b.D, j)
	return rel, b.Wrap("related jobs", store.PermRead, err)
}

// Import implements store.Store.
func (b *Base) Import(ctx context.Context, jobs []*store.Job) error {
	return b.Wrap("import", store.PermWrite, b.write(ctx, func(tx DB) error { return Import(ctx, tx, b.D, jobs) }))
}

// Enqueue implements store.Store.
func (b *Base) Enqueue(ctx context.Context, p *store.EnqueueParams) (*store.EnqueueResult, error) {
	for {
		var res *store.EnqueueResult
		err := b.write(ctx, func(tx DB) error {
			var err error
			res, err = Enqueue(ctx, tx, b.D, p, time.Now())
			return err
		})
		if errors.Is(err, ErrUniqueRace) {
			continue // the key's holder finished meanwhile: try again
		}
		if err != nil {
			return nil, b.Wrap("enqueue", store.PermWrite, err)
		}
		return res, nil
	}
}

// Claim implements store.Queue.
func (b *Base) Claim(ctx context.Context, p *store.ClaimParams) ([]*store.Job, error) {
	var jobs []*store.Job
	err := b.retry(ctx, func() (err error) {
		jobs, err = Claim(ctx, b.DB, b.D, p)
		return err
	})
	return jobs, b.Wrap("claim", store.PermWrite, err)
}

// Complete implements store.Queue. The status change and the release of
// dependents commit together.
func (b *Base) Complete(ctx context.Context, workerID string, cs []store.Completion) (int64, error) {
	var n int64
	err := b.write(ctx, func(tx DB) error {
		var err error
		n, err = Complete(ctx, tx, b.D, workerID, cs)
		return err
	})
	return n, b.Wrap("complete", store.PermWrite, err)
}

// Fail implements store.Queue.
func (b *Base) Fail(ctx context.Context, workerID string, fs []store.Failure) (int64, error) {
	var n int64
	err := b.write(ctx, func(tx DB) error {
		var err error
		n, err = Fail(ctx, tx, b.D, workerID, fs)
		return err
	})
	return n, b.Wrap("fail", store.PermWrite, err)
}

// MarkCancelled implements store.Queue.
func (b *Base) MarkCancelled(ctx context.Context, workerID string, ids []string) (int64, error) {
	var n int64
	err := b.retry(ctx, func() (err error) {
		n, err = MarkCancelled(ctx, b.DB, b.D, workerID, ids)
		return err
	})
	return n, b.Wrap("cancel", store.PermWrite, err)
}

// Release implements store.Queue.
func (b *Base) Release(ctx context.Context, workerID string, ids []string) (int64, error) {
	var n int64
	err := b.retry(ctx, func() (err error) {
		n, err = Release(ctx, b.DB, b.D, workerID, ids)
		return err
	})
	return n, b.Wrap("release", store.PermWrite, err)
}

// Expired implements store.Queue. Expired, Drain and EnqueueDue only read,
// but only a worker runs them, and a worker needs jobs:write.
func (b *Base) Expired(ctx context.Context, cutoff time.Time, limit int) ([]*store.Job, error) {
	jobs, err := Expired(ctx, b.DB, b.D, cutoff, limit)
	return jobs, b.Wrap("expired jobs", store.PermWrite, err)
}

// Drain implements store.Queue.
func (b *Base) Drain(ctx context.Context, types []string) (*store.DrainState, error) {
	st, err := Drain(ctx, b.DB, b.D, types)
	return st, b.Wrap("drain state", store.PermWrite, err)
}

// RegisterWorker implements store.Queue.
func (b *Base) RegisterWorker(ctx context.Context, w *store.WorkerInfo) error {
	return b.Wrap("register worker", store.PermWrite, b.retry(ctx, func() error { return RegisterWorker(ctx, b.DB, b.D, w) }))
}

// Heartbeat implements store.Queue.
func (b *Base) Heartbeat(ctx context.Context, workerID string, jobsDone int64) ([]string, error) {
	var ids []string
	err := b.retry(ctx, func() (err error) {
		ids, err = Heartbeat(ctx, b.DB, b.D, workerID, jobsDone)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return ids, b.Wrap("heartbeat", store.PermWrite, err)
}

// DeregisterWorker implements store.Queue.
func (b *Base) DeregisterWorker(ctx context.Context, workerID string) error {
	return b.Wrap("deregister worker", store.PermWrite, b.retry(ctx, func() error { return DeregisterWorker(ctx, b.DB, b.D, workerID) }))
}

// Workers implements store.Queue.
func (b *Base) Workers(ctx context.Context) ([]*store.WorkerInfo, error) {
	ws, err := Workers(ctx, b.DB, b.D)
	return ws, b.Wrap("list workers", store.PermRead, err)
}

// Audit implements store.Store.
func (b *Base) Audit(ctx context.Context, f *store.AuditFilter) ([]*store.AuditEntry, error) {
	es, err := Audit(ctx, b.DB, b.D, f)
	return es, b.Wrap("audit log", store.PermRead, err)
}

// CountAudit implements store.Store.
func (b *Base) CountAudit(ctx context.Context, f *store.AuditFilter) (int64, error) {
	n, err := CountAudit(ctx, b.DB, b.D, f)
	return n, b.Wrap("count audit log", store.PermRead, err)
}

// AddSchedule implements store.Schedules.
func (b *Base) AddSchedule(ctx context.Context, s *store.Schedule, actor string) error {
	return b.Wrap("add schedule", store.PermWrite, b.write(ctx, func(tx DB) error { return AddSchedule(ctx, tx, b.D, s, actor) }))
}

// RemoveSchedule implements store.Schedules.
func (b *Base) RemoveSchedule(ctx context.Context, name, actor string) error {
	return b.Wrap("remove schedule", store.PermWrite, b.write(ctx, func(tx DB) error { return RemoveSchedule(ctx, tx, b.D, name, actor) }))
}

// ListSchedules implements store.Schedules.
func (b *Base) ListSchedules(ctx context.Context) ([]*store.Schedule, error) {
	ss, err := ListSchedules(ctx, b.DB, b.D)
	return ss, b.Wrap("list schedules", store.PermRead, err)
}

// EnqueueDue implements store.Schedules: each due schedule fires in a
// transaction of its own.
func (b *Base) EnqueueDue(ctx context.Context, now time.Time, next func(*store.Schedule) (time.Time, error)) ([]*store.Job, error) {
	due, err := DueSchedules(ctx, b.DB, b.D, now)
	if err != nil {
		return nil, b.Wrap("due schedules", store.PermWrite, err)
	}
	var jobs []*store.Job
	for _, s := range due {
		n, err := next(s)
		if err != nil {
			return jobs, fmt.Errorf("schedule %s: %w", s.Name, err)
		}
		var (
			j     *store.Job
			fired bool
		)
		err = b.write(ctx, func(tx DB) error {
			var err error
			j, fired, err = FireSchedule(ctx, tx, b.D, s, n, now)
			return err
		})
		if err != nil {
			return jobs, b.Wrap("fire schedule "+s.Name, store.PermWrite, err)
		}
		if fired {
			jobs = append(jobs, j)
		}
	}
	return jobs, nil
}

// PruneWorkers implements store.Queue.
func (b *Base) PruneWorkers(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := b.retry(ctx, func() (err error) {
		n, err = PruneWorkers(ctx, b.DB, b.D, cutoff)
		return err
	})
	return n, b.Wrap("prune workers", store.PermWrite, err)
}
