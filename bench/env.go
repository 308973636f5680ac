package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/postgres"
)

const defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// noopConfig gives the worker one type, run by the builtin noop handler.
const noopConfig = "jobs:\n  Noop:\n    handler: {builtin: noop}\n"

// env is what every part shares: the binary, the Postgres server, a temp
// directory, and the schemas to drop at the end.
type env struct {
	cfg       *config
	dsn       string
	admin     *postgres.Store // no schema of its own: creates and drops bench schemas
	tmp       string
	noopCfg   string // path of a worker config with the Noop type
	schemas   []string
	version   string
	pgVersion string
	big       *bigTable // the seeded large schema, once a part asked for it
	yard      yardsticks
	figures   []figure // the closing summary, in the order measured
}

func newEnv(ctx context.Context, cfg *config) (*env, error) {
	if _, err := os.Stat(cfg.bin); err != nil {
		return nil, fmt.Errorf("%s: %w (run make build first)", cfg.bin, err)
	}
	bin, err := filepath.Abs(cfg.bin)
	if err != nil {
		return nil, err
	}
	cfg.bin = bin
	e := &env{cfg: cfg, dsn: os.Getenv("BENCH_DATABASE_URL")}
	if e.dsn == "" {
		e.dsn = defaultDSN
	}
	out, err := exec.CommandContext(ctx, cfg.bin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", cfg.bin, err)
	}
	e.version = strings.TrimSpace(string(out))
	if e.tmp, err = os.MkdirTemp("", "jobctl-bench-"); err != nil {
		return nil, err
	}
	e.noopCfg = filepath.Join(e.tmp, "noop.yaml")
	if err := os.WriteFile(e.noopCfg, []byte(noopConfig), 0o644); err != nil {
		e.close()
		return nil, err
	}
	if e.admin, err = postgres.Open(ctx, e.dsn, ""); err != nil {
		e.close()
		return nil, fmt.Errorf("postgres %s: %w", e.redactedDSN(), err)
	}
	if err := e.admin.Pool().QueryRow(ctx, "SHOW server_version").Scan(&e.pgVersion); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// close drops every bench schema and removes the temp directory, even
// after an interrupt (it does not use the run's context).
func (e *env) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if e.big != nil {
		e.big.s.Close()
	}
	if e.cfg.keep {
		fmt.Printf("kept: %s, schemas %v\n", e.tmp, e.schemas)
	} else {
		for _, s := range e.schemas {
			if _, err := e.admin.Pool().Exec(ctx, `DROP SCHEMA IF EXISTS "`+s+`" CASCADE`); err != nil {
				fmt.Fprintf(os.Stderr, "bench: drop schema %s: %v\n", s, err)
			}
		}
		if e.tmp != "" {
			os.RemoveAll(e.tmp)
		}
	}
	if e.admin != nil {
		e.admin.Close()
	}
}

func (e *env) redactedDSN() string {
	u, err := url.Parse(e.dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}

// newSchema names a fresh schema, migrates it with `jobctl migrate`, and
// returns the child environment pointing at it.
func (e *env) newSchema(ctx context.Context) (schema string, childEnv []string, err error) {
	b := make([]byte, 4)
	rand.Read(b)
	schema = "bench_" + hex.EncodeToString(b)
	e.schemas = append(e.schemas, schema)
	childEnv = e.childEnv(e.dsn, "JOBCTL_SCHEMA="+schema)
	if _, err := e.run(ctx, childEnv, "migrate"); err != nil {
		return "", nil, err
	}
	return schema, childEnv, nil
}

// dropSchema drops a bench schema before the end of the run, to keep the
// database small between large figures.
func (e *env) dropSchema(ctx context.Context, schema string) {
	if e.cfg.keep {
		return
	}
	if _, err := e.admin.Pool().Exec(ctx, `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`); err != nil {
		fmt.Fprintf(os.Stderr, "bench: drop schema %s: %v\n", schema, err)
		return
	}
	e.schemas = slices.DeleteFunc(e.schemas, func(s string) bool { return s == schema })
}

// openSchema opens the store package on a bench schema.
func (e *env) openSchema(ctx context.Context, schema string) (*postgres.Store, error) {
	return postgres.Open(ctx, e.dsn, schema)
}

// sqliteEnv is the child environment for an embedded store at path.
func (e *env) sqliteEnv(path string) []string { return e.childEnv("sqlite:" + path) }

// childEnv is the bench's environment without any jobctl store or config
// settings, plus the store given and extra variables.
func (e *env) childEnv(dsn string, extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "JOBCTL_DATABASE_URL", "DATABASE_URL", "JOBCTL_SCHEMA", "JOBCTL_CONFIG":
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "JOBCTL_DATABASE_URL="+dsn, "NO_COLOR=1")
	return append(out, extra...)
}

