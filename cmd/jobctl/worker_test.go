//go:build unix

package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Process-level tests of `jobctl worker run`: the built binary, several
// processes sharing one store, real signals and kill -9, on SQLite and on
// Postgres.

// TestWorkerExactlyOnce: three worker processes, eight slots each, drain
// 5,000 jobs; every job runs exactly once and ends COMPLETED.
//
// Not parallel with the other worker tests: it keeps every CPU busy, and
// those measure timings.
func TestWorkerExactlyOnce(t *testing.T) {
	const n = 5000
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		// Appends of short lines with O_APPEND are atomic.
		cfg := e.writeConfig("worker.yaml", `jobs:
  Append:
    handler: `+shHandler(`echo "$JOB_ID" >> ids.txt`)+`
`)
		ids := e.enqueueN("Append", n)

		t0 := time.Now()
		var ws []*workerProc
		for i := range 3 {
			ws = append(ws, e.start("w"+strconv.Itoa(i+1), "worker", "run", "--config", cfg,
				"--drain", "--concurrency", "8", "--log-level", "warn"))
		}
		for _, w := range ws {
			if code := w.wait(120 * time.Second); code != 0 {
				t.Errorf("worker %s exited %d, want 0\nstderr:\n%s", w.name, code, lastChars(w.stderr.String(), 2000))
			} else if s := w.stderr.String(); s != "" {
				t.Errorf("worker %s logged warnings:\n%s", w.name, lastChars(s, 2000))
			}
		}
		t.Logf("%s: %d jobs, 3 workers x 8 slots, drained in %v", e.backend, n, time.Since(t0).Round(time.Millisecond))

		ran := map[string]int{}
		for _, l := range e.lines("ids.txt") {
			ran[l]++
		}
		want := map[string]bool{}
		for _, id := range ids {
			want[id] = true
			if c := ran[id]; c != 1 {
				t.Errorf("%s ran %d times, want exactly once", id, c)
			}
		}
		for id, c := range ran {
			if !want[id] {
				t.Errorf("handler ran for unknown job %q (%d times)", id, c)
			}
		}

		jobs := e.jobs()
		if len(jobs) != n {
			t.Fatalf("list shows %d jobs, want %d", len(jobs), n)
		}
		perWorker := map[string]int{}
		for _, j := range jobs {
			if j.Status != "COMPLETED" || j.Attempts != 1 {
				t.Errorf("%s is %s after %d attempts, want COMPLETED after 1", j.ID, j.Status, j.Attempts)
			}
			perWorker[j.WorkerID]++
		}
		t.Logf("%s: jobs per worker: %v", e.backend, perWorker)
		if len(perWorker) < 2 {
			t.Errorf("only %d worker process did any work (%v): the processes did not share the queue", len(perWorker), perWorker)
		}
	})
}

