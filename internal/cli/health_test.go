package cli

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
	"github.com/jobctl/jobctl/internal/store/postgres"
	"github.com/jobctl/jobctl/internal/store/sqlite"
	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

// The monitoring commands' tests run jobctl health and stats, whole, against
// a real store seeded around the database's clock (which health and stats
// measure against), on SQLite and, when JOBCTL_TEST_DATABASE_URL is set, on
// Postgres.

var updateMonitoring = flag.Bool("update-monitoring", false, "rewrite the health and stats golden files in testdata")

// monStore is a fresh, migrated store, the flags that point jobctl at it,
// and raw SQL to age its rows.
type monStore struct {
	store.Store
	args []string
	exec func(t *testing.T, sql string, args ...any)
}

var monBackends = []struct {
	name string
	open func(t *testing.T) *monStore
}{{"sqlite", newMonSQLite}, {"postgres", newMonPostgres}}

func newMonSQLite(t *testing.T) *monStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jobs.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &monStore{Store: s, args: []string{"--db", "sqlite:" + path}, exec: func(t *testing.T, sql string, args ...any) {
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

func newMonPostgres(t *testing.T) *monStore {
	t.Helper()
	dsn, schema := pgtest.Schema(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn, schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return &monStore{Store: s, args: []string{"--db", dsn, "--schema", schema}, exec: func(t *testing.T, sql string, args ...any) {
		t.Helper()
		if _, err := s.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatalf("exec %s: %v", sql, err)
		}
	}}
}

// now is the database's clock, which Snapshot and Stats measure against.
func (ms *monStore) now(t *testing.T) time.Time {
	t.Helper()
	snap, err := ms.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return snap.Now
}

// monJob describes jobs to seed; zero times default to the moment seeded.
type monJob struct {
	typ      string
	status   store.Status
	n        int
	age      time.Duration // scheduledFor and createdAt this long ago
	finished time.Duration // completedAt this long ago, for final statuses
	ran      time.Duration // startedAt this long before completedAt (or now)
	errMsg   string
	errCode  string
}

func (ms *monStore) seed(t *testing.T, specs ...monJob) {
	t.Helper()
	now := ms.now(t).Truncate(time.Millisecond)
	var jobs []*store.Job
	for _, sp := range specs {
		for range max(sp.n, 1) {
			at := now.Add(-sp.age)
			j := &store.Job{ID: store.NewID(at), Type: sp.typ, Status: sp.status, Priority: store.PriorityNormal,
				Data: json.RawMessage(`{}`), MaxAttempts: 5, ScheduledFor: at, CreatedAt: at, UpdatedAt: now,
				ErrorMessage: sp.errMsg, ErrorCode: sp.errCode}
			switch {
			case sp.status.Final():
				done, start := now.Add(-sp.finished), now.Add(-sp.finished-sp.ran)
				j.CompletedAt, j.StartedAt, j.Attempts = &done, &start, 1
			case sp.status == store.StatusRunning:
				start := now.Add(-sp.ran)
				j.StartedAt, j.WorkerID, j.Attempts = &start, "w1", 1
			}
			jobs = append(jobs, j)
		}
	}
	if err := ms.Import(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
}

// worker registers a worker that last pinged silent ago.
func (ms *monStore) worker(t *testing.T, id string, silent time.Duration) {
	t.Helper()
	if err := ms.RegisterWorker(context.Background(), &store.WorkerInfo{ID: id, Host: "test", PID: 1, Types: []string{"CalendarSync"}, Concurrency: 4}); err != nil {
		t.Fatal(err)
	}
	if silent > 0 {
		ms.exec(t, `UPDATE "Worker" SET "lastPing" = $1 WHERE id = $2`, ms.now(t).Add(-silent), id)
	}
}

// monRun runs jobctl with args, as a terminal or a pipe, with env as the
// whole environment, and returns its exit code and output.
func monRun(t *testing.T, tty bool, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := render.Test(false, tty)
	f := cmdutil.NewFactory(ios, func(k string) string { return env[k] })
	defer f.Close()
	root := NewCmdRoot(f)
	root.SetArgs(args)
	code = cmdutil.HandleError(ios, root.ExecuteContext(context.Background()))
	return code, out.String(), errOut.String()
}

// monReport runs jobctl health -o json and decodes the report.
func monReport(t *testing.T, ms *monStore, env map[string]string, flags ...string) (int, *health.Report, string) {
	t.Helper()
	code, out, errOut := monRun(t, false, env, append(append([]string{"health", "-o", "json"}, ms.args...), flags...)...)
	var r health.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("health -o json: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
	return code, &r, errOut
}

func monProblems(r *health.Report) []string {
	var cs []string
	for _, p := range r.Problems {
		cs = append(cs, p.Check+"/"+p.Severity)
	}
	return cs
}

// TestHealthCommandThresholds drives a real store into each state the
// guide's thresholds name and checks the report and the Nagios exit code.
func TestHealthCommandThresholds(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, ms *monStore)
		flags    []string
		config   string
		code     int
		problems []string
	}{
		{name: "healthy", code: 0, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.seed(t, monJob{typ: "CalendarSync", status: store.StatusPending, n: 100},
				monJob{typ: "CalendarSync", status: store.StatusFailed, n: 10},
				monJob{typ: "CalendarSync", status: store.StatusDead, n: 3},
				monJob{typ: "Report", status: store.StatusRunning, ran: time.Minute})
		}},
		{name: "pending over 100", code: 1, problems: []string{"pendingJobs/warning"}, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.seed(t, monJob{typ: "CalendarSync", status: store.StatusPending, n: 101})
		}},
		{name: "pending threshold from flag", code: 0, flags: []string{"--max-pending", "1000"}, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.seed(t, monJob{typ: "CalendarSync", status: store.StatusPending, n: 101})
		}},
		{name: "pending threshold from config", code: 1, problems: []string{"pendingJobs/warning"}, config: "health:\n  maxPending: 5\n", setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.seed(t, monJob{typ: "CalendarSync", status: store.StatusPending, n: 6})
		}},
		{name: "flag overrides config", code: 0, flags: []string{"--max-pending", "10"}, config: "health:\n  maxPending: 5\n", setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.seed(t, monJob{typ: "CalendarSync", status: store.StatusPending, n: 6})
		}},
		{name: "failed over 10", code: 1, problems: []string{"failedJobs/warning"}, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.seed(t, monJob{typ: "CalendarSync", status: store.StatusFailed, n: 11, errMsg: "boom"})
		}},
		{name: "failed threshold from flag", code: 1, flags: []string{"--max-failed", "0"}, problems: []string{"failedJobs/warning"}, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.seed(t, monJob{typ: "CalendarSync", status: store.StatusFailed})
		}},
		{name: "oldest pending over 30m", code: 1, problems: []string{"oldestPendingJob/warning"}, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.seed(t, monJob{typ: "CalendarSync", status: store.StatusPending, age: 45 * time.Minute})
		}},
		{name: "oldest pending threshold from flag", code: 0, flags: []string{"--max-oldest-pending", "1h"}, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.seed(t, monJob{typ: "CalendarSync", status: store.StatusPending, age: 45 * time.Minute})
		}},
		{name: "no worker", code: 2, problems: []string{"worker/critical"}},
		{name: "silent worker", code: 2, problems: []string{"workerLastPing/critical"}, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 5*time.Minute)
		}},
		{name: "silence threshold from flag", code: 0, flags: []string{"--max-worker-silence", "10m"}, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 5*time.Minute)
		}},
		{name: "one live worker of two", code: 0, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 5*time.Minute)
			ms.worker(t, "w2", 0)
		}},
		// The default timeout (30s) plus the default lease (60s).
		{name: "stuck job", code: 1, problems: []string{"stuckJobs/warning"}, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.seed(t, monJob{typ: "Report", status: store.StatusRunning, ran: 5 * time.Minute})
		}},
		{name: "stuck lease from flag", code: 0, flags: []string{"--lease", "10m"}, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.seed(t, monJob{typ: "Report", status: store.StatusRunning, ran: 5 * time.Minute})
		}},
		{name: "stuck timeout from config", code: 0, config: "jobs:\n  Report:\n    handler: {builtin: noop}\n    timeout: 10m\n", setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.seed(t, monJob{typ: "Report", status: store.StatusRunning, ran: 5 * time.Minute})
		}},
		{name: "warning and critical", code: 2, problems: []string{"worker/critical", "pendingJobs/warning"}, setup: func(t *testing.T, ms *monStore) {
			ms.seed(t, monJob{typ: "CalendarSync", status: store.StatusPending, n: 101})
		}},
		{name: "schema too new", code: 2, problems: []string{"schema/critical"}, setup: func(t *testing.T, ms *monStore) {
			ms.worker(t, "w1", 0)
			ms.exec(t, `INSERT INTO "SchemaMigration" (version, name, "appliedAt") VALUES (999, 'future', $1)`, time.Now())
		}},
	}
	for _, b := range monBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					ms := b.open(t)
					if tt.setup != nil {
						tt.setup(t, ms)
					}
					env := map[string]string{}
					if tt.config != "" {
						path := filepath.Join(t.TempDir(), "jobctl.yaml")
						if err := os.WriteFile(path, []byte(tt.config), 0o644); err != nil {
							t.Fatal(err)
						}
						env["JOBCTL_CONFIG"] = path
					}
					code, r, stderr := monReport(t, ms, env, tt.flags...)
					if got, want := strings.Join(monProblems(r), " "), strings.Join(tt.problems, " "); got != want {
						t.Errorf("problems = %q; want %q (%+v)", got, want, r.Problems)
					}
					if code != tt.code || code != r.ExitCode() {
						t.Errorf("exit %d (report's %d); want %d", code, r.ExitCode(), tt.code)
					}
					want := map[int]string{0: health.Healthy, 1: health.Degraded, 2: health.Unhealthy}[tt.code]
					if r.Status != want {
						t.Errorf("status %q; want %q", r.Status, want)
					}
					// The plugin's status line says the same state.
					_, out, _ := monRun(t, false, env, append(append([]string{"health"}, ms.args...), tt.flags...)...)
					state := map[int]string{0: "OK", 1: "WARNING", 2: "CRITICAL"}[tt.code]
					if !regexp.MustCompile(`^JOBCTL `+state+` - [^\n|]+ \| pending=\d+;\d+ failed=\d+;\d+ dead=\d+ oldest_pending=\d+s;\d+ worker_last_ping=(\d+s|U);;\d+ stuck=\d+;0\n`).MatchString(out) &&
						!(tt.name == "schema too new" && strings.HasPrefix(out, "JOBCTL CRITICAL - schema: ")) {
						t.Errorf("status line of exit %d:\n%s", tt.code, out)
					}
					// Exit 0 says nothing on stderr; any other code says why
					// in one line.
					switch {
					case tt.code == 0 && stderr != "":
						t.Errorf("stderr = %q; want nothing", stderr)
					case tt.code != 0 && (strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "jobctl: "+map[int]string{1: "WARNING", 2: "CRITICAL"}[tt.code]+": ")):
						t.Errorf("stderr = %q; want one WARNING or CRITICAL line", stderr)
					}
				})
			}
		})
	}
}

