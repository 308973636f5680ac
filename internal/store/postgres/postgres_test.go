package postgres_test

import (
	"context"
	"testing"

	"github.com/jobctl/jobctl/internal/store/postgres"
	"github.com/jobctl/jobctl/internal/store/storetest"
	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

// newStore opens a migrated store in a schema of its own.
func newStore(t *testing.T) *postgres.Store {
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
	return s
}

func newHarness(t *testing.T) *storetest.Harness {
	s := newStore(t)
	return &storetest.Harness{
		Store: s,
		Exec: func(t *testing.T, sql string, args ...any) {
			t.Helper()
			if _, err := s.Pool().Exec(context.Background(), sql, args...); err != nil {
				t.Fatalf("exec %s: %v", sql, err)
			}
		},
	}
}

func TestConformance(t *testing.T) { storetest.Exercise(t, newHarness) }
