package worker

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/store"
)

func testJob() *store.Job {
	return &store.Job{ID: "job_test1", Type: "T", Attempts: 2, Data: json.RawMessage(`{"userId":"user_123"}`)}
}

func runExec(t *testing.T, ctx context.Context, script string) (json.RawMessage, error) {
	t.Helper()
	return newExec(t, script, true).Run(ctx, testJob())
}

// newExec builds the exec handler a config with passDatabaseURL: database
// makes, supervised by the test binary.
func newExec(t *testing.T, script string, database bool) Handler {
	t.Helper()
	h, err := NewHandler(config.Handler{Kind: config.KindExec, Exec: []string{"sh", "-c", script}, PassDatabaseURL: database},
		Env{DSN: "sqlite:/tmp/x.db", Schema: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestExecHandler(t *testing.T) {
	t.Parallel()
	out, err := runExec(t, context.Background(), `cat >/dev/null; printf '{"in":%s,"id":"%s","type":"%s","attempt":%s,"dsn":"%s","schema":"%s"}' "$(cat /dev/null; echo 1)" "$JOB_ID" "$JOB_TYPE" "$JOB_ATTEMPT" "$JOBCTL_DATABASE_URL" "$JOBCTL_SCHEMA"`)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	if got["id"] != "job_test1" || got["type"] != "T" || got["attempt"] != float64(2) || got["dsn"] != "sqlite:/tmp/x.db" || got["schema"] != "s1" {
		t.Errorf("environment seen by the handler: %v", got)
	}
	out, err = runExec(t, context.Background(), `cat`)
	if err != nil || string(out) != `{"userId":"user_123"}` {
		t.Errorf("stdin echo: %s, %v; want the job's data", out, err)
	}
	out, err = runExec(t, context.Background(), `echo plain text`)
	if err != nil || string(out) != `"plain text"` {
		t.Errorf("non-JSON stdout = %s, %v; want a JSON string", out, err)
	}
	out, err = runExec(t, context.Background(), `true`)
	if err != nil || out != nil {
		t.Errorf("empty stdout = %s, %v; want nil", out, err)
	}
}

// The store's address, which may carry its password, reaches a handler only
// when its type asks: neither the worker's DSN nor the variables it may have
// come from are inherited otherwise.
func TestExecHandlerDatabaseURLOptIn(t *testing.T) {
	t.Setenv("JOBCTL_DATABASE_URL", "postgres://worker:S3cret@db/jobs")
	t.Setenv("DATABASE_URL", "postgres://app:S3cret@db/app")
	t.Setenv("JOBCTL_SCHEMA", "from_env")
	t.Setenv("KEEP_ME", "kept")
	script := `printf '{"jobctl":"%s","database":"%s","schema":"%s","keep":"%s","set":"%s"}' "$JOBCTL_DATABASE_URL" "$DATABASE_URL" "$JOBCTL_SCHEMA" "$KEEP_ME" "${JOBCTL_DATABASE_URL+x}${DATABASE_URL+x}${JOBCTL_SCHEMA+x}"`
	for _, c := range []struct {
		database bool
		want     map[string]any
	}{
		{false, map[string]any{"jobctl": "", "database": "", "schema": "", "keep": "kept", "set": ""}},
		// Asked for, the worker's own store, not whatever the environment said.
		{true, map[string]any{"jobctl": "sqlite:/tmp/x.db", "database": "postgres://app:S3cret@db/app", "schema": "s1", "keep": "kept", "set": "xxx"}},
	} {
		out, err := newExec(t, script, c.database).Run(context.Background(), testJob())
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output %s: %v", out, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("passDatabaseURL: %v: handler saw %v; want %v", c.database, got, c.want)
		}
	}
}

// A production worker never runs a handler unsupervised.
func TestExecHandlerNeedsSupervisor(t *testing.T) {
	saved := testSupervisor
	testSupervisor = ""
	defer func() { testSupervisor = saved }()
	if _, err := NewHandler(config.Handler{Kind: config.KindExec, Exec: []string{"true"}}, Env{}); err == nil {
		t.Error("an exec handler without a supervisor was built")
	}
}

// The handler's exit code, and its death by a signal, reach the verdict
// through the supervisor unchanged.
func TestExecHandlerExitStatus(t *testing.T) {
	t.Parallel()
	for script, want := range map[string]string{
		"exit 0":      "",
		"exit 1":      "handler exited with status 1",
		"exit 75":     "handler exited with status 75 (EX_TEMPFAIL)",
		"exit 255":    "handler exited with status 255",
		"kill -9 $$":  "handler exited with status -1",
		"kill -15 $$": "handler exited with status -1",
	} {
		_, err := runExec(t, context.Background(), script)
		var je *JobError
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v; want success", script, err)
		case want != "" && (!errors.As(err, &je) || je.Message != want):
			t.Errorf("%s: %v; want %q", script, err, want)
		}
	}
	// A missing command cannot start: not the job's failure.
	h, err := NewHandler(config.Handler{Kind: config.KindExec, Exec: []string{"./no-such-handler"}}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Run(context.Background(), testJob())
	var cs *cannotStart
	if !errors.As(err, &cs) || cs.program != "./no-such-handler" || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing command: %#v; want cannotStart", err)
	}
}

func TestExecHandlerFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		script, code, msg string
		retryable         *bool
		stack             string
	}{
		{`echo trace line >&2; echo '{"code":"AUTH_ERROR","message":"Invalid token"}' >&2; exit 1`, "AUTH_ERROR", "Invalid token", nil, "trace line"},
		{`printf '%s\n' '{"code":"NETWORK_ERROR","message":"x","stack":"at a\nat b"}' >&2; exit 3`, "NETWORK_ERROR", "x", nil, "at a\nat b"},
		{`echo busy >&2; exit 75`, "TEMPORARY_FAILURE", "handler exited with status 75 (EX_TEMPFAIL)", yes(), "busy\n"},
		{`echo boom >&2; exit 2`, "HANDLER_ERROR", "handler exited with status 2", no(), "boom\n"},
	}
	for _, c := range cases {
		_, err := runExec(t, context.Background(), c.script)
		var je *JobError
		if !errors.As(err, &je) {
			t.Fatalf("%s: err = %v; want a JobError", c.script, err)
		}
		if je.Code != c.code || je.Message != c.msg || je.Stack != c.stack {
			t.Errorf("%s: got %q %q stack %q; want %q %q stack %q", c.script, je.Code, je.Message, je.Stack, c.code, c.msg, c.stack)
		}
		if (je.Retryable == nil) != (c.retryable == nil) || je.Retryable != nil && *je.Retryable != *c.retryable {
			t.Errorf("%s: retryable = %v; want %v", c.script, je.Retryable, c.retryable)
		}
	}
	// Only the last 64 KiB of stderr is kept.
	_, err := runExec(t, context.Background(), `head -c 200000 /dev/zero | tr '\0' x >&2; exit 1`)
	var je *JobError
	if !errors.As(err, &je) || len(je.Stack) != stackLimit {
		t.Errorf("long stderr kept %d bytes; want %d", len(je.Stack), stackLimit)
	}
}

