package postgres

import (
	"context"
	"testing"
)

// TestAuditIndexFillsItsPages writes audit rows as operator actions do, a
// batch at a time in time order, and checks that the audit log's index by
// "createdAt" is as compact as one built afresh from the same rows.
// Descending, each new key landed at the index's left end, where a full
// page splits in half and its right half is never written again: the
// index grew to nearly twice its size and every insert paid for the
// splits (migration 008).
func TestAuditIndexFillsItsPages(t *testing.T) {
	ctx := context.Background()
	s := openMigrated(t)
	for range 20 {
		if _, err := s.pool.Exec(ctx, `INSERT INTO "AuditLog" (action, "userId", resource, "resourceId")
			SELECT 'retry', 'test', 'Job', 'job_' || i FROM generate_series(1, 1000) i`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.pool.Exec(ctx, `CREATE INDEX "AuditLog_fresh_idx" ON "AuditLog" ("createdAt", id)`); err != nil {
		t.Fatal(err)
	}
	var live, fresh int64
	if err := s.pool.QueryRow(ctx, `SELECT pg_relation_size('"AuditLog_createdAt_idx"'), pg_relation_size('"AuditLog_fresh_idx"')`).Scan(&live, &fresh); err != nil {
		t.Fatal(err)
	}
	if r := float64(live) / float64(fresh); r > 1.3 {
		t.Errorf("AuditLog_createdAt_idx is %d bytes after 20,000 rows in time order, %.2fx an index built afresh (%d bytes); want at most 1.3x", live, r, fresh)
	}
}
