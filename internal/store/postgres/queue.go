package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

// Complete implements store.Queue in one round trip: the lock and the
// completion go as one pipeline, which Postgres runs as one implicit
// transaction (all or nothing), where BEGIN, the lock, the UPDATE, the
// release of dependents and COMMIT took five. A worker's completions are
// its most frequent write.
func (s *Store) Complete(ctx context.Context, workerID string, cs []store.Completion) (int64, error) {
	if len(cs) == 0 {
		return 0, nil
	}
	ids := make([]string, len(cs))
	outs := make([]*string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
		if len(c.Output) > 0 {
			o := string(c.Output)
			outs[i] = &o
		}
	}
	var n int64
	err := s.Base.Retry(ctx, func() error {
		b := &pgx.Batch{}
		b.Queue(dialect.SQL(jobsql.CompleteLock), ids)
		b.Queue(dialect.SQL(jobsql.CompleteJobs), ids, outs, workerID)
		br := s.pool.SendBatch(ctx, b)
		if _, err := br.Exec(); err != nil {
			br.Close()
			return err
		}
		if err := br.QueryRow().Scan(&n); err != nil {
			br.Close()
			return err
		}
		return br.Close()
	})
	return n, s.wrap("complete", store.PermWrite, err)
}
