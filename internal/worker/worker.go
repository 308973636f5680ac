// Package worker is `jobctl worker run`: it claims due jobs of the types its
// config has handlers for, runs them with a timeout, records each outcome
// through the retry policy, keeps its lease alive, rescues jobs of workers
// that went silent, and shuts down without losing a job.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/retry"
	"github.com/jobctl/jobctl/internal/store"
)

// Options tune a worker. Zero values take the defaults noted.
type Options struct {
	Concurrency int // jobs at once (default 10)
	// Prefetch is how many jobs the worker claims ahead of free slots;
	// negative: none. By default (0) it adapts: as many as the worker
	// finished in the last second, up to Concurrency but at least
	// defaultPrefetch, so fast jobs are claimed well ahead and slow ones not
	// at all, where a prefetched job would wait while another worker could
	// run it. Prefetched jobs are RUNNING under this worker, held by its
	// lease like running ones and rescued like them if it dies; a graceful
	// stop hands them back.
	Prefetch        int
	Types           []string      // only these of the config's types (default all)
	Drain           bool          // exit once nothing is due or running
	PollInterval    time.Duration // claim this often without a notification (default 1s)
	Lease           time.Duration // silence after which a worker's jobs are rescued (default 60s)
	ShutdownTimeout time.Duration // wait for running jobs on stop (default 30s)
	Heartbeat       time.Duration // ping and cancel check (default 2s, at most Lease/3)
	Env             Env           // what exec handlers are told about the store
	// Store names the store in the worker's logs: its DSN with the
	// password masked. The worker is never given anything to mask.
	Store  string
	Logger *slog.Logger
	// Hard, when closed, stops the worker at once: running handlers are
	// killed and their jobs left RUNNING for another worker to rescue.
	Hard <-chan struct{}
	// Observer, if set, hears every transition (metrics).
	Observer Observer

	adaptive bool // Prefetch was defaulted: adapt it to the rate
}

// Observer hears about job transitions; the metrics server implements it.
type Observer interface {
	Claimed(n int)
	Started(j *store.Job)
	Finished(j *store.Job, status store.Status, d time.Duration)
}

// Causes of a handler's context ending, which decide the job's fate.
var (
	errCancelled = errors.New("cancelled by an operator")
	errShutdown  = errors.New("worker shutting down")
	errHardStop  = errors.New("worker stopped at once")
	errNoTypes   = errors.New("no job type left to claim: the handler of every one cannot start")
	//lint:ignore ST1005 the guide's own message, recorded as the job's error
	errTimeout = errors.New(retry.TimeoutMessage)
	// ErrHardStop is Run's error after a second signal.
	ErrHardStop = errors.New("worker stopped at once; its running jobs will be rescued after the lease")
)

