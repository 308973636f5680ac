package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/sqlite"
)

// TestTimeIndexesFillTheirPages enqueues jobs as a queue does, in time
// order, and checks that the indexes ordered by "createdAt" come out
// packed. Descending, each new key landed before the last one, every
// full page split in half and its right half was never written again:
// the index was half empty, and a bulk enqueue wrote a sixth more.
func TestTimeIndexesFillTheirPages(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Jobs of other statuses on both sides of PENDING, so that new jobs
	// land mid-index, as they do in a store with history.
	for _, st := range []store.Status{store.StatusCompleted, store.StatusRunning} {
		if _, err := s.DB().Exec(`INSERT INTO "Job" (type, status, "userId") VALUES ('Seed', ?, 'u1')`, string(st)); err != nil {
			t.Fatal(err)
		}
	}
	const batches, perBatch = 40, 500
	for b := range batches {
		ps := make([]*store.EnqueueParams, perBatch)
		for i := range ps {
			ps[i] = &store.EnqueueParams{Type: "Noop", UserID: fmt.Sprintf("u%d", i%2)}
		}
		if _, err := s.EnqueueFrom(ctx, store.SliceSource(ps), nil); err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
	}
	for _, idx := range []string{"Job_status_createdAt_idx", "Job_userId_idx"} {
		var size, unused int64
		err := s.DB().QueryRow(`SELECT sum(pgsize), sum(unused) FROM dbstat WHERE name = ? AND pagetype = 'leaf'`, idx).Scan(&size, &unused)
		if err != nil {
			t.Fatal(err)
		}
		if free := float64(unused) / float64(size); free > 0.25 {
			t.Errorf("%s: %.0f%% of its leaf pages' %d bytes unused after %d jobs in time order, want at most 25%%", idx, 100*free, size, batches*perBatch)
		} else {
			t.Logf("%s: %.0f%% of %d bytes unused", idx, 100*free, size)
		}
	}
}
