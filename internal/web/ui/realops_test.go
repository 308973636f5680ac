package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/demo"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// countingOps is the real operations layer with its reads counted.
type countingOps struct {
	ops.Service
	summaries, lists atomic.Int64
}

func (c *countingOps) Summary(ctx context.Context, who ops.Principal) (*ops.Summary, error) {
	c.summaries.Add(1)
	return c.Service.Summary(ctx, who)
}

func (c *countingOps) List(ctx context.Context, who ops.Principal, req *ops.ListRequest) (*ops.ListResult, error) {
	c.lists.Add(1)
	return c.Service.List(ctx, who, req)
}

// backends are the stores the real-layer tests run on: SQLite always,
// Postgres when the test database is there (CI requires it).
var backends = map[string]func(testing.TB) *teststore.Backend{"sqlite": teststore.SQLite, "postgres": teststore.Postgres}

// eachBackend runs fn as a subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, open func(testing.TB) *teststore.Backend)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) { fn(t, backends[name]) })
	}
}

// realUI serves the pages over ops.New on a store seeded by demo.
func realUI(t *testing.T, open func(testing.TB) *teststore.Backend, who *ops.Principal) (*UI, *http.ServeMux, *countingOps, []*store.Job) {
	t.Helper()
	b := open(t)
	now := time.Now().UTC().Truncate(time.Second)
	jobs, err := demo.Seed(context.Background(), b.Store, now)
	if err != nil {
		t.Fatal(err)
	}
	svc := &countingOps{Service: ops.New(b.Store, ops.Options{Now: func() time.Time { return now }})}
	u, err := New(svc, Options{
		Principal: func(*http.Request) (ops.Principal, bool) { return *who, true },
		CSRF:      func(*http.Request) string { return "tok-123" },
		Now:       func() time.Time { return now },
		Tick:      time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Close)
	mux := http.NewServeMux()
	u.Register(mux)
	return u, mux, svc, jobs
}

func idsOf(jobs []*store.Job, keep func(*store.Job) bool) []string {
	var out []string
	for _, j := range jobs {
		if keep(j) {
			out = append(out, j.ID)
		}
	}
	slices.Sort(out)
	return out
}

var rowID = func(body string) []string {
	var out []string
	for _, part := range strings.Split(body, `<tr id="row-`)[1:] {
		out = append(out, part[:strings.IndexByte(part, '"')])
	}
	slices.Sort(out)
	return out
}

// The guide's bulk retry through the pages and the real operations layer:
// the list shows the failed CalendarSync jobs, the dialog counts them, the
// POST retries them all with the account and "web" in the audit rows.
func TestRealOpsBulkRetry(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *teststore.Backend) {
		// Not "alice": the demo's audit log has her retries already.
		who := ops.Principal{Name: "ada", Role: store.RoleAdmin, Via: ops.ViaWeb}
		_, mux, svc, jobs := realUI(t, open, &who)
		failed := idsOf(jobs, func(j *store.Job) bool { return j.Type == demo.CalendarSync && j.Status == store.StatusFailed })
		if len(failed) < 2 {
			t.Fatalf("demo seeds %d failed CalendarSync jobs", len(failed))
		}
		w := get(t, mux, "/admin/jobs?status=FAILED&type=CalendarSync")
		if w.Code != http.StatusOK {
			t.Fatalf("%d: %s", w.Code, w.Body)
		}
		body := w.Body.String()
		if got := rowID(body); !slices.Equal(got, failed) {
			t.Errorf("rows %v, want %v", got, failed)
		}
		wantContains(t, body, fmt.Sprintf(`data-testid="total">%d matching jobs`, len(failed)))
		dialog := get(t, mux, "/admin/jobs?confirm=retry&all=1&status=FAILED&type=CalendarSync", "HX-Request", "true").Body.String()
		wantContains(t, dialog, fmt.Sprintf(`<span data-testid="confirm-count">%d</span>`, len(failed)))

		w = post(t, mux, "/admin/jobs/actions", url.Values{"csrf": {"tok-123"}, "action": {"retry"}, "all": {"1"},
			"status": {"FAILED"}, "type": {"CalendarSync"}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("retry: %d %s", w.Code, w.Body)
		}
		ctx := context.Background()
		for _, id := range failed {
			d, err := svc.Job(ctx, admin, id)
			if err != nil {
				t.Fatal(err)
			}
			if d.Job.Status != store.StatusPending {
				t.Errorf("%s is %s after the retry, want PENDING", id, d.Job.Status)
			}
		}
		res, err := svc.Audit(ctx, admin, &ops.AuditRequest{Filter: store.AuditFilter{Actor: who.Name, Actions: []string{store.ActionRetry}}})
		if err != nil {
			t.Fatal(err)
		}
		var audited []string
		for _, e := range res.Items {
			var m map[string]any
			if err := json.Unmarshal(e.Metadata, &m); err != nil || m["via"] != "web" {
				t.Errorf("audit row %s: metadata %s, want via web", e.ResourceID, e.Metadata)
			}
			audited = append(audited, e.ResourceID)
		}
		slices.Sort(audited)
		if !slices.Equal(audited, failed) {
			t.Errorf("audit rows name %v, want %v", audited, failed)
		}
		// The guide's example job's page, after the retry.
		page := get(t, mux, "/admin/jobs/"+demo.GuideJobID).Body.String()
		wantContains(t, page, "CalendarSync", `data-status="PENDING"`, "Retry History", "calendar-sync.ts")
	})
}