// Worker runs jobs from one store.
type Worker struct {
	store    store.Store
	opts     Options
	id       string
	config   string // the config file's path
	types    []string
	handlers map[string]Handler
	policies map[string]retry.Policy
	log      *slog.Logger
	obs      Observer

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc
	// held are the jobs claimed whose outcome is not yet written, each
	// by the claim's own copy: a job claimed again (its retry fell due)
	// before the writer of its last outcome is done is held by the new
	// claim, which that writer must not forget.
	held map[string]*store.Job

	// claiming are the types still claimed (under mu): a type whose
	// handler cannot start is dropped. Replaced, never changed in place.
	claiming []string

	inflight  atomic.Int64 // claimed and not yet run to the end: prefetched or running
	handling  atomic.Int64 // handlers running
	buffered  atomic.Int64 // prefetched: claimed, waiting for a slot
	pending   atomic.Int64 // outcomes not yet written, prefetched and running jobs included
	unwritten atomic.Int64 // outcomes given up on at the end: their jobs will be rescued
	done      atomic.Int64 // jobs finished by this worker
	wg        sync.WaitGroup
	// runners are the goroutines taking jobs from the queue, started as
	// the work needs them (grow), up to Concurrency; idle of them wait on
	// the queue, inHandler are in a handler. jobCtx is theirs (Run).
	runners, idle, inHandler atomic.Int64
	jobCtx                   context.Context
	// results carries outcomes from the runners to the flushers. It has
	// room for a full write (flushBatch) at any concurrency: while both
	// flushers' writes are on their way, fast jobs' outcomes queue up for
	// the next one. Sized 2×Concurrency+64, it stopped the runners of a
	// worker at --concurrency 50 at ~214 outcomes a write, and its noop
	// jobs at 0.56 of the Postgres ceiling (TestFastJobsCompleteInFullBatches).
	results chan outcome
	// outputs bounds the handler output held in results and the
	// flushers' batches (maxHeldOutput).
	outputs outputBudget
	// queue holds the prefetched jobs; up to Concurrency runners take
	// from it.
	queue chan *store.Job
	// stopping closes when the claim loop ends: prefetched jobs still
	// queued are handed back rather than started.
	stopping chan struct{}
	// cancelQueued are prefetched jobs an operator cancelled before they
	// started (under mu).
	cancelQueued map[string]bool

	// claimMu orders claims' bookkeeping: a claim reserves its limit
	// first, so two claims at once never hold more than the queue holds.
	claimMu     sync.Mutex
	reserved    int  // places promised to claims in flight
	queueClosed bool // the queue is closed: late claims leave their jobs
	paused      bool // releaseOrphans is looking: no claim may start
	// more tells the second claimer that the last claim came back full.
	more chan struct{}
	// unsure is set when a claim failed in a way that may have committed.
	unsure atomic.Bool
	// prefetch is how far ahead claims go now: Options.Prefetch, or less
	// while the rate is low (adaptive). ended counts handlers that ended.
	prefetch atomic.Int64
	ended    atomic.Int64
	freed    chan struct{}
	wake     chan struct{}
	health   *storeHealth
	// giveUp closes once a stopped worker's ShutdownTimeout has passed, or
	// at a hard stop: outcomes still unwritten get one last try, and the
	// lease is no longer kept over their jobs.
	giveUp chan struct{}
	// retry is how store calls back off while they fail (tests shorten it).
	retry backoff
}

// New builds a worker for the config's job types (narrowed by opts.Types).
func New(s store.Store, cfg *config.Config, opts Options) (*Worker, error) {
	opts = withDefaults(opts)
	w := &Worker{
		store:        s,
		opts:         opts,
		handlers:     map[string]Handler{},
		policies:     map[string]retry.Policy{},
		log:          opts.Logger,
		obs:          opts.Observer,
		running:      map[string]context.CancelCauseFunc{},
		held:         map[string]*store.Job{},
		results:      make(chan outcome, max(2*opts.Concurrency+64, flushBatch)),
		queue:        make(chan *store.Job, opts.Concurrency+opts.Prefetch),
		stopping:     make(chan struct{}),
		more:         make(chan struct{}, 1),
		cancelQueued: map[string]bool{},
		freed:        make(chan struct{}, 1),
		wake:         make(chan struct{}, 1),
		giveUp:       make(chan struct{}),
		retry:        backoff{first: retryFirst, limit: retryCap},
	}
	w.outputs.free.L, w.outputs.max = &w.outputs.mu, maxHeldOutput
	w.health = &storeHealth{log: w.log, unwritten: func() int64 { return w.pending.Load() - w.handling.Load() - w.buffered.Load() }}
	types, err := CheckHandlers(cfg, opts.Types)
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		h, err := NewHandler(cfg.Jobs[t].Handler, opts.Env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		w.handlers[t] = h
		w.policies[t] = cfg.Policy(t)
	}
	w.types, w.claiming = types, types
	if !opts.adaptive {
		w.prefetch.Store(int64(opts.Prefetch))
	}
	w.config = cfg.Path
	host, _ := os.Hostname()
	w.id = fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.IntN(1<<16))
	return w, nil
}

// CheckHandlers returns the job types a worker runs: the config's, or those
// of only (--types) when given. It refuses an exec handler whose program is
// missing or not executable with a *HandlerError, so that a bad deploy
// stops the worker at once rather than fail every job of the type.
func CheckHandlers(cfg *config.Config, only []string) ([]string, error) {
	types := cfg.Types()
	if len(only) > 0 {
		for _, t := range only {
			if !slices.Contains(types, t) {
				return nil, fmt.Errorf("--types: %s has no handler in %s", t, cfg.Path)
			}
		}
		types = only
	}
	if len(types) == 0 {
		return nil, fmt.Errorf("%s gives no job type a handler", cfg.Path)
	}
	for _, t := range types {
		h := cfg.Jobs[t].Handler
		if h.Kind != config.KindExec || len(h.Exec) == 0 {
			continue
		}
		if problem := checkProgram(h.Exec[0]); problem != "" {
			return nil, &HandlerError{Type: t, Program: h.Exec[0], Problem: problem}
		}
	}
	return types, nil
}