// TestWorkerCrashRescue: a worker killed with -9 holding ten jobs; another
// worker rescues them once the lease runs out (a failed attempt with code
// WORKER_LOST) and completes them on attempt 2. Nothing is lost.
func TestWorkerCrashRescue(t *testing.T) {
	t.Parallel()
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		e.killRecordedGroups("pids.txt")
		cfg := e.writeConfig("worker.yaml", `jobs:
  Crash:
    handler: `+shHandler(`if [ "$JOB_ATTEMPT" = 1 ]; then echo $$ >> pids.txt; exec sleep 60; fi`)+`
    backoffBase: 100ms
`)
		ids := e.enqueueN("Crash", 10)

		a := e.start("A", "worker", "run", "--config", cfg, "--concurrency", "10",
			"--lease", "2s", "--heartbeat", "300ms", "--poll-interval", "100ms")
		wa := e.workerByPID(a.pid(), 15*time.Second, func(workerJSON) bool { return true })
		e.waitJobs(15*time.Second, "all RUNNING under worker A", func(m map[string]jobJSON) bool {
			for _, id := range ids {
				if m[id].Status != "RUNNING" || m[id].WorkerID != wa.ID {
					return false
				}
			}
			return true
		})
		// Let every handler get going, then pull the plug.
		for deadline := time.Now().Add(10 * time.Second); len(e.lines("pids.txt")) < len(ids); {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d handlers started", len(e.lines("pids.txt")), len(ids))
			}
			time.Sleep(20 * time.Millisecond)
		}
		a.signal(syscall.SIGKILL)
		killed := time.Now()
		if code := a.wait(5 * time.Second); code != -1 {
			t.Fatalf("worker A exited %d after kill -9", code)
		}

		b := e.start("B", "worker", "run", "--config", cfg, "--drain", "--lease", "2s",
			"--concurrency", "10", "--poll-interval", "100ms")
		if code := b.wait(30 * time.Second); code != 0 {
			t.Fatalf("worker B exited %d, want 0", code)
		}
		t.Logf("%s: B rescued and drained %d jobs %v after the kill", e.backend, len(ids), time.Since(killed).Round(time.Millisecond))

		m := byID(e.jobs())
		for _, id := range ids {
			j := m[id]
			if j.Status != "COMPLETED" || j.Attempts != 2 {
				t.Errorf("%s is %s after %d attempts, want COMPLETED after 2", id, j.Status, j.Attempts)
				continue
			}
			if j.WorkerID == wa.ID {
				t.Errorf("%s completed under the dead worker %s", id, wa.ID)
			}
			if len(j.History) != 1 {
				t.Errorf("%s has %d failed attempts in errorHistory, want 1: %+v", id, len(j.History), j.History)
				continue
			}
			h := j.History[0]
			if h.Attempt != 1 || h.Code != "WORKER_LOST" || !strings.Contains(h.Message, wa.ID) {
				t.Errorf("%s errorHistory[0] = %+v, want attempt 1, WORKER_LOST, naming %s", id, h, wa.ID)
			}
			// A's last ping was at most one heartbeat before the kill; the
			// rescue must wait out the 2s lease from there.
			if d := h.At.Sub(killed); d < 1500*time.Millisecond {
				t.Errorf("%s rescued %v after the kill, before the 2s lease ran out", id, d)
			}
		}
	})
}

// TestWorkerGracefulShutdown: SIGTERM with --shutdown-timeout 1s. A job that
// finishes within the timeout is COMPLETED; one that does not is stopped
// (its process group killed) and handed back PENDING with its attempt not
// counted. The worker exits 0.
func TestWorkerGracefulShutdown(t *testing.T) {
	t.Parallel()
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		e.killRecordedGroups("pids.txt")
		cfg := e.writeConfig("worker.yaml", `jobs:
  Slow:
    handler: `+shHandler(`echo $$ >> pids.txt; exec sleep 60`)+`
  Quick:
    handler: `+shHandler(`while [ ! -e release ]; do sleep 0.02; done; echo '{"ok":true}'`)+`
`)
		slow := e.enqueue("Slow")
		quick := e.enqueue("Quick")
		w := e.start("w", "worker", "run", "--config", cfg, "--shutdown-timeout", "1s",
			"--poll-interval", "100ms", "--heartbeat", "300ms")
		e.waitJobs(15*time.Second, "both RUNNING", func(m map[string]jobJSON) bool {
			return allStatus(m, "RUNNING", slow, quick) && len(e.lines("pids.txt")) == 1
		})

		w.signal(syscall.SIGTERM)
		sent := time.Now()
		// Quick finishes during the grace period; Slow never does.
		e.touch("release")
		code := w.wait(10 * time.Second)
		took := w.exited.Sub(sent)
		if code != 0 {
			t.Errorf("worker exited %d after SIGTERM, want 0", code)
		}
		if took < 900*time.Millisecond || took > 4*time.Second {
			t.Errorf("worker exited %v after SIGTERM, want about the 1s shutdown timeout", took)
		}
		t.Logf("%s: exited %d, %v after SIGTERM", e.backend, code, took.Round(time.Millisecond))

		m := byID(e.jobs())
		if j := m[quick]; j.Status != "COMPLETED" || j.Attempts != 1 {
			t.Errorf("quick job is %s after %d attempts, want COMPLETED after 1", j.Status, j.Attempts)
		}
		j := m[slow]
		if j.Status != "PENDING" || j.Attempts != 0 || j.WorkerID != "" || j.StartedAt != nil || len(j.History) != 0 || j.ErrorCode != "" {
			t.Errorf("slow job after shutdown: status %s, attempts %d, worker %q, startedAt %v, error %q, history %v; want PENDING, 0 attempts, no worker, no start, no error",
				j.Status, j.Attempts, j.WorkerID, j.StartedAt, j.ErrorCode, j.History)
		}
		if !strings.Contains(w.stderr.String(), "job handed back") {
			t.Errorf("worker did not log the hand-back:\n%s", w.stderr.String())
		}
		// The handler's process group was killed, not left behind.
		pid, _ := strconv.Atoi(e.lines("pids.txt")[0])
		for deadline := time.Now().Add(3 * time.Second); !processGone(pid); {
			if time.Now().After(deadline) {
				t.Errorf("the slow job's handler (pid %d) outlived the worker", pid)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if ws := e.workers(); len(ws) != 0 {
			t.Errorf("worker still registered after a graceful stop: %+v", ws)
		}
	})
}

