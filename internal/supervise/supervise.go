// Package supervise keeps exec handlers from outliving their worker.
//
// The worker does not start handlers itself. It re-executes its own binary
// once as a small supervisor and asks it, over a Unix socket, to start each
// handler in a new process group, passing the handler's stdin, stdout and
// stderr as file descriptors. Only the worker holds the other end of that
// socket: when the worker dies, by any means including kill -9, the kernel
// closes it, the supervisor reads EOF, SIGKILLs every handler's whole
// process group and exits. PR_SET_PDEATHSIG alone would reach only one
// process, not what a handler spawned.
//
// The same group kill ends a handler on cancel and timeout, and removes what
// a handler leaves running in its group when it exits. A descendant that
// leaves the group (setsid, setpgid, a daemonizing double fork) is out of
// reach: it is no longer the handler's, by its own choice.
//
// One supervisor serves every handler of a worker, so a job pays for a fork
// and exec of its handler only, not for starting another jobctl.
package supervise

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// Arg, as a binary's first argument, runs it as a supervisor: main calls
// Main before anything else when Requested says so. Nobody types it.
const Arg = "__jobctl-supervise"

// connFD is where the supervisor finds its end of the socket: the first of
// exec.Cmd.ExtraFiles.
const connFD = 3

// Requested reports whether args (os.Args) ask for the supervisor.
func Requested(args []string) bool { return len(args) == 2 && args[1] == Arg }

// Executable is the binary the worker re-executes as its supervisor: its
// own, found again through /proc on Linux even after an upgrade replaced the
// file on disk.
func Executable() (string, error) {
	const procSelfExe = "/proc/self/exe"
	if _, err := os.Stat(procSelfExe); err == nil {
		return procSelfExe, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find jobctl's own binary to supervise exec handlers: %w", err)
	}
	return exe, nil
}

// request is the worker's message: start a handler (its stdin, stdout and
// stderr ride along as SCM_RIGHTS) or kill one's group.
// Argv and Env are bytes, not strings, since JSON would mangle what is not
// UTF-8.
type request struct {
	Op   string   `json:"op"` // "start" or "kill"
	ID   uint64   `json:"id"`
	Argv [][]byte `json:"argv,omitempty"`
	Env  [][]byte `json:"env,omitempty"`
}

func toBytes(ss []string) [][]byte {
	bs := make([][]byte, len(ss))
	for i, s := range ss {
		bs[i] = []byte(s)
	}
	return bs
}

func toStrings(bs [][]byte) []string {
	if bs == nil {
		return nil
	}
	ss := make([]string, len(bs))
	for i, b := range bs {
		ss[i] = string(b)
	}
	return ss
}

// reply is the supervisor's: a handler started (Pid), could not start (Err)
// or ended (Status, a wait status).
type reply struct {
	ID     uint64  `json:"id"`
	Pid    int     `json:"pid,omitempty"`
	Err    string  `json:"err,omitempty"`
	Status *uint32 `json:"status,omitempty"`
	// Unrunnable: Err says the program cannot be run as it is.
	Unrunnable bool `json:"unrunnable,omitempty"`
}

// maxMessage bounds a request: argv and environment, not the job's data.
const maxMessage = 1 << 20

// ErrSupervisorDied is a run's error when its supervisor died under it (the
// handler died with it).
var ErrSupervisorDied = errors.New("the handler's supervisor died")

// StartError is a run's error when the handler could not be started.
type StartError struct {
	Msg string
	// Unrunnable: the program is missing, not executable or not a valid
	// executable, or its argv cannot be passed on. Trying again will not
	// help until someone fixes it, unlike a fork that failed for want of
	// memory or processes.
	Unrunnable bool
}

func (e *StartError) Error() string { return e.Msg }

// Supervisor runs commands, each in a process group of its own, under a
// supervisor process started on first use and again if it dies.
type Supervisor struct {
	exe string
	mu  sync.Mutex
	cur *session
}

var (
	sharedMu sync.Mutex
	shared   = map[string]*Supervisor{}
)

// Shared returns the process's supervisor running as exe, so that all of a
// worker's handlers share one.
func Shared(exe string) *Supervisor {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if s := shared[exe]; s != nil {
		return s
	}
	s := &Supervisor{exe: exe}
	shared[exe] = s
	return s
}

// session is one supervisor process and the runs waiting on its replies.
type session struct {
	conn *net.UnixConn
	proc *os.Process
	mu   sync.Mutex
	next uint64
	runs map[uint64]chan reply
	dead chan struct{}
}

