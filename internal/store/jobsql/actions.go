package jobsql

import (
	"context"
	"errors"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// Operator actions, in sql/actions.sql.
var (
	jobMaxID               = stmt("JobMaxID")
	archiveMaxID           = stmt("ArchiveMaxID")
	actionBatch            = stmt("ActionBatch")
	actionBatchPeek        = stmt("ActionBatchPeek")
	actionRangeEnd         = stmt("ActionRangeEnd")
	archiveBatch           = stmt("ArchiveBatch")
	archiveBatchPeek       = stmt("ArchiveBatchPeek")
	jobStatuses            = stmt("JobStatuses")
	uniqueKeysHeld         = stmt("UniqueKeysHeld")
	uniqueKeysLock         = stmt("UniqueKeysLock")
	jobsMarkCancelRequests = stmt("JobsMarkCancelRequests")
	jobsOrphaned           = stmt("JobsOrphaned")
	actionAudit            = stmt("ActionAudit")
	jobDependenciesDelete  = stmt("JobDependenciesDelete")
	jobsDeleteAudited      = stmt("JobsDeleteAudited")
	jobsMoveAudited        = stmt("JobsMoveAudited")
	jobsCopy               = stmt("JobsCopy")
	jobsDelete             = stmt("JobsDelete")
	jobsRetry              = stmt("JobsRetry")
	jobsRetryAudited       = stmt("JobsRetryAudited")
	jobsCancel             = stmt("JobsCancel")
	jobsStart              = stmt("JobsStart")
)

// Act runs an operator action in batches, each a transaction holding the
// change and its audit rows.
func (b *Base) Act(ctx context.Context, p *store.ActionParams) (*store.ActionResult, error) {
	if p.BatchSize <= 0 {
		p.BatchSize = store.DefaultBatch
		if p.Action == store.ActArchive && b.D.ArchiveBatch > 0 {
			p.BatchSize = b.D.ArchiveBatch
		}
	}
	res := &store.ActionResult{Skipped: []store.Skipped{}, NotFound: []string{}}
	var err error
	if len(p.IDs) > 0 {
		err = b.actOnIDs(ctx, p, res)
	} else {
		err = b.actOnFilter(ctx, p, res)
	}
	return res, b.Wrap(string(p.Action), p.Action.Permission(), err)
}

// actOnIDs reports each named job that is missing or in the wrong status,
// then acts on the rest in batches.
func (b *Base) actOnIDs(ctx context.Context, p *store.ActionParams, res *store.ActionResult) error {
	ids := dedupe(p.IDs)
	allowed := p.AllowedStatuses()
	dryKeys := map[string]string{}
	var eligible []string
	for start := 0; start < len(ids); start += p.BatchSize {
		chunk := ids[start:min(start+p.BatchSize, len(ids))]
		found, err := statuses(ctx, b.DB, b.D, chunk, p.Action == store.ActRestore)
		if err != nil {
			return err
		}
		for _, id := range chunk {
			st, ok := found[id]
			switch {
			case !ok:
				res.NotFound = append(res.NotFound, id)
			case p.Action != store.ActRestore && !slices.Contains(allowed, st):
				res.Skipped = append(res.Skipped, store.Skipped{ID: id, Status: st, Reason: store.RefusalReason(p.Action, id, st, allowed)})
			default:
				eligible = append(eligible, id)
			}
		}
	}
	for start := 0; start < len(eligible); start += p.BatchSize {
		chunk := eligible[start:min(start+p.BatchSize, len(eligible))]
		changed, _, err := b.actBatch(ctx, p, func(a *Args) string {
			cond := "id" + b.D.InIDs(a, chunk)
			if p.Action != store.ActRestore {
				cond += " AND status IN " + In(a, allowed)
			}
			return cond
		}, dryKeys, res)
		if err != nil {
			return err
		}
		// A job that changed status between the lookup and its batch's lock
		// is refused with the status it has now.
		if len(changed) < len(chunk) {
			if err := b.refuseChanged(ctx, p, chunk, changed, res); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *Base) refuseChanged(ctx context.Context, p *store.ActionParams, chunk []string, changed map[string]bool, res *store.ActionResult) error {
	var missed []string
	for _, id := range chunk {
		if !changed[id] && !skippedAlready(res, id) {
			missed = append(missed, id)
		}
	}
	if len(missed) == 0 {
		return nil
	}
	now, err := statuses(ctx, b.DB, b.D, missed, p.Action == store.ActRestore)
	if err != nil {
		return err
	}
	for _, id := range missed {
		st, ok := now[id]
		if !ok {
			res.NotFound = append(res.NotFound, id)
			continue
		}
		res.Skipped = append(res.Skipped, store.Skipped{ID: id, Status: st, Reason: store.RefusalReason(p.Action, id, st, p.AllowedStatuses())})
	}
	return nil
}

func skippedAlready(res *store.ActionResult, id string) bool {
	return slices.ContainsFunc(res.Skipped, func(s store.Skipped) bool { return s.ID == id })
}

// actOnFilter walks the filter's jobs in id order, a batch at a time: the
// keyset on id makes progress even past jobs a batch leaves alone. The walk
// stops at the highest id there was when it began, so it acts on the jobs
// the operator was shown a count of: jobs enqueued meanwhile (ids grow with
// time) are not chased, which against busy workers would never end. Where
// the dialect has lanes, batches run in them (inLanes).
func (b *Base) actOnFilter(ctx context.Context, p *store.ActionParams, res *store.ActionResult) error {
	maxID := jobMaxID
	if p.Action == store.ActRestore {
		maxID = archiveMaxID
	}
	var bound *string
	if err := b.DB.QueryRow(ctx, b.D.SQL(maxID)).Scan(&bound); err != nil {
		return err
	}
	if bound == nil {
		return nil
	}
	if b.inLanes(p) {
		return b.actInLanes(ctx, p, *bound, res)
	}
	return b.walk(ctx, p, "", *bound, res)
}

// inLanes reports whether p's batches run in the dialect's lanes: those of
// a retry, cancel or start, which an operator runs when something is wrong
// and waits for. Housekeeping (archive, purge, delete, restore) keeps one
// lane: it runs from cron beside working workers, and on Postgres a second
// archive lane there took their claims' p99 from 10-13 ms to 16-18 ms and
// their longest claim over 100 ms in 3 runs of 4, for an archive 1.36x as
// fast (README). A dry run keeps one lane too, as it must see its earlier
// batches' choices, and so does an archive to a file, which writes the
// batches in order.
func (b *Base) inLanes(p *store.ActionParams) bool {
	switch {
	case b.D.Lanes < 2, p.DryRun, p.Sink != nil:
		return false
	}
	switch p.Action {
	case store.ActRetry, store.ActCancel, store.ActStart:
		return true
	}
	return false
}

// walk acts on the filter's jobs with ids in (after, upto] ("" after: from
// the first), a batch at a time. When ctx ends, the batch under way may
// finish (batchContext) and no other starts.
func (b *Base) walk(ctx context.Context, p *store.ActionParams, after, upto string, res *store.ActionResult) error {
	bctx, cancel := batchContext(ctx)
	defer cancel()
	last := after
	dryKeys := map[string]string{}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, seen, err := b.actBatch(bctx, p, func(a *Args) string {
			return b.walkFilter(a, p, last, upto)
		}, dryKeys, res)
		if err != nil {
			return err
		}
		if seen == "" || seen == upto {
			return nil
		}
		last = seen
	}
}

// batchGrace is how long a batch under way when its action is cut short
// (Ctrl-C, a server stopping) may go on: long enough for any batch that is
// not stuck behind someone's lock.
const batchGrace = 5 * time.Second

// batchContext is the context of a walk's batches: ended batchGrace after
// ctx ends, not at once. A batch cut off during its COMMIT may have
// committed without its caller hearing so, and the action would report
// fewer jobs changed than were; in lanes, one lane's batch is under way
// whenever the other's ends.
func batchContext(ctx context.Context) (context.Context, context.CancelFunc) {
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(batchGrace, cancel) })
	return bctx, func() {
		stop()
		cancel()
	}
}

