package metrics

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
	"github.com/jobctl/jobctl/internal/worker"
)

// A fixed hour's backoff keeps a retried job RETRYING after its first
// attempt, so the run below ends with every job in a known state.
const workerConfig = `
jobs:
  Noop:
    handler: {builtin: noop}
  Fail:
    handler: {builtin: fail}
    backoff: fixed
    backoffBase: 1h
`

func TestWorkerMetrics(t *testing.T) {
	teststore.Each(t, func(t *testing.T, s *teststore.Backend) {
		ctx := context.Background()
		enqueue := func(typ, data string, maxAttempts int) {
			t.Helper()
			if _, err := s.Enqueue(ctx, &store.EnqueueParams{Type: typ, Data: json.RawMessage(data), MaxAttempts: maxAttempts}); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			enqueue("Noop", `{}`, 0)
		}
		enqueue("Fail", `{"code":"AUTH_ERROR"}`, 0)    // not retryable: FAILED
		enqueue("Fail", `{"code":"AUTH_ERROR"}`, 0)    // FAILED
		enqueue("Fail", `{"code":"NETWORK_ERROR"}`, 1) // retryable, no attempts left: DEAD
		enqueue("Fail", `{"code":"NETWORK_ERROR"}`, 5) // RETRYING in an hour

		cfg, err := config.Parse("test.yaml", []byte(workerConfig))
		if err != nil {
			t.Fatal(err)
		}
		reg := NewRegistry()
		m := NewWorkerMetrics(reg)
		w, err := worker.New(s, cfg, worker.Options{Concurrency: 4, PollInterval: 50 * time.Millisecond, Observer: m})
		if err != nil {
			t.Fatal(err)
		}
		m.Declare(w.Types())
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- w.Run(runCtx) }()
		settled := func() bool {
			want := map[store.Status]int64{store.StatusCompleted: 3, store.StatusFailed: 2, store.StatusDead: 1, store.StatusRetrying: 1}
			for st, n := range want {
				if c, err := s.Count(ctx, &store.Filter{Statuses: []store.Status{st}}, false); err != nil || c != n {
					return false
				}
			}
			return true
		}
		for deadline := time.Now().Add(20 * time.Second); !settled(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("jobs did not settle in 20s")
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		fams := scrape(t, Handler(reg))
		for _, c := range []struct {
			name       string
			noop, fail float64
		}{
			{"jobctl_worker_jobs_started_total", 3, 4},
			{"jobctl_worker_jobs_completed_total", 3, 0},
			{"jobctl_worker_jobs_failed_total", 0, 3},
			{"jobctl_worker_jobs_retried_total", 0, 1},
			{"jobctl_worker_jobs_cancelled_total", 0, 0},
			{"jobctl_worker_job_duration_seconds", 3, 4}, // observations
		} {
			expect(t, fams, c.noop, c.name, "type", "Noop")
			expect(t, fams, c.fail, c.name, "type", "Fail")
		}
		expect(t, fams, 0, "jobctl_worker_jobs_in_flight")
		batches := fams["jobctl_worker_claim_batch_size"].GetMetric()
		if len(batches) != 1 || batches[0].GetHistogram().GetSampleSum() != 7 || batches[0].GetHistogram().GetSampleCount() < 2 {
			t.Errorf("claim batches: %v; want 7 jobs in at least 2 claims of at most 4", batches)
		}
		if _, ok := fams["go_goroutines"]; !ok {
			t.Error("no Go runtime metrics")
		}
	})
}
