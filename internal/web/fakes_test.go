package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/auth"
	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// testNow is the fake clock of every handler test.
var testNow = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

// fakeOps is an operations layer over a few jobs in memory. It keeps the
// contract's rules the handlers rely on (a user's foreign job is
// ErrForbiddenJob, a status the action does not apply to is skipped) and
// records what it was asked.
type fakeOps struct {
	mu    sync.Mutex
	jobs  map[string]*store.Job
	calls []fakeCall
}

type fakeCall struct {
	Method string
	Who    ops.Principal
	Req    any
}

func newFakeOps() *fakeOps {
	j := func(id, typ string, st store.Status, user string) *store.Job {
		return &store.Job{ID: id, Type: typ, Status: st, UserID: user, CreatedAt: testNow.Add(-time.Hour), ScheduledFor: testNow}
	}
	return &fakeOps{jobs: map[string]*store.Job{
		"job_failed1": j("job_failed1", "CalendarSync", store.StatusFailed, "u1"),
		"job_failed2": j("job_failed2", "CalendarSync", store.StatusFailed, "u2"),
		"job_pending": j("job_pending", "Report", store.StatusPending, "u1"),
		"job_done":    j("job_done", "Report", store.StatusCompleted, "u1"),
	}}
}

func (f *fakeOps) record(m string, who ops.Principal, req any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fakeCall{m, who, req})
}

// last is the last call made, or a zero call.
func (f *fakeOps) last() fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return fakeCall{}
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeOps) job(who ops.Principal, id string) (*store.Job, error) {
	j, ok := f.jobs[id]
	if !ok {
		return nil, &ops.Error{Code: ops.CodeNotFound, Message: "no job " + id}
	}
	if who.Role == store.RoleUser && j.UserID != who.UserID {
		return nil, ops.ErrForbiddenJob
	}
	return j, nil
}

