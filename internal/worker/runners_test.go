package worker

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// TestSlowJobsRunSideBySide: runners start as the work needs them (grow),
// and jobs that block in their handler each get one, up to Concurrency
// and no further, whether they arrive in one claim or one by one.
func TestSlowJobsRunSideBySide(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		const c = 40
		ps := make([]*store.EnqueueParams, c+10)
		for i := range ps {
			ps[i] = &store.EnqueueParams{Type: "LongSleep", Data: json.RawMessage(`{"ms":60000}`)}
		}
		if _, err := b.EnqueueMany(context.Background(), ps[:c/2], nil); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		w := newWorker(t, b, Options{Concurrency: c, ShutdownTimeout: 50 * time.Millisecond})
		go func() { done <- w.Run(ctx) }()
		waitStarted(t, w, c/2)
		for _, p := range ps[c/2:] { // more than the slots left, one at a time
			enqueue(t, b, p)
		}
		waitStarted(t, w, c)
		time.Sleep(100 * time.Millisecond) // time to start one too many
		if h, r := w.handling.Load(), w.runners.Load(); h != c || r != c {
			t.Errorf("%d handlers running, %d runners; want %d of each (--concurrency)", h, r, c)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestFastJobsNeedFewRunners: a burst of noop jobs at a high concurrency
// is run by the runners ever in a handler at once, not one per slot: a
// fixed set of 2,000 runners took ~10 MB of stacks for nothing.
func TestFastJobsNeedFewRunners(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		const n, c = 5000, 2000
		enqueueNoops(t, b, n)
		w := newWorker(t, b, Options{Concurrency: c, Drain: true})
		if err := w.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := w.done.Load(); got != n {
			t.Fatalf("%d jobs done; want %d", got, n)
		}
		t.Logf("%d runners for %d noop jobs at --concurrency %d", w.runners.Load(), n, c)
		if r := w.runners.Load(); r > c/2 {
			t.Errorf("%d runners started for noop jobs; want few (at most %d)", r, c/2)
		}
	})
}