// defaultPrefetch is the least the adaptive prefetch may grow to: enough
// that a worker of fast jobs claims maxClaim at a time at any concurrency
// (claims go out once half the capacity is free). At 200, a worker at
// --concurrency 50 claimed ~125 jobs a time, and the Postgres server's
// work per job, not the worker, bounded its rate: 1,000 ran 100k noop jobs
// 20-25% faster at --concurrency 10, 50 and 200 on Postgres, 10-15% on
// SQLite; 2,000 (with maxClaim 1,000) ran them another ~7-10% faster at
// --concurrency 200 (issue 11). It is still at most what the worker
// finished in the last second, so a prefetched job waits about a second
// for a slot at most, whatever the ceiling.
const defaultPrefetch = 2000

func withDefaults(o Options) Options {
	if o.Concurrency <= 0 {
		o.Concurrency = 10
	}
	switch {
	case o.Prefetch < 0:
		o.Prefetch = 0
	case o.Prefetch == 0:
		o.Prefetch = max(o.Concurrency, defaultPrefetch)
		o.adaptive = true
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 60 * time.Second
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 2 * time.Second
	}
	o.Heartbeat = min(o.Heartbeat, o.Lease/3)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// ID is the worker's row ID in "Worker".
func (w *Worker) ID() string { return w.id }

// Types are the job types this worker claims.
func (w *Worker) Types() []string { return w.types }

// Run works until ctx is cancelled (a graceful stop: no new claims, running
// jobs get ShutdownTimeout to finish, then are handed back unharmed), until
// Options.Hard closes, or, with Drain, until nothing is left to do.
//
// Outcomes the store cannot take (an outage) are kept and retried for as
// long as the worker runs. A stopped worker keeps trying until
// ShutdownTimeout; outcomes still unwritten then make Run fail, naming how
// many jobs will be rescued after the lease.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.register(ctx); err != nil {
		return err
	}
	w.log.Info("worker started", "worker", w.id, "store", w.opts.Store, "config", w.config, "types", w.types, "concurrency", w.opts.Concurrency)

	// Handlers run under jobCtx, which outlives ctx so a graceful stop lets
	// them finish. Bookkeeping runs under bg until every outcome is written.
	jobCtx, stopJobs := context.WithCancelCause(context.Background())
	defer stopJobs(errShutdown)
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	ended := make(chan struct{})
	defer close(ended)
	go w.watchStop(ctx, ended)
	var bgWG sync.WaitGroup
	// Two writers, so that one batch of outcomes is on its way while the
	// next gathers: a fast job never waits for a round trip of its own.
	// One on a store of one writer at a time: the next batch gathers while
	// the store is busy anyway, and grows larger.
	flushed := make(chan struct{})
	var flushWG sync.WaitGroup
	_, oneWriter := w.store.(store.OneWriter)
	writers := flushers
	if oneWriter {
		writers = 1
	}
	for range writers {
		flushWG.Add(1)
		go func() { defer flushWG.Done(); w.flush(bg) }()
	}
	go func() { flushWG.Wait(); close(flushed) }()
	w.jobCtx = jobCtx
	w.grow()
	bgWG.Add(1)
	go func() { defer bgWG.Done(); w.housekeep(bg) }()
	if l, ok := w.store.(store.Listener); ok {
		bgWG.Add(1)
		go func() { defer bgWG.Done(); w.listen(bg, l) }()
	}

	// A second claimer keeps a claim in flight while the loop's own waits
	// for its answer, once the prefetch queue is large enough for two. Not
	// with one slot: two claims in flight can land in the queue in the
	// other order, so a NORMAL job could run before a HIGH one claimed in
	// the same moment; with one slot jobs run strictly in priority order
	// (TestClaimOrderAndChains saw the inversion), with more they start
	// side by side anyway. Nor on a store of one writer at a time, where
	// two claims would only take turns, each carrying fewer jobs.
	claimCtx, stopClaimer := context.WithCancel(ctx)
	claimerDone := make(chan struct{})
	if w.opts.adaptive {
		bgWG.Add(1)
		go func() { defer bgWG.Done(); w.tunePrefetch(bg) }()
	}
	if capacity := w.opts.Concurrency + w.opts.Prefetch; !oneWriter && w.opts.Concurrency > 1 && capacity >= 4*minClaim {
		go func() { defer close(claimerDone); w.claimAlongside(claimCtx) }()
	} else {
		close(claimerDone)
	}
	err := w.loop(ctx)
	stopClaimer()
	if !errors.Is(err, errHardStop) {
		// Its claim in flight commits or not; either way its jobs are
		// handed back below, not left under a lease nobody will run.
		<-claimerDone
	}
	close(w.stopping)
	if !errors.Is(err, errHardStop) {
		w.handBackQueued()
	}
	w.claimMu.Lock()
	w.queueClosed = true
	close(w.queue)
	w.claimMu.Unlock()
	if errors.Is(err, errHardStop) {
		stopJobs(errHardStop)
		return ErrHardStop
	}
	if w.handling.Load() > 0 {
		w.log.Info("waiting for running jobs", "running", w.handling.Load(), "timeout", w.opts.ShutdownTimeout)
	}
	if !w.waitIdle(w.opts.ShutdownTimeout) {
		select {
		case <-w.opts.Hard:
			// A second signal: stop now, hand nothing back; the jobs are
			// rescued after the lease.
			stopJobs(errHardStop)
			return ErrHardStop
		default:
		}
		w.log.Warn("shutdown timeout: handing running jobs back", "running", w.handling.Load())
		stopJobs(errShutdown)
		if !w.waitIdle(10 * time.Second) {
			stopJobs(errHardStop)
			return ErrHardStop
		}
	}
	go func() {
		w.wg.Wait()
		close(w.results)
	}()
	select {
	case <-flushed:
	case <-w.opts.Hard:
		stopJobs(errHardStop)
		return ErrHardStop
	}
	stopBG()
	bgWG.Wait()
	if n := w.unwritten.Load(); n > 0 {
		// The worker row stays, so the jobs are rescued once its lease
		// runs out, as the message says, and not before.
		return fmt.Errorf("worker stopped with %d %s unwritten: those jobs will be rescued after the lease", n, plural(n, "outcome"))
	}
	if err := w.store.DeregisterWorker(context.Background(), w.id); err != nil {
		w.log.Warn("deregister", "err", err)
	}
	w.log.Info("worker stopped", "worker", w.id, "done", w.done.Load())
	return err
}

