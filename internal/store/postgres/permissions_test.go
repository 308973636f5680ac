package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/postgres"
	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

// loginAs creates a login role in group and opens the schema as it.
func loginAs(t *testing.T, dsn, schema, group string) (*postgres.Store, string) {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	role := strings.TrimPrefix(group, "jobctl_") + "_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE ROLE "+role+" LOGIN IN ROLE "+group); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(dsn)
	u.User = url.User(role)
	s, err := postgres.Open(ctx, u.String(), schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			defer conn.Close(ctx)
			_, _ = conn.Exec(ctx, "DROP ROLE IF EXISTS "+role)
		}
	})
	return s, role
}

func wantPermission(t *testing.T, err error, perm, role string) {
	t.Helper()
	var pe *store.PermissionError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v; want a permission error", err)
	}
	want := "needs " + perm + " (GRANT jobctl_" + strings.TrimPrefix(perm, "jobs:") + " TO " + role + ")"
	if !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "permission denied: ") {
		t.Errorf("message %q; want it to say %q", err, want)
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	owner := newStore(t)
	dsn := pgtest.URL(t)
	schema := owner.Schema()
	ctx := context.Background()
	old := time.Now().Add(-40 * 24 * time.Hour).UTC()
	for i := 0; i < 3; i++ {
		j := &store.Job{ID: store.NewID(time.Now()), Type: "Report", Status: store.StatusFailed, Priority: store.PriorityNormal,
			MaxAttempts: 5, Attempts: 1, ScheduledFor: old, CreatedAt: old, UpdatedAt: old, CompletedAt: &old}
		if err := owner.Import(ctx, []*store.Job{j}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	purge := &store.ActionParams{Action: store.ActPurge, Actor: "t", Filter: store.Filter{FinishedBefore: time.Now()}}

	reader, readRole := loginAs(t, dsn, schema, "jobctl_read")
	if jobs, err := reader.List(ctx, &store.ListParams{}); err != nil || len(jobs) != 3 {
		t.Errorf("jobctl_read cannot list: %v", err)
	}
	_, err := reader.Enqueue(ctx, &store.EnqueueParams{Type: "X"})
	wantPermission(t, err, "jobs:write", readRole)

	writer, writeRole := loginAs(t, dsn, schema, "jobctl_write")
	if _, err := writer.Enqueue(ctx, &store.EnqueueParams{Type: "Noop"}); err != nil {
		t.Errorf("jobctl_write cannot enqueue: %v", err)
	}
	if res, err := writer.Act(ctx, &store.ActionParams{Action: store.ActRetry, Actor: "t", Filter: store.Filter{Types: []string{"Report"}}}); err != nil || res.Changed != 3 {
		t.Errorf("jobctl_write cannot retry: %v", err)
	}
	// A worker needs only jobs:write.
	if err := writer.RegisterWorker(ctx, &store.WorkerInfo{ID: "w", Host: "h", PID: 1, Concurrency: 1}); err != nil {
		t.Errorf("jobctl_write cannot register a worker: %v", err)
	}
	if jobs, err := writer.Claim(ctx, &store.ClaimParams{WorkerID: "w", Types: []string{"Noop"}, Limit: 5}); err != nil || len(jobs) != 1 {
		t.Errorf("jobctl_write cannot claim: %v", err)
	} else if _, err := writer.Complete(ctx, "w", []store.Completion{{ID: jobs[0].ID}}); err != nil {
		t.Errorf("jobctl_write cannot complete: %v", err)
	}
	if _, err := writer.Heartbeat(ctx, "w", 1); err != nil {
		t.Errorf("jobctl_write cannot heartbeat: %v", err)
	}
	if err := writer.DeregisterWorker(ctx, "w"); err != nil {
		t.Errorf("jobctl_write cannot deregister: %v", err)
	}
	if _, err := owner.Pool().Exec(ctx, `UPDATE "Job" SET status = 'COMPLETED', "completedAt" = $1`, old); err != nil {
		t.Fatal(err)
	}
	_, err = writer.Act(ctx, purge)
	wantPermission(t, err, "jobs:delete", writeRole)

	deleter, _ := loginAs(t, dsn, schema, "jobctl_delete")
	res, err := deleter.Act(ctx, &store.ActionParams{Action: store.ActArchive, Actor: "t", Filter: store.Filter{Types: []string{"Report"}, FinishedBefore: time.Now().Add(-time.Hour)}})
	if err != nil || res.Changed != 3 {
		t.Errorf("jobctl_delete cannot archive: %+v %v", res, err)
	}
	if res, err := deleter.Act(ctx, purge); err != nil || res.Changed != 1 {
		t.Errorf("jobctl_delete cannot purge: %+v %v", res, err)
	}

	// The audit log is append-only for all three.
	for _, s := range []*postgres.Store{reader, writer, deleter} {
		for _, sql := range []string{`UPDATE "AuditLog" SET action = 'X'`, `DELETE FROM "AuditLog"`} {
			if _, err := s.Pool().Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "permission denied") {
				t.Errorf("%s: %v; want permission denied", sql, err)
			}
		}
	}
	if n, _ := owner.Audit(ctx, &store.AuditFilter{Limit: 100}); len(n) != 7 {
		t.Errorf("%d audit rows; want 7 (3 retries, 3 archives, 1 purge)", len(n))
	}
}