// TestWorkerSecondSignal: SIGTERM, then SIGINT while waiting for a running
// job with a long --shutdown-timeout: the worker stops at once, exits
// non-zero, and leaves the job RUNNING; another worker rescues it after the
// lease and completes it.
func TestWorkerSecondSignal(t *testing.T) {
	t.Parallel()
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		e.killRecordedGroups("pids.txt")
		cfg := e.writeConfig("worker.yaml", `jobs:
  Slow:
    handler: `+shHandler(`if [ "$JOB_ATTEMPT" = 1 ]; then echo $$ >> pids.txt; exec sleep 60; fi`)+`
    backoffBase: 100ms
`)
		id := e.enqueue("Slow")
		a := e.start("A", "worker", "run", "--config", cfg, "--shutdown-timeout", "60s",
			"--poll-interval", "100ms", "--heartbeat", "300ms")
		m := e.waitJobs(15*time.Second, "RUNNING", func(m map[string]jobJSON) bool {
			return allStatus(m, "RUNNING", id) && len(e.lines("pids.txt")) == 1
		})
		owner := m[id].WorkerID

		a.signal(syscall.SIGTERM)
		a.waitStderr("waiting for running jobs", 5*time.Second)
		a.signal(syscall.SIGINT)
		sent := time.Now()
		code := a.wait(10 * time.Second)
		took := a.exited.Sub(sent)
		if code == 0 {
			t.Errorf("worker exited 0 after a second signal, want non-zero")
		}
		if took > 3*time.Second {
			t.Errorf("worker took %v to exit after the second signal, want promptly", took)
		}
		stderr := a.stderr.String()
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "jobctl: ") || !strings.Contains(last, "rescued") {
			t.Errorf("last stderr line %q, want jobctl's one-line error saying the jobs will be rescued", last)
		}
		// The second signal is not the shutdown timeout: nothing is handed
		// back (that would race the process's exit).
		for _, bad := range []string{"handing running jobs back", "job handed back", "level=ERROR"} {
			if strings.Contains(stderr, bad) {
				t.Errorf("after a second signal the worker logged %q:\n%s", bad, stderr)
			}
		}
		t.Logf("%s: exited %d, %v after the second signal", e.backend, code, took.Round(time.Millisecond))

		j := byID(e.jobs())[id]
		if j.Status != "RUNNING" || j.WorkerID != owner || j.Attempts != 1 {
			t.Fatalf("after a hard stop the job is %s under %q after %d attempts, want RUNNING under %s after 1", j.Status, j.WorkerID, j.Attempts, owner)
		}

		b := e.start("B", "worker", "run", "--config", cfg, "--drain", "--lease", "1s", "--poll-interval", "100ms")
		if code := b.wait(30 * time.Second); code != 0 {
			t.Fatalf("worker B exited %d, want 0", code)
		}
		j = byID(e.jobs())[id]
		if j.Status != "COMPLETED" || j.Attempts != 2 {
			t.Errorf("job is %s after %d attempts, want COMPLETED after 2", j.Status, j.Attempts)
		}
		if len(j.History) != 1 || j.History[0].Code != "WORKER_LOST" || j.History[0].Attempt != 1 {
			t.Errorf("errorHistory %+v, want one WORKER_LOST for attempt 1", j.History)
		}
	})
}

