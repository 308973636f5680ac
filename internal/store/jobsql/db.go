package jobsql

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// DB is what the shared operations need from a backend's connection or
// transaction. Each backend adapts its driver to it.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (int64, error)
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) Scanner
}

// Rows is a result set.
type Rows interface {
	Scanner
	Next() bool
	Err() error
	Close()
}

// Dialect is what differs between the backends beyond the text of the named
// statements (statements.go): the clock and lock clause claimIDs builds the
// claim's slot with, the builders of a few slots (InIDs, JSONPath), and how
// each backend binds, paces and retries.
type Dialect struct {
	// Engine picks each named statement's text (statements.go).
	Engine Engine
	// Now is the SQL expression for the current time, in the column type's
	// representation. The database's clock, not the caller's, so workers on
	// hosts with skewed clocks agree on what is due.
	Now string
	// SkipLocked follows the claim's inner SELECT (" FOR UPDATE SKIP
	// LOCKED"); "" where one writer at a time is the rule.
	SkipLocked string
	// BatchPause is how long a bulk action waits between batches. SQLite
	// has one writer at a time, and a waiting writer (a worker) polls for
	// the lock: without a pause the bulk action takes it straight back and
	// the worker starves for the whole run.
	BatchPause time.Duration
	// ArchiveBatch is an archive's batch size when the caller names none;
	// 0 for store.DefaultBatch. SQLite's is bigger: it pauses after every batch.
	ArchiveBatch int
	// Lanes is how many batches of one bulk action by filter run at once,
	// each in its own transaction on its own connection (actInLanes); 0 or
	// 1 where one writer at a time is the rule.
	Lanes int
	// RowsPerInsert caps a multi-row INSERT (audit rows). Postgres takes
	// 65,535 parameters; SQLite looks parameters up by name in a list, so
	// its statements stay small.
	RowsPerInsert int
	// InIDs is " = ANY($n)" with the ids as one array parameter on
	// Postgres (a 5,000-element IN list costs more to bind and plan), and
	// " IN (…)" on SQLite.
	InIDs func(a *Args, ids []string) string
	// JSONPath is the JSON value at key in a JSON object parameter, for
	// nesting a parameter's value (a filter, say) in an action's audit
	// metadata (the /*:extra*/ slot).
	JSONPath func(param, key string) string
	// Time converts a time argument to the column representation.
	Time func(time.Time) any
	// Retryable reports whether err means the database rolled the
	// transaction back to break a deadlock or a serialization conflict, so
	// running it again may well succeed. nil where that cannot happen
	// (SQLite: one writer at a time, and a busy timeout for the lock).
	Retryable func(error) bool
	// KeyClash reports whether err is a write refused by the one-live-job-
	// per-key index ("Job_uniqueKey_idx"); nil where a write that checks
	// the keys first cannot meet one (SQLite: one writer at a time).
	KeyClash func(error) bool
	// Estimate is the planner's row estimate for a SELECT, from the
	// table's statistics and without running it; nil where the database
	// keeps no such statistics (SQLite), which then counts exactly.
	Estimate func(ctx context.Context, db DB, query string, args []any) (int64, error)
}

// Args returns an empty argument list that converts values for d.
func (d *Dialect) Args() *Args { return &Args{Conv: d.conv} }

// Value converts one value as Args does, for a caller that binds its own
// parameters.
func (d *Dialect) Value(v any) any { return d.conv(v) }

func (d *Dialect) conv(v any) any {
	switch x := v.(type) {
	case time.Time:
		return d.Time(x)
	case json.RawMessage:
		if x == nil {
			return nil
		}
		return string(x)
	case store.Status:
		return string(x)
	case store.Priority:
		return string(x)
	}
	return v
}
