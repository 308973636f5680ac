package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// cliEnv runs jobctl in process against a fresh SQLite store, with
// captured streams that count as terminals or not.
type cliEnv struct {
	t               *testing.T
	f               *cmdutil.Factory
	in, out, errOut *bytes.Buffer
}

func newCLIEnv(t *testing.T, tty bool) *cliEnv {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "jobs.db")
	ios, in, out, errOut := render.Test(tty, tty)
	f := cmdutil.NewFactory(ios, func(k string) string {
		if k == "JOBCTL_DATABASE_URL" {
			return dsn
		}
		return ""
	})
	t.Cleanup(f.Close)
	// The store exists before the first command, as after `jobctl migrate`:
	// reads never create one.
	if _, err := f.StoreCreate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &cliEnv{t: t, f: f, in: in, out: out, errOut: errOut}
}

// run runs one command line with stdin as its input and returns the exit
// code.
func (e *cliEnv) run(stdin string, args ...string) int {
	e.in.Reset()
	e.out.Reset()
	e.errOut.Reset()
	e.in.WriteString(stdin)
	root := NewCmdRoot(e.f)
	root.SetArgs(args)
	return cmdutil.HandleError(e.f.IO, root.ExecuteContext(context.Background()))
}

func (e *cliEnv) store() store.Store {
	e.t.Helper()
	s, err := e.f.Store(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// seed imports a job of typ in status st, finished a day ago when final.
func (e *cliEnv) seed(typ string, st store.Status) string {
	e.t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	j := &store.Job{ID: store.NewID(now), Type: typ, Status: st, Priority: store.PriorityNormal,
		Data: json.RawMessage(`{}`), Attempts: 1, MaxAttempts: 5, ScheduledFor: now, CreatedAt: now, UpdatedAt: now}
	if st.Final() {
		done := now.Add(-24 * time.Hour)
		j.StartedAt, j.CompletedAt = &done, &done
	}
	if st == store.StatusRunning {
		j.WorkerID, j.StartedAt = "w1", &now
	}
	if err := e.store().Import(context.Background(), []*store.Job{j}); err != nil {
		e.t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // distinct, ordered IDs
	return j.ID
}

func (e *cliEnv) status(id string) store.Status {
	e.t.Helper()
	j, err := e.store().Get(context.Background(), id)
	if err != nil {
		e.t.Fatalf("get %s: %v", id, err)
	}
	return j.Status
}

func TestRetryJSONResponse(t *testing.T) {
	e := newCLIEnv(t, false)
	failed := e.seed("CalendarSync", store.StatusFailed)
	done := e.seed("CalendarSync", store.StatusCompleted)

	code := e.run("", "retry", failed, done, "nope", "-o", "json", "--as", "alice")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a named job was refused); stderr:\n%s", code, e.errOut)
	}
	var got []map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not a JSON array: %v\n%s", err, e.out)
	}
	if len(got) != 3 {
		t.Fatalf("got %d responses, want 3:\n%s", len(got), e.out)
	}
	keys := func(m map[string]any) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	// The guide's API response, exactly.
	if k := keys(got[0]); !slices.Equal(k, []string{"jobId", "scheduledFor", "status", "success"}) {
		t.Errorf("success keys = %v", k)
	}
	if got[0]["success"] != true || got[0]["jobId"] != failed || got[0]["status"] != "PENDING" {
		t.Errorf("success = %v", got[0])
	}
	if at, err := time.Parse(time.RFC3339, got[0]["scheduledFor"].(string)); err != nil || at.Location() != time.UTC {
		t.Errorf("scheduledFor %v is not RFC 3339 UTC: %v", got[0]["scheduledFor"], err)
	}
	reason := done + " is COMPLETED: retry needs FAILED, DEAD or CANCELLED"
	want := map[string]any{"success": false, "jobId": done, "status": "COMPLETED", "error": reason}
	if !equalJSON(got[1], want) {
		t.Errorf("refusal = %v, want %v", got[1], want)
	}
	want = map[string]any{"success": false, "jobId": "job_nope", "error": "job_nope not found"}
	if !equalJSON(got[2], want) {
		t.Errorf("not found = %v, want %v", got[2], want)
	}
	if w := "jobctl: " + reason + "\njobctl: job_nope not found\n"; e.errOut.String() != w {
		t.Errorf("stderr = %q, want %q", e.errOut, w)
	}
	if e.status(failed) != store.StatusPending || e.status(done) != store.StatusCompleted {
		t.Errorf("statuses after retry: %s %s", e.status(failed), e.status(done))
	}

	// The audit log records the actor and one operation for the run.
	es, err := e.store().Audit(context.Background(), &store.AuditFilter{ResourceID: failed})
	if err != nil || len(es) != 1 || es[0].UserID != "alice" || es[0].Action != store.ActionRetry {
		t.Fatalf("audit = %+v, %v", es, err)
	}
	var meta map[string]any
	_ = json.Unmarshal(es[0].Metadata, &meta)
	if op, _ := meta["operationId"].(string); !strings.HasPrefix(op, "op_") || len(op) != 29 {
		t.Errorf("operationId = %q", op)
	}
}

