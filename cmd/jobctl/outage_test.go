//go:build unix

package main_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

// Database outages against real worker processes: the workers' database
// refuses connections and has its sessions killed every 0.3s, as a
// failover or a restart does, then comes back. No job may end stuck
// RUNNING, and none may run twice.

// outageDB is a database of the test's own, which it can take away.
type outageDB struct {
	t     *testing.T
	name  string
	admin *pgx.Conn // on the test database, which stays up
	dsn   string    // of the outage's database
	keep  uint32    // a session of the test's own the outage spares
	stop  chan struct{}
	wg    sync.WaitGroup
}

// newOutageEnv creates a database for the test, migrated, and a worker
// environment pointing at it. The database is dropped at cleanup, after
// the test's processes are gone (cleanups run last-registered first).
func newOutageEnv(t *testing.T) (*workerEnv, *outageDB) {
	t.Helper()
	base := pgtest.URL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	db := &outageDB{t: t, name: "jobctl_outage_" + hex.EncodeToString(b[:])}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", pgtest.EnvURL, err)
	}
	db.admin = admin
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db.name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.up()
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db.name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", db.name, err)
		}
		admin.Close(ctx)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db.name
	db.dsn = u.String()
	e := newBareEnv(t, "postgres")
	e.env = append(e.env, "JOBCTL_DATABASE_URL="+u.String())
	e.mustRun("", "migrate")
	return e, db
}

