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

// The worker's statements, in sql/queue.sql. The Postgres store runs the
// completion's two itself, as one pipeline.
var (
	jobsClaim            = stmt("JobsClaim")
	CompleteLock         = stmt("JobsCompleteLock")
	CompleteJobs         = stmt("JobsComplete")
	jobsReleaseDependent = stmt("JobsReleaseDependents")
	jobsLock             = stmt("JobsLock")
	jobsFailRetry        = stmt("JobsFailRetry")
	jobsFailEnd          = stmt("JobsFailEnd")
	jobsMarkCancelled    = stmt("JobsMarkCancelled")
	jobsRelease          = stmt("JobsRelease")
	jobsExpired          = stmt("JobsExpired")
	jobsDrain            = stmt("JobsDrain")
	jobsDrainTypes       = stmt("JobsDrainTypes")
)

// claimable is the claim index's predicate; the claim query repeats it
// verbatim so the planner picks that index.
const claimable = `status IN ('PENDING', 'RETRYING') AND "waitingOn" = 0`

// Claim marks up to p.Limit due jobs RUNNING for p.WorkerID in one
// statement and returns them in claim order, with what JobsClaim returns
// filled (and Status and WorkerID, which the claim set). A claim returns
// only what a worker reads, not every column: scanning all 23 of every
// claimed job was a fifth of a busy worker's CPU.
func Claim(ctx context.Context, db DB, d *Dialect, p *store.ClaimParams) ([]*store.Job, error) {
	a := d.ArgsAfter(p.WorkerID)
	rows, err := db.Query(ctx, d.SQL(jobsClaim, Fill{"claimIDs": claimIDs(a, d, p)}), a.Values...)
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

// claimIDs fills JobsClaim's slot: the ids to claim, selected and (on
// Postgres) locked, skipping rows another transaction holds. Each type is
// its own ordered range of the claim index (type, priority, scheduledFor,
// id), merged and cut to the limit: the plan is the same whatever the
// planner believes about how many jobs a type has, which matters for a
// type that is new since the table's statistics were taken. For one type:
//
//	SELECT id FROM (SELECT id, "priorityRank", "scheduledFor" FROM "Job"
//	  WHERE status IN ('PENDING', 'RETRYING') AND "waitingOn" = 0 AND "scheduledFor" <= now()
//	  AND type = $3 ORDER BY "priorityRank" DESC, "scheduledFor", id LIMIT $2 FOR UPDATE SKIP LOCKED) c
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

// Complete marks jobs COMPLETED with their outputs and lets their
// dependents go, in the caller's transaction, on a backend that has one
// writer at a time (SQLite; the Postgres store runs CompleteLock and
// CompleteJobs as one pipeline). Both statements take their jobs as one
// JSON parameter, so their text is the same whatever the batch and the
// store prepares them once.
func Complete(ctx context.Context, db DB, d *Dialect, workerID string, cs []store.Completion) (int64, error) {
	if len(cs) == 0 {
		return 0, nil
	}
	pairs := make([][2]*string, len(cs))
	for i := range cs {
		pairs[i][0] = &cs[i].ID
		if len(cs[i].Output) > 0 {
			out := string(cs[i].Output)
			pairs[i][1] = &out
		}
	}
	arg, err := json.Marshal(pairs)
	if err != nil {
		return 0, err
	}
	done, err := queryStrings(ctx, db, d.SQL(CompleteJobs), string(arg), workerID)
	if err != nil || len(done) == 0 {
		return 0, err
	}
	ids, err := json.Marshal(done)
	if err != nil {
		return 0, err
	}
	if _, err := db.Exec(ctx, d.SQL(jobsReleaseDependent), string(ids)); err != nil {
		return 0, err
	}
	return int64(len(done)), nil
}

// Fail records failed attempts: the latest error in the error columns, the
// attempt appended to "errorHistory", and the policy's verdict.
func Fail(ctx context.Context, db DB, d *Dialect, workerID string, fs []store.Failure) (int64, error) {
	var n int64
	if len(fs) > 1 && d.Runs(jobsLock) {
		// One UPDATE per job would lock them in the batch's order.
		ids := make([]string, len(fs))
		for i, f := range fs {
			ids[i] = f.ID
		}
		a := d.Args()
		if _, err := db.Exec(ctx, d.SQL(jobsLock, Fill{"idArray": idArray(d, a, ids)}), a.Values...); err != nil {
			return 0, err
		}
	}
	for _, f := range fs {
		entry, err := json.Marshal(f.Attempt)
		if err != nil {
			return n, err
		}
		var c int64
		if f.Status == store.StatusRetrying {
			c, err = db.Exec(ctx, d.SQL(jobsFailRetry), d.Values(f.Status, f.Attempt.Message, f.Attempt.Code,
				nullable(f.Stack), string(entry), f.ScheduledFor, f.ID, workerID)...)
		} else {
			c, err = db.Exec(ctx, d.SQL(jobsFailEnd), d.Values(f.Status, f.Attempt.Message, f.Attempt.Code,
				nullable(f.Stack), string(entry), f.ID, workerID)...)
		}
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
	return heldUpdate(ctx, db, d, jobsMarkCancelled, workerID, ids)
}

// Release hands jobs back as PENDING, due now, and takes back the attempt
// the claim counted: a shutdown is not the job's failure.
func Release(ctx context.Context, db DB, d *Dialect, workerID string, ids []string) (int64, error) {
	return heldUpdate(ctx, db, d, jobsRelease, workerID, ids)
}

// heldUpdate runs s, a statement of the jobs ids that workerID holds.
func heldUpdate(ctx context.Context, db DB, d *Dialect, s *Stmt, workerID string, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	a := d.ArgsAfter(workerID)
	return db.Exec(ctx, d.SQL(s, Fill{"idArray": idArray(d, a, ids)}), a.Values...)
}

// Expired returns RUNNING jobs whose worker row is gone or silent since
// before cutoff.
func Expired(ctx context.Context, db DB, d *Dialect, cutoff time.Time, limit int) ([]*store.Job, error) {
	return QueryJobs(ctx, db, d.SQL(jobsExpired), d.Values(cutoff, limit), false)
}

// Drain counts due and running jobs of the given types.
func Drain(ctx context.Context, db DB, d *Dialect, types []string) (*store.DrainState, error) {
	var row Scanner
	if len(types) == 0 {
		row = db.QueryRow(ctx, d.SQL(jobsDrain))
	} else {
		a := d.Args()
		row = db.QueryRow(ctx, d.SQL(jobsDrainTypes, Fill{"idArray": idArray(d, a, types)}), a.Values...)
	}
	var st store.DrainState
	err := row.Scan(&st.Due, &st.Running, &st.Retrying)
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
