package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/supervise"
)

const (
	// stackLimit is how much of a failed handler's stderr is kept.
	stackLimit = 64 << 10
	// outputLimit caps a handler's stdout.
	outputLimit = 16 << 20
	// exitTempFail is sysexits' EX_TEMPFAIL: retry me.
	exitTempFail = 75
)

// execHandler runs a command per attempt: the job's data on stdin, the job
// in the environment, output JSON on stdout, and on failure an optional
// final JSON line on stderr ({"code":…,"message":…,"stack":…}).
//
// The command runs under a supervisor (package supervise) that owns its
// process group, so neither it nor anything it spawned in its group
// outlives the worker, even one killed with -9.
type execHandler struct {
	argv []string
	env  Env
	// database passes the store's DSN: the type's config asked for it.
	database bool
}

func (h *execHandler) Run(ctx context.Context, j *store.Job) (json.RawMessage, error) {
	var stdout limitedBuffer
	stdout.limit = outputLimit
	stderr := &tailBuffer{limit: stackLimit}
	status, err := supervise.Shared(h.env.Supervisor).Run(ctx, supervise.Cmd{
		Argv:   h.argv,
		Env:    h.environ(j),
		Stdin:  bytes.NewReader(j.Data),
		Stdout: &stdout,
		Stderr: stderr,
		// A timeout or cancel kills the handler's group at once; this
		// bounds the wait for pipes held by anything that left it.
		WaitDelay: 2 * time.Second,
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var start *supervise.StartError
	switch {
	case errors.As(err, &start) && start.Unrunnable:
		// The handler never ran, and will not until someone fixes it.
		return nil, &cannotStart{program: h.argv[0], err: err}
	case errors.As(err, &start):
		// A fork that failed for want of memory or processes: worth
		// another try later.
		return nil, &JobError{Code: "HANDLER_ERROR", Message: fmt.Sprintf("cannot run %s: %v", h.argv[0], err), Retryable: yes()}
	case err != nil:
		// The supervisor died, taking the handler with it: not the
		// handler's doing, so worth another try.
		return nil, &JobError{Code: "HANDLER_ERROR", Message: fmt.Sprintf("running %s: %v", h.argv[0], err), Retryable: yes()}
	case status.Exited() && status.ExitStatus() == 0:
		return outputJSON(stdout.Bytes()), nil
	}
	code := -1 // killed by a signal, as exec.ExitError.ExitCode says
	if status.Exited() {
		code = status.ExitStatus()
	}
	return nil, exitError(code, stderr.String())
}

// storeVars are the variables that locate the store, and may carry its
// password. Handlers are often third-party scripts: they see none of them
// unless their type's config asks (passDatabaseURL), and then they see the
// worker's own store.
var storeVars = []string{"JOBCTL_DATABASE_URL", "DATABASE_URL", "JOBCTL_SCHEMA"}

// environ is the handler's environment: the worker's, less the store's
// address unless asked for, plus the job.
func (h *execHandler) environ(j *store.Job) []string {
	env := make([]string, 0, len(os.Environ())+5)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(storeVars, name) && (!h.database || name != "DATABASE_URL") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"JOB_ID="+j.ID,
		"JOB_TYPE="+j.Type,
		"JOB_ATTEMPT="+strconv.Itoa(j.Attempts),
	)
	if h.database {
		env = append(env, "JOBCTL_DATABASE_URL="+h.env.DSN)
		if h.env.Schema != "" {
			env = append(env, "JOBCTL_SCHEMA="+h.env.Schema)
		}
	}
	return env
}

// exitError reads a failed handler's verdict: the final stderr line if it is
// a JSON error object, else its exit code.
func exitError(code int, stderr string) *JobError {
	trimmed := strings.TrimRight(stderr, "\n")
	last := trimmed[strings.LastIndex(trimmed, "\n")+1:]
	var reported struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Stack   string `json:"stack"`
	}
	if strings.HasPrefix(last, "{") && json.Unmarshal([]byte(last), &reported) == nil && reported.Code != "" {
		stack := reported.Stack
		if stack == "" {
			stack = strings.TrimSuffix(trimmed, last)
		}
		return &JobError{Code: reported.Code, Message: reported.Message, Stack: strings.TrimSpace(stack)}
	}
	if code == exitTempFail {
		return &JobError{Code: "TEMPORARY_FAILURE", Message: "handler exited with status 75 (EX_TEMPFAIL)", Stack: stderr, Retryable: yes()}
	}
	return &JobError{Code: "HANDLER_ERROR", Message: fmt.Sprintf("handler exited with status %d", code), Stack: stderr, Retryable: no()}
}

// outputJSON stores stdout as the job's output: JSON as it is, other text
// as a JSON string, nothing as null.
func outputJSON(b []byte) json.RawMessage {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

// limitedBuffer keeps the first limit bytes.
type limitedBuffer struct {
	bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// tailBuffer keeps the last limit bytes.
type tailBuffer struct {
	buf   []byte
	limit int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.limit; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string { return string(b.buf) }

// cannotStart is an attempt whose handler program could not be started at
// all: missing, not executable, not a valid executable. The job is not to
// blame, so the attempt is handed back uncounted, and the worker stops
// claiming the type rather than burn its queue.
type cannotStart struct {
	program string
	err     error
}

func (e *cannotStart) Error() string { return e.program + ": " + e.err.Error() }
func (e *cannotStart) Unwrap() error { return e.err }

// HandlerError is an exec handler whose program cannot be run, found when
// the worker starts: it refuses to start rather than fail every job of the
// type.
type HandlerError struct {
	Type    string
	Program string
	Problem string
}

func (e *HandlerError) Error() string {
	return e.Type + ": handler " + e.Program + ": " + e.Problem
}

// checkProgram says what keeps the supervisor from starting name, or "".
// It looks as exec.Command does there: a name with a slash as a path from
// the worker's working directory (the supervisor's, which it inherits),
// any other on the worker's PATH.
func checkProgram(name string) string {
	_, err := exec.LookPath(name)
	var problem string
	switch {
	case err == nil:
		return ""
	case errors.Is(err, exec.ErrDot):
		return "found only through a relative directory in PATH, which exec refuses: give its path"
	case errors.Is(err, exec.ErrNotFound):
		return "not found on PATH"
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		problem = "no such file"
	case errors.Is(err, fs.ErrPermission):
		problem = "not executable"
	case errors.Is(err, syscall.EISDIR):
		problem = "is a directory"
	default:
		problem = err.Error()
	}
	if !filepath.IsAbs(name) {
		if wd, err := os.Getwd(); err == nil {
			problem += " (relative to the working directory " + wd + ")"
		}
	}
	return problem
}
