package worker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// overlap counts how many claims and how many outcome writes were in
// flight at once at most. Each call lasts a few milliseconds, so a second
// claimer or writer, if there is one, overlaps the first.
type overlap struct {
	store.Store
	claims, writes       atomic.Int64
	maxClaims, maxWrites atomic.Int64
}

func (o *overlap) track(now, peak *atomic.Int64) func() {
	n := now.Add(1)
	for m := peak.Load(); n > m && !peak.CompareAndSwap(m, n); m = peak.Load() {
	}
	time.Sleep(3 * time.Millisecond)
	return func() { now.Add(-1) }
}

func (o *overlap) Claim(ctx context.Context, p *store.ClaimParams) ([]*store.Job, error) {
	defer o.track(&o.claims, &o.maxClaims)()
	return o.Store.Claim(ctx, p)
}

func (o *overlap) Complete(ctx context.Context, workerID string, cs []store.Completion) (int64, error) {
	defer o.track(&o.writes, &o.maxWrites)()
	return o.Store.Complete(ctx, workerID, cs)
}

// oneWriter is an overlap over a store of one writer at a time.
type oneWriter struct{ *overlap }

func (oneWriter) OneWriter() {}

// TestOneWriterStoreGetsOneClaimerAndOneWriter: on a store.OneWriter (SQLite)
// a worker claims and writes outcomes from one goroutine each, so its
// batches do not queue for the store's one write lock against each other;
// on another store, a burst of fast jobs has two of each in flight (with a
// prefetch queue large enough that a claim of maxClaim leaves half of it
// free for the second claimer).
func TestOneWriterStoreGetsOneClaimerAndOneWriter(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		const n = 12 * maxClaim
		run := func(s store.Store) {
			ps := make([]*store.EnqueueParams, n)
			for i := range ps {
				ps[i] = &store.EnqueueParams{Type: "Noop"}
			}
			if _, err := b.EnqueueMany(context.Background(), ps, nil); err != nil {
				t.Fatal(err)
			}
			if err := newWorker(t, s, Options{Concurrency: 50, Prefetch: 4 * maxClaim, Drain: true}).Run(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		one := &overlap{Store: b}
		run(oneWriter{one})
		if c, w := one.maxClaims.Load(), one.maxWrites.Load(); c != 1 || w != 1 {
			t.Errorf("on a one-writer store: %d claims and %d outcome writes at once at most; want 1 and 1", c, w)
		}
		two := &overlap{Store: b}
		run(two)
		if c, w := two.maxClaims.Load(), two.maxWrites.Load(); c != 2 || w != 2 {
			t.Errorf("on another store: %d claims and %d outcome writes at once at most; want 2 and 2", c, w)
		}
	})
}

// TestReserveWaitsForHalfTheCapacity: a busy worker claims once half its
// capacity is free, so each claim carries many jobs; an idle slot claims
// whatever is free at once; no claim takes more than maxClaim.
func TestReserveWaitsForHalfTheCapacity(t *testing.T) {
	for _, c := range []struct {
		capacity, busy, held, want int
	}{
		{350, 50, 100, 250},             // 250 free ≥ 175: claim them
		{350, 50, 200, 0},               // 150 free < 175: wait
		{350, 50, 40, 310},              // a slot idle: claim at once
		{3 * maxClaim, 50, 0, maxClaim}, // capped at maxClaim
		{60, 50, 55, 0},                 // 5 free < 50 (minClaim)
		{10, 10, 10, 0},                 // full
		{10, 10, 9, 1},                  // one slot idle
		{200, 200, 100, 100},            // slots idle
	} {
		var w Worker
		w.inflight.Store(int64(c.held))
		if got := w.reserve(c.capacity, c.busy); got != c.want {
			t.Errorf("reserve(capacity %d, busy %d) holding %d = %d; want %d", c.capacity, c.busy, c.held, got, c.want)
		}
	}
}

// TestDefaultPrefetchClaimsFullBatches: once the adaptive prefetch has
// opened up on fast jobs, a busy worker's claims carry maxClaim jobs at
// every concurrency: fewer, larger claims are what the server's work per
// job (the bound of a burn-down) depends on.
func TestDefaultPrefetchClaimsFullBatches(t *testing.T) {
	for _, conc := range []int{1, 10, 50, 200, 2000} {
		o := withDefaults(Options{Concurrency: conc})
		if !o.adaptive {
			t.Errorf("--concurrency %d: the default prefetch does not adapt", conc)
		}
		capacity := o.Concurrency + o.Prefetch
		var w Worker
		w.inflight.Store(int64(capacity - claimAt(capacity))) // just enough free
		if got := w.reserve(capacity, conc); got != maxClaim {
			t.Errorf("--concurrency %d, prefetch %d: a busy worker's claim takes %d; want %d", conc, o.Prefetch, got, maxClaim)
		}
	}
}
