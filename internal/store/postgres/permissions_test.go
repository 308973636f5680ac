package postgres_test

import (
	"context"
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

// loginAs creates a login role in group (none when group is "") and opens
// the schema as it.
func loginAs(t *testing.T, dsn, schema, group string) (*postgres.Store, string) {
	t.Helper()
	prefix := strings.TrimPrefix(group, "jobctl_")
	if group == "" {
		prefix = "nogrant"
	}
	role := pgtest.Login(t, dsn, prefix, group)
	u, _ := url.Parse(dsn)
	u.User = url.User(role)
	s, err := postgres.Open(context.Background(), u.String(), schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // before the role is dropped: cleanups run last first
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
	archived, err := owner.List(ctx, &store.ListParams{Archived: true})
	if err != nil || len(archived) != 3 {
		t.Fatalf("archived: %d %v", len(archived), err)
	}
	// Restore undoes archive: jobs:delete, which jobctl_write lacks.
	restore := &store.ActionParams{Action: store.ActRestore, Actor: "t", IDs: []string{archived[0].ID}}
	_, err = writer.Act(ctx, restore)
	wantPermission(t, err, "jobs:delete", writeRole)
	if res, err := deleter.Act(ctx, restore); err != nil || res.Changed != 1 {
		t.Errorf("jobctl_delete cannot restore: %+v %v", res, err)
	}
	if _, err := owner.Get(ctx, archived[0].ID); err != nil {
		t.Errorf("restored job: %v", err)
	}
	// The restored job is back, COMPLETED long ago: purge takes it too.
	if res, err := deleter.Act(ctx, purge); err != nil || res.Changed != 2 {
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
	if n, _ := owner.Audit(ctx, &store.AuditFilter{Limit: 100}); len(n) != 9 {
		t.Errorf("%d audit rows; want 9 (3 retries, 3 archives, 1 restore, 2 purges)", len(n))
	}
}

// TestReadOperationsNeedRead: with no grants at all, every read says it
// needs jobs:read, which jobctl_read then gives.
func TestReadOperationsNeedRead(t *testing.T) {
	t.Parallel()
	owner := newStore(t)
	dsn := pgtest.URL(t)
	ctx := context.Background()
	nobody, role := loginAs(t, dsn, owner.Schema(), "")
	reads := map[string]func() error{
		"stats":            func() error { _, err := nobody.Stats(ctx, &store.StatsParams{}); return err },
		"health snapshot":  func() error { _, err := nobody.Snapshot(ctx); return err },
		"list jobs":        func() error { _, err := nobody.List(ctx, &store.ListParams{}); return err },
		"get job":          func() error { _, err := nobody.Get(ctx, "job_x"); return err },
		"audit log":        func() error { _, err := nobody.Audit(ctx, &store.AuditFilter{}); return err },
		"list workers":     func() error { _, err := nobody.Workers(ctx); return err },
		"list schedules":   func() error { _, err := nobody.ListSchedules(ctx); return err },
		"check schema":     func() error { return nobody.CheckSchema(ctx) },
		"migration status": func() error { _, err := nobody.Migrations(ctx); return err },
	}
	for op, read := range reads {
		err := read()
		wantPermission(t, err, "jobs:read", role)
		if err != nil && !strings.HasPrefix(err.Error(), "permission denied: "+op+" needs") {
			t.Errorf("%s: %v", op, err)
		}
		if errors.Is(err, store.ErrNotMigrated) {
			t.Errorf("%s: a schema the login may not use is not an unmigrated one: %v", op, err)
		}
	}
	if _, err := owner.Pool().Exec(ctx, "GRANT jobctl_read TO "+role); err != nil {
		t.Fatal(err)
	}
	// A session keeps the search path it resolved: a new one sees the grant.
	nobody.Close()
	u, _ := url.Parse(dsn)
	u.User = url.User(role)
	var err error
	if nobody, err = postgres.Open(ctx, u.String(), owner.Schema()); err != nil {
		t.Fatal(err)
	}
	defer nobody.Close()
	for op, read := range reads {
		if err := read(); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s with jobctl_read: %v", op, err)
		}
	}
}

// TestAuditDBRoleTriggerSetsNothing: the trigger runs once per audit row,
// and a function with a SET clause is called through a wrapper that sets
// and undoes the setting every call (8% of an archive's server time;
// migration 007).
func TestAuditDBRoleTriggerSetsNothing(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var config []string
	if err := s.Pool().QueryRow(context.Background(), `SELECT proconfig FROM pg_proc
		WHERE proname = 'AuditLog_dbRole' AND pronamespace = $1::regnamespace`, s.Schema()).Scan(&config); err != nil {
		t.Fatal(err)
	}
	if config != nil {
		t.Errorf(`"AuditLog_dbRole"() sets %v on every call`, config)
	}
}

// TestAuditDBRoleIsTheDatabases: the role in an audit row is the login,
// whatever the client writes, and wherever it writes it.
func TestAuditDBRoleIsTheDatabases(t *testing.T) {
	t.Parallel()
	owner := newStore(t)
	dsn := pgtest.URL(t)
	ctx := context.Background()
	writer, role := loginAs(t, dsn, owner.Schema(), "jobctl_write")

	// A forged row, as the attacker wrote it.
	if _, err := writer.Pool().Exec(ctx, `INSERT INTO "AuditLog" (action, "userId", resource, "resourceId", "dbRole", metadata)
		VALUES ('JOB_DELETE', 'mallory', 'Job', 'job_forged', 'postgres', '{"dbRole":"postgres"}')`); err != nil {
		t.Fatal(err)
	}
	// The same after SET ROLE: current_user would be the group role.
	conn, err := writer.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"SET ROLE jobctl_write",
		`INSERT INTO "AuditLog" (action, "userId", resource, "resourceId", "dbRole") VALUES ('JOB_RETRY', 'mallory', 'Job', 'job_setrole', 'postgres')`,
		"RESET ROLE"} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	conn.Release()
	// And jobctl's own rows.
	j, err := writer.Enqueue(ctx, &store.EnqueueParams{Type: "Audited"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Act(ctx, &store.ActionParams{Action: store.ActCancel, Actor: "alice", IDs: []string{j.Job.ID}}); err != nil {
		t.Fatal(err)
	}
	if err := owner.AddSchedule(ctx, &store.Schedule{Name: "nightly", Type: "Audited", Cron: "@daily", Timezone: "UTC", Priority: store.PriorityNormal, NextRunAt: time.Now().Add(time.Hour)}, "bob"); err != nil {
		t.Fatal(err)
	}

	var stored string
	for _, id := range []string{"job_forged", "job_setrole", j.Job.ID} {
		if err := owner.Pool().QueryRow(ctx, `SELECT "dbRole" FROM "AuditLog" WHERE "resourceId" = $1`, id).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != role {
			t.Errorf("%s: stored dbRole %q; want the login %q", id, stored, role)
		}
	}
	es, err := writer.Audit(ctx, &store.AuditFilter{})
	if err != nil || len(es) != 4 {
		t.Fatalf("audit: %d rows, %v", len(es), err)
	}
	for _, e := range es {
		want := role
		if e.Action == store.ActionScheduleAdd {
			want = "postgres" // the owner's own login
		}
		if e.DBRole != want {
			t.Errorf("%s %s: dbRole %q; want %q", e.Action, e.ResourceID, e.DBRole, want)
		}
		if e.ResourceID != "job_forged" && strings.Contains(string(e.Metadata), "dbRole") {
			t.Errorf("%s: jobctl still writes dbRole into metadata: %s", e.Action, e.Metadata)
		}
	}
	// Nor can the login fix the row up afterwards.
	if _, err := writer.Pool().Exec(ctx, `UPDATE "AuditLog" SET "dbRole" = 'postgres'`); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("UPDATE of dbRole: %v; want permission denied", err)
	}
}

// TestMigrateNamesWhatItLacks: migrate is the schema owner's job, and a
// login without the rights it needs is told which.
func TestMigrateNamesWhatItLacks(t *testing.T) {
	t.Parallel()
	owner := newStore(t)
	dsn := pgtest.URL(t)
	ctx := context.Background()
	schema := pgx.Identifier{owner.Schema()}.Sanitize()
	for _, group := range []string{"", "jobctl_read", "jobctl_write", "jobctl_delete"} {
		s, role := loginAs(t, dsn, owner.Schema(), group)
		_, err := s.Migrate(ctx)
		want := "permission denied: migrate needs to create tables in schema " + schema + " (CREATE on schema " + schema + ", or run it as the schema's owner)"
		var pe *store.PermissionError
		if !errors.As(err, &pe) || err.Error() != want {
			t.Errorf("%s: %v\nwant %s", role, err, want)
		}
	}

	// A schema that does not exist yet needs CREATE on the database.
	u, _ := url.Parse(dsn)
	s, _ := loginAs(t, dsn, "jobctl_missing_"+strings.TrimPrefix(owner.Schema(), "jobctl_test_"), "jobctl_delete")
	_, err := s.Migrate(ctx)
	if want := " needs to create schema \"jobctl_missing_"; err == nil || !strings.Contains(err.Error(), want) ||
		!strings.HasSuffix(err.Error(), "(CREATE on database \""+strings.TrimPrefix(u.Path, "/")+"\", or create the schema first)") {
		t.Errorf("missing schema: %v", err)
	}

	// With CREATE on the schema but not owning its tables, a pending
	// migration that alters them is refused, untouched, by the database.
	s, role := loginAs(t, dsn, owner.Schema(), "jobctl_read")
	for _, sql := range []string{"GRANT CREATE ON SCHEMA " + schema + " TO " + role, `DELETE FROM "SchemaMigration" WHERE version = 3`,
		`DROP TRIGGER "AuditLog_dbRole" ON "AuditLog"`, `DROP FUNCTION "AuditLog_dbRole"()`, `ALTER TABLE "AuditLog" DROP COLUMN "dbRole"`} {
		if _, err := owner.Pool().Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.Migrate(ctx)
	if want := "permission denied: migrate needs to own jobctl's tables in schema " + schema; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("not the owner: %v\nwant %s…", err, want)
	}
	if applied, err := owner.Migrate(ctx); err != nil || len(applied) != 1 || applied[0].Version != 3 {
		t.Errorf("the owner migrates: %v %v", applied, err)
	}
}
