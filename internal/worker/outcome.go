package worker

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jobctl/jobctl/internal/cron"
	"github.com/jobctl/jobctl/internal/retry"
	"github.com/jobctl/jobctl/internal/store"
)

// outcome is how one attempt ended, on its way to the store.
type outcome struct {
	job    *store.Job
	output json.RawMessage
	err    error
	cause  error // why the handler's context ended, if it did
	took   time.Duration
	queued bool // prefetched and never started
}

// flushBatch caps how many outcomes one write carries.
const flushBatch = 1000

// maxHeldOutput bounds the bytes of handler output held in outcomes handed
// to the flushers and not yet written. The results channel holds up to
// flushBatch outcomes at any concurrency, and an output may be 16 MiB
// (outputLimit): without this bound, jobs whose outputs arrive faster than
// the store takes them could hold gigabytes.
const maxHeldOutput = 64 << 20

// outputBudget counts the output bytes held between a runner's hand-off
// and the write, up to max (maxHeldOutput).
type outputBudget struct {
	mu   sync.Mutex
	free sync.Cond // signalled when bytes are given back; L is &mu (New)
	held int
	max  int
}

// take waits until n more bytes fit under the bound, or none are held
// (an output larger than the bound goes alone), and holds them.
func (b *outputBudget) take(n int) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.held > 0 && b.held+n > b.max {
		b.free.Wait()
	}
	b.held += n
}

// give hands back n bytes taken earlier.
func (b *outputBudget) give(n int) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.held -= n
	b.mu.Unlock()
	b.free.Broadcast()
}

// flush writes outcomes as they arrive, batching what has queued up, until
// the results channel closes.
func (w *Worker) flush(ctx context.Context) {
	batch := make([]outcome, 0, flushBatch)
	for o := range w.results {
		batch = append(batch[:0], o)
	more:
		for len(batch) < flushBatch {
			select {
			case o, ok := <-w.results:
				if !ok {
					break more
				}
				batch = append(batch, o)
			default:
				break more
			}
		}
		t0 := time.Now()
		w.write(ctx, batch)
		w.log.Debug("wrote outcomes", "jobs", len(batch), "took", time.Since(t0))
		bytes := 0
		w.mu.Lock()
		for _, o := range batch {
			bytes += len(o.output)
			// Only this claim's: the job may be held by a newer one.
			if w.held[o.job.ID] == o.job {
				delete(w.held, o.job.ID)
				delete(w.cancelQueued, o.job.ID)
			}
		}
		w.mu.Unlock()
		w.outputs.give(bytes)
		w.pending.Add(-int64(len(batch)))
		select {
		case w.freed <- struct{}{}:
		default:
		}
	}
}

// write records a batch: completions in one statement, the rest by kind.
// Each job's transition is logged once it is recorded, not before.
func (w *Worker) write(ctx context.Context, batch []outcome) {
	var (
		completions []store.Completion
		failures    []store.Failure
		cancelled   []string
		released    []string
		now         = time.Now().UTC()
		// what to log for each kind once written
		logDone, logFailed, logCancelled, logReleased []func()
	)
	for _, o := range batch {
		switch {
		case o.err == nil:
			completions = append(completions, store.Completion{ID: o.job.ID, Output: o.output})
			logDone = append(logDone, func() { w.finished(o, store.StatusCompleted, "job completed") })
		case errors.Is(o.cause, errCancelled):
			cancelled = append(cancelled, o.job.ID)
			logCancelled = append(logCancelled, func() { w.finished(o, store.StatusCancelled, "job cancelled") })
		case errors.Is(o.cause, errShutdown) && o.queued:
			released = append(released, o.job.ID)
			logReleased = append(logReleased, func() {
				w.log.Debug("prefetched job handed back", "job", o.job.ID, "type", o.job.Type, "status", store.StatusPending)
			})
		case errors.Is(o.cause, errShutdown):
			released = append(released, o.job.ID)
			logReleased = append(logReleased, func() {
				w.log.Info("job handed back", "job", o.job.ID, "type", o.job.Type, "status", store.StatusPending)
			})
		case errors.Is(o.cause, errHardStop):
			// Left RUNNING on purpose: another worker rescues it.
		case errors.As(o.err, new(*cannotStart)):
			// Its handler never ran: back to PENDING, the attempt uncounted,
			// for a worker whose handler can start.
			released = append(released, o.job.ID)
			logReleased = append(logReleased, func() {
				w.log.Info("job handed back", "job", o.job.ID, "type", o.job.Type, "status", store.StatusPending, "reason", "handler cannot start")
				if w.obs != nil {
					w.obs.Finished(o.job, store.StatusPending, o.took)
				}
			})
		default:
			f := w.failure(o.job, jobError(o), now)
			failures = append(failures, f)
			attrs := []any{"code", f.Attempt.Code, "error", f.Attempt.Message}
			if f.Status == store.StatusRetrying {
				attrs = append(attrs, "next", f.ScheduledFor)
			}
			logFailed = append(logFailed, func() { w.finished(o, f.Status, "job failed", attrs...) })
		}
	}
	recorded := func(logs []func()) {
		for _, l := range logs {
			l()
		}
		w.done.Add(int64(len(logs)))
	}
	if w.persist(ctx, "complete", func(ctx context.Context) (int64, error) { return w.store.Complete(ctx, w.id, completions) }, len(completions)) {
		recorded(logDone)
	}
	if w.persist(ctx, "fail", func(ctx context.Context) (int64, error) { return w.store.Fail(ctx, w.id, failures) }, len(failures)) {
		recorded(logFailed)
		for _, f := range failures {
			if f.Status == store.StatusRetrying {
				w.wakeAt(f.ScheduledFor)
			}
		}
	}
	if w.persist(ctx, "cancel", func(ctx context.Context) (int64, error) { return w.store.MarkCancelled(ctx, w.id, cancelled) }, len(cancelled)) {
		recorded(logCancelled)
	}
	if w.persist(ctx, "release", func(ctx context.Context) (int64, error) { return w.store.Release(ctx, w.id, released) }, len(released)) {
		for _, l := range logReleased {
			l()
		}
	}
}

