package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
	"github.com/jobctl/jobctl/internal/store/postgres"
)

const (
	retryTarget      = 2 * time.Second // issue 11, Deliver 4
	archiveTarget    = 100000          // jobs/s; issue 11, Deliver 4
	claimTarget      = 100 * time.Millisecond
	opsEnqueueRate   = 500 // Noop jobs/s during the archive
	opsWorkers       = 8
	opsBaseline      = 3 * time.Second // claims watched before the archive starts
	retryType        = "CalendarSync"
	historyType      = "CacheWarmup" // its finished jobs become Noop history
	freshType        = "BenchFresh"  // a type the statistics have not seen
	freshJobs        = 40000         // half PENDING, half COMPLETED
	archiveBatchSize = 1000          // jobctl archive's default --batch-size on Postgres
	retryBatchSize   = 1000          // jobctl retry's default --batch-size
)

// failSlice is the CalendarSync COMPLETED jobs opsPrepSQL turns FAILED: the
// last hex digit of the row number is 0-7, half of them.
const failSlice = `(type = '` + retryType + `' AND status = 'COMPLETED' AND right(id, 1) < '8')`

// opsPrepSQL reshapes the seeded table for the operator actions in one
// pass: ~96,000 more CalendarSync jobs FAILED (with the seed's ~4,000,
// ~100,000), and every finished job that completed within the last 31 days
// moved 31 days back, so ~99% of the table is finished and older than 30d.
// The finished CacheWarmup jobs (~5%) become Noop jobs: the Noop type then
// has a history in the planner's statistics, as a deployed worker's type
// does (a type new since the last ANALYZE plans differently: see
// freshClaim). Then CLUSTER on the primary key: the seed writes rows in
// random id order, a real queue table in roughly id (= creation) order,
// and both batch walks go by id.
var opsPrepSQL = strings.NewReplacer("{F}", failSlice, "{SHIFT}", `CASE WHEN "completedAt" >= now() - interval '31 days'
		THEN interval '31 days' ELSE interval '0' END`).Replace(`
UPDATE "Job" SET
	type = CASE WHEN type = '` + historyType + `' THEN 'Noop' ELSE type END,
	status = CASE WHEN {F} THEN 'FAILED' ELSE status END,
	output = CASE WHEN {F} THEN NULL ELSE output END,
	"errorMessage" = CASE WHEN {F} THEN 'Token refresh failed: Invalid refresh token' ELSE "errorMessage" END,
	"errorCode" = CASE WHEN {F} THEN 'AUTH_ERROR' ELSE "errorCode" END,
	"errorStack" = CASE WHEN {F} THEN E'Error: FAILED\n    at handler (handler.js:42:13)' ELSE "errorStack" END,
	"scheduledFor" = "scheduledFor" - {SHIFT},
	"createdAt" = "createdAt" - {SHIFT},
	"startedAt" = "startedAt" - {SHIFT},
	"completedAt" = "completedAt" - {SHIFT},
	"updatedAt" = "updatedAt" - {SHIFT}
WHERE status IN ('COMPLETED', 'FAILED', 'DEAD', 'CANCELLED')
	AND ("completedAt" >= now() - interval '31 days' OR {F} OR type = '` + historyType + `')`)

// opsResetSQL puts the jobs the retry made PENDING back to COMPLETED, long
// finished: the archive then sees ~1M jobs, and the Noop worker's claims do
// not wade through 100,000 due CalendarSync jobs it cannot run (that would
// be a different figure). Seeded PENDING jobs are all from the last hour.
const opsResetSQL = `
UPDATE "Job" SET status = 'COMPLETED', "completedAt" = coalesce("startedAt", "createdAt") + interval '1 second',
	"scheduledFor" = "createdAt", "errorMessage" = NULL, "errorCode" = NULL, "errorStack" = NULL
WHERE type = '` + retryType + `' AND status = 'PENDING' AND "createdAt" < now() - interval '31 days'`

