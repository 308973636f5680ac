package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

// bulkRows is how many plain rows one multi-row INSERT of a bulk enqueue
// carries. Per row, a statement of its own cost a database/sql round
// (locks, a context watcher goroutine), a VDBE halt and two strftime
// calls, each a clock syscall; at 100 rows those are shared, and the
// 1,000 anonymous parameters bind in linear time.
const bulkRows = 100

// insertPlainSQL inserts n plain rows. The rows' "createdAt" and
// "updatedAt" are the statement's clock read once, not each row's
// default (the same value for all: SQLite's 'now' holds still within a
// statement).
func insertPlainSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO "Job" (` + jobsql.InsertColumns + `, "createdAt", "updatedAt") SELECT v.*, t.now, t.now FROM (VALUES `)
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(jobsql.InsertColumnNames)), ", ") + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(`) AS v, (SELECT ` + dialect.Now + ` AS now) AS t`)
	return b.String()
}

// EnqueueFrom implements store.Store in one transaction. Runs of plain
// rows go in bulkRows at a time through one prepared multi-row INSERT (the
// run's last few through a one-row one); a batch the database refuses is
// inserted again row by row, so the error names the row's line.
func (s *Store) EnqueueFrom(ctx context.Context, src store.BulkSource, each func(id string)) (int, error) {
	n, err := s.enqueueFrom(ctx, src, each)
	if err != nil {
		return 0, s.wrap("enqueue", store.PermWrite, bulkError(err))
	}
	return n, nil
}

func (s *Store) enqueueFrom(ctx context.Context, src store.BulkSource, each func(id string)) (int, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	// A multi-row INSERT inside a transaction keeps a statement journal,
	// so that a refused row undoes only its statement. Past 64 KiB it goes
	// to a temp file: a pwrite per page, 11% of the profile. In memory it
	// holds the pages one statement touched. SQLite reads the setting when
	// the transaction begins, so it is set on the connection before.
	if _, err := conn.ExecContext(ctx, `PRAGMA temp_store = MEMORY`); err != nil {
		return 0, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA temp_store = DEFAULT`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	ins := &plainInserter{tx: tx}
	n, err := jobsql.EnqueueFrom(ctx, db{tx}, dialect, src, each, ins.insert)
	ins.close()
	if err != nil {
		_ = tx.Rollback()
		return 0, err
	}
	return n, tx.Commit()
}

// plainInserter is a bulk enqueue's fast path: its statements, prepared on
// first use, and the batch being filled.
type plainInserter struct {
	tx        *sql.Tx
	many, one *sql.Stmt
	args      []any   // the batch's values, row after row
	lines     []int   // the batch's rows' input lines
	row       [][]any // the batch's rows, for the row-by-row retry

	lastTime time.Time // the last time bound, and its text
	lastText any
}

func (p *plainInserter) insert(ctx context.Context, rows *jobsql.PlainRows) error {
	p.args, p.lines, p.row = p.args[:0], p.lines[:0], p.row[:0]
	for rows.Next() {
		vals, _ := rows.Values() // a new slice per row
		for i, v := range vals {
			if t, ok := v.(time.Time); ok {
				// Most rows are due at the batch's start: format it once.
				if p.lastText == nil || !t.Equal(p.lastTime) {
					p.lastTime, p.lastText = t, dialect.Time(t)
				}
				vals[i] = p.lastText
				continue
			}
			vals[i] = dialect.Value(v)
		}
		p.args = append(p.args, vals...)
		p.row = append(p.row, vals)
		p.lines = append(p.lines, rows.Current())
		if len(p.lines) == bulkRows {
			if err := p.flush(ctx); err != nil {
				return err
			}
		}
	}
	return p.flush(ctx)
}

// flush inserts the batch: whole if it is full, else a row at a time.
func (p *plainInserter) flush(ctx context.Context) error {
	if len(p.lines) == 0 {
		return nil
	}
	defer func() { p.args, p.lines, p.row = p.args[:0], p.lines[:0], p.row[:0] }()
	if len(p.lines) == bulkRows {
		if p.many == nil {
			var err error
			if p.many, err = p.tx.PrepareContext(ctx, insertPlainSQL(bulkRows)); err != nil {
				return err
			}
		}
		// A refused statement changed nothing (SQLite undoes the statement,
		// not the transaction): the rows go again one by one to find the
		// line to name.
		if _, err := p.many.ExecContext(ctx, p.args...); err == nil {
			return nil
		} else if ctx.Err() != nil {
			return err
		}
	}
	if p.one == nil {
		var err error
		if p.one, err = p.tx.PrepareContext(ctx, insertPlainSQL(1)); err != nil {
			return err
		}
	}
	for i, vals := range p.row {
		if _, err := p.one.ExecContext(ctx, vals...); err != nil {
			return &store.RowError{Line: p.lines[i], Err: err}
		}
	}
	return nil
}

func (p *plainInserter) close() {
	for _, st := range []*sql.Stmt{p.many, p.one} {
		if st != nil {
			st.Close()
		}
	}
}
