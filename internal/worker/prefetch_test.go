package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// TestPrefetchedJobsAreHeldAndHandedBack: a worker with one slot claims
// ahead of it; the jobs it prefetched are RUNNING under it, not started. A
// cancel of one ends it CANCELLED without running it, and a graceful stop
// hands the others back PENDING with the attempt uncounted, while the job
// that runs finishes.
func TestPrefetchedJobsAreHeldAndHandedBack(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		// HIGH: claimed first, so it is the one that runs.
		// Long enough to outlast the checks below on a loaded machine:
		// were it to end first, the runner would start a prefetched job.
		first := enqueue(t, b, &store.EnqueueParams{Type: "LongSleep", Priority: store.PriorityHigh, Data: json.RawMessage(`{"ms":3000}`)})
		var queued []*store.Job
		for range 3 {
			queued = append(queued, enqueue(t, b, &store.EnqueueParams{Type: "LongSleep", Data: json.RawMessage(`{"ms":60000}`)}))
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := newWorker(t, b, Options{Concurrency: 1, Prefetch: 5, ShutdownTimeout: 10 * time.Second})
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		waitFor(t, 5*time.Second, "all four to be claimed", func() bool {
			for _, j := range append([]*store.Job{first}, queued...) {
				if get(t, b, j.ID).Status != store.StatusRunning {
					return false
				}
			}
			return true
		})
		waitStarted(t, w, 1)
		if n := w.buffered.Load(); n != 3 {
			t.Fatalf("%d jobs prefetched; want 3", n)
		}
		for _, j := range queued {
			if got := get(t, b, j.ID); got.WorkerID != w.ID() {
				t.Errorf("prefetched %s held by %q; want this worker %q", j.ID, got.WorkerID, w.ID())
			}
		}
		b.Exec(t, `UPDATE "Job" SET "cancelRequested" = $1 WHERE id = $2`, true, queued[0].ID)
		time.Sleep(300 * time.Millisecond) // a heartbeat or two: the cancel is noted
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := get(t, b, first.ID); got.Status != store.StatusCompleted || got.Attempts != 1 {
			t.Errorf("running job: %s after %d attempts; want COMPLETED after 1", got.Status, got.Attempts)
		}
		if got := get(t, b, queued[0].ID); got.Status != store.StatusCancelled {
			t.Errorf("cancelled prefetched job is %s; want CANCELLED", got.Status)
		}
		for _, j := range queued[1:] {
			got := get(t, b, j.ID)
			if got.Status != store.StatusPending || got.Attempts != 0 || got.WorkerID != "" || got.StartedAt != nil {
				t.Errorf("prefetched job after a graceful stop: %s, %d attempts, worker %q; want PENDING, 0, none", got.Status, got.Attempts, got.WorkerID)
			}
		}
	})
}