// benchOps times the bulk operator actions on the large table — retry of
// ~100,000 FAILED jobs, archive of ~1M — and the claim latency a worker
// sees while the archive runs.
func benchOps(ctx context.Context, e *env) error {
	bt, err := e.takeBigTable(ctx)
	if err != nil {
		return err
	}
	defer bt.s.Close()
	s := bt.s
	runs := e.cfg.runs

	t0 := time.Now()
	n, err := execN(ctx, s, opsPrepSQL)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	upd := time.Since(t0)
	corr0, err := idCorrelation(ctx, s)
	if err != nil {
		return err
	}
	if _, err := s.Pool().Exec(ctx, `CLUSTER "Job" USING "Job_pkey"`); err != nil {
		return err
	}
	if _, err := s.Pool().Exec(ctx, `ANALYZE "Job"`); err != nil {
		return err
	}
	corr1, err := idCorrelation(ctx, s)
	if err != nil {
		return err
	}
	failed0, archivable, err := opsCounts(ctx, s)
	if err != nil {
		return err
	}
	note("prepared in %s: one UPDATE of %s rows (%s), CLUSTER on Job_pkey + ANALYZE (id/heap correlation %.2f -> %.2f):",
		time.Since(t0).Round(100*time.Millisecond), count(n), upd.Round(100*time.Millisecond), corr0, corr1)
	note("%s %s jobs FAILED; %s COMPLETED/CANCELLED/DEAD jobs finished more than 30 days ago", count(failed0), retryType, count(archivable))
	var plans []string
	t := newTable("figure", "value", "target", "meets", "notes")

	// (a) retry.
	retryP := &store.ActionParams{Action: store.ActRetry, BatchSize: retryBatchSize, Actor: "bench", OperationID: "op_bench",
		Filter:   store.Filter{Types: []string{retryType}, Statuses: []store.Status{store.StatusFailed}},
		Statuses: []store.Status{store.StatusFailed}}
	retryB, err := batchSQL(ctx, s, retryP, runs)
	if err != nil {
		return fmt.Errorf("retry SQL: %w", err)
	}
	bareRetry, bareRetried, err := bare(ctx, s, opsBareRetrySQL, "Job")
	if err != nil {
		return fmt.Errorf("retry yardstick: %w", err)
	}
	if err := checkpoint(ctx, s); err != nil {
		return err
	}
	p, err := e.run(ctx, bt.env, "retry", "--type", retryType, "--status", "failed")
	if err != nil {
		return err
	}
	failed1, _, err := opsCounts(ctx, s)
	if err != nil {
		return err
	}
	retried := int(failed0 - failed1)
	t.add("(a) retry --type "+retryType+" --status failed", ms(p.wall), "< "+ms(retryTarget), verdict(p.wall < retryTarget),
		fmt.Sprintf("%s jobs, %s; %s", count(retried), perSec(rate(retried, p.wall)), firstLine(p.stderr)))
	t.add("    yardstick: one bare UPDATE of the same jobs", ms(bareRetry), "", "",
		fmt.Sprintf("%s rows, %s; the retry takes %.2fx its time", count(bareRetried), perSec(rate(int(bareRetried), bareRetry)), p.wall.Seconds()/bareRetry.Seconds()))
	e.addFigure(figure{part: "ops", name: fmt.Sprintf("postgres retry of %s FAILED jobs (vs one bare UPDATE)", count(retried)), value: ms(p.wall),
		yardstick: ms(bareRetry), ratio: ratio(p.wall.Seconds(), bareRetry.Seconds()), target: "< " + ms(retryTarget), meets: meets(p.wall < retryTarget)})
	plans = append(plans, retryB.plans("retry")...)

	// Reset, then (b) archive with (c) a worker claiming meanwhile.
	if _, err := execN(ctx, s, opsResetSQL); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	if err := vacuum(ctx, s); err != nil {
		return err
	}
	_, archivable, err = opsCounts(ctx, s)
	if err != nil {
		return err
	}
	archP := &store.ActionParams{Action: store.ActArchive, BatchSize: archiveBatchSize, Actor: "bench", OperationID: "op_bench",
		Filter: store.Filter{FinishedBefore: time.Now().Add(-30 * 24 * time.Hour), Statuses: store.Allowed[store.ActArchive]}}
	archB, err := batchSQL(ctx, s, archP, runs)
	if err != nil {
		return fmt.Errorf("archive SQL: %w", err)
	}
	plans = append(plans, archB.plans("archive")...)
	bareArchive, bareArchived, err := bare(ctx, s, opsBareArchiveSQL, "Job", "JobArchive")
	if err != nil {
		return fmt.Errorf("archive yardstick: %w", err)
	}
	aw, err := archiveUnderLoad(ctx, e, bt)
	if err != nil {
		return err
	}
	var archived int64
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM "JobArchive"`).Scan(&archived); err != nil {
		return err
	}
	ar := rate(int(archived), aw.wall)
	t.add("(b) archive --older 30d", ms(aw.wall), "≥ "+perSec(archiveTarget), verdict(ar >= archiveTarget),
		fmt.Sprintf("%s of %s jobs, %s; %s", count(archived), count(archivable), perSec(ar), firstLine(aw.summary)))
	t.add("    yardstick: one bare DELETE … INSERT of the same jobs, alone", ms(bareArchive), "", "",
		fmt.Sprintf("%s rows, %s; the archive beside a worker runs at %.2fx its rate", count(bareArchived), perSec(rate(int(bareArchived), bareArchive)),
			ar/rate(int(bareArchived), bareArchive)))
	e.addFigure(figure{part: "ops", name: fmt.Sprintf("postgres archive of %s jobs beside a worker (vs one bare move, alone)", count(archived)), value: perSec(ar),
		yardstick: perSec(rate(int(bareArchived), bareArchive)), ratio: ratio(ar, rate(int(bareArchived), bareArchive)), target: "≥ " + perSec(archiveTarget), meets: meets(ar >= archiveTarget)})
	for _, q := range []struct {
		name string
		p    float64
	}{{"max", 100}, {"p99", 99}} {
		e.addFigure(figure{part: "ops", name: "postgres worker's claim during the archive, " + q.name, value: ms(percentile(aw.claims, q.p)),
			yardstick: ms(percentile(aw.base, q.p)) + " before", target: "< " + ms(claimTarget), meets: meets(len(aw.claims) > 0 && percentile(aw.claims, q.p) < claimTarget)})
	}
	t.add("(c) claim latency during (b): max", ms(percentile(aw.claims, 100)), "< "+ms(claimTarget),
		verdict(len(aw.claims) > 0 && percentile(aw.claims, 100) < claimTarget), fmt.Sprintf("%d claims (took= of msg=claimed)", len(aw.claims)))
	t.add("(c) claim latency during (b): p99", ms(percentile(aw.claims, 99)), "< "+ms(claimTarget),
		verdict(len(aw.claims) > 0 && percentile(aw.claims, 99) < claimTarget), "p50 "+ms(percentile(aw.claims, 50)))
	t.add("    claim latency before (b) (baseline)", ms(percentile(aw.base, 99))+" p99", "", "",
		fmt.Sprintf("max %s, p50 %s, %d claims in %s", ms(percentile(aw.base, 100)), ms(percentile(aw.base, 50)), len(aw.base), opsBaseline))
	t.add("    Noop pickup (startedAt-createdAt) during (b)", ms(aw.pickup99)+" p99", "", "", "max "+ms(aw.pickupMax))
	t.add("    worker outcome writes during (b)", ms(percentile(aw.outcomes, 99))+" p99", "", "",
		fmt.Sprintf("max %s; %d writes; claims took %s jobs, %s", ms(percentile(aw.outcomes, 100)), len(aw.outcomes),
			count(aw.claimedJobs), perSec(rate(aw.claimedJobs, aw.wall))))
	backlog := "all done"
	if aw.left > 0 {
		backlog = count(aw.left) + " still not completed"
	}
	t.add("    WAL written during (b)", fmt.Sprintf("%.0f MB", aw.walMB), "", "",
		fmt.Sprintf("%d checkpoints meanwhile (max_wal_size %s)", aw.checkpoints, showSetting(ctx, s, "max_wal_size")))
	t.add("    Noop backlog drained after (b) in", ms(aw.drained), "", "", backlog)
	t.add("    bench enqueue call during (b)", ms(percentile(aw.enq, 99))+" p99", "", "",
		fmt.Sprintf("max %s; %s enqueued, %s", ms(percentile(aw.enq, 100)), count(len(aw.enq)), perSec(rate(len(aw.enq), aw.wall))))
	t.print()
	fresh, err := freshClaim(ctx, s, runs)
	if err != nil {
		return err
	}
	note("method: (a),(b) whole-process wall time of the command, 1 run each; jobs counted in the database.")
	note("yardsticks: the same jobs changed by one plain statement in a transaction rolled back after it, with")
	note("no batches, locks taken ahead, audit rows or client; each after a CHECKPOINT, as (a) is.")
	note("(c) `worker run --concurrency %d --log-level debug` with the builtin noop handler, started before", opsWorkers)
	note("(b); the bench enqueues ~%d Noop jobs/s (store.Enqueue, 4 goroutines) from %s before (b) to its end;", opsEnqueueRate, opsBaseline)
	note("claim latency = took= of the worker's msg=claimed lines logged while (b) ran (the claim UPDATE's")
	note("round trip). Noop has ~5%% of the table as finished history (see opsPrepSQL); after the retry,")
	note("its jobs were set back to old COMPLETED ones (opsResetSQL), so (b) sees ~1M and (c) no backlog.")

	fmt.Println()
	note("One batch of each, run by jobsql.Act with the CLI's batch size in a rolled-back transaction")
	note("(the statement times as jobsql ran them; SELECT = until its rows were read):")
	for _, b := range []*batchRun{retryB, archB} {
		note("%s", b.summary())
	}
	note("%s", fresh.summary)
	plans = append(plans, fresh.plans...)
	fmt.Println("\n  Plans (last EXPLAIN run; batch SELECTs: batch 1, then a later batch with id > $last):")
	for _, pl := range plans {
		fmt.Print(pl)
	}
	return nil
}

// The operator actions' yardsticks: the same jobs changed by one plain
// statement, with nothing else (no batches, no row locks taken ahead, no
// audit rows, no client): what Postgres itself takes to write those rows
// and their index entries on this table and server. Each runs after a
// CHECKPOINT, as the action it measures does, and is rolled back.
const (
	opsBareRetrySQL = `UPDATE "Job" SET status = 'PENDING', "scheduledFor" = now(), "completedAt" = NULL,
	"workerId" = NULL, "cancelRequested" = FALSE, "maxAttempts" = GREATEST("maxAttempts", attempts + 1), "updatedAt" = now()
WHERE type = '` + retryType + `' AND status = 'FAILED'`
	opsJobColumns = `id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
	attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
	"userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"`
	opsBareArchiveSQL = `WITH moved AS (
	DELETE FROM "Job" WHERE status IN ('COMPLETED', 'CANCELLED', 'DEAD') AND "completedAt" < now() - interval '30 days'
	RETURNING ` + opsJobColumns + `)
INSERT INTO "JobArchive" (` + opsJobColumns + `) SELECT ` + opsJobColumns + ` FROM moved`
)

// bare times sql in a transaction it rolls back, after a CHECKPOINT, then
// vacuums the tables it left dead rows in.
func bare(ctx context.Context, s *postgres.Store, sql string, tables ...string) (time.Duration, int64, error) {
	if err := checkpoint(ctx, s); err != nil {
		return 0, 0, err
	}
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // rolled back below; this is for the error paths
	t0 := time.Now()
	tag, err := tx.Exec(ctx, sql)
	took := time.Since(t0)
	if err != nil {
		return 0, 0, err
	}
	if err := tx.Rollback(ctx); err != nil {
		return 0, 0, err
	}
	for _, t := range tables {
		if _, err := s.Pool().Exec(ctx, `VACUUM ANALYZE "`+t+`"`); err != nil {
			return 0, 0, err
		}
	}
	return took, tag.RowsAffected(), nil
}

func checkpoint(ctx context.Context, s *postgres.Store) error {
	if _, err := s.Pool().Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("CHECKPOINT: %w", err)
	}
	return nil
}

func execN(ctx context.Context, s *postgres.Store, sql string, args ...any) (int64, error) {
	tag, err := s.Pool().Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

func vacuum(ctx context.Context, s *postgres.Store) error {
	_, err := s.Pool().Exec(ctx, `VACUUM ANALYZE "Job"`)
	return err
}

// opsCounts are the retry's and the archive's candidates.
func opsCounts(ctx context.Context, s *postgres.Store) (failed, archivable int64, err error) {
	err = s.Pool().QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE type = $1 AND status = 'FAILED'),
		count(*) FILTER (WHERE status IN ('COMPLETED', 'CANCELLED', 'DEAD') AND "completedAt" < now() - interval '30 days')
		FROM "Job"`, retryType).Scan(&failed, &archivable)
	return failed, archivable, err
}