func (s *Supervisor) session() (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		select {
		case <-s.cur.dead:
		default:
			return s.cur, nil
		}
	}
	fds, err := socketpair()
	if err != nil {
		return nil, fmt.Errorf("supervisor socket: %w", err)
	}
	// Room for a large environment in one message, as far as the system
	// allows (net.core.wmem_max).
	_ = syscall.SetsockoptInt(fds[0], syscall.SOL_SOCKET, syscall.SO_SNDBUF, maxMessage)
	mine, theirs := os.NewFile(uintptr(fds[0]), "supervisor"), os.NewFile(uintptr(fds[1]), "worker")
	defer theirs.Close()
	c, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		theirs.Close()
		return nil, fmt.Errorf("supervisor socket: %w", err)
	}
	cmd := exec.Command(s.exe, Arg)
	cmd.Args[0] = "jobctl" // not /proc/self/exe, in ps
	cmd.ExtraFiles = []*os.File{theirs}
	// Where its own complaints, if any, can be read.
	cmd.Stderr = os.Stderr
	// Its own group, so a Ctrl-C meant for the worker (which stops
	// gracefully) does not reach it and end the handlers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr, syscall.SIGTERM)
	sess := &session{conn: c.(*net.UnixConn), runs: map[uint64]chan reply{}, dead: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// PR_SET_PDEATHSIG, a belt to the socket's braces, fires when the
		// forking thread ends: this goroutine keeps it for as long as the
		// supervisor lives.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
	}()
	if err := <-started; err != nil {
		sess.conn.Close()
		return nil, fmt.Errorf("cannot start the supervisor %s: %w", s.exe, err)
	}
	sess.proc = cmd.Process
	go sess.readReplies()
	s.cur = sess
	return sess, nil
}

// readReplies hands each reply to its run until the supervisor is gone.
func (ss *session) readReplies() {
	buf := make([]byte, 4096)
	for {
		n, err := ss.conn.Read(buf)
		if err != nil || n == 0 {
			break
		}
		var r reply
		if json.Unmarshal(buf[:n], &r) != nil {
			continue
		}
		ss.mu.Lock()
		ch := ss.runs[r.ID]
		ss.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
	ss.conn.Close()
	close(ss.dead)
}

// Cmd is one command to run under the supervisor.
type Cmd struct {
	Argv []string
	// Env is the command's whole environment: nothing is inherited.
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// WaitDelay bounds the wait for stdout and stderr to close once the
	// command has ended (something that left its group may hold them).
	WaitDelay time.Duration
}

// Run runs c and returns how it ended. When ctx is done its process group
// is killed and Run returns once the supervisor says it has ended.
func (s *Supervisor) Run(ctx context.Context, c Cmd) (syscall.WaitStatus, error) {
	ss, err := s.session()
	if err != nil {
		return 0, err
	}
	ch := make(chan reply, 2)
	ss.mu.Lock()
	ss.next++
	id := ss.next
	ss.runs[id] = ch
	ss.mu.Unlock()
	defer func() {
		ss.mu.Lock()
		delete(ss.runs, id)
		ss.mu.Unlock()
	}()

	var p [3][2]*os.File // stdin, stdout, stderr: read and write ends
	for i := range p {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(p[:])
			return 0, err
		}
		p[i] = [2]*os.File{r, w}
	}
	mine := []*os.File{p[0][1], p[1][0], p[2][0]}
	defer func() {
		for _, f := range mine {
			f.Close()
		}
	}()
	theirs := []*os.File{p[0][0], p[1][1], p[2][1]}
	msg, err := json.Marshal(request{Op: "start", ID: id, Argv: toBytes(c.Argv), Env: toBytes(c.Env)})
	if len(msg) > maxMessage {
		err = syscall.EMSGSIZE
	}
	if err == nil {
		_, _, err = ss.conn.WriteMsgUnix(msg, syscall.UnixRights(int(theirs[0].Fd()), int(theirs[1].Fd()), int(theirs[2].Fd())), nil)
	}
	for _, f := range theirs {
		f.Close()
	}
	switch {
	case errors.Is(err, syscall.EMSGSIZE):
		return 0, &StartError{Msg: "argv and environment too large to pass on", Unrunnable: true}
	case err != nil:
		return 0, fmt.Errorf("supervisor: %w", err)
	}

	var copies sync.WaitGroup
	copyOut := func(w io.Writer, r io.Reader) {
		copies.Add(1)
		go func() {
			defer copies.Done()
			if w == nil {
				w = io.Discard
			}
			_, _ = io.Copy(w, r)
		}()
	}
	copyOut(c.Stdout, p[1][0])
	copyOut(c.Stderr, p[2][0])
	go func() {
		if c.Stdin != nil {
			_, _ = io.Copy(p[0][1], c.Stdin)
		}
		p[0][1].Close()
	}()

	done := ctx.Done()
	var (
		status    syscall.WaitStatus
		abandoned <-chan time.Time // after a kill, the end of the wait
	)
wait:
	for {
		select {
		case r := <-ch:
			switch {
			case r.Err != "":
				return 0, &StartError{Msg: r.Err, Unrunnable: r.Unrunnable}
			case r.Status != nil:
				status = syscall.WaitStatus(*r.Status)
				break wait
			}
		case <-done:
			done = nil
			kill, _ := json.Marshal(request{Op: "kill", ID: id})
			_, _ = ss.conn.Write(kill)
			abandoned = time.After(c.WaitDelay)
		case <-abandoned:
			// The group was sent SIGKILL; a process that does not die of
			// it (stuck in the kernel) is not waited for.
			return 0, ctx.Err()
		case <-ss.dead:
			return 0, ErrSupervisorDied
		}
	}
	copied := make(chan struct{})
	go func() {
		copies.Wait()
		close(copied)
	}()
	select {
	case <-copied:
	case <-time.After(c.WaitDelay):
		p[1][0].Close()
		p[2][0].Close()
		<-copied
	}
	return status, nil
}