// TestWorkerRetries: the retry policy across real processes. NETWORK_ERROR
// retries with exponential backoff from 200ms until DEAD at attempt 5;
// AUTH_ERROR is never retried; a handler past its timeout fails with
// TIMEOUT.
func TestWorkerRetries(t *testing.T) {
	t.Parallel()
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		cfg := e.writeConfig("worker.yaml", `jobs:
  Net:
    handler: `+shHandler(`echo '{"code":"NETWORK_ERROR","message":"Network timeout"}' >&2; exit 1`)+`
    backoffBase: 200ms
  Auth:
    handler: `+shHandler(`echo "checking token" >&2; echo '{"code":"AUTH_ERROR","message":"Invalid credentials"}' >&2; exit 1`)+`
    backoffBase: 200ms
  Slow:
    handler: {exec: ["sleep", "5"]}
    timeout: 300ms
    backoffBase: 10s
`)
		net := e.enqueue("Net")
		auth := e.enqueue("Auth")
		slow := e.enqueue("Slow")
		w := e.start("w", "worker", "run", "--config", cfg, "--poll-interval", "100ms",
			"--shutdown-timeout", "2s", "--log-level", "warn")
		m := e.waitJobs(20*time.Second, "Net DEAD, Auth FAILED, Slow timed out", func(m map[string]jobJSON) bool {
			return m[net].Status == "DEAD" && m[auth].Status == "FAILED" && len(m[slow].History) > 0
		})
		w.signal(syscall.SIGTERM)
		if code := w.wait(10 * time.Second); code != 0 {
			t.Errorf("worker exited %d after SIGTERM, want 0", code)
		}

		j := m[net]
		if j.Attempts != 5 || j.ErrorCode != "NETWORK_ERROR" || j.ErrorMessage != "Network timeout" {
			t.Errorf("Net: %d attempts, error %s %q; want 5, NETWORK_ERROR \"Network timeout\"", j.Attempts, j.ErrorCode, j.ErrorMessage)
		}
		if len(j.History) != 5 {
			t.Fatalf("Net errorHistory has %d entries, want 5: %+v", len(j.History), j.History)
		}
		var gaps []string
		for i, h := range j.History {
			if h.Attempt != i+1 || h.Code != "NETWORK_ERROR" || h.Message != "Network timeout" {
				t.Errorf("Net errorHistory[%d] = %+v, want attempt %d NETWORK_ERROR", i, h, i+1)
			}
			if i == 0 {
				continue
			}
			gap := h.At.Sub(j.History[i-1].At)
			want := 200 * time.Millisecond << (i - 1) // 200, 400, 800, 1600ms
			gaps = append(gaps, gap.Round(time.Millisecond).String())
			if gap < want-10*time.Millisecond || gap > want+700*time.Millisecond {
				t.Errorf("Net: attempt %d failed %v after attempt %d, want the %v backoff (-10ms/+700ms)", i+1, gap, i, want)
			}
		}
		t.Logf("%s: Net retry gaps %v", e.backend, gaps)

		j = m[auth]
		if j.Attempts != 1 || j.ErrorCode != "AUTH_ERROR" || j.ErrorMessage != "Invalid credentials" || len(j.History) != 1 {
			t.Errorf("Auth: %s after %d attempts, error %s %q, %d history entries; want FAILED after 1, AUTH_ERROR \"Invalid credentials\"",
				j.Status, j.Attempts, j.ErrorCode, j.ErrorMessage, len(j.History))
		}
		if j.ErrorStack != "checking token" {
			t.Errorf("Auth errorStack = %q, want the handler's other stderr (\"checking token\")", j.ErrorStack)
		}

		j = m[slow]
		h := j.History[0]
		if h.Code != "TIMEOUT" || h.Message != "Execution time limit exceeded" || j.ErrorCode != "TIMEOUT" || j.ErrorMessage != "Execution time limit exceeded" {
			t.Errorf("Slow: error %s %q, history[0] %+v; want TIMEOUT \"Execution time limit exceeded\"", j.ErrorCode, j.ErrorMessage, h)
		}
		if j.Status != "RETRYING" {
			t.Errorf("Slow is %s, want RETRYING (TIMEOUT is retryable; the next try is 10s away)", j.Status)
		}
		if d := h.At.Sub(j.CreatedAt); d < 300*time.Millisecond || d > 4*time.Second {
			t.Errorf("Slow timed out %v after it was created: want after 300ms, well before the handler's 5s", d)
		}
	})
}

