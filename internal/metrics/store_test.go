package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

func storeHandler(s store.Store, ttl time.Duration) *StoreCollector {
	return NewStoreCollector(s, StoreOptions{CacheTTL: ttl, Health: health.Inputs{Thresholds: config.DefaultHealth(), Lease: time.Minute}})
}

func TestStoreCollector(t *testing.T) {
	teststore.Each(t, func(t *testing.T, s *teststore.Backend) {
		now := time.Now()
		teststore.Seed(t, s, "CalendarSync", store.StatusPending, 1, now.Add(-45*time.Minute))
		teststore.Seed(t, s, "CalendarSync", store.StatusPending, 2, now)
		teststore.Seed(t, s, "CalendarSync", store.StatusPending, 1, now.Add(time.Hour)) // not due
		teststore.Seed(t, s, "CalendarSync", store.StatusRunning, 1, now)
		teststore.Seed(t, s, "CalendarSync", store.StatusCompleted, 3, now.Add(-time.Hour))
		teststore.Seed(t, s, "Report", store.StatusFailed, 2, now.Add(-time.Hour))
		teststore.Seed(t, s, "Report", store.StatusDead, 1, now.Add(-time.Hour))
		teststore.Seed(t, s, "Report", store.StatusRetrying, 1, now.Add(time.Minute))

		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(storeHandler(s, 0))
		h := Handler(reg)

		fams := scrape(t, h)
		for name := range fams {
			if !strings.HasPrefix(name, "jobctl_") {
				t.Errorf("series %s is not named jobctl_…", name)
			}
		}
		want := map[[2]string]float64{
			{"CalendarSync", "PENDING"}: 4, {"CalendarSync", "RUNNING"}: 1, {"CalendarSync", "COMPLETED"}: 3,
			{"Report", "FAILED"}: 2, {"Report", "DEAD"}: 1, {"Report", "RETRYING"}: 1,
		}
		for _, typ := range []string{"CalendarSync", "Report"} {
			for _, st := range store.Statuses {
				expect(t, fams, want[[2]string{typ, string(st)}], "jobctl_jobs", "status", string(st), "type", typ)
			}
		}
		if n := len(fams["jobctl_jobs"].GetMetric()); n != 2*len(store.Statuses) {
			t.Errorf("jobctl_jobs has %d series; want %d", n, 2*len(store.Statuses))
		}
		if age, _ := value(fams, "jobctl_oldest_pending_job_age_seconds"); age < 45*60-5 || age > 45*60+30 {
			t.Errorf("oldest pending age = %vs; want about 2700", age)
		}
		expect(t, fams, 1, "jobctl_store_up")
		expect(t, fams, 0, "jobctl_workers_live")
		expect(t, fams, 0, "jobctl_workers_registered")
		expect(t, fams, 2, "jobctl_health_status") // no worker: critical
		if _, ok := value(fams, "jobctl_worker_last_ping_age_seconds"); ok {
			t.Error("jobctl_worker_last_ping_age_seconds is present with no worker registered")
		}

		if err := s.RegisterWorker(context.Background(), &store.WorkerInfo{ID: "w1", Host: "test", PID: 1, Types: []string{"CalendarSync"}, Concurrency: 1}); err != nil {
			t.Fatal(err)
		}
		fams = scrape(t, h)
		expect(t, fams, 1, "jobctl_workers_live")
		expect(t, fams, 1, "jobctl_workers_registered")
		expect(t, fams, 1, "jobctl_health_status") // the 45-minute-old job: degraded
		if age, ok := value(fams, "jobctl_worker_last_ping_age_seconds"); !ok || age > 10 {
			t.Errorf("last ping age = %v (%v); want a few seconds", age, ok)
		}
	})
}

