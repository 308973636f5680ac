package worker

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

const testConfig = `
jobs:
  Noop:
    handler: {builtin: noop}
  Sleep:
    handler: {builtin: sleep}
    timeout: 300ms
  LongSleep:
    handler: {builtin: sleep}
    timeout: 1m
  Fail:
    handler: {builtin: fail}
    backoffBase: 100ms
`

func newWorker(t *testing.T, s store.Store, opts Options) *Worker {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 50 * time.Millisecond
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = 100 * time.Millisecond
	}
	w, err := New(s, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// waitStarted waits until n handlers of w run: a job RUNNING in the store
// may still wait in the prefetch queue.
func waitStarted(t *testing.T, w *Worker, n int64) {
	t.Helper()
	waitFor(t, 5*time.Second, "handlers to start", func() bool { return w.handling.Load() >= n })
}

func enqueue(t *testing.T, s store.Store, p *store.EnqueueParams) *store.Job {
	t.Helper()
	res, err := s.Enqueue(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return res.Job
}

func get(t *testing.T, s store.Store, id string) *store.Job {
	t.Helper()
	j, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// drain runs a draining worker to completion.
func drain(t *testing.T, s store.Store, opts Options) {
	t.Helper()
	opts.Drain = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := newWorker(t, s, opts).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("drain did not finish in 30s")
	}
}

// waitFor polls until cond holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRetryPolicy(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		network := enqueue(t, b, &store.EnqueueParams{Type: "Fail", Data: json.RawMessage(`{"code":"NETWORK_ERROR","message":"Network timeout"}`)})
		auth := enqueue(t, b, &store.EnqueueParams{Type: "Fail", Data: json.RawMessage(`{"code":"AUTH_ERROR","message":"Token refresh failed"}`)})
		slow := enqueue(t, b, &store.EnqueueParams{Type: "Sleep", Data: json.RawMessage(`{"ms":5000}`), MaxAttempts: 1})

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- newWorker(t, b, Options{Concurrency: 4}).Run(ctx) }()
		waitFor(t, 15*time.Second, "NETWORK_ERROR job to go DEAD", func() bool { return get(t, b, network.ID).Status == store.StatusDead })
		waitFor(t, 5*time.Second, "timed-out job to end", func() bool { return get(t, b, slow.ID).Status.Final() })
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		j := get(t, b, network.ID)
		if j.Attempts != 5 || len(j.History) != 5 || j.CompletedAt == nil {
			t.Fatalf("dead job: attempts %d, %d history entries", j.Attempts, len(j.History))
		}
		// Exponential backoff from a 100ms base, jitter off: 100, 200, 400, 800ms.
		for i, want := range []time.Duration{100, 200, 400, 800} {
			want *= time.Millisecond
			gap := j.History[i+1].At.Sub(j.History[i].At)
			// Times are stored to the millisecond, so allow a little early.
			// The lower bound is the policy; the upper bound only catches a
			// retry left far past its time, since a loaded machine (CI's two
			// cores running every suite at once) adds claim latency.
			if gap < want-5*time.Millisecond || gap > want+1500*time.Millisecond {
				t.Errorf("delay before attempt %d = %v; want %v (+ claim latency)", i+2, gap, want)
			}
			if j.History[i].Attempt != i+1 || j.History[i].Code != "NETWORK_ERROR" {
				t.Errorf("history[%d] = %+v", i, j.History[i])
			}
		}

		a := get(t, b, auth.ID)
		if a.Status != store.StatusFailed || a.Attempts != 1 || a.ErrorCode != "AUTH_ERROR" {
			t.Errorf("AUTH_ERROR job: status %s after %d attempts (code %s); want FAILED after 1", a.Status, a.Attempts, a.ErrorCode)
		}
		sl := get(t, b, slow.ID)
		if sl.ErrorCode != "TIMEOUT" || sl.ErrorMessage != "Execution time limit exceeded" || sl.Status != store.StatusDead {
			t.Errorf("timed-out job: %s %s %q", sl.Status, sl.ErrorCode, sl.ErrorMessage)
		}
	})
}

