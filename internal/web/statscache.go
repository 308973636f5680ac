package web

import (
	"context"
	"sync"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// statsCache answers GET /api/admin/stats from a reading of the store at
// most ttl old, as /metrics does with --metrics-cache. Stats is the guide's
// whole dashboard (counts by type and status over every job, run-time
// percentiles, top errors): hundreds of milliseconds of the database's time
// on a table of a million jobs, which a dashboard polling every few seconds
// from several browsers would spend over and over for the same figures.
//
// Each scope (all jobs, or one user's) and query has its own entry. The
// first request for one reads the store while later ones wait for it; once
// an entry is older than ttl, the next request gets it as it is and starts
// one refresh in the background (stale-while-revalidate), so only a cold
// entry ever waits for the store. An entry nobody asked for in staleAfter
// is read afresh rather than served. The answer's "now" is the database's
// clock when it was read, so a client can tell its age.
type statsCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*statsEntry
}

// staleAfter is how old an entry may be and still be served while it is
// refreshed: beyond it the request waits for a fresh reading.
const staleAfterTTLs = 12

// maxStatsEntries bounds the cache: each distinct query (types, window,
// top) makes an entry, and a client could send many.
const maxStatsEntries = 256

type statsEntry struct {
	ready      chan struct{} // closed when the first reading is in
	st         *store.Stats
	at         time.Time // when st was read
	refreshing bool
}

func newStatsCache(ttl time.Duration, now func() time.Time) *statsCache {
	return &statsCache{ttl: ttl, now: now, entries: map[string]*statsEntry{}}
}

// get returns the entry for key, reading it with read when it is missing
// or too old, and refreshing it in the background when merely stale.
func (c *statsCache) get(ctx context.Context, key string, read func(context.Context) (*store.Stats, error)) (*store.Stats, error) {
	if c == nil || c.ttl <= 0 {
		return read(ctx)
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok {
		select {
		case <-e.ready:
		default:
			// Another request is reading it: wait for that reading.
			c.mu.Unlock()
			select {
			case <-e.ready:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			c.mu.Lock()
		}
		if e.st != nil {
			age := c.now().Sub(e.at)
			switch {
			case age < c.ttl:
				st := e.st
				c.mu.Unlock()
				return st, nil
			case age < staleAfterTTLs*c.ttl:
				st := e.st
				if !e.refreshing {
					e.refreshing = true
					go c.refresh(key, e, read)
				}
				c.mu.Unlock()
				return st, nil
			}
		}
		// Failed, or too old to serve: read afresh, below.
		if c.entries[key] == e {
			delete(c.entries, key)
		}
	}
	if len(c.entries) >= maxStatsEntries {
		c.prune()
	}
	if len(c.entries) >= maxStatsEntries {
		c.mu.Unlock()
		return read(ctx)
	}
	e = &statsEntry{ready: make(chan struct{})}
	c.entries[key] = e
	c.mu.Unlock()

	st, err := read(ctx)
	c.mu.Lock()
	if err == nil {
		e.st, e.at = st, c.now()
	} else if c.entries[key] == e {
		delete(c.entries, key)
	}
	close(e.ready)
	c.mu.Unlock()
	return st, err
}

// refresh reads a stale entry again, on a context of its own: the request
// that noticed it has been answered and may be gone. A failed refresh keeps
// the old reading until staleAfter, and the next request tries again.
func (c *statsCache) refresh(key string, e *statsEntry, read func(context.Context) (*store.Stats, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := read(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	e.refreshing = false
	if err == nil {
		e.st, e.at = st, c.now()
	}
}

// prune drops the entries too old to serve; c.mu is held.
func (c *statsCache) prune() {
	for k, e := range c.entries {
		select {
		case <-e.ready:
			if e.st == nil || c.now().Sub(e.at) >= staleAfterTTLs*c.ttl {
				delete(c.entries, k)
			}
		default:
		}
	}
}
