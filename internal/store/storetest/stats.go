package storetest

import (
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