func TestCancelRunningJob(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		j := enqueue(t, b, &store.EnqueueParams{Type: "LongSleep", Data: json.RawMessage(`{"ms":60000}`)})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- newWorker(t, b, Options{}).Run(ctx) }()
		waitFor(t, 5*time.Second, "job to start", func() bool { return get(t, b, j.ID).Status == store.StatusRunning })
		asked := time.Now()
		b.Exec(t, `UPDATE "Job" SET "cancelRequested" = $1 WHERE id = $2`, true, j.ID)
		waitFor(t, 5*time.Second, "job to be cancelled", func() bool { return get(t, b, j.ID).Status == store.StatusCancelled })
		t.Logf("cancel took %v", time.Since(asked))
		got := get(t, b, j.ID)
		if got.Attempts != 1 || len(got.History) != 0 {
			t.Errorf("cancelled job: %d attempts, history %v; a cancel is not a failure", got.Attempts, got.History)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestShutdownHandsJobsBack(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		long := enqueue(t, b, &store.EnqueueParams{Type: "LongSleep", Data: json.RawMessage(`{"ms":60000}`)})
		short := enqueue(t, b, &store.EnqueueParams{Type: "LongSleep", Data: json.RawMessage(`{"ms":300}`)})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		w := newWorker(t, b, Options{ShutdownTimeout: time.Second})
		go func() { done <- w.Run(ctx) }()
		waitFor(t, 5*time.Second, "jobs to start", func() bool {
			return get(t, b, long.ID).Status == store.StatusRunning && get(t, b, short.ID).Status == store.StatusRunning
		})
		waitStarted(t, w, 2)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if s := get(t, b, short.ID); s.Status != store.StatusCompleted {
			t.Errorf("a job that finished within the shutdown timeout is %s; want COMPLETED", s.Status)
		}
		l := get(t, b, long.ID)
		if l.Status != store.StatusPending || l.Attempts != 0 || l.WorkerID != "" {
			t.Errorf("a job still running at the timeout is %s with %d attempts; want PENDING with 0", l.Status, l.Attempts)
		}
		ws, _ := b.Workers(context.Background())
		if len(ws) != 0 {
			t.Errorf("worker row left after a graceful stop: %+v", ws[0])
		}
	})
}

func TestHardStopLeavesJobsForRescue(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		j := enqueue(t, b, &store.EnqueueParams{Type: "LongSleep", Data: json.RawMessage(`{"ms":60000}`)})
		hard := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		w := newWorker(t, b, Options{Hard: hard, ShutdownTimeout: time.Minute})
		go func() { done <- w.Run(ctx) }()
		waitFor(t, 5*time.Second, "job to start", func() bool { return get(t, b, j.ID).Status == store.StatusRunning })
		waitStarted(t, w, 1)
		cancel() // first signal: waits for the job…
		time.Sleep(100 * time.Millisecond)
		close(hard) // …second signal: stop at once
		select {
		case err := <-done:
			if !errors.Is(err, ErrHardStop) {
				t.Errorf("Run = %v; want ErrHardStop", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("second signal did not stop the worker at once")
		}
		if got := get(t, b, j.ID); got.Status != store.StatusRunning {
			t.Errorf("job is %s; want RUNNING, for another worker to rescue", got.Status)
		}
		// Another worker rescues it once the lease runs out, and runs it.
		b.Exec(t, `UPDATE "Job" SET data = $1 WHERE id = $2`, `{"ms":1}`, j.ID)
		ctx2, cancel2 := context.WithCancel(context.Background())
		done2 := make(chan error, 1)
		go func() { done2 <- newWorker(t, b, Options{Lease: 500 * time.Millisecond}).Run(ctx2) }()
		waitFor(t, 10*time.Second, "rescued job to complete", func() bool { return get(t, b, j.ID).Status == store.StatusCompleted })
		cancel2()
		if err := <-done2; err != nil {
			t.Fatal(err)
		}
		got := get(t, b, j.ID)
		if got.Status != store.StatusCompleted || got.Attempts != 2 || len(got.History) != 1 || got.History[0].Code != "WORKER_LOST" {
			t.Errorf("rescued job: %s after %d attempts, history %+v", got.Status, got.Attempts, got.History)
		}
	})
}