func (f *fakeOps) Act(ctx context.Context, who ops.Principal, req *ops.ActionRequest) (*ops.Result, error) {
	f.record("Act", who, req)
	// The roles, as the contract gives them: a manager lacks jobs:delete,
	// a user may only retry.
	if who.Role == store.RoleManager && req.Action.Permission() == store.PermDelete || who.Role == store.RoleUser && req.Action != store.ActRetry {
		return nil, &ops.Error{Code: ops.CodeForbidden, Message: "role " + string(who.Role) + " cannot " + string(req.Action)}
	}
	res := &ops.Result{OperationID: "op_test", Action: req.Action, DryRun: req.DryRun}
	if len(req.IDs) == 0 {
		if !req.All && isZeroFilter(req.Filter) {
			return nil, &ops.Error{Code: ops.CodeUnprocessable, Message: "no jobs chosen: give ids, a filter, or all"}
		}
		res.Changed = 2
		return res, nil
	}
	for _, id := range req.IDs {
		j, err := f.job(who, id)
		if e, ok := err.(*ops.Error); ok && e.Code == ops.CodeNotFound {
			res.NotFound = append(res.NotFound, id)
			continue
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(store.Allowed[req.Action], j.Status) && req.Action != store.ActRestore {
			res.Skipped = append(res.Skipped, store.Skipped{ID: id, Status: j.Status, Reason: store.RefusalReason(req.Action, id, j.Status, store.Allowed[req.Action])})
			continue
		}
		res.Changed++
		at := testNow.Add(req.Delay)
		res.Jobs = append(res.Jobs, ops.JobResponse{Success: true, JobID: id, Status: "PENDING", ScheduledFor: render.TimePtr(&at)})
	}
	return res, nil
}

func isZeroFilter(f store.Filter) bool {
	return len(f.IDs) == 0 && len(f.Statuses) == 0 && len(f.Types) == 0 && f.Since.IsZero() && f.Until.IsZero() && f.FinishedBefore.IsZero() && f.UserID == ""
}

func (f *fakeOps) Count(ctx context.Context, who ops.Principal, req *ops.ActionRequest) (int64, error) {
	f.record("Count", who, req)
	return 2, nil
}

func (f *fakeOps) List(ctx context.Context, who ops.Principal, req *ops.ListRequest) (*ops.ListResult, error) {
	f.record("List", who, req)
	var items []*store.Job
	for _, id := range []string{"job_done", "job_failed1", "job_failed2", "job_pending"} {
		if j := f.jobs[id]; who.Role != store.RoleUser || j.UserID == who.UserID {
			items = append(items, j)
		}
	}
	n := int64(len(items))
	return &ops.ListResult{Items: items, Total: &n, Next: ""}, nil
}

func (f *fakeOps) Job(ctx context.Context, who ops.Principal, id string) (*ops.JobDetail, error) {
	f.record("Job", who, id)
	j, err := f.job(who, id)
	if err != nil {
		return nil, err
	}
	return &ops.JobDetail{Job: j, Related: &store.Related{}}, nil
}

func (f *fakeOps) Stats(ctx context.Context, who ops.Principal, p *store.StatsParams) (*store.Stats, error) {
	f.record("Stats", who, p)
	return &store.Stats{ByStatus: map[store.Status]int64{store.StatusFailed: 2}, Now: testNow}, nil
}

func (f *fakeOps) Summary(ctx context.Context, who ops.Principal) (*ops.Summary, error) {
	f.record("Summary", who, nil)
	return &ops.Summary{Counts: map[store.Status]store.Tally{store.StatusFailed: {N: 2}}}, nil
}

func (f *fakeOps) Types(ctx context.Context, who ops.Principal) ([]string, error) {
	f.record("Types", who, nil)
	return []string{"SendEmail"}, nil
}

func (f *fakeOps) Snapshot(ctx context.Context, who ops.Principal) (*store.Snapshot, error) {
	f.record("Snapshot", who, nil)
	return &store.Snapshot{Now: testNow}, nil
}

func (f *fakeOps) Health(ctx context.Context, who ops.Principal) (*health.Report, error) {
	f.record("Health", who, nil)
	return &health.Report{Status: health.Healthy}, nil
}

func (f *fakeOps) Audit(ctx context.Context, who ops.Principal, req *ops.AuditRequest) (*ops.AuditResult, error) {
	f.record("Audit", who, req)
	return &ops.AuditResult{Items: []*store.AuditEntry{{ID: 7, Action: store.ActionRetry, UserID: "alice"}}, Total: 1}, nil
}

func (f *fakeOps) Workers(ctx context.Context, who ops.Principal) ([]*store.WorkerInfo, error) {
	f.record("Workers", who, nil)
	return []*store.WorkerInfo{{ID: "w1", Host: "h", Concurrency: 2}}, nil
}

func (f *fakeOps) Schedules(ctx context.Context, who ops.Principal) ([]*store.Schedule, error) {
	f.record("Schedules", who, nil)
	return []*store.Schedule{{Name: "nightly", Type: "Report", Cron: "0 3 * * *"}}, nil
}

// fakeAuth is an Authenticator over fixed accounts, sessions and tokens.
type fakeAuth struct {
	mu        sync.Mutex
	accounts  map[string]*store.Account
	passwords map[string]string
	sessions  map[string]*store.Session // by cookie value
	tokens    map[string]string         // secret -> account
	throttled map[string]bool           // account names refused for failures
	loggedOut []string
	fail      error // every call fails with it
}

// The test accounts, one per role. user1 sees the jobs of "u1".
var testAccounts = []*store.Account{
	{Name: "admin1", Role: store.RoleAdmin},
	{Name: "manager1", Role: store.RoleManager},
	{Name: "user1", Role: store.RoleUser, UserID: "u1"},
}

func newFakeAuth() *fakeAuth {
	a := &fakeAuth{accounts: map[string]*store.Account{}, passwords: map[string]string{}, sessions: map[string]*store.Session{},
		tokens: map[string]string{}, throttled: map[string]bool{}}
	for _, acct := range testAccounts {
		a.accounts[acct.Name] = acct
		a.passwords[acct.Name] = "pw-" + acct.Name
		a.tokens["tok-"+acct.Name] = acct.Name
		a.sessions["cookie-"+acct.Name] = &store.Session{Account: acct.Name, CSRF: "csrf-" + acct.Name}
	}
	return a
}

func (a *fakeAuth) Login(ctx context.Context, name, password, addr string) (string, *store.Session, *store.Account, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return "", nil, nil, a.fail
	}
	if a.throttled[name] {
		return "", nil, nil, &auth.ThrottledError{RetryAfter: time.Minute}
	}
	acct, ok := a.accounts[name]
	if !ok || a.passwords[name] != password {
		return "", nil, nil, auth.ErrBadCredentials
	}
	cookie := fmt.Sprintf("new-%s-%s", name, addr)
	sess := &store.Session{Account: name, CSRF: "csrf-new-" + name, Addr: addr}
	a.sessions[cookie] = sess
	return cookie, sess, acct, nil
}