// batchRun is one batch of a bulk action as jobsql runs it, and the
// EXPLAINs of its SELECT and of the next batch's.
type batchRun struct {
	action       store.Action
	total        time.Duration
	stmts        []*recorded // batch 1's statements
	first, later *explained
	firstQ       query
	laterQ       query
}

// batchSQL runs batch 1 of p for real in a rolled-back transaction,
// recording its statements, and stops at batch 2's SELECT (id > $last);
// then EXPLAINs both batches' locking statements (batchStart).
func batchSQL(ctx context.Context, s *postgres.Store, p *store.ActionParams, runs int) (*batchRun, error) {
	selects := 0
	stop := func(sql string) bool {
		if batchStart(sql) {
			selects++
		}
		return selects == 2
	}
	t0 := time.Now()
	log, err := record(ctx, s, stop, func(b *jobsql.Base) error { _, err := b.Act(ctx, p); return err })
	if err != nil {
		return nil, err
	}
	br := &batchRun{action: p.Action, total: time.Since(t0)}
	if len(log) < 2 || selects != 2 {
		return nil, fmt.Errorf("%s: recorded %d statements, %d batch SELECTs: want 2 batches", p.Action, len(log), selects)
	}
	first := slices.IndexFunc(log, func(r *recorded) bool { return batchStart(r.sql) })
	br.stmts, br.firstQ, br.laterQ = log[:len(log)-1], log[first].query, log[len(log)-1].query
	if br.first, err = explain(ctx, s, br.firstQ, runs); err != nil {
		return nil, err
	}
	if br.later, err = explain(ctx, s, br.laterQ, runs); err != nil {
		return nil, err
	}
	return br, nil
}

