package worker

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// jsonLogs decodes a JSON log, one record a line.
func jsonLogs(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestOutcomeLogLevels: a completed job is logged at INFO, a failed attempt
// (RETRYING, FAILED) at WARN and a job out of attempts (DEAD) at ERROR, so
// --log-level warn shows every failure; and `worker started` names the
// store, the config file, the types and the concurrency.
func TestOutcomeLogLevels(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		done := enqueue(t, b, &store.EnqueueParams{Type: "Noop"})
		retrying := enqueue(t, b, &store.EnqueueParams{Type: "Fail", MaxAttempts: 2, Data: json.RawMessage(`{"code":"NETWORK_ERROR","message":"flaky"}`)})
		failed := enqueue(t, b, &store.EnqueueParams{Type: "Fail", Data: json.RawMessage(`{"code":"AUTH_ERROR","message":"bad token"}`)})

		var logs logBuffer
		logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		drain(t, b, Options{Concurrency: 4, Logger: logger, Store: "postgres://u:****@db/app"})

		// RETRYING, then DEAD on the second attempt; FAILED at once.
		want := map[string][]string{
			done.ID:     {"COMPLETED/INFO"},
			retrying.ID: {"RETRYING/WARN", "DEAD/ERROR"},
			failed.ID:   {"FAILED/WARN"},
		}
		got := map[string][]string{}
		var started map[string]any
		for _, r := range jsonLogs(t, logs.String()) {
			switch r["msg"] {
			case "job completed", "job failed":
				id, _ := r["job"].(string)
				got[id] = append(got[id], r["status"].(string)+"/"+r["level"].(string))
			case "worker started":
				started = r
			}
		}
		for id, w := range want {
			if strings.Join(got[id], " ") != strings.Join(w, " ") {
				t.Errorf("%s logged %v, want %v", id, got[id], w)
			}
		}
		if started == nil {
			t.Fatalf("no worker started line in\n%s", logs.String())
		}
		if started["store"] != "postgres://u:****@db/app" || started["config"] != "test.yaml" ||
			started["concurrency"] != float64(4) || len(started["types"].([]any)) != 4 || started["level"] != "INFO" {
			t.Errorf("worker started: %v; want the store, config, types and concurrency", started)
		}
	})
}

// TestOutcomeLevelOfRescue: a rescued job's new status sets its level too.
func TestOutcomeLevels(t *testing.T) {
	for st, want := range map[store.Status]slog.Level{
		store.StatusCompleted: slog.LevelInfo,
		store.StatusCancelled: slog.LevelInfo,
		store.StatusRetrying:  slog.LevelWarn,
		store.StatusFailed:    slog.LevelWarn,
		store.StatusDead:      slog.LevelError,
	} {
		if got := outcomeLevel(st); got != want {
			t.Errorf("%s logs at %v, want %v", st, got, want)
		}
	}
}

var _ = context.Background
var _ = time.Second
