package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store/jobsql"
	"github.com/jobctl/jobctl/internal/store/sqlite"
	"github.com/jobctl/jobctl/internal/store/storetest"
)

func newHarness(t *testing.T) *storetest.Harness {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &storetest.Harness{
		Store: s,
		Exec: func(t *testing.T, sql string, args ...any) {
			t.Helper()
			for i, a := range args {
				if tm, ok := a.(time.Time); ok {
					args[i] = jobsql.FormatTime(tm)
				}
			}
			if _, err := s.DB().Exec(sql, args...); err != nil {
				t.Fatalf("exec %s: %v", sql, err)
			}
		},
	}
}

func TestConformance(t *testing.T) { storetest.Exercise(t, newHarness) }
