package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// outageStore is a store that, while down, fails every call the worker
// makes as an unreachable database does, and counts the calls.
type outageStore struct {
	store.Store
	down atomic.Bool
	// loseClaim makes the next claim commit and then fail, as one whose
	// connection is cut before its answer arrives.
	loseClaim atomic.Bool
	mu        sync.Mutex
	calls     map[string]int
}

func newOutageStore(s store.Store) *outageStore {
	return &outageStore{Store: s, calls: map[string]int{}}
}

func (o *outageStore) call(op string) error {
	o.mu.Lock()
	o.calls[op]++
	o.mu.Unlock()
	if o.down.Load() {
		return &store.UnavailableError{Op: op, Reason: "test outage"}
	}
	return nil
}

func (o *outageStore) count(op string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls[op]
}

func (o *outageStore) RegisterWorker(ctx context.Context, w *store.WorkerInfo) error {
	if err := o.call("register"); err != nil {
		return err
	}
	return o.Store.RegisterWorker(ctx, w)
}

func (o *outageStore) Heartbeat(ctx context.Context, id string, done int64) ([]string, error) {
	if err := o.call("heartbeat"); err != nil {
		return nil, err
	}
	return o.Store.Heartbeat(ctx, id, done)
}

func (o *outageStore) DeregisterWorker(ctx context.Context, id string) error {
	if err := o.call("deregister"); err != nil {
		return err
	}
	return o.Store.DeregisterWorker(ctx, id)
}

func (o *outageStore) PruneWorkers(ctx context.Context, cutoff time.Time) (int64, error) {
	if err := o.call("prune"); err != nil {
		return 0, err
	}
	return o.Store.PruneWorkers(ctx, cutoff)
}

func (o *outageStore) Claim(ctx context.Context, p *store.ClaimParams) ([]*store.Job, error) {
	if err := o.call("claim"); err != nil {
		return nil, err
	}
	if o.loseClaim.CompareAndSwap(true, false) {
		jobs, err := o.Store.Claim(ctx, p)
		if err == nil && len(jobs) > 0 {
			return nil, &store.UnavailableError{Op: "claim", Reason: "connection lost"}
		}
		o.loseClaim.Store(true)
		return jobs, err
	}
	return o.Store.Claim(ctx, p)
}

func (o *outageStore) Complete(ctx context.Context, id string, cs []store.Completion) (int64, error) {
	if err := o.call("complete"); err != nil {
		return 0, err
	}
	return o.Store.Complete(ctx, id, cs)
}

func (o *outageStore) Fail(ctx context.Context, id string, fs []store.Failure) (int64, error) {
	if err := o.call("fail"); err != nil {
		return 0, err
	}
	return o.Store.Fail(ctx, id, fs)
}

func (o *outageStore) MarkCancelled(ctx context.Context, id string, ids []string) (int64, error) {
	if err := o.call("cancel"); err != nil {
		return 0, err
	}
	return o.Store.MarkCancelled(ctx, id, ids)
}

func (o *outageStore) Release(ctx context.Context, id string, ids []string) (int64, error) {
	if err := o.call("release"); err != nil {
		return 0, err
	}
	return o.Store.Release(ctx, id, ids)
}

func (o *outageStore) Expired(ctx context.Context, cutoff time.Time, limit int) ([]*store.Job, error) {
	if err := o.call("expired"); err != nil {
		return nil, err
	}
	return o.Store.Expired(ctx, cutoff, limit)
}

func (o *outageStore) Drain(ctx context.Context, types []string) (*store.DrainState, error) {
	if err := o.call("drain"); err != nil {
		return nil, err
	}
	return o.Store.Drain(ctx, types)
}

func (o *outageStore) EnqueueDue(ctx context.Context, now time.Time, next func(*store.Schedule) (time.Time, error)) ([]*store.Job, error) {
	if err := o.call("schedules"); err != nil {
		return nil, err
	}
	return o.Store.EnqueueDue(ctx, now, next)
}

// logBuffer collects a worker's text log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func statuses(t *testing.T, s store.Store, ids []string) map[store.Status]int {
	t.Helper()
	m := map[store.Status]int{}
	for _, id := range ids {
		m[get(t, s, id).Status]++
	}
	return m
}

