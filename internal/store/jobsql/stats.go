package jobsql

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// Health's, the dashboard's and stats' statements, in sql/stats.sql.
var (
	snapshotAll         = stmt("Snapshot")
	snapshotUser        = stmt("SnapshotUser")
	snapshotRunning     = stmt("SnapshotRunning")
	snapshotRunningUser = stmt("SnapshotRunningUser")
	statusCountsAll     = stmt("StatusCounts")
	statusCountsUser    = stmt("StatusCountsUser")
	countRows           = stmt("CountRows")
	countRowsCapped     = stmt("CountRowsCapped")
	countRowsEstimate   = stmt("CountRowsEstimate")
	jobTypes            = stmt("JobTypes")
	jobTypesUser        = stmt("JobTypesUser")
	dbNow               = stmt("Now")
	statsByTypeStatus   = stmt("StatsByTypeStatus")
	statsRecent         = stmt("StatsRecent")
	statsDurations      = stmt("StatsDurations")
	statsTopErrors      = stmt("StatsTopErrors")
)

// userStmt is all, or user with userID as its $1 when there is one.
func userStmt(d *Dialect, all, user *Stmt, userID string) (string, []any) {
	if userID == "" {
		return d.SQL(all), nil
	}
	return d.SQL(user), d.Values(userID)
}

// Snapshot implements store.Monitoring.
func (b *Base) Snapshot(ctx context.Context) (*store.Snapshot, error) {
	snap, err := snapshot(ctx, b.DB, b.D, "")
	return snap, b.Wrap("health snapshot", store.PermRead, err)
}

// SnapshotFor implements store.Monitoring.
func (b *Base) SnapshotFor(ctx context.Context, userID string) (*store.Snapshot, error) {
	snap, err := snapshot(ctx, b.DB, b.D, userID)
	return snap, b.Wrap("health snapshot", store.PermRead, err)
}

// snapshot reads the figures of every job or, with userID, of that
// user's jobs only.
func snapshot(ctx context.Context, db DB, d *Dialect, userID string) (*store.Snapshot, error) {
	var (
		now, oldest                              timestamp
		pending, running, retrying, failed, dead int64
	)
	// Live and failed jobs are few however large the table grows: these
	// are index scans on (status, …).
	sql, args := userStmt(d, snapshotAll, snapshotUser, userID)
	err := db.QueryRow(ctx, sql, args...).Scan(&now, &pending, &running, &retrying, &failed, &dead, &oldest)
	if err != nil {
		return nil, err
	}
	snap := &store.Snapshot{Counts: map[store.Status]int64{
		store.StatusPending: pending, store.StatusRunning: running, store.StatusRetrying: retrying,
		store.StatusFailed: failed, store.StatusDead: dead,
	}}
	snap.Now, snap.OldestDue = now.value(), oldest.ptr()
	sql, args = userStmt(d, snapshotRunning, snapshotRunningUser, userID)
	snap.Running, err = QueryJobs(ctx, db, sql, args, false)
	if err != nil {
		return nil, err
	}
	snap.Workers, err = Workers(ctx, db, d)
	return snap, err
}

// countedStatuses are the statuses health and the dashboard always count
// exactly: the jobs an operator acts on, few in a healthy queue, each an
// index range of Job_status_createdAt_idx. The Snapshot and StatusCounts
// statements count them in this order.
var countedStatuses = []store.Status{store.StatusPending, store.StatusRunning, store.StatusRetrying, store.StatusFailed, store.StatusDead}

// Stats implements store.Monitoring.
func (b *Base) Stats(ctx context.Context, p *store.StatsParams) (*store.Stats, error) {
	st, err := stats(ctx, b.DB, b.D, p)
	return st, b.Wrap("stats", store.PermRead, err)
}

