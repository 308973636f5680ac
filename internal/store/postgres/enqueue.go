package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

// EnqueueMany implements store.Store. Jobs without a unique key or
// dependencies go in through COPY; the others one by one, all in one
// transaction.
func (s *Store) EnqueueMany(ctx context.Context, ps []*store.EnqueueParams, progress func(done int)) (int, error) {
	var simple, other []*store.EnqueueParams
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			return 0, fmt.Errorf("job %d: %w", i+1, err)
		}
		jobsql.Defaults(p)
		if jobsql.Simple(p) {
			simple = append(simple, p)
		} else {
			other = append(other, p)
		}
	}
	done := 0
	report := func() {
		if progress != nil {
			progress(done)
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
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
		return 0, wrap("enqueue", err)
	}
	return len(ps), nil
}
