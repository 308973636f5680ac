package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

func testMonitoring(t *testing.T, h *Harness) {
	s := h.Store
	now := time.Now().UTC()
	old := enqueue(t, s, &store.EnqueueParams{Type: "CalendarSync"})
	h.Exec(t, `UPDATE "Job" SET "scheduledFor" = $1 WHERE id = $2`, now.Add(-45*time.Minute), old.ID)
	enqueue(t, s, &store.EnqueueParams{Type: "CalendarSync"})
	enqueue(t, s, &store.EnqueueParams{Type: "CalendarSync", ScheduledFor: now.Add(time.Hour)}) // not due
	running := jobIn(t, h, "Report", store.StatusRunning, 1, now)
	for i := 0; i < 3; i++ {
		j := jobIn(t, h, "CalendarSync", store.StatusDead, 5, now.Add(-10*time.Minute))
		h.Exec(t, `UPDATE "Job" SET "errorMessage" = 'Token refresh failed', "errorCode" = 'AUTH_ERROR' WHERE id = $1`, j.ID)
	}
	f := jobIn(t, h, "Report", store.StatusFailed, 1, now.Add(-2*time.Hour))
	h.Exec(t, `UPDATE "Job" SET "errorMessage" = 'Execution time limit exceeded', "errorCode" = 'TIMEOUT' WHERE id = $1`, f.ID)
	for i, secs := range []int{1, 2, 3, 4, 10} {
		j := jobIn(t, h, "Report", store.StatusCompleted, 1, now.Add(-time.Duration(i)*time.Minute))
		h.Exec(t, `UPDATE "Job" SET "startedAt" = $1 WHERE id = $2`, j.CompletedAt.Add(-time.Duration(secs)*time.Second), j.ID)
	}
	register(t, s, "w1")

	snap, err := s.Snapshot(ctx())
	if err != nil {
		t.Fatal(err)
	}
	want := map[store.Status]int64{store.StatusPending: 3, store.StatusRunning: 1, store.StatusFailed: 1, store.StatusDead: 3, store.StatusRetrying: 0}
	for st, n := range want {
		if snap.Counts[st] != n {
			t.Errorf("snapshot %s = %d; want %d", st, snap.Counts[st], n)
		}
	}
	if snap.OldestDue == nil || snap.Now.Sub(*snap.OldestDue) < 44*time.Minute || snap.Now.Sub(*snap.OldestDue) > 46*time.Minute {
		t.Errorf("oldest due pending = %v (now %v); want 45 minutes old", snap.OldestDue, snap.Now)
	}
	if len(snap.Running) != 1 || snap.Running[0].ID != running.ID || len(snap.Workers) != 1 {
		t.Errorf("snapshot running %v, workers %d", ids(snap.Running), len(snap.Workers))
	}

	st, err := s.Stats(ctx(), &store.StatsParams{Since: now.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if st.ByStatus[store.StatusCompleted] != 5 || st.ByStatus[store.StatusDead] != 3 || st.ByStatus[store.StatusCancelled] != 0 {
		t.Errorf("by status: %v", st.ByStatus)
	}
	if st.Completed1h != 5 || st.Failed1h != 3 || st.Failed24h != 4 || st.Completed24h != 5 {
		t.Errorf("windows: completed 1h %d 24h %d, failed 1h %d 24h %d; want 5 5 3 4", st.Completed1h, st.Completed24h, st.Failed1h, st.Failed24h)
	}
	var report *store.TypeStats
	for _, ts := range st.ByType {
		if ts.Type == "Report" {
			report = ts
		}
	}
	if report == nil || report.Completed != 5 || report.P50 != 3 || report.P95 < 8.7 || report.P95 > 8.9 || report.Counts[store.StatusRunning] != 1 {
		t.Errorf("Report stats: %+v; want p50 3s, p95 8.8s", report)
	}
	if len(st.TopErrors) != 2 || st.TopErrors[0].Message != "Token refresh failed" || st.TopErrors[0].Count != 3 || st.TopErrors[0].Code != "AUTH_ERROR" {
		t.Errorf("top errors: %+v", st.TopErrors)
	}
	only, err := s.Stats(ctx(), &store.StatsParams{Types: []string{"CalendarSync"}})
	if err != nil || len(only.ByType) != 1 || len(only.TopErrors) != 1 {
		t.Errorf("stats --type CalendarSync: %+v (%v)", only, err)
	}
}

// testMonitoringByUser proves the scope a RoleUser account gets: the
// snapshot and the stats of one user's jobs count none of another's.
func testMonitoringByUser(t *testing.T, h *Harness) {
	s := h.Store
	now := time.Now().UTC()
	mine := enqueue(t, s, &store.EnqueueParams{Type: "Mine", UserID: "u1"})
	h.Exec(t, `UPDATE "Job" SET "scheduledFor" = $1 WHERE id = $2`, now.Add(-time.Hour), mine.ID)
	theirs := enqueue(t, s, &store.EnqueueParams{Type: "Theirs", UserID: "u2"})
	h.Exec(t, `UPDATE "Job" SET "scheduledFor" = $1 WHERE id = $2`, now.Add(-3*time.Hour), theirs.ID)
	enqueue(t, s, &store.EnqueueParams{Type: "Theirs", UserID: "u2"})
	for _, u := range []string{"u1", "u2", "u2"} {
		j := jobIn(t, h, "Report", store.StatusFailed, 1, now.Add(-time.Minute))
		h.Exec(t, `UPDATE "Job" SET "userId" = $1, "errorMessage" = $2 WHERE id = $3`, u, "boom "+u, j.ID)
	}
	run := jobIn(t, h, "Report", store.StatusRunning, 1, now)
	h.Exec(t, `UPDATE "Job" SET "userId" = 'u2' WHERE id = $1`, run.ID)
	register(t, s, "w1")

	snap, err := s.SnapshotFor(ctx(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Counts[store.StatusPending] != 1 || snap.Counts[store.StatusFailed] != 1 || snap.Counts[store.StatusRunning] != 0 || len(snap.Running) != 0 {
		t.Errorf("u1 snapshot counts %v, running %v; want 1 pending, 1 failed, none running", snap.Counts, ids(snap.Running))
	}
	if snap.OldestDue == nil || snap.Now.Sub(*snap.OldestDue) > 61*time.Minute {
		t.Errorf("u1 oldest due = %v (now %v); want u1's job of an hour ago, not u2's of three", snap.OldestDue, snap.Now)
	}
	if len(snap.Workers) != 1 {
		t.Errorf("u1 snapshot workers = %d; want the one worker", len(snap.Workers))
	}
	all, err := s.Snapshot(ctx())
	if err != nil || all.Counts[store.StatusPending] != 3 || all.Counts[store.StatusFailed] != 3 || len(all.Running) != 1 {
		t.Errorf("unscoped snapshot %v running %d (%v); want 3 pending, 3 failed, 1 running", all.Counts, len(all.Running), err)
	}

	st, err := s.Stats(ctx(), &store.StatsParams{UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if st.ByStatus[store.StatusFailed] != 1 || st.ByStatus[store.StatusPending] != 1 || st.ByStatus[store.StatusRunning] != 0 || st.Failed1h != 1 {
		t.Errorf("u1 stats by status %v, failed 1h %d; want only u1's jobs", st.ByStatus, st.Failed1h)
	}
	for _, ts := range st.ByType {
		if ts.Type == "Theirs" {
			t.Errorf("u1 stats list u2's type: %+v", ts)
		}
	}
	if len(st.TopErrors) != 1 || st.TopErrors[0].Message != "boom u1" {
		t.Errorf("u1 top errors = %+v; want only boom u1", st.TopErrors)
	}
	none, err := s.Stats(ctx(), &store.StatsParams{UserID: "nobody"})
	if err != nil || none.ByStatus[store.StatusFailed] != 0 || len(none.ByType) != 0 || len(none.TopErrors) != 0 {
		t.Errorf("stats of a user with no jobs: %+v (%v)", none, err)
	}
}

// testCounts covers what the web admin shows instead of scanning a large
// table: the dashboard's counts by status, totals exact up to a limit, and
// the catalog of job types that a trigger keeps.
func testCounts(t *testing.T, h *Harness) {
	s := h.Store
	now := time.Now().UTC()
	for i := 0; i < 5; i++ {
		j := jobIn(t, h, "Report", store.StatusCompleted, 1, now)
		if i < 2 {
			h.Exec(t, `UPDATE "Job" SET "userId" = 'user_1' WHERE id = $1`, j.ID)
		}
	}
	jobIn(t, h, "CalendarSync", store.StatusFailed, 5, now)
	jobIn(t, h, "CalendarSync", store.StatusCancelled, 1, now)
	enqueue(t, s, &store.EnqueueParams{Type: "SendEmail", UserID: "user_1"})
	enqueue(t, s, &store.EnqueueParams{Type: "SendEmail"})
	// A job the runbook's SQL inserts is in the catalog too.
	h.Exec(t, `INSERT INTO "Job" (type, data) VALUES ('FromSQL', '{}')`)

	want := map[store.Status]int64{store.StatusCompleted: 5, store.StatusFailed: 1, store.StatusCancelled: 1, store.StatusPending: 3}
	check := func(label, user string, limit int64, want map[store.Status]int64) {
		t.Helper()
		got, err := s.(store.Monitoring).StatusCounts(ctx(), user, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range store.Statuses {
			g := got[st]
			if g.N != want[st] {
				t.Errorf("%s: %s = %+v, want %d", label, st, g, want[st])
			}
			if g.Estimated && (!st.Final() || g.N <= limit) {
				t.Errorf("%s: %s = %+v is an estimate: only COMPLETED or CANCELLED above the limit %d may be", label, st, g, limit)
			}
		}
	}
	// Counts at or under the limit are exact; above it a store may
	// estimate, and after ANALYZE Postgres's estimate of so small a table
	// is the count itself.
	check("limit 10", "", 10, want)
	h.Exec(t, `ANALYZE "Job"`)
	check("limit 2, analyzed", "", 2, want)
	check("user_1", "user_1", 10, map[store.Status]int64{store.StatusCompleted: 2, store.StatusPending: 1})

	// Statistics that say there are no CANCELLED jobs (ANALYZEd before
	// these) are stale: the count is then made exactly, never shown below
	// what the capped count already saw.
	for i := 0; i < 3; i++ {
		jobIn(t, h, "CalendarSync", store.StatusCancelled, 1, now)
	}
	want[store.StatusCancelled] = 4
	check("stale statistics", "", 2, want)

	total, err := s.CountUpTo(ctx(), &store.Filter{Types: []string{"Report"}}, false, 0)
	if err != nil || total != (store.Tally{N: 5}) {
		t.Errorf("CountUpTo Report, no limit = %+v, %v; want exactly 5", total, err)
	}
	total, err = s.CountUpTo(ctx(), &store.Filter{Statuses: []store.Status{store.StatusPending}}, false, 3)
	if err != nil || total != (store.Tally{N: 3}) {
		t.Errorf("CountUpTo PENDING, limit 3 = %+v, %v; want exactly 3", total, err)
	}
	total, err = s.CountUpTo(ctx(), &store.Filter{Types: []string{"Report"}}, false, 4)
	if err != nil || total.N != 5 && !total.Estimated || total.Estimated && total.N <= 4 {
		t.Errorf("CountUpTo Report, limit 4 = %+v, %v; want 5, or an estimate above 4", total, err)
	}

	types, err := s.(store.Monitoring).Types(ctx(), "")
	if want := []string{"CalendarSync", "FromSQL", "Report", "SendEmail"}; err != nil || !slices.Equal(types, want) {
		t.Errorf("Types = %q, %v; want %q", types, err, want)
	}
	types, err = s.(store.Monitoring).Types(ctx(), "user_1")
	if want := []string{"Report", "SendEmail"}; err != nil || !slices.Equal(types, want) {
		t.Errorf("Types of user_1 = %q, %v; want %q", types, err, want)
	}
}
