package jobsql

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// The workers' statements, in sql/workers.sql.
var (
	workerRegister       = stmt("WorkerRegister")
	workerHeartbeat      = stmt("WorkerHeartbeat")
	workerCancelRequests = stmt("WorkerCancelRequests")
	workerDelete         = stmt("WorkerDelete")
	workerPrune          = stmt("WorkerPrune")
	workerList           = stmt("WorkerList")
)

// RegisterWorker inserts (or, for a worker re-registering after being
// pruned, replaces) its "Worker" row.
func RegisterWorker(ctx context.Context, db DB, d *Dialect, w *store.WorkerInfo) error {
	if w.Types == nil {
		w.Types = []string{}
	}
	types, err := json.Marshal(w.Types)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, d.SQL(workerRegister), d.Values(w.ID, w.Host, w.PID, string(types), w.Concurrency, w.JobsDone)...)
	return err
}

// Heartbeat refreshes lastPing and returns the worker's running jobs with a
// cancel request.
func Heartbeat(ctx context.Context, db DB, d *Dialect, workerID string, jobsDone int64) ([]string, error) {
	n, err := db.Exec(ctx, d.SQL(workerHeartbeat), d.Values(jobsDone, workerID)...)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, store.ErrNotFound
	}
	return queryStrings(ctx, db, d.SQL(workerCancelRequests), d.Values(workerID)...)
}

// DeregisterWorker deletes the worker's row.
func DeregisterWorker(ctx context.Context, db DB, d *Dialect, workerID string) error {
	_, err := db.Exec(ctx, d.SQL(workerDelete), d.Values(workerID)...)
	return err
}

// PruneWorkers deletes workers silent since before cutoff that hold no
// running job (those are rescued first, so none is orphaned unseen).
func PruneWorkers(ctx context.Context, db DB, d *Dialect, cutoff time.Time) (int64, error) {
	return db.Exec(ctx, d.SQL(workerPrune), d.Values(cutoff)...)
}

// Workers lists registered workers with the jobs each holds, most recently
// started first.
func Workers(ctx context.Context, db DB, d *Dialect) ([]*store.WorkerInfo, error) {
	rows, err := db.Query(ctx, d.SQL(workerList))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*store.WorkerInfo{}
	for rows.Next() {
		var (
			w             store.WorkerInfo
			started, ping timestamp
			types         rawJSON
		)
		if err := rows.Scan(&w.ID, &w.Host, &w.PID, &started, &ping, &types, &w.Concurrency, &w.JobsDone, &w.Running); err != nil {
			return nil, err
		}
		w.StartedAt, w.LastPing = started.value(), ping.value()
		if err := json.Unmarshal(types, &w.Types); err != nil {
			return nil, err
		}
		out = append(out, &w)
	}
	return out, rows.Err()
}
