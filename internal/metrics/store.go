package metrics

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/store"
)

// StoreOptions tune a StoreCollector.
type StoreOptions struct {
	// Health holds the thresholds behind jobctl_health_status and
	// jobctl_workers_live, as `jobctl health` applies them.
	Health health.Inputs
	// CacheTTL is how long one reading of the store answers scrapes; 0
	// reads the store on every scrape.
	CacheTTL time.Duration
	// Wait is how long a scrape waits for a new reading when the cached
	// one has expired (default 100ms). Past it the scrape gets the expired
	// reading, and the next scrape the new one. Without a cache, scrapes
	// always wait.
	Wait time.Duration
	// Timeout bounds one reading (default 10s, Prometheus's scrape timeout).
	Timeout time.Duration
	// OnError, if set, hears each reading that failed.
	OnError func(error)
}

// StoreCollector reads the queue's state from the store when scraped. One
// reading is a health check plus a count of "Job" by type and status, which
// takes a few hundred milliseconds on a table of a million jobs. Within
// CacheTTL of a reading scrapes get its numbers; scrapes that arrive together
// share one reading; and a scrape that finds the reading expired waits only
// opts.Wait for the next, so scrapes stay fast however large the table.
type StoreCollector struct {
	store store.Store
	opts  StoreOptions

	mu      sync.Mutex
	last    *reading
	pending chan struct{} // closed when the reading under way is stored
}

// reading is the store's state at one moment.
type reading struct {
	at     time.Time
	took   time.Duration
	report *health.Report
	snap   *store.Snapshot // nil when the store could not be read
	stats  *store.Stats    // nil when the store could not be read
	ok     bool
}

var (
	descJobs = prometheus.NewDesc("jobctl_jobs",
		"Jobs in \"Job\" by status and type (archived jobs are not counted).", []string{"status", "type"}, nil)
	descOldestPending = prometheus.NewDesc("jobctl_oldest_pending_job_age_seconds",
		"How long the oldest due PENDING job has waited since its scheduledFor; 0 when none is due.", nil, nil)
	descWorkersLive = prometheus.NewDesc("jobctl_workers_live",
		"Registered workers that pinged within the health threshold (maxWorkerSilence).", nil, nil)
	descWorkers = prometheus.NewDesc("jobctl_workers_registered",
		"Workers in \"Worker\", live or silent.", nil, nil)
	descLastPing = prometheus.NewDesc("jobctl_worker_last_ping_age_seconds",
		"Seconds since the most recent ping of any worker; absent when no worker is registered.", nil, nil)
	descHealth = prometheus.NewDesc("jobctl_health_status",
		"The health check's status: 0 healthy, 1 degraded, 2 unhealthy (or store unreachable).", nil, nil)
	descUp = prometheus.NewDesc("jobctl_store_up",
		"1 if the last reading of the store succeeded, else 0.", nil, nil)
	descReadSeconds = prometheus.NewDesc("jobctl_store_read_duration_seconds",
		"How long the reading of the store behind these numbers took.", nil, nil)
	descReadAge = prometheus.NewDesc("jobctl_store_reading_age_seconds",
		"How old the reading of the store behind these numbers is (see jobctl serve --metrics-cache).", nil, nil)
)

// NewStoreCollector returns a collector over s; register it with a registry.
func NewStoreCollector(s store.Store, opts StoreOptions) *StoreCollector {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Wait <= 0 {
		opts.Wait = 100 * time.Millisecond
	}
	return &StoreCollector{store: s, opts: opts}
}

// Describe implements prometheus.Collector.
func (c *StoreCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descJobs, descOldestPending, descWorkersLive, descWorkers, descLastPing, descHealth, descUp, descReadSeconds, descReadAge} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *StoreCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.read()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	up := 0.0
	if r.ok {
		up = 1
	}
	gauge(descUp, up)
	gauge(descReadSeconds, r.took.Seconds())
	gauge(descReadAge, time.Since(r.at).Seconds())
	gauge(descHealth, healthValue(r.report.Status))
	if snap := r.snap; snap != nil {
		age := 0.0
		if snap.OldestDue != nil {
			age = max(snap.Now.Sub(*snap.OldestDue).Seconds(), 0)
		}
		gauge(descOldestPending, age)
		if live := r.report.Checks.LiveWorkers; live != nil {
			gauge(descWorkersLive, float64(*live))
		}
		gauge(descWorkers, float64(len(snap.Workers)))
		var last time.Time
		for _, w := range snap.Workers {
			if w.LastPing.After(last) {
				last = w.LastPing
			}
		}
		if !last.IsZero() {
			gauge(descLastPing, max(snap.Now.Sub(last).Seconds(), 0))
		}
	}
	if r.stats != nil {
		// Every status of a type that has any job, zeros included, so a
		// series does not vanish when its count drops to nothing.
		for _, ts := range r.stats.ByType {
			for _, st := range store.Statuses {
				gauge(descJobs, float64(ts.Counts[st]), string(st), ts.Type)
			}
		}
	}
}

func healthValue(status string) float64 {
	switch status {
	case health.Healthy:
		return 0
	case health.Degraded:
		return 1
	}
	return 2
}

// Prime starts a first reading in the background, so that with a cache even
// the first scrape is served from it rather than waiting for the store.
func (c *StoreCollector) Prime() { go c.read() }

// read returns the cached reading while it is fresh. Otherwise it starts a
// new one, unless one is under way, and waits for it: without limit when
// there is no cache or nothing to fall back on, else up to opts.Wait.
func (c *StoreCollector) read() *reading {
	c.mu.Lock()
	last := c.last
	if last != nil && c.opts.CacheTTL > 0 && time.Since(last.at) < c.opts.CacheTTL {
		c.mu.Unlock()
		return last
	}
	done := c.pending
	if done == nil {
		done = make(chan struct{})
		c.pending = done
		go func() {
			r := c.readStore()
			c.mu.Lock()
			c.last, c.pending = r, nil
			c.mu.Unlock()
			close(done)
		}()
	}
	c.mu.Unlock()

	var expired <-chan time.Time
	if last != nil && c.opts.CacheTTL > 0 {
		t := time.NewTimer(c.opts.Wait)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.last
	case <-expired:
		return last
	}
}

func (c *StoreCollector) readStore() *reading {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	t0 := time.Now()
	r := &reading{}
	r.report, r.snap = health.CheckSnapshot(ctx, c.store, c.opts.Health)
	var err error
	if r.snap != nil {
		// Since = now keeps the per-type durations and top errors, which
		// the metrics do not use, to an empty index range.
		r.stats, err = c.store.Stats(ctx, &store.StatsParams{Since: r.snap.Now, TopErrors: 1})
		r.ok = err == nil
	}
	r.at = time.Now()
	r.took = r.at.Sub(t0)
	if !r.ok && c.opts.OnError != nil {
		if err == nil {
			err = healthError(r.report)
		}
		c.opts.OnError(err)
	}
	return r
}

// healthError is the first problem of a report whose snapshot failed.
func healthError(r *health.Report) error {
	for _, p := range r.Problems {
		return errors.New(p.Message)
	}
	return errors.New("store could not be read")
}
