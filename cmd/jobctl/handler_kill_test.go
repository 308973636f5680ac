//go:build linux

package main_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWorkerKillKillsHandlers: kill -9 of a worker running exec handlers
// that spawned a child and a grandchild each; within a second nothing they
// started is left running (the supervisor of each handler kills its process
// group when the worker's end of its lifeline closes), so a rescued job can
// never run beside its first run.
func TestWorkerKillKillsHandlers(t *testing.T) {
	t.Parallel()
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		// Every process a handler runs carries the marker in its command
		// line: the handler (in its script), the sleeps (as their argument).
		marker := strconv.Itoa(31_000_000 + rand.IntN(1_000_000))
		t.Cleanup(func() {
			for _, pid := range withMarker(marker) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		})
		cfg := e.writeConfig("worker.yaml", `jobs:
  Spawner:
    handler: `+shHandler(`sh -c 'sleep `+marker+`; :' &
sleep `+marker+` &
echo $$ >> pids.txt
wait`)+`
`)
		const n = 3
		e.enqueueN("Spawner", n)
		w := e.start("w", "worker", "run", "--config", cfg, "--concurrency", strconv.Itoa(n), "--poll-interval", "100ms")
		// n × (handler, its sh child, two sleeps)
		for deadline := time.Now().Add(15 * time.Second); len(withMarker(marker)) < 4*n || len(e.lines("pids.txt")) < n; {
			if time.Now().After(deadline) {
				t.Fatalf("%d processes with the marker and %d handlers started after 15s; want %d and %d", len(withMarker(marker)), len(e.lines("pids.txt")), 4*n, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// The worker's supervisor: jobctl re-executed, its child.
		var sup []int
		for _, pid := range withMarker("__jobctl-supervise") {
			if ppid(pid) == w.pid() {
				sup = append(sup, pid)
			}
		}
		if len(sup) != 1 {
			t.Fatalf("worker %d has supervisors %v; want one", w.pid(), sup)
		}

		w.signal(syscall.SIGKILL)
		killed := time.Now()
		if code := w.wait(5 * time.Second); code != -1 {
			t.Fatalf("worker exited %d after kill -9", code)
		}
		var left []int
		for {
			if left = withMarker(marker); len(left) == 0 {
				break
			}
			if time.Since(killed) > time.Second {
				for _, pid := range left {
					cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
					t.Errorf("pid %d (%q) outlived its worker by more than a second", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
				}
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("%s: %d handlers' processes gone %v after the worker's kill -9", e.backend, n, time.Since(killed).Round(time.Millisecond))
		if !processGone(sup[0]) {
			t.Errorf("the supervisor (pid %d) outlived its worker", sup[0])
		}
		for _, l := range e.lines("pids.txt") {
			if pid, _ := strconv.Atoi(l); !processGone(pid) {
				t.Errorf("handler %d outlived its worker", pid)
			}
		}
	})
}

// withMarker lists the running processes with marker in their command line
// (zombies have none).
func withMarker(marker string) []int {
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []int
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte(marker)) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ppid is pid's parent's PID, or 0.
func ppid(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	s := string(b)
	// pid (comm) state ppid ...
	if i := bytes.LastIndexByte(b, ')'); i >= 0 {
		f := strings.Fields(s[i+1:])
		if len(f) > 1 {
			p, _ := strconv.Atoi(f[1])
			return p
		}
	}
	return 0
}