func (w *Worker) finished(o outcome, st store.Status, msg string, attrs ...any) {
	// Checked first: building the attributes costs more than writing the
	// job's completion, and at --log-level warn nobody reads them.
	if level := outcomeLevel(st); w.log.Enabled(context.Background(), level) {
		attrs = append([]any{"job", o.job.ID, "type", o.job.Type, "attempt", o.job.Attempts, "status", st, "duration", o.took}, attrs...)
		w.log.Log(context.Background(), level, msg, attrs...)
	}
	if w.obs != nil {
		w.obs.Finished(o.job, st, o.took)
	}
}

// outcomeLevel is the level a job's outcome is logged at: a failed attempt
// (RETRYING, FAILED) is a warning and a job out of attempts (DEAD) an
// error, so that --log-level warn shows every failure and nothing else.
func outcomeLevel(st store.Status) slog.Level {
	switch st {
	case store.StatusRetrying, store.StatusFailed:
		return slog.LevelWarn
	case store.StatusDead:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// writeTimeout bounds one try of an outcome write, so a store that hangs
// rather than refuses is tried again.
const writeTimeout = 15 * time.Second

// persist writes outcomes until the store takes them, and reports whether
// it did. An outcome given up on leaves its job RUNNING; while this worker
// lives and keeps its lease, nobody rescues it, and once rescued it runs a
// second time. So persist never gives up while the worker runs: it backs
// off and tries again. Only once a stopped worker's ShutdownTimeout has
// passed (giveUp) does it make one last try, then count the outcomes as
// unwritten.
func (w *Worker) persist(ctx context.Context, what string, write func(context.Context) (int64, error), n int) bool {
	if n == 0 {
		return true
	}
	retry, failed := w.retry, false
	for {
		last := closed(w.giveUp)
		tctx, cancel := context.WithTimeout(ctx, writeTimeout)
		began := time.Now()
		wrote, err := write(tctx)
		cancel()
		if err == nil {
			w.health.ok(began)
			switch {
			case wrote == int64(n):
			case failed:
				// A try that seemed to fail may have committed.
				w.log.Debug("some outcomes were recorded by an earlier try", "op", what, "jobs", n, "written", wrote)
			default:
				w.log.Warn("some jobs were no longer held by this worker (rescued or cancelled meanwhile)", "op", what, "jobs", n, "written", wrote)
			}
			return true
		}
		failed = true
		w.health.failed(what, err, began, "could not record outcomes; retrying")
		if last || ctx.Err() != nil {
			w.unwritten.Add(int64(n))
			w.log.Debug("gave up recording outcomes", "op", what, "jobs", n, "err", err)
			return false
		}
		select {
		case <-w.giveUp:
		case <-ctx.Done():
		case <-w.health.back(err):
		case <-time.After(retry.wait()):
		}
	}
}

// closed reports whether ch is closed.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// jobError turns how a handler failed into a JobError.
func jobError(o outcome) *JobError {
	if errors.Is(o.cause, errTimeout) {
		return &JobError{Code: retry.CodeTimeout, Message: retry.TimeoutMessage}
	}
	var je *JobError
	if errors.As(o.err, &je) {
		return je
	}
	return &JobError{Code: "HANDLER_ERROR", Message: o.err.Error(), Retryable: no()}
}

// failure applies the job's retry policy to a failed attempt. The job's own
// maxAttempts is the budget; a handler's retryable verdict overrides the
// type's list, except for codes the guide never retries.
func (w *Worker) failure(j *store.Job, je *JobError, now time.Time) store.Failure {
	policy, ok := w.policies[j.Type]
	if !ok {
		policy = retry.Default()
	}
	policy.MaxAttempts = j.MaxAttempts
	retryable := policy.Retryable(je.Code)
	if je.Retryable != nil && !slices.Contains(retry.NeverRetried, je.Code) {
		retryable = *je.Retryable
	}
	out := policy.DecideRetryable(j.Attempts, retryable, now, rand.Float64)
	return store.Failure{
		ID:           j.ID,
		Status:       out.Status,
		ScheduledFor: out.ScheduledFor,
		Stack:        je.Stack,
		Attempt:      store.Attempt{Attempt: j.Attempts, At: now, Code: je.Code, Message: je.Message, WorkerID: w.id},
	}
}

// housekeep keeps the lease alive, carries out cancel requests, rescues
// jobs of silent workers and prunes their rows. It stops at giveUp: the
// lease must not outlive the worker's trying to record its outcomes.
func (w *Worker) housekeep(ctx context.Context) {
	beat := time.NewTicker(w.opts.Heartbeat)
	defer beat.Stop()
	rescueEvery := max(w.opts.Lease/4, time.Second)
	lastRescue := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.giveUp:
			return
		case <-beat.C:
		}
		began := time.Now()
		cancels, err := w.store.Heartbeat(ctx, w.id, w.done.Load())
		switch {
		case errors.Is(err, store.ErrNotFound):
			w.health.ok(began)
			w.log.Warn("worker row was pruned; registering again", "worker", w.id)
			if err := w.register(ctx); err != nil {
				w.health.failed("register", err, began, "register")
			}
		case err != nil && ctx.Err() == nil:
			w.health.failed("heartbeat", err, began, "heartbeat failed")
			if errors.Is(err, store.ErrUnavailable) {
				continue // schedules and rescues wait for the store too
			}
		case err == nil:
			w.health.ok(began)
		}
		w.cancelRunning(cancels)
		w.fireSchedules(ctx)
		if time.Since(lastRescue) >= rescueEvery {
			lastRescue = time.Now()
			w.rescue(ctx)
		}
	}
}

