package jobsql

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// claimable is the claim index's predicate; the claim query repeats it
// verbatim so the planner picks that index.
const claimable = `status IN ('PENDING', 'RETRYING') AND "waitingOn" = 0`

// ClaimedColumns are what a worker needs of a job it claims: what its
// handler is given, what the retry policy reads, and the claim order. A
// claim returns only these, not all of JobColumns: scanning 23 columns of
// every claimed job was a fifth of a busy worker's CPU.
const ClaimedColumns = `id, type, priority, data, attempts, "maxAttempts", "scheduledFor", "startedAt", "userId", "parentId"`

// Claim marks up to p.Limit due jobs RUNNING for p.WorkerID in one
// statement and returns them in claim order, with ClaimedColumns filled
// (and Status and WorkerID, which the claim set).
func Claim(ctx context.Context, db DB, d *Dialect, p *store.ClaimParams) ([]*store.Job, error) {
	a := d.Args()
	w := a.Add(p.WorkerID)
	sub := claimIDs(a, d, p)
	sql := `UPDATE "Job" SET status = 'RUNNING', attempts = attempts + 1, "startedAt" = ` + d.Now +
		`, "completedAt" = NULL, "workerId" = ` + w + `, "updatedAt" = ` + d.Now +
		` WHERE ` + d.IDIn(sub) + ` RETURNING ` + ClaimedColumns
	rows, err := db.Query(ctx, sql, a.Values...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	jobs := make([]*store.Job, 0, p.Limit)
	for rows.Next() {
		j := &store.Job{Status: store.StatusRunning, WorkerID: p.WorkerID}
		var (
			priority         string
			scheduled, start timestamp
			userID, parentID text
		)
		if err := rows.Scan(&j.ID, &j.Type, &priority, (*[]byte)(&j.Data), &j.Attempts, &j.MaxAttempts, &scheduled, &start, &userID, &parentID); err != nil {
			return nil, err
		}
		j.Priority = store.Priority(priority)
		j.ScheduledFor, j.StartedAt = scheduled.value(), start.ptr()
		j.UserID, j.ParentID = string(userID), string(parentID)
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// RETURNING follows no ORDER BY; restore the claim order.
	slices.SortFunc(jobs, func(x, y *store.Job) int {
		if c := cmp.Compare(y.Priority.Rank(), x.Priority.Rank()); c != 0 {
			return c
		}
		if c := x.ScheduledFor.Compare(y.ScheduledFor); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return jobs, nil
}

// claimOrder is the claim's order, and the claim index's after type.
const claimOrder = `"priorityRank" DESC, "scheduledFor", id`

// claimIDs selects (and on Postgres locks) the ids to claim, skipping rows
// another transaction holds: a claim never waits for a lock, so it takes
// part in no deadlock, whatever order it locks in. Each type is its own
// ordered range of the claim index (type, priority, scheduledFor, id),
// merged and cut to the limit: the plan is the same whatever the planner
// believes about how many jobs a type has, which matters for a type that
// is new since the table's statistics were taken.
func claimIDs(a *Args, d *Dialect, p *store.ClaimParams) string {
	limit := a.Add(p.Limit)
	branch := func(typeCond string) string {
		return `SELECT id, "priorityRank", "scheduledFor" FROM "Job" WHERE ` + claimable + ` AND "scheduledFor" <= ` + d.Now +
			typeCond + ` ORDER BY ` + claimOrder + ` LIMIT ` + limit + d.SkipLocked
	}
	switch len(p.Types) {
	case 0:
		return `SELECT id FROM (` + branch("") + `) c`
	case 1:
		return `SELECT id FROM (` + branch(" AND type = "+a.Add(p.Types[0])) + `) c`
	}
	parts := make([]string, len(p.Types))
	for i, t := range p.Types {
		parts[i] = `SELECT * FROM (` + branch(" AND type = "+a.Add(t)) + `) b` + strconv.Itoa(i)
	}
	return `SELECT id FROM (` + strings.Join(parts, " UNION ALL ") + `) c ORDER BY ` + claimOrder + ` LIMIT ` + limit
}

// heldBy guards every worker transition: the job is still RUNNING under
// this worker, not rescued and handed to another.
func heldBy(a *Args, workerID string) string {
	return `status = 'RUNNING' AND "workerId" = ` + a.Add(workerID)
}

// Complete marks jobs COMPLETED with their outputs and lets their
// dependents go, in the caller's transaction, on a backend that has one
// writer at a time (SQLite; Postgres has its own, CompletePG). Both
// statements have fixed text, whatever the batch, so the store prepares
// them once: parsing a VALUES list of 2 parameters a job was a sixth of a
// SQLite worker's CPU.
func Complete(ctx context.Context, db DB, workerID string, cs []store.Completion) (int64, error) {
	if len(cs) == 0 {
		return 0, nil
	}
	pairs := make([][2]*string, len(cs))
	for i, c := range cs {
		pairs[i][0] = &cs[i].ID
		if len(c.Output) > 0 {
			out := string(c.Output)
			pairs[i][1] = &out
		}
	}
	arg, err := json.Marshal(pairs)
	if err != nil {
		return 0, err
	}
	done, err := queryStrings(ctx, db, CompleteSQLite, string(arg), workerID)
	if err != nil || len(done) == 0 {
		return 0, err
	}
	ids, err := json.Marshal(done)
	if err != nil {
		return 0, err
	}
	if _, err := db.Exec(ctx, ReleaseSQLite, string(ids)); err != nil {
		return 0, err
	}
	return int64(len(done)), nil
}

// The SQLite completion. CompleteSQLite marks the jobs still held by the
// worker COMPLETED with their outputs and returns their ids. $1 is a JSON
// array of [id, output] pairs, the output a JSON string holding the
// output's JSON text, or null; $2 the worker. The guard's columns are
// written +status and +"workerId": SQLite's unary plus keeps an index from
// serving them, so each job is found by its id, not by walking every
// RUNNING job for each pair. ReleaseSQLite then lowers each dependent's
// waitingOn by how many of its dependencies completed ($1 a JSON array of
// their ids); at zero the claim index sees it.
const (
	CompleteSQLite = `UPDATE "Job" SET status = 'COMPLETED', output = v.output,
	"completedAt" = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "updatedAt" = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM (SELECT value ->> 0 AS id, value ->> 1 AS output FROM json_each($1)) AS v
WHERE "Job".id = v.id AND +"Job".status = 'RUNNING' AND +"Job"."workerId" = $2
RETURNING "Job".id`
	ReleaseSQLite = `UPDATE "Job" SET "waitingOn" = "waitingOn" - (SELECT count(*) FROM "JobDependency" dep
	WHERE dep."jobId" = "Job".id AND dep."dependsOnId" IN (SELECT value FROM json_each($1))),
	"updatedAt" = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE id IN (SELECT "jobId" FROM "JobDependency" WHERE "dependsOnId" IN (SELECT value FROM json_each($1)))`
)

// The Postgres completion, sent as one pipeline (one round trip, one
// implicit transaction): CompleteLockPG locks the jobs and the jobs waiting
// on them in id order, as every statement changing several rows does (see
// lock.go); CompletePG then marks the jobs still held by the worker
// COMPLETED with their outputs and lowers their dependents' waitingOn in
// the same statement, returning how many it completed. Its snapshot is
// taken after the locks are granted, so a dependency committed while it
// waited for one is counted. Its guard is
// spelled "status = 'RUNNING'", which lets the planner walk the RUNNING
// range of the status index: spelled IS NOT DISTINCT FROM, so that only
// the primary key could serve it, a worker at --concurrency 2000 ran at
// half the rate (2.4 times the server's CPU per job).
// $1 the ids, $2 their outputs (JSON text or NULL), $3 the worker.
const (
	CompleteLockPG = `SELECT id FROM "Job" WHERE id = ANY($1) OR id = ANY(ARRAY(
	SELECT "jobId" FROM "JobDependency" WHERE "dependsOnId" = ANY($1))) ORDER BY id FOR UPDATE`
	CompletePG = `WITH done AS (
	UPDATE "Job" SET status = 'COMPLETED', output = CAST(v.output AS jsonb), "completedAt" = now(), "updatedAt" = now()
	FROM unnest(CAST($1 AS text[]), CAST($2 AS text[])) AS v(id, output)
	WHERE "Job".id = v.id AND "Job".status = 'RUNNING' AND "Job"."workerId" = $3
	RETURNING "Job".id
), released AS (
	UPDATE "Job" SET "waitingOn" = "waitingOn" - d.n, "updatedAt" = now()
	FROM (SELECT "jobId", count(*) AS n FROM "JobDependency" WHERE "dependsOnId" IN (SELECT id FROM done) GROUP BY "jobId") d
	WHERE "Job".id = d."jobId"
)
SELECT count(*) FROM done`
)

// Fail records failed attempts: the latest error in the error columns, the
// attempt appended to "errorHistory", and the policy's verdict.
func Fail(ctx context.Context, db DB, d *Dialect, workerID string, fs []store.Failure) (int64, error) {
	var n int64
	if len(fs) > 1 {
		// One UPDATE per job would lock them in the batch's order.
		a := d.Args()
		ids := make([]string, len(fs))
		for i, f := range fs {
			ids[i] = f.ID
		}
		if err := lockJobs(ctx, db, d, `id`+d.InIDs(a, ids), a.Values); err != nil {
			return 0, err
		}
	}
	for _, f := range fs {
		entry, err := json.Marshal(f.Attempt)
		if err != nil {
			return n, err
		}
		a := d.Args()
		set := `status = ` + a.Add(f.Status) +
			`, "errorMessage" = ` + a.Add(f.Attempt.Message) +
			`, "errorCode" = ` + a.Add(f.Attempt.Code) +
			`, "errorStack" = ` + a.Add(nullable(f.Stack)) +
			`, "errorHistory" = ` + d.AppendJSON(`"errorHistory"`, a.Add(string(entry))) +
			`, "updatedAt" = ` + d.Now
		if f.Status == store.StatusRetrying {
			set += `, "scheduledFor" = ` + a.Add(f.ScheduledFor)
		} else {
			set += `, "completedAt" = ` + d.Now
		}
		c, err := db.Exec(ctx, `UPDATE "Job" SET `+set+` WHERE id = `+a.Add(f.ID)+` AND `+heldBy(a, workerID), a.Values...)
		if err != nil {
			return n, err
		}
		n += c
	}
	return n, nil
}

// MarkCancelled ends running jobs the worker stopped at an operator's
// request. They are never retried.
func MarkCancelled(ctx context.Context, db DB, d *Dialect, workerID string, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	a := d.Args()
	return db.Exec(ctx, `UPDATE "Job" SET status = 'CANCELLED', "completedAt" = `+d.Now+`, "updatedAt" = `+d.Now+
		` WHERE `+lockedWhere(d, `"Job"`, `id IN `+In(a, ids)+` AND `+heldBy(a, workerID)), a.Values...)
}

// Release hands jobs back as PENDING, due now, and takes back the attempt
// the claim counted: a shutdown is not the job's failure.
func Release(ctx context.Context, db DB, d *Dialect, workerID string, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	a := d.Args()
	return db.Exec(ctx, `UPDATE "Job" SET status = 'PENDING', attempts = attempts - 1, "startedAt" = NULL,
		"workerId" = NULL, "scheduledFor" = `+d.Now+`, "updatedAt" = `+d.Now+
		` WHERE `+lockedWhere(d, `"Job"`, `id IN `+In(a, ids)+` AND `+heldBy(a, workerID)), a.Values...)
}

// Expired returns RUNNING jobs whose worker row is gone or silent since
// before cutoff.
func Expired(ctx context.Context, db DB, d *Dialect, cutoff time.Time, limit int) ([]*store.Job, error) {
	a := d.Args()
	sql := `SELECT ` + JobColumns + ` FROM "Job" WHERE status = 'RUNNING' AND ("workerId" IS NULL OR NOT EXISTS (
		SELECT 1 FROM "Worker" w WHERE w.id = "Job"."workerId" AND w."lastPing" >= ` + a.Add(cutoff) + `)) LIMIT ` + a.Add(limit)
	return QueryJobs(ctx, db, sql, a.Values, false)
}

// Drain counts due and running jobs of the given types.
func Drain(ctx context.Context, db DB, d *Dialect, types []string) (*store.DrainState, error) {
	a := d.Args()
	typeCond := ""
	if len(types) > 0 {
		typeCond = " AND type IN " + In(a, types)
	}
	var st store.DrainState
	err := db.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM "Job" WHERE `+claimable+` AND "scheduledFor" <= `+d.Now+typeCond+`),
		(SELECT count(*) FROM "Job" WHERE status = 'RUNNING'`+typeCond+`),
		(SELECT count(*) FROM "Job" WHERE status = 'RETRYING'`+typeCond+`)`, a.Values...).Scan(&st.Due, &st.Running, &st.Retrying)
	return &st, err
}

func queryStrings(ctx context.Context, db DB, sql string, args ...any) ([]string, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
