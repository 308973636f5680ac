//go:build linux

package supervise

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary is its own supervisor, as jobctl is in production; with
// parentEnv set it is instead a stand-in worker that runs its arguments
// under the supervisor, to be killed with -9.
const parentEnv = "SUPERVISE_TEST_PARENT"

func TestMain(m *testing.M) {
	if Requested(os.Args) {
		os.Exit(Main(os.Args))
	}
	if os.Getenv(parentEnv) != "" {
		_, _ = testSupervisor().Run(context.Background(), Cmd{Argv: os.Args[1:], Env: os.Environ()})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func testSupervisor() *Supervisor {
	exe, err := Executable()
	if err != nil {
		panic(err)
	}
	return Shared(exe)
}

// sh runs script under the shared supervisor.
func sh(ctx context.Context, stdin, script string) (status syscall.WaitStatus, stdout, stderr string, err error) {
	var o, e bytes.Buffer
	status, err = testSupervisor().Run(ctx, Cmd{
		Argv: []string{"sh", "-c", script}, Env: os.Environ(),
		Stdin: strings.NewReader(stdin), Stdout: &o, Stderr: &e, WaitDelay: 2 * time.Second,
	})
	return status, o.String(), e.String(), err
}

func TestExitCodePassesThrough(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 1, 3, 75, 255} {
		st, _, _, err := sh(context.Background(), "", "exit "+strconv.Itoa(code))
		if err != nil || !st.Exited() || st.ExitStatus() != code {
			t.Errorf("handler exited %d; run says %v (exited %v, code %d), %v", code, st, st.Exited(), st.ExitStatus(), err)
		}
	}
}

// A handler killed by a signal is reported as killed by that signal, not as
// some exit code.
func TestSignalPassesThrough(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL, syscall.SIGSEGV} {
		st, _, _, err := sh(context.Background(), "", "kill -"+strconv.Itoa(int(sig))+" $$")
		if err != nil || !st.Signaled() || st.Signal() != sig {
			t.Errorf("%v: run says %v (signaled %v), %v; want killed by %v", sig, st, st.Signaled(), err, sig)
		}
	}
}

func TestStreamsAndEnvironmentPassThrough(t *testing.T) {
	t.Parallel()
	run := func(stdin string, argv ...string) (string, string) {
		t.Helper()
		var o, e bytes.Buffer
		st, err := testSupervisor().Run(context.Background(), Cmd{
			Argv: argv, Env: []string{"GREETING=h\xffllo", "PATH=" + os.Getenv("PATH")},
			Stdin: strings.NewReader(stdin), Stdout: &o, Stderr: &e, WaitDelay: time.Second,
		})
		if err != nil || st.ExitStatus() != 0 {
			t.Fatalf("%v: %v %v\nstderr: %s", argv, st, err, e.String())
		}
		return o.String(), e.String()
	}
	big := strings.Repeat("x", 1<<20) // more than a pipe holds
	if out, errOut := run(big, "sh", "-c", `cat; echo "to stderr" >&2`); out != big || errOut != "to stderr\n" {
		t.Errorf("stdout: %d bytes, stderr %q; want stdin's %d bytes echoed, \"to stderr\"", len(out), errOut, len(big))
	}
	// The environment given, byte for byte, and nothing else.
	if out, _ := run("", "env"); out != "GREETING=h\xffllo\nPATH="+os.Getenv("PATH")+"\n" {
		t.Errorf("handler's environment: %q", out)
	}
	// No descriptor of the supervisor's or the worker's: the same as a
	// command the test starts itself has (0, 1, 2, ls's own 3 and whatever
	// the test inherited).
	want, err := exec.Command("ls", "/proc/self/fd").Output()
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := run("", "ls", "/proc/self/fd"); out != string(want) {
		t.Errorf("handler's descriptors: %q; want %q", out, want)
	}
}