func equalJSON(a, b map[string]any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestRetryJSONL(t *testing.T) {
	e := newCLIEnv(t, false)
	a := e.seed("X", store.StatusFailed)
	b := e.seed("X", store.StatusDead)
	if code := e.run("", "retry", "--type", "X", "-o", "jsonl"); code != 0 {
		t.Fatalf("exit %d: %s", code, e.errOut)
	}
	lines := strings.Split(strings.TrimSpace(e.out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], `{"success":true,"jobId":"`+a+`","status":"PENDING","scheduledFor":"`) ||
		!strings.Contains(lines[1], b) {
		t.Errorf("jsonl:\n%s", e.out)
	}
	if e.errOut.Len() != 0 {
		t.Errorf("stderr without a terminal: %q", e.errOut)
	}
}

// TestConfirm drives the questions through a terminal-like IO.
func TestConfirm(t *testing.T) {
	e := newCLIEnv(t, true)
	ids := []string{e.seed("X", store.StatusFailed), e.seed("X", store.StatusFailed), e.seed("X", store.StatusFailed)}
	e.seed("Y", store.StatusFailed)

	if code := e.run("n\n", "retry", "--type", "X", "--status", "failed"); code != 1 {
		t.Fatalf("answering no: exit %d, want 1", code)
	}
	if w := "Retry 3 X jobs? [y/N] Aborted; nothing changed.\n"; e.errOut.String() != w || e.out.Len() != 0 {
		t.Errorf("stderr = %q, want %q", e.errOut, w)
	}
	for _, id := range ids {
		if st := e.status(id); st != store.StatusFailed {
			t.Errorf("%s is %s after answering no", id, st)
		}
	}
	if code := e.run("y\n", "retry", "--type", "X", "--status", "failed"); code != 0 {
		t.Fatalf("answering yes: exit %d: %s", code, e.errOut)
	}
	if e.out.Len() != 0 || e.errOut.String() != "Retry 3 X jobs? [y/N] Retried 3 jobs\n" {
		t.Errorf("stdout = %q, stderr = %q", e.out, e.errOut)
	}
	// A single match, IDs, --yes and --dry-run never ask.
	for _, args := range [][]string{
		{"retry", "--type", "Y"},
		{"cancel", ids[0], ids[1]},
		{"cancel", "--type", "X", "--dry-run"},
		{"cancel", "--type", "X", "--yes"},
	} {
		if code := e.run("", args...); code != 0 || strings.Contains(e.errOut.String(), "[y/N]") {
			t.Errorf("%v: exit %d, stderr %q", args, code, e.errOut)
		}
	}
	// Delete and purge ask even for one job, and say it cannot be undone.
	gone := e.seed("Z", store.StatusCompleted)
	// One job named by ID is named in the question, with its type and status.
	if code := e.run("\n", "delete", gone); code != 1 || e.out.Len() != 0 ||
		e.errOut.String() != "Delete "+gone+" (Z, COMPLETED)? This cannot be undone. [y/N] Aborted; nothing changed.\n" {
		t.Errorf("delete, answer empty: exit %d, stdout %q, stderr %q", code, e.out, e.errOut)
	}
	// The end of input (Ctrl-D) aborts: exit 1, and a newline after the
	// question, where the cursor was.
	if code := e.run("", "delete", gone, "-o", "json"); code != 1 || e.out.Len() != 0 ||
		e.errOut.String() != "Delete "+gone+" (Z, COMPLETED)? This cannot be undone. [y/N] \nAborted; nothing changed.\n" {
		t.Errorf("delete, end of input: exit %d, stdout %q, stderr %q", code, e.out, e.errOut)
	}
	// Several IDs are counted; a missing or refused one alone is not asked about.
	other := e.seed("Z", store.StatusCompleted)
	if code := e.run("n\n", "delete", gone, other); code != 1 || !strings.HasPrefix(e.errOut.String(), "Delete 2 jobs? This cannot be undone. [y/N] ") {
		t.Errorf("delete two: exit %d, stderr %q", code, e.errOut)
	}
	if code := e.run("", "delete", "job_01m8ts07d298xzpp1e38edxrd9"); code != 1 || strings.Contains(e.errOut.String(), "[y/N]") {
		t.Errorf("delete a missing job: exit %d, stderr %q", code, e.errOut)
	}
	live := e.seed("Z", store.StatusRunning)
	if code := e.run("", "delete", live); code != 1 || strings.Contains(e.errOut.String(), "[y/N]") || e.status(live) != store.StatusRunning {
		t.Errorf("delete a RUNNING job: exit %d, stderr %q", code, e.errOut)
	}
	if st := e.status(gone); st != store.StatusCompleted {
		t.Fatalf("%s is %s after the delete was declined", gone, st)
	}
	if code := e.run("yes\n", "purge", "--type", "Z", "--status", "completed"); code != 0 || e.out.Len() != 0 ||
		e.errOut.String() != "Purge 2 Z jobs? This cannot be undone. [y/N] Purged 2 jobs\n" {
		t.Errorf("purge, answer yes: exit %d, stdout %q, stderr %q", code, e.out, e.errOut)
	}
}

// TestNoTerminal: retry and cancel proceed, delete and purge need --yes.
func TestNoTerminal(t *testing.T) {
	e := newCLIEnv(t, false)
	a, b := e.seed("X", store.StatusCompleted), e.seed("X", store.StatusCompleted)
	for _, args := range [][]string{{"delete", a}, {"purge", "--all"}, {"purge", "--older", "1h"}} {
		if code := e.run("", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if !strings.Contains(e.errOut.String(), "cannot be undone: pass --yes to run it without a terminal") {
			t.Errorf("%v: stderr %q", args, e.errOut)
		}
	}
	if e.status(a) != store.StatusCompleted {
		t.Fatal("a usage error deleted a job")
	}
	// The dry run's rows are data, on stdout; what it says of them is not.
	if code := e.run("", "purge", "--older", "1h", "--dry-run"); code != 0 || strings.Count(e.out.String(), "\tDELETED\n") != 2 ||
		strings.Contains(e.out.String(), "Would") || e.errOut.String() != "Would purge 2 jobs (dry run: nothing changed)\n" {
		t.Errorf("purge --dry-run: exit %d, stdout %q, stderr %q", code, e.out, e.errOut)
	}
	if code := e.run(a+"\n", "delete", "-", "--yes"); code != 0 || e.out.Len() != 0 || e.errOut.String() != "Deleted 1 job\n" {
		t.Errorf("delete - --yes: exit %d, stdout %q, stderr %q", code, e.out, e.errOut)
	}
	if code := e.run("", "purge", "--older", "1h", "-y", "-q"); code != 0 || e.out.String() != b+"\n" {
		t.Errorf("purge -y -q: exit %d, stdout %q", code, e.out)
	}
	// Nothing on stdin: nothing happens, and nothing widens to a filter.
	c := e.seed("X", store.StatusFailed)
	if code := e.run("", "retry", "-"); code != 0 || e.out.Len() != 0 || e.errOut.String() != "No job IDs on stdin; nothing to retry\n" {
		t.Errorf("retry - with empty stdin: exit %d, stdout %q, stderr %q", code, e.out, e.errOut)
	}
	if e.status(c) != store.StatusFailed {
		t.Error("an empty stdin retried jobs")
	}
}

func TestCancelWait(t *testing.T) {
	e := newCLIEnv(t, false)
	running := e.seed("X", store.StatusRunning)
	pending := e.seed("X", store.StatusPending)
	// Play the worker, alive (a gone one's job is cancelled at once): end
	// the job once it has been asked to stop.
	if err := e.store().RegisterWorker(context.Background(), &store.WorkerInfo{ID: "w1", Host: "h", PID: 1, Concurrency: 1}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			j, err := e.store().Get(context.Background(), running)
			if err == nil && j.CancelRequested {
				_, _ = e.store().MarkCancelled(context.Background(), j.WorkerID, []string{running})
				return
			}
		}
	}()
	code := e.run("", "cancel", running, pending, "--wait", "--timeout", "10s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e.errOut)
	}
	want := "Cancelled 1 job; cancel requested for 1 running job\n" + running + " ended CANCELLED\n"
	if e.out.Len() != 0 || e.errOut.String() != want {
		t.Errorf("stdout = %q, stderr = %q, want %q", e.out, e.errOut, want)
	}
}

// TestOneNamedJobIsAnObject: one ID on the command line prints the guide's
// response object itself; the same job named on stdin, or found by a
// filter, prints an array, so a script's shape never depends on a count.
func TestOneNamedJobIsAnObject(t *testing.T) {
	e := newCLIEnv(t, false)
	a := e.seed("CalendarSync", store.StatusFailed)
	if code := e.run("", "retry", a, "-o", "json"); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, e.errOut)
	}
	var obj map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &obj); err != nil {
		t.Fatalf("one ID: stdout is not a JSON object: %v\n%s", err, e.out)
	}
	if len(obj) != 4 || obj["success"] != true || obj["jobId"] != a || obj["status"] != "PENDING" || obj["scheduledFor"] == nil {
		t.Errorf("one ID: %v, want the guide's four keys", obj)
	}
	for _, args := range [][]string{{"retry", "-", "-o", "json"}, {"retry", "--type", "CalendarSync", "-o", "json"}} {
		b := e.seed("CalendarSync", store.StatusFailed)
		stdin := ""
		if args[1] == "-" {
			stdin = b + "\n"
		}
		if code := e.run(stdin, args...); code != 0 {
			t.Fatalf("%v: exit %d; stderr:\n%s", args, code, e.errOut)
		}
		var arr []map[string]any
		if err := json.Unmarshal(e.out.Bytes(), &arr); err != nil || len(arr) != 1 || arr[0]["jobId"] != b {
			t.Errorf("%v: want an array of one for %s: %v\n%s", args, b, err, e.out)
		}
	}
}

