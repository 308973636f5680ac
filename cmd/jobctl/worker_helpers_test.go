//go:build unix

package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

// The helpers below run the jobctl binary TestMain built (in binDir) as
// separate processes, the way operators and process supervisors do: one
// store shared by several processes, real signals, real kill -9.

// workerEnv is one test's store and working directory. Every process runs
// in dir, so exec handlers (which inherit the worker's directory) read and
// write files there by relative name.
type workerEnv struct {
	t       *testing.T
	backend string
	dir     string
	env     []string
}

// bothBackends runs fn as two parallel subtests, on a fresh SQLite file and
// on a fresh, migrated Postgres schema.
func bothBackends(t *testing.T, fn func(t *testing.T, e *workerEnv)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			fn(t, newWorkerEnv(t, backend))
		})
	}
}

func newWorkerEnv(t *testing.T, backend string) *workerEnv {
	t.Helper()
	e := newBareEnv(t, backend)
	switch backend {
	case "sqlite":
		e.env = append(e.env, "JOBCTL_DATABASE_URL=sqlite:"+filepath.Join(e.dir, "jobs.db"))
	case "postgres":
		dsn, schema := pgtest.Schema(t) // skips without a database (fails under CI)
		e.env = append(e.env, "JOBCTL_DATABASE_URL="+dsn, "JOBCTL_SCHEMA="+schema)
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	e.mustRun("", "migrate")
	return e
}

// newBareEnv is a working directory and an environment cleared of the
// user's jobctl settings, with no store chosen yet.
func newBareEnv(t *testing.T, backend string) *workerEnv {
	t.Helper()
	dir := t.TempDir()
	e := &workerEnv{t: t, backend: backend, dir: dir}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "JOBCTL_"), k == "DATABASE_URL", k == "HOME", k == "XDG_DATA_HOME", k == "NO_COLOR":
			continue
		}
		e.env = append(e.env, kv)
	}
	// The default store must never be the real user's.
	e.env = append(e.env, "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, ".local", "share"), "NO_COLOR=1")
	return e
}

func jobctlBin() string { return filepath.Join(binDir, "jobctl") }

// cliResult is how a finished jobctl process ended.
type cliResult struct {
	stdout, stderr string
	code           int
}

// run runs jobctl to completion with stdin and returns its output and exit
// code.
func (e *workerEnv) run(stdin string, args ...string) cliResult {
	e.t.Helper()
	return runCLI(e.t, e.dir, e.env, stdin, args...)
}

