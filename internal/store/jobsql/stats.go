package jobsql

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

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
// user's jobs only. The user's condition is a bind parameter added to each
// subquery, so the unscoped statement stays the one the bench measures.
func snapshot(ctx context.Context, db DB, d *Dialect, userID string) (*store.Snapshot, error) {
	var (
		now, oldest                              timestamp
		pending, running, retrying, failed, dead int64
	)
	a := d.Args()
	uc := ""
	if userID != "" {
		uc = ` AND "userId" = ` + a.Add(userID)
	}
	// Live and failed jobs are few however large the table grows: these
	// are index scans on (status, …).
	err := db.QueryRow(ctx, `SELECT `+d.Now+`, `+statusCountCols(uc)+`,
		(SELECT min("scheduledFor") FROM "Job" WHERE `+claimable+` AND status = 'PENDING' AND "scheduledFor" <= `+d.Now+uc+`)`, a.Values...).Scan(
		&now, &pending, &running, &retrying, &failed, &dead, &oldest)
	if err != nil {
		return nil, err
	}
	snap := &store.Snapshot{Counts: map[store.Status]int64{
		store.StatusPending: pending, store.StatusRunning: running, store.StatusRetrying: retrying,
		store.StatusFailed: failed, store.StatusDead: dead,
	}}
	snap.Now, snap.OldestDue = now.value(), oldest.ptr()
	a = d.Args()
	uc = ""
	if userID != "" {
		uc = ` AND "userId" = ` + a.Add(userID)
	}
	snap.Running, err = QueryJobs(ctx, db, `SELECT `+JobColumns+` FROM "Job" WHERE status = 'RUNNING'`+uc+` ORDER BY "startedAt" LIMIT 10000`, a.Values, false)
	if err != nil {
		return nil, err
	}
	snap.Workers, err = Workers(ctx, db, d)
	return snap, err
}

// countedStatuses are the statuses health and the dashboard always count
// exactly: the jobs an operator acts on, few in a healthy queue, each an
// index range of Job_status_createdAt_idx.
var countedStatuses = []store.Status{store.StatusPending, store.StatusRunning, store.StatusRetrying, store.StatusFailed, store.StatusDead}

// statusCountCols is one count(*) subquery per countedStatuses, in that order,
// each narrowed by cond (" AND …" or "").
func statusCountCols(cond string) string {
	cols := make([]string, len(countedStatuses))
	for i, st := range countedStatuses {
		cols[i] = `(SELECT count(*) FROM "Job" WHERE status = '` + string(st) + `'` + cond + `)`
	}
	return strings.Join(cols, ", ")
}

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
	typeCond := "TRUE"
	if len(p.Types) > 0 {
		typeCond = "type IN " + In(a, p.Types)
	}
	typeCond += userCond(a, p)
	byType := map[string]*store.TypeStats{}
	rows, err := db.Query(ctx, `SELECT type, status, count(*) FROM "Job" WHERE `+typeCond+` GROUP BY type, status`, a.Values...)
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
	if err := db.QueryRow(ctx, "SELECT "+d.Now).Scan(&now); err != nil {
		return nil, err
	}
	st.Now = now.value()
	a = d.Args()
	h1, h24 := a.Add(st.Now.Add(-time.Hour)), a.Add(st.Now.Add(-24*time.Hour))
	tc := ""
	if len(p.Types) > 0 {
		tc = " AND type IN " + In(a, p.Types)
	}
	tc += userCond(a, p)
	err = db.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM "Job" WHERE status = 'COMPLETED' AND "completedAt" >= `+h1+tc+`),
		(SELECT count(*) FROM "Job" WHERE status IN ('FAILED', 'DEAD') AND "completedAt" >= `+h1+tc+`),
		(SELECT count(*) FROM "Job" WHERE status = 'COMPLETED' AND "completedAt" >= `+h24+tc+`),
		(SELECT count(*) FROM "Job" WHERE status IN ('FAILED', 'DEAD') AND "completedAt" >= `+h24+tc+`)`, a.Values...).Scan(
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
	a = d.Args()
	cond := `status IN ('FAILED', 'DEAD') AND "errorMessage" IS NOT NULL`
	if !p.Since.IsZero() {
		cond += ` AND "completedAt" >= ` + a.Add(p.Since)
	}
	if len(p.Types) > 0 {
		cond += " AND type IN " + In(a, p.Types)
	}
	cond += userCond(a, p)
	rows, err = db.Query(ctx, `SELECT "errorMessage", max("errorCode"), count(*) AS n FROM "Job" WHERE `+cond+
		` GROUP BY "errorMessage" ORDER BY n DESC, "errorMessage" LIMIT `+a.Add(limit), a.Values...)
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
	cond := `status = 'COMPLETED' AND "startedAt" IS NOT NULL`
	if !p.Since.IsZero() {
		cond += ` AND "completedAt" >= ` + a.Add(p.Since)
	}
	if len(p.Types) > 0 {
		cond += " AND type IN " + In(a, p.Types)
	}
	cond += userCond(a, p)
	rows, err := db.Query(ctx, `SELECT type, "startedAt", "completedAt" FROM "Job" WHERE `+cond, a.Values...)
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

// userCond is the " AND \"userId\" = $n" a user-scoped stats adds, or "".
func userCond(a *Args, p *store.StatsParams) string {
	if p.UserID == "" {
		return ""
	}
	return ` AND "userId" = ` + a.Add(p.UserID)
}