func stats(ctx context.Context, db DB, d *Dialect, p *store.StatsParams) (*store.Stats, error) {
	st := &store.Stats{ByStatus: map[store.Status]int64{}, TopErrors: []store.ErrorCount{}}
	for _, s := range store.Statuses {
		st.ByStatus[s] = 0
	}
	a := d.Args()
	byType := map[string]*store.TypeStats{}
	rows, err := db.Query(ctx, d.SQL(statsByTypeStatus, Fill{"scope": statsScope(a, p, false)}), a.Values...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var (
			typ, status string
			n           int64
		)
		if err := rows.Scan(&typ, &status, &n); err != nil {
			rows.Close()
			return nil, err
		}
		ts := byType[typ]
		if ts == nil {
			ts = &store.TypeStats{Type: typ, Counts: map[store.Status]int64{}}
			byType[typ] = ts
		}
		ts.Counts[store.Status(status)] = n
		st.ByStatus[store.Status(status)] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	var now timestamp
	if err := db.QueryRow(ctx, d.SQL(dbNow)).Scan(&now); err != nil {
		return nil, err
	}
	st.Now = now.value()
	a = d.ArgsAfter(st.Now.Add(-time.Hour), st.Now.Add(-24*time.Hour))
	err = db.QueryRow(ctx, d.SQL(statsRecent, Fill{"scope": statsScope(a, p, false)}), a.Values...).Scan(
		&st.Completed1h, &st.Failed1h, &st.Completed24h, &st.Failed24h)
	if err != nil {
		return nil, err
	}

	if err := durations(ctx, db, d, p, byType); err != nil {
		return nil, err
	}
	for _, ts := range byType {
		st.ByType = append(st.ByType, ts)
	}
	sort.Slice(st.ByType, func(i, j int) bool { return st.ByType[i].Type < st.ByType[j].Type })

	limit := p.TopErrors
	if limit <= 0 {
		limit = 5
	}
	a = d.ArgsAfter(limit)
	rows, err = db.Query(ctx, d.SQL(statsTopErrors, Fill{"scope": statsScope(a, p, true)}), a.Values...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			e    store.ErrorCount
			code text
		)
		if err := rows.Scan(&e.Message, &code, &e.Count); err != nil {
			return nil, err
		}
		e.Code = string(code)
		st.TopErrors = append(st.TopErrors, e)
	}
	return st, rows.Err()
}

// durations fills p50 and p95 run times of COMPLETED jobs per type within
// the window, computed here so both backends agree.
func durations(ctx context.Context, db DB, d *Dialect, p *store.StatsParams, byType map[string]*store.TypeStats) error {
	a := d.Args()
	rows, err := db.Query(ctx, d.SQL(statsDurations, Fill{"scope": statsScope(a, p, true)}), a.Values...)
	if err != nil {
		return err
	}
	defer rows.Close()
	secs := map[string][]float64{}
	for rows.Next() {
		var (
			typ         string
			start, done timestamp
		)
		if err := rows.Scan(&typ, &start, &done); err != nil {
			return err
		}
		secs[typ] = append(secs[typ], done.value().Sub(start.value()).Seconds())
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for typ, ss := range secs {
		ts := byType[typ]
		if ts == nil {
			continue
		}
		slices.Sort(ss)
		ts.Completed = int64(len(ss))
		ts.P50, ts.P95 = percentile(ss, 0.50), percentile(ss, 0.95)
	}
	return nil
}

// percentile of sorted values, by linear interpolation (as Postgres's
// percentile_cont).
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	lo := int(pos)
	if lo+1 >= len(sorted) {
		return sorted[lo]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// statsScope fills the /*:scope*/ slot of the stats statements: " AND …"
// for each of p's completion window (when since), types and user that is
// set, or "".
func statsScope(a *Args, p *store.StatsParams, since bool) string {
	var b strings.Builder
	if since && !p.Since.IsZero() {
		b.WriteString(` AND "completedAt" >= ` + a.Add(p.Since))
	}
	if len(p.Types) > 0 {
		b.WriteString(" AND type IN " + In(a, p.Types))
	}
	if p.UserID != "" {
		b.WriteString(` AND "userId" = ` + a.Add(p.UserID))
	}
	return b.String()
}