// TestTwoClaimersStopCleanly: with a prefetch queue large enough for the
// second claimer, a burst of fast jobs is claimed by both at once; a
// graceful stop in the middle leaves every job either COMPLETED after one
// attempt or PENDING with none counted, none RUNNING, and a drain then
// finishes the rest, each exactly once.
func TestTwoClaimersStopCleanly(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		const n = 3000
		ps := make([]*store.EnqueueParams, n)
		for i := range ps {
			// LongSleep's minute of timeout, not Sleep's 300 ms: on a machine
			// loaded enough to hold a runner off the CPU that long, a 1 ms
			// job timed out, was retried and ended COMPLETED after two
			// attempts, which is the policy at work, not a job run twice.
			ps[i] = &store.EnqueueParams{Type: "LongSleep", Data: json.RawMessage(`{"ms":1}`)}
		}
		if _, err := b.EnqueueMany(context.Background(), ps, nil); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		w := newWorker(t, b, Options{Concurrency: 50, Prefetch: 300})
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		waitFor(t, 60*time.Second, "some jobs done", func() bool { return w.done.Load() >= 300 })
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		counts := func() map[store.Status]int64 {
			out := map[store.Status]int64{}
			for _, st := range []store.Status{store.StatusPending, store.StatusRunning, store.StatusCompleted, store.StatusRetrying, store.StatusFailed, store.StatusDead, store.StatusCancelled} {
				c, err := b.Count(context.Background(), &store.Filter{Statuses: []store.Status{st}}, false)
				if err != nil {
					t.Fatal(err)
				}
				out[st] = c
			}
			return out
		}
		c := counts()
		if c[store.StatusRunning] != 0 || c[store.StatusPending]+c[store.StatusCompleted] != n || c[store.StatusPending] == 0 {
			var odd []string
			all, _ := b.List(context.Background(), &store.ListParams{Limit: n})
			for _, j := range all {
				if j.Status != store.StatusPending && j.Status != store.StatusCompleted {
					full := get(t, b, j.ID)
					odd = append(odd, fmt.Sprintf("%s %s attempts %d history %+v", j.ID, j.Status, j.Attempts, full.History))
				}
			}
			t.Fatalf("after a graceful stop mid-burst: %v; want only PENDING and COMPLETED, some of each; %v", c, odd)
		}
		pending, err := b.List(context.Background(), &store.ListParams{Filter: store.Filter{Statuses: []store.Status{store.StatusPending}}, Limit: n})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range pending {
			if j.Attempts != 0 || j.WorkerID != "" {
				t.Fatalf("handed back %s with %d attempts under %q; want 0, none", j.ID, j.Attempts, j.WorkerID)
			}
		}
		if err := newWorker(t, b, Options{Concurrency: 50, Prefetch: 300, Drain: true}).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		all, err := b.List(context.Background(), &store.ListParams{Limit: n})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != n {
			t.Fatalf("%d jobs listed; want %d", len(all), n)
		}
		for _, j := range all {
			if j.Status != store.StatusCompleted || j.Attempts != 1 {
				full := get(t, b, j.ID)
				t.Fatalf("%s is %s after %d attempts (history %+v, worker %q, first worker %q); want COMPLETED after 1", j.ID, j.Status, j.Attempts, full.History, full.WorkerID, w.ID())
			}
		}
	})
}

// TestAdaptivePrefetch: by default a worker prefetches what it finished in
// the last second. Slow jobs are not claimed ahead (another worker could
// run them); a burst of fast ones opens the prefetch up.
func TestAdaptivePrefetch(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		slow := enqueueSleeps(t, b, 6, 60000)
		ctx, cancel := context.WithCancel(context.Background())
		w := newWorker(t, b, Options{Concurrency: 2, ShutdownTimeout: 10 * time.Millisecond})
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		waitStarted(t, w, 2)
		time.Sleep(1200 * time.Millisecond) // several claims and prefetch ticks
		if n := statuses(t, b, slow)[store.StatusRunning]; n != 2 {
			t.Errorf("%d slow jobs RUNNING with 2 slots; want 2, none prefetched", n)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		b.Exec(t, `DELETE FROM "Job"`)

		ps := make([]*store.EnqueueParams, 3000)
		for i := range ps {
			ps[i] = &store.EnqueueParams{Type: "Noop"}
		}
		if _, err := b.EnqueueMany(context.Background(), ps, nil); err != nil {
			t.Fatal(err)
		}
		w = newWorker(t, b, Options{Concurrency: 2})
		ctx, cancel = context.WithCancel(context.Background())
		defer cancel()
		go func() { done <- w.Run(ctx) }()
		// Ten times the slots: a loaded machine running the race detector
		// may finish no more than a few dozen noop jobs a second.
		waitFor(t, 30*time.Second, "the prefetch to open up on fast jobs", func() bool { return w.prefetch.Load() >= 20 })
	})
}

// enqueueNoops enqueues n Noop jobs in one call.
func enqueueNoops(t *testing.T, s store.Store, n int) {
	t.Helper()
	ps := make([]*store.EnqueueParams, n)
	for i := range ps {
		ps[i] = &store.EnqueueParams{Type: "Noop"}
	}
	if _, err := s.EnqueueMany(context.Background(), ps, nil); err != nil {
		t.Fatal(err)
	}
}