// batchStart reports whether sql begins a batch: its locking SELECT, or
// the statement that locks, changes and audits a retry's batch
// (JobsRetryAudited).
func batchStart(sql string) bool {
	sql = strings.Join(strings.Fields(sql), " ") // named statements span lines
	return (strings.HasPrefix(sql, "SELECT ") || strings.HasPrefix(sql, "WITH locked AS ( SELECT ")) &&
		strings.Contains(sql, " ORDER BY id LIMIT ")
}

func (b *batchRun) summary() string {
	// Statements in order, runs of the same kind (the audit INSERT's
	// chunks) summed: "INSERT INTO "AuditLog" ×50 120 ms".
	var parts []string
	var sum, run time.Duration
	n := 0
	for i, r := range b.stmts {
		label := stmtLabel(r.sql, 24)
		sum += r.took
		run += r.took
		n++
		if i+1 < len(b.stmts) && stmtLabel(b.stmts[i+1].sql, 24) == label {
			continue
		}
		if n > 1 {
			label += fmt.Sprintf(" ×%d", n)
		}
		parts = append(parts, label+" "+ms(run))
		run, n = 0, 0
	}
	return fmt.Sprintf("%s batch: %s in all (SQL %s, rest client-side): %s; locking statement EXPLAIN p50 %s (batch 1) / %s (later), index scan %s / %s",
		b.action, ms(b.total), ms(sum), strings.Join(parts, "; "), ms(b.first.exec), ms(b.later.exec),
		b.first.indexVerdict(), b.later.indexVerdict())
}

