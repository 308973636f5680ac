// Package supervise keeps exec handlers from outliving their worker.
//
// The worker does not start a handler itself. It re-executes its own binary
// as a small supervisor (Command), which starts the handler in a new process
// group and holds the read end of a pipe whose write end only the worker
// has: the lifeline. When the worker dies, by any means including kill -9,
// the kernel closes the write end, the supervisor reads EOF, SIGKILLs the
// handler's whole process group and exits. PR_SET_PDEATHSIG alone would
// reach only one process, not what the handler spawned.
//
// The same group kill ends a handler on cancel and timeout (the worker closes
// the lifeline and sends SIGTERM) and removes what a handler leaves running
// in its group when it exits. A descendant that leaves the group (setsid,
// setpgid, a daemonizing double fork) is out of reach: it is no longer the
// handler's, by its own choice.
package supervise

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// Arg, as a binary's first argument, runs it as a supervisor: main calls
// Main before anything else when Requested says so. Nobody types it.
const Arg = "__jobctl-supervise"

// lifelineFD is where the supervisor finds the lifeline's read end: the
// first of exec.Cmd.ExtraFiles.
const lifelineFD = 3

// ExitCannotRun is the supervisor's exit code when the handler could not be
// started; its last stderr line then says why, as a job error.
const ExitCannotRun = 127

// Requested reports whether args (os.Args) ask for the supervisor.
func Requested(args []string) bool {
	return len(args) >= 4 && args[1] == Arg && args[2] == "--"
}

// Executable is the binary the worker re-executes as its supervisor: its
// own, found again through /proc on Linux even after an upgrade replaced the
// file on disk.
func Executable() (string, error) {
	if _, err := os.Stat(procSelfExe); err == nil {
		return procSelfExe, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find jobctl's own binary to supervise exec handlers: %w", err)
	}
	return exe, nil
}

// Cmd is a handler command run under a supervisor. Set its Stdin, Stdout,
// Stderr, Env and WaitDelay as for any exec.Cmd; they reach the handler
// unchanged.
type Cmd struct {
	*exec.Cmd
	lifeline *os.File // the write end; only this process holds it
}

// Command prepares argv to run under the supervisor binary exe. When ctx is
// done the supervisor kills the handler's process group and exits.
func Command(ctx context.Context, exe string, argv []string) *Cmd {
	c := &Cmd{Cmd: exec.CommandContext(ctx, exe, append([]string{Arg, "--"}, argv...)...)}
	// Its own group too, so a Ctrl-C meant for the worker (which stops
	// gracefully) does not reach the supervisor and end the handler.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(c.SysProcAttr, syscall.SIGTERM)
	c.Cancel = func() error {
		_ = c.lifeline.Close()
		return c.Process.Signal(syscall.SIGTERM)
	}
	return c
}

// Run starts the supervisor and waits for it. Its exit status is the
// handler's: the same exit code, or death by the same signal.
func (c *Cmd) Run() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	c.lifeline = w
	defer w.Close()
	c.ExtraFiles = []*os.File{r}
	// Belt and braces: PR_SET_PDEATHSIG fires when the forking thread ends,
	// not the process, so the thread stays this goroutine's until the
	// supervisor has exited. The lifeline does not depend on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err = c.Start()
	r.Close()
	if err != nil {
		return err
	}
	return c.Wait()
}

// Main runs the supervisor for os.Args (see Requested) and returns its exit
// code; a handler killed by a signal kills the supervisor by the same
// signal, so Main does not return then.
func Main(args []string) int {
	argv := args[3:]
	// The handler's own PR_SET_PDEATHSIG is tied to this thread.
	runtime.LockOSThread()
	syscall.CloseOnExec(lifelineFD)
	lifeline := os.NewFile(lifelineFD, "lifeline")

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr, syscall.SIGKILL)
	if err := cmd.Start(); err != nil {
		// The final stderr line is how a handler names its error.
		line, _ := json.Marshal(map[string]string{"code": "HANDLER_ERROR", "message": fmt.Sprintf("cannot run %s: %v", argv[0], err)})
		fmt.Fprintf(os.Stderr, "%s\n", line)
		return ExitCannotRun
	}
	pgid := cmd.Process.Pid

	orphaned := make(chan struct{})
	go func() {
		// Nobody writes to the lifeline: a read returns only at EOF (the
		// worker is gone or cancelled the run) or on a bad descriptor.
		var b [1]byte
		for {
			if _, err := lifeline.Read(b[:]); err != nil {
				close(orphaned)
				return
			}
		}
	}()
	exited := make(chan *os.ProcessState, 1)
	go func() {
		st, _ := cmd.Process.Wait()
		exited <- st
	}()

	var st *os.ProcessState
	select {
	case st = <-exited:
	case <-orphaned:
	case <-stop:
	}
	// Whatever ended the run, nothing of the handler's stays behind: after a
	// normal exit this removes what it left running in its group.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	if st == nil {
		st = <-exited
	}
	return relay(st)
}

// relay ends the supervisor as the handler ended.
func relay(st *os.ProcessState) int {
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return st.ExitCode()
	}
	sig := ws.Signal()
	// No core file of the supervisor's own; the handler made its own.
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	signal.Reset()
	resetSignal(sig)
	_ = syscall.Kill(os.Getpid(), sig)
	// A signal that does not end a process by default (none does that
	// ends a handler, but SIGKILL'ed ones are handled above) is an exit
	// code in the shell's convention.
	time.Sleep(100 * time.Millisecond)
	return 128 + int(sig)
}