func (w *Worker) register(ctx context.Context) error {
	host, _ := os.Hostname()
	return w.store.RegisterWorker(ctx, &store.WorkerInfo{
		ID: w.id, Host: host, PID: os.Getpid(), Types: w.claimTypes(),
		Concurrency: w.opts.Concurrency, JobsDone: w.done.Load(),
	})
}

// watchStop closes giveUp once ShutdownTimeout has passed since ctx ended,
// or at a hard stop.
func (w *Worker) watchStop(ctx context.Context, ended <-chan struct{}) {
	select {
	case <-ctx.Done():
		t := time.NewTimer(w.opts.ShutdownTimeout)
		defer t.Stop()
		select {
		case <-t.C:
		case <-w.opts.Hard:
		case <-ended:
			return
		}
	case <-w.opts.Hard:
	case <-ended:
		return
	}
	close(w.giveUp)
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// waitIdle waits up to d for running handlers to end, or for Hard.
// Handlers that ended but whose outcomes wait for the store do not count.
func (w *Worker) waitIdle(d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for w.handling.Load() > 0 {
		select {
		case <-w.freed:
		case <-deadline.C:
			return false
		case <-w.opts.Hard:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}

// maxClaim caps one claim statement, and minClaim is the fewest free
// places worth a claim of their own while the worker is busy: claiming one
// job per round trip would cost more than it gains. A busy worker waits
// for half its capacity (slots and prefetch queue) to be free, and at
// least minClaim: the other half keeps its runners fed while the claim is
// on its way, and each claim statement carries more jobs: at
// --concurrency 50 on 100k noop jobs, 169 a claim on average rather than
// 95, and 592 claim statements rather than 1,053.
const (
	maxClaim = 1000
	minClaim = 50
	flushers = 2
)

// loop claims jobs into the prefetch queue until ctx ends or, draining,
// nothing is left. It claims ahead of free slots, up to Concurrency +
// Prefetch jobs held, so the next batch is on its way while the current
// one runs.
func (w *Worker) loop(ctx context.Context) error {
	poll := time.NewTicker(w.opts.PollInterval)
	defer poll.Stop()
	retry := w.retry // claims while the store fails
	for {
		capacity := w.capacity()
		select {
		case <-ctx.Done():
			return nil
		case <-w.opts.Hard:
			return errHardStop
		default:
		}
		types := w.claimTypes()
		if len(types) == 0 {
			return errNoTypes
		}
		claimed, limit := 0, w.reserve(capacity, w.opts.Concurrency)
		if limit > 0 {
			// Not cancellable: a claim cut short by a signal may still
			// commit on the server, and its jobs would sit RUNNING, unseen,
			// until the lease ran out.
			t0 := time.Now()
			jobs, err := w.store.Claim(context.WithoutCancel(ctx), &store.ClaimParams{WorkerID: w.id, Types: types, Limit: limit})
			w.settle(limit, jobs)
			if err != nil {
				w.health.failed("claim", err, t0, "claim failed")
				if errors.Is(err, store.ErrUnavailable) {
					w.unsure.Store(true)
				}
				// Back off rather than poll a failing store. A wake (LISTEN
				// subscribed again, a retry falling due) tries at once.
				select {
				case <-ctx.Done():
					return nil
				case <-w.opts.Hard:
					return errHardStop
				case <-w.wake:
				case <-w.health.back(err):
				case <-time.After(retry.wait()):
				}
				continue
			}
			w.health.ok(t0)
			retry.reset()
			if w.unsure.Load() && w.pauseClaims() {
				// No other claim is in flight, so every job RUNNING under
				// this worker that it does not hold is an orphan.
				if w.releaseOrphans(ctx) {
					w.unsure.Store(false)
				}
				w.resumeClaims()
			}
			claimed = len(jobs)
			w.log.Debug("claimed", "jobs", claimed, "limit", limit, "took", time.Since(t0))
			if w.obs != nil && claimed > 0 {
				w.obs.Claimed(claimed)
			}
		}
		if claimed > 0 && claimed == limit {
			select {
			case w.more <- struct{}{}:
			default:
			}
			// Likely more due: claim again as soon as there is room.
			if int(w.inflight.Load()) > capacity-claimAt(capacity) {
				select {
				case <-w.freed:
				case <-ctx.Done():
				case <-w.opts.Hard:
				}
			}
			continue
		}
		if w.opts.Drain && claimed == 0 && w.inflight.Load() == 0 && w.pending.Load() == 0 && w.inFlightClaims() == 0 {
			if w.drained(ctx) {
				return nil
			}
		}
		var freed <-chan struct{}
		if int(w.inflight.Load()) > 0 || w.opts.Drain {
			freed = w.freed
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.opts.Hard:
			return errHardStop
		case <-w.wake:
		case <-freed:
		case <-poll.C:
		}
	}
}

// capacity is how many jobs the worker holds at most now: its slots and
// the prefetch queue.
func (w *Worker) capacity() int { return w.opts.Concurrency + int(w.prefetch.Load()) }

// tunePrefetch sets the prefetch to the number of handlers that ended in
// the last second, up to Options.Prefetch: about what the worker will
// start in the next one, so no prefetched job waits long for a slot, and
// a worker of slow jobs claims none ahead.
func (w *Worker) tunePrefetch(ctx context.Context) {
	const tick = 250 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	var window [4]int64 // ended counts of the last second's ticks
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := w.ended.Load()
		w.prefetch.Store(min(int64(w.opts.Prefetch), n-window[i%len(window)]))
		window[i%len(window)] = n
	}
}

// claimAt is how many places must be free before a busy worker claims.
func claimAt(capacity int) int { return max(min(minClaim, capacity), capacity/2) }

// reserve promises the next claim up to maxClaim places, and returns how
// many: none unless a slot is idle (fewer than busy held) or a batch worth
// a round trip fits the prefetch queue.
func (w *Worker) reserve(capacity, busy int) int {
	w.claimMu.Lock()
	defer w.claimMu.Unlock()
	held := int(w.inflight.Load()) + w.reserved
	free := capacity - held
	if w.paused || free <= 0 || (held >= busy && free < claimAt(capacity)) {
		return 0
	}
	n := min(free, maxClaim)
	w.reserved += n
	return n
}

// pauseClaims stops new claims if none is in flight, and reports whether
// it did; resumeClaims lets them go on.
func (w *Worker) pauseClaims() bool {
	w.claimMu.Lock()
	defer w.claimMu.Unlock()
	if w.reserved != 0 {
		return false
	}
	w.paused = true
	return true
}

func (w *Worker) resumeClaims() {
	w.claimMu.Lock()
	w.paused = false
	w.claimMu.Unlock()
}

// inFlightClaims is how many places claims in flight hold.
func (w *Worker) inFlightClaims() int {
	w.claimMu.Lock()
	defer w.claimMu.Unlock()
	return w.reserved
}

// settle ends a claim's reservation and queues the jobs it got. Jobs a
// claim returns after a hard stop closed the queue stay RUNNING under
// this worker, for a rescue after the lease.
func (w *Worker) settle(reserved int, jobs []*store.Job) {
	w.claimMu.Lock()
	defer w.claimMu.Unlock()
	w.reserved -= reserved
	if !w.queueClosed {
		w.enqueue(jobs)
	}
}

// claimAlongside claims beside the loop, so that while one claim waits
// for its answer another is on its way: at a high rate a single claimer's
// round trips are the limit. It does nothing else the loop does (drain
// checks, orphan release): it claims while claims come back full, and
// once one does not, waits for the loop's word that they do again.
func (w *Worker) claimAlongside(ctx context.Context) {
	idle, misses := true, 0
	for {
		if idle {
			misses = 0
			select {
			case <-ctx.Done():
				return
			case <-w.opts.Hard:
				return
			case <-w.more:
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.opts.Hard:
			return
		default:
		}
		// Only batches worth a round trip: the loop sees to idle slots.
		limit := w.reserve(w.capacity(), 0)
		if limit == 0 {
			// Full: look again in a moment, but not for long, lest a
			// worker of slow jobs wake a thousand times a second.
			misses++
			idle = misses >= 100
			select {
			case <-ctx.Done():
				return
			case <-w.opts.Hard:
				return
			case <-time.After(time.Millisecond):
			}
			continue
		}
		misses = 0
		types := w.claimTypes()
		t0 := time.Now()
		var jobs []*store.Job
		var err error
		if len(types) > 0 {
			jobs, err = w.store.Claim(context.WithoutCancel(ctx), &store.ClaimParams{WorkerID: w.id, Types: types, Limit: limit})
		}
		w.settle(limit, jobs)
		if err != nil {
			// The loop backs off and retries; this one waits for its word
			// that claims come back full again.
			w.health.failed("claim", err, t0, "claim failed")
			if errors.Is(err, store.ErrUnavailable) {
				w.unsure.Store(true)
			}
			idle = true
			continue
		}
		w.health.ok(t0)
		w.log.Debug("claimed", "jobs", len(jobs), "limit", limit, "took", time.Since(t0), "claimer", 2)
		if w.obs != nil && len(jobs) > 0 {
			w.obs.Claimed(len(jobs))
		}
		idle = len(jobs) < limit
	}
}

// enqueue puts claimed jobs in the prefetch queue (under claimMu). They
// are held from now on: counted, and known to releaseOrphans.
func (w *Worker) enqueue(jobs []*store.Job) {
	if len(jobs) == 0 {
		return
	}
	w.mu.Lock()

	for _, j := range jobs {
		w.held[j.ID] = j
	}
	w.mu.Unlock()
	n := int64(len(jobs))
	w.inflight.Add(n)
	w.pending.Add(n)
	w.buffered.Add(n)
	for _, j := range jobs {
		w.queue <- j // never blocks: the queue holds Concurrency + Prefetch
	}
	if w.idle.Load() == 0 {
		w.grow()
	}
}

// grow starts another runner, unless Concurrency run already. One starts
// when jobs are queued and no runner waits for them (enqueue), and when a
// runner enters a handler while every other runner is in one and jobs
// wait (run). So slow jobs start side by side up to Concurrency, each
// runner starting the next, while a burst of fast jobs is run by the few
// runners that are ever in a handler at once. A fixed set of Concurrency
// runners held 2,000 stacks at --concurrency 2000 for noop jobs that
// 75-141 runners kept up with: peak RSS 58 MB against 48 (issue 11).
// Every runner not in a handler comes back to the queue, so a queued job
// waits only for a runner that is not in a handler, or for a new one.
func (w *Worker) grow() {
	for {
		n := w.runners.Load()
		if n >= int64(w.opts.Concurrency) {
			return
		}
		if w.runners.CompareAndSwap(n, n+1) {
			break
		}
	}
	w.wg.Add(1)
	go func() { defer w.wg.Done(); w.runner() }()
}

// handBackQueued hands back, at a graceful stop, the prefetched jobs no
// runner has taken: they go back PENDING with the attempt uncounted.
func (w *Worker) handBackQueued() {
	for {
		select {
		case j := <-w.queue:
			w.handBack(j)
		default:
			return
		}
	}
}

// handBack returns a prefetched job that never started to the store, or
// ends it CANCELLED if an operator asked meanwhile.
func (w *Worker) handBack(j *store.Job) {
	w.buffered.Add(-1)
	w.inflight.Add(-1)
	w.mu.Lock()
	cancelled := w.cancelQueued[j.ID]
	w.mu.Unlock()
	cause := errShutdown
	if cancelled {
		cause = errCancelled
	}
	w.results <- outcome{job: j, err: cause, cause: cause, queued: true}
}

// runner runs prefetched jobs one at a time until the queue closes.
// Runners, rather than a goroutine per job, keep a burst of fast jobs
// from costing a goroutine, a context and a channel send each.
func (w *Worker) runner() {
	for {
		w.idle.Add(1)
		j, ok := <-w.queue
		w.idle.Add(-1)
		if !ok {
			return
		}
		w.take(j)
	}
}

// take runs or, at a stop or a cancel, hands back a queued job.
func (w *Worker) take(j *store.Job) {
	switch {
	case closed(w.opts.Hard):
		// Left RUNNING on purpose: another worker rescues it.
		w.buffered.Add(-1)
		w.inflight.Add(-1)
		return
	case closed(w.stopping):
		w.handBack(j)
		return
	}
	w.mu.Lock()
	cancelled := w.cancelQueued[j.ID]
	w.mu.Unlock()
	if cancelled {
		w.buffered.Add(-1)
		w.inflight.Add(-1)
		w.results <- outcome{job: j, err: errCancelled, cause: errCancelled, queued: true}
		w.signalFreed()
		return
	}
	w.run(w.jobCtx, j)
}

// signalFreed tells the claim loop that a place opened.
func (w *Worker) signalFreed() {
	select {
	case w.freed <- struct{}{}:
	default:
	}
}

// claimTypes are the types the worker still claims.
func (w *Worker) claimTypes() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.claiming
}

// stopClaiming drops a type whose handler cannot start, saying so once.
func (w *Worker) stopClaiming(typ string, err error) {
	w.mu.Lock()
	i := slices.Index(w.claiming, typ)
	if i >= 0 {
		w.claiming = slices.Delete(slices.Clone(w.claiming), i, i+1)
	}
	w.mu.Unlock()
	if i < 0 {
		return
	}
	w.log.Error(fmt.Sprintf("handler for %s cannot start: %v; no longer claiming %s", typ, err, typ), "type", typ, "worker", w.id)
	w.nudge()
}

// drained reports whether nothing of the worker's types is due, running or
// waiting to retry anywhere, rescuing expired jobs first. RETRYING jobs are
// the unfinished part of the work at hand, so a drain waits for them;
// delayed PENDING jobs are work for later and do not hold it.
func (w *Worker) drained(ctx context.Context) bool {
	w.rescue(ctx)
	began := time.Now()
	st, err := w.store.Drain(ctx, w.claimTypes())
	if err != nil {
		w.health.failed("drain check", err, began, "drain check failed")
		return false
	}
	w.health.ok(began)
	return st.Due == 0 && st.Running == 0 && st.Retrying == 0
}

// run runs one claimed job in the calling runner.
func (w *Worker) run(jobCtx context.Context, j *store.Job) {
	w.handling.Add(1)
	w.buffered.Add(-1)
	ctx, cancel := context.WithCancelCause(jobCtx)
	w.mu.Lock()
	w.running[j.ID] = cancel
	w.mu.Unlock()
	if w.log.Enabled(ctx, slog.LevelInfo) {
		w.log.Info("job started", "job", j.ID, "type", j.Type, "attempt", j.Attempts, "worker", w.id)
	}
	if w.obs != nil {
		w.obs.Started(j)
	}
	policy := w.policies[j.Type]
	began := time.Now()
	tctx, stop := context.WithTimeoutCause(ctx, policy.Timeout, errTimeout)
	if w.inHandler.Add(1) >= w.runners.Load() && len(w.queue) > 0 {
		w.grow() // every runner is in a handler, and more jobs wait
	}
	out, err := w.runHandler(tctx, j)
	w.inHandler.Add(-1)
	var cs *cannotStart
	if errors.As(err, &cs) {
		w.stopClaiming(j.Type, cs)
	}
	cause := context.Cause(tctx)
	stop()
	w.mu.Lock()
	delete(w.running, j.ID)
	w.mu.Unlock()
	cancel(nil)
	if err == nil {
		cause = nil // it finished: a late cancel or timeout changes nothing
	}
	w.handling.Add(-1)
	w.ended.Add(1)
	w.outputs.take(len(out))
	w.results <- outcome{job: j, output: out, err: err, cause: cause, took: time.Since(began)}
	w.inflight.Add(-1)
	w.signalFreed()
}

// releaseOrphans hands back jobs RUNNING under this worker that it never
// heard of. A claim whose connection was cut may have committed on the
// server with its answer lost; its jobs would sit RUNNING under a live
// lease, never run and never rescued. Their handlers never started, so
// they go back as PENDING without counting the attempt. It reports whether
// it could look.
func (w *Worker) releaseOrphans(ctx context.Context) bool {
	ctx = context.WithoutCancel(ctx)
	p := &store.ListParams{Filter: store.Filter{Statuses: []store.Status{store.StatusRunning}, Types: w.types}, Limit: 1000, Sort: store.SortCreatedAsc}
	var orphans []string
	for {
		jobs, err := w.store.List(ctx, p)
		if err != nil {
			w.log.Debug("looking for orphaned claims failed", "err", err)
			return false
		}
		w.mu.Lock()
		for _, j := range jobs {
			if j.WorkerID == w.id && w.held[j.ID] == nil {
				orphans = append(orphans, j.ID)
			}
		}
		w.mu.Unlock()
		if len(jobs) < p.Limit {
			break
		}
		p.After = jobs[len(jobs)-1].ID
	}
	if len(orphans) == 0 {
		return true
	}
	n, err := w.store.Release(ctx, w.id, orphans)
	if err != nil {
		w.log.Debug("releasing orphaned claims failed", "err", err)
		return false
	}
	w.log.Warn("handed back jobs of a claim whose answer was lost", "jobs", n)
	return true
}

// runHandler runs the job's handler, turning a panic into a failed attempt.
func (w *Worker) runHandler(ctx context.Context, j *store.Job) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &JobError{Code: "HANDLER_PANIC", Message: fmt.Sprint(r), Retryable: no()}
		}
	}()
	return w.handlers[j.Type].Run(ctx, j)
}