func enqueueSleeps(t *testing.T, s store.Store, n, ms int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = enqueue(t, s, &store.EnqueueParams{Type: "LongSleep", Data: json.RawMessage(`{"ms":` + itoa(ms) + `}`)}).ID
	}
	return ids
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestBackoffDoublesToCap(t *testing.T) {
	b := backoff{first: retryFirst, limit: retryCap}
	var got []time.Duration
	for range 9 {
		got = append(got, b.wait())
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("backoff = %v; want 100ms doubling to a 5s cap", got)
		}
	}
	b.reset()
	if d := b.wait(); d != retryFirst {
		t.Errorf("after reset the first wait is %v; want %v", d, retryFirst)
	}
}

// TestOutcomesOutliveOutage: jobs that finish while the store is down keep
// their outcomes, and they are written once it is back: every job ends
// COMPLETED after one attempt. The outage outlasts the few tries the worker
// used to make (about 3s) before dropping outcomes and leaving the jobs
// RUNNING under its live lease. The log says once that the store went away
// and once that it is back, and claims back off meanwhile.
func TestOutcomesOutliveOutage(t *testing.T) {
	t.Parallel()
	s := newOutageStore(teststore.SQLite(t))
	ids := enqueueSleeps(t, s, 12, 400)
	var logs logBuffer
	w := newWorker(t, s, Options{Concurrency: 8, Logger: logs.logger(), Heartbeat: 50 * time.Millisecond, Lease: time.Minute})
	w.retry.limit = 500 * time.Millisecond // recover quickly once the store is back
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	// All 12 are claimed at once (8 run, 4 prefetched): wait for the 8.
	waitFor(t, 5*time.Second, "8 jobs to start", func() bool { return w.handling.Load() == 8 })

	s.down.Store(true)
	claimsBefore := s.count("claim")
	const outage = 4 * time.Second
	time.Sleep(outage)
	claims := s.count("claim") - claimsBefore
	s.down.Store(false)
	// The first 8 finished during the outage; their outcomes were kept.
	if n := s.count("complete"); n < 3 {
		t.Errorf("%d tries to write outcomes during a %v outage; want retries", n, outage)
	}
	// A 50ms poll would try about 80 times; capped doubling from 100ms, 8.
	if claims > 12 {
		t.Errorf("%d claims during a %v outage: claims do not back off", claims, outage)
	}

	waitFor(t, 10*time.Second, "every job to complete", func() bool { return statuses(t, s, ids)[store.StatusCompleted] == len(ids) })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if j := get(t, s, id); j.Attempts != 1 {
			t.Errorf("%s ran %d times; want once", id, j.Attempts)
		}
	}
	log := logs.String()
	if n := strings.Count(log, `msg="store unreachable`); n != 1 {
		t.Errorf("the log says %d times that the store is unreachable; want once:\n%s", n, log)
	}
	if !regexp.MustCompile(`msg="store unreachable; (keeping [1-8] outcomes? and )?retrying"`).MatchString(log) {
		t.Errorf("the log does not say the store went away:\n%s", log)
	}
	if n := strings.Count(log, `msg="store reachable again"`); n != 1 {
		t.Errorf("the log says %d times that the store is back; want once:\n%s", n, log)
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("an outage logged errors per try:\n%s", log)
	}
}