// TestWorkerConfigMaxAttempts: a type's maxAttempts in the config file is
// its retry budget (jobctl.example.yaml: "maxAttempts: 3 … then DEAD at
// attempt 3") for jobs enqueued without --max-attempts by a jobctl that
// reads the same config.
func TestWorkerConfigMaxAttempts(t *testing.T) {
	t.Parallel()
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		cfg := e.writeConfig("worker.yaml", `jobs:
  Flaky:
    handler: `+shHandler(`echo '{"code":"NETWORK_ERROR","message":"Network timeout"}' >&2; exit 1`)+`
    maxAttempts: 2
    backoffBase: 100ms
`)
		// enqueue reads the same config: the type's budget lands on the job.
		id := e.enqueue("Flaky", "--config", cfg)
		w := e.start("w", "worker", "run", "--config", cfg, "--poll-interval", "100ms", "--log-level", "warn")
		m := e.waitJobs(15*time.Second, "DEAD or past 2 attempts", func(m map[string]jobJSON) bool {
			return m[id].Status == "DEAD" || m[id].Attempts > 2
		})
		w.signal(syscall.SIGTERM)
		w.wait(10 * time.Second)
		if j := m[id]; j.Status != "DEAD" || j.Attempts != 2 {
			t.Errorf("config maxAttempts: 2, yet the job is %s after %d attempts (its maxAttempts %d); want DEAD after 2",
				j.Status, j.Attempts, j.MaxAttempts)
		}
	})
}

// TestWorkerScheduling: priorities, delays, dependencies and unique keys,
// set through the CLI and honoured by a worker with one slot.
func TestWorkerScheduling(t *testing.T) {
	t.Parallel()
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		cfg := e.writeConfig("worker.yaml", `jobs:
  Rec:
    handler: `+shHandler(`echo "$JOB_ID" >> order.txt`)+`
`)
		low := e.enqueue("Rec", "--priority", "LOW")
		normal := e.enqueue("Rec", "--priority", "NORMAL")
		high := e.enqueue("Rec", "--priority", "HIGH")
		critical := e.enqueue("Rec", "--priority", "CRITICAL")
		dep := e.enqueue("Rec", "--priority", "LOW", "--data", `{"step":1}`)
		after := e.enqueue("Rec", "--priority", "CRITICAL", "--depends-on", dep, "--data", `{"step":2}`)
		// --delay counts from when the command runs, not from the insert,
		// which a loaded machine can hold up by a few hundred ms.
		beforeDelayed := time.Now()
		delayed := e.enqueue("Rec", "--priority", "CRITICAL", "--delay", "1s")
		uniq := e.enqueue("Rec", "--unique-key", "daily:2025-10-25")
		if again := e.enqueue("Rec", "--unique-key", "daily:2025-10-25"); again != uniq {
			t.Errorf("a second enqueue with the same unique key gave %s, want the live job %s", again, uniq)
		}
		all := []string{low, normal, high, critical, dep, after, delayed, uniq}
		if n := len(e.jobs()); n != len(all) {
			t.Errorf("%d jobs after enqueueing %d (one twice with a unique key), want %d", n, len(all)+1, len(all))
		}

		w := e.start("w", "worker", "run", "--config", cfg, "--concurrency", "1", "--poll-interval", "100ms", "--log-level", "warn")
		m := e.waitJobs(15*time.Second, "all COMPLETED", func(m map[string]jobJSON) bool {
			return allStatus(m, "COMPLETED", all...)
		})
		w.signal(syscall.SIGTERM)
		if code := w.wait(10 * time.Second); code != 0 {
			t.Errorf("worker exited %d after SIGTERM, want 0", code)
		}

		order := e.lines("order.txt")
		pos := map[string]int{}
		for i, id := range order {
			if _, dup := pos[id]; dup {
				t.Errorf("%s ran twice", id)
			}
			pos[id] = i
		}
		if len(order) != len(all) {
			t.Fatalf("ran %d jobs, want %d: %v", len(order), len(all), order)
		}
		if !(pos[critical] < pos[high] && pos[high] < pos[normal] && pos[normal] < pos[low]) {
			t.Errorf("ran CRITICAL at %d, HIGH at %d, NORMAL at %d, LOW at %d; want highest priority first",
				pos[critical], pos[high], pos[normal], pos[low])
		}
		if pos[after] < pos[dep] {
			t.Errorf("the CRITICAL job depending on %s ran before it", dep)
		}
		if a, d := m[after], m[dep]; a.StartedAt == nil || d.CompletedAt == nil || a.StartedAt.Before(*d.CompletedAt) {
			t.Errorf("dependent started at %v, before its dependency completed at %v", a.StartedAt, d.CompletedAt)
		}
		d := m[delayed]
		if lead := d.ScheduledFor.Sub(beforeDelayed); lead < 999*time.Millisecond {
			t.Errorf("--delay 1s scheduled the job %v after the command started", lead)
		}
		if d.StartedAt == nil || d.StartedAt.Before(d.ScheduledFor) {
			t.Errorf("--delay 1s job started at %v, before its time %v", d.StartedAt, d.ScheduledFor)
		}
		if u := m[uniq]; u.UniqueKey != "daily:2025-10-25" || u.Attempts != 1 {
			t.Errorf("unique job: key %q, %d attempts", u.UniqueKey, u.Attempts)
		}
	})
}

