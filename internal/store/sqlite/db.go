package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// db adapts a *sql.DB or *sql.Tx to jobsql.DB.
type db struct{ q querier }

func (d db) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := d.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d db) Query(ctx context.Context, query string, args ...any) (jobsql.Rows, error) {
	rows, err := d.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (d db) QueryRow(ctx context.Context, query string, args ...any) jobsql.Scanner {
	return row{d.q.QueryRowContext(ctx, query, args...)}
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// row maps "no rows" to store.ErrNotFound.
type row struct{ *sql.Row }

func (r row) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// stmtCache keeps the queue's statements prepared for the life of the
// store. Only a worker's claim and completion go through it: their text is
// fixed (the claim's, one per set of job types), and a busy worker runs
// them many times a second, where parsing them each time cost a sixth of
// its CPU. It holds at most maxCached statements; past that a statement
// runs unprepared, as every other one does.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

const maxCached = 16

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	if len(c.m) >= maxCached {
		return nil, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// prepared is a querier that runs statements through the cache, on the
// pool or, with tx, in a transaction.
type prepared struct {
	cache *stmtCache
	tx    *sql.Tx
}

// stmt is query's prepared statement, or nil when the cache is full.
func (p prepared) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := p.cache.get(ctx, query)
	if err != nil || st == nil || p.tx == nil {
		return st, err
	}
	return p.tx.StmtContext(ctx, st), nil
}

func (p prepared) plain() querier {
	if p.tx != nil {
		return p.tx
	}
	return p.cache.db
}

func (p prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.plain().ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (p prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.plain().QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext is never prepared: *sql.Row cannot carry a prepare error.
func (p prepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.plain().QueryRowContext(ctx, query, args...)
}
