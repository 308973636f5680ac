package jobsql

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// jobImport inserts every stored column of "Job" ("priorityRank" is
// generated), in the order importValues gives them: JobColumns.
var jobImport = stmt("JobImport") // sql/enqueue.sql

// importBatch rows per INSERT keeps the statement under both databases'
// bound-parameter limits.
const importBatch = 200

// Import inserts whole job rows as they are, in any status: for seeding,
// tests, and restoring exported jobs. Dependencies in j.DependsOn are
// recorded too.
func Import(ctx context.Context, db DB, d *Dialect, jobs []*store.Job) error {
	for start := 0; start < len(jobs); start += importBatch {
		batch := jobs[start:min(start+importBatch, len(jobs))]
		args := make([]any, 0, 23*len(batch))
		for _, j := range batch {
			vals, err := importValues(j)
			if err != nil {
				return err
			}
			args = append(args, vals...)
		}
		if _, err := db.Exec(ctx, manyRows(d.SQL(jobImport), len(batch)), d.Values(args...)...); err != nil {
			return err
		}
		for _, j := range batch {
			if err := insertDependencies(ctx, db, d, j.ID, j.DependsOn); err != nil {
				return err
			}
		}
	}
	return nil
}

func importValues(j *store.Job) ([]any, error) {
	history := []byte("[]")
	if len(j.History) > 0 {
		var err error
		if history, err = json.Marshal(j.History); err != nil {
			return nil, err
		}
	}
	data := string(j.Data)
	if data == "" {
		data = "{}"
	}
	var output any
	if len(j.Output) > 0 {
		output = string(j.Output)
	}
	return []any{
		j.ID, j.Type, string(j.Status), string(j.Priority), data, output,
		nullable(j.ErrorMessage), nullable(j.ErrorCode), nullable(j.ErrorStack),
		j.Attempts, j.MaxAttempts, j.ScheduledFor, j.CreatedAt, nullTime(j.StartedAt), nullTime(j.CompletedAt), j.UpdatedAt,
		nullable(j.UserID), nullable(j.ParentID), nullable(j.WorkerID), j.CancelRequested, nullable(j.UniqueKey), j.WaitingOn, string(history),
	}, nil
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}
