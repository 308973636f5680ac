package sqlite_test

import (
	"testing"

	"github.com/jobctl/jobctl/internal/store/storetest"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

func newHarness(t *testing.T) *storetest.Harness {
	b := teststore.SQLite(t)
	return &storetest.Harness{Store: b.Store, Exec: b.Exec}
}

func TestConformance(t *testing.T) { storetest.Exercise(t, newHarness) }