func TestCannotRun(t *testing.T) {
	t.Parallel()
	_, err := testSupervisor().Run(context.Background(), Cmd{Argv: []string{"./no-such-handler"}})
	var se *StartError
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "no-such-handler") || !se.Unrunnable {
		t.Errorf("err = %#v; want an unrunnable StartError naming the command", err)
	}
	if _, err := testSupervisor().Run(context.Background(), Cmd{Argv: []string{"no-such-command-on-path"}}); !errors.As(err, &se) || !se.Unrunnable {
		t.Errorf("a bare name not on PATH: err = %#v; want an unrunnable StartError", err)
	}
	plain := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := testSupervisor().Run(context.Background(), Cmd{Argv: []string{plain}}); !errors.As(err, &se) || !se.Unrunnable {
		t.Errorf("not executable: err = %#v; want an unrunnable StartError", err)
	}
	// More environment than a message carries is the handler's problem,
	// not a reason to retry.
	huge := []string{"HUGE=" + strings.Repeat("x", 2<<20)}
	if _, err := testSupervisor().Run(context.Background(), Cmd{Argv: []string{"true"}, Env: huge}); !errors.As(err, &se) || !se.Unrunnable {
		t.Errorf("huge environment: err = %v; want a StartError", err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	// Executable but not a program.
	if err := os.WriteFile(bad, []byte{0x7f, 'E', 'L', 'F', 0, 0}, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := testSupervisor().Run(context.Background(), Cmd{Argv: []string{bad}}); !errors.As(err, &se) || !se.Unrunnable {
		t.Errorf("err = %v; want a StartError", err)
	}
}

// readPIDs waits for n PIDs in file.
func readPIDs(t *testing.T, file string, n int) []int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		b, _ := os.ReadFile(file)
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		if len(pids) >= n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d PIDs after 10s, want %d", file, len(pids), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gone reports whether pid has exited (a zombie counts: it runs no more).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// waitGone fails unless every pid is gone within d; survivors are killed
// either way, so a failure leaves nothing behind.
func waitGone(t *testing.T, d time.Duration, pids []int) {
	t.Helper()
	deadline := time.Now().Add(d)
	for _, pid := range pids {
		for !gone(pid) {
			if time.Now().After(deadline) {
				t.Errorf("process %d still running %v later", pid, d)
				_ = syscall.Kill(pid, syscall.SIGKILL)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// spawner is a handler leaving a child and a grandchild in its group, and
// writing the PIDs of all three to pids.
func spawner(pids string) string {
	return `sleep 300 </dev/null >/dev/null 2>&1 & echo $! >> ` + pids + `
sh -c 'sleep 300 & echo $! >> ` + pids + `; wait' </dev/null >/dev/null 2>&1 &
echo $$ >> ` + pids + `
wait`
}

// The parent (the worker) dies by kill -9: the supervisor sees its socket
// close and kills the handler's whole group, grandchildren included.
func TestParentKilledKillsGroup(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pids")
	exe, _ := os.Executable()
	parent := exec.Command(exe, "sh", "-c", spawner(pidFile))
	parent.Env = append(os.Environ(), parentEnv+"=1")
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	pids := readPIDs(t, pidFile, 3)
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	waitGone(t, time.Second, pids)
}

// Cancel (the worker's context) kills the group at once, grandchildren
// included.
func TestCancelKillsGroup(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pids")
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		st  syscall.WaitStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, _, _, err := sh(ctx, "", spawner(pidFile))
		done <- result{st, err}
	}()
	pids := readPIDs(t, pidFile, 3)
	start := time.Now()
	cancel()
	r := <-done
	if took := time.Since(start); took > time.Second {
		t.Errorf("cancelled run took %v to return", took)
	}
	if r.err != nil || r.st.Signal() != syscall.SIGKILL {
		t.Errorf("cancelled run: %v, %v; want the handler killed", r.st, r.err)
	}
	waitGone(t, time.Second, pids)
}

// runAside starts script under a supervisor of its own (not the shared one,
// which the test then kills or cuts off) and returns its supervisor once
// the script has written 3 PIDs, with the run's error to come on done.
func runAside(t *testing.T, pidFile string) (s *Supervisor, pids []int, done <-chan error) {
	t.Helper()
	exe, _ := Executable()
	s = &Supervisor{exe: exe}
	ch := make(chan error, 1)
	go func() {
		_, err := s.Run(context.Background(), Cmd{Argv: []string{"sh", "-c", spawner(pidFile)}, WaitDelay: time.Second})
		ch <- err
	}()
	return s, readPIDs(t, pidFile, 3), ch
}

// The socket closing, without any signal (PR_SET_PDEATHSIG is only a belt),
// makes the supervisor kill every group: the worker is gone.
func TestSocketClosedKillsGroups(t *testing.T) {
	t.Parallel()
	s, pids, done := runAside(t, filepath.Join(t.TempDir(), "pids"))
	s.mu.Lock()
	s.cur.conn.Close()
	s.mu.Unlock()
	<-done
	waitGone(t, time.Second, pids)
}

// A supervisor stopped by SIGTERM kills every group first; the run fails,
// and the next one gets a new supervisor.
func TestSupervisorStopped(t *testing.T) {
	t.Parallel()
	s, pids, done := runAside(t, filepath.Join(t.TempDir(), "pids"))
	s.mu.Lock()
	proc := s.cur.proc
	s.mu.Unlock()
	if err := proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrSupervisorDied) {
		t.Errorf("err = %v; want ErrSupervisorDied", err)
	}
	waitGone(t, time.Second, pids)
	if st, err := s.Run(context.Background(), Cmd{Argv: []string{"true"}}); err != nil || st.ExitStatus() != 0 {
		t.Errorf("run after the supervisor died: %v, %v", st, err)
	}
}

// What a handler leaves running in its group when it exits is killed too:
// nobody would be left to stop it.
func TestExitKillsLeftovers(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pids")
	if _, _, _, err := sh(context.Background(), "", `sleep 300 </dev/null >/dev/null 2>&1 & echo $! >> `+pidFile); err != nil {
		t.Fatal(err)
	}
	waitGone(t, time.Second, readPIDs(t, pidFile, 1))
}

// Many runs at once share one supervisor.
func TestConcurrentRuns(t *testing.T) {
	t.Parallel()
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			st, out, _, err := sh(context.Background(), strconv.Itoa(i), `cat; exit `+strconv.Itoa(i))
			if err == nil && (out != strconv.Itoa(i) || st.ExitStatus() != i) {
				err = errors.New("run " + strconv.Itoa(i) + ": got " + out + " exit " + strconv.Itoa(st.ExitStatus()))
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