func (b *batchRun) plans(label string) []string {
	return []string{
		planText(fmt.Sprintf("%s batch 1 locking statement (index scan: %s; %s)", label, b.first.indexVerdict(), b.first.scans()), b.firstQ, b.first),
		planText(fmt.Sprintf("%s later batch locking statement (index scan: %s; %s)", label, b.later.indexVerdict(), b.later.scans()), b.laterQ, b.later),
	}
}

// archiveRun is what (b) and (c) measured.
type archiveRun struct {
	wall                time.Duration
	summary             string          // its summary line, from stderr
	claims, base        []time.Duration // claim took= during the archive, and before it
	enq                 []time.Duration // bench enqueue calls during the archive
	pickup99, pickupMax time.Duration
	outcomes            []time.Duration // the worker's "wrote outcomes" took= during the archive
	claimedJobs         int             // jobs those claims took
	walMB               float64         // WAL written while the archive ran (the whole server)
	checkpoints         int64           // checkpoints started meanwhile
	left                int64           // Noop jobs still not completed 30s after the archive
	drained             time.Duration   // archive end to the last Noop job completed
}

var (
	claimLineRe = regexp.MustCompile(`^time=(\S+) .*msg=(claimed|"wrote outcomes") .*took=(\S+)`)
	claimJobsRe = regexp.MustCompile(` jobs=(\d+) `)
)

