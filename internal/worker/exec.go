package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jobctl/jobctl/internal/store"
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
type execHandler struct {
	argv []string
	env  Env
}

func (h *execHandler) Run(ctx context.Context, j *store.Job) (json.RawMessage, error) {
	cmd := exec.CommandContext(ctx, h.argv[0], h.argv[1:]...)
	// Its own process group, so a timeout or cancel kills what it spawned.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	cmd.Stdin = bytes.NewReader(j.Data)
	cmd.Env = append(os.Environ(),
		"JOB_ID="+j.ID,
		"JOB_TYPE="+j.Type,
		"JOB_ATTEMPT="+strconv.Itoa(j.Attempts),
		"JOBCTL_DATABASE_URL="+h.env.DSN,
	)
	if h.env.Schema != "" {
		cmd.Env = append(cmd.Env, "JOBCTL_SCHEMA="+h.env.Schema)
	}
	var stdout limitedBuffer
	stdout.limit = outputLimit
	stderr := &tailBuffer{limit: stackLimit}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err == nil {
		return outputJSON(stdout.Bytes()), nil
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return nil, &JobError{Code: "HANDLER_ERROR", Message: fmt.Sprintf("cannot run %s: %v", h.argv[0], err), Retryable: no()}
	}
	return nil, exitError(exit.ExitCode(), stderr.String())
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
