package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// fakeOps is an ops.Service over a slice of jobs that records what the
// pages asked, so tests check the requests as well as the HTML.
type fakeOps struct {
	mu     sync.Mutex
	jobs   []*store.Job
	calls  map[string]int
	lists  []*ops.ListRequest
	acts   []*ops.ActionRequest
	actWho []ops.Principal
	counts []*ops.ActionRequest
	audits []*ops.AuditRequest
	count  int64
	actRes *ops.Result
	actErr error
	// estimate makes the list's total and the COMPLETED count estimates,
	// as Postgres's on a large table.
	estimate bool
}

func (f *fakeOps) called(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[name]++
}

func (f *fakeOps) n(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

// visible is what who may see: a user only its own jobs.
func visible(who ops.Principal, j *store.Job) bool {
	return who.Role != store.RoleUser || j.UserID == who.UserID
}

func (f *fakeOps) add(j *store.Job) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs = append(f.jobs, j)
}

func (f *fakeOps) setStatus(id string, st store.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, j := range f.jobs {
		if j.ID == id {
			j.Status = st
		}
	}
}

func (f *fakeOps) Act(ctx context.Context, who ops.Principal, req *ops.ActionRequest) (*ops.Result, error) {
	f.called("Act")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acts = append(f.acts, req)
	f.actWho = append(f.actWho, who)
	if f.actErr != nil {
		return f.actRes, f.actErr // a Result with an error: cut short part-way
	}
	if f.actRes != nil {
		return f.actRes, nil
	}
	return &ops.Result{OperationID: "op_test", Action: req.Action, Changed: int64(len(req.IDs))}, nil
}

func (f *fakeOps) Count(ctx context.Context, who ops.Principal, req *ops.ActionRequest) (int64, error) {
	f.called("Count")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts = append(f.counts, req)
	return f.count, nil
}

func (f *fakeOps) List(ctx context.Context, who ops.Principal, req *ops.ListRequest) (*ops.ListResult, error) {
	f.called("List")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists = append(f.lists, req)
	var items []*store.Job
	for _, j := range f.jobs {
		if !visible(who, j) {
			continue
		}
		if !req.Filter.Matches(j) {
			continue
		}
		c := *j
		items = append(items, &c)
	}
	if req.Sort == store.SortCreatedDesc {
		slices.SortStableFunc(items, func(a, b *store.Job) int { return b.CreatedAt.Compare(a.CreatedAt) })
	}
	res := &ops.ListResult{Items: items}
	if req.Limit > 0 && len(items) > req.Limit {
		res.Items, res.Next = items[:req.Limit], items[req.Limit-1].ID
	}
	if req.Count {
		n := int64(len(items))
		res.Total = &n
		res.TotalEstimated = f.estimate && req.CountLimit > 0
	}
	return res, nil
}

func (f *fakeOps) Job(ctx context.Context, who ops.Principal, id string) (*ops.JobDetail, error) {
	f.called("Job")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, j := range f.jobs {
		if j.ID == id {
			if !visible(who, j) {
				return nil, ops.ErrForbiddenJob
			}
			c := *j
			rel := &store.Related{}
			for _, k := range f.jobs {
				if k.ParentID == j.ID && visible(who, k) {
					rel.Children = append(rel.Children, k)
				}
			}
			return &ops.JobDetail{Job: &c, Related: rel}, nil
		}
	}
	return nil, &ops.Error{Code: ops.CodeNotFound, Message: "no job " + id}
}

func (f *fakeOps) Summary(ctx context.Context, who ops.Principal) (*ops.Summary, error) {
	f.called("Summary")
	f.mu.Lock()
	defer f.mu.Unlock()
	sum := &ops.Summary{Counts: map[store.Status]store.Tally{}}
	for _, j := range f.jobs {
		if visible(who, j) {
			t := sum.Counts[j.Status]
			t.N++
			sum.Counts[j.Status] = t
		}
	}
	if f.estimate {
		sum.Counts[store.StatusCompleted] = store.Tally{N: 958170, Estimated: true}
	}
	return sum, nil
}

