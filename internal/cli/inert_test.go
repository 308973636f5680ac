package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// hostileText retitles the window (OSC … BEL), clears the screen (CSI
// 2J), returns the cursor (CR), sends a C1 CSI and a bidi override. NUL
// is added on SQLite only: Postgres refuses it in text.
const hostileText = "\x1b]0;pwned\x07\x1b[2J\rX\u009b31m\u202eevil\x7f\n\tend"

// ownSGR is the colour jobctl itself writes on a terminal.
var ownSGR = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// checkInert fails if out holds a character a terminal obeys: anything
// render.Inert would escape, but newline and tab, once jobctl's own
// colours are taken out.
func checkInert(t *testing.T, what, out string) {
	t.Helper()
	plain := ownSGR.ReplaceAllString(out, "")
	if !utf8.ValidString(plain) {
		t.Errorf("%s: output is not UTF-8: %q", what, plain)
		return
	}
	for i, r := range plain {
		if r == '\n' || r == '\t' {
			continue
		}
		if s := string(r); render.Inert(s) != s {
			t.Errorf("%s: raw %U at byte %d: %q", what, r, i, plain[max(0, i-40):min(len(plain), i+40)])
			return
		}
	}
}

// TestHostileStoreIsInert fills a store, on each backend, with a job,
// worker, schedule and audit row whose every string is hostile, then
// runs every command that shows them, as a terminal and as a pipe: none
// prints a raw control character.
func TestHostileStoreIsInert(t *testing.T) {
	for _, b := range monBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ms := b.open(t)
			ctx := context.Background()
			h := hostileText
			if b.name == "sqlite" {
				h += "\x00nul"
			}
			hj, _ := json.Marshal(h)
			now := ms.now(t)
			hostileID := "job_" + h
			id := store.NewID(now)
			job := func(id string) *store.Job {
				done := now
				return &store.Job{
					ID: id, Type: "type:" + h, Status: store.StatusFailed, Priority: store.PriorityNormal,
					Data:         json.RawMessage(`{"note":` + string(hj) + `}`),
					Output:       json.RawMessage(`{"out":` + string(hj) + `}`),
					ErrorMessage: "message:" + h, ErrorCode: "code:" + h, ErrorStack: "stack:" + h + "\n  at x",
					Attempts: 2, MaxAttempts: 5, ScheduledFor: now, CreatedAt: now, UpdatedAt: now,
					StartedAt: &done, CompletedAt: &done,
					UserID: "user:" + h, ParentID: "parent:" + h, WorkerID: "worker:" + h, UniqueKey: "key:" + h,
					History: []store.Attempt{{Attempt: 1, At: now, Code: "code1:" + h, Message: "history:" + h, WorkerID: "w:" + h}},
				}
			}
			hostileJob := job(hostileID)
			hostileJob.UniqueKey = "other:" + h
			if err := ms.Import(ctx, []*store.Job{job(id), hostileJob}); err != nil {
				t.Fatal(err)
			}
			if err := ms.RegisterWorker(ctx, &store.WorkerInfo{ID: "worker:" + h, Host: "host:" + h, PID: 1, Types: []string{"type:" + h}, Concurrency: 1}); err != nil {
				t.Fatal(err)
			}
			// schedule add refuses such a name now, so write it as a
			// hostile client with SQL access could.
			ms.exec(t, `INSERT INTO "RecurringJob" (name, type, schedule, timezone, data, "nextRunAt") VALUES ($1, $2, $3, $4, $5, $6)`,
				"sched:"+h, "type:"+h, "*/5 * * * *", "UTC", `{"s":`+string(hj)+`}`, now.UTC().Format("2006-01-02T15:04:05.000Z"))
			meta, _ := json.Marshal(map[string]string{"previousStatus": h, "newStatus": h, "operationId": h})
			ms.exec(t, `INSERT INTO "AuditLog" (action, "userId", resource, "resourceId", metadata) VALUES ($1, $2, $3, $4, $5)`,
				"action:"+h, "actor:"+h, "Res:"+h, "id:"+h, string(meta))

			commands := [][]string{
				{"list"}, {"list", "-o", "wide"}, {"list", "-o", "csv"},
				{"show", id}, {"show", id, "-o", "yaml"}, {"show", id, "-o", "json"},
				{"show", "job_nosuch" + h},
				{"stats"}, {"dashboard"}, {"audit"}, {"worker", "list"}, {"schedule", "list"},
				{"retry", id, "--dry-run"}, {"cancel", hostileID},
			}
			for _, cmd := range commands {
				for _, tty := range []bool{true, false} {
					_, out, errOut := monRun(t, tty, nil, append(cmd, ms.args...)...)
					what := strings.Join(cmd[:1], " ")
					if tty {
						what += " (tty)"
					}
					checkInert(t, what, out+errOut)
					if !strings.Contains(out+errOut, "pwned") {
						t.Errorf("%s shows none of the hostile text:\n%s%s", what, out, errOut)
					}
				}
			}
		})
	}
}

// TestWorkerTextLogIsInert checks the worker's text log, which slog's
// TextHandler quotes: a job type or error message with escapes logs as
// \x1b, never raw. The JSON log escapes as JSON does.
func TestWorkerTextLogIsInert(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		log, err := newLogger(&buf, format, "info")
		if err != nil {
			t.Fatal(err)
		}
		log.Info("job failed", "type", "type:"+hostileText+"\x00", "error", "message:"+hostileText, hostileText, "key")
		log.Info("message:" + hostileText)
		out := buf.String()
		if strings.Count(out, "\n") != 2 {
			t.Errorf("%s: a log record spans more than one line:\n%s", format, out)
		}
		if format == "json" {
			// JSON escapes the C0 controls and keeps the value exact.
			var rec map[string]any
			if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &rec); err != nil || rec["error"] != "message:"+hostileText {
				t.Errorf("json log: %v %q", err, rec)
			}
			if strings.ContainsAny(out, "\x1b\x07\r\x00") {
				t.Errorf("json log holds a raw control character: %q", out)
			}
			continue
		}
		checkInert(t, "text log", strings.ReplaceAll(out, "\n", ""))
		if !strings.Contains(out, `error="message:\x1b]0;pwned\a\x1b[2J\rX\u009b31m\u202eevil\x7f\n\tend"`) {
			t.Errorf("text log does not show the escapes:\n%s", out)
		}
	}
}