// fireSchedules enqueues the recurring jobs that are due. Every worker
// tries; the store lets one enqueue each tick. A schedule that missed ticks
// while no worker ran fires once and moves to its next future tick.
func (w *Worker) fireSchedules(ctx context.Context) {
	began := time.Now()
	jobs, err := w.store.EnqueueDue(ctx, began, NextRun)
	if err != nil && ctx.Err() == nil {
		w.health.failed("recurring jobs", err, began, "recurring jobs")
	}
	for _, j := range jobs {
		w.log.Info("recurring job enqueued", "job", j.ID, "type", j.Type, "schedule", strings.TrimPrefix(j.UniqueKey, "schedule:"))
	}
}

// NextRun is a schedule's first tick after now, in its time zone.
func NextRun(s *store.Schedule) (time.Time, error) {
	return cron.NextTick(s.Cron, s.Timezone, time.Now())
}

// rescue fails the attempts of jobs whose worker went silent past the lease
// with WORKER_LOST, so the retry policy gives them another go. Any worker
// may do it; the store's guard lets exactly one succeed per job.
func (w *Worker) rescue(ctx context.Context) {
	began := time.Now()
	cutoff := began.Add(-w.opts.Lease)
	expired, err := w.store.Expired(ctx, cutoff, 1000)
	if err != nil {
		if ctx.Err() == nil {
			w.health.failed("rescue", err, began, "looking for expired jobs failed")
		}
		return
	}
	now := time.Now().UTC()
	for _, j := range expired {
		f := w.failure(j, &JobError{Code: retry.CodeWorkerLost, Message: "worker " + j.WorkerID + " went silent while running the job"}, now)
		n, err := w.store.Fail(ctx, j.WorkerID, []store.Failure{f})
		if err != nil {
			w.health.failed("rescue", err, began, "rescue failed")
			if errors.Is(err, store.ErrUnavailable) {
				return
			}
			continue
		}
		if n == 1 {
			w.log.Log(ctx, outcomeLevel(f.Status), "job rescued", "job", j.ID, "type", j.Type, "from", j.WorkerID, "status", f.Status, "code", retry.CodeWorkerLost)
		}
	}
	if _, err := w.store.PruneWorkers(ctx, cutoff); err != nil && ctx.Err() == nil {
		w.health.failed("prune workers", err, began, "pruning workers failed")
	}
}
