// Package teststore opens fresh stores for tests, on both backends: a SQLite
// file in a temporary directory and a migrated Postgres schema of its own,
// so tests run in parallel.
package teststore

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
	"github.com/jobctl/jobctl/internal/store/postgres"
	"github.com/jobctl/jobctl/internal/store/sqlite"
	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

// Backend is a fresh store plus raw SQL on it, for putting jobs into states
// the API under test does not reach.
type Backend struct {
	store.Store
	// Exec runs SQL with $N placeholders (both backends take them); it
	// converts time.Time arguments to the backend's representation.
	Exec func(t testing.TB, sql string, args ...any)
}

// SQLite opens a fresh store in a temporary file.
func SQLite(t testing.TB) *Backend {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &Backend{Store: s, Exec: func(t testing.TB, sql string, args ...any) {
		t.Helper()
		for i, a := range args {
			if tm, ok := a.(time.Time); ok {
				args[i] = jobsql.FormatTime(tm)
			}
		}
		if _, err := s.DB().Exec(sql, args...); err != nil {
			t.Fatalf("exec %s: %v", sql, err)
		}
	}}
}

// Postgres opens a fresh, migrated schema of the test database. Like
// pgtest, it skips without the database, except under CI, where it fails.
func Postgres(t testing.TB) *Backend {
	t.Helper()
	dsn, schema := pgtest.Schema(t)
	s, err := postgres.Open(context.Background(), dsn, schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &Backend{Store: s, Exec: func(t testing.TB, sql string, args ...any) {
		t.Helper()
		if _, err := s.Pool().Exec(context.Background(), sql, args...); err != nil {
			t.Fatalf("exec %s: %v", sql, err)
		}
	}}
}

// Each runs f, in parallel, against a fresh SQLite store and a fresh
// Postgres schema.
func Each(t *testing.T, f func(t *testing.T, b *Backend)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, SQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		f(t, Postgres(t))
	})
}

// Seed imports n jobs of typ in status st, created and scheduled at at;
// finished ones also started and completed then, running ones are held by
// worker "w1". It returns them oldest ID first.
func Seed(t testing.TB, s store.Store, typ string, st store.Status, n int, at time.Time) []*store.Job {
	t.Helper()
	at = at.UTC().Truncate(time.Millisecond)
	jobs := make([]*store.Job, n)
	base := time.Now()
	for i := range jobs {
		// A millisecond apart: distinct IDs in creation order.
		j := &store.Job{ID: store.NewID(base.Add(time.Duration(i) * time.Millisecond)), Type: typ, Status: st, Priority: store.PriorityNormal,
			Data: json.RawMessage(`{}`), Attempts: 1, MaxAttempts: 5, ScheduledFor: at, CreatedAt: at, UpdatedAt: at}
		switch {
		case st.Final():
			j.StartedAt, j.CompletedAt = &at, &at
		case st == store.StatusRunning:
			j.StartedAt, j.WorkerID = &at, "w1"
		}
		jobs[i] = j
	}
	if err := s.Import(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	return jobs
}