func TestClaimOrderAndChains(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		low := enqueue(t, b, &store.EnqueueParams{Type: "Noop", Priority: store.PriorityLow})
		normal := enqueue(t, b, &store.EnqueueParams{Type: "Noop"})
		crit := enqueue(t, b, &store.EnqueueParams{Type: "Noop", Priority: store.PriorityCritical})
		high := enqueue(t, b, &store.EnqueueParams{Type: "Noop", Priority: store.PriorityHigh})
		dependent := enqueue(t, b, &store.EnqueueParams{Type: "Noop", Priority: store.PriorityCritical, DependsOn: []string{low.ID}})
		later := enqueue(t, b, &store.EnqueueParams{Type: "Noop", ScheduledFor: time.Now().Add(time.Hour)})
		unhandled := enqueue(t, b, &store.EnqueueParams{Type: "NobodyHandlesThis"})

		drain(t, b, Options{Concurrency: 1})
		order := []*store.Job{crit, high, normal, low, dependent}
		for i := 1; i < len(order); i++ {
			prev, cur := get(t, b, order[i-1].ID), get(t, b, order[i].ID)
			if cur.Status != store.StatusCompleted || prev.StartedAt == nil || cur.StartedAt == nil || cur.StartedAt.Before(*prev.StartedAt) {
				t.Errorf("job %d (%s %s) started before job %d (%s)", i, cur.Priority, cur.Status, i-1, prev.Priority)
			}
		}
		if s := get(t, b, later.ID).Status; s != store.StatusPending {
			t.Errorf("delayed job is %s; want PENDING until its time", s)
		}
		if s := get(t, b, unhandled.ID).Status; s != store.StatusPending {
			t.Errorf("job without a handler is %s; want PENDING for a worker that has one", s)
		}
	})
}

func TestRecurringExactlyOnce(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		// A tick falling due while the test runs would rightly fire a second
		// job (seen when a slow start crossed a minute): start clear of one.
		if left := time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)); left < 20*time.Second {
			time.Sleep(left + time.Second)
		}
		// Ten minutes of missed every-minute ticks: one catch-up run, not ten.
		missed := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Minute)
		err := b.AddSchedule(context.Background(), &store.Schedule{Name: "tick", Type: "Noop", Cron: "* * * * *", Timezone: "UTC", NextRunAt: missed}, "test")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		errs := make(chan error, 3)
		for i := 0; i < 3; i++ {
			go func() { errs <- newWorker(t, b, Options{}).Run(ctx) }()
		}
		waitFor(t, 10*time.Second, "the schedule to fire", func() bool {
			ss, _ := b.ListSchedules(context.Background())
			return ss[0].LastRunAt != nil
		})
		time.Sleep(500 * time.Millisecond) // give the other workers every chance to fire it again
		cancel()
		for i := 0; i < 3; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		n, err := b.Count(context.Background(), &store.Filter{Types: []string{"Noop"}}, false)
		if err != nil || n != 1 {
			t.Errorf("3 workers enqueued %d jobs for the missed ticks; want exactly 1", n)
		}
		ss, _ := b.ListSchedules(context.Background())
		if !ss[0].NextRunAt.After(time.Now()) || !ss[0].LastRunAt.Equal(missed) {
			t.Errorf("schedule after catch-up: next %v last %v", ss[0].NextRunAt, ss[0].LastRunAt)
		}
	})
}