// walkFilter is the /*:filter*/ of a walk's batch: the action's filter and
// statuses, and ids in (after, upto].
func (b *Base) walkFilter(a *Args, p *store.ActionParams, after, upto string) string {
	cond := Conditions(a, &p.Filter, p.Action == store.ActRestore) + " AND status IN " + In(a, p.AllowedStatuses()) + " AND id <= " + a.Add(upto)
	if after != "" {
		cond += " AND id > " + a.Add(after)
	}
	return cond
}

// actInLanes runs the walk's batches D.Lanes at a time. One batch's change
// keeps one database backend, and so one core, busy: on Postgres, 2 cores,
// a second lane took a retry of 100,000 jobs from 4.7-5.2 s to 3.4-4.0 s
// (README). This goroutine cuts the filter's jobs into ranges of one batch
// each, in id order, reading ids without locking them (ActionRangeEnd),
// and each lane walks one range at a time. Ranges share no job, so lanes
// never wait on each other's rows; retries of jobs with one unique key
// take its lock in turn (UniqueKeysLock). A lane that fails stops the
// others after their batch: each job is changed with its audit rows or
// left as it was.
func (b *Base) actInLanes(ctx context.Context, p *store.ActionParams, upto string, res *store.ActionResult) error {
	var (
		mu      sync.Mutex // the first error, and calls to p.Progress
		failed  error
		stop    = make(chan struct{})
		ranges  = make(chan [2]string)
		lanes   sync.WaitGroup
		results = make([]*store.ActionResult, b.D.Lanes)
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if failed == nil {
			failed = err
			close(stop)
		}
	}
	lp := *p
	if p.Progress != nil {
		lp.Progress = func(c []store.Changed) {
			mu.Lock()
			defer mu.Unlock()
			p.Progress(c)
		}
	}
	for i := range results {
		r := &store.ActionResult{}
		results[i] = r
		lanes.Add(1)
		go func() {
			defer lanes.Done()
			for rg := range ranges {
				select {
				case <-stop:
					continue // drain: the cutter stops sending
				default:
				}
				if err := b.walk(ctx, &lp, rg[0], rg[1], r); err != nil {
					fail(err)
				}
			}
		}()
	}
cut:
	for after := ""; ; {
		end, err := b.rangeEnd(ctx, p, after, upto)
		if err != nil {
			fail(err)
			break
		}
		select {
		case ranges <- [2]string{after, end}:
		case <-stop:
			break cut
		}
		if end == upto {
			break
		}
		after = end
	}
	close(ranges)
	lanes.Wait()
	for _, r := range results {
		res.Changed += r.Changed
		res.Requested += r.Requested
		res.Skipped = append(res.Skipped, r.Skipped...)
	}
	slices.SortFunc(res.Skipped, func(x, y store.Skipped) int { return strings.Compare(x.ID, y.ID) })
	if err := ctx.Err(); err != nil && failed != nil {
		return err // cut short: the lanes' errors are its echoes
	}
	return failed
}