// TestWorkerConfigErrors: the worker refuses to start without a config file
// (exit 2, pointing at jobctl.example.yaml) or with a bad one (one line
// naming file:line: field).
func TestWorkerConfigErrors(t *testing.T) {
	t.Parallel()
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		oneLine := func(t *testing.T, r cliResult) string {
			t.Helper()
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
				t.Errorf("stderr is not exactly one line: %q", r.stderr)
			}
			return strings.TrimSpace(r.stderr)
		}

		t.Run("none", func(t *testing.T) {
			// e.dir holds no jobctl.yaml and the environment no JOBCTL_CONFIG.
			if _, err := os.Stat(filepath.Join(e.dir, "jobctl.yaml")); err == nil {
				t.Fatal("test directory has a jobctl.yaml")
			}
			r := e.run("", "worker", "run", "--drain")
			if r.code != 2 {
				t.Errorf("worker run without a config exited %d, want 2", r.code)
			}
			if msg := oneLine(t, r); !strings.Contains(msg, "jobctl.example.yaml") {
				t.Errorf("stderr %q does not point at jobctl.example.yaml", msg)
			}
		})

		t.Run("example handlers missing", func(t *testing.T) {
			// jobctl.example.yaml's ./handlers/* do not exist: the worker
			// refuses to start rather than burn the queue.
			example, err := filepath.Abs(filepath.Join("..", "..", "jobctl.example.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			id := e.enqueue("CalendarSync")
			r := e.run("", "worker", "run", "--drain", "--config", example)
			if r.code != 2 {
				t.Errorf("worker run --config jobctl.example.yaml exited %d, want 2", r.code)
			}
			want := "jobctl: worker: CalendarSync: handler ./handlers/calendar-sync: no such file (relative to the working directory " + e.dir + ")"
			if msg := oneLine(t, r); msg != want {
				t.Errorf("stderr %q, want %q", msg, want)
			}
			if j := byID(e.jobs())[id]; j.Status != "PENDING" || j.Attempts != 0 {
				t.Errorf("the CalendarSync job is %s after %d attempts; want PENDING, untouched", j.Status, j.Attempts)
			}
		})

		for _, tc := range []struct {
			name, yaml string
			line       int
			field      string
		}{
			{"bad duration", "jobs:\n  Sync:\n    handler: {builtin: noop}\n    timeout: banana\n", 4, "jobs.Sync.timeout"},
			{"unknown key", "jobs:\n  Sync:\n    handler: {builtin: noop}\n    maxAttempts: 3\n    retries: 3\n", 5, "jobs.Sync.retries"},
			{"no handler", "jobs:\n  Sync:\n    timeout: 30s\n", 2, "jobs.Sync.handler"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				path := e.writeConfig(strings.ReplaceAll(tc.name, " ", "-")+".yaml", tc.yaml)
				r := e.run("", "worker", "run", "--drain", "--config", path)
				if r.code == 0 {
					t.Fatalf("worker run with a bad config exited 0")
				}
				msg := oneLine(t, r)
				if want := path + ":" + strconv.Itoa(tc.line) + ": " + tc.field; !strings.Contains(msg, want) {
					t.Errorf("stderr %q does not name %q", msg, want)
				}
			})
		}
	})
}

