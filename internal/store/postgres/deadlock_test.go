package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

// Lock order and deadlock retry, against the real server: an in-package
// test, so one store can be run with the retry switched off.

func openMigrated(t *testing.T) *Store {
	t.Helper()
	dsn, schema := pgtest.Schema(t)
	s, err := Open(context.Background(), dsn, schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// noRetry is s's shared SQL with the deadlock retry switched off, so a
// deadlock surfaces as an error.
func noRetry(s *Store) *jobsql.Base {
	d := *dialect
	d.Retryable = nil
	b := s.Base
	b.D = &d
	return &b
}

func enqueue(t *testing.T, s *Store, p *store.EnqueueParams) string {
	t.Helper()
	res, err := s.Enqueue(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return res.Job.ID
}

// claimAll enqueues n jobs of type typ and claims them for worker, and
// returns their ids in id order.
func claimAll(t *testing.T, s *Store, typ, worker string, n int) []string {
	t.Helper()
	ctx := context.Background()
	ps := make([]*store.EnqueueParams, n)
	for i := range ps {
		ps[i] = &store.EnqueueParams{Type: typ}
	}
	if _, err := s.EnqueueMany(ctx, ps, nil); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Claim(ctx, &store.ClaimParams{WorkerID: worker, Types: []string{typ}, Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != n {
		t.Fatalf("claimed %d jobs, want %d", len(jobs), n)
	}
	ids := make([]string, n)
	for i, j := range jobs {
		ids[i] = j.ID
	}
	slices.Sort(ids)
	return ids
}

func isDeadlock(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "40P01"
}

// TestWorkerWritesAndBulkActionsLockInOneOrder: with the retry off, a
// worker's completions and failures (given in descending id order, as a
// batch may list them) and bulk cancels by ID (in ascending and random
// order) and by status, all at once over the same rows, and over jobs
// waiting on them, never deadlock. Each round starts them together.
func TestWorkerWritesAndBulkActionsLockInOneOrder(t *testing.T) {
	s := openMigrated(t)
	b := noRetry(s)
	ctx := context.Background()
	for round := range 5 {
		worker := fmt.Sprintf("w%d", round)
		typ := fmt.Sprintf("T%d", round)
		ids := claimAll(t, s, typ, worker, 200)
		// Jobs waiting on two of them each: completing them touches these
		// rows too.
		var dependents []string
		for range 20 {
			deps := []string{ids[rand.IntN(len(ids))], ids[rand.IntN(len(ids))]}
			dependents = append(dependents, enqueue(t, s, &store.EnqueueParams{Type: typ + "-next", DependsOn: deps}))
		}
		desc := slices.Clone(ids)
		slices.Reverse(desc)
		var cs []store.Completion
		var fs []store.Failure
		for i, id := range desc {
			if i%2 == 0 {
				cs = append(cs, store.Completion{ID: id})
			} else {
				fs = append(fs, store.Failure{ID: id, Status: store.StatusFailed,
					Attempt: store.Attempt{Attempt: 1, At: time.Now(), Code: "E", Message: "failed"}})
			}
		}
		shuffled := append(slices.Clone(ids), dependents...)
		rand.Shuffle(len(shuffled), func(i, k int) { shuffled[i], shuffled[k] = shuffled[k], shuffled[i] })

		ops := map[string]func() error{
			// The store's own completion (one pipeline), with retry off too.
			"complete": func() error { _, err := (&Store{Base: *b, pool: s.pool}).Complete(ctx, worker, cs); return err },
			"fail":     func() error { _, err := b.Fail(ctx, worker, fs); return err },
			"cancel ascending": func() error {
				_, err := b.Act(ctx, &store.ActionParams{Action: store.ActCancel, IDs: append(slices.Clone(ids), dependents...), Actor: "a"})
				return err
			},
			"cancel shuffled": func() error {
				_, err := b.Act(ctx, &store.ActionParams{Action: store.ActCancel, IDs: shuffled, Actor: "b", BatchSize: 50})
				return err
			},
			"cancel --status RUNNING": func() error {
				_, err := b.Act(ctx, &store.ActionParams{Action: store.ActCancel, Actor: "c", BatchSize: 70,
					Filter: store.Filter{Types: []string{typ}, Statuses: []store.Status{store.StatusRunning}}})
				return err
			},
			"release": func() error { _, err := b.Release(ctx, worker, desc[:50]); return err },
			"mark cancelled": func() error {
				_, err := b.MarkCancelled(ctx, worker, desc[100:]) // overlaps complete and fail
				return err
			},
		}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			mu    sync.Mutex
			errs  []string
		)
		for name, op := range ops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := op(); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Sprintf("%s: %v (deadlock: %v)", name, err, isDeadlock(err)))
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		for _, e := range errs {
			t.Errorf("round %d: %s", round, e)
		}
		if t.Failed() {
			return
		}
		// Every waiting job waits for exactly its dependencies that are not
		// COMPLETED: no release lost or counted twice.
		var wrong int
		if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM "Job" j WHERE type = $1 AND "waitingOn" <> (
			SELECT COUNT(*) FROM "JobDependency" d JOIN "Job" x ON x.id = d."dependsOnId"
			WHERE d."jobId" = j.id AND x.status <> 'COMPLETED')`, typ+"-next").Scan(&wrong); err != nil {
			t.Fatal(err)
		}
		if wrong != 0 {
			t.Fatalf("round %d: %d dependents have a wrong waitingOn", round, wrong)
		}
	}
}

// holder is a transaction of the test's own holding row locks.
type holder struct {
	t   *testing.T
	tx  pgx.Tx
	pid int
}

func hold(t *testing.T, s *Store) *holder {
	t.Helper()
	ctx := context.Background()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	h := &holder{t: t, tx: tx}
	// The store's transaction, waiting since before this one waits, finds
	// the deadlock first (after the server's deadlock_timeout) and is the
	// one rolled back.
	if _, err := tx.Exec(ctx, `SET LOCAL deadlock_timeout = '30s'`); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&h.pid); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *holder) lock(id string) {
	h.t.Helper()
	if _, err := h.tx.Exec(context.Background(), `SELECT id FROM "Job" WHERE id = $1 FOR UPDATE`, id); err != nil {
		h.t.Fatalf("lock %s: %v", id, err)
	}
}

// waitBlocked waits until another session waits for one of h's locks.
func (h *holder) waitBlocked(s *Store) {
	h.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if err := s.pool.QueryRow(context.Background(),
			`SELECT COUNT(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, h.pid).Scan(&n); err != nil {
			h.t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatal("the store's transaction never waited for the test's lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// deadlocks is the database's count of deadlocks detected so far.
func deadlocks(t *testing.T, s *Store) int64 {
	t.Helper()
	var n int64
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		t.Fatal(err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitDeadlocksAbove waits for the server's statistics to count a deadlock
// past before (they are flushed a moment after the victim rolls back).
func waitDeadlocksAbove(t *testing.T, s *Store, before int64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); deadlocks(t, s) <= before; {
		if time.Now().After(deadline) {
			t.Fatal("the server counted no deadlock: the test provoked none")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCompleteRetriesDeadlockVictim provokes a real deadlock: the test's
// transaction holds the higher of two jobs, the worker's Complete locks the
// lower and waits for it, then the test's transaction asks for the lower.
// The server rolls Complete's transaction back (40P01); the store runs it
// again once the test's transaction is done, and the worker never sees an
// error.
func TestCompleteRetriesDeadlockVictim(t *testing.T) {
	s := openMigrated(t)
	ctx := context.Background()
	ids := claimAll(t, s, "T", "w", 2)
	before := deadlocks(t, s)

	h := hold(t, s)
	h.lock(ids[1])
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := s.Complete(ctx, "w", []store.Completion{{ID: ids[1]}, {ID: ids[0]}})
		done <- result{n, err}
	}()
	h.waitBlocked(s)
	// Granted only once the server has rolled Complete back.
	h.lock(ids[0])
	waitDeadlocksAbove(t, s, before)
	if err := h.tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("Complete: %v, want the deadlock retried away", r.err)
	}
	if r.n != 2 {
		t.Errorf("Complete wrote %d jobs, want 2", r.n)
	}
	for _, id := range ids {
		j, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != store.StatusCompleted {
			t.Errorf("%s is %s, want COMPLETED", id, j.Status)
		}
	}
}

// TestActRetriesDeadlockVictim: a bulk cancel batch is the victim of a real
// deadlock and runs again: every job is cancelled, progress hears the batch
// once, after its commit, and each job has one audit row.
func TestActRetriesDeadlockVictim(t *testing.T) {
	s := openMigrated(t)
	ctx := context.Background()
	var ids []string
	for range 3 {
		ids = append(ids, enqueue(t, s, &store.EnqueueParams{Type: "T"}))
	}
	slices.Sort(ids)
	before := deadlocks(t, s)

	h := hold(t, s)
	h.lock(ids[2])
	p := &progress{}
	done := make(chan actResult, 1)
	go func() {
		res, err := s.Act(ctx, &store.ActionParams{Action: store.ActCancel, IDs: ids, Actor: "op", Progress: p.hear})
		done <- actResult{res, err}
	}()
	h.waitBlocked(s)
	h.lock(ids[0])
	waitDeadlocksAbove(t, s, before)
	if err := h.tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("Act: %v, want the deadlock retried away", r.err)
	}
	if r.res.Changed != 3 {
		t.Errorf("Act changed %d jobs, want 3", r.res.Changed)
	}
	p.want(t, 3)
	wantAudit(t, s, "JOB_CANCEL", 3)
}

// TestActRetriedBatchReportsOnce: a bulk retry batch fails with a
// serialization failure (40001, injected by a trigger the first time) after
// it has refused a job whose unique key is held, and runs again. The
// refusal is reported once, progress hears the batch once, and each
// retried job has one audit row.
func TestActRetriedBatchReportsOnce(t *testing.T) {
	s := openMigrated(t)
	ctx := context.Background()
	keyed := enqueue(t, s, &store.EnqueueParams{Type: "T", UniqueKey: "k"})
	for range 2 {
		enqueue(t, s, &store.EnqueueParams{Type: "T"})
	}
	jobs, err := s.Claim(ctx, &store.ClaimParams{WorkerID: "w", Limit: 3})
	if err != nil || len(jobs) != 3 {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	var ids []string
	var fs []store.Failure
	for _, j := range jobs {
		ids = append(ids, j.ID)
		fs = append(fs, store.Failure{ID: j.ID, Status: store.StatusFailed, Attempt: store.Attempt{Attempt: 1, At: time.Now(), Code: "E", Message: "m"}})
	}
	if _, err := s.Fail(ctx, "w", fs); err != nil {
		t.Fatal(err)
	}
	// A live job now holds the failed job's key: retrying it is refused.
	enqueue(t, s, &store.EnqueueParams{Type: "T", UniqueKey: "k"})
	// The batch's UPDATE fails once, after the refusal and the audit rows.
	for _, q := range []string{
		`CREATE SEQUENCE fail_once`,
		`CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
		  IF nextval('fail_once') = 1 THEN
		    RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = 'serialization_failure';
		  END IF;
		  RETURN NULL;
		END $$`,
		`CREATE TRIGGER fail_once AFTER UPDATE ON "Job" FOR EACH STATEMENT EXECUTE FUNCTION fail_once()`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	p := &progress{}
	res, err := s.Act(ctx, &store.ActionParams{Action: store.ActRetry, IDs: ids, Actor: "op", Progress: p.hear})
	if err != nil {
		t.Fatalf("Act: %v, want the serialization failure retried away", err)
	}
	var tries int
	if err := s.pool.QueryRow(ctx, `SELECT last_value FROM fail_once`).Scan(&tries); err != nil {
		t.Fatal(err)
	}
	if tries != 2 {
		t.Errorf("the batch's UPDATE ran %d times, want 2: once failed, once committed", tries)
	}
	if res.Changed != 2 || len(res.Skipped) != 1 || res.Skipped[0].ID != keyed {
		t.Errorf("Act: changed %d, skipped %+v; want 2 changed and %s refused once", res.Changed, res.Skipped, keyed)
	}
	p.want(t, 2)
	wantAudit(t, s, "JOB_RETRY", 2)
}

type actResult struct {
	res *store.ActionResult
	err error
}

// progress records what an action's Progress hears.
type progress struct {
	mu      sync.Mutex
	batches [][]string
}

func (p *progress) hear(batch []store.Changed) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for _, c := range batch {
		ids = append(ids, c.ID)
	}
	p.batches = append(p.batches, ids)
}

func (p *progress) want(t *testing.T, n int) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.batches) != 1 || len(p.batches[0]) != n {
		t.Errorf("progress heard %v, want one batch of %d jobs", p.batches, n)
	}
}

func wantAudit(t *testing.T, s *Store, action string, n int) {
	t.Helper()
	var rows, jobs int
	if err := s.pool.QueryRow(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT "resourceId") FROM "AuditLog" WHERE action = $1`, action).Scan(&rows, &jobs); err != nil {
		t.Fatal(err)
	}
	if rows != n || jobs != n {
		t.Errorf("%d %s audit rows for %d jobs, want one for each of %d", rows, action, jobs, n)
	}
}

// TestRetryableCodes: what the store runs again.
func TestRetryableCodes(t *testing.T) {
	for code, want := range map[string]bool{"40P01": true, "40001": true, "23505": false, "57P01": false, "42501": false} {
		err := fmt.Errorf("complete: %w", &pgconn.PgError{Code: code})
		if got := dialect.Retryable(err); got != want {
			t.Errorf("Retryable(%s) = %v, want %v", code, got, want)
		}
	}
	if dialect.Retryable(errors.New("deadlock detected")) {
		t.Error("Retryable of a plain error: want false")
	}
}
