package postgres_test

import (
	"testing"

	"github.com/jobctl/jobctl/internal/store/postgres"
	"github.com/jobctl/jobctl/internal/store/storetest"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// newStore opens a migrated store in a schema of its own.
func newStore(t *testing.T) *postgres.Store {
	t.Helper()
	return teststore.Postgres(t).Store.(*postgres.Store)
}

func newHarness(t *testing.T) *storetest.Harness {
	b := teststore.Postgres(t)
	return &storetest.Harness{Store: b.Store, Exec: b.Exec}
}

func TestConformance(t *testing.T) { storetest.Exercise(t, newHarness) }
