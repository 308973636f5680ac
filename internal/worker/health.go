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
	since time.Time
}

// failed records a store call that failed. An unreachable store is logged
// only as it goes away; any other error is logged as msg, every time, since
// it is not an outage and deserves to be seen.
func (h *storeHealth) failed(op string, err error, msg string) {
	if !errors.Is(err, store.ErrUnavailable) {
		h.log.Error(msg, "op", op, "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		h.log.Debug("store still unreachable", "op", op, "err", err)
		return
	}
	h.down, h.since = true, time.Now()
	text := "store unreachable; retrying"
	if n := h.unwritten(); n > 0 {
		text = fmt.Sprintf("store unreachable; keeping %d outcomes and retrying", n)
	}
	h.log.Warn(text, "op", op, "err", err)
}

// ok records a store call that succeeded.
func (h *storeHealth) ok() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down {
		return
	}
	h.down = false
	h.log.Info("store reachable again", "after", time.Since(h.since).Round(time.Millisecond))
}

// isDown reports whether the store was unreachable at the last call.
func (h *storeHealth) isDown() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down
}
