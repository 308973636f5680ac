package jobsql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// Enqueueing, in sql/enqueue.sql.
var (
	jobInsert        = stmt("JobInsert")
	jobInsertUnique  = stmt("JobInsertUnique")
	jobByUniqueKey   = stmt("JobByUniqueKey")
	jobsLockShared   = stmt("JobsLockShared")
	jobsStatus       = stmt("JobsStatus")
	dependencyInsert = stmt("DependencyInsert")
)

// ErrUniqueRace means the job holding a unique key finished between the
// insert that conflicted with it and the lookup; the caller retries in a new
// transaction.
var ErrUniqueRace = errors.New("unique key holder finished during enqueue")

// InsertColumnNames are the columns of every jobctl insert into "Job"; the
// rest take their defaults.
var InsertColumnNames = []string{
	"id", "type", "priority", "data", "maxAttempts", "scheduledFor",
	"userId", "parentId", "uniqueKey", "waitingOn",
}

// InsertColumns is InsertColumnNames quoted and joined.
var InsertColumns = `"` + strings.Join(InsertColumnNames, `", "`) + `"`

// Defaults fills in what the schema would, so the row a backend inserts in
// bulk matches a single Enqueue. ScheduledFor stays zero: the insert uses
// the database's clock for it.
func Defaults(p *store.EnqueueParams) {
	if p.Priority == "" {
		p.Priority = store.PriorityNormal
	}
	p.Priority, _ = store.ParsePriority(string(p.Priority))
	if len(p.Data) == 0 {
		p.Data = []byte("{}")
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = store.DefaultMaxAttempts
	}
	p.ParentID = store.NormalizeID(p.ParentID)
	for i, id := range p.DependsOn {
		p.DependsOn[i] = store.NormalizeID(id)
	}
}

// InsertValues returns the values of one row in InsertColumnNames order, as
// plain Go types every driver encodes. A zero ScheduledFor becomes now.
func InsertValues(p *store.EnqueueParams, id string, waitingOn int, now time.Time) []any {
	at := p.ScheduledFor
	if at.IsZero() {
		at = now
	}
	return []any{id, p.Type, string(p.Priority), string(p.Data), p.MaxAttempts, at,
		nullable(p.UserID), nullable(p.ParentID), nullable(p.UniqueKey), waitingOn}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Enqueue inserts one job inside the caller's transaction: it checks the
// parent, counts the dependencies not yet complete (locking them so none
// completes unseen), and returns the live job holding the unique key instead
// of inserting a second one.
func Enqueue(ctx context.Context, db DB, d *Dialect, p *store.EnqueueParams, now time.Time) (*store.EnqueueResult, error) {
	return enqueueAs(ctx, db, d, p, store.NewID(now), now)
}

// enqueueAs is Enqueue with the new job's ID given.
func enqueueAs(ctx context.Context, db DB, d *Dialect, p *store.EnqueueParams, id string, now time.Time) (*store.EnqueueResult, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	Defaults(p)
	if err := checkParents(ctx, db, d, []string{p.ParentID}); err != nil {
		return nil, err
	}
	waiting, err := countWaiting(ctx, db, d, p.DependsOn)
	if err != nil {
		return nil, err
	}
	vals := InsertValues(p, id, waiting, now)
	if p.ScheduledFor.IsZero() {
		vals[5] = nil // due now by the database's clock, not this host's
	}
	insert := jobInsert
	if p.UniqueKey != "" {
		insert = jobInsertUnique
	}
	j, err := ScanJob(db.QueryRow(ctx, d.SQL(insert), d.Values(vals...)...), false)
	if errors.Is(err, store.ErrNotFound) && p.UniqueKey != "" {
		return holderOf(ctx, db, d, p.UniqueKey)
	}
	if err != nil {
		return nil, err
	}
	if err := insertDependencies(ctx, db, d, j.ID, p.DependsOn); err != nil {
		return nil, err
	}
	j.DependsOn = p.DependsOn
	return &store.EnqueueResult{Job: j}, nil
}

func holderOf(ctx context.Context, db DB, d *Dialect, key string) (*store.EnqueueResult, error) {
	j, err := ScanJob(db.QueryRow(ctx, d.SQL(jobByUniqueKey), d.Values(key)...), false)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUniqueRace
	}
	if err != nil {
		return nil, err
	}
	return &store.EnqueueResult{Job: j, Existing: true}, nil
}

// checkParents fails when a named parent is neither live nor archived.
func checkParents(ctx context.Context, db DB, d *Dialect, ids []string) error {
	want := map[string]bool{}
	for _, id := range ids {
		if id != "" {
			want[id] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	found, err := existing(ctx, db, d, keys(want), false)
	if err != nil {
		return err
	}
	for _, id := range keys(want) {
		if _, ok := found[id]; !ok {
			return fmt.Errorf("parent %s: %w", id, store.ErrNotFound)
		}
	}
	return nil
}

// countWaiting returns how many dependencies are not COMPLETED, after
// checking that each exists.
func countWaiting(ctx context.Context, db DB, d *Dialect, deps []string) (int, error) {
	if len(deps) == 0 {
		return 0, nil
	}
	status, err := existing(ctx, db, d, deps, true)
	if err != nil {
		return 0, err
	}
	waiting := 0
	for _, id := range dedupe(deps) {
		st, ok := status[id]
		if !ok {
			return 0, fmt.Errorf("dependency %s: %w", id, store.ErrNotFound)
		}
		if st != store.StatusCompleted {
			waiting++
		}
	}
	return waiting, nil
}

// existing maps each of ids found in "Job" or "JobArchive" to its status,
// the live ones locked against change until commit when lock is set.
func existing(ctx context.Context, db DB, d *Dialect, ids []string, lock bool) (map[string]store.Status, error) {
	a := d.Args()
	in := Fill{"ids": In(a, dedupe(ids))}
	if lock && d.Runs(jobsLockShared) {
		if _, err := db.Exec(ctx, d.SQL(jobsLockShared, in), a.Values...); err != nil {
			return nil, err
		}
	}
	rows, err := db.Query(ctx, d.SQL(jobsStatus, in), a.Values...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]store.Status{}
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			return nil, err
		}
		out[id] = store.Status(st)
	}
	return out, rows.Err()
}

func insertDependencies(ctx context.Context, db DB, d *Dialect, id string, deps []string) error {
	for _, dep := range dedupe(deps) {
		if _, err := db.Exec(ctx, d.SQL(dependencyInsert), d.Values(id, dep)...); err != nil {
			return err
		}
	}
	return nil
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Simple reports whether p can go into a bulk insert (COPY, multi-row
// VALUES): no unique key to check and no dependencies to count.
func Simple(p *store.EnqueueParams) bool { return p.UniqueKey == "" && len(p.DependsOn) == 0 }