// down makes the database refuse connections and keeps killing its
// sessions every 0.3s until up.
func (d *outageDB) down() {
	d.t.Helper()
	ctx := context.Background()
	if _, err := d.admin.Exec(ctx, "ALTER DATABASE "+d.name+" WITH ALLOW_CONNECTIONS false"); err != nil {
		d.t.Fatal(err)
	}
	d.stop = make(chan struct{})
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			_, _ = d.admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> $2", d.name, d.keep)
			select {
			case <-d.stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
}

// up lets connections in again.
func (d *outageDB) up() {
	if d.stop == nil {
		return
	}
	close(d.stop)
	d.wg.Wait()
	d.stop = nil
	if _, err := d.admin.Exec(context.Background(), "ALTER DATABASE "+d.name+" WITH ALLOW_CONNECTIONS true"); err != nil {
		d.t.Errorf("allow connections again: %v", err)
	}
}

// waitLines waits until file has at least n lines.
func (e *workerEnv) waitLines(file string, n int, timeout time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for len(e.lines(file)) < n {
		if time.Now().After(deadline) {
			e.t.Fatalf("after %v, %s has %d lines; want %d", timeout, file, len(e.lines(file)), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkOnce asserts that every job ended COMPLETED after one attempt, and
// that each of appends ran exactly once (one line in ids.txt).
func (e *workerEnv) checkOnce(appends []string) {
	e.t.Helper()
	ran := map[string]int{}
	for _, l := range e.lines("ids.txt") {
		ran[l]++
	}
	twice := 0
	for _, id := range appends {
		if c := ran[id]; c != 1 {
			twice++
			if twice <= 10 {
				e.t.Errorf("%s ran %d times, want exactly once", id, c)
			}
		}
	}
	jobs := e.jobs()
	bad := 0
	for _, j := range jobs {
		if j.Status != "COMPLETED" || j.Attempts != 1 {
			bad++
			if bad <= 10 {
				e.t.Errorf("%s is %s after %d attempts (%s %s), want COMPLETED after 1", j.ID, j.Status, j.Attempts, j.ErrorCode, j.ErrorMessage)
			}
		}
	}
	if twice+bad > 0 {
		e.t.Errorf("%d jobs did not run exactly once; %d jobs not COMPLETED after 1 attempt: %s", twice, bad, statusCounts(jobs))
	}
}

// checkOutageLog asserts a worker said once that the store went away and
// once that it came back, with no error per try.
func checkOutageLog(t *testing.T, w *workerProc) {
	t.Helper()
	log := w.stderr.String()
	if n := strings.Count(log, `msg="store unreachable`); n != 1 {
		t.Errorf("worker %s said %d times that the store was unreachable; want once", w.name, n)
	}
	if n := strings.Count(log, `msg="store reachable again"`); n != 1 {
		t.Errorf("worker %s said %d times that the store was back; want once", w.name, n)
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, "SQLSTATE") {
			t.Errorf("worker %s logged: %s", w.name, l)
		}
	}
}

// outageConfig has a builtin type, cheap enough for thousands of jobs on
// a busy machine, and an exec type that appends its job's ID to ids.txt, so
// a second run of one of those shows in the file as well as in attempts
// (a job runs only once claimed, and each claim counts an attempt).
var outageConfig = `jobs:
  Sleep:
    handler: {builtin: sleep}
    timeout: 1m
  Append:
    handler: ` + shHandler(`echo "$JOB_ID" >> ids.txt`) + `
`

// enqueueMix enqueues n jobs, every tenth an Append and the rest Sleeps of
// ms milliseconds, and returns their IDs.
func (e *workerEnv) enqueueMix(n, ms int) (all, appends []string) {
	e.t.Helper()
	var b strings.Builder
	for i := range n {
		if i%10 == 0 {
			fmt.Fprintf(&b, `{"type":"Append","data":{"n":%d}}`+"\n", i)
		} else {
			fmt.Fprintf(&b, `{"type":"Sleep","data":{"ms":%d}}`+"\n", ms)
		}
	}
	e.mustRun(b.String(), "enqueue", "--from", "-")
	for _, j := range e.jobs() {
		all = append(all, j.ID)
		if j.Type == "Append" {
			appends = append(appends, j.ID)
		}
	}
	if len(all) != n {
		e.t.Fatalf("enqueued %d jobs, list shows %d", n, len(all))
	}
	return all, appends
}

// TestWorkerOutageDrain: two draining workers, 3,000 jobs, and an 8s
// outage in the middle. The outcomes of jobs that ended during the outage
// are kept and written once the database is back; --drain ends, exit 0,
// with every job COMPLETED once. (Before, a worker dropped outcomes after
// about 3s of failed writes but kept its lease alive, so those jobs stayed
// RUNNING and --drain never ended.) The lease (30s) outlasts the outage, so
// nobody may rescue a live worker's jobs.
func TestWorkerOutageDrain(t *testing.T) {
	t.Parallel()
	e, db := newOutageEnv(t)
	cfg := e.writeConfig("worker.yaml", outageConfig)
	_, appends := e.enqueueMix(3000, 50)

	var ws []*workerProc
	for i := range 2 {
		ws = append(ws, e.start("w"+strconv.Itoa(i+1), "worker", "run", "--config", cfg,
			"--drain", "--concurrency", "16", "--lease", "30s"))
	}
	e.waitLines("ids.txt", 30, 30*time.Second)
	db.down()
	t0 := time.Now()
	time.Sleep(2 * time.Second)
	// A command meanwhile says so in one line, without the server's FATAL.
	r := e.run("", "list", "--status", "running")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stderr, "FATAL") || strings.Contains(r.stderr, "SQLSTATE") {
		t.Errorf("list during the outage: exit %d, stderr %q; want exit 1 and one line without FATAL", r.code, r.stderr)
	}
	time.Sleep(8*time.Second - time.Since(t0))
	db.up()
	t.Logf("outage of %v", time.Since(t0).Round(time.Millisecond))

	for _, w := range ws {
		if code := w.wait(90 * time.Second); code != 0 {
			t.Errorf("worker %s exited %d, want 0\nstderr:\n%s", w.name, code, lastChars(w.stderr.String(), 3000))
		}
		checkOutageLog(t, w)
	}
	e.checkOnce(appends)
}

// TestWorkerOutageSigterm: a worker stopped with SIGTERM while the database
// is down keeps its outcomes and keeps trying; the database comes back
// within --shutdown-timeout, so it writes them and exits 0. A draining
// worker then does the rest: every job ran once. (Before, the stopped
// worker dropped the outcomes and deregistered, and the jobs ran again.)
func TestWorkerOutageSigterm(t *testing.T) {
	t.Parallel()
	e, db := newOutageEnv(t)
	cfg := e.writeConfig("worker.yaml", outageConfig)
	_, appends := e.enqueueMix(500, 300)

	w := e.start("w1", "worker", "run", "--config", cfg, "--concurrency", "16", "--lease", "30s", "--shutdown-timeout", "20s")
	e.waitLines("ids.txt", 5, 30*time.Second)
	db.down()
	t0 := time.Now()
	time.Sleep(time.Second)
	w.signal(syscall.SIGTERM)
	time.Sleep(8*time.Second - time.Since(t0))
	if !w.running() {
		t.Fatalf("worker exited during the outage, within its shutdown timeout\nstderr:\n%s", lastChars(w.stderr.String(), 3000))
	}
	db.up()
	if code := w.wait(20 * time.Second); code != 0 {
		t.Fatalf("worker exited %d after the outage, want 0\nstderr:\n%s", code, lastChars(w.stderr.String(), 3000))
	}
	checkOutageLog(t, w)

	d := e.start("drain", "worker", "run", "--config", cfg, "--drain", "--concurrency", "64", "--lease", "30s")
	if code := d.wait(60 * time.Second); code != 0 {
		t.Errorf("draining worker exited %d, want 0", code)
	}
	e.checkOnce(appends)
}

// TestWorkerOutageShutdownTimeout: a worker stopped while the database is
// down, which stays down past --shutdown-timeout, gives up when the timeout
// passes: exit 1, naming how many jobs will be rescued; exactly those are
// left RUNNING, for the rescue after the lease.
func TestWorkerOutageShutdownTimeout(t *testing.T) {
	t.Parallel()
	e, db := newOutageEnv(t)
	cfg := e.writeConfig("worker.yaml", outageConfig)
	e.enqueueMix(100, 300)

	w := e.start("w1", "worker", "run", "--config", cfg, "--concurrency", "8", "--lease", "30s", "--shutdown-timeout", "2s")
	e.waitLines("ids.txt", 2, 30*time.Second)
	db.down()
	time.Sleep(500 * time.Millisecond)
	w.signal(syscall.SIGTERM)
	stopped := time.Now()
	code := w.wait(15 * time.Second)
	took := time.Since(stopped)
	db.up()
	if code != 1 {
		t.Errorf("worker exited %d, want 1", code)
	}
	if took < 1500*time.Millisecond {
		t.Errorf("worker gave up after %v; want it to try for the 2s shutdown timeout", took)
	}
	m := regexp.MustCompile(`(?m)^jobctl: worker stopped with (\d+) outcomes? unwritten: those jobs will be rescued after the lease$`).FindStringSubmatch(w.stderr.String())
	if m == nil {
		t.Fatalf("worker's last words do not name the jobs to be rescued:\n%s", lastChars(w.stderr.String(), 2000))
	}
	running := len(e.jobs("--status", "running"))
	if strconv.Itoa(running) != m[1] || running == 0 {
		t.Errorf("worker said %s outcomes are unwritten; %d jobs are RUNNING", m[1], running)
	}
}

// TestWorkerOutageListenCatchUp: a job enqueued while the worker's LISTEN
// connection was down notified nobody; once the worker subscribes again it
// claims at once, not at its next poll a minute later. The job is inserted
// during the outage through a session the outage spares.
func TestWorkerOutageListenCatchUp(t *testing.T) {
	t.Parallel()
	e, db := newOutageEnv(t)
	cfg := e.writeConfig("worker.yaml", outageConfig)
	w := e.start("w1", "worker", "run", "--config", cfg, "--poll-interval", "60s", "--lease", "30s")
	first := e.enqueue("Append")
	e.waitLines("ids.txt", 1, 30*time.Second) // running, and subscribed

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	db.keep = conn.PgConn().PID()
	db.down()
	time.Sleep(2 * time.Second)
	var id string
	if err := conn.QueryRow(ctx, `INSERT INTO "Job" (type) VALUES ('Append') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	db.up()
	back := time.Now()
	e.waitLines("ids.txt", 2, 20*time.Second)
	t.Logf("job enqueued during the outage ran %v after it ended (poll interval 60s)", time.Since(back).Round(time.Millisecond))
	if got := e.lines("ids.txt"); got[0] != first || got[1] != id {
		t.Errorf("ids.txt = %q; want %s then %s", got, first, id)
	}
	w.signal(syscall.SIGTERM)
	if code := w.wait(30 * time.Second); code != 0 {
		t.Errorf("worker exited %d, want 0", code)
	}
	checkOutageLog(t, w)
}
