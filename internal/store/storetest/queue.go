package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

func exerciseQueue(t *testing.T, newHarness NewFunc) {
	t.Run("ClaimOrder", func(t *testing.T) { t.Parallel(); testClaimOrder(t, newHarness(t)) })
	t.Run("ClaimConcurrent", func(t *testing.T) { t.Parallel(); testClaimConcurrent(t, newHarness(t)) })
	t.Run("CompleteReleasesDependents", func(t *testing.T) { t.Parallel(); testCompleteDependents(t, newHarness(t)) })
	t.Run("FailAndRelease", func(t *testing.T) { t.Parallel(); testFailAndRelease(t, newHarness(t)) })
	t.Run("WorkersAndRescue", func(t *testing.T) { t.Parallel(); testWorkersAndRescue(t, newHarness(t)) })
}

func register(t *testing.T, s store.Store, id string) {
	t.Helper()
	if err := s.RegisterWorker(ctx(), &store.WorkerInfo{ID: id, Host: "test", PID: 1, Types: []string{"A", "B"}, Concurrency: 4}); err != nil {
		t.Fatal(err)
	}
}

func claim(t *testing.T, s store.Store, worker string, limit int, types ...string) []*store.Job {
	t.Helper()
	jobs, err := s.Claim(ctx(), &store.ClaimParams{WorkerID: worker, Types: types, Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

func testClaimOrder(t *testing.T, h *Harness) {
	s := h.Store
	register(t, s, "w1")
	low := enqueue(t, s, &store.EnqueueParams{Type: "A", Priority: store.PriorityLow})
	normal := enqueue(t, s, &store.EnqueueParams{Type: "A"})
	crit := enqueue(t, s, &store.EnqueueParams{Type: "A", Priority: store.PriorityCritical})
	high := enqueue(t, s, &store.EnqueueParams{Type: "B", Priority: store.PriorityHigh})
	enqueue(t, s, &store.EnqueueParams{Type: "A", Priority: store.PriorityCritical, ScheduledFor: time.Now().Add(time.Hour)}) // delayed
	enqueue(t, s, &store.EnqueueParams{Type: "Other", Priority: store.PriorityCritical})                                      // no handler
	blocked := enqueue(t, s, &store.EnqueueParams{Type: "A", Priority: store.PriorityCritical, DependsOn: []string{low.ID}})

	got := claim(t, s, "w1", 3, "A", "B")
	if want := []string{crit.ID, high.ID, normal.ID}; !slices.Equal(ids(got), want) {
		t.Errorf("claim order = %v; want %v (critical, high, normal)", ids(got), want)
	}
	for _, j := range got {
		if j.Status != store.StatusRunning || j.Attempts != 1 || j.WorkerID != "w1" || j.StartedAt == nil {
			t.Errorf("claimed job not running under w1: %+v", j)
		}
	}
	rest := claim(t, s, "w1", 10, "A", "B")
	if !slices.Equal(ids(rest), []string{low.ID}) {
		t.Errorf("second claim = %v; want only %s (delayed, unhandled and blocked jobs wait)", ids(rest), low.ID)
	}
	if got := claim(t, s, "w1", 10, "A", "B"); len(got) != 0 {
		t.Errorf("third claim = %v; want none", ids(got))
	}
	_ = blocked
}

func testClaimConcurrent(t *testing.T, h *Harness) {
	s := h.Store
	var ps []*store.EnqueueParams
	for i := 0; i < 600; i++ {
		ps = append(ps, &store.EnqueueParams{Type: "A"})
	}
	if _, err := s.EnqueueMany(ctx(), ps, nil); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen = map[string]string{}
		wg   sync.WaitGroup
	)
	for w := 0; w < 4; w++ {
		worker := fmt.Sprintf("w%d", w)
		register(t, s, worker)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				jobs, err := s.Claim(ctx(), &store.ClaimParams{WorkerID: worker, Types: []string{"A"}, Limit: 25})
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					if other, dup := seen[j.ID]; dup {
						t.Errorf("%s claimed by %s and %s", j.ID, other, worker)
					}
					seen[j.ID] = worker
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 600 {
		t.Errorf("claimed %d distinct jobs; want 600", len(seen))
	}
}

func testCompleteDependents(t *testing.T, h *Harness) {
	s := h.Store
	register(t, s, "w1")
	register(t, s, "w2")
	a := enqueue(t, s, &store.EnqueueParams{Type: "A"})
	b := enqueue(t, s, &store.EnqueueParams{Type: "A"})
	both := enqueue(t, s, &store.EnqueueParams{Type: "B", DependsOn: []string{a.ID, b.ID}})
	onlyA := enqueue(t, s, &store.EnqueueParams{Type: "B", DependsOn: []string{a.ID}})

	claimed := claim(t, s, "w1", 10, "A", "B")
	if len(claimed) != 2 {
		t.Fatalf("claimed %v; want the two dependencies only", ids(claimed))
	}
	// Another worker cannot finish w1's jobs.
	if n, err := s.Complete(ctx(), "w2", []store.Completion{{ID: a.ID}}); err != nil || n != 0 {
		t.Errorf("w2 completed w1's job: n=%d err=%v", n, err)
	}
	n, err := s.Complete(ctx(), "w1", []store.Completion{{ID: a.ID, Output: json.RawMessage(`{"rows":3}`)}, {ID: b.ID}})
	if err != nil || n != 2 {
		t.Fatalf("complete: n=%d err=%v", n, err)
	}
	got, _ := s.Get(ctx(), a.ID)
	if got.Status != store.StatusCompleted || got.CompletedAt == nil || string(got.Output) == "" {
		t.Errorf("completed job: %+v", got)
	}
	if n, _ := s.Complete(ctx(), "w1", []store.Completion{{ID: a.ID}}); n != 0 {
		t.Errorf("completing twice changed %d rows", n)
	}
	next := claim(t, s, "w1", 10, "A", "B")
	gotIDs := ids(next)
	slices.Sort(gotIDs)
	want := []string{both.ID, onlyA.ID}
	slices.Sort(want)
	if !slices.Equal(gotIDs, want) {
		t.Errorf("after both dependencies completed, claim = %v; want %v", gotIDs, want)
	}
}

func testFailAndRelease(t *testing.T, h *Harness) {
	s := h.Store
	register(t, s, "w1")
	j := enqueue(t, s, &store.EnqueueParams{Type: "A"})
	claim(t, s, "w1", 1, "A")
	retryAt := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	att := store.Attempt{Attempt: 1, At: time.Now().UTC().Truncate(time.Millisecond), Code: "NETWORK_ERROR", Message: "Network timeout", WorkerID: "w1"}
	if n, err := s.Fail(ctx(), "w1", []store.Failure{{ID: j.ID, Status: store.StatusRetrying, ScheduledFor: retryAt, Attempt: att, Stack: "stack 1"}}); err != nil || n != 1 {
		t.Fatalf("fail: n=%d err=%v", n, err)
	}
	got, _ := s.Get(ctx(), j.ID)
	if got.Status != store.StatusRetrying || !got.ScheduledFor.Equal(retryAt) || got.ErrorCode != "NETWORK_ERROR" || got.ErrorStack != "stack 1" || len(got.History) != 1 {
		t.Errorf("after retryable failure: %+v", got)
	}
	if got.CompletedAt != nil {
		t.Errorf("a RETRYING job has completedAt")
	}
	if len(claim(t, s, "w1", 1, "A")) != 0 {
		t.Error("claimed a RETRYING job before its scheduledFor")
	}
	h.Exec(t, `UPDATE "Job" SET "scheduledFor" = $1 WHERE id = $2`, time.Now().Add(-time.Second), j.ID)
	again := claim(t, s, "w1", 1, "A")
	if len(again) != 1 || again[0].Attempts != 2 {
		t.Fatalf("reclaim of a due RETRYING job: %+v", again)
	}
	att2 := store.Attempt{Attempt: 2, At: time.Now().UTC(), Code: "AUTH_ERROR", Message: "Invalid token"}
	if _, err := s.Fail(ctx(), "w1", []store.Failure{{ID: j.ID, Status: store.StatusFailed, Attempt: att2}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx(), j.ID)
	if got.Status != store.StatusFailed || got.CompletedAt == nil || got.ErrorCode != "AUTH_ERROR" || got.ErrorStack != "" {
		t.Errorf("after fatal failure: %+v", got)
	}
	if len(got.History) != 2 || got.History[0].Code != "NETWORK_ERROR" || got.History[1].Message != "Invalid token" {
		t.Errorf("history = %+v", got.History)
	}

	// Release takes back the attempt; a cancel request is seen by heartbeat.
	r := enqueue(t, s, &store.EnqueueParams{Type: "B"})
	c := enqueue(t, s, &store.EnqueueParams{Type: "B"})
	claim(t, s, "w1", 2, "B")
	h.Exec(t, `UPDATE "Job" SET "cancelRequested" = $1 WHERE id = $2`, true, c.ID)
	cancel, err := s.Heartbeat(ctx(), "w1", 7)
	if err != nil || !slices.Equal(cancel, []string{c.ID}) {
		t.Errorf("heartbeat cancels = %v (%v); want [%s]", cancel, err, c.ID)
	}
	if n, _ := s.MarkCancelled(ctx(), "w1", []string{c.ID}); n != 1 {
		t.Errorf("MarkCancelled changed %d rows", n)
	}
	if n, _ := s.Release(ctx(), "w1", []string{r.ID}); n != 1 {
		t.Errorf("Release changed %d rows", n)
	}
	got, _ = s.Get(ctx(), r.ID)
	if got.Status != store.StatusPending || got.Attempts != 0 || got.WorkerID != "" || got.StartedAt != nil {
		t.Errorf("released job: %+v", got)
	}
	got, _ = s.Get(ctx(), c.ID)
	if got.Status != store.StatusCancelled || got.CompletedAt == nil {
		t.Errorf("cancelled job: %+v", got)
	}
}

func testWorkersAndRescue(t *testing.T, h *Harness) {
	s := h.Store
	register(t, s, "alive")
	register(t, s, "silent")
	for i := 0; i < 3; i++ {
		enqueue(t, s, &store.EnqueueParams{Type: "A"})
	}
	held := claim(t, s, "silent", 2, "A")
	claim(t, s, "alive", 1, "A")
	h.Exec(t, `UPDATE "Worker" SET "lastPing" = $1 WHERE id = 'silent'`, time.Now().Add(-5*time.Minute))

	ws, err := s.Workers(ctx())
	if err != nil || len(ws) != 2 {
		t.Fatalf("workers: %v (%v)", ws, err)
	}
	running := map[string]int64{}
	for _, w := range ws {
		running[w.ID] = w.Running
		if w.Host != "test" || w.Concurrency != 4 || !slices.Equal(w.Types, []string{"A", "B"}) {
			t.Errorf("worker row: %+v", w)
		}
	}
	if running["silent"] != 2 || running["alive"] != 1 {
		t.Errorf("jobs in hand = %v", running)
	}

	cutoff := time.Now().Add(-time.Minute)
	// A worker holding jobs is not pruned until they are rescued.
	if n, _ := s.PruneWorkers(ctx(), cutoff); n != 0 {
		t.Errorf("pruned %d workers that still hold jobs", n)
	}
	expired, err := s.Expired(ctx(), cutoff, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := ids(expired)
	slices.Sort(got)
	want := ids(held)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("expired = %v; want %v", got, want)
	}
	for _, j := range expired {
		f := store.Failure{ID: j.ID, Status: store.StatusRetrying, ScheduledFor: time.Now(), Attempt: store.Attempt{Attempt: j.Attempts, Code: "WORKER_LOST", Message: "worker silent"}}
		if n, err := s.Fail(ctx(), j.WorkerID, []store.Failure{f}); err != nil || n != 1 {
			t.Errorf("rescue %s: n=%d err=%v", j.ID, n, err)
		}
	}
	if n, _ := s.PruneWorkers(ctx(), cutoff); n != 1 {
		t.Errorf("pruned %d workers; want the silent one", n)
	}
	if _, err := s.Heartbeat(ctx(), "silent", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("heartbeat of a pruned worker = %v; want ErrNotFound", err)
	}
	if err := s.DeregisterWorker(ctx(), "alive"); err != nil {
		t.Fatal(err)
	}
	st, err := s.Drain(ctx(), []string{"A"})
	if err != nil || st.Due != 2 || st.Running != 1 {
		t.Errorf("drain state = %+v (%v); want 2 due (rescued), 1 running", st, err)
	}
}