// archiveUnderLoad runs a Noop worker and a paced enqueuer, and the archive
// command once the baseline has been watched.
func archiveUnderLoad(ctx context.Context, e *env, bt *bigTable) (*archiveRun, error) {
	w, err := e.start(ctx, bt.env, "worker", "run", "--concurrency", fmt.Sprint(opsWorkers), "--log-level", "debug", "--config", e.noopCfg)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			w.stop()
		}
	}()
	if err := waitWorker(ctx, bt.s, w); err != nil {
		return nil, err
	}
	enq := startEnqueuer(ctx, bt.s, opsEnqueueRate)
	baseStart := time.Now()
	select {
	case <-ctx.Done():
		enq.stop()
		return nil, ctx.Err()
	case <-time.After(opsBaseline):
	}
	wal0, ckpt0, err := walState(ctx, bt.s)
	if err != nil {
		enq.stop()
		return nil, err
	}
	aStart := time.Now()
	p, err := e.run(ctx, bt.env, "archive", "--older", "30d")
	aEnd := time.Now()
	wal1, ckpt1, werr := walState(ctx, bt.s)
	if err == nil {
		err = werr
	}
	enqErr := enq.stop()
	if err != nil {
		return nil, err
	}
	if enqErr != nil {
		return nil, fmt.Errorf("enqueue: %w", enqErr)
	}
	// Let the worker finish the Noop jobs, then stop it and read its log.
	deadline := time.Now().Add(30 * time.Second)
	var left0 int64
	for {
		var left int64
		if err := bt.s.Pool().QueryRow(ctx, `SELECT count(*) FROM "Job" WHERE type = 'Noop' AND status IN ('PENDING', 'RUNNING', 'RETRYING')`).Scan(&left); err != nil {
			return nil, err
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			left0 = left
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	drained := time.Since(aEnd)
	stopped = true
	if err := w.stop(); err != nil {
		return nil, fmt.Errorf("stopping worker: %v: %s", err, firstLine(w.stderr.String()))
	}
	_ = os.WriteFile(filepath.Join(e.tmp, "ops-worker.log"), w.stderr.Bytes(), 0o644) // for -keep
	r := &archiveRun{wall: aEnd.Sub(aStart), summary: p.stderr, left: left0, drained: drained,
		walMB: float64(wal1-wal0) / (1 << 20), checkpoints: ckpt1 - ckpt0}
	sc := bufio.NewScanner(strings.NewReader(w.stderr.String()))
	for sc.Scan() {
		m := claimLineRe.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		at, err1 := time.Parse(time.RFC3339Nano, m[1])
		took, err2 := time.ParseDuration(m[3])
		if err1 != nil || err2 != nil {
			continue
		}
		during := !at.Before(aStart) && !at.After(aEnd)
		switch {
		case m[2] != "claimed":
			if during {
				r.outcomes = append(r.outcomes, took)
			}
		case during:
			r.claims = append(r.claims, took)
			if j := claimJobsRe.FindStringSubmatch(sc.Text()); j != nil && j[1] != "0" {
				n, _ := strconv.Atoi(j[1])
				r.claimedJobs += n
			}
		case !at.Before(baseStart) && at.Before(aStart):
			r.base = append(r.base, took)
		}
	}
	for _, c := range enq.calls {
		if !c.at.Before(aStart) && !c.at.After(aEnd) {
			r.enq = append(r.enq, c.took)
		}
	}
	var p99, pmax float64
	if err := bt.s.Pool().QueryRow(ctx, `SELECT
		coalesce(extract(epoch FROM percentile_disc(0.99) WITHIN GROUP (ORDER BY "startedAt" - "createdAt")), 0)::float8,
		coalesce(extract(epoch FROM max("startedAt" - "createdAt")), 0)::float8
		FROM "Job" WHERE type = 'Noop' AND "createdAt" BETWEEN $1 AND $2`, aStart, aEnd).Scan(&p99, &pmax); err != nil {
		return nil, err
	}
	r.pickup99, r.pickupMax = time.Duration(p99*float64(time.Second)), time.Duration(pmax*float64(time.Second))
	return r, nil
}

// enqueuer enqueues Noop jobs at a steady rate until stopped.
type enqueuer struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	calls  []enqCall
	err    error // the first failed enqueue
}