func TestStoreCollectorCache(t *testing.T) {
	teststore.Each(t, func(t *testing.T, s *teststore.Backend) {
		teststore.Seed(t, s, "A", store.StatusPending, 1, time.Now())
		cached, fresh := prometheus.NewRegistry(), prometheus.NewRegistry()
		cached.MustRegister(storeHandler(s, time.Hour))
		fresh.MustRegister(storeHandler(s, 0))
		pending := func(reg *prometheus.Registry) float64 {
			v, _ := value(scrape(t, Handler(reg)), "jobctl_jobs", "status", "PENDING", "type", "A")
			return v
		}
		if c, f := pending(cached), pending(fresh); c != 1 || f != 1 {
			t.Fatalf("pending: cached %v, fresh %v; want 1", c, f)
		}
		teststore.Seed(t, s, "A", store.StatusPending, 2, time.Now())
		if c, f := pending(cached), pending(fresh); c != 1 || f != 3 {
			t.Errorf("after 2 more: cached %v (want 1, within the TTL), fresh %v (want 3)", c, f)
		}
	})
}

func TestStoreCollectorUnreachable(t *testing.T) {
	teststore.Each(t, func(t *testing.T, s *teststore.Backend) {
		var errs []error
		c := NewStoreCollector(s, StoreOptions{Health: health.Inputs{Thresholds: config.DefaultHealth()}, OnError: func(err error) { errs = append(errs, err) }})
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		s.Close()
		fams := scrape(t, Handler(reg))
		expect(t, fams, 0, "jobctl_store_up")
		expect(t, fams, 2, "jobctl_health_status")
		if _, ok := fams["jobctl_jobs"]; ok {
			t.Error("jobctl_jobs reported from a closed store")
		}
		if len(errs) != 1 {
			t.Errorf("OnError heard %d errors; want 1", len(errs))
		}
	})
}

// slowStore takes delay over each Stats, as a large table does.
type slowStore struct {
	store.Store
	delay time.Duration
}

func (s slowStore) Stats(ctx context.Context, p *store.StatsParams) (*store.Stats, error) {
	time.Sleep(s.delay)
	return s.Store.Stats(ctx, p)
}

func TestStoreCollectorWait(t *testing.T) {
	teststore.Each(t, func(t *testing.T, s *teststore.Backend) {
		teststore.Seed(t, s, "A", store.StatusPending, 1, time.Now())
		c := NewStoreCollector(slowStore{s, 300 * time.Millisecond}, StoreOptions{CacheTTL: time.Millisecond, Wait: 50 * time.Millisecond})
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		pending := func() (float64, time.Duration) {
			t0 := time.Now()
			v, _ := value(scrape(t, Handler(reg)), "jobctl_jobs", "status", "PENDING", "type", "A")
			return v, time.Since(t0)
		}
		// Nothing to fall back on: the first scrape waits for its reading.
		if v, took := pending(); v != 1 || took < 300*time.Millisecond {
			t.Fatalf("first scrape: %v in %v; want 1 after the slow read", v, took)
		}
		teststore.Seed(t, s, "A", store.StatusPending, 2, time.Now())
		time.Sleep(5 * time.Millisecond)
		// Expired: the scrape waits 50ms, then gets the old reading.
		if v, took := pending(); v != 1 || took > 250*time.Millisecond {
			t.Errorf("expired scrape: %v in %v; want the old 1 within the wait", v, took)
		}
		time.Sleep(400 * time.Millisecond) // the new reading lands
		if v, took := pending(); v != 3 || took > 250*time.Millisecond {
			t.Errorf("next scrape: %v in %v; want the new 3, fast", v, took)
		}
		time.Sleep(400 * time.Millisecond) // let the reading this scrape started finish
	})
}

func TestPrimeReadsBeforeTheFirstScrape(t *testing.T) {
	b := teststore.SQLite(t)
	c := NewStoreCollector(b, StoreOptions{CacheTTL: time.Minute})
	c.Prime()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		ready := c.last != nil
		c.mu.Unlock()
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Prime did not read the store")
		}
		time.Sleep(10 * time.Millisecond)
	}
	first := c.read()
	if first == nil || !first.ok {
		t.Fatalf("first reading after Prime: %+v", first)
	}
}