// proc is a finished jobctl process.
type proc struct {
	wall   time.Duration
	peakKB int64 // max VmHWM seen while it ran, KiB
	// rusageKB is wait4's ru_maxrss, KiB: at least the bench's own RSS
	// (see watchPeakRSS), so only a cross-check for large children.
	rusageKB int64
	user     time.Duration
	sys      time.Duration
	stdout   string
	stderr   string // notes and summaries, such as "Enqueued 3 jobs"
}

// run runs jobctl to completion and times it from start to exit.
func (e *env) run(ctx context.Context, childEnv []string, args ...string) (*proc, error) {
	return e.runPolled(ctx, 50*time.Millisecond, childEnv, args...)
}

// runPolled is run with VmHWM polled every poll: short-lived processes
// need a short one.
func (e *env) runPolled(ctx context.Context, poll time.Duration, childEnv []string, args ...string) (*proc, error) {
	cmd := e.command(ctx, childEnv, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Start()
	var peak func() int64
	if err == nil {
		peak = watchPeakRSSEvery(cmd.Process.Pid, poll)
		err = cmd.Wait()
	}
	wall := time.Since(t0)
	if err != nil {
		return nil, fmt.Errorf("jobctl %s: %v: %s", strings.Join(args, " "), err, firstLine(stderr.String()))
	}
	p := &proc{wall: wall, peakKB: peak(), user: cmd.ProcessState.UserTime(),
		sys: cmd.ProcessState.SystemTime(), stdout: stdout.String(), stderr: stderr.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.rusageKB = ru.Maxrss
	}
	return p, nil
}

func (e *env) command(ctx context.Context, childEnv []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e.cfg.bin, args...)
	cmd.Env = childEnv
	cmd.Dir = e.tmp
	return cmd
}

// watchPeakRSS polls the process's VmHWM every 50ms until the returned
// function is called, which returns the largest value seen (KiB). wait4's
// ru_maxrss would be simpler but is wrong here: Linux keeps the high-water
// mark of the mm a process leaves at exec, and Go starts children with
// vfork semantics, so every child would report at least the bench's own
// RSS. Polling can miss a peak in the last 50ms before exit.
func watchPeakRSS(pid int) func() int64 { return watchPeakRSSEvery(pid, 50*time.Millisecond) }

func watchPeakRSSEvery(pid int, poll time.Duration) func() int64 {
	stop, done := make(chan struct{}), make(chan struct{})
	var peak int64
	go func() {
		defer close(done)
		tick := time.NewTicker(poll)
		defer tick.Stop()
		path := fmt.Sprintf("/proc/%d/status", pid)
		for {
			if b, err := os.ReadFile(path); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
						var kb int64
						fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
						peak = max(peak, kb)
					}
				}
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak
	}
}

// background is a long-running jobctl process (an idle worker).
type background struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan error
}

func (e *env) start(ctx context.Context, childEnv []string, args ...string) (*background, error) {
	b := &background{cmd: e.command(ctx, childEnv, args...), done: make(chan error, 1)}
	b.cmd.Stderr = &b.stderr
	if err := b.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { b.done <- b.cmd.Wait() }()
	return b, nil
}

// stop asks the process to shut down (SIGTERM) and waits for it.
func (b *background) stop() error {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-b.done:
		return err
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		return errors.New("did not stop within 30s of SIGTERM")
	}
}

// waitWorker waits until a worker has registered in s and had a moment to
// LISTEN, so the first sample does not measure start-up.
func waitWorker(ctx context.Context, s store.Store, b *background) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-b.done:
			return fmt.Errorf("worker exited: %v: %s", err, firstLine(b.stderr.String()))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if ws, err := s.Workers(ctx); err == nil && len(ws) > 0 {
			time.Sleep(300 * time.Millisecond)
			return nil
		}
	}
	return errors.New("worker did not register within 15s")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// writeJobs writes n Noop jobs as JSONL.
func writeJobs(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	// Streamed: a 1M-line file in a buffer would raise the bench's own
	// RSS, which ru_maxrss of every later child includes.
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		fmt.Fprintf(w, `{"type":"Noop","data":{"n":%d,"userId":"user_%d"}}`+"\n", i, i%5000)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// removeSQLite removes a SQLite store the bench made: its file, and the
// WAL and shared-memory files beside it.
func removeSQLite(path string) {
	for _, s := range []string{"", "-wal", "-shm"} {
		os.Remove(path + s)
	}
}