type enqCall struct {
	at   time.Time
	took time.Duration
}

func startEnqueuer(ctx context.Context, s store.Store, perSec int) *enqueuer {
	ctx, cancel := context.WithCancel(ctx)
	q := &enqueuer{cancel: cancel}
	ticks := make(chan struct{}, perSec)
	const tick = 10 * time.Millisecond
	per := perSec * int(tick) / int(time.Second)
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		defer close(ticks)
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			for range per {
				select {
				case ticks <- struct{}{}:
				default: // behind: the enqueued count shows it
				}
			}
		}
	}()
	for range 4 {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			for range ticks {
				if ctx.Err() != nil {
					continue // stopped: drop the ticks still queued
				}
				t0 := time.Now()
				_, err := s.Enqueue(context.WithoutCancel(ctx), &store.EnqueueParams{Type: "Noop", Data: []byte(`{"bench":"ops"}`)})
				took := time.Since(t0)
				q.mu.Lock()
				if err != nil && q.err == nil {
					q.err = err
				} else if err == nil {
					q.calls = append(q.calls, enqCall{at: t0, took: took})
				}
				q.mu.Unlock()
			}
		}()
	}
	return q
}

func (q *enqueuer) stop() error {
	q.cancel()
	q.wg.Wait()
	return q.err
}

func idCorrelation(ctx context.Context, s *postgres.Store) (float64, error) {
	var c float64
	err := s.Pool().QueryRow(ctx, `SELECT coalesce(correlation, 0)::float8 FROM pg_stats
		WHERE schemaname = current_schema() AND tablename = 'Job' AND attname = 'id'`).Scan(&c)
	return c, err
}

type freshResult struct {
	summary string
	plans   []string
}

// freshClaim EXPLAINs the claim (jobsql.Claim, 8 jobs) for a type first
// enqueued since the last ANALYZE — freshJobs of it, half PENDING, half
// COMPLETED — next to the claim for Noop, which the statistics know. It
// runs after the worker stopped; autovacuum may be off, as on the bench's
// server, so nothing re-analyzes meanwhile.
func freshClaim(ctx context.Context, s *postgres.Store, runs int) (*freshResult, error) {
	if _, err := s.Pool().Exec(ctx, `INSERT INTO "Job" (type, status, "startedAt", "completedAt")
		SELECT $1, CASE WHEN g % 2 = 0 THEN 'COMPLETED' ELSE 'PENDING' END,
			CASE WHEN g % 2 = 0 THEN now() END, CASE WHEN g % 2 = 0 THEN now() END
		FROM generate_series(1, $2::int) g`, freshType, freshJobs); err != nil {
		return nil, err
	}
	r := &freshResult{}
	var parts []string
	for _, typ := range []string{"Noop", freshType} {
		q, err := capture(func(db jobsql.DB) error {
			_, err := jobsql.Claim(ctx, db, s.D, &store.ClaimParams{WorkerID: "bench-explain", Types: []string{typ}, Limit: opsWorkers})
			return err
		})
		if err != nil {
			return nil, err
		}
		ex, err := explain(ctx, s, q, runs)
		if err != nil {
			return nil, err
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", typ, ms(ex.exec), ex.scans()))
		r.plans = append(r.plans, planText(fmt.Sprintf("claim for %s (index scan: %s; %s)", typ, ex.indexVerdict(), ex.scans()), q, ex))
	}
	r.summary = fmt.Sprintf("extra: claim of %d for a type the statistics know vs one new since the last ANALYZE (%s: %s jobs, half PENDING): %s",
		opsWorkers, freshType, count(freshJobs), strings.Join(parts, " vs "))
	return r, nil
}

// walState is the server's WAL position (bytes) and checkpoint count.
func walState(ctx context.Context, s *postgres.Store) (lsn, checkpoints int64, err error) {
	err = s.Pool().QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
		(SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)`).Scan(&lsn, &checkpoints)
	return lsn, checkpoints, err
}

func showSetting(ctx context.Context, s *postgres.Store, name string) string {
	var v string
	if err := s.Pool().QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
		return "?"
	}
	return v
}
