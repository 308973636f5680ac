package jobsql

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jobctl/jobctl/internal/store"
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
	a := d.Args()
	_, err = db.Exec(ctx, `INSERT INTO "Worker" (id, host, pid, types, concurrency, "jobsDone", "startedAt", "lastPing") VALUES (`+
		a.Add(w.ID)+", "+a.Add(w.Host)+", "+a.Add(w.PID)+", "+d.TextArray(a.Add(string(types)))+", "+a.Add(w.Concurrency)+", "+a.Add(w.JobsDone)+
		", "+d.Now+", "+d.Now+`) ON CONFLICT (id) DO UPDATE SET "lastPing" = `+d.Now, a.Values...)
	return err
}

// Heartbeat refreshes lastPing and returns the worker's running jobs with a
// cancel request.
func Heartbeat(ctx context.Context, db DB, d *Dialect, workerID string, jobsDone int64) ([]string, error) {
	a := d.Args()
	n, err := db.Exec(ctx, `UPDATE "Worker" SET "lastPing" = `+d.Now+`, "jobsDone" = `+a.Add(jobsDone)+` WHERE id = `+a.Add(workerID), a.Values...)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, store.ErrNotFound
	}
	a = d.Args()
	return queryStrings(ctx, db, `SELECT id FROM "Job" WHERE "workerId" = `+a.Add(workerID)+
		` AND status = 'RUNNING' AND "cancelRequested"`, a.Values...)
}

// DeregisterWorker deletes the worker's row.
func DeregisterWorker(ctx context.Context, db DB, d *Dialect, workerID string) error {
	a := d.Args()
	_, err := db.Exec(ctx, `DELETE FROM "Worker" WHERE id = `+a.Add(workerID), a.Values...)
	return err
}

// PruneWorkers deletes workers silent since before cutoff that hold no
// running job (those are rescued first, so none is orphaned unseen).
func PruneWorkers(ctx context.Context, db DB, d *Dialect, cutoff time.Time) (int64, error) {
	a := d.Args()
	return db.Exec(ctx, `DELETE FROM "Worker" WHERE `+lockedWhere(d, `"Worker"`, `"lastPing" < `+a.Add(cutoff)+
		` AND NOT EXISTS (SELECT 1 FROM "Job" WHERE "Job"."workerId" = "Worker".id AND "Job".status = 'RUNNING')`), a.Values...)
}

// Workers lists registered workers with the jobs each holds, most recently
// started first.
func Workers(ctx context.Context, db DB, d *Dialect) ([]*store.WorkerInfo, error) {
	rows, err := db.Query(ctx, `SELECT w.id, w.host, w.pid, w."startedAt", w."lastPing", `+d.TextArrayJSON("w.types")+`, w.concurrency, w."jobsDone",
		(SELECT count(*) FROM "Job" j WHERE j."workerId" = w.id AND j.status = 'RUNNING')
		FROM "Worker" w ORDER BY w."startedAt" DESC, w.id`)
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