// TestStopDuringOutageGivesUpAtTimeout: a worker stopped while the store is
// down keeps trying until the shutdown timeout, then fails naming how many
// jobs will be rescued, and leaves its row for the lease to run out (no
// deregistration that would hand the jobs to a rescuer at once, and no
// heartbeat over them after giving up).
func TestStopDuringOutageGivesUpAtTimeout(t *testing.T) {
	t.Parallel()
	s := newOutageStore(teststore.SQLite(t))
	ids := enqueueSleeps(t, s, 3, 500)
	w := newWorker(t, s, Options{Concurrency: 3, ShutdownTimeout: 700 * time.Millisecond, Heartbeat: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	waitFor(t, 5*time.Second, "jobs to start", func() bool { return statuses(t, s, ids)[store.StatusRunning] == 3 })
	s.down.Store(true)
	time.Sleep(700 * time.Millisecond) // the jobs end; their outcomes wait
	stopped := time.Now()
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a worker stopped during an outage never exited")
	}
	took := time.Since(stopped)
	if err == nil || err.Error() != "worker stopped with 3 outcomes unwritten: those jobs will be rescued after the lease" {
		t.Fatalf("Run = %v; want the count of unwritten outcomes", err)
	}
	if took < 600*time.Millisecond {
		t.Errorf("gave up after %v; want the shutdown timeout (700ms) of tries", took)
	}
	beats := s.count("heartbeat")
	time.Sleep(200 * time.Millisecond)
	if s.count("heartbeat") != beats {
		t.Error("heartbeats went on after the worker gave up its outcomes")
	}
	if s.count("deregister") != 0 {
		t.Error("a worker that gave up outcomes deregistered: its jobs would be rescued before the lease")
	}
	s.down.Store(false)
	if st := statuses(t, s, ids); st[store.StatusRunning] != 3 {
		t.Errorf("jobs after giving up: %v; want RUNNING, for the rescue", st)
	}
}

// TestStopDuringOutageWritesWhenBack: a worker stopped during an outage
// that ends within the shutdown timeout writes every outcome and exits
// cleanly.
func TestStopDuringOutageWritesWhenBack(t *testing.T) {
	t.Parallel()
	s := newOutageStore(teststore.SQLite(t))
	ids := enqueueSleeps(t, s, 4, 500)
	w := newWorker(t, s, Options{Concurrency: 4, ShutdownTimeout: 10 * time.Second})
	w.retry.limit = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	waitFor(t, 5*time.Second, "jobs to start", func() bool { return statuses(t, s, ids)[store.StatusRunning] == 4 })
	s.down.Store(true)
	cancel()
	time.Sleep(time.Second)
	select {
	case err := <-done:
		t.Fatalf("the worker exited during the outage (%v) with its shutdown timeout still running", err)
	default:
	}
	s.down.Store(false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := statuses(t, s, ids); st[store.StatusCompleted] != 4 {
		t.Errorf("jobs: %v; want all COMPLETED", st)
	}
	ws, _ := s.Workers(context.Background())
	if len(ws) != 0 {
		t.Errorf("worker row left after a clean stop")
	}
}

// TestLostClaimAnswerIsHandedBack: a claim that committed but whose answer
// was lost leaves jobs RUNNING under the worker, which never heard of them
// and keeps its lease alive. The worker finds them once the store answers
// again and hands them back, so they run (once) instead of never.
func TestLostClaimAnswerIsHandedBack(t *testing.T) {
	t.Parallel()
	s := newOutageStore(teststore.SQLite(t))
	s.loseClaim.Store(true)
	ids := enqueueSleeps(t, s, 3, 10)
	w := newWorker(t, s, Options{Concurrency: 4, Lease: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	waitFor(t, 10*time.Second, "every job to complete", func() bool { return statuses(t, s, ids)[store.StatusCompleted] == len(ids) })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if j := get(t, s, id); j.Attempts != 1 {
			t.Errorf("%s: %d attempts; want 1 (the lost claim is not an attempt)", id, j.Attempts)
		}
	}
}

// TestStoreHealthLogsEachOutageOnce: however many calls fail or succeed,
// and in whatever order their answers arrive, one outage is one line when
// it starts and one when it ends.
func TestStoreHealthLogsEachOutageOnce(t *testing.T) {
	var logs logBuffer
	h := &storeHealth{log: logs.logger(), unwritten: func() int64 { return 3 }}
	lost := &store.UnavailableError{Op: "claim", Reason: "connection refused"}
	before := time.Now()
	h.ok(before)
	h.failed("claim", lost, time.Now(), "claim failed")
	h.failed("heartbeat", lost, time.Now(), "heartbeat failed")
	h.ok(before)     // begun before the outage: its connection had not been cut yet
	h.ok(time.Now()) // within settle of the outage: likewise
	if got := h.back(lost); closed(got) {
		t.Fatal("back() is closed while the store is unreachable")
	}
	ch := h.back(lost)
	h.failed("complete", lost, time.Now(), "could not record outcomes")
	h.ok(time.Now().Add(settle))
	if !closed(ch) {
		t.Error("back() did not close when the store came back")
	}
	h.failed("claim", lost, before, "claim failed") // begun during the outage: old news
	h.ok(time.Now())
	h.failed("claim", errors.New("syntax error"), time.Now(), "claim failed")
	log := logs.String()
	want := []string{
		`level=WARN msg="store unreachable; keeping 3 outcomes and retrying" op=claim err="store unreachable (connection refused)"`,
		`level=INFO msg="store reachable again"`,
		`level=ERROR msg="claim failed" op=claim err="syntax error"`,
	}
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) != len(want) {
		t.Fatalf("log:\n%s\nwant %d lines", log, len(want))
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d = %s\nwant %s", i+1, lines[i], w)
		}
	}
}
