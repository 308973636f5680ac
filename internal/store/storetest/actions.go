package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

func exerciseActions(t *testing.T, newHarness NewFunc) {
	t.Run("RetryByID", func(t *testing.T) { t.Parallel(); testRetryByID(t, newHarness(t)) })
	t.Run("RetryByFilter", func(t *testing.T) { t.Parallel(); testRetryByFilter(t, newHarness(t)) })
	t.Run("FilterStopsAtItsStart", func(t *testing.T) { t.Parallel(); testFilterStopsAtItsStart(t, newHarness(t)) })
	t.Run("CancelStartDelete", func(t *testing.T) { t.Parallel(); testCancelStartDelete(t, newHarness(t)) })
	t.Run("CancelOrphaned", func(t *testing.T) { t.Parallel(); testCancelOrphaned(t, newHarness(t)) })
	t.Run("PurgeArchiveRestore", func(t *testing.T) { t.Parallel(); testPurgeArchiveRestore(t, newHarness(t)) })
	t.Run("FailedBatchLeavesNothing", func(t *testing.T) { t.Parallel(); testFailedBatch(t, newHarness(t)) })
	t.Run("ArchiveWholeJobs", func(t *testing.T) { t.Parallel(); testArchiveWholeJobs(t, newHarness(t)) })
	t.Run("DefaultBatchSize", func(t *testing.T) { t.Parallel(); testDefaultBatchSize(t, newHarness(t)) })
}

// testDefaultBatchSize: an action given no batch size takes 1,000 jobs a
// transaction, but an archive on SQLite, which pauses after every batch,
// takes 5,000.
func testDefaultBatchSize(t *testing.T, h *Harness) {
	s := h.Store
	now := time.Now().UTC().Truncate(time.Millisecond)
	old := now.Add(-40 * 24 * time.Hour)
	var jobs []*store.Job
	for i := range 3000 {
		st := store.StatusCompleted
		if i%2 == 1 {
			st = store.StatusFailed
		}
		jobs = append(jobs, &store.Job{ID: store.NewID(now), Type: "Batch", Status: st, Priority: store.PriorityNormal,
			Data: json.RawMessage(`{}`), Attempts: 1, MaxAttempts: 5, ScheduledFor: old, CreatedAt: old, UpdatedAt: old,
			StartedAt: &old, CompletedAt: &old})
	}
	if err := s.Import(ctx(), jobs); err != nil {
		t.Fatal(err)
	}
	sizes := func(p *store.ActionParams) []int {
		var mu sync.Mutex
		var got []int
		p.Progress = func(b []store.Changed) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, len(b))
		}
		act(t, s, p)
		slices.Sort(got)
		return got
	}
	retry := sizes(&store.ActionParams{Action: store.ActRetry, Filter: store.Filter{Types: []string{"Batch"}},
		Statuses: []store.Status{store.StatusFailed}})
	if !slices.Equal(retry, []int{500, 1000}) {
		t.Errorf("retry of 1,500 jobs in batches of %v; want 1,000 and 500", retry)
	}
	archive := sizes(&store.ActionParams{Action: store.ActArchive,
		Filter: store.Filter{Types: []string{"Batch"}, FinishedBefore: now.Add(-30 * 24 * time.Hour), Statuses: store.Allowed[store.ActArchive]}})
	want := []int{500, 1000}
	if s.Backend() == "sqlite" {
		want = []int{1500}
	}
	if !slices.Equal(archive, want) {
		t.Errorf("%s: archive of 1,500 jobs in batches of %v; want %v", s.Backend(), archive, want)
	}
}

// jobIn makes a job in the given state through Import.
func jobIn(t *testing.T, h *Harness, typ string, st store.Status, attempts int, finished time.Time) *store.Job {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	j := &store.Job{ID: store.NewID(now), Type: typ, Status: st, Priority: store.PriorityNormal, Data: json.RawMessage(`{}`),
		Attempts: attempts, MaxAttempts: 5, ScheduledFor: now, CreatedAt: now, UpdatedAt: now}
	if st.Final() {
		j.CompletedAt = &finished
		j.StartedAt = &finished
	}
	if st == store.StatusRunning {
		j.WorkerID, j.StartedAt = "w1", &now
	}
	if err := h.Store.Import(ctx(), []*store.Job{j}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond) // distinct, ordered IDs
	return j
}

func act(t *testing.T, s store.Store, p *store.ActionParams) *store.ActionResult {
	t.Helper()
	if p.Actor == "" {
		p.Actor = "oncall"
	}
	res, err := s.Act(ctx(), p)
	if err != nil {
		t.Fatalf("%s: %v", p.Action, err)
	}
	return res
}

