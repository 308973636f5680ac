package web

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// clock is a settable time for the cache's ages.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// reader is a store read the test counts and can hold.
type reader struct {
	n    atomic.Int64
	hold chan struct{} // when set, each read waits for it
	err  error
	done chan int64 // each read's number, when it ends
}

func (r *reader) read(ctx context.Context) (*store.Stats, error) {
	n := r.n.Add(1)
	if r.hold != nil {
		<-r.hold
	}
	if r.done != nil {
		defer func() { r.done <- n }()
	}
	if r.err != nil {
		return nil, r.err
	}
	return &store.Stats{Completed1h: n}, nil
}

func TestStatsCache(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	c := newStatsCache(5*time.Second, clk.now)
	r := &reader{done: make(chan int64, 10)}

	st, err := c.get(ctx, "k", r.read)
	if err != nil || st.Completed1h != 1 {
		t.Fatalf("first get: %+v, %v; want read 1", st, err)
	}
	<-r.done
	clk.add(4 * time.Second)
	if st, _ := c.get(ctx, "k", r.read); st.Completed1h != 1 || r.n.Load() != 1 {
		t.Errorf("within the ttl: read %d, %d reads; want the cached 1, no new read", st.Completed1h, r.n.Load())
	}
	if st, _ := c.get(ctx, "other", r.read); st.Completed1h != 2 {
		t.Errorf("another key: read %d; want its own read", st.Completed1h)
	}
	<-r.done

	// Stale: answered at once with the old reading, refreshed behind.
	clk.add(2 * time.Second)
	if st, _ := c.get(ctx, "k", r.read); st.Completed1h != 1 {
		t.Errorf("stale get: %d; want the stale 1 while it refreshes", st.Completed1h)
	}
	if n := <-r.done; n != 3 {
		t.Fatalf("refresh was read %d; want 3", n)
	}
	// The refresh stores its reading just after the read returns.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _ := c.get(ctx, "k", r.read)
		if st.Completed1h == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the refresh: still %d", st.Completed1h)
		}
		time.Sleep(time.Millisecond)
	}
	if r.n.Load() != 3 {
		t.Errorf("after the refresh: %d reads; want 3 (no other refresh while it ran)", r.n.Load())
	}

	// Too old to serve (nobody asked for a minute): the request waits.
	clk.add(time.Minute)
	if st, _ := c.get(ctx, "k", r.read); st.Completed1h != 4 {
		t.Errorf("after a minute: %d; want a fresh read 4", st.Completed1h)
	}
	<-r.done

	// Concurrent first requests share one reading.
	r2 := &reader{hold: make(chan struct{})}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, err := c.get(ctx, "cold", r2.read); err != nil || st.Completed1h != 1 {
				t.Errorf("concurrent get: %+v, %v", st, err)
			}
		}()
	}
	for r2.n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(r2.hold)
	wg.Wait()
	if n := r2.n.Load(); n != 1 {
		t.Errorf("8 concurrent cold requests read the store %d times; want 1", n)
	}

	// Errors are not kept.
	bad := &reader{err: errors.New("store unreachable")}
	if _, err := c.get(ctx, "bad", bad.read); err == nil {
		t.Fatal("a failed read gave no error")
	}
	if _, err := c.get(ctx, "bad", bad.read); err == nil || bad.n.Load() != 2 {
		t.Errorf("after a failed read: %v, %d reads; want the store asked again", err, bad.n.Load())
	}

	// ttl 0 reads every time.
	off := newStatsCache(0, clk.now)
	r3 := &reader{}
	off.get(ctx, "k", r3.read)
	off.get(ctx, "k", r3.read)
	if r3.n.Load() != 2 {
		t.Errorf("ttl 0: %d reads for 2 requests", r3.n.Load())
	}
}

// The key keeps scopes apart: a user's cached figures are never an
// admin's, nor another user's.
func TestStatsKey(t *testing.T) {
	q := url.Values{"type": {"A"}, "since": {"1h"}}
	admin := statsKey(ops.Principal{Name: "a", Role: store.RoleAdmin}, q)
	manager := statsKey(ops.Principal{Name: "m", Role: store.RoleManager}, q)
	u1 := statsKey(ops.Principal{Name: "x", Role: store.RoleUser, UserID: "u1"}, q)
	u1b := statsKey(ops.Principal{Name: "y", Role: store.RoleUser, UserID: "u1"}, q)
	u2 := statsKey(ops.Principal{Name: "x", Role: store.RoleUser, UserID: "u2"}, q)
	if admin != manager || u1 != u1b || u1 == admin || u1 == u2 {
		t.Errorf("keys: admin %q manager %q u1 %q u1b %q u2 %q", admin, manager, u1, u1b, u2)
	}
	if k := statsKey(ops.Principal{Role: store.RoleAdmin}, url.Values{"since": {"1h"}, "type": {"A"}}); k != admin {
		t.Errorf("the same query in another order: %q, want %q", k, admin)
	}
}
