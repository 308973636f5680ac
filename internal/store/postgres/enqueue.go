package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

// EnqueueMany implements store.Store.
func (s *Store) EnqueueMany(ctx context.Context, ps []*store.EnqueueParams, progress func(done int)) (int, error) {
	return jobsql.EnqueueMany(ctx, s.EnqueueFrom, ps, progress)
}

// EnqueueFrom implements store.Store in one transaction: runs of jobs
// without a unique key or dependencies stream in through COPY, each row
// read from src as COPY asks for it; the others go in one by one.
func (s *Store) EnqueueFrom(ctx context.Context, src store.BulkSource, each func(id string)) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		n, err = jobsql.EnqueueFrom(ctx, db{tx}, dialect, src, each, func(ctx context.Context, rows *jobsql.PlainRows) error {
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"Job"}, jobsql.InsertColumnNames, rows)
			return copyError(err, rows)
		})
		return err
	})
	if err != nil {
		return 0, s.wrap("enqueue", store.PermWrite, bulkError(err))
	}
	if n >= analyzeAfter {
		// Until autovacuum gets to it, the planner would think the table
		// as small as before the load and pick seq scans and hash joins
		// for the workers' claims and completions (we measured 600 ms per
		// 1,000 completions instead of 35 ms). A non-owner only gets a
		// warning, which is harmless.
		if _, err := s.pool.Exec(ctx, `ANALYZE "Job"`); err != nil {
			return n, s.wrap("analyze", store.PermWrite, err)
		}
	}
	return n, nil
}

// analyzeAfter is the bulk insert size after which EnqueueFrom refreshes
// the planner's statistics.
const analyzeAfter = 10000

// copyLine finds the row in a COPY error's context: "COPY Job, line 3,
// column data: …".
var copyLine = regexp.MustCompile(`^COPY [^,]+, line (\d+)`)

// copyError names the line of the row a COPY failed on. Validation should
// leave the database nothing to refuse; this is the safety net.
func copyError(err error, rows *jobsql.PlainRows) error {
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) || !rowProblem(pe) {
		return err
	}
	if m := copyLine.FindStringSubmatch(pe.Where); m != nil {
		n, _ := strconv.Atoi(m[1])
		if line := rows.Line(n); line > 0 {
			return &store.RowError{Line: line, Err: refused(pe)}
		}
	}
	first, last := rows.Span()
	return fmt.Errorf("a row between lines %d and %d: %w", first, last, refused(pe))
}

// bulkError keeps the line of a row the database refused as data, and
// drops it from other failures (an outage, a permission), which are not
// that row's fault.
func bulkError(err error) error {
	var re *store.RowError
	if !errors.As(err, &re) {
		return err
	}
	var pe *pgconn.PgError
	if !errors.As(re.Err, &pe) {
		return err
	}
	if rowProblem(pe) {
		return &store.RowError{Line: re.Line, Err: refused(pe)}
	}
	return re.Err
}

// rowProblem: classes 22 (data exception) and 23 (integrity constraint
// violation) are about the row's values.
func rowProblem(pe *pgconn.PgError) bool {
	return strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23")
}

// refused is the database's complaint in one line, without SQLSTATE noise.
func refused(pe *pgconn.PgError) error {
	msg := pe.Message
	// "Failing row contains (…)" repeats the whole row: the line says which.
	if pe.Detail != "" && !strings.HasPrefix(pe.Detail, "Failing row contains") {
		msg += " (" + strings.TrimSuffix(pe.Detail, ".") + ")"
	}
	return errors.New("the database refused it: " + store.OneLine(msg))
}