func closeAll(p [][2]*os.File) {
	for _, fs := range p {
		for _, f := range fs {
			if f != nil {
				f.Close()
			}
		}
	}
}

// server is the supervisor's side: the process groups of the handlers it
// runs, by run.
type server struct {
	conn    *net.UnixConn
	mu      sync.Mutex
	running map[uint64]int // run ID → process group
	// stopping: killAll has run, and the runs it killed end as
	// ErrSupervisorDied on the worker's side, not as handlers that died of
	// SIGKILL.
	stopping bool
}

// Main runs the supervisor until the worker's end of the socket closes, then
// kills every handler's process group. It returns the supervisor's exit
// code.
func Main(args []string) int {
	// Handlers are forked on this goroutine only, and their
	// PR_SET_PDEATHSIG is tied to its thread.
	runtime.LockOSThread()
	syscall.CloseOnExec(connFD)
	f := os.NewFile(connFD, "worker")
	c, err := net.FileConn(f)
	f.Close()
	uc, ok := c.(*net.UnixConn)
	if err != nil || !ok {
		fmt.Fprintf(os.Stderr, "jobctl: %s is only for jobctl worker run\n", Arg)
		return 2
	}
	s := &server{conn: uc, running: map[uint64]int{}}
	defer s.killAll()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		<-stop
		s.killAll()
		s.conn.Close()
	}()

	buf := make([]byte, maxMessage+1)
	oob := make([]byte, syscall.CmsgSpace(3*4))
	for {
		n, oobn, _, _, err := s.conn.ReadMsgUnix(buf, oob)
		if err != nil || n == 0 {
			return 0 // the worker is gone
		}
		files := received(oob[:oobn])
		var r request
		if json.Unmarshal(buf[:n], &r) != nil {
			closeFiles(files)
			continue
		}
		switch r.Op {
		case "start":
			s.start(r, files)
		case "kill":
			closeFiles(files)
			s.mu.Lock()
			pgid, ok := s.running[r.ID]
			s.mu.Unlock()
			if ok {
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
			}
		default:
			closeFiles(files)
		}
	}
}

func received(oob []byte) []*os.File {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), "handler"))
		}
	}
	return files
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

func (s *server) send(r reply) {
	b, _ := json.Marshal(r)
	_, _ = s.conn.Write(b)
}

func (s *server) start(r request, files []*os.File) {
	defer closeFiles(files)
	if len(files) != 3 || len(r.Argv) == 0 {
		s.send(reply{ID: r.ID, Err: "bad request to the supervisor"})
		return
	}
	argv := toStrings(r.Argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	// Never nil, which would hand the handler the supervisor's own.
	cmd.Env = append([]string{}, toStrings(r.Env)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = files[0], files[1], files[2]
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr, syscall.SIGKILL)
	if err := cmd.Start(); err != nil {
		s.send(reply{ID: r.ID, Err: err.Error(), Unrunnable: unrunnable(err)})
		return
	}
	pgid := cmd.Process.Pid
	s.mu.Lock()
	s.running[r.ID] = pgid
	s.mu.Unlock()
	s.send(reply{ID: r.ID, Pid: pgid})
	go func() {
		_ = cmd.Wait()
		// Nothing the handler left running in its group stays behind.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		s.mu.Lock()
		delete(s.running, r.ID)
		stopping := s.stopping
		s.mu.Unlock()
		if stopping {
			return
		}
		st := uint32(cmd.ProcessState.Sys().(syscall.WaitStatus))
		s.send(reply{ID: r.ID, Status: &st})
	}()
}

// unrunnable reports whether a failed start is the program's own doing:
// not found (on PATH, or only through a relative PATH entry), not a file,
// not executable, not a valid executable, or arguments too long.
func unrunnable(err error) bool {
	for _, target := range []error{exec.ErrNotFound, exec.ErrDot, fs.ErrNotExist, fs.ErrPermission,
		syscall.ENOEXEC, syscall.EISDIR, syscall.ENOTDIR, syscall.ELOOP, syscall.ENAMETOOLONG, syscall.E2BIG} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// killAll kills every running handler's process group, and from then on no
// run's end is reported: the supervisor is going.
func (s *server) killAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopping = true
	for _, pgid := range s.running {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}