func TestHealthCommandUnmigratedPostgres(t *testing.T) {
	dsn, schema := pgtest.Schema(t)
	code, out, stderr := monRun(t, false, nil, "health", "--db", dsn, "--schema", schema)
	if code != 2 {
		t.Errorf("exit %d; want 2", code)
	}
	line, out, _ := strings.Cut(out, "\n")
	if line != "JOBCTL CRITICAL - schema: check schema: schema not migrated" {
		t.Errorf("status line %q", line)
	}
	if !strings.HasPrefix(out, "CRIT database        reachable (") || !strings.Contains(out, "schema not migrated") || !strings.HasSuffix(out, "\nStatus: unhealthy\n") {
		t.Errorf("stdout:\n%s", out)
	}
	if !strings.HasPrefix(stderr, "jobctl: CRITICAL: schema: ") || !strings.Contains(stderr, "`jobctl migrate status`") {
		t.Errorf("stderr = %q", stderr)
	}
}

// TestHealthCommandUnreachable: a store that cannot be reached is the
// Nagios UNKNOWN, 3: the status line alone on stdout, or the report's
// unreachable shape as JSON, with null for every figure.
func TestHealthCommandUnreachable(t *testing.T) {
	missingDir := "sqlite:" + filepath.Join(t.TempDir(), "missing", "jobs.db")
	for _, db := range []string{"postgres://x:secret@127.0.0.1:1/x", missingDir} {
		code, out, stderr := monRun(t, false, nil, "health", "--db", db)
		if code != 3 || !regexp.MustCompile(`^JOBCTL UNKNOWN - store unreachable: [^|\n]+\n$`).MatchString(out) ||
			!strings.HasPrefix(stderr, "jobctl: UNKNOWN: store unreachable: ") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 3, the UNKNOWN line, one UNKNOWN line", db, code, out, stderr)
		}
		if strings.Contains(out+stderr, "secret") {
			t.Errorf("%s: the password is shown: %s%s", db, out, stderr)
		}
		code, out, _ = monRun(t, false, nil, "health", "--db", db, "-o", "json")
		var r health.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if code != 3 || r.Status != health.Unhealthy || !strings.HasPrefix(r.Checks.Database, "unreachable: ") || r.Checks.Worker != "unknown" {
			t.Errorf("%s -o json: exit %d, %+v", db, code, r)
		}
		if c := r.Checks; c.PendingJobs != nil || c.FailedJobs != nil || c.DeadJobs != nil || c.StuckJobs != nil || c.LiveWorkers != nil ||
			c.OldestPendingJob != nil || c.WorkerLastPing != nil || c.DatabaseLatencyMS != nil || !strings.Contains(out, `"pendingJobs": null,`) {
			t.Errorf("%s -o json: figures that were not read are not null:\n%s", db, out)
		}
	}
	// A config file that cannot be read leaves the check without its
	// thresholds: unknown too, and nothing was read.
	env := map[string]string{"JOBCTL_CONFIG": filepath.Join(t.TempDir(), "nope.yaml")}
	code, out, stderr := monRun(t, false, env, "health", "--db", missingDir)
	if code != 3 || !strings.HasPrefix(out, "JOBCTL UNKNOWN - config file ") || strings.Count(out, "\n") != 1 || !strings.HasPrefix(stderr, "jobctl: UNKNOWN: config file ") {
		t.Errorf("missing config: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	code, out, _ = monRun(t, false, env, "health", "--db", missingDir, "-o", "json")
	var r health.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("missing config -o json: %v\n%s", err, out)
	}
	if code != 3 || r.Checks.PendingJobs != nil || len(r.Problems) != 1 || r.Problems[0].Check != "config" {
		t.Errorf("missing config -o json: exit %d\n%s", code, out)
	}
}

func TestHealthCommandFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "jobctl.yaml")
	if err := os.WriteFile(cfg, []byte("health:\n  maxPending: 5\n  maxOldestPending: 1h\njobs:\n  Report:\n    handler: {builtin: noop}\n    timeout: 3m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := render.Test(false, false)
	f := cmdutil.NewFactory(ios, func(k string) string { return map[string]string{"JOBCTL_CONFIG": cfg}[k] })
	var got *HealthOptions
	cmd := NewCmdHealth(f, func(_ context.Context, o *HealthOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--max-failed", "3", "--lease", "2m"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	th := got.Inputs.Thresholds
	if th.MaxPending != 5 || th.MaxFailed != 3 || th.MaxWorkerSilence != time.Minute || th.MaxOldestPending != time.Hour || got.Inputs.Lease != 2*time.Minute {
		t.Errorf("inputs = %+v, lease %s", th, got.Inputs.Lease)
	}
	if a, b := got.Inputs.Timeout("Report"), got.Inputs.Timeout("Other"); a != 3*time.Minute || b != 30*time.Second {
		t.Errorf("timeouts: Report %s, Other %s; want 3m0s, 30s", a, b)
	}

	// A usage error is the Nagios UNKNOWN, 3, not 2, which Nagios reads as
	// CRITICAL: the status line on stdout, the error on stderr.
	for _, args := range [][]string{{"--max-pending", "-1"}, {"--max-pending", "abc"}, {"--lease", "0s"}, {"-o", "csv"}, {"extra"}, {"--bogus"}, {"--max-failed"}} {
		code, out, stderr := monRun(t, false, nil, append([]string{"health"}, args...)...)
		msg := strings.TrimPrefix(strings.TrimSuffix(stderr, "\n"), "jobctl: ")
		if code != 3 || strings.Count(stderr, "\n") != 1 || out != "JOBCTL UNKNOWN - usage error: "+msg+"\n" {
			t.Errorf("health %v: exit %d, stdout %q, stderr %q; want 3, the UNKNOWN line and the usage error", args, code, out, stderr)
		}
	}
	// Other commands keep exit 2 for a usage error.
	if code, out, _ := monRun(t, false, nil, "stats", "--bogus"); code != 2 || out != "" {
		t.Errorf("stats --bogus: exit %d, stdout %q; want 2 and nothing", code, out)
	}
	if code, out, _ := monRun(t, false, nil, "health", "--help"); code != 0 || !strings.Contains(out, "Nagios") {
		t.Errorf("health --help: exit %d", code)
	}
}

// monVolatile are the parts of health's output that depend on how fast the
// test ran: the round trip and the time since the worker registered.
var monVolatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d+\.\d ms`), "X.X ms"},
	{regexp.MustCompile(`last ping \d+ seconds? ago`), "last ping N seconds ago"},
	{regexp.MustCompile(`(oldest_pending|worker_last_ping)=\d+s`), "${1}=Ns"},
}

func TestHealthCommandGolden(t *testing.T) {
	ms := newMonSQLite(t)
	ms.worker(t, "w1", 0)
	ms.worker(t, "w2", 0)
	ms.worker(t, "w3", 10*time.Minute)
	ms.seed(t,
		monJob{typ: "CalendarSync", status: store.StatusPending, n: 133, age: time.Minute},
		monJob{typ: "CalendarSync", status: store.StatusPending, age: 2*time.Minute + 30*time.Second},
		monJob{typ: "CalendarSync", status: store.StatusFailed, n: 2},
		monJob{typ: "Report", status: store.StatusRunning, ran: time.Hour},
		monJob{typ: "Report", status: store.StatusRunning, ran: time.Second},
	)
	for _, m := range []struct {
		name string
		tty  bool
	}{{"tty", true}, {"piped", false}} {
		t.Run(m.name, func(t *testing.T) {
			code, out, stderr := monRun(t, m.tty, nil, append([]string{"health"}, ms.args...)...)
			if code != 1 {
				t.Errorf("exit %d; want 1", code)
			}
			for _, v := range monVolatile {
				out = v.re.ReplaceAllString(out, v.with)
			}
			monGolden(t, "health_degraded_"+m.name, out, stderr)
		})
	}
}

// monGolden compares stdout and stderr with testdata/NAME.golden.
func monGolden(t *testing.T, name, stdout, stderr string) {
	t.Helper()
	if !strings.HasSuffix(name, "_tty") && strings.Contains(stdout+stderr, "\x1b[") {
		t.Errorf("piped output contains an ANSI escape:\n%q", stdout)
	}
	got := "-- stdout --\n" + stdout + "-- stderr --\n" + stderr
	path := filepath.Join("testdata", name+".golden")
	if *updateMonitoring {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update-monitoring to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update-monitoring to accept):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// val is *p, or the zero value for a figure the report could not read.
func val[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