func TestExecHandlerKillsProcessGroup(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The grandchild would outlive a kill of the shell alone.
	_, err := runExec(t, ctx, `sleep 30 & echo $! > `+pidFile+`; wait`)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v; want the context's error", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("handler took %v to stop", time.Since(start))
	}
	b, _ := os.ReadFile(pidFile)
	pid := strings.TrimSpace(string(b))
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat("/proc/" + pid); pid != "" && err == nil {
		if st, _ := os.ReadFile("/proc/" + pid + "/stat"); !strings.Contains(string(st), ") Z ") {
			t.Errorf("grandchild %s still running after the timeout", pid)
		}
	}
}

func TestHTTPHandler(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in httpJob
		_ = json.NewDecoder(r.Body).Decode(&in)
		if r.Header.Get("Idempotency-Key") != in.ID+"/2" {
			http.Error(w, "missing idempotency key", http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte(`{"echo":` + string(in.Data) + `}`))
		case "/busy":
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case "/down":
			http.Error(w, "db down", http.StatusServiceUnavailable)
		case "/bad":
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"code":"VALIDATION_ERROR","message":"email is required"}`))
		case "/gone":
			http.Error(w, "no such user", http.StatusNotFound)
		case "/slow":
			time.Sleep(2 * time.Second)
		}
	}))
	defer srv.Close()
	run := func(path string) (json.RawMessage, error) {
		return newHTTPHandler(srv.URL+path, time.Second).Run(context.Background(), testJob())
	}
	out, err := run("/ok")
	if err != nil || string(out) != `{"echo":{"userId":"user_123"}}` {
		t.Errorf("2xx: %s, %v", out, err)
	}
	cases := []struct {
		path, code string
		retryable  bool
	}{
		{"/busy", "RATE_LIMIT", true},
		{"/down", "HTTP_503", true},
		{"/bad", "VALIDATION_ERROR", false},
		{"/gone", "HTTP_404", false},
		{"/slow", "NETWORK_ERROR", false},
	}
	for _, c := range cases {
		_, err := run(c.path)
		var je *JobError
		if !errors.As(err, &je) || je.Code != c.code {
			t.Errorf("%s: %v; want code %s", c.path, err, c.code)
			continue
		}
		if c.path != "/slow" && (je.Retryable == nil || *je.Retryable != c.retryable) {
			t.Errorf("%s: retryable %v; want %v", c.path, je.Retryable, c.retryable)
		}
	}
}

func TestBuiltins(t *testing.T) {
	t.Parallel()
	if out, err := (noop{}).Run(context.Background(), testJob()); out != nil || err != nil {
		t.Errorf("noop: %s %v", out, err)
	}
	j := testJob()
	j.Data = json.RawMessage(`{"ms":20}`)
	if out, err := (sleeper{}).Run(context.Background(), j); err != nil || string(out) != `{"slept_ms":20}` {
		t.Errorf("sleep: %s %v", out, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	j.Data = json.RawMessage(`{"ms":60000}`)
	if _, err := (sleeper{}).Run(ctx, j); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled sleep: %v", err)
	}
	j.Data = json.RawMessage(`{"code":"AUTH_ERROR","message":"nope"}`)
	_, err := (failer{}).Run(context.Background(), j)
	var je *JobError
	if !errors.As(err, &je) || je.Code != "AUTH_ERROR" || je.Message != "nope" {
		t.Errorf("fail: %v", err)
	}
}
