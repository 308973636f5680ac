package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
	"github.com/jobctl/jobctl/internal/store/postgres"
)

// recorded is one statement jobsql ran through a recorder, and how long it
// took (for a query, until its rows were read).
type recorded struct {
	query
	took time.Duration
}

// recorder runs jobsql's statements for real inside one transaction that
// the bench rolls back, and records each with its time. stop, when it
// returns true for a statement, records it without running it and fails
// it with errCaptured, ending the operation there.
type recorder struct {
	tx   pgx.Tx
	stop func(sql string) bool
	log  []*recorded
}

func (r *recorder) add(sql string, args []any) (*recorded, bool) {
	rec := &recorded{query: query{sql: sql, args: args}}
	r.log = append(r.log, rec)
	return rec, r.stop != nil && r.stop(sql)
}

func (r *recorder) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	rec, stop := r.add(sql, args)
	if stop {
		return 0, errCaptured
	}
	t0 := time.Now()
	tag, err := r.tx.Exec(ctx, sql, args...)
	rec.took = time.Since(t0)
	return tag.RowsAffected(), err
}

func (r *recorder) Query(ctx context.Context, sql string, args ...any) (jobsql.Rows, error) {
	rec, stop := r.add(sql, args)
	if stop {
		return nil, errCaptured
	}
	t0 := time.Now()
	rows, err := r.tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return &timedRows{Rows: rows, rec: rec, t0: t0}, nil
}

func (r *recorder) QueryRow(ctx context.Context, sql string, args ...any) jobsql.Scanner {
	rec, stop := r.add(sql, args)
	if stop {
		return failScanner{}
	}
	t0 := time.Now()
	return &timedRow{row: r.tx.QueryRow(ctx, sql, args...), rec: rec, t0: t0}
}

type timedRows struct {
	pgx.Rows
	rec *recorded
	t0  time.Time
}

func (t *timedRows) Close() {
	t.Rows.Close()
	t.rec.took = time.Since(t.t0)
}

type timedRow struct {
	row pgx.Row
	rec *recorded
	t0  time.Time
}

func (t *timedRow) Scan(dest ...any) error {
	err := t.row.Scan(dest...)
	t.rec.took = time.Since(t.t0)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// record runs fn against a jobsql.Base whose connection and transactions
// are one transaction on s, rolled back afterwards, and returns every
// statement it ran (the last one unrun if stop ended it). A bulk action
// runs in one lane there.
func record(ctx context.Context, s *postgres.Store, stop func(sql string) bool, fn func(b *jobsql.Base) error) ([]*recorded, error) {
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	r := &recorder{tx: tx, stop: stop}
	// One lane: every statement goes through the one transaction.
	d := *s.D
	d.Lanes = 1
	b := &jobsql.Base{D: &d, DB: r,
		InTx: func(_ context.Context, fn func(jobsql.DB) error) error { return fn(r) },
		Wrap: func(_ string, _ store.Permission, err error) error { return err }}
	if err := fn(b); err != nil && !errors.Is(err, errCaptured) {
		return r.log, err
	}
	return r.log, nil
}

// stmtLabel is the start of a statement, for a one-line label.
func stmtLabel(sql string, n int) string {
	s := strings.Join(strings.Fields(sql), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
