package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// Retries of a failing store wait this long, doubling from the first to
// the cap, so an outage costs the database a try every few seconds per
// worker rather than a storm of connection attempts.
const (
	retryFirst = 100 * time.Millisecond
	retryCap   = 5 * time.Second
)

// backoff is the wait before the next try of something that keeps failing:
// first, doubling up to limit.
type backoff struct{ first, limit, next time.Duration }

// wait returns the delay before the next try and doubles the one after.
func (b *backoff) wait() time.Duration {
	d := max(b.next, b.first)
	b.next = min(2*d, b.limit)
	return d
}

// reset starts over once a try succeeds.
func (b *backoff) reset() { b.next = 0 }

// storeHealth is the worker's one view of whether its store can be
// reached, shared by claims, heartbeats, outcome writes, rescues and
// schedules: an outage is logged once when it starts and once when it ends,
// not once per try of each of them.
type storeHealth struct {
	log *slog.Logger
	// unwritten counts the outcomes waiting for the store, for the log.
	unwritten func() int64

	mu    sync.Mutex
	down  bool
	since time.Time     // of the last change between down and up
	up    chan struct{} // closed when the store is back
}

// failed records a store call, begun at began, that failed. An
// unreachable store is logged only as it goes away; any other error is
// logged as msg, every time, since it is not an outage and deserves to be
// seen.
func (h *storeHealth) failed(op string, err error, began time.Time, msg string) {
	if !errors.Is(err, store.ErrUnavailable) {
		h.log.Error(msg, "op", op, "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// A call begun before the store came back may have lost its
	// connection during the outage: it says nothing about now.
	if h.down || began.Before(h.since) {
		h.log.Debug("store still unreachable", "op", op, "err", err)
		return
	}
	h.down, h.since, h.up = true, time.Now(), make(chan struct{})
	text := "store unreachable; retrying"
	if n := h.unwritten(); n > 0 {
		text = fmt.Sprintf("store unreachable; keeping %d %s and retrying", n, plural(n, "outcome"))
	}
	h.log.Warn(text, "op", op, "err", err)
}

// settle is how long after the store is found unreachable a call that
// succeeds may still have run on a connection the outage had not cut yet
// (a server under load takes a while to end its sessions): such a success
// does not end the outage, lest the log say "back" and "gone" again at once.
const settle = time.Second

// ok records a store call, begun at began, that succeeded.
func (h *storeHealth) ok(began time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down || began.Before(h.since.Add(settle)) {
		return
	}
	h.down = false
	close(h.up)
	h.log.Info("store reachable again", "after", time.Since(h.since).Round(time.Millisecond))
	h.since = time.Now()
}

// back returns a channel closed once the store is reachable again, so
// whatever waits to retry a call that found it unreachable tries at once
// when another call finds it back, rather than at the end of its backoff.
// For a call that failed otherwise, it returns nil: wait out the backoff.
func (h *storeHealth) back(err error) <-chan struct{} {
	if !errors.Is(err, store.ErrUnavailable) {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return h.up
}