func status(t *testing.T, s store.Store, id string) store.Status {
	t.Helper()
	j, err := s.Get(ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j.Status
}

func auditFor(t *testing.T, s store.Store, id string) []*store.AuditEntry {
	t.Helper()
	es, err := s.Audit(ctx(), &store.AuditFilter{ResourceID: id})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func testRetryByID(t *testing.T, h *Harness) {
	s := h.Store
	now := time.Now().UTC()
	failed := jobIn(t, h, "CalendarSync", store.StatusFailed, 1, now)
	dead := jobIn(t, h, "CalendarSync", store.StatusDead, 5, now)
	cancelled := jobIn(t, h, "CalendarSync", store.StatusCancelled, 0, now)
	done := jobIn(t, h, "CalendarSync", store.StatusCompleted, 1, now)

	dry := act(t, s, &store.ActionParams{Action: store.ActRetry, IDs: []string{failed.ID}, DryRun: true})
	if dry.Changed != 1 || status(t, s, failed.ID) != store.StatusFailed || len(auditFor(t, s, failed.ID)) != 0 {
		t.Errorf("dry run changed something: %+v", dry)
	}

	var seen []store.Changed
	res := act(t, s, &store.ActionParams{Action: store.ActRetry, IDs: []string{failed.ID, dead.ID, cancelled.ID, done.ID, "job_nope"},
		OperationID: "op1", Progress: func(b []store.Changed) { seen = append(seen, b...) }})
	if res.Changed != 3 || len(seen) != 3 {
		t.Errorf("changed %d (progress saw %d); want 3", res.Changed, len(seen))
	}
	if !slices.Equal(res.NotFound, []string{"job_nope"}) {
		t.Errorf("not found = %v", res.NotFound)
	}
	want := done.ID + " is COMPLETED: retry needs FAILED, DEAD or CANCELLED"
	if len(res.Skipped) != 1 || res.Skipped[0].Reason != want {
		t.Errorf("skipped = %+v; want %q", res.Skipped, want)
	}
	for _, c := range seen {
		if c.Status != store.StatusPending || c.ScheduledFor.IsZero() {
			t.Errorf("changed: %+v", c)
		}
	}
	d, _ := s.Get(ctx(), dead.ID)
	if d.Status != store.StatusPending || d.Attempts != 5 || d.MaxAttempts != 6 || d.CompletedAt != nil {
		t.Errorf("retried DEAD job: %s %d/%d; want PENDING 5/6 (one more attempt)", d.Status, d.Attempts, d.MaxAttempts)
	}
	f, _ := s.Get(ctx(), failed.ID)
	if f.Attempts != 1 || f.MaxAttempts != 5 {
		t.Errorf("retried FAILED job with attempts left: %d/%d; want 1/5", f.Attempts, f.MaxAttempts)
	}
	es := auditFor(t, s, dead.ID)
	if len(es) != 1 || es[0].Action != store.ActionRetry || es[0].UserID != "oncall" || es[0].Resource != "Job" {
		t.Fatalf("audit rows for the retried job: %+v", es)
	}
	var meta map[string]any
	_ = json.Unmarshal(es[0].Metadata, &meta)
	if meta["jobType"] != "CalendarSync" || meta["previousStatus"] != "DEAD" || meta["newStatus"] != "PENDING" || meta["operationId"] != "op1" {
		t.Errorf("audit metadata: %s", es[0].Metadata)
	}
	if len(auditFor(t, s, done.ID)) != 0 {
		t.Error("a refused job got an audit row")
	}

	// Reset and delay, with a unique key and without: on Postgres the
	// keyed jobs are put back by JobsRetry, the rest by JobsRetryAudited.
	again := jobIn(t, h, "X", store.StatusDead, 5, now)
	againKeyed := jobIn(t, h, "X", store.StatusDead, 5, now)
	h.Exec(t, `UPDATE "Job" SET "uniqueKey" = 'reset:1' WHERE id = $1`, againKeyed.ID)
	act(t, s, &store.ActionParams{Action: store.ActRetry, IDs: []string{again.ID, againKeyed.ID}, ResetAttempts: true, Delay: time.Hour})
	for _, id := range []string{again.ID, againKeyed.ID} {
		a, _ := s.Get(ctx(), id)
		if a.Status != store.StatusPending || a.Attempts != 0 || a.MaxAttempts != 5 || a.ScheduledFor.Before(time.Now().Add(59*time.Minute)) {
			t.Errorf("retry --reset-attempts --delay 1h (key %q): %s %d/%d, scheduledFor %v; want PENDING 0/5 in an hour",
				a.UniqueKey, a.Status, a.Attempts, a.MaxAttempts, a.ScheduledFor)
		}
	}
	deadKeyed := jobIn(t, h, "X", store.StatusDead, 5, now)
	h.Exec(t, `UPDATE "Job" SET "uniqueKey" = 'reset:2' WHERE id = $1`, deadKeyed.ID)
	act(t, s, &store.ActionParams{Action: store.ActRetry, IDs: []string{deadKeyed.ID}})
	if k, _ := s.Get(ctx(), deadKeyed.ID); k.Status != store.StatusPending || k.Attempts != 5 || k.MaxAttempts != 6 {
		t.Errorf("retried DEAD job with a unique key: %s %d/%d; want PENDING 5/6 (one more attempt)", k.Status, k.Attempts, k.MaxAttempts)
	}

	// A batch's jobs fall due together, with a unique key or without: on
	// Postgres the keyed ones are put back by a statement of their own.
	plain := jobIn(t, h, "X", store.StatusFailed, 1, now)
	keyed := jobIn(t, h, "X", store.StatusFailed, 1, now)
	h.Exec(t, `UPDATE "Job" SET "uniqueKey" = 'due:1' WHERE id = $1`, keyed.ID)
	if res := act(t, s, &store.ActionParams{Action: store.ActRetry, IDs: []string{plain.ID, keyed.ID}, Delay: time.Hour}); res.Changed != 2 {
		t.Errorf("retry --delay 1h of a keyed and a plain job changed %d; want 2", res.Changed)
	}
	p, _ := s.Get(ctx(), plain.ID)
	k, _ := s.Get(ctx(), keyed.ID)
	if !p.ScheduledFor.Equal(k.ScheduledFor) {
		t.Errorf("retry --delay 1h: one batch due at %v (no key) and %v (a key); want one time", p.ScheduledFor, k.ScheduledFor)
	}

	// A job whose unique key a live job holds stays put, with the reason.
	old := jobIn(t, h, "Email", store.StatusDead, 5, now)
	h.Exec(t, `UPDATE "Job" SET "uniqueKey" = 'welcome:1' WHERE id = $1`, old.ID)
	holder := enqueue(t, s, &store.EnqueueParams{Type: "Email", UniqueKey: "welcome:1"})
	res = act(t, s, &store.ActionParams{Action: store.ActRetry, IDs: []string{old.ID}})
	if res.Changed != 0 || len(res.Skipped) != 1 || status(t, s, old.ID) != store.StatusDead {
		t.Errorf("retry of a job whose key %s holds: %+v", holder.ID, res)
	}

	// Finished jobs that share a unique key (each enqueued after the one
	// before had ended): one retry puts the first back and skips the rest,
	// which it names, rather than failing on the unique index. Batches of
	// 1 and of 3 meet the clash across batches and within one.
	for _, batch := range []int{1, 3} {
		key := fmt.Sprintf("report:%d", batch)
		var same []string
		for range 3 {
			j := jobIn(t, h, "Report", store.StatusFailed, 1, now)
			h.Exec(t, `UPDATE "Job" SET "uniqueKey" = $1 WHERE id = $2`, key, j.ID)
			same = append(same, j.ID)
		}
		slices.Sort(same)
		dry, err := s.Act(ctx(), &store.ActionParams{Action: store.ActRetry, IDs: same, BatchSize: batch, DryRun: true})
		if err != nil || dry.Changed != 1 || len(dry.Skipped) != 2 {
			t.Errorf("batch %d: dry run of a retry of 3 jobs sharing a key: %+v, %v; want 1 retried, 2 refused", batch, dry, err)
		}
		res, err := s.Act(ctx(), &store.ActionParams{Action: store.ActRetry, IDs: same, BatchSize: batch})
		if err != nil {
			t.Fatalf("batch %d: retry of 3 jobs sharing a key: %v", batch, err)
		}
		if res.Changed != 1 || status(t, s, same[0]) != store.StatusPending ||
			status(t, s, same[1]) != store.StatusFailed || status(t, s, same[2]) != store.StatusFailed {
			t.Errorf("batch %d: retry of 3 jobs sharing a key changed %d; want the first only", batch, res.Changed)
		}
		if len(res.Skipped) != 2 || !strings.Contains(res.Skipped[0].Reason, "held by "+same[0]) {
			t.Errorf("batch %d: skipped %+v; want the other 2, held by %s", batch, res.Skipped, same[0])
		}
		if n := len(auditFor(t, s, same[1])); n != 0 {
			t.Errorf("batch %d: a skipped job got %d audit rows", batch, n)
		}
	}
}

func testRetryByFilter(t *testing.T, h *Harness) {
	s := h.Store
	now := time.Now().UTC()
	var cal []string
	for i := 0; i < 7; i++ {
		cal = append(cal, jobIn(t, h, "CalendarSync", store.StatusFailed, 1, now).ID)
	}
	otherType := jobIn(t, h, "EmailSending", store.StatusFailed, 1, now)
	dead := jobIn(t, h, "CalendarSync", store.StatusDead, 5, now)
	res := act(t, s, &store.ActionParams{Action: store.ActRetry, BatchSize: 3, OperationID: "op2",
		Filter: store.Filter{Types: []string{"CalendarSync"}, Statuses: []store.Status{store.StatusFailed}}, Statuses: []store.Status{store.StatusFailed}})
	if res.Changed != 7 {
		t.Errorf("retried %d; want the 7 FAILED CalendarSync jobs", res.Changed)
	}
	for _, id := range cal {
		if status(t, s, id) != store.StatusPending {
			t.Errorf("%s not retried", id)
		}
	}
	if status(t, s, otherType.ID) != store.StatusFailed || status(t, s, dead.ID) != store.StatusDead {
		t.Error("retry by filter touched jobs outside the filter")
	}
	es := auditFor(t, s, cal[0])
	var meta map[string]any
	if len(es) == 1 {
		_ = json.Unmarshal(es[0].Metadata, &meta)
	}
	if f, ok := meta["filter"].(map[string]any); !ok || f["types"] == nil || meta["operationId"] != "op2" {
		t.Errorf("bulk audit row lacks the filter or operation: %v", meta)
	}
	if n, _ := s.Audit(ctx(), &store.AuditFilter{Actions: []string{store.ActionRetry}, Limit: 100}); len(n) != 7 {
		t.Errorf("%d audit rows; want 7", len(n))
	}
}

// testFilterStopsAtItsStart: a bulk action by filter acts on the jobs
// there were when it began. Jobs that come to match while it runs (here one
// enqueued after each batch, as a busy queue would) are left alone, so the
// walk ends and the count the operator saw holds.
func testFilterStopsAtItsStart(t *testing.T, h *Harness) {
	s := h.Store
	var before []string
	for range 4 {
		before = append(before, enqueue(t, s, &store.EnqueueParams{Type: "Stream"}).ID)
		time.Sleep(time.Millisecond) // distinct, ordered IDs
	}
	var after []string
	p := &store.ActionParams{Action: store.ActCancel, BatchSize: 1, Filter: store.Filter{Types: []string{"Stream"}},
		Statuses: []store.Status{store.StatusPending}}
	p.Progress = func([]store.Changed) {
		if len(after) == 10 { // a walk that chases them ends here, failing below
			return
		}
		time.Sleep(time.Millisecond)
		after = append(after, enqueue(t, s, &store.EnqueueParams{Type: "Stream"}).ID)
	}
	res := act(t, s, p)
	if res.Changed != 4 {
		t.Errorf("cancelled %d; want the 4 jobs there were when the action began", res.Changed)
	}
	for _, id := range before {
		if st := status(t, s, id); st != store.StatusCancelled {
			t.Errorf("%s is %s; want CANCELLED", id, st)
		}
	}
	for _, id := range after {
		if st := status(t, s, id); st != store.StatusPending {
			t.Errorf("%s, enqueued during the action, is %s; want PENDING", id, st)
		}
	}
}

func testCancelStartDelete(t *testing.T, h *Harness) {
	s := h.Store
	now := time.Now().UTC()
	pending := enqueue(t, s, &store.EnqueueParams{Type: "A"})
	delayed := enqueue(t, s, &store.EnqueueParams{Type: "A", ScheduledFor: now.Add(time.Hour)})
	running := jobIn(t, h, "A", store.StatusRunning, 1, now)
	retrying := jobIn(t, h, "A", store.StatusRetrying, 1, now)
	done := jobIn(t, h, "A", store.StatusCompleted, 1, now)
	// The running job's worker is alive: it is asked to stop.
	if err := s.RegisterWorker(ctx(), &store.WorkerInfo{ID: "w1", Host: "h", PID: 1, Concurrency: 1}); err != nil {
		t.Fatal(err)
	}

	res := act(t, s, &store.ActionParams{Action: store.ActCancel, IDs: []string{pending.ID, running.ID, retrying.ID, done.ID}})
	if res.Changed != 2 || res.Requested != 1 || len(res.Skipped) != 1 {
		t.Errorf("cancel: %+v; want 2 cancelled, 1 requested, 1 refused", res)
	}
	r, _ := s.Get(ctx(), running.ID)
	if r.Status != store.StatusRunning || !r.CancelRequested {
		t.Errorf("running job after cancel: %s, requested %v", r.Status, r.CancelRequested)
	}
	if p, _ := s.Get(ctx(), pending.ID); p.Status != store.StatusCancelled || p.CompletedAt == nil {
		t.Errorf("pending job after cancel: %+v", p)
	}
	var meta map[string]any
	_ = json.Unmarshal(auditFor(t, s, running.ID)[0].Metadata, &meta)
	if meta["newStatus"] != "RUNNING (cancel requested)" {
		t.Errorf("cancel-requested audit: %v", meta)
	}

	res = act(t, s, &store.ActionParams{Action: store.ActStart, IDs: []string{delayed.ID, running.ID}})
	d, _ := s.Get(ctx(), delayed.ID)
	if res.Changed != 1 || d.ScheduledFor.After(time.Now().Add(time.Second)) {
		t.Errorf("start: %+v, scheduledFor %v", res, d.ScheduledFor)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Reason != running.ID+" is RUNNING: start needs PENDING" {
		t.Errorf("start of a running job: %+v", res.Skipped)
	}

	res = act(t, s, &store.ActionParams{Action: store.ActDelete, IDs: []string{done.ID, running.ID}})
	if res.Changed != 1 || len(res.Skipped) != 1 {
		t.Errorf("delete: %+v", res)
	}
	if _, err := s.Get(ctx(), done.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted job still there: %v", err)
	}
	if es := auditFor(t, s, done.ID); len(es) != 1 || es[0].Action != store.ActionDelete {
		t.Errorf("delete audit: %+v", es)
	}
}

func testPurgeArchiveRestore(t *testing.T, h *Harness) {
	s := h.Store
	old := time.Now().Add(-40 * 24 * time.Hour).UTC().Truncate(time.Millisecond)
	recent := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	var oldDone []string
	for i := 0; i < 5; i++ {
		oldDone = append(oldDone, jobIn(t, h, "Report", store.StatusCompleted, 1, old).ID)
	}
	oldDead := jobIn(t, h, "Report", store.StatusDead, 5, old)
	oldFailed := jobIn(t, h, "Report", store.StatusFailed, 1, old)
	recentDone := jobIn(t, h, "Report", store.StatusCompleted, 1, recent)
	pending := enqueue(t, s, &store.EnqueueParams{Type: "Report"})
	cutoff := time.Now().Add(-30 * 24 * time.Hour)

	var sunk []string
	res := act(t, s, &store.ActionParams{Action: store.ActArchive, BatchSize: 2, Filter: store.Filter{FinishedBefore: cutoff},
		Sink: func(jobs []*store.Job) error {
			for _, j := range jobs {
				sunk = append(sunk, j.ID)
			}
			return nil
		}})
	if res.Changed != 6 || len(sunk) != 6 {
		t.Fatalf("archive moved %d, sink saw %d; want 6 (5 COMPLETED + 1 DEAD)", res.Changed, len(sunk))
	}
	if n, _ := s.Count(ctx(), &store.Filter{}, true); n != 6 {
		t.Errorf("JobArchive holds %d; want 6", n)
	}
	for _, id := range []string{oldFailed.ID, recentDone.ID, pending.ID} {
		if j, err := s.Get(ctx(), id); err != nil || j.ArchivedAt != nil {
			t.Errorf("%s should stay live: %v", id, err)
		}
	}
	a, err := s.Get(ctx(), oldDead.ID)
	if err != nil || a.ArchivedAt == nil || a.Status != store.StatusDead {
		t.Errorf("archived job: %+v (%v)", a, err)
	}
	if again := act(t, s, &store.ActionParams{Action: store.ActArchive, Filter: store.Filter{FinishedBefore: cutoff}}); again.Changed != 0 {
		t.Errorf("second archive moved %d; want 0", again.Changed)
	}

	res = act(t, s, &store.ActionParams{Action: store.ActRestore, IDs: []string{oldDone[0], "job_nope"}})
	if res.Changed != 1 || len(res.NotFound) != 1 {
		t.Errorf("restore: %+v", res)
	}
	if j, err := s.Get(ctx(), oldDone[0]); err != nil || j.ArchivedAt != nil || j.Status != store.StatusCompleted {
		t.Errorf("restored job: %+v (%v)", j, err)
	}
	if es := auditFor(t, s, oldDone[0]); len(es) != 2 || es[0].Action != store.ActionRestore || es[1].Action != store.ActionArchive {
		t.Errorf("archive+restore audit: %+v", es)
	} else {
		// A restore comes from the archive: ARCHIVED → the job's status.
		var meta map[string]any
		_ = json.Unmarshal(es[0].Metadata, &meta)
		if meta["previousStatus"] != "ARCHIVED" || meta["newStatus"] != "COMPLETED" {
			t.Errorf("restore audit metadata = %s; want previousStatus ARCHIVED, newStatus COMPLETED", es[0].Metadata)
		}
	}

	// Purge: terminal jobs only by default; an explicit status may reach PENDING.
	res = act(t, s, &store.ActionParams{Action: store.ActPurge, Filter: store.Filter{FinishedBefore: cutoff}})
	if res.Changed != 2 { // the restored COMPLETED one and the old FAILED one
		t.Errorf("purge --older 30d removed %d; want 2", res.Changed)
	}
	if status(t, s, pending.ID) != store.StatusPending || status(t, s, recentDone.ID) != store.StatusCompleted {
		t.Error("purge touched jobs outside its filter")
	}
	res = act(t, s, &store.ActionParams{Action: store.ActPurge, Filter: store.Filter{Statuses: []store.Status{store.StatusPending}}, Statuses: []store.Status{store.StatusPending}})
	if res.Changed != 1 {
		t.Errorf("purge --status pending removed %d; want 1", res.Changed)
	}
}

// testArchiveWholeJobs: an archive to no file (cron's) moves every column
// of each job, writes one audit row per job saying where it went, and
// reports each job it moved once, with its status; in batches, and on
// Postgres each batch in one statement (ArchiveBatchMoved).
func testArchiveWholeJobs(t *testing.T, h *Harness) {
	s := h.Store
	now := time.Now().UTC().Truncate(time.Millisecond)
	old := now.Add(-40 * 24 * time.Hour)
	var want []*store.Job
	for i, st := range []store.Status{store.StatusCompleted, store.StatusDead, store.StatusCancelled, store.StatusCompleted, store.StatusDead} {
		j := &store.Job{ID: store.NewID(now.Add(time.Duration(i) * time.Millisecond)), Type: "Report", Status: st, Priority: store.PriorityHigh,
			Data: json.RawMessage(fmt.Sprintf(`{"n": %d}`, i)), Attempts: 2, MaxAttempts: 5, ScheduledFor: old, CreatedAt: old, UpdatedAt: old,
			StartedAt: &old, CompletedAt: &old, UserID: "user_7", UniqueKey: fmt.Sprintf("report:%d", i)}
		switch st {
		case store.StatusCompleted:
			j.Output = json.RawMessage(`{"rows": 3}`)
		case store.StatusDead:
			j.ErrorMessage, j.ErrorCode = "Token refresh failed", "AUTH_ERROR"
			j.History = []store.Attempt{{Attempt: 1, At: old, Code: "NETWORK_ERROR", Message: "Network timeout"}}
		}
		want = append(want, j)
	}
	keep := jobIn(t, h, "Report", store.StatusFailed, 1, old)
	recent := jobIn(t, h, "Report", store.StatusCompleted, 1, now)
	if err := s.Import(ctx(), want); err != nil {
		t.Fatal(err)
	}
	var moved []store.Changed
	res := act(t, s, &store.ActionParams{Action: store.ActArchive, BatchSize: 2, Actor: "cron", OperationID: "op_whole",
		Filter:   store.Filter{FinishedBefore: now.Add(-30 * 24 * time.Hour)},
		Progress: func(c []store.Changed) { moved = append(moved, c...) }})
	if res.Changed != int64(len(want)) || len(moved) != len(want) {
		t.Fatalf("archive changed %d and reported %d; want %d", res.Changed, len(moved), len(want))
	}
	slices.SortFunc(moved, func(a, b store.Changed) int { return strings.Compare(a.ID, b.ID) })
	for i, j := range want {
		if c := moved[i]; c.ID != j.ID || c.Type != j.Type || c.PreviousStatus != j.Status {
			t.Errorf("reported %+v; want %s (%s, %s)", c, j.ID, j.Type, j.Status)
		}
		got, err := s.Get(ctx(), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ArchivedAt == nil || got.Status != j.Status || got.Priority != j.Priority || string(got.Data) != string(j.Data) ||
			string(got.Output) != string(j.Output) || got.ErrorMessage != j.ErrorMessage || got.ErrorCode != j.ErrorCode ||
			got.Attempts != j.Attempts || got.UserID != j.UserID || got.UniqueKey != j.UniqueKey || len(got.History) != len(j.History) ||
			got.CompletedAt == nil || !got.CompletedAt.Equal(old) {
			t.Errorf("archived job %s = %+v; want it whole, as %+v", j.ID, got, j)
		}
		es := auditFor(t, s, j.ID)
		if len(es) != 1 {
			t.Errorf("%s has %d audit rows; want 1", j.ID, len(es))
			continue
		}
		var meta map[string]any
		_ = json.Unmarshal(es[0].Metadata, &meta)
		if e := es[0]; e.Action != store.ActionArchive || e.UserID != "cron" || e.Resource != "Job" ||
			meta["previousStatus"] != string(j.Status) || meta["newStatus"] != "ARCHIVED" || meta["jobType"] != "Report" || meta["operationId"] != "op_whole" {
			t.Errorf("%s audit row %+v (%s)", j.ID, e, e.Metadata)
		}
	}
	if n, _ := s.Count(ctx(), &store.Filter{}, true); n != int64(len(want)) {
		t.Errorf("JobArchive holds %d; want %d", n, len(want))
	}
	for _, id := range []string{keep.ID, recent.ID} {
		if j, err := s.Get(ctx(), id); err != nil || j.ArchivedAt != nil {
			t.Errorf("%s should stay live: %+v, %v", id, j, err)
		}
	}
}

func testFailedBatch(t *testing.T, h *Harness) {
	s := h.Store
	old := time.Now().Add(-40 * 24 * time.Hour).UTC()
	for i := 0; i < 5; i++ {
		jobIn(t, h, "Report", store.StatusCompleted, 1, old)
	}
	boom := errors.New("disk full")
	batches := 0
	_, err := s.Act(ctx(), &store.ActionParams{Action: store.ActArchive, Actor: "cron", BatchSize: 2,
		Filter: store.Filter{FinishedBefore: time.Now()},
		Sink: func([]*store.Job) error {
			if batches++; batches == 2 {
				return boom
			}
			return nil
		}})
	if !errors.Is(err, boom) {
		t.Fatalf("archive with a failing second batch: %v", err)
	}
	live, _ := s.Count(ctx(), &store.Filter{}, false)
	arch, _ := s.Count(ctx(), &store.Filter{}, true)
	audit, _ := s.Audit(ctx(), &store.AuditFilter{Actions: []string{store.ActionArchive}})
	if live != 3 || arch != 2 || len(audit) != 2 {
		t.Errorf("after a failed second batch: %d live, %d archived, %d audit rows; want 3, 2, 2 (first batch only)", live, arch, len(audit))
	}
	// The next run carries on where it stopped.
	res := act(t, s, &store.ActionParams{Action: store.ActArchive, Filter: store.Filter{FinishedBefore: time.Now()}})
	arch, _ = s.Count(ctx(), &store.Filter{}, true)
	if res.Changed != 3 || arch != 5 {
		t.Errorf("rerun archived %d (total %d); want 3 (total 5)", res.Changed, arch)
	}
}

// testCancelOrphaned: a RUNNING job whose worker is gone (no "Worker" row,
// or one silent past the lease) is cancelled at once, with its audit row;
// one whose worker is alive is only asked to stop. A dry run predicts the
// same.
func testCancelOrphaned(t *testing.T, h *Harness) {
	s := h.Store
	now := time.Now().UTC()
	setWorker := func(id string, j *store.Job) {
		h.Exec(t, `UPDATE "Job" SET "workerId" = $1 WHERE id = $2`, id, j.ID)
	}
	noRow := jobIn(t, h, "A", store.StatusRunning, 1, now) // held by w1, which never registered
	stale := jobIn(t, h, "A", store.StatusRunning, 1, now)
	live := jobIn(t, h, "A", store.StatusRunning, 1, now)
	for _, w := range []string{"stale", "live"} {
		if err := s.RegisterWorker(ctx(), &store.WorkerInfo{ID: w, Host: "h", PID: 1, Concurrency: 1}); err != nil {
			t.Fatal(err)
		}
	}
	h.Exec(t, `UPDATE "Worker" SET "lastPing" = $1 WHERE id = 'stale'`, now.Add(-2*store.DefaultLease))
	setWorker("stale", stale)
	setWorker("live", live)
	all := []string{noRow.ID, stale.ID, live.ID}

	// A lease longer than the stale worker's silence keeps it alive.
	dry := act(t, s, &store.ActionParams{Action: store.ActCancel, IDs: all, DryRun: true, Lease: 3 * store.DefaultLease})
	if dry.Changed != 1 || dry.Requested != 2 {
		t.Errorf("dry run with a 3-minute lease: %+v; want 1 cancelled (no worker row), 2 requested", dry)
	}
	var predicted []store.Changed
	dry = act(t, s, &store.ActionParams{Action: store.ActCancel, IDs: all, DryRun: true, Progress: func(b []store.Changed) { predicted = append(predicted, b...) }})
	if dry.Changed != 2 || dry.Requested != 1 {
		t.Errorf("dry run: %+v; want 2 cancelled, 1 requested", dry)
	}
	for _, c := range predicted {
		if want := c.ID == live.ID; c.CancelRequested != want || (c.Status == store.StatusCancelled) == want {
			t.Errorf("dry run predicts %s: %s, cancel requested %v", c.ID, c.Status, c.CancelRequested)
		}
	}
	for _, id := range all {
		if st := status(t, s, id); st != store.StatusRunning {
			t.Errorf("dry run changed %s to %s", id, st)
		}
	}

	res := act(t, s, &store.ActionParams{Action: store.ActCancel, IDs: all})
	if res.Changed != 2 || res.Requested != 1 || len(res.Skipped) != 0 {
		t.Errorf("cancel: %+v; want 2 cancelled at once, 1 requested", res)
	}
	for _, j := range []*store.Job{noRow, stale} {
		got, err := s.Get(ctx(), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.StatusCancelled || got.CompletedAt == nil || got.CancelRequested {
			t.Errorf("job of a gone worker after cancel: %s, completedAt %v, cancel requested %v; want CANCELLED at once", got.Status, got.CompletedAt, got.CancelRequested)
		}
		var meta map[string]any
		es := auditFor(t, s, j.ID)
		if len(es) != 1 || es[0].Action != store.ActionCancel {
			t.Fatalf("audit of %s: %+v", j.ID, es)
		}
		_ = json.Unmarshal(es[0].Metadata, &meta)
		if meta["previousStatus"] != "RUNNING" || meta["newStatus"] != "CANCELLED" {
			t.Errorf("audit of %s: %v; want RUNNING → CANCELLED", j.ID, meta)
		}
	}
	if got, _ := s.Get(ctx(), live.ID); got.Status != store.StatusRunning || !got.CancelRequested {
		t.Errorf("job of a live worker after cancel: %s, cancel requested %v; want RUNNING, requested", got.Status, got.CancelRequested)
	}
	var meta map[string]any
	_ = json.Unmarshal(auditFor(t, s, live.ID)[0].Metadata, &meta)
	if meta["newStatus"] != "RUNNING (cancel requested)" {
		t.Errorf("audit of the live worker's job: %v", meta)
	}
	// The live worker's next heartbeat carries the request out.
	if ids, err := s.Heartbeat(ctx(), "live", 0); err != nil || len(ids) != 1 || ids[0] != live.ID {
		t.Errorf("heartbeat of the live worker: %v, %v; want [%s]", ids, err, live.ID)
	}
	// The gone worker, pinging again, finds nothing to stop and cannot end
	// the cancelled job.
	if ids, err := s.Heartbeat(ctx(), "stale", 0); err != nil || len(ids) != 0 {
		t.Errorf("heartbeat of the stale worker: %v, %v; want none", ids, err)
	}
	if n, err := s.Complete(ctx(), "stale", []store.Completion{{ID: stale.ID}}); err != nil || n != 0 {
		t.Errorf("completing a cancelled job: %d, %v; want 0", n, err)
	}
}

// testActionVia checks that an action's channel lands in each audit row's
// metadata as "via", beside the actor as "userId", and that an action
// without one writes no "via" at all.
func testActionVia(t *testing.T, h *Harness) {
	s := h.Store
	a := jobIn(t, h, "A", store.StatusFailed, 1, time.Now().UTC())
	b := jobIn(t, h, "A", store.StatusFailed, 1, time.Now().UTC())
	act(t, s, &store.ActionParams{Action: store.ActRetry, IDs: []string{a.ID}, Actor: "alice", Via: "web"})
	act(t, s, &store.ActionParams{Action: store.ActRetry, IDs: []string{b.ID}, Actor: "bob"})
	for _, c := range []struct{ id, actor, via string }{{a.ID, "alice", "web"}, {b.ID, "bob", ""}} {
		es, err := s.Audit(ctx(), &store.AuditFilter{ResourceID: c.id})
		if err != nil || len(es) != 1 {
			t.Fatalf("audit of %s: %d rows (%v)", c.id, len(es), err)
		}
		var meta map[string]any
		if err := json.Unmarshal(es[0].Metadata, &meta); err != nil {
			t.Fatal(err)
		}
		got, has := meta["via"]
		if es[0].UserID != c.actor || (c.via == "") == has || (c.via != "" && got != c.via) {
			t.Errorf("audit of %s: userId %q, metadata %s; want userId %q, via %q", c.id, es[0].UserID, es[0].Metadata, c.actor, c.via)
		}
	}
}
