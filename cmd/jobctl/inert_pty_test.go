package main_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

// ptyHostile retitles the window (OSC … BEL), clears the screen (CSI 2J),
// returns the cursor (CR), rings (BEL), sends a C1 CSI and reverses the
// text (U+202E).
const ptyHostile = "\x1b]0;pwned\x07\x1b[2J\rX\x07\u009b31m\u202eevil\x7f\n\tend"

// ownSequence is what jobctl itself writes on a colour terminal: SGR
// colours, and the dashboard's alternate screen, cursor and clear.
var ownSequence = regexp.MustCompile(`\x1b\[[0-9;]*m|\x1b\[\?1049[hl]|\x1b\[\?25[hl]|\x1b\[H\x1b\[2J`)

// terminalOutput runs jobctl on a colour pseudo terminal and returns all
// it showed. With interrupt set, it sends Ctrl-C once want is shown.
func terminalOutput(t *testing.T, env []string, want string, interrupt bool, args ...string) string {
	t.Helper()
	r, _ := startOnPTY(t, env, 160, 40, args...)
	if interrupt {
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(r.shown(), want) {
			if time.Now().After(deadline) {
				_ = r.cmd.Process.Kill()
				t.Fatalf("jobctl %s never showed %q:\n%q", args[0], want, r.shown())
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = r.cmd.Process.Signal(syscall.SIGINT)
	}
	out := r.wait(t)
	if !strings.Contains(out, want) {
		t.Errorf("jobctl %s does not show %q:\n%q", strings.Join(args, " "), want, out)
	}
	return out
}

// TestTerminalShowsJobDataInert runs the human views of a job whose text
// fields hold terminal controls on a real colour terminal: what reaches
// it is jobctl's own colours and screen handling, and the job's text as
// visible escapes, never a raw control character.
func TestTerminalShowsJobDataInert(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			if backend == "postgres" {
				pgtest.URL(t)
			}
			s := newPTYStore(t, backend)
			h := ptyHostile
			if backend == "sqlite" {
				h += "\x00nul" // Postgres refuses NUL in text
			}
			id := s.jobctl(t, "enqueue", "CalendarSync")
			history, _ := json.Marshal([]map[string]any{{"attempt": 1, "at": "2025-10-25T10:00:00Z", "code": "code:" + h, "message": "history:" + h}})
			if _, err := s.db.Exec(`UPDATE "Job" SET status = 'DEAD', attempts = 1, "startedAt" = "createdAt", "completedAt" = "createdAt",
				"errorMessage" = $2, "errorCode" = $3, "errorStack" = $4, "userId" = $5, "workerId" = $6, "uniqueKey" = $7,
				"parentId" = $8, "errorHistory" = $9, type = $10 WHERE id = $1`,
				id, "message:"+h, "code:"+h, "stack:"+h+"\n  at x", "user:"+h, "worker:"+h, "key:"+h, "parent:"+h, string(history), "type:"+h); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.Exec(`INSERT INTO "Worker" (id, host, pid, concurrency) VALUES ($1, $2, 1, 4)`, "w:"+h, "host:"+h); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.Exec(`INSERT INTO "AuditLog" (action, "userId", resource, "resourceId") VALUES ($1, $1, 'Job', $1)`, "audit:"+h); err != nil {
				t.Fatal(err)
			}
			// A colour terminal, as an operator's.
			env := []string{"TERM=xterm-256color", "COLORTERM=truecolor"}
			for _, kv := range s.env {
				if !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "TERM=") {
					env = append(env, kv)
				}
			}
			views := []struct {
				want      string
				interrupt bool
				args      []string
			}{
				{`history:\x1b]0;pwned`, false, []string{"show", id}},
				// The wide table fits the terminal by cutting the error column.
				{`type:\x1b]0;pwned`, false, []string{"list", "-o", "wide"}},
				{`code:\x1b]0;pwned`, false, []string{"list", "-o", "csv"}},
				{`message:\x1b]0;pwned`, false, []string{"stats"}},
				{`type:\x1b]0;pwned`, false, []string{"dashboard"}},
				{`type:\x1b]0;pwned`, true, []string{"dashboard", "--watch", "1s"}},
				{`audit:\x1b]0;pwned`, false, []string{"audit"}},
				{`host:\x1b]0;pwned`, false, []string{"worker", "list"}},
			}
			for _, v := range views {
				out := terminalOutput(t, env, v.want, v.interrupt, v.args...)
				if v.args[len(v.args)-1] != "csv" && !strings.Contains(out, "\x1b[") {
					t.Errorf("jobctl %s printed no colour: not a colour terminal?\n%q", v.args[0], out)
				}
				plain := ownSequence.ReplaceAllString(out, "")
				// The terminal turns \n into \r\n.
				plain = strings.ReplaceAll(plain, "\r\n", "\n")
				for i, r := range plain {
					if r == '\n' || r == '\t' || r >= 0x20 && r < 0x7f {
						continue
					}
					if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r == utf8.RuneError {
						t.Errorf("jobctl %s: raw %U at byte %d: %q", strings.Join(v.args, " "), r, i, plain[max(0, i-40):min(len(plain), i+40)])
						break
					}
				}
			}
		})
	}
}
