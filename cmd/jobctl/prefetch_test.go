//go:build unix

package main_test

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWorkerPrefetchRescue: a worker with two slots claims ten jobs, two
// to run and eight prefetched, all RUNNING under it. Killed with SIGKILL,
// it leaves all ten held under a lease no one renews; another worker
// rescues the prefetched ones exactly like the two that ran (WORKER_LOST,
// the attempt counted) and every job ends COMPLETED, its handler having
// succeeded exactly once.
func TestWorkerPrefetchRescue(t *testing.T) {
	t.Parallel()
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		e.killRecordedGroups("pids.txt")
		cfg := e.writeConfig("worker.yaml", `jobs:
  Crash:
    handler: `+shHandler(`if [ "$JOB_ATTEMPT" = 1 ]; then echo $$ >> pids.txt; exec sleep 60; fi; echo $JOB_ID >> done.txt`)+`
    backoffBase: 100ms
`)
		ids := e.enqueueN("Crash", 10)

		a := e.start("A", "worker", "run", "--config", cfg, "--concurrency", "2", "--prefetch", "8",
			"--lease", "2s", "--heartbeat", "300ms", "--poll-interval", "100ms")
		wa := e.workerByPID(a.pid(), 15*time.Second, func(workerJSON) bool { return true })
		e.waitJobs(15*time.Second, "all ten RUNNING under worker A", func(m map[string]jobJSON) bool {
			for _, id := range ids {
				if m[id].Status != "RUNNING" || m[id].WorkerID != wa.ID {
					return false
				}
			}
			return true
		})
		for deadline := time.Now().Add(10 * time.Second); len(e.lines("pids.txt")) < 2; {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of 2 handlers started", len(e.lines("pids.txt")))
			}
			time.Sleep(20 * time.Millisecond)
		}
		// Two run, eight wait in A's prefetch queue, and stay there: its
		// slots are taken for a minute.
		time.Sleep(300 * time.Millisecond)
		if n := len(e.lines("pids.txt")); n != 2 {
			t.Fatalf("%d handlers started with 2 slots", n)
		}
		a.signal(syscall.SIGKILL)
		if code := a.wait(5 * time.Second); code != -1 {
			t.Fatalf("worker A exited %d after kill -9", code)
		}

		b := e.start("B", "worker", "run", "--config", cfg, "--drain", "--lease", "2s",
			"--concurrency", "4", "--poll-interval", "100ms")
		if code := b.wait(30 * time.Second); code != 0 {
			t.Fatalf("worker B exited %d, want 0", code)
		}

		done := map[string]int{}
		for _, id := range e.lines("done.txt") {
			done[id]++
		}
		m := byID(e.jobs())
		for _, id := range ids {
			j := m[id]
			if j.Status != "COMPLETED" || j.Attempts != 2 {
				t.Errorf("%s is %s after %d attempts, want COMPLETED after 2", id, j.Status, j.Attempts)
			}
			if done[id] != 1 {
				t.Errorf("%s's handler succeeded %d times, want once", id, done[id])
			}
			if len(j.History) != 1 || j.History[0].Code != "WORKER_LOST" || !strings.Contains(j.History[0].Message, wa.ID) {
				t.Errorf("%s errorHistory = %+v, want one WORKER_LOST naming %s", id, j.History, wa.ID)
			}
		}
		if len(done) != len(ids) {
			t.Errorf("%d distinct jobs succeeded, want %d", len(done), len(ids))
		}
	})
}