// A user sees only its jobs, on every part of the page, and gets the
// guide's 403 for another's.
func TestRealOpsUserSeesOwnJobs(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *teststore.Backend) {
		who := ops.Principal{Name: "uma", Role: store.RoleUser, UserID: "user_131", Via: ops.ViaWeb}
		_, mux, _, jobs := realUI(t, open, &who)
		own := idsOf(jobs, func(j *store.Job) bool { return j.UserID == who.UserID && j.ArchivedAt == nil })
		if len(own) == 0 || len(own) > pageSize {
			t.Fatalf("demo gives %s %d jobs", who.UserID, len(own))
		}
		body := get(t, mux, "/admin/jobs").Body.String()
		if got := rowID(body); !slices.Equal(got, own) {
			t.Errorf("user sees %v, want %v", got, own)
		}
		var sum int
		for _, part := range strings.Split(body, `data-count="`)[1:] {
			var n int
			fmt.Sscanf(part[strings.IndexByte(part, '>')+1:], "%d", &n)
			sum += n
		}
		if sum != len(own) {
			t.Errorf("user's counts add up to %d, want %d", sum, len(own))
		}
		if w := get(t, mux, "/admin/jobs/"+demo.GuideJobID); w.Code != http.StatusForbidden {
			t.Errorf("another's job: %d, want 403", w.Code)
		}
	})
}

// The hub's promise against the real layer: many browsers, one Summary and
// one List per tick.
func TestRealOpsHubQueriesOncePerTick(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *teststore.Backend) {
		u, _, svc, jobs := realUI(t, open, &admin)
		ticks := manualTicks(u)
		var subs []*subscriber
		recent := jobs[len(jobs)-21:] // the newest: none archived
		for i := 0; i < 20; i++ {
			s, leave, err := u.hub.subscribe(admin, "tok", watch{Counts: true, Rows: []string{recent[i].ID, recent[i+1].ID}})
			if err != nil {
				t.Fatal(err)
			}
			defer leave()
			subs = append(subs, s)
		}
		c := ticks.next()
		s0, l0 := svc.summaries.Load(), svc.lists.Load()
		for i := 0; i < 3; i++ {
			ticks.fire(t, c)
		}
		if s, l := svc.summaries.Load()-s0, svc.lists.Load()-l0; s != 3 || l != 3 {
			t.Errorf("3 ticks for 20 browsers: %d Summary and %d List calls, want 3 and 3", s, l)
		}
		for _, s := range subs {
			if b := recv(t, s); len(b) < 3 {
				t.Errorf("a subscriber got %d events, want counts and its rows", len(b))
			}
		}
	})
}
