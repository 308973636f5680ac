package jobsql

import (
	"context"

	"github.com/jobctl/jobctl/internal/store"
)

// CountUpTo implements store.Store.
func (b *Base) CountUpTo(ctx context.Context, f *store.Filter, archived bool, limit int64) (store.Tally, error) {
	a := b.D.Args()
	t, err := countUpTo(ctx, b.DB, b.D, "FROM "+Table(archived)+" WHERE "+Conditions(a, f), a.Values, limit)
	return t, b.Wrap("count jobs", store.PermRead, err)
}

// StatusCounts implements store.Monitoring.
func (b *Base) StatusCounts(ctx context.Context, userID string, limit int64) (map[store.Status]store.Tally, error) {
	out, err := statusCounts(ctx, b.DB, b.D, userID, limit)
	return out, b.Wrap("count jobs by status", store.PermRead, err)
}

// Types implements store.Monitoring.
func (b *Base) Types(ctx context.Context, userID string) ([]string, error) {
	ts, err := types(ctx, b.DB, b.D, userID)
	return ts, b.Wrap("list job types", store.PermRead, err)
}

// countUpTo counts the rows of from (a "FROM … WHERE …" clause) exactly
// while they are at most limit: the inner LIMIT stops the scan there, so
// the cost is that of limit rows however large the table. Above limit it
// asks the dialect's estimator, and counts exactly where there is none or
// the estimate is below what the capped count just saw.
func countUpTo(ctx context.Context, db DB, d *Dialect, from string, args []any, limit int64) (store.Tally, error) {
	var n int64
	if d.Estimate == nil || limit <= 0 {
		err := db.QueryRow(ctx, "SELECT count(*) "+from, args...).Scan(&n)
		return store.Tally{N: n}, err
	}
	a := d.Args()
	a.Values = append(a.Values, args...)
	capped := "SELECT count(*) FROM (SELECT 1 " + from + " LIMIT " + a.Add(limit+1) + ") capped"
	if err := db.QueryRow(ctx, capped, a.Values...).Scan(&n); err != nil {
		return store.Tally{}, err
	}
	if n <= limit {
		return store.Tally{N: n}, nil
	}
	est, err := d.Estimate(ctx, db, "SELECT 1 "+from, args)
	if err != nil {
		return store.Tally{}, err
	}
	if est > limit {
		return store.Tally{N: est, Estimated: true}, nil
	}
	err = db.QueryRow(ctx, "SELECT count(*) "+from, args...).Scan(&n)
	return store.Tally{N: n}, err
}

// statusCounts counts each status in its own index range of
// Job_status_createdAt_idx: the live statuses and FAILED and DEAD in one
// statement, exactly (they are what an operator acts on, and few in a
// healthy queue), then COMPLETED and CANCELLED up to limit.
func statusCounts(ctx context.Context, db DB, d *Dialect, userID string, limit int64) (map[store.Status]store.Tally, error) {
	a := d.Args()
	uc := ""
	if userID != "" {
		uc = ` AND "userId" = ` + a.Add(userID)
	}
	ns := make([]int64, len(countedStatuses))
	dest := make([]any, len(countedStatuses))
	for i := range ns {
		dest[i] = &ns[i]
	}
	if err := db.QueryRow(ctx, "SELECT "+statusCountCols(uc), a.Values...).Scan(dest...); err != nil {
		return nil, err
	}
	out := make(map[store.Status]store.Tally, len(store.Statuses))
	for i, st := range countedStatuses {
		out[st] = store.Tally{N: ns[i]}
	}
	for _, st := range []store.Status{store.StatusCompleted, store.StatusCancelled} {
		a := d.Args()
		from := `FROM "Job" WHERE status = ` + a.Add(string(st))
		if userID != "" {
			from += ` AND "userId" = ` + a.Add(userID)
		}
		t, err := countUpTo(ctx, db, d, from, a.Values, limit)
		if err != nil {
			return nil, err
		}
		out[st] = t
	}
	return out, nil
}

// types reads the catalog of job types that a trigger on "Job" fills as
// jobs are inserted (migrations: "JobType"), or the distinct types among
// one user's newest jobs along Job_userId_idx: suggestions for a filter,
// so a bounded read rather than all of a busy user's history.
func types(ctx context.Context, db DB, d *Dialect, userID string) ([]string, error) {
	q, a := `SELECT type FROM "JobType" ORDER BY type`, d.Args()
	if userID != "" {
		q = `SELECT DISTINCT type FROM (SELECT type FROM "Job" WHERE "userId" = ` + a.Add(userID) +
			` ORDER BY "createdAt" DESC LIMIT 10000) newest ORDER BY type`
	}
	rows, err := db.Query(ctx, q, a.Values...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
