package main_test

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

// ptyStore is a store for the terminal tests, with the environment that
// points jobctl at it.
type ptyStore struct {
	env []string
	db  *sql.DB
}

func newPTYStore(t *testing.T, backend string) *ptyStore {
	t.Helper()
	dir := t.TempDir()
	env := []string{"HOME=" + dir, "XDG_DATA_HOME=" + dir, "TERM=xterm", "NO_COLOR=1", "PATH=/usr/bin:/bin"}
	var db *sql.DB
	if backend == "postgres" {
		dsn, schema := pgtest.Schema(t)
		env = append(env, "JOBCTL_DATABASE_URL="+dsn, "JOBCTL_SCHEMA="+schema)
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
		db = stdlib.OpenDB(*cfg)
	} else {
		path := filepath.Join(dir, "jobs.db")
		env = append(env, "JOBCTL_DATABASE_URL=sqlite:"+path)
		var err error
		if db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)"); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = db.Close() })
	s := &ptyStore{env: env, db: db}
	s.jobctl(t, "migrate")
	return s
}

// jobctl runs jobctl without a terminal and returns its stdout.
func (s *ptyStore) jobctl(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "jobctl"), args...)
	cmd.Env = s.env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jobctl %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// seed enqueues n jobs of typ and puts them in status st, finished at
// finished.
func (s *ptyStore) seed(t *testing.T, n int, typ, st, finished string) {
	t.Helper()
	for range n {
		id := s.jobctl(t, "enqueue", typ)
		if _, err := s.db.Exec(`UPDATE "Job" SET status = $2, "completedAt" = $3 WHERE id = $1`, id, st, finished); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *ptyStore) count(t *testing.T, typ, st string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM "Job" WHERE type = $1 AND status = $2`, typ, st).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// onTerminal runs jobctl with stdin, stdout and stderr on a pseudo
// terminal, waits for its question, types answer, and returns everything
// the terminal showed and the exit code.
func (s *ptyStore) onTerminal(t *testing.T, answer string, args ...string) (string, int) {
	t.Helper()
	shown, code, _ := s.onTerminalKeys(t, answer+"\n", args...)
	return shown, code
}

// onTerminalKeys is onTerminal typing keys as they are (Ctrl-C is "\x03",
// Ctrl-D "\x04"), and also returns how long jobctl took to exit after them.
func (s *ptyStore) onTerminalKeys(t *testing.T, keys string, args ...string) (string, int, time.Duration) {
	t.Helper()
	r, _ := startOnPTY(t, s.env, 100, 24, args...)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(r.shown(), "[y/N]") {
		if time.Now().After(deadline) {
			_ = r.cmd.Process.Kill()
			t.Fatalf("jobctl %s asked nothing; the terminal shows:\n%s", strings.Join(args, " "), r.shown())
		}
		time.Sleep(20 * time.Millisecond)
	}
	typed := time.Now()
	if _, err := r.tty.Write([]byte(keys)); err != nil {
		t.Fatal(err)
	}
	// A jobctl that ignores the keys is killed, not waited for forever.
	exited := make(chan error, 1)
	go func() { exited <- r.cmd.Wait() }()
	var err error
	select {
	case err = <-exited:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-exited
		t.Fatalf("jobctl %s did not end within 10s of %q; the terminal shows:\n%s", strings.Join(args, " "), keys, r.shown())
	}
	took := time.Since(typed)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r.shown(), code, took
}

// ptyRun is jobctl running on a pseudo terminal of a given size, with
// everything the terminal has shown so far.
type ptyRun struct {
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	seen bytes.Buffer
	done chan struct{}
}

func startOnPTY(t *testing.T, env []string, cols, rows uint16, args ...string) (*ptyRun, func(cols, rows uint16)) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "jobctl"), args...)
	cmd.Env = env
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	r := &ptyRun{cmd: cmd, tty: tty, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			r.mu.Lock()
			r.seen.Write(buf[:n])
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = tty.Close()
	})
	resize := func(cols, rows uint16) {
		if err := pty.Setsize(tty, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Process.Signal(syscall.SIGWINCH)
	}
	return r, resize
}

func (r *ptyRun) shown() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen.String()
}

// wait ends the run and returns all it showed.
func (r *ptyRun) wait(t *testing.T) string {
	t.Helper()
	err := r.cmd.Wait()
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return r.shown()
}

// TestTerminalQuestions runs jobctl on a real terminal: a filter over
// several jobs asks with the count, "n" changes nothing, "y" acts; purge
// asks too, since it cannot be undone.
func TestTerminalQuestions(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			if backend == "postgres" {
				pgtest.URL(t)
			}
			s := newPTYStore(t, backend)
			s.seed(t, 3, "CalendarSync", "FAILED", "2025-10-01T10:00:00.000Z")
			s.seed(t, 1, "EmailSending", "FAILED", "2025-10-01T10:00:00.000Z")

			shown, code := s.onTerminal(t, "n", "retry", "--type", "CalendarSync", "--status", "failed")
			if !strings.Contains(shown, "Retry 3 CalendarSync jobs? [y/N]") || !strings.Contains(shown, "Aborted; nothing changed.") || code != 1 {
				t.Errorf("answering n: exit %d, terminal:\n%s", code, shown)
			}
			if n := s.count(t, "CalendarSync", "FAILED"); n != 3 {
				t.Errorf("answering n left %d of 3 jobs FAILED", n)
			}

			shown, code = s.onTerminal(t, "y", "retry", "--type", "CalendarSync", "--status", "failed")
			if !strings.Contains(shown, "Retried 3 jobs") || code != 0 {
				t.Errorf("answering y: exit %d, terminal:\n%s", code, shown)
			}
			if n := s.count(t, "CalendarSync", "PENDING"); n != 3 {
				t.Errorf("answering y retried %d of 3 jobs", n)
			}
			if n := s.count(t, "EmailSending", "FAILED"); n != 1 {
				t.Errorf("the retry touched another type")
			}

			s.seed(t, 2, "DataExport", "COMPLETED", "2025-01-01T00:00:00.000Z")
			shown, code = s.onTerminal(t, "y", "purge", "--older", "1d")
			if !strings.Contains(shown, "Purge 3 jobs? This cannot be undone. [y/N]") || !strings.Contains(shown, "Purged 3 jobs") || code != 0 {
				t.Errorf("purge: exit %d, terminal:\n%s", code, shown)
			}
			if n := s.count(t, "DataExport", "COMPLETED") + s.count(t, "EmailSending", "FAILED"); n != 0 {
				t.Errorf("purge left %d old finished jobs", n)
			}
			if n := s.count(t, "CalendarSync", "PENDING"); n != 3 {
				t.Errorf("purge deleted live jobs: %d of 3 PENDING left", n)
			}
		})
	}
}

// snapshot is every job's ID, status and attempts, in ID order, and the
// number of audit rows: what an aborted question must leave as it was.
func (s *ptyStore) snapshot(t *testing.T) string {
	t.Helper()
	rows, err := s.db.Query(`SELECT id, status, attempts FROM "Job" ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, st string
		var n int
		if err := rows.Scan(&id, &st, &n); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %d\n", id, st, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var audit int
	if err := s.db.QueryRow(`SELECT count(*) FROM "AuditLog"`).Scan(&audit); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "audit rows: %d\n", audit)
	return b.String()
}

