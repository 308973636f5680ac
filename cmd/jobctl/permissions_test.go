//go:build unix

package main_test

import (
	"context"
	"database/sql"
	"errors"
	"github.com/jobctl/jobctl/internal/testutil/pgtest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/store"
)

// permLogin is one Postgres login of the matrix: a member of group, or of
// nothing when group is "".
type permLogin struct {
	label, group, role string
	level              int // 0 nothing, 1 read, 2 write, 3 delete
	env                []string
	// The jobs and schedule this login's cells act on, seeded by the owner.
	failed, cancel, start, done, archived string
	// owns is every job and schedule of this login's cells.
	owns map[string]bool
}

// permCommand is one command of the matrix: who may run it and what it
// says to one who may not.
type permCommand struct {
	name string
	args func(l *permLogin) []string
	// need is the permission the command's operation declares; "" for
	// migrate, which no jobctl role may run.
	need store.Permission
	op   string // the store operation the refusal names
	// done checks, as the owner, that an allowed run did its work; undone
	// that a refused one changed nothing.
	done, undone func(t *testing.T, l *permLogin)
}

var permLevel = map[store.Permission]int{store.PermRead: 1, store.PermWrite: 2, store.PermDelete: 3}

// TestPermissionMatrix runs every command as each of jobctl's roles and as
// a login with no grants, against one seeded Postgres schema: each is
// allowed, or refused with one line naming the permission its operation
// declares and the GRANT that gives it, changing nothing. Every audit row
// an allowed action writes names the login in "dbRole".
func TestPermissionMatrix(t *testing.T) {
	e := newWorkerEnv(t, "postgres")
	p := e.openProofDB()
	owner := p.s
	ctx := context.Background()
	dsn, schema := envValue(e.env, "JOBCTL_DATABASE_URL"), envValue(e.env, "JOBCTL_SCHEMA")

	var logins []*permLogin
	for i, group := range []string{"", "jobctl_read", "jobctl_write", "jobctl_delete"} {
		l := &permLogin{label: "nogrant", group: group, level: i}
		if group != "" {
			l.label = strings.TrimPrefix(group, "jobctl_")
		}
		l.role = createLogin(t, dsn, l.label, group)
		u, _ := url.Parse(dsn)
		u.User = url.User(l.role)
		l.env = append(slices.Clone(e.env), "JOBCTL_DATABASE_URL="+u.String(), "JOBCTL_SCHEMA="+schema)
		logins = append(logins, l)
	}

	// Each login's cells act on jobs of their own, so the cells are
	// independent of each other and of their order.
	old := time.Now().Add(-40 * 24 * time.Hour).UTC().Truncate(time.Millisecond)
	var seeding *permLogin
	job := func(typ string, st store.Status) string {
		j := &store.Job{ID: store.NewID(time.Now()), Type: typ, Status: st, Priority: store.PriorityNormal,
			MaxAttempts: 5, Attempts: 1, ScheduledFor: old.Add(24 * time.Hour * 365), CreatedAt: old, UpdatedAt: old}
		if st.Final() {
			j.CompletedAt = &old
		}
		if err := owner.Import(ctx, []*store.Job{j}); err != nil {
			t.Fatal(err)
		}
		seeding.owns[j.ID] = true
		return j.ID
	}
	for _, l := range logins {
		seeding, l.owns = l, map[string]bool{"add-" + l.label: true, "rm-" + l.label: true}
		l.failed = job("Retry_"+l.label, store.StatusFailed)
		l.cancel = job("Cancel_"+l.label, store.StatusPending)
		l.start = job("Start_"+l.label, store.StatusPending)
		l.done = job("Delete_"+l.label, store.StatusCompleted)
		job("Purge_"+l.label, store.StatusCompleted)
		job("Archive_"+l.label, store.StatusCompleted)
		l.archived = job("Restore_"+l.label, store.StatusCompleted)
		if _, err := owner.Act(ctx, &store.ActionParams{Action: store.ActArchive, Actor: "seed", IDs: []string{l.archived}}); err != nil {
			t.Fatal(err)
		}
		if err := owner.AddSchedule(ctx, &store.Schedule{Name: "rm-" + l.label, Type: "Nightly", Cron: "@daily", Timezone: "UTC",
			Priority: store.PriorityNormal, NextRunAt: time.Now().Add(time.Hour)}, "seed"); err != nil {
			t.Fatal(err)
		}
	}

	// The checks run in the cells' own goroutines: they report to the
	// cell's t, never to the parent's.
	count := func(t *testing.T, query string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := p.db.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	status := func(t *testing.T, table, id string) string {
		t.Helper()
		var st string
		err := p.db.QueryRow(`SELECT status FROM `+table+` WHERE id = $1`, id).Scan(&st)
		if errors.Is(err, sql.ErrNoRows) {
			return "gone"
		} else if err != nil {
			t.Fatal(err)
		}
		return st
	}
	want := func(table, id string, st string) func(t *testing.T, l *permLogin) {
		return func(t *testing.T, l *permLogin) {
			t.Helper()
			if got := status(t, table, id); got != st {
				t.Errorf("%s in %s is %s; want %s", id, table, got, st)
			}
		}
	}
	typeIn := func(table, typ string, n int) func(t *testing.T, l *permLogin) {
		return func(t *testing.T, l *permLogin) {
			t.Helper()
			if got := count(t, `SELECT count(*) FROM `+table+` WHERE type = $1`, typ+"_"+l.label); got != int64(n) {
				t.Errorf("%d %s_%s jobs in %s; want %d", got, typ, l.label, table, n)
			}
		}
	}
	schedules := func(name string, n int) func(t *testing.T, l *permLogin) {
		return func(t *testing.T, l *permLogin) {
			t.Helper()
			if got := count(t, `SELECT count(*) FROM "RecurringJob" WHERE name = $1`, name+"-"+l.label); got != int64(n) {
				t.Errorf("%d schedules %s-%s; want %d", got, name, l.label, n)
			}
		}
	}
	jobIs := func(field func(*permLogin) string, table, st string) func(t *testing.T, l *permLogin) {
		return func(t *testing.T, l *permLogin) { want(table, field(l), st)(t, l) }
	}
	nothing := func(*testing.T, *permLogin) {}
	args := func(a ...string) func(*permLogin) []string { return func(*permLogin) []string { return a } }

	commands := []permCommand{
		{name: "list", args: args("list"), need: store.PermRead, op: "list jobs"},
		{name: "show", args: func(l *permLogin) []string { return []string{"show", l.failed} }, need: store.PermRead, op: "get job"},
		{name: "stats", args: args("stats"), need: store.PermRead, op: "stats"},
		// health's first look is at the schema's version.
		{name: "health", args: args("health"), need: store.PermRead, op: "check schema"},
		{name: "audit", args: args("audit"), need: store.PermRead, op: "audit log"},
		{name: "worker list", args: args("worker", "list"), need: store.PermRead, op: "list workers"},
		{name: "schedule list", args: args("schedule", "list"), need: store.PermRead, op: "list schedules"},
		{name: "enqueue", args: func(l *permLogin) []string { return []string{"enqueue", "Enqueue_" + l.label} },
			need: store.PermWrite, op: "enqueue", done: typeIn(`"Job"`, "Enqueue", 1), undone: typeIn(`"Job"`, "Enqueue", 0)},
		{name: "retry", args: func(l *permLogin) []string { return []string{"retry", l.failed} }, need: store.PermWrite, op: "retry",
			done: jobIs(func(l *permLogin) string { return l.failed }, `"Job"`, "PENDING"), undone: jobIs(func(l *permLogin) string { return l.failed }, `"Job"`, "FAILED")},
		{name: "cancel", args: func(l *permLogin) []string { return []string{"cancel", l.cancel} }, need: store.PermWrite, op: "cancel",
			done: jobIs(func(l *permLogin) string { return l.cancel }, `"Job"`, "CANCELLED"), undone: jobIs(func(l *permLogin) string { return l.cancel }, `"Job"`, "PENDING")},
		{name: "start", args: func(l *permLogin) []string { return []string{"start", l.start} }, need: store.PermWrite, op: "start",
			done: func(t *testing.T, l *permLogin) {
				if n := count(t, `SELECT count(*) FROM "Job" WHERE id = $1 AND "scheduledFor" <= now()`, l.start); n != 1 {
					t.Errorf("%s is not due after start", l.start)
				}
			},
			undone: func(t *testing.T, l *permLogin) {
				if n := count(t, `SELECT count(*) FROM "Job" WHERE id = $1 AND "scheduledFor" > now()`, l.start); n != 1 {
					t.Errorf("%s was started by a refused start", l.start)
				}
			}},
		{name: "delete", args: func(l *permLogin) []string { return []string{"delete", l.done, "--yes"} }, need: store.PermDelete, op: "delete",
			done: jobIs(func(l *permLogin) string { return l.done }, `"Job"`, "gone"), undone: jobIs(func(l *permLogin) string { return l.done }, `"Job"`, "COMPLETED")},
		{name: "purge", args: func(l *permLogin) []string {
			return []string{"purge", "--type", "Purge_" + l.label, "--older", "1d", "--yes"}
		},
			need: store.PermDelete, op: "purge", done: typeIn(`"Job"`, "Purge", 0), undone: typeIn(`"Job"`, "Purge", 1)},
		{name: "archive", args: func(l *permLogin) []string {
			return []string{"archive", "--type", "Archive_" + l.label, "--older", "1d"}
		},
			need: store.PermDelete, op: "archive", done: typeIn(`"JobArchive"`, "Archive", 1), undone: typeIn(`"Job"`, "Archive", 1)},
		{name: "archive restore", args: func(l *permLogin) []string { return []string{"archive", "restore", l.archived} },
			need: store.PermDelete, op: "restore",
			done:   jobIs(func(l *permLogin) string { return l.archived }, `"Job"`, "COMPLETED"),
			undone: jobIs(func(l *permLogin) string { return l.archived }, `"JobArchive"`, "COMPLETED")},
		{name: "schedule add", args: func(l *permLogin) []string {
			return []string{"schedule", "add", "add-" + l.label, "--type", "Nightly", "--cron", "@daily"}
		}, need: store.PermWrite, op: "add schedule", done: schedules("add", 1), undone: schedules("add", 0)},
		{name: "schedule rm", args: func(l *permLogin) []string { return []string{"schedule", "rm", "rm-" + l.label} },
			need: store.PermWrite, op: "remove schedule", done: schedules("rm", 0), undone: schedules("rm", 1)},
		{name: "migrate", args: args("migrate"), undone: nothing},
	}

	quoted := pgx.Identifier{schema}.Sanitize()
	// A login's cells run in order, the logins side by side.
	t.Run("matrix", func(t *testing.T) {
		for _, l := range logins {
			t.Run(l.label, func(t *testing.T) {
				t.Parallel()
				for _, c := range commands {
					t.Run(c.name, func(t *testing.T) { permCell(t, e.dir, l, &c, quoted) })
				}
			})
		}
	})

	// Every audit row a login's allowed action wrote names that login, by
	// the database's word; the seed's rows name the owner.
	byLogin := map[string]int{}
	for _, r := range p.strings(`SELECT "dbRole", "resourceId" FROM "AuditLog" WHERE "userId" <> 'seed'`) {
		role, resource, _ := strings.Cut(r, "\t")
		i := slices.IndexFunc(logins, func(l *permLogin) bool { return l.role == role })
		if i < 0 || !logins[i].owns[resource] {
			t.Errorf("audit row about %s has dbRole %q", resource, role)
			continue
		}
		byLogin[logins[i].label]++
	}
	// write: retry, cancel, start, schedule add and rm; delete: those, and
	// delete, purge, archive and restore.
	if len(byLogin) != 2 || byLogin["write"] != 5 || byLogin["delete"] != 9 {
		t.Errorf("audit rows by login: %v; want write 5, delete 9, none for the others", byLogin)
	}
	seed := p.strings(`SELECT DISTINCT "dbRole" FROM "AuditLog" WHERE "userId" = 'seed'`)
	if len(seed) != 1 || seed[0] != envUser(t, dsn) {
		t.Errorf("the seed's audit rows name %q; want the owner %q", seed, envUser(t, dsn))
	}
}

// permCell runs one command as one login and checks the outcome.
func permCell(t *testing.T, dir string, l *permLogin, c *permCommand, schema string) {
	res := runAs(t, dir, l.env, c.args(l)...)
	allowed := c.need != "" && l.level >= permLevel[c.need]
	if allowed {
		ok := res.code == 0
		if c.name == "health" {
			ok = res.code <= 2 // healthy, warning or critical: it looked
		}
		if !ok || strings.Contains(res.stderr, "permission denied") {
			t.Fatalf("%s may %s, but it exited %d: %s", l.role, c.name, res.code, res.stderr)
		}
		if c.done != nil {
			c.done(t, l)
		}
		return
	}
	wantMsg := "jobctl: permission denied: " + c.op + " needs " + string(c.need) + " (GRANT " + c.need.Role() + " TO " + l.role + ")\n"
	wantCode := 1
	switch c.name {
	case "migrate":
		wantMsg = "jobctl: permission denied: migrate needs to create tables in schema " + schema +
			" (CREATE on schema " + schema + ", or run it as the schema's owner)\n"
	case "health":
		wantMsg = "jobctl: UNKNOWN: " + strings.TrimPrefix(wantMsg, "jobctl: ")
		wantCode = 3
	}
	if res.code != wantCode || res.stderr != wantMsg {
		t.Errorf("exit %d, stderr %q\nwant exit %d, stderr %q", res.code, res.stderr, wantCode, wantMsg)
	}
	wantOut := ""
	if c.name == "health" {
		// A Nagios plugin's status line: the check could not look.
		wantOut = "JOBCTL UNKNOWN - " + strings.TrimPrefix(wantMsg, "jobctl: UNKNOWN: ")
	}
	if res.stdout != wantOut {
		t.Errorf("a refused %s printed %q; want %q", c.name, res.stdout, wantOut)
	}
	if c.undone != nil {
		c.undone(t, l)
	}
}

// runAs runs jobctl in dir with env.
func runAs(t *testing.T, dir string, env []string, args ...string) cliResult {
	t.Helper()
	return runCLI(t, dir, env, "", args...)
}

func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if s, ok := strings.CutPrefix(kv, key+"="); ok {
			v = s // the last one wins, as in exec
		}
	}
	return v
}

func envUser(t *testing.T, dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.User
}

var loginName = regexp.MustCompile(`^[a-z]+$`)

// createLogin makes a login role for the matrix, a member of group
// unless group is "", dropped when the test ends.
func createLogin(t *testing.T, dsn, label, group string) string {
	t.Helper()
	if !loginName.MatchString(label) {
		t.Fatalf("login label %q", label)
	}
	return pgtest.Login(t, dsn, "matrix_"+label, group)
}
