package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

// EnqueueMany implements store.Store. Jobs without a unique key or
// dependencies go in through COPY; the others one by one, all in one
// transaction.
func (s *Store) EnqueueMany(ctx context.Context, ps []*store.EnqueueParams, progress func(done int)) (int, error) {
	simple, other, err := jobsql.SplitBulk(ps)
	if err != nil {
		return 0, err
	}
	done := 0
	report := func() {
		if progress != nil {
			progress(done)
		}
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := jobsql.CheckParents(ctx, db{tx}, dialect, simple); err != nil {
			return err
		}
		now := time.Now()
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if done == len(simple) {
				return nil, nil
			}
			p := simple[done]
			done++
			if done%10000 == 0 {
				report()
			}
			return jobsql.InsertValues(p, store.NewID(now), 0, now), nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"Job"}, jobsql.InsertColumnNames, src); err != nil {
			return err
		}
		for _, p := range other {
			if _, err := jobsql.Enqueue(ctx, db{tx}, dialect, p, now); err != nil {
				return err
			}
			done++
		}
		report()
		return nil
	})
	if err != nil {
		return 0, s.wrap("enqueue", store.PermWrite, err)
	}
	if len(simple) >= analyzeAfter {
		// Until autovacuum gets to it, the planner would think the table
		// as small as before the load and pick seq scans and hash joins
		// for the workers' claims and completions (we measured 600 ms per
		// 1,000 completions instead of 35 ms). A non-owner only gets a
		// warning, which is harmless.
		if _, err := s.pool.Exec(ctx, `ANALYZE "Job"`); err != nil {
			return len(ps), s.wrap("analyze", store.PermWrite, err)
		}
	}
	return len(ps), nil
}

// analyzeAfter is the bulk insert size after which EnqueueMany refreshes the
// planner's statistics.
const analyzeAfter = 10000
