package worker

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// reclaimStore stages the race between a written outcome and a claim of
// the same job again: the write of a failed attempt commits, but its
// answer is held back until the worker has claimed the job a second time
// (its retry fell due). The claim after that fails as one whose answer was
// lost, so the next claim that succeeds makes the worker look for orphans.
type reclaimStore struct {
	store.Store
	job       string
	pending   func() int64 // outcomes the worker has not written yet
	inflight  func() int64 // jobs the worker holds, queued or running
	mu        sync.Mutex
	claimed   int // times job was claimed
	phase     int
	reclaimed chan struct{}
	looked    chan struct{} // the orphan check after the lost claim is over
	released  []string
}

func (s *reclaimStore) Claim(ctx context.Context, p *store.ClaimParams) ([]*store.Job, error) {
	s.mu.Lock()
	phase := s.phase
	if phase == 1 {
		s.phase = 2
	}
	s.mu.Unlock()
	switch phase {
	case 1:
		// The flusher has written the first attempt and done its
		// bookkeeping: only the second attempt's outcome is unwritten.
		deadline := time.Now().Add(10 * time.Second)
		for s.pending() != 1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		return nil, &store.UnavailableError{Op: "claim", Reason: "connection lost"}
	case 2:
		s.mu.Lock()
		s.phase = 3
		s.mu.Unlock()
	case 3:
		// The claim after the first good one: its orphan check is over.
		select {
		case <-s.looked:
		default:
			close(s.looked)
		}
	}
	jobs, err := s.Store.Claim(ctx, p)
	for _, j := range jobs {
		if j.ID != s.job {
			continue
		}
		s.mu.Lock()
		s.claimed++
		if s.claimed == 2 {
			s.phase = 1
			close(s.reclaimed)
		}
		s.mu.Unlock()
	}
	return jobs, err
}

func (s *reclaimStore) Fail(ctx context.Context, id string, fs []store.Failure) (int64, error) {
	n, err := s.Store.Fail(ctx, id, fs)
	select {
	case <-s.reclaimed:
		// The second claim's answer has reached the store's caller; wait
		// until the worker has taken the job in (the first attempt's run
		// no longer counts), so this write's bookkeeping comes after.
		deadline := time.Now().Add(10 * time.Second)
		for s.inflight() < 1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	case <-time.After(10 * time.Second):
	}
	return n, err
}

func (s *reclaimStore) Release(ctx context.Context, id string, ids []string) (int64, error) {
	s.mu.Lock()
	s.released = append(s.released, ids...)
	s.mu.Unlock()
	return s.Store.Release(ctx, id, ids)
}

// secondRunWaits fails its first run and holds its second until go closes.
type secondRunWaits struct {
	runs atomic.Int32
	goOn chan struct{}
}

func (h *secondRunWaits) Run(ctx context.Context, _ *store.Job) (json.RawMessage, error) {
	if h.runs.Add(1) == 1 {
		return nil, &JobError{Code: "NETWORK_ERROR", Message: "first try fails", Retryable: yes()}
	}
	select {
	case <-h.goOn:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestReclaimedJobStaysHeld: a job whose failed attempt is written and
// whose retry this worker claims before the writer has done its
// bookkeeping is held by the second claim. The writer must not forget it
// then: a later look for orphans (after a claim whose answer was lost)
// would hand the running job back, and it would run twice.
func TestReclaimedJobStaysHeld(t *testing.T) {
	t.Parallel()
	b := teststore.SQLite(t)
	j := enqueue(t, b, &store.EnqueueParams{Type: "Fail"})
	s := &reclaimStore{Store: b, job: j.ID, reclaimed: make(chan struct{}), looked: make(chan struct{})}
	w := newWorker(t, s, Options{Concurrency: 2, Prefetch: -1})
	s.pending, s.inflight = w.pending.Load, w.inflight.Load
	h := &secondRunWaits{goOn: make(chan struct{})}
	w.handlers["Fail"] = h
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	select {
	case <-s.looked:
	case <-time.After(20 * time.Second):
		t.Fatal("the worker never looked for orphans after the lost claim")
	}
	s.mu.Lock()
	released := slices.Clone(s.released)
	s.mu.Unlock()
	close(h.goOn)
	waitFor(t, 10*time.Second, "the job to complete", func() bool { return get(t, b, j.ID).Status == store.StatusCompleted })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if slices.Contains(released, j.ID) {
		t.Errorf("the job was handed back as an orphan while its second attempt ran")
	}
	got := get(t, b, j.ID)
	if n := h.runs.Load(); n != 2 || got.Attempts != 2 || len(got.History) != 1 {
		t.Errorf("handler ran %d times; job %s after %d attempts, %d failures recorded; want 2 runs, COMPLETED after 2, 1 failure", n, got.Status, got.Attempts, len(got.History))
	}
}
