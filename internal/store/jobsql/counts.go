package jobsql

import (
	"context"

	"github.com/jobctl/jobctl/internal/store"
)

// CountUpTo implements store.Store.
func (b *Base) CountUpTo(ctx context.Context, f *store.Filter, archived bool, limit int64) (store.Tally, error) {
	t, err := countUpTo(ctx, b.DB, b.D, Table(archived), func(a *Args) string { return Conditions(a, f, archived) }, limit)
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

// countUpTo counts the rows of table that filter's conditions keep
// exactly while they are at most limit (CountRowsCapped). Above limit it
// asks the dialect's estimator, and counts exactly where there is none or
// the estimate is below what the capped count just saw. filter fills the
// statements' /*:filter*/ slot, once for each statement it runs.
func countUpTo(ctx context.Context, db DB, d *Dialect, table string, filter func(*Args) string, limit int64) (store.Tally, error) {
	exact := func() (store.Tally, error) {
		a := d.Args()
		var n int64
		err := db.QueryRow(ctx, d.SQL(countRows, Fill{"table": table, "filter": filter(a)}), a.Values...).Scan(&n)
		return store.Tally{N: n}, err
	}
	if d.Estimate == nil || limit <= 0 {
		return exact()
	}
	a := d.ArgsAfter(limit + 1)
	var n int64
	if err := db.QueryRow(ctx, d.SQL(countRowsCapped, Fill{"table": table, "filter": filter(a)}), a.Values...).Scan(&n); err != nil {
		return store.Tally{}, err
	}
	if n <= limit {
		return store.Tally{N: n}, nil
	}
	a = d.Args()
	est, err := d.Estimate(ctx, db, d.SQL(countRowsEstimate, Fill{"table": table, "filter": filter(a)}), a.Values)
	if err != nil {
		return store.Tally{}, err
	}
	if est > limit {
		return store.Tally{N: est, Estimated: true}, nil
	}
	return exact()
}

// statusCounts counts each status in its own index range of
// Job_status_createdAt_idx: the live statuses and FAILED and DEAD in one
// statement, exactly (they are what an operator acts on, and few in a
// healthy queue), then COMPLETED and CANCELLED up to limit.
func statusCounts(ctx context.Context, db DB, d *Dialect, userID string, limit int64) (map[store.Status]store.Tally, error) {
	ns := make([]int64, len(countedStatuses))
	dest := make([]any, len(countedStatuses))
	for i := range ns {
		dest[i] = &ns[i]
	}
	sql, args := userStmt(d, statusCountsAll, statusCountsUser, userID)
	if err := db.QueryRow(ctx, sql, args...).Scan(dest...); err != nil {
		return nil, err
	}
	out := make(map[store.Status]store.Tally, len(store.Statuses))
	for i, st := range countedStatuses {
		out[st] = store.Tally{N: ns[i]}
	}
	for _, st := range []store.Status{store.StatusCompleted, store.StatusCancelled} {
		t, err := countUpTo(ctx, db, d, `"Job"`, func(a *Args) string {
			c := `status = ` + a.Add(string(st))
			if userID != "" {
				c += ` AND "userId" = ` + a.Add(userID)
			}
			return c
		}, limit)
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
	sql, args := userStmt(d, jobTypes, jobTypesUser, userID)
	rows, err := db.Query(ctx, sql, args...)
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