// TestTerminalAbort: Ctrl-C at a question ends jobctl within a second with
// exit 130; Ctrl-D (end of input) and declining end it with exit 1. Each
// says "Aborted; nothing changed." and changes nothing. A delete of one job
// names it in the question.
func TestTerminalAbort(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			if backend == "postgres" {
				pgtest.URL(t)
			}
			s := newPTYStore(t, backend)
			s.seed(t, 3, "CalendarSync", "FAILED", "2025-10-01T10:00:00.000Z")
			one := s.jobctl(t, "list", "-q", "--limit", "1")
			before := s.snapshot(t)
			for _, tc := range []struct {
				name, keys string
				code       int
				args       []string
				question   string
			}{
				{"ctrl-c retry", "\x03", 130, []string{"retry", "--type", "CalendarSync"}, "Retry 3 CalendarSync jobs? [y/N]"},
				{"ctrl-c purge", "\x03", 130, []string{"purge", "--all"}, "Purge 3 jobs? This cannot be undone. [y/N]"},
				{"ctrl-c delete", "\x03", 130, []string{"delete", one}, "Delete " + one + " (CalendarSync, FAILED)? This cannot be undone. [y/N]"},
				{"ctrl-d delete", "\x04", 1, []string{"delete", one}, "Delete " + one + " (CalendarSync, FAILED)? This cannot be undone. [y/N]"},
				{"ctrl-d retry", "\x04", 1, []string{"retry", "--all"}, "Retry 3 jobs? [y/N]"},
				{"enter", "\r", 1, []string{"purge", "--all"}, "Purge 3 jobs? This cannot be undone. [y/N]"},
				{"n", "n\r", 1, []string{"delete", one}, "Delete " + one + " (CalendarSync, FAILED)? This cannot be undone. [y/N]"},
			} {
				shown, code, took := s.onTerminalKeys(t, tc.keys, tc.args...)
				if code != tc.code || !strings.Contains(shown, tc.question) || !strings.Contains(shown, "Aborted; nothing changed.") {
					t.Errorf("%s: exit %d, want %d; the terminal shows:\n%s", tc.name, code, tc.code, shown)
				}
				if tc.code == 130 && took > time.Second {
					t.Errorf("%s: jobctl took %s to end after Ctrl-C, want under 1s", tc.name, took)
				}
				if after := s.snapshot(t); after != before {
					t.Errorf("%s changed the store:\nbefore:\n%safter:\n%s", tc.name, before, after)
				}
			}
		})
	}
}