func (a *fakeAuth) Session(ctx context.Context, cookie string) (*store.Session, *store.Account, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return nil, nil, a.fail
	}
	s, ok := a.sessions[cookie]
	if !ok {
		return nil, nil, auth.ErrNoSession
	}
	return s, a.accounts[s.Account], nil
}

func (a *fakeAuth) Logout(ctx context.Context, cookie string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, cookie)
	a.loggedOut = append(a.loggedOut, cookie)
	return nil
}

func (a *fakeAuth) Token(ctx context.Context, bearer string) (*store.APIToken, *store.Account, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return nil, nil, a.fail
	}
	name, ok := a.tokens[bearer]
	if !ok {
		return nil, nil, auth.ErrBadToken
	}
	return &store.APIToken{Name: "t", Account: name}, a.accounts[name], nil
}

func (a *fakeAuth) GetAccount(ctx context.Context, name string) (*store.Account, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if acct, ok := a.accounts[name]; ok {
		return acct, nil
	}
	return nil, store.ErrNotFound
}

// fakeUI stands in for internal/web/ui: one page and one form action that
// echo who is logged in and the CSRF token.
type fakeUI struct{}

func (fakeUI) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/jobs", func(w http.ResponseWriter, r *http.Request) {
		who, ok := PrincipalFrom(r)
		fmt.Fprintf(w, "page for %s (%v) via %s csrf=%s", who.Name, ok, who.Via, CSRFToken(r))
	})
	mux.HandleFunc("POST /admin/jobs/actions", func(w http.ResponseWriter, r *http.Request) {
		who, _ := PrincipalFrom(r)
		fmt.Fprintf(w, "acted as %s", who.Name)
	})
	mux.HandleFunc("GET /admin/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: hello\n\n")
		http.NewResponseController(w).Flush()
		<-r.Context().Done() // a live stream: it ends when the client or the server goes
	})
	mux.HandleFunc("GET /admin/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "login form csrf=%s", CSRFToken(r))
	})
}

// env is a server over the fakes.
type env struct {
	h    http.Handler
	ops  *fakeOps
	auth *fakeAuth
	logs *strings.Builder
}

func newEnv(t *testing.T, mod ...func(*Config)) *env {
	t.Helper()
	e := &env{ops: newFakeOps(), auth: newFakeAuth(), logs: &strings.Builder{}}
	var mu sync.Mutex
	cfg := Config{
		Ops: e.ops, Auth: e.auth, Accounts: e.auth,
		Health:  func(context.Context) *health.Report { return &health.Report{Status: health.Healthy} },
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "jobctl_up 1\n") }),
		UI:      fakeUI{},
		Logger:  slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: e.logs}, nil)),
		Now:     func() time.Time { return testNow },
		Version: "test",
	}
	for _, m := range mod {
		m(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	return e
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// req describes one request.
type req struct {
	method, path, body string
	as                 string // "" anonymous; else an account name
	cookie             bool   // authenticate by session cookie instead of a token
	csrf               string // X-CSRF-Token
	remote             string
	header             http.Header
	form               string // a form body (sets Content-Type)
	cookies            []*http.Cookie
}

func (e *env) do(t *testing.T, rq req) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if rq.form != "" {
		body = strings.NewReader(rq.form)
	} else if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(rq.method, rq.path, body)
	if rq.form != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if rq.remote != "" {
		r.RemoteAddr = rq.remote
	}
	for k, vs := range rq.header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	if rq.as != "" {
		if rq.cookie {
			r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: "cookie-" + rq.as})
		} else {
			r.Header.Set("Authorization", "Bearer tok-"+rq.as)
		}
	}
	for _, c := range rq.cookies {
		r.AddCookie(c)
	}
	if rq.csrf != "" {
		r.Header.Set(CSRFHeader, rq.csrf)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var errTest = fmt.Errorf("connection refused (secret detail)")

type httptestRecorder = httptest.ResponseRecorder

func httptestRequest(method, target, form string) *http.Request {
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	r := httptest.NewRequest(method, target, body)
	if form != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return r
}

func serve(e *env, r *http.Request) *httptest.ResponseRecorder { return serve2(e.h, r) }

func serve2(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func newEnvHealth(context.Context) *health.Report { return &health.Report{Status: health.Healthy} }
