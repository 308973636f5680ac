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
// under the supervisor and waits, to be killed with -9.
const parentEnv = "SUPERVISE_TEST_PARENT"

func TestMain(m *testing.M) {
	if Requested(os.Args) {
		os.Exit(Main(os.Args))
	}
	if os.Getenv(parentEnv) != "" {
		exe, _ := Executable()
		_ = Command(context.Background(), exe, os.Args[1:]).Run()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// sh runs script under the supervisor.
func sh(ctx context.Context, stdin, script string) (stdout, stderr string, err error) {
	exe, err := Executable()
	if err != nil {
		return "", "", err
	}
	c := Command(ctx, exe, []string{"sh", "-c", script})
	c.WaitDelay = 2 * time.Second
	c.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	err = c.Run()
	return o.String(), e.String(), err
}

func TestExitCodePassesThrough(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 3, 75, 255} {
		_, _, err := sh(context.Background(), "", "exit "+strconv.Itoa(code))
		got := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			got = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("exit %d: %v", code, err)
		}
		if got != code {
			t.Errorf("handler exited %d, supervisor %d", code, got)
		}
	}
}

// A handler killed by a signal is reported as killed by that signal, not as
// some exit code.
func TestSignalPassesThrough(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL, syscall.SIGSEGV} {
		_, stderr, err := sh(context.Background(), "", "kill -"+strconv.Itoa(int(sig))+" $$")
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Errorf("%v: err = %v; want an exit error", sig, err)
			continue
		}
		ws := ee.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != sig || ws.CoreDump() {
			t.Errorf("%v: supervisor ended %v (signaled %v, core %v); want killed by %v without a core dump\nstderr: %s", sig, ws, ws.Signaled(), ws.CoreDump(), sig, stderr)
		}
		if stderr != "" {
			t.Errorf("%v: supervisor wrote %q", sig, stderr)
		}
	}
}

func TestStreamsAndEnvironmentPassThrough(t *testing.T) {
	t.Parallel()
	exe, _ := Executable()
	c := Command(context.Background(), exe, []string{"sh", "-c", `cat; echo "to stderr $GREETING" >&2; [ -e /proc/$$/fd/3 ] && echo "fd 3 leaked" >&2; exit 0`})
	c.Stdin = strings.NewReader(`{"userId":"user_123"}`)
	c.Env = append(os.Environ(), "GREETING=hello")
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	if err := c.Run(); err != nil {
		t.Fatalf("%v\nstderr: %s", err, e.String())
	}
	if o.String() != `{"userId":"user_123"}` {
		t.Errorf("stdout = %q; want stdin echoed", o.String())
	}
	if e.String() != "to stderr hello\n" {
		t.Errorf("stderr = %q; want the handler's own line only (no leaked lifeline)", e.String())
	}
}

func TestCannotRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	// Executable but not a program: exec fails in the supervisor.
	if err := os.WriteFile(bad, []byte{0x7f, 'E', 'L', 'F', 0, 0}, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, _ := Executable()
	c := Command(context.Background(), exe, []string{bad})
	var e bytes.Buffer
	c.Stderr = &e
	err := c.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitCannotRun {
		t.Fatalf("err = %v; want exit %d", err, ExitCannotRun)
	}
	if !strings.HasPrefix(e.String(), `{"code":"HANDLER_ERROR","message":"cannot run `+bad+`: `) {
		t.Errorf("stderr = %q; want a HANDLER_ERROR line", e.String())
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

// waitGone fails unless every pid is gone within d; the survivors are
// killed either way, so a failure leaves nothing behind.
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

// The parent dies by kill -9: the supervisor sees its lifeline close and
// kills the handler's whole group, grandchildren included.
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
// included, and so does a SIGTERM to the supervisor.
func TestCancelKillsGroup(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pids")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := sh(ctx, "", spawner(pidFile))
		done <- err
	}()
	pids := readPIDs(t, pidFile, 3)
	start := time.Now()
	cancel()
	<-done
	if took := time.Since(start); took > time.Second {
		t.Errorf("cancelled run took %v to return", took)
	}
	waitGone(t, time.Second, pids)
}

// startSplit starts script under the supervisor as Run does, but returns
// once it has started, with the lifeline's write end in c.lifeline and the
// result of Wait to come on done.
func startSplit(t *testing.T, script string) (c *Cmd, done <-chan error) {
	t.Helper()
	exe, _ := Executable()
	c = Command(context.Background(), exe, []string{"sh", "-c", script})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c.lifeline = w
	t.Cleanup(func() { w.Close() })
	c.ExtraFiles = []*os.File{r}
	err = c.Start()
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() { ch <- c.Wait() }()
	return c, ch
}

// wantKilled checks that the supervisor relayed the handler's SIGKILL.
func wantKilled(t *testing.T, err error) {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("err = %v; want the handler's death by SIGKILL relayed", err)
	}
}

func TestSIGTERMKillsGroup(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pids")
	c, done := startSplit(t, spawner(pidFile))
	pids := readPIDs(t, pidFile, 3)
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wantKilled(t, <-done)
	waitGone(t, time.Second, pids)
}

// The lifeline alone, without any signal (PR_SET_PDEATHSIG is only a belt),
// ends the run: the worker is gone.
func TestLifelineClosedKillsGroup(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pids")
	c, done := startSplit(t, spawner(pidFile))
	pids := readPIDs(t, pidFile, 3)
	c.lifeline.Close()
	wantKilled(t, <-done)
	waitGone(t, time.Second, pids)
}

// What a handler leaves running in its group when it exits is killed too:
// nobody would be left to stop it.
func TestExitKillsLeftovers(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pids")
	_, _, err := sh(context.Background(), "", `sleep 300 </dev/null >/dev/null 2>&1 & echo $! >> `+pidFile)
	if err != nil {
		t.Fatal(err)
	}
	waitGone(t, time.Second, readPIDs(t, pidFile, 1))
}