// TestWorkerList: `worker list` shows a running worker (ID, host, PID,
// types, jobs in hand) and forgets it once it stops gracefully.
func TestWorkerList(t *testing.T) {
	t.Parallel()
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		cfg := e.writeConfig("worker.yaml", `jobs:
  Block:
    handler: `+shHandler(`while [ ! -e release ]; do sleep 0.02; done`)+`
  Noop:
    handler: {builtin: noop}
`)
		id := e.enqueue("Block")
		w := e.start("w", "worker", "run", "--config", cfg, "--concurrency", "3",
			"--heartbeat", "300ms", "--poll-interval", "100ms", "--log-level", "warn")
		row := e.workerByPID(w.pid(), 15*time.Second, func(w workerJSON) bool { return w.Running == 1 })
		host, _ := os.Hostname()
		if row.ID == "" || row.Host != host || !slices.Equal(row.Types, []string{"Block", "Noop"}) || row.Concurrency != 3 {
			t.Errorf("worker row %+v, want an ID, host %s, types [Block Noop], concurrency 3", row, host)
		}
		if time.Since(row.LastPing) > 30*time.Second {
			t.Errorf("worker lastPing %v is stale", row.LastPing)
		}
		if j := byID(e.jobs())[id]; j.Status != "RUNNING" || j.WorkerID != row.ID {
			t.Errorf("job is %s under %q, want RUNNING under %s", j.Status, j.WorkerID, row.ID)
		}

		table := e.mustRun("", "worker", "list")
		lines := strings.Split(strings.TrimSpace(table), "\n")
		header := strings.Split(lines[0], "\t")
		var cells []string
		for _, l := range lines[1:] {
			if c := strings.Split(l, "\t"); c[0] == row.ID {
				cells = c
			}
		}
		if len(cells) != len(header) {
			t.Fatalf("worker list has no row for %s:\n%s", row.ID, table)
		}
		got := map[string]string{}
		for i, h := range header {
			got[h] = cells[i]
		}
		for col, want := range map[string]string{"HOST": host, "PID": strconv.Itoa(w.pid()), "TYPES": "Block,Noop", "RUNNING": "1"} {
			if got[col] != want {
				t.Errorf("worker list %s = %q, want %q\n%s", col, got[col], want, table)
			}
		}

		e.touch("release")
		e.waitJobs(10*time.Second, "COMPLETED", func(m map[string]jobJSON) bool { return allStatus(m, "COMPLETED", id) })
		w.signal(syscall.SIGTERM)
		if code := w.wait(10 * time.Second); code != 0 {
			t.Fatalf("worker exited %d after SIGTERM, want 0", code)
		}
		if ws := e.workers(); len(ws) != 0 {
			t.Errorf("worker list -o json after a graceful stop: %+v, want none", ws)
		}
		if r := e.run("", "worker", "list"); r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "No workers registered") {
			t.Errorf("worker list after a graceful stop: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}

// TestWorkerLogJSON: with --log-format json every stderr line is a JSON
// object, and each job has its "job started" and "job completed" lines.
func TestWorkerLogJSON(t *testing.T) {
	t.Parallel()
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		cfg := e.writeConfig("worker.yaml", "jobs:\n  Noop:\n    handler: {builtin: noop}\n")
		ids := e.enqueueN("Noop", 3)
		w := e.start("w", "worker", "run", "--config", cfg, "--drain", "--log-format", "json")
		if code := w.wait(30 * time.Second); code != 0 {
			t.Fatalf("worker exited %d, want 0", code)
		}
		started, completed := map[string]bool{}, map[string]bool{}
		msgs := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSpace(w.stderr.String()), "\n") {
			var rec struct {
				Time   time.Time `json:"time"`
				Level  string    `json:"level"`
				Msg    string    `json:"msg"`
				Job    string    `json:"job"`
				Status string    `json:"status"`
				// Durations are seconds, the unit in the key.
				DurationS *float64 `json:"duration_s"`
				Duration  any      `json:"duration"`
			}
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Errorf("log line is not JSON (%v): %s", err, l)
				continue
			}
			if rec.Time.IsZero() || rec.Level == "" {
				t.Errorf("log line without time or level: %s", l)
			}
			msgs[rec.Msg] = true
			switch rec.Msg {
			case "job started":
				started[rec.Job] = true
			case "job completed":
				if rec.Status != "COMPLETED" {
					t.Errorf("job completed line with status %q: %s", rec.Status, l)
				}
				if rec.DurationS == nil || *rec.DurationS < 0 || *rec.DurationS > 30 || rec.Duration != nil {
					t.Errorf("job completed line without a duration_s in seconds: %s", l)
				}
				completed[rec.Job] = true
			}
		}
		for _, id := range ids {
			if !started[id] || !completed[id] {
				t.Errorf("%s: started logged %v, completed logged %v", id, started[id], completed[id])
			}
		}
		for _, m := range []string{"worker started", "worker stopped"} {
			if !msgs[m] {
				t.Errorf("no %q line", m)
			}
		}
	})
}