// rangeEnd is the id that ends the walk's next range of one batch after
// after: upto when fewer jobs than a batch are left.
func (b *Base) rangeEnd(ctx context.Context, p *store.ActionParams, after, upto string) (string, error) {
	a := b.D.ArgsAfter(p.BatchSize - 1)
	sql := b.D.SQL(actionRangeEnd, Fill{"table": Table(p.Action == store.ActRestore), "filter": b.walkFilter(a, p, after, upto)})
	var end string
	err := b.DB.QueryRow(ctx, sql, a.Values...).Scan(&end)
	if errors.Is(err, store.ErrNotFound) {
		return upto, nil
	}
	return end, err
}

// actBatch runs one batch of p in a transaction of its own and commits
// it: up to BatchSize jobs that filter's conditions keep, locked, changed
// and audited (stepFor). It returns the ids it changed and the highest
// id it looked at ("" when none matched). filter fills the batch
// statement's /*:filter*/ slot. dryKeys are the unique keys a dry run's
// earlier batches would have taken back (retry), by job: its batches
// commit nothing, so the database cannot say.
func (b *Base) actBatch(ctx context.Context, p *store.ActionParams, filter func(*Args) string, dryKeys map[string]string, res *store.ActionResult) (map[string]bool, string, error) {
	step := b.stepFor(p, filter, dryKeys)
	var (
		rows    []*store.Job
		changed []store.Changed
		// What the batch refused, kept apart until it commits: a batch
		// rolled back to break a deadlock runs again from the start.
		batch *store.ActionResult
	)
	// A retry checks the batch's unique keys before it puts the jobs back
	// (withoutHeldKeys), but an enqueue of a job with one of those keys may
	// commit in between, and the UPDATE then fails on the unique index. It
	// rolled back, so the batch runs again and refuses that job, its key
	// now held.
	var again func(error) bool
	if p.Action == store.ActRetry {
		again = b.D.KeyClash
	}
	err := b.writeAgainOn(ctx, again, func(tx DB) error {
		var err error
		batch = &store.ActionResult{}
		rows, changed, err = step(ctx, tx, batch)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return b.batchDone(p, rows, changed, batch, dryKeys, res), lastID(rows), nil
}

// A batchStep is one batch's work in its transaction: it locks the batch
// (a dry run only reads it), changes it with its audit rows, and returns
// the rows it found and what changed. What it refuses goes into batch.
type batchStep func(ctx context.Context, tx DB, batch *store.ActionResult) ([]*store.Job, []store.Changed, error)

// stepFor chooses the statements of p's batches: a retry's in one where
// the engine runs JobsRetryAudited (retryStep), else one that locks the
// batch and those of its change (applyStep) or, in a dry run, of its
// prediction (dryStep).
func (b *Base) stepFor(p *store.ActionParams, filter func(*Args) string, dryKeys map[string]string) batchStep {
	switch {
	case p.DryRun:
		return b.dryStep(p, filter, dryKeys)
	case p.Action == store.ActRetry && b.D.Runs(jobsRetryAudited):
		return b.retryStep(p, filter)
	}
	return b.applyStep(p, filter)
}

// applyStep locks the batch, then changes it as apply does.
func (b *Base) applyStep(p *store.ActionParams, filter func(*Args) string) batchStep {
	lock := b.readBatch(p, filter)
	return func(ctx context.Context, tx DB, batch *store.ActionResult) ([]*store.Job, []store.Changed, error) {
		rows, err := lock(ctx, tx)
		if err != nil || len(rows) == 0 {
			return rows, nil, err
		}
		changed, err := apply(ctx, tx, b.D, p, rows, batch)
		if err != nil && p.Sink != nil && p.Action == store.ActArchive {
			// The sink may have written the batch already: running it
			// again would write it twice.
			return rows, nil, final(err)
		}
		return rows, changed, err
	}
}

// dryStep reads the batch and predicts its change, changing nothing.
func (b *Base) dryStep(p *store.ActionParams, filter func(*Args) string, dryKeys map[string]string) batchStep {
	read := b.readBatch(p, filter)
	return func(ctx context.Context, tx DB, batch *store.ActionResult) ([]*store.Job, []store.Changed, error) {
		rows, err := read(ctx, tx)
		if err != nil || len(rows) == 0 {
			return rows, nil, err
		}
		kept := rows
		if p.Action == store.ActRetry {
			// The keys' holders, found as the retry would find them
			// (waiting its turn for each key's lock).
			if kept, err = withoutHeldKeys(ctx, tx, b.D, rows, maps.Clone(dryKeys), batch); err != nil {
				return rows, nil, err
			}
		}
		gone, err := orphaned(ctx, tx, b.D, p, kept)
		return rows, predict(p, kept, gone), err
	}
}

// readBatch reads the next batch, locking it unless p is a dry run. An
// archive to a file hands whole jobs to its sink; the other actions read
// only what decides and reports the change, not the JSON payloads.
func (b *Base) readBatch(p *store.ActionParams, filter func(*Args) string) func(context.Context, DB) ([]*store.Job, error) {
	full := p.Action == store.ActArchive && p.Sink != nil
	a := b.D.ArgsAfter(p.BatchSize)
	fill := Fill{"filter": filter(a)}
	var stmt *Stmt
	switch {
	case full && p.DryRun:
		stmt = archiveBatchPeek
	case full:
		stmt = archiveBatch
	case p.DryRun:
		stmt = actionBatchPeek
	default:
		stmt = actionBatch
	}
	if !full {
		fill["table"] = Table(p.Action == store.ActRestore)
	}
	sql := b.D.SQL(stmt, fill)
	return func(ctx context.Context, tx DB) ([]*store.Job, error) {
		if full {
			return QueryJobs(ctx, tx, sql, a.Values, false)
		}
		return queryActionRows(ctx, tx, sql, a.Values)
	}
}

// retryStep is a retry's batch where the engine runs JobsRetryAudited: one
// statement locks the batch, retries its jobs that have no unique key and
// writes their audit rows; those with a key then go as retryJobs takes them,
// their holders checked first, due at the same time.
func (b *Base) retryStep(p *store.ActionParams, filter func(*Args) string) batchStep {
	at := dueAt(p)
	a := b.D.ArgsAfter(p.Action.AuditAction(), p.Actor, p.BatchSize, at, p.ResetAttempts)
	fill := auditFill(a, b.D, p)
	fill["filter"] = filter(a)
	sql := b.D.SQL(jobsRetryAudited, fill)
	return func(ctx context.Context, tx DB, batch *store.ActionResult) ([]*store.Job, []store.Changed, error) {
		rows, changed, err := queryRetried(ctx, tx, sql, a.Values)
		if err != nil {
			return nil, nil, err
		}
		var keyed []*store.Job
		for _, j := range rows {
			if j.UniqueKey != "" {
				keyed = append(keyed, j)
			}
		}
		if len(keyed) == 0 {
			return rows, changed, nil
		}
		more, err := retryJobs(ctx, tx, b.D, p, keyed, at, batch)
		return rows, append(changed, more...), err
	}
}

// queryRetried reads the rows of JobsRetryAudited: every locked job, and
// the change of those it retried.
func queryRetried(ctx context.Context, tx DB, sql string, args []any) ([]*store.Job, []store.Changed, error) {
	r, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var (
		rows    []*store.Job
		changed []store.Changed
	)
	for r.Next() {
		var (
			j              store.Job
			st, key        text
			scheduled, now timestamp
		)
		if err := r.Scan(&j.ID, &j.Type, &st, &key, &scheduled, &now); err != nil {
			return nil, nil, err
		}
		j.Status, j.UniqueKey, j.ScheduledFor = store.Status(st), string(key), scheduled.value()
		rows = append(rows, &j)
		if now.valid {
			changed = append(changed, store.Changed{ID: j.ID, Type: j.Type, PreviousStatus: j.Status,
				Status: store.StatusPending, ScheduledFor: now.value()})
		}
	}
	return rows, changed, r.Err()
}

// jobIDs are the ids of rows, in their order.
func jobIDs(rows []*store.Job) []string {
	ids := make([]string, len(rows))
	for i, j := range rows {
		ids[i] = j.ID
	}
	return ids
}

// lastID is the id of the last of rows, "" for none.
func lastID(rows []*store.Job) string {
	if len(rows) == 0 {
		return ""
	}
	return rows[len(rows)-1].ID
}

// batchDone counts a committed batch into res, reports its changes and
// returns the ids it changed.
func (b *Base) batchDone(p *store.ActionParams, rows []*store.Job, changed []store.Changed, batch *store.ActionResult, dryKeys map[string]string, res *store.ActionResult) map[string]bool {
	res.Skipped = append(res.Skipped, batch.Skipped...)
	done := make(map[string]bool, len(changed))
	for _, c := range changed {
		done[c.ID] = true
		if c.CancelRequested {
			res.Requested++
		} else {
			res.Changed++
		}
	}
	if p.DryRun && p.Action == store.ActRetry {
		for _, j := range rows {
			if j.UniqueKey != "" && done[j.ID] {
				dryKeys[j.UniqueKey] = j.ID
			}
		}
	}
	if p.Progress != nil && len(changed) > 0 {
		p.Progress(changed)
	}
	if b.D.BatchPause > 0 && !p.DryRun {
		time.Sleep(b.D.BatchPause)
	}
	return done
}

// queryActionRows reads the rows of ActionBatch.
func queryActionRows(ctx context.Context, db DB, sql string, args []any) ([]*store.Job, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Job
	for rows.Next() {
		var (
			j         store.Job
			st, key   text
			scheduled timestamp
		)
		if err := rows.Scan(&j.ID, &j.Type, &st, &key, &scheduled); err != nil {
			return nil, err
		}
		j.Status, j.UniqueKey, j.ScheduledFor = store.Status(st), string(key), scheduled.value()
		out = append(out, &j)
	}
	return out, rows.Err()
}

// predict is what a dry run reports: the change each job would get.
func predict(p *store.ActionParams, rows []*store.Job, orphans map[string]bool) []store.Changed {
	out := make([]store.Changed, len(rows))
	for i, j := range rows {
		c := store.Changed{ID: j.ID, Type: j.Type, PreviousStatus: j.Status, Status: j.Status, ScheduledFor: j.ScheduledFor}
		switch p.Action {
		case store.ActRetry:
			c.Status, c.ScheduledFor = store.StatusPending, time.Now().Add(p.Delay).UTC()
		case store.ActCancel:
			if j.Status == store.StatusRunning && !orphans[j.ID] {
				c.CancelRequested = true
			} else {
				c.Status = store.StatusCancelled
			}
		case store.ActStart:
			c.ScheduledFor = time.Now().UTC()
		}
		out[i] = c
	}
	return out
}

// apply changes one locked batch and returns what changed. The audit rows
// are written first, from the rows as they are, in the same transaction.
func apply(ctx context.Context, tx DB, d *Dialect, p *store.ActionParams, rows []*store.Job, res *store.ActionResult) ([]store.Changed, error) {
	if p.Action == store.ActRetry {
		return retryJobs(ctx, tx, d, p, rows, dueAt(p), res)
	}
	ids := jobIDs(rows)
	switch p.Action {
	case store.ActDelete, store.ActPurge:
		a := d.Args()
		if _, err := tx.Exec(ctx, d.SQL(jobDependenciesDelete, Fill{"idArray": idArray(d, a, ids)}), a.Values...); err != nil {
			return nil, err
		}
		return move(ctx, tx, d, p, rows, `"Job"`, "")
	case store.ActArchive:
		if p.Sink != nil {
			if err := p.Sink(rows); err != nil {
				return nil, err
			}
		}
		return move(ctx, tx, d, p, rows, `"Job"`, `"JobArchive"`)
	case store.ActRestore:
		return move(ctx, tx, d, p, rows, `"JobArchive"`, `"Job"`)
	}
	if p.Action == store.ActCancel {
		if err := markCancelRequests(ctx, tx, d, p, ids); err != nil {
			return nil, err
		}
	}
	if err := auditBatch(ctx, tx, d, p, ids); err != nil {
		return nil, err
	}
	switch p.Action {
	case store.ActCancel:
		return update(ctx, tx, d, rows, jobsCancel)
	case store.ActStart:
		return update(ctx, tx, d, rows, jobsStart)
	}
	return nil, nil
}

// retryJobs puts a locked batch's jobs back, due at at (dueAt), writing their
// audit rows first: those whose unique key a live job holds are refused
// into res (withoutHeldKeys). Without --reset-attempts a job keeps its
// count and, if its budget is spent, gets one more attempt.
func retryJobs(ctx context.Context, tx DB, d *Dialect, p *store.ActionParams, rows []*store.Job, at any, res *store.ActionResult) ([]store.Changed, error) {
	rows, err := withoutHeldKeys(ctx, tx, d, rows, nil, res)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	if err := auditBatch(ctx, tx, d, p, jobIDs(rows)); err != nil {
		return nil, err
	}
	return update(ctx, tx, d, rows, jobsRetry, at, p.ResetAttempts)
}

// dueAt is when a retry's batch falls due: nil, for the database's now(),
// or now plus --delay. A batch takes it once, so all its jobs share it.
func dueAt(p *store.ActionParams) any {
	if p.Delay > 0 {
		return time.Now().Add(p.Delay)
	}
	return nil
}

// cancelRequested is true of a job a cancel only asks to stop, once
// markCancelRequests has run: RUNNING under a live worker.
const cancelRequested = `(status = 'RUNNING' AND "cancelRequested")`

// leaseStart is the oldest ping of a live worker: one silent for longer
// than the lease is gone, as the rescue judges it.
func leaseStart(p *store.ActionParams) time.Time {
	lease := p.Lease
	if lease <= 0 {
		lease = store.DefaultLease
	}
	return time.Now().Add(-lease)
}

// markCancelRequests decides, once, which of the locked batch's RUNNING jobs
// are asked to stop and which are cancelled at once: a job whose worker is
// gone would wait for a stop nobody carries out (until a rescue retried
// it). The decision is kept in "cancelRequested", so the audit rows and the
// update read the same one even if a worker pings in between; a worker
// that pings after its lease ran out finds its job no longer its own, as
// after a rescue.
func markCancelRequests(ctx context.Context, tx DB, d *Dialect, p *store.ActionParams, ids []string) error {
	a := d.ArgsAfter(leaseStart(p))
	_, err := tx.Exec(ctx, d.SQL(jobsMarkCancelRequests, Fill{"idArray": idArray(d, a, ids)}), a.Values...)
	return err
}

// orphaned are the RUNNING jobs among rows whose worker is gone, for a dry
// run's prediction.
func orphaned(ctx context.Context, db DB, d *Dialect, p *store.ActionParams, rows []*store.Job) (map[string]bool, error) {
	var running []string
	for _, j := range rows {
		if j.Status == store.StatusRunning {
			running = append(running, j.ID)
		}
	}
	out := map[string]bool{}
	if p.Action != store.ActCancel || len(running) == 0 {
		return out, nil
	}
	a := d.ArgsAfter(leaseStart(p))
	ids, err := queryStrings(ctx, db, d.SQL(jobsOrphaned, Fill{"idArray": idArray(d, a, running)}), a.Values...)
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// auditBatch writes one "AuditLog" row per job, built in SQL from the rows
// themselves: one statement per batch (ActionAudit).
func auditBatch(ctx context.Context, tx DB, d *Dialect, p *store.ActionParams, ids []string) error {
	a := d.ArgsAfter(p.Action.AuditAction(), p.Actor)
	fill := auditFill(a, d, p)
	fill["table"], fill["idArray"] = Table(p.Action == store.ActRestore), idArray(d, a, ids)
	_, err := tx.Exec(ctx, d.SQL(actionAudit, fill), a.Values...)
	return err
}

// auditFill fills the /*:previous*/, /*:next*/ and /*:extra*/ slots of an
// action's audit rows' metadata, after the statement's $1 (the audit
// action) and $2 (the actor): /*:extra*/ is one JSON object of the keys
// every row shares.
func auditFill(a *Args, d *Dialect, p *store.ActionParams) Fill {
	extra := map[string]any{}
	if p.OperationID != "" {
		extra["operationId"] = p.OperationID
	}
	if f := filterMetadata(p); f != nil {
		extra["filter"] = f
	}
	if p.Via != "" {
		extra["via"] = p.Via
	}
	switch {
	case p.Action == store.ActRetry && p.Delay > 0:
		extra["delay"] = p.Delay.String()
	case p.Action == store.ActRetry && p.ResetAttempts:
		extra["resetAttempts"] = true
	}
	// A restored job comes from the archive, whatever status it kept there.
	prevStatus := `status`
	if p.Action == store.ActRestore {
		prevStatus = `'ARCHIVED'`
	}
	shared := "'{}'"
	if len(extra) > 0 {
		shared = d.JSONPath(a.Add(string(AuditMetadata(map[string]any{"v": extra}))), "v")
	}
	return Fill{"previous": prevStatus, "next": newStatusSQL(p.Action), "extra": shared}
}

// move takes the jobs out of from, copying them into to when to is not
// empty, and writes their audit rows: in one statement (JobsDeleteAudited
// or JobsMoveAudited) where the engine runs it (a data-modifying WITH, on
// Postgres), else as ActionAudit, JobsCopy and JobsDelete.
func move(ctx context.Context, tx DB, d *Dialect, p *store.ActionParams, rows []*store.Job, from, to string) ([]store.Changed, error) {
	ids := jobIDs(rows)
	audited := jobsDeleteAudited
	if to != "" {
		audited = jobsMoveAudited
	}
	if d.Runs(audited) {
		a := d.ArgsAfter(p.Action.AuditAction(), p.Actor)
		fill := auditFill(a, d, p)
		fill["idArray"] = idArray(d, a, ids)
		if to != "" {
			fill["from"], fill["to"] = from, to
		}
		if _, err := tx.Exec(ctx, d.SQL(audited, fill), a.Values...); err != nil {
			return nil, err
		}
		return changedAsIs(rows), nil
	}
	if err := auditBatch(ctx, tx, d, p, ids); err != nil {
		return nil, err
	}
	if to != "" {
		a := d.Args()
		if _, err := tx.Exec(ctx, d.SQL(jobsCopy, Fill{"to": to, "from": from, "idArray": idArray(d, a, ids)}), a.Values...); err != nil {
			return nil, err
		}
	}
	a := d.Args()
	if _, err := tx.Exec(ctx, d.SQL(jobsDelete, Fill{"from": from, "idArray": idArray(d, a, ids)}), a.Values...); err != nil {
		return nil, err
	}
	return changedAsIs(rows), nil
}

// changedAsIs reports jobs that left their table with the status they had.
func changedAsIs(rows []*store.Job) []store.Changed {
	out := make([]store.Changed, len(rows))
	for i, j := range rows {
		out[i] = store.Changed{ID: j.ID, Type: j.Type, PreviousStatus: j.Status, Status: j.Status, ScheduledFor: j.ScheduledFor}
	}
	return out
}

// newStatusSQL is the audit row's newStatus, computed from the row before
// the change.
func newStatusSQL(a store.Action) string {
	if left := a.LeftAs(); left != "" {
		return `'` + left + `'`
	}
	switch a {
	case store.ActRetry:
		return `'PENDING'`
	case store.ActCancel:
		return `CASE WHEN ` + cancelRequested + ` THEN 'RUNNING (cancel requested)' ELSE 'CANCELLED' END`
	}
	return `status`
}

// withoutHeldKeys drops jobs whose unique key a live job holds now, or an
// earlier job of the batch takes back, or held names (a dry run's earlier
// batches; nil for none): putting them back would break the
// one-live-job-per-key rule. They are reported.
func withoutHeldKeys(ctx context.Context, tx DB, d *Dialect, rows []*store.Job, held map[string]string, res *store.ActionResult) ([]*store.Job, error) {
	var keys []string
	for _, j := range rows {
		if j.UniqueKey != "" {
			keys = append(keys, j.UniqueKey)
		}
	}
	if len(keys) == 0 {
		return rows, nil
	}
	if held == nil {
		held = map[string]string{}
	}
	if d.Runs(uniqueKeysLock) {
		if _, err := tx.Exec(ctx, d.SQL(uniqueKeysLock), UniqueKeyLocks(keys)); err != nil {
			return nil, err
		}
	}
	a := d.Args()
	r, err := tx.Query(ctx, d.SQL(uniqueKeysHeld, Fill{"keys": In(a, keys)}), a.Values...)
	if err != nil {
		return nil, err
	}
	for r.Next() {
		var k, id string
		if err := r.Scan(&k, &id); err != nil {
			r.Close()
			return nil, err
		}
		held[k] = id
	}
	r.Close()
	if err := r.Err(); err != nil {
		return nil, err
	}
	kept := make([]*store.Job, 0, len(rows))
	for _, j := range rows {
		if j.UniqueKey == "" {
			kept = append(kept, j)
			continue
		}
		if holder, ok := held[j.UniqueKey]; ok {
			res.Skipped = append(res.Skipped, store.Skipped{ID: j.ID, Status: j.Status,
				Reason: j.ID + " is " + string(j.Status) + ": its unique key " + j.UniqueKey + " is held by " + holder})
			continue
		}
		held[j.UniqueKey] = j.ID
		kept = append(kept, j)
	}
	return kept, nil
}

// UniqueKeyLocks are the advisory lock IDs of keys (UniqueKeysLock), in
// ascending order: batches that take the same locks take them in one order,
// so none holds one the other waits for while waiting for one it holds.
func UniqueKeyLocks(keys []string) []int64 {
	ids := make([]int64, len(keys))
	for i, k := range keys {
		h := fnv.New64a()
		h.Write([]byte("jobctl uniqueKey "))
		h.Write([]byte(k))
		ids[i] = int64(h.Sum64())
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// update runs one of the action updates (JobsRetry, JobsCancel, …) with
// its own args on the locked rows and reads back their new state.
func update(ctx context.Context, tx DB, d *Dialect, rows []*store.Job, upd *Stmt, args ...any) ([]store.Changed, error) {
	prev := make(map[string]*store.Job, len(rows))
	for _, j := range rows {
		prev[j.ID] = j
	}
	a := d.ArgsAfter(args...)
	r, err := tx.Query(ctx, d.SQL(upd, Fill{"idArray": idArray(d, a, jobIDs(rows))}), a.Values...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []store.Changed
	for r.Next() {
		var (
			c      store.Changed
			st     text
			at     timestamp
			cancel boolean
		)
		if err := r.Scan(&c.ID, &st, &at, &cancel); err != nil {
			return nil, err
		}
		p := prev[c.ID]
		c.Type, c.PreviousStatus, c.Status, c.ScheduledFor = p.Type, p.Status, store.Status(st), at.value()
		c.CancelRequested = c.Status == store.StatusRunning && bool(cancel)
		out = append(out, c)
	}
	return out, r.Err()
}

// statuses maps each found id to its status, in "Job" or "JobArchive".
func statuses(ctx context.Context, db DB, d *Dialect, ids []string, archived bool) (map[string]store.Status, error) {
	a := d.Args()
	r, err := db.Query(ctx, d.SQL(jobStatuses, Fill{"table": Table(archived), "idArray": idArray(d, a, ids)}), a.Values...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := map[string]store.Status{}
	for r.Next() {
		var id, st string
		if err := r.Scan(&id, &st); err != nil {
			return nil, err
		}
		out[id] = store.Status(st)
	}
	return out, r.Err()
}

// auditTime is how a time reads in an audit row's metadata: as every time
// in jobctl's JSON output, RFC 3339 in UTC to the millisecond.
func auditTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// filterMetadata records a bulk action's filter in its audit rows.
func filterMetadata(p *store.ActionParams) map[string]any {
	if len(p.IDs) > 0 {
		return nil
	}
	f := p.Filter
	m := map[string]any{"statuses": p.AllowedStatuses()}
	if len(f.Types) > 0 {
		m["types"] = f.Types
	}
	if !f.Since.IsZero() {
		m["since"] = auditTime(f.Since)
	}
	if !f.Until.IsZero() {
		m["until"] = auditTime(f.Until)
	}
	if !f.FinishedBefore.IsZero() {
		m["finishedBefore"] = auditTime(f.FinishedBefore)
	}
	if f.UserID != "" {
		m["userId"] = f.UserID
	}
	return m
}