// slowCompletions holds each completion write back for delay, as a busy
// server would answer it, and records how many jobs, and how many bytes
// of output, each carried.
type slowCompletions struct {
	store.Store
	delay time.Duration
	mu    sync.Mutex
	sizes []int
	bytes []int
}

func (s *slowCompletions) Complete(ctx context.Context, workerID string, cs []store.Completion) (int64, error) {
	time.Sleep(s.delay)
	n := 0
	for _, c := range cs {
		n += len(c.Output)
	}
	s.mu.Lock()
	s.sizes = append(s.sizes, len(cs))
	s.bytes = append(s.bytes, n)
	s.mu.Unlock()
	return s.Store.Complete(ctx, workerID, cs)
}

// TestFastJobsCompleteInFullBatches: while the flushers' writes are on
// their way, the runners of fast jobs go on, and the outcomes of a whole
// claim queue up for the next write instead of stopping the runners at a
// buffer sized to their number. With a buffer of 2×Concurrency+64, a
// worker at --concurrency 50 wrote ~214 completions a statement and ran
// noop jobs at 0.56 of the Postgres ceiling; with room for a full write,
// 25-30% faster at --concurrency 10 and 50 (issue 11, README).
func TestFastJobsCompleteInFullBatches(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		const n, c = 900, 2
		enqueueNoops(t, b, n)
		s := &slowCompletions{Store: b, delay: 100 * time.Millisecond}
		w := newWorker(t, s, Options{Concurrency: c, Drain: true})
		if err := w.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		done, err := b.Count(context.Background(), &store.Filter{Statuses: []store.Status{store.StatusCompleted}}, false)
		if err != nil {
			t.Fatal(err)
		}
		if done != n {
			t.Fatalf("%d jobs COMPLETED; want %d", done, n)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		// The runners' own buffer and the jobs they hold while blocked on
		// it: what one write could carry were the runners to stop at it.
		if most := slices.Max(s.sizes); most <= 2*c+64+c {
			t.Errorf("completion writes carried %v jobs; want one well over %d, as the runners need not wait for the writes", s.sizes, 2*c+64+c)
		}
	})
}

// bigOutput answers every job with an output of n bytes.
type bigOutput struct{ n int }

func (h bigOutput) Run(context.Context, *store.Job) (json.RawMessage, error) {
	return json.RawMessage(`"` + strings.Repeat("x", h.n-2) + `"`), nil
}

// TestHeldOutputIsBounded: the outcomes waiting for a write may number a
// thousand at any concurrency (TestFastJobsCompleteInFullBatches), but
// their outputs are held only up to a bound (maxHeldOutput, 64 MiB; here
// 10,000 bytes): runners with more wait for a write to give bytes back. Without the bound, fast jobs
// with large outputs and a slow store could hold gigabytes (an output may
// be 16 MiB).
func TestHeldOutputIsBounded(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		const n, size, bound = 60, 3000, 10000
		enqueueNoops(t, b, n)
		s := &slowCompletions{Store: b, delay: 50 * time.Millisecond}
		w := newWorker(t, s, Options{Concurrency: 4, Drain: true})
		w.handlers["Noop"] = bigOutput{size}
		w.outputs.max = bound
		if err := w.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		jobs, err := b.List(context.Background(), &store.ListParams{Filter: store.Filter{Statuses: []store.Status{store.StatusCompleted}}, Limit: n})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != n {
			t.Fatalf("%d jobs COMPLETED; want %d", len(jobs), n)
		}
		if got := get(t, b, jobs[0].ID); len(got.Output) != size {
			t.Errorf("a job's output is %d bytes; want %d", len(got.Output), size)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if most := slices.Max(s.bytes); most > bound {
			t.Errorf("one write carried %d bytes of output (writes: %v); want at most %d held at once", most, s.bytes, bound)
		}
	})
}
