package worker

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/config"
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

// execConfig is a config whose type Gone runs program, beside a builtin
// Noop.
func execConfig(t *testing.T, program string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("exec.yaml", []byte(`jobs:
  Gone:
    handler: {exec: [`+strconv.Quote(program)+`]}
  Noop:
    handler: {builtin: noop}
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestHandlerRefusedAtStart: an exec handler whose program is missing, not
// executable or not on PATH is refused with the type and the program named;
// --types leaving that type out starts.
func TestHandlerRefusedAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	for program, problem := range map[string]string{
		filepath.Join(dir, "missing"):  "no such file",
		plain:                          "not executable",
		dir:                            "is a directory",
		"./handlers/calendar-sync":     "no such file (relative to the working directory " + wd + ")",
		"no-such-command-jobctl-tests": "not found on PATH",
	} {
		cfg := execConfig(t, program)
		_, err := CheckHandlers(cfg, nil)
		var he *HandlerError
		if !errors.As(err, &he) || err.Error() != "Gone: handler "+program+": "+problem {
			t.Errorf("%s: %v; want %q", program, err, "Gone: handler "+program+": "+problem)
		}
		if _, err := New(nil, cfg, Options{}); !errors.As(err, &he) {
			t.Errorf("New with %s: %v; want a HandlerError", program, err)
		}
		if types, err := CheckHandlers(cfg, []string{"Noop"}); err != nil || len(types) != 1 {
			t.Errorf("--types Noop with %s: %v, %v; want Noop alone", program, types, err)
		}
	}
	for _, ok := range []string{"sh", "/bin/sh"} {
		if _, err := CheckHandlers(execConfig(t, ok), nil); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestHandlerCannotStart: a handler whose program disappears after the
// worker started hands its job back as PENDING with the attempt uncounted,
// and the worker stops claiming the type, saying so once, while it goes on
// running the others. With no type left it stops.
func TestHandlerCannotStart(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		program := filepath.Join(t.TempDir(), "calendar-sync")
		if err := os.WriteFile(program, []byte("#!/bin/sh\necho '{}'\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		cfg := execConfig(t, program)
		var logs logBuffer
		w, err := New(b, cfg, Options{Concurrency: 4, Logger: logs.logger(), PollInterval: 50 * time.Millisecond, Heartbeat: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()

		ok := enqueue(t, b, &store.EnqueueParams{Type: "Gone"})
		waitFor(t, 10*time.Second, "the handler to run while it is there", func() bool { return get(t, b, ok.ID).Status == store.StatusCompleted })

		if err := os.Remove(program); err != nil {
			t.Fatal(err)
		}
		first := enqueue(t, b, &store.EnqueueParams{Type: "Gone"})
		want := "handler for Gone cannot start: " + program + ": "
		waitFor(t, 10*time.Second, "the worker to stop claiming Gone", func() bool { return strings.Contains(logs.String(), "no longer claiming Gone") })
		// A claim already in flight when the type was dropped may take the
		// job once more; its handler cannot start either, and it comes back
		// again. Either way no attempt is ever counted.
		var j *store.Job
		waitFor(t, 10*time.Second, "the job to be handed back", func() bool {
			j = get(t, b, first.ID)
			return j.Status == store.StatusPending && j.WorkerID == ""
		})
		if j.Attempts != 0 || len(j.History) != 0 {
			t.Errorf("handed-back job: %d attempts, history %v; want the attempt uncounted", j.Attempts, j.History)
		}
		if n := strings.Count(logs.String(), "no longer claiming Gone"); n != 1 || !strings.Contains(logs.String(), "level=ERROR msg=\""+want) {
			t.Errorf("log says %d times that Gone is no longer claimed, want once at ERROR naming %q:\n%s", n, want, logs.String())
		}

		// Gone is left for a worker that can run it; Noop still runs.
		noop := enqueue(t, b, &store.EnqueueParams{Type: "Noop"})
		waitFor(t, 10*time.Second, "Noop to run", func() bool { return get(t, b, noop.ID).Status == store.StatusCompleted })
		time.Sleep(200 * time.Millisecond) // a few more polls
		if j := get(t, b, first.ID); j.Status != store.StatusPending || j.Attempts != 0 {
			t.Errorf("Gone job after more polls: %s, %d attempts; want PENDING and unclaimed", j.Status, j.Attempts)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestNoTypeLeft: once no type's handler can start, the worker stops with
// an error rather than idle while it looks healthy.
func TestNoTypeLeft(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		program := filepath.Join(t.TempDir(), "calendar-sync")
		if err := os.WriteFile(program, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		w, err := New(b, execConfig(t, program), Options{Types: []string{"Gone"}, PollInterval: 50 * time.Millisecond, Heartbeat: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(program); err != nil {
			t.Fatal(err)
		}
		j := enqueue(t, b, &store.EnqueueParams{Type: "Gone"})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := w.Run(ctx); !errors.Is(err, errNoTypes) {
			t.Fatalf("Run: %v; want %v", err, errNoTypes)
		}
		if got := get(t, b, j.ID); got.Status != store.StatusPending || got.Attempts != 0 {
			t.Errorf("job: %s, %d attempts; want PENDING, uncounted", got.Status, got.Attempts)
		}
	})
}