func (f *fakeOps) Types(ctx context.Context, who ops.Principal) ([]string, error) {
	f.called("Types")
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []string{}
	for _, j := range f.jobs {
		if visible(who, j) && !slices.Contains(out, j.Type) {
			out = append(out, j.Type)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (f *fakeOps) Stats(ctx context.Context, who ops.Principal, p *store.StatsParams) (*store.Stats, error) {
	f.called("Stats")
	f.mu.Lock()
	defer f.mu.Unlock()
	st := &store.Stats{ByStatus: map[store.Status]int64{}}
	types := map[string]bool{}
	for _, j := range f.jobs {
		if visible(who, j) {
			st.ByStatus[j.Status]++
			if !types[j.Type] {
				types[j.Type] = true
				st.ByType = append(st.ByType, &store.TypeStats{Type: j.Type})
			}
		}
	}
	return st, nil
}

func (f *fakeOps) Snapshot(ctx context.Context, who ops.Principal) (*store.Snapshot, error) {
	f.called("Snapshot")
	return &store.Snapshot{}, nil
}

func (f *fakeOps) Health(ctx context.Context, who ops.Principal) (*health.Report, error) {
	f.called("Health")
	return &health.Report{Status: health.Degraded}, nil
}

func (f *fakeOps) Audit(ctx context.Context, who ops.Principal, req *ops.AuditRequest) (*ops.AuditResult, error) {
	f.called("Audit")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audits = append(f.audits, req)
	return &ops.AuditResult{Total: 1, Next: "41", Items: []*store.AuditEntry{{
		ID: 42, Action: "JOB_RETRY", UserID: "alice", Resource: "Job", ResourceID: "job_failed1",
		Metadata: json.RawMessage(`{"via":"web"}`), CreatedAt: testNow.Add(-time.Minute),
	}}}, nil
}

func (f *fakeOps) Workers(ctx context.Context, who ops.Principal) ([]*store.WorkerInfo, error) {
	f.called("Workers")
	return []*store.WorkerInfo{{ID: "w-1", Host: "box", PID: 4242, Types: []string{"CalendarSync"}, Concurrency: 4,
		StartedAt: testNow.Add(-time.Hour), LastPing: testNow.Add(-5 * time.Second)}}, nil
}

func (f *fakeOps) Schedules(ctx context.Context, who ops.Principal) ([]*store.Schedule, error) {
	f.called("Schedules")
	return []*store.Schedule{{Name: "nightly-metrics", Type: "MetricCalc", Cron: "0 2 * * *", Priority: store.PriorityNormal,
		NextRunAt: testNow.Add(3 * time.Hour)}}, nil
}

var testNow = time.Date(2025, 10, 25, 12, 0, 0, 0, time.UTC)

var (
	admin   = ops.Principal{Name: "alice", Role: store.RoleAdmin, Via: ops.ViaWeb}
	manager = ops.Principal{Name: "mona", Role: store.RoleManager, Via: ops.ViaWeb}
	userBob = ops.Principal{Name: "bob", Role: store.RoleUser, UserID: "user_123", Via: ops.ViaWeb}
)

func fixtureJobs() []*store.Job {
	started := testNow.Add(-time.Hour)
	done := started.Add(25 * time.Second)
	return []*store.Job{
		{ID: "job_12345abc", Type: "CalendarSync", Status: store.StatusFailed, Priority: store.PriorityNormal,
			Data:         json.RawMessage(`{"userId":"user_123","provider":"google","syncType":"full"}`),
			ErrorMessage: "Token refresh failed: Invalid refresh token", ErrorCode: "AUTH_ERROR",
			ErrorStack: "Error: Token refresh failed\n  at GoogleCalendarClient.refreshToken (/src/lib/calendar-sync.ts:45)",
			Attempts:   3, MaxAttempts: 5, CreatedAt: testNow.Add(-2 * time.Hour), StartedAt: &started, CompletedAt: &done,
			UserID: "user_123", History: []store.Attempt{
				{Attempt: 1, At: started, Code: "NETWORK_ERROR", Message: "Network timeout"},
				{Attempt: 3, At: done, Code: "AUTH_ERROR", Message: "Invalid token"},
			}},
		{ID: "job_child1", Type: "MetricCalc", Status: store.StatusPending, Priority: store.PriorityHigh, ParentID: "job_12345abc",
			MaxAttempts: 3, CreatedAt: testNow.Add(-time.Minute), UserID: "user_123"},
		{ID: "job_running", Type: "Export", Status: store.StatusRunning, Priority: store.PriorityNormal, MaxAttempts: 5,
			CreatedAt: testNow.Add(-30 * time.Second), StartedAt: &started, UserID: "user_999"},
		{ID: "job_xss", Type: `<script>alert(1)</script>`, Status: store.StatusCompleted, Priority: store.PriorityLow,
			Data: json.RawMessage(`{"note":"<img src=x onerror=alert(1)>"}`), Output: json.RawMessage(`{"rows":3}`),
			MaxAttempts: 5, CreatedAt: testNow.Add(-3 * time.Hour), StartedAt: &started, CompletedAt: &done, UserID: "user_999"},
	}
}

// newTestUI serves the pages with a fixed principal (or none) and a
// fixed CSRF token.
func newTestUI(t *testing.T, f *fakeOps, who *ops.Principal) (*UI, *http.ServeMux) {
	t.Helper()
	return newTestUIAt(t, f, who, func() time.Time { return testNow })
}

// newTestUIAt is newTestUI on the clock now.
func newTestUIAt(t *testing.T, f *fakeOps, who *ops.Principal, now func() time.Time) (*UI, *http.ServeMux) {
	t.Helper()
	if f.jobs == nil {
		f.jobs = fixtureJobs()
	}
	u, err := New(f, Options{
		Principal: func(*http.Request) (ops.Principal, bool) {
			if who == nil {
				return ops.Principal{}, false
			}
			return *who, true
		},
		CSRF: func(*http.Request) string { return "tok-123" },
		Now:  now,
		Tick: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Close)
	mux := http.NewServeMux()
	u.Register(mux)
	return u, mux
}
