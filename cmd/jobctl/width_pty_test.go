package main_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// screenLines are the lines a terminal showed, escapes stripped.
func screenLines(out string) []string {
	out = strings.ReplaceAll(out, "\r\n", "\n")
	return strings.Split(strings.TrimRight(ansi.Strip(out), "\n"), "\n")
}

// TestTerminalWidth80 runs the table views on an 80×24 colour terminal:
// no line is wider than 80 columns, though on a 250-column terminal the
// same rows are wider, and the job IDs are whole.
func TestTerminalWidth80(t *testing.T) {
	s := newPTYStore(t, "sqlite")
	s.seed(t, 2, "MonthlyInvoiceReconciliation", "FAILED", "2025-10-01T10:00:00.000Z")
	s.seed(t, 2, "CalendarSync", "COMPLETED", "2025-10-01T10:00:00.000Z")
	s.seed(t, 1, "InvoiceCheck", "DEAD", "2025-10-01T10:00:00.000Z")
	// The type name rules refuse CJK; a store written by another client
	// may hold it all the same, and it counts two columns a character.
	if _, err := s.db.Exec(`UPDATE "Job" SET type = '請求書の照合' WHERE type = 'InvoiceCheck'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE "Job" SET "errorCode" = 'AUTH_ERROR', "errorMessage" = 'Token refresh failed: Invalid refresh token for user 42',
		"userId" = 'user_with_a_long_name', "startedAt" = "createdAt", attempts = 1 WHERE status IN ('FAILED', 'DEAD')`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`INSERT INTO "Worker" (id, host, pid, concurrency, types) VALUES
		('worker-build-host-01.example.internal:48213', 'build-host-01.example.internal', 48213, 16, '["MonthlyInvoiceReconciliation","CalendarSync","EmailSending"]')`); err != nil {
		t.Fatal(err)
	}
	id := strings.Fields(s.jobctl(t, "list", "-q", "--status", "failed"))[0]
	s.jobctl(t, "retry", id)
	env := []string{"TERM=xterm-256color", "COLORTERM=truecolor"}
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "TERM=") {
			env = append(env, kv)
		}
	}
	for _, args := range [][]string{
		{"list"}, {"list", "-o", "wide"}, {"stats"}, {"audit"}, {"audit", "-o", "wide"}, {"worker", "list"},
	} {
		name := strings.Join(args, " ")
		wide, _ := startOnPTY(t, env, 250, 24, args...)
		widest := 0
		for _, l := range screenLines(wide.wait(t)) {
			widest = max(widest, ansi.StringWidth(l))
		}
		if widest <= 80 {
			t.Errorf("jobctl %s: on a wide terminal, rows are only %d columns: the test proves nothing", name, widest)
		}
		r, _ := startOnPTY(t, env, 80, 24, args...)
		out := r.wait(t)
		if !strings.Contains(out, "\x1b[") {
			t.Errorf("jobctl %s printed no colour: not a colour terminal?", name)
		}
		if !strings.Contains(out, "…") {
			t.Errorf("jobctl %s cut nothing:\n%s", name, ansi.Strip(out))
		}
		for _, l := range screenLines(out) {
			if w := ansi.StringWidth(l); w > 80 {
				t.Errorf("jobctl %s: a line is %d columns on an 80-column terminal:\n%s", name, w, l)
			}
		}
		if args[0] == "list" && !strings.Contains(out, id+" ") {
			t.Errorf("jobctl %s cut the job ID %s:\n%s", name, id, ansi.Strip(out))
		}
	}
}

// TestTerminalDashboardResize watches the dashboard on a terminal that is
// resized twice: each SIGWINCH redraws at once (the interval is an hour)
// a frame that fits the new width and is no taller than the screen.
func TestTerminalDashboardResize(t *testing.T) {
	s := newPTYStore(t, "sqlite")
	s.seed(t, 6, "MonthlyInvoiceReconciliation", "FAILED", "2025-10-01T10:00:00.000Z")
	s.seed(t, 6, "CalendarSync", "COMPLETED", "2025-10-01T10:00:00.000Z")
	r, resize := startOnPTY(t, s.env, 80, 24, "dashboard", "--watch", "1h", "--limit", "12")
	const clear = "\x1b[H\x1b[2J"
	// frameAfter waits for a whole frame drawn after byte offset from
	// and returns its lines.
	frameAfter := func(from int) ([]string, int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			out := r.shown()
			if i := strings.LastIndex(out, clear); i >= from {
				lines := screenLines(out[i+len(clear):])
				if last := lines[len(lines)-1]; strings.HasPrefix(last, "└") && strings.HasSuffix(last, "┘") {
					return lines, len(out)
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no whole frame after byte %d; the terminal shows:\n%q", from, out[min(from, len(out)):])
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	check := func(lines []string, cols, rows int) {
		t.Helper()
		if len(lines) > rows {
			t.Errorf("frame is %d lines on a %d-line screen:\n%s", len(lines), rows, strings.Join(lines, "\n"))
		}
		for _, l := range lines {
			if w := ansi.StringWidth(l); w != cols {
				t.Errorf("frame line is %d columns on a %d-column screen: %q", w, cols, l)
			}
		}
	}
	lines, at := frameAfter(0)
	check(lines, 80, 24)
	for _, size := range []struct{ cols, rows uint16 }{{100, 30}, {60, 20}} {
		resize(size.cols, size.rows)
		lines, at = frameAfter(at)
		check(lines, int(size.cols), int(size.rows))
	}
	if !strings.Contains(strings.Join(lines, "\n"), "newest") {
		t.Errorf("a 20-line screen shows all 12 recent jobs?\n%s", strings.Join(lines, "\n"))
	}
	_ = r.cmd.Process.Signal(syscall.SIGINT)
	r.wait(t)
}
