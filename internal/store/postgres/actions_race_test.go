package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

// Bulk actions beside other writers: a batch's lanes (Dialect.Lanes), an
// action cut short, and a unique key taken meanwhile. Each test holds a
// lock, in a transaction of its own, that one batch needs, and watches
// what the others do.

// failedJobs enqueues n jobs of typ, sets them FAILED (with key as their
// unique key, if any) and returns their ids in id order.
func failedJobs(t *testing.T, s *Store, typ, key string, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		id := enqueue(t, s, &store.EnqueueParams{Type: typ})
		ids = append(ids, id)
	}
	var k any
	if key != "" {
		k = key
	}
	if _, err := s.pool.Exec(context.Background(), `UPDATE "Job" SET status = 'FAILED', "completedAt" = now(), "uniqueKey" = $2
		WHERE id = ANY($1)`, ids, k); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

// holding begins a transaction on its own connection that runs sql, and
// returns it; the test ends it.
func holding(t *testing.T, s *Store, sql string, args ...any) pgx.Tx {
	t.Helper()
	tx, err := s.pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	if _, err := tx.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
	return tx
}

func countWhere(t *testing.T, s *Store, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func actAside(s *Store, p *store.ActionParams) <-chan actResult {
	done := make(chan actResult, 1)
	go func() {
		res, err := s.Act(context.Background(), p)
		done <- actResult{res, err}
	}()
	return done
}

// While the first batch of a retry waits for a row someone else holds, the
// second lane retries the rest; then the first batch goes through, and
// each job has one audit row.
func TestLanesRunBesideEachOther(t *testing.T) {
	if dialect.Lanes < 2 {
		t.Fatalf("Postgres runs bulk actions in %d lane(s); this test needs 2", dialect.Lanes)
	}
	s := openMigrated(t)
	ids := failedJobs(t, s, "Lane", "", 6)
	lock := holding(t, s, `SELECT 1 FROM "Job" WHERE id = $1 FOR UPDATE`, ids[0])
	done := actAside(s, &store.ActionParams{Action: store.ActRetry, BatchSize: 1, Actor: "test",
		Filter: store.Filter{Types: []string{"Lane"}}, Statuses: []store.Status{store.StatusFailed}})
	deadline := time.Now().Add(10 * time.Second)
	for countWhere(t, s, `SELECT count(*) FROM "Job" WHERE id = ANY($1) AND status = 'PENDING'`, ids[1:]) < len(ids)-1 {
		if time.Now().After(deadline) {
			t.Fatal("the jobs after the first were not retried while the first batch waited: one lane")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := countWhere(t, s, `SELECT count(*) FROM "Job" WHERE id = $1 AND status = 'FAILED'`, ids[0]); n != 1 {
		t.Fatal("the first job changed while its row was held elsewhere")
	}
	if err := lock.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.res.Changed != int64(len(ids)) {
		t.Fatalf("retry: %+v, %v; want %d retried", r.res, r.err, len(ids))
	}
	if n := countWhere(t, s, `SELECT count(*) FROM "AuditLog" WHERE "resourceId" = ANY($1)`, ids); n != len(ids) {
		t.Errorf("%d audit rows for %d jobs", n, len(ids))
	}
}

// Jobs with one unique key in two lanes: each lane waits for the key's
// lock (held here), then one takes the key back and the other refuses its
// job, naming the first, instead of failing on the unique index.
func TestLanesTakeAUniqueKeyInTurn(t *testing.T) {
	s := openMigrated(t)
	ids := failedJobs(t, s, "Keyed", "report:1", 2)
	lock := holding(t, s, `SELECT pg_advisory_xact_lock($1)`, jobsql.UniqueKeyLocks([]string{"report:1"})[0])
	done := actAside(s, &store.ActionParams{Action: store.ActRetry, BatchSize: 1, Actor: "test",
		Filter: store.Filter{Types: []string{"Keyed"}}, Statuses: []store.Status{store.StatusFailed}})
	time.Sleep(300 * time.Millisecond)
	if n := countWhere(t, s, `SELECT count(*) FROM "Job" WHERE id = ANY($1) AND status = 'FAILED'`, ids); n != 2 {
		t.Fatalf("%d of 2 jobs still FAILED while their key's lock was held elsewhere; want both", n)
	}
	if err := lock.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.res.Changed != 1 || len(r.res.Skipped) != 1 {
		t.Fatalf("retry: %+v, %v; want 1 retried and 1 refused", r.res, r.err)
	}
	kept := ids[0]
	if r.res.Skipped[0].ID == ids[0] {
		kept = ids[1]
	}
	if !strings.Contains(r.res.Skipped[0].Reason, "held by "+kept) {
		t.Errorf("refusal %q; want it to name %s", r.res.Skipped[0].Reason, kept)
	}
	if n := countWhere(t, s, `SELECT count(*) FROM "Job" WHERE id = $1 AND status = 'PENDING'`, kept); n != 1 {
		t.Errorf("%s, named as the key's holder, is not PENDING", kept)
	}
}

// A batch that fails in one lane ends the action with its error once the
// other lane's batch is done; every job is then retried with its audit row
// or left FAILED without one.
func TestLaneFailureLeavesEachJobDoneOrUntouched(t *testing.T) {
	s := openMigrated(t)
	ids := failedJobs(t, s, "Brittle", "", 8)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.id = '`+ids[3]+`' THEN RAISE EXCEPTION 'refused by test'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_one BEFORE UPDATE ON "Job" FOR EACH ROW EXECUTE FUNCTION refuse_one()`); err != nil {
		t.Fatal(err)
	}
	_, err := s.Act(ctx, &store.ActionParams{Action: store.ActRetry, BatchSize: 1, Actor: "test",
		Filter: store.Filter{Types: []string{"Brittle"}}, Statuses: []store.Status{store.StatusFailed}})
	if err == nil || !strings.Contains(err.Error(), "refused by test") {
		t.Fatalf("retry: %v; want the refused batch's error", err)
	}
	for _, id := range ids {
		var st string
		if err := s.pool.QueryRow(ctx, `SELECT status FROM "Job" WHERE id = $1`, id).Scan(&st); err != nil {
			t.Fatal(err)
		}
		audits := countWhere(t, s, `SELECT count(*) FROM "AuditLog" WHERE "resourceId" = $1`, id)
		switch {
		case st == "PENDING" && audits == 1, st == "FAILED" && audits == 0:
		default:
			t.Errorf("%s: %s with %d audit rows; want PENDING with 1 or FAILED with none", id, st, audits)
		}
		if id == ids[3] && st != "FAILED" {
			t.Errorf("the refused job is %s", st)
		}
	}
}

// Housekeeping keeps one lane, for the workers beside it: while an
// archive's first batch waits for a row held elsewhere, nothing after it
// moves.
func TestArchiveKeepsOneLane(t *testing.T) {
	s := openMigrated(t)
	ids := failedJobs(t, s, "Old", "", 4)
	if _, err := s.pool.Exec(context.Background(), `UPDATE "Job" SET status = 'COMPLETED' WHERE id = ANY($1)`, ids); err != nil {
		t.Fatal(err)
	}
	lock := holding(t, s, `SELECT 1 FROM "Job" WHERE id = $1 FOR UPDATE`, ids[0])
	done := actAside(s, &store.ActionParams{Action: store.ActArchive, BatchSize: 1, Actor: "test",
		Filter: store.Filter{Types: []string{"Old"}}, Statuses: []store.Status{store.StatusCompleted}})
	time.Sleep(300 * time.Millisecond)
	if n := countWhere(t, s, `SELECT count(*) FROM "JobArchive" WHERE id = ANY($1)`, ids); n != 0 {
		t.Errorf("%d jobs archived while the first batch waited; want none (one lane)", n)
	}
	if err := lock.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || r.res.Changed != int64(len(ids)) {
		t.Fatalf("archive: %+v, %v; want %d archived", r.res, r.err, len(ids))
	}
}

// A retry cut short (Ctrl-C, a server stopping) lets the batches under way
// finish, here once the rows they wait for are let go, and starts no
// other: cut off during its COMMIT, a batch could commit unseen, and the
// action would report fewer jobs changed than were. Ranges of 2 jobs: the
// first commits, the second and third wait on a row held here, the fourth
// is never begun.
func TestCutShortLetsTheBatchUnderWayFinish(t *testing.T) {
	s := openMigrated(t)
	ids := failedJobs(t, s, "Cut", "", 8)
	lock := holding(t, s, `SELECT 1 FROM "Job" WHERE id = ANY($1) FOR UPDATE`, []string{ids[2], ids[4]})
	var holder int
	if err := lock.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan actResult, 1)
	go func() {
		res, err := s.Act(ctx, &store.ActionParams{Action: store.ActRetry, BatchSize: 2, Actor: "test",
			Filter: store.Filter{Types: []string{"Cut"}}, Statuses: []store.Status{store.StatusFailed}})
		done <- actResult{res, err}
	}()
	// Both lanes wait on the held rows: the second and third ranges.
	for deadline := time.Now().Add(10 * time.Second); countWhere(t, s,
		`SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, holder) < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the two lanes never both waited on the held rows")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	time.Sleep(100 * time.Millisecond)
	if err := lock.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if !errors.Is(r.err, context.Canceled) || r.res == nil || r.res.Changed != 6 {
		t.Fatalf("retry cut short: %+v, %v; want context.Canceled and the 6 jobs of the three batches begun", r.res, r.err)
	}
	want := []string{"PENDING", "PENDING", "PENDING", "PENDING", "PENDING", "PENDING", "FAILED", "FAILED"}
	for i, id := range ids {
		var st string
		if err := s.pool.QueryRow(context.Background(), `SELECT status FROM "Job" WHERE id = $1`, id).Scan(&st); err != nil {
			t.Fatal(err)
		}
		if st != want[i] {
			t.Errorf("job %d of 8 is %s; want %s", i+1, st, want[i])
		}
	}
}

// An enqueue that gives a live job a retried job's unique key between the
// retry's check of the key and its UPDATE: the UPDATE fails on the unique
// index, and the batch runs again and refuses the job, naming the holder,
// instead of failing the retry.
func TestRetryMeetsAKeyTakenMeanwhile(t *testing.T) {
	s := openMigrated(t)
	old := failedJobs(t, s, "Welcome", "welcome:2", 1)[0]
	holder := enqueue(t, s, &store.EnqueueParams{Type: "Welcome"})
	// Uncommitted: the retry's check does not see it, its UPDATE waits on it.
	taking := holding(t, s, `UPDATE "Job" SET "uniqueKey" = 'welcome:2' WHERE id = $1`, holder)
	done := actAside(s, &store.ActionParams{Action: store.ActRetry, IDs: []string{old}, Actor: "test"})
	time.Sleep(300 * time.Millisecond)
	if err := taking.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.res.Changed != 0 || len(r.res.Skipped) != 1 || !strings.Contains(r.res.Skipped[0].Reason, "held by "+holder) {
		t.Fatalf("retry: %+v, %v; want %s refused, its key held by %s", r.res, r.err, old, holder)
	}
	if n := countWhere(t, s, `SELECT count(*) FROM "AuditLog" WHERE "resourceId" = $1`, old); n != 0 {
		t.Errorf("the refused job has %d audit rows", n)
	}
}