// cancelRunning stops the handlers of jobs an operator cancelled.
func (w *Worker) cancelRunning(ids []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		if cancel, ok := w.running[id]; ok {
			w.log.Info("cancelling job", "job", id)
			cancel(errCancelled)
		} else if w.held[id] != nil {
			// Prefetched, not started: its runner ends it unrun.
			w.cancelQueued[id] = true
		}
	}
}

// wakeAt wakes the claim loop when a retry falls due, rather than at the
// next poll, so backoff delays are kept to the millisecond.
func (w *Worker) wakeAt(t time.Time) {
	d := time.Until(t)
	if d > 5*time.Minute {
		return // polls will find it; no need to hold a timer that long
	}
	time.AfterFunc(max(d, 0)+time.Millisecond, w.nudge)
}

// nudge wakes the claim loop if it sleeps.
func (w *Worker) nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// listen wakes the claim loop on Postgres notifications of new work, and
// each time it subscribes again after losing the connection, since work
// enqueued meanwhile notified nobody.
func (w *Worker) listen(ctx context.Context, l store.Listener) {
	for ctx.Err() == nil {
		began := time.Now()
		err := l.Listen(ctx, w.nudge)
		if ctx.Err() != nil {
			return
		}
		w.health.failed("listen", err, began, "listen failed; polling until it reconnects")
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