// runCLI runs jobctl in dir with env and stdin, to completion or a
// minute, and returns how it ended; a process that could not run or was
// killed by the minute fails the test.
func runCLI(t *testing.T, dir string, env []string, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, jobctlBin(), args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		res.code = ee.ExitCode()
	default:
		t.Fatalf("jobctl %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	return res
}

// mustRun runs jobctl and fails the test unless it exits 0.
func (e *workerEnv) mustRun(stdin string, args ...string) string {
	e.t.Helper()
	r := e.run(stdin, args...)
	if r.code != 0 {
		e.t.Fatalf("jobctl %s exited %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// enqueue adds one job and returns its ID.
func (e *workerEnv) enqueue(jobType string, flags ...string) string {
	e.t.Helper()
	id := strings.TrimSpace(e.mustRun("", append([]string{"enqueue", jobType, "-q"}, flags...)...))
	if !strings.HasPrefix(id, "job_") || strings.Contains(id, "\n") {
		e.t.Fatalf("enqueue %s printed %q, want one job ID", jobType, id)
	}
	return id
}

// enqueueN adds n jobs of jobType in bulk (JSONL on stdin) and returns
// their IDs.
func (e *workerEnv) enqueueN(jobType string, n int) []string {
	e.t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"type":%q,"data":{"n":%d}}`+"\n", jobType, i)
	}
	if r := e.run(b.String(), "enqueue", "--from", "-"); r.code != 0 || !strings.Contains(r.stderr, "Enqueued") {
		e.t.Fatalf("enqueue --from -: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	jobs := e.jobs("--type", jobType)
	if len(jobs) != n {
		e.t.Fatalf("enqueued %d %s jobs, list shows %d", n, jobType, len(jobs))
	}
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return ids
}

// jobJSON is a job as `list -o json` and `show -o json` print it.
type jobJSON struct {
	ID           string        `json:"id"`
	Type         string        `json:"type"`
	Status       string        `json:"status"`
	Priority     string        `json:"priority"`
	ErrorMessage string        `json:"errorMessage"`
	ErrorCode    string        `json:"errorCode"`
	ErrorStack   string        `json:"errorStack"`
	Attempts     int           `json:"attempts"`
	MaxAttempts  int           `json:"maxAttempts"`
	ScheduledFor time.Time     `json:"scheduledFor"`
	CreatedAt    time.Time     `json:"createdAt"`
	StartedAt    *time.Time    `json:"startedAt"`
	CompletedAt  *time.Time    `json:"completedAt"`
	WorkerID     string        `json:"workerId"`
	UniqueKey    string        `json:"uniqueKey"`
	History      []attemptJSON `json:"errorHistory"`
}

type attemptJSON struct {
	Attempt  int       `json:"attempt"`
	At       time.Time `json:"at"`
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	WorkerID string    `json:"workerId"`
}

// jobs lists jobs (all of them, up to 10,000) with extra list flags.
func (e *workerEnv) jobs(flags ...string) []jobJSON {
	e.t.Helper()
	out := e.mustRun("", append([]string{"list", "-o", "json", "--limit", "10000"}, flags...)...)
	var jobs []jobJSON
	if err := json.Unmarshal([]byte(out), &jobs); err != nil {
		e.t.Fatalf("list -o json: %v\n%.2000s", err, out)
	}
	return jobs
}

// byID indexes jobs by ID.
func byID(jobs []jobJSON) map[string]jobJSON {
	m := make(map[string]jobJSON, len(jobs))
	for _, j := range jobs {
		m[j.ID] = j
	}
	return m
}

// statusCounts summarises jobs for failure messages: "COMPLETED=3 RUNNING=1".
func statusCounts(jobs []jobJSON) string {
	counts := map[string]int{}
	for _, j := range jobs {
		counts[j.Status]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, counts[k])
	}
	return strings.Join(parts, " ")
}

// waitJobs lists jobs until ok accepts them or timeout passes.
func (e *workerEnv) waitJobs(timeout time.Duration, what string, ok func(map[string]jobJSON) bool) map[string]jobJSON {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		jobs := e.jobs()
		m := byID(jobs)
		if ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("after %v, still not %s: %s\n%s", timeout, what, statusCounts(jobs), jobsSummary(jobs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func jobsSummary(jobs []jobJSON) string {
	if len(jobs) > 20 {
		return ""
	}
	var b strings.Builder
	for _, j := range jobs {
		fmt.Fprintf(&b, "  %s %s %s attempts=%d worker=%s error=%s %s\n", j.ID, j.Type, j.Status, j.Attempts, j.WorkerID, j.ErrorCode, j.ErrorMessage)
	}
	return b.String()
}

// allStatus reports whether every one of ids is in status st.
func allStatus(m map[string]jobJSON, st string, ids ...string) bool {
	for _, id := range ids {
		if m[id].Status != st {
			return false
		}
	}
	return true
}

// workerJSON is a row of `worker list -o json`.
type workerJSON struct {
	ID          string    `json:"id"`
	Host        string    `json:"host"`
	PID         int       `json:"pid"`
	StartedAt   time.Time `json:"startedAt"`
	LastPing    time.Time `json:"lastPing"`
	Types       []string  `json:"types"`
	Concurrency int       `json:"concurrency"`
	JobsDone    int64     `json:"jobsDone"`
	Running     int64     `json:"running"`
}

func (e *workerEnv) workers() []workerJSON {
	e.t.Helper()
	out := e.mustRun("", "worker", "list", "-o", "json")
	var ws []workerJSON
	if err := json.Unmarshal([]byte(out), &ws); err != nil {
		e.t.Fatalf("worker list -o json: %v\n%s", err, out)
	}
	return ws
}

// workerByPID waits for the worker process pid to register and returns its
// row once ok accepts it.
func (e *workerEnv) workerByPID(pid int, timeout time.Duration, ok func(workerJSON) bool) workerJSON {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		last := e.workers()
		for _, w := range last {
			if w.PID == pid && ok(w) {
				return w
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("after %v, no matching worker with pid %d: %+v", timeout, pid, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeConfig writes a worker config file into the test's directory.
func (e *workerEnv) writeConfig(name, yaml string) string {
	e.t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// shHandler is the YAML of an exec handler running script with sh -c, in
// the worker's directory.
func shHandler(script string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode([]string{"sh", "-c", script})
	return "{exec: " + strings.TrimSpace(b.String()) + "}"
}

// lines reads a file of the test's directory as lines; a missing file has
// none.
func (e *workerEnv) lines(name string) []string {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// touch creates a file in the test's directory.
func (e *workerEnv) touch(name string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, name), nil, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// killRecordedGroups, at cleanup, SIGKILLs the process groups whose leader
// PIDs handlers appended to file: a safety net, should a handler outlive its
// worker (TestWorkerKillKillsHandlers proves none does), so none outlives
// the test.
func (e *workerEnv) killRecordedGroups(file string) {
	e.t.Cleanup(func() {
		for _, l := range e.lines(file) {
			if pid, err := strconv.Atoi(strings.TrimSpace(l)); err == nil && pid > 1 {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		}
	})
}

// processGone reports whether pid has exited (or is a zombie awaiting a
// reaper).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z'
	}
	return false
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// workerProc is a jobctl process running in the background.
type workerProc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdout lockedBuffer
	stderr lockedBuffer
	done   chan struct{}
	err    error
	exited time.Time
}

// start starts jobctl in the background. At cleanup a process still running
// is killed, and the output of every process is logged if the test failed.
func (e *workerEnv) start(name string, args ...string) *workerProc {
	e.t.Helper()
	p := &workerProc{t: e.t, name: name, done: make(chan struct{})}
	p.cmd = exec.Command(jobctlBin(), args...)
	p.cmd.Dir = e.dir
	p.cmd.Env = e.env
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		e.t.Fatalf("start jobctl %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.exited = time.Now()
		close(p.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if e.t.Failed() {
			e.t.Logf("worker %s (pid %d) stderr:\n%s", p.name, p.cmd.Process.Pid, lastChars(p.stderr.String(), 4000))
		}
	})
	return p
}

func lastChars(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func (p *workerProc) pid() int { return p.cmd.Process.Pid }

func (p *workerProc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v to %s: %v", sig, p.name, err)
	}
}

// running reports whether the process has not exited yet.
func (p *workerProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// wait waits up to timeout for the process to exit and returns its exit
// code (-1 for a signal).
func (p *workerProc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("worker %s still running after %v\nstderr:\n%s", p.name, timeout, lastChars(p.stderr.String(), 4000))
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	}
	p.t.Fatalf("worker %s: %v", p.name, p.err)
	return -1
}

// waitStderr waits until the process's stderr contains s.
func (p *workerProc) waitStderr(s string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.stderr.String(), s) {
		if !p.running() || time.Now().After(deadline) {
			p.t.Fatalf("worker %s: stderr never said %q\nstderr:\n%s", p.name, s, lastChars(p.stderr.String(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