// silentTerminal is a terminal nobody types at: Read blocks until the
// test ends.
type silentTerminal struct{ done chan struct{} }

func (r silentTerminal) Read([]byte) (int, error) {
	<-r.done
	return 0, io.EOF
}

// TestConfirmInterrupt: Ctrl-C (the root context cancelled, as Main's
// signal.NotifyContext does) at a question ends the command at once with
// exit 130, says nothing changed, and changes nothing.
func TestConfirmInterrupt(t *testing.T) {
	e := newCLIEnv(t, true)
	ids := []string{e.seed("X", store.StatusFailed), e.seed("X", store.StatusFailed)}
	for _, args := range [][]string{
		{"retry", "--type", "X"},
		{"delete", ids[0]},
		{"purge", "--type", "X", "-o", "json"},
	} {
		e.out.Reset()
		e.errOut.Reset()
		term := silentTerminal{done: make(chan struct{})}
		e.f.IO.In = term
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		root := NewCmdRoot(e.f)
		root.SetArgs(args)
		start := time.Now()
		code := cmdutil.HandleError(e.f.IO, root.ExecuteContext(ctx))
		took := time.Since(start)
		close(term.done)
		cancel()
		if code != 130 || took > time.Second {
			t.Errorf("%v: exit %d after %s, want 130 within 1s", args, code, took)
		}
		if !strings.HasSuffix(e.errOut.String(), "[y/N] \nAborted; nothing changed.\n") || e.out.Len() != 0 {
			t.Errorf("%v: stdout %q, stderr %q", args, e.out, e.errOut)
		}
		for _, id := range ids {
			if st := e.status(id); st != store.StatusFailed {
				t.Errorf("%v: %s is %s after Ctrl-C", args, id, st)
			}
		}
	}
	e.f.IO.In = e.in
}
