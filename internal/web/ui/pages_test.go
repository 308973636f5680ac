package ui

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

func get(t *testing.T, h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func post(t *testing.T, h http.Handler, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func wantContains(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

func wantLacks(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(body, s) {
			t.Errorf("page has %q, want it absent", s)
		}
	}
}

func TestAnonymousGoesToLogin(t *testing.T) {
	f := &fakeOps{}
	_, mux := newTestUI(t, f, nil)
	for _, p := range []string{"/admin/jobs?status=FAILED", "/admin/jobs/job_12345abc", "/admin/audit-logs", "/admin/workers", "/admin/schedules"} {
		w := get(t, mux, p)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("GET %s: %d, want 303", p, w.Code)
		}
		if want := "/login?next=" + url.QueryEscape(p); w.Header().Get("Location") != want {
			t.Errorf("GET %s: Location %q, want %q", p, w.Header().Get("Location"), want)
		}
	}
	for _, p := range []string{"/admin/jobs/actions", "/admin/jobs/job_12345abc/retry"} {
		if w := post(t, mux, p, url.Values{"action": {"retry"}, "ids": {"job_12345abc"}}); w.Code != http.StatusSeeOther ||
			!strings.HasPrefix(w.Header().Get("Location"), "/login?next=") {
			t.Errorf("POST %s: %d %q, want 303 to /login", p, w.Code, w.Header().Get("Location"))
		}
	}
	if w := get(t, mux, "/admin/events?counts=1"); w.Code != http.StatusUnauthorized {
		t.Errorf("GET /admin/events: %d, want 401", w.Code)
	}
	if n := f.n("Act") + f.n("List") + f.n("Job"); n != 0 {
		t.Errorf("the anonymous reached ops %d times", n)
	}
}

func TestDashboardAndList(t *testing.T) {
	f := &fakeOps{}
	_, mux := newTestUI(t, f, &admin)
	w := get(t, mux, "/admin/jobs")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store (job data; no page kept with its stream open)", cc)
	}
	body := w.Body.String()
	wantContains(t, body,
		"Job Queue Dashboard", "Status Summary", "Recent Jobs",
		// counts, each with the guide's icon and colour class
		`<strong data-count="FAILED">1</strong>`, `<strong data-count="PENDING">1</strong>`,
		`class="chip st-failed" data-status="FAILED"><span aria-hidden="true">❌</span> Failed`,
		`st-running`, `⚡`, `✅`,
		// the guide's columns
		">ID<", ">Type<", ">Status<", ">Created<", ">Started<", ">Completed<", ">Duration<", ">Attempts<", ">Actions<",
		`<a href="/admin/jobs/job_12345abc" title="job_12345abc" aria-label="job_12345abc">job_12345abc</a>`, "3 / 5", "25s",
		// actions by status: FAILED retry and delete, PENDING start, cancel, delete, RUNNING cancel
		`hx-get="/admin/jobs?confirm=retry&amp;ids=job_12345abc"`,
		`hx-get="/admin/jobs?confirm=delete&amp;ids=job_12345abc"`,
		`hx-get="/admin/jobs?confirm=start&amp;ids=job_child1"`,
		`hx-get="/admin/jobs?confirm=cancel&amp;ids=job_running"`,
		// bulk actions and select all
		`data-testid="bulk-retry"`, `data-testid="bulk-cancel"`, `data-testid="bulk-delete"`, "Select all 4 matching",
		// live stream: counts and every shown row
		`sse-connect="/admin/events?counts=1&amp;from=1761393600000&amp;new=1&amp;recent=`, `sse-swap="newrows"`, `sse-swap="row-job_running"`, `sse-swap="recent-job_xss"`,
		// health badge and the user
		`class="health health-degraded"`, "alice",
	)
	wantLacks(t, body,
		`hx-get="/admin/jobs?confirm=retry&amp;ids=job_running"`, // RUNNING cannot be retried
		`hx-get="/admin/jobs?confirm=start&amp;ids=job_12345abc"`,
		"<script>alert(1)</script>", // job data is escaped
	)
	wantContains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;")
	// No inline script or style: the CSP allows neither.
	if m := regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]+</script>|<style|\sstyle=|\son[a-z]+=`).FindString(body); m != "" {
		t.Errorf("inline script or style: %q", m)
	}
}

// On a large table the page's total and its COMPLETED count are
// estimates, and say so; the page asks for exact totals only up to the
// limit.
func TestDashboardEstimates(t *testing.T) {
	f := &fakeOps{estimate: true}
	_, mux := newTestUI(t, f, &admin)
	body := get(t, mux, "/admin/jobs").Body.String()
	wantContains(t, body, "About 4 matching jobs", "Select all about 4 matching",
		`<strong data-count="COMPLETED"><abbr title="estimated from the table's statistics">≈</abbr>958170</strong>`,
		`<strong data-count="FAILED">1</strong>`)
	for _, l := range f.lists {
		if l.Count && l.CountLimit != ops.ExactCountLimit {
			t.Errorf("list counted with limit %d; want ops.ExactCountLimit", l.CountLimit)
		}
	}
}

func TestListFiltersReachOps(t *testing.T) {
	f := &fakeOps{}
	_, mux := newTestUI(t, f, &admin)
	w := get(t, mux, "/admin/jobs?status=failed&type=CalendarSync&range=hour&user=user_123&sort=created&after=job_x")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	req := f.lists[len(f.lists)-1]
	want := store.Filter{Statuses: []store.Status{store.StatusFailed}, Types: []string{"CalendarSync"},
		Since: testNow.Add(-time.Hour), UserID: "user_123"}
	if !slices.Equal(req.Filter.Statuses, want.Statuses) || !slices.Equal(req.Filter.Types, want.Types) ||
		!req.Filter.Since.Equal(want.Since) || req.Filter.UserID != want.UserID || !req.Filter.Until.IsZero() {
		t.Errorf("filter %+v, want %+v", req.Filter, want)
	}
	if req.Sort != store.SortCreatedAsc || req.After != "job_x" || !req.Count || req.Limit != pageSize {
		t.Errorf("list request %+v", req)
	}
	body := w.Body.String()
	// The filter form keeps its values; the bulk form carries them.
	wantContains(t, body, `<option value="FAILED" selected>Failed</option>`, `<option value="hour" selected>Last hour</option>`,
		`name="type" value="CalendarSync"`, `<input type="hidden" name="status" value="FAILED">`,
		`<input type="hidden" name="range" value="hour">`, `href="/admin/jobs?range=hour&amp;sort=created&amp;status=FAILED&amp;type=CalendarSync&amp;user=user_123"`)

	// Today and the last 7 days use the CLI's grammar; a custom range takes
	// the browser's datetime-local values.
	for q, since := range map[string]time.Time{
		"range=today": time.Date(2025, 10, 25, 0, 0, 0, 0, time.UTC),
		"range=7d":    testNow.Add(-7 * 24 * time.Hour),
		"range=custom&since=2025-10-20T08:30&until=2025-10-21T00:00": time.Date(2025, 10, 20, 8, 30, 0, 0, time.UTC),
	} {
		get(t, mux, "/admin/jobs?"+q)
		got := f.lists[len(f.lists)-1].Filter
		if !got.Since.Equal(since) {
			t.Errorf("%s: since %v, want %v", q, got.Since, since)
		}
		if strings.Contains(q, "until") && !got.Until.Equal(time.Date(2025, 10, 21, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: until %v", q, got.Until)
		}
	}
	if w := get(t, mux, "/admin/jobs?range=custom&since=last+tuesday"); w.Code != http.StatusBadRequest {
		t.Errorf("bad since: %d, want 400", w.Code)
	} else {
		// ops' message, naming the field as the form labels it
		wantContains(t, w.Body.String(), "Since: invalid time &#34;last tuesday&#34;")
	}
	if w := get(t, mux, "/admin/jobs?status=BOGUS"); w.Code != http.StatusBadRequest {
		t.Errorf("bad status: %d, want 400", w.Code)
	}
}

func TestPagingNext(t *testing.T) {
	f := &fakeOps{}
	for i := 0; i < pageSize+3; i++ {
		f.jobs = append(f.jobs, &store.Job{ID: "job_" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), Type: "Email",
			Status: store.StatusCompleted, MaxAttempts: 1, CreatedAt: testNow})
	}
	_, mux := newTestUI(t, f, &admin)
	body := get(t, mux, "/admin/jobs?status=COMPLETED").Body.String()
	next := f.jobs[pageSize-1].ID
	wantContains(t, body, `rel="next" href="/admin/jobs?after=`+next+`&amp;status=COMPLETED"`)
}

func TestRolesSeeTheirActions(t *testing.T) {
	f := &fakeOps{}
	_, mux := newTestUI(t, f, &manager)
	body := get(t, mux, "/admin/jobs").Body.String()
	wantContains(t, body, `data-testid="bulk-retry"`, `data-testid="bulk-cancel"`, `confirm=cancel&amp;ids=job_running`)
	wantLacks(t, body, `data-testid="bulk-delete"`, `confirm=delete&amp;`)

	f = &fakeOps{}
	_, mux = newTestUI(t, f, &userBob)
	body = get(t, mux, "/admin/jobs").Body.String()
	wantContains(t, body, `data-testid="bulk-retry"`, "job_12345abc", "job_child1", "Select all 2 matching")
	wantLacks(t, body, `data-testid="bulk-cancel"`, `data-testid="bulk-delete"`, "job_running", "job_xss", `confirm=start`)
	// A user may not even ask to count a delete.
	if w := get(t, mux, "/admin/jobs?confirm=delete&ids=job_12345abc"); w.Code != http.StatusForbidden {
		t.Errorf("user confirm delete: %d, want 403", w.Code)
	}
	if w := post(t, mux, "/admin/jobs/actions", url.Values{"action": {"delete"}, "ids": {"job_12345abc"}}); w.Code != http.StatusForbidden {
		t.Errorf("user bulk delete: %d, want 403", w.Code)
	}
	if len(f.acts) != 0 {
		t.Errorf("ops acted for a forbidden action: %+v", f.acts)
	}
}

func TestConfirmDialogCounts(t *testing.T) {
	f := &fakeOps{count: 17}
	_, mux := newTestUI(t, f, &admin)
	// htmx asks for the dialog alone.
	w := get(t, mux, "/admin/jobs?confirm=retry&all=1&status=FAILED&type=CalendarSync", "HX-Request", "true")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	body := w.Body.String()
	if !strings.HasPrefix(body, `<dialog id="confirm-dialog"`) {
		t.Errorf("want the dialog alone, got %.200s", body)
	}
	wantContains(t, body, `Retry <span data-testid="confirm-count">17</span> jobs?`,
		`action="/admin/jobs/actions"`, `name="csrf" value="tok-123"`, `name="action" value="retry"`,
		`name="all" value="1"`, `name="status" value="FAILED"`, `name="type" value="CalendarSync"`)
	wantLacks(t, body, " open")
	c := f.counts[len(f.counts)-1]
	if c.Action != store.ActRetry || !c.All || len(c.IDs) != 0 || !slices.Equal(c.Filter.Types, []string{"CalendarSync"}) ||
		!slices.Equal(c.Filter.Statuses, []store.Status{store.StatusFailed}) {
		t.Errorf("count request %+v", c)
	}

	// By IDs, and without htmx: the whole page with the dialog open.
	f.count = 1
	body = get(t, mux, "/admin/jobs?confirm=delete&ids=job_12345abc").Body.String()
	wantContains(t, body, "Job Queue Dashboard", `<dialog id="confirm-dialog" class="confirm" aria-labelledby="confirm-title" open>`,
		`Delete <span data-testid="confirm-count">1</span> job?`, `name="ids" value="job_12345abc"`)
	if c := f.counts[len(f.counts)-1]; !slices.Equal(c.IDs, []string{"job_12345abc"}) || c.All {
		t.Errorf("count request %+v", c)
	}

	// Nothing to act on: the dialog says so and offers no confirm button.
	f.count = 0
	body = get(t, mux, "/admin/jobs?confirm=cancel&ids=job_xss", "HX-Request", "true").Body.String()
	wantContains(t, body, "Nothing to cancel")
	wantLacks(t, body, `data-testid="confirm-ok"`)

	// Neither ticks nor select-all: refused, not "everything".
	if w := get(t, mux, "/admin/jobs?confirm=retry", "HX-Request", "true"); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("empty selection: %d, want 422", w.Code)
	}
}

func TestBulkActionRedirectsWithFlash(t *testing.T) {
	f := &fakeOps{actRes: &ops.Result{OperationID: "op_abc", Action: store.ActRetry, Changed: 12,
		Skipped: []store.Skipped{{ID: "job_x", Status: store.StatusCompleted, Reason: "job_x is COMPLETED: retry needs FAILED, DEAD or CANCELLED"}}}}
	_, mux := newTestUI(t, f, &admin)
	w := post(t, mux, "/admin/jobs/actions", url.Values{"csrf": {"tok-123"}, "action": {"retry"}, "all": {"1"},
		"status": {"FAILED"}, "type": {"CalendarSync"}, "back": {"/admin/jobs?status=FAILED&type=CalendarSync"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/jobs?status=FAILED&type=CalendarSync" {
		t.Fatalf("%d %q, want 303 back to the list", w.Code, w.Header().Get("Location"))
	}
	req := f.acts[0]
	if req.Action != store.ActRetry || !req.All || !slices.Equal(req.Filter.Types, []string{"CalendarSync"}) || f.actWho[0] != admin {
		t.Errorf("act %+v as %+v", req, f.actWho[0])
	}
	var flash *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == flashCookie {
			flash = c
		}
	}
	if flash == nil {
		t.Fatal("no flash cookie")
	}
	r := httptest.NewRequest(http.MethodGet, "/admin/jobs", nil)
	r.AddCookie(flash)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	wantContains(t, rec.Body.String(), `<p class="flash" role="status" id="flash">Retried 12 jobs (operation op_abc); 1 skipped: job_x is COMPLETED: retry needs FAILED, DEAD or CANCELLED</p>`)
	if c := rec.Result().Cookies(); len(c) == 0 || c[0].MaxAge >= 0 {
		t.Errorf("the flash is not cleared after showing: %+v", c)
	}

	// An off-site "back" is ignored.
	w = post(t, mux, "/admin/jobs/actions", url.Values{"action": {"cancel"}, "ids": {"job_running"}, "back": {"//evil.example/"}})
	if loc := w.Header().Get("Location"); loc != "/admin/jobs" {
		t.Errorf("Location %q, want /admin/jobs", loc)
	}
	// A refused selection comes back as a flash, not an error page.
	f.actErr = &ops.Error{Code: ops.CodeUnprocessable, Message: "nothing matches"}
	w = post(t, mux, "/admin/jobs/actions", url.Values{"action": {"retry"}, "ids": {"job_x"}})
	if w.Code != http.StatusSeeOther {
		t.Errorf("refused selection: %d, want 303", w.Code)
	}
}

// TestBulkActionCutShort: a bulk action the store drops out of part-way
// says on the list how many jobs it did, as the CLI does, with the
// operation ID; not an error page that hides them.
func TestBulkActionCutShort(t *testing.T) {
	f := &fakeOps{actRes: &ops.Result{OperationID: "op_cut", Action: store.ActRetry, Changed: 2},
		actErr: &store.UnavailableError{Op: "retry", Reason: "connection refused"}}
	_, mux := newTestUI(t, f, &admin)
	w := post(t, mux, "/admin/jobs/actions", url.Values{"csrf": {"tok-123"}, "action": {"retry"},
		"ids": {"job_a", "job_b", "job_c", "job_d", "job_e"}, "back": {"/admin/jobs?status=FAILED"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/jobs?status=FAILED" {
		t.Fatalf("%d %q, want 303 back to the list", w.Code, w.Header().Get("Location"))
	}
	r := httptest.NewRequest(http.MethodGet, "/admin/jobs", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	wantContains(t, rec.Body.String(), `id="flash">store unreachable: 2 of 5 jobs retried, the rest untouched (connection refused) (operation op_cut)</p>`)
}

func TestJobDetailsPage(t *testing.T) {
	f := &fakeOps{}
	_, mux := newTestUI(t, f, &admin)
	w := get(t, mux, "/admin/jobs/job_12345abc")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	body := w.Body.String()
	wantContains(t, body,
		"<dt>Job ID</dt><dd>job_12345abc</dd>", "<dt>Type</dt><dd>CalendarSync</dd>",
		`data-status="FAILED"`, "3 / 5", "2025-10-25T11:00:00Z", "<dt>Failed</dt>", "<dt>Duration</dt><dd>25s</dd>",
		"&#34;provider&#34;: &#34;google&#34;", // input, indented and escaped
		"Token refresh failed: Invalid refresh token", "AUTH_ERROR", "calendar-sync.ts:45",
		"attempt 1 failed <code>NETWORK_ERROR</code>: Network timeout", "attempt 3 failed",
		`<dt>Children</dt><dd><ul><li><a href="/admin/jobs/job_child1">job_child1</a>`,
		// FAILED: Retry and Delete, as forms with the CSRF token and a confirm
		`action="/admin/jobs/job_12345abc/retry" data-confirm="Retry job job_12345abc?"`,
		`action="/admin/jobs/job_12345abc/delete"`, `name="csrf" value="tok-123"`,
		`sse-connect="/admin/events?job=job_12345abc"`, `sse-swap="status-job_12345abc"`,
	)
	wantLacks(t, body, `/admin/jobs/job_12345abc/cancel"`, `/admin/jobs/job_12345abc/start"`)

	body = get(t, mux, "/admin/jobs/job_xss").Body.String()
	wantContains(t, body, "&lt;img src=x onerror=alert(1)&gt;", "&#34;rows&#34;: 3", "No failed attempts.")
	wantLacks(t, body, "<img src=x")

	if w := get(t, mux, "/admin/jobs/job_nope"); w.Code != http.StatusNotFound {
		t.Errorf("missing job: %d, want 404", w.Code)
	}
}

func TestForeignJobIs403(t *testing.T) {
	f := &fakeOps{}
	_, mux := newTestUI(t, f, &userBob)
	w := get(t, mux, "/admin/jobs/job_running")
	if w.Code != http.StatusForbidden {
		t.Fatalf("foreign job: %d, want 403", w.Code)
	}
	wantContains(t, w.Body.String(), `<p class="error" data-testid="error">Forbidden</p>`)
	wantLacks(t, w.Body.String(), "Export") // nothing of the job leaks

	f.actErr = ops.ErrForbiddenJob
	if w := post(t, mux, "/admin/jobs/job_running/retry", url.Values{"csrf": {"tok-123"}}); w.Code != http.StatusForbidden {
		t.Errorf("foreign retry: %d, want 403", w.Code)
	}
	// Its own job shows Retry only.
	body := get(t, mux, "/admin/jobs/job_12345abc").Body.String()
	wantContains(t, body, `/admin/jobs/job_12345abc/retry"`)
	wantLacks(t, body, `/admin/jobs/job_12345abc/delete"`)
}

func TestJobAction(t *testing.T) {
	f := &fakeOps{}
	_, mux := newTestUI(t, f, &admin)
	w := post(t, mux, "/admin/jobs/job_12345abc/retry", url.Values{"csrf": {"tok-123"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/jobs/job_12345abc" {
		t.Fatalf("%d %q", w.Code, w.Header().Get("Location"))
	}
	if a := f.acts[0]; a.Action != store.ActRetry || !slices.Equal(a.IDs, []string{"job_12345abc"}) {
		t.Errorf("act %+v", a)
	}
	w = post(t, mux, "/admin/jobs/job_12345abc/delete", nil)
	if w.Header().Get("Location") != "/admin/jobs" {
		t.Errorf("after delete: %q, want the list", w.Header().Get("Location"))
	}
	if w := post(t, mux, "/admin/jobs/job_12345abc/purge", nil); w.Code != http.StatusNotFound {
		t.Errorf("unknown action: %d, want 404", w.Code)
	}
	f.actErr = &ops.Error{Code: ops.CodeConflict, Message: "job_12345abc is FAILED: cancel needs PENDING, RETRYING or RUNNING"}
	w = post(t, mux, "/admin/jobs/job_12345abc/cancel", nil)
	if w.Code != http.StatusSeeOther {
		t.Errorf("conflict: %d, want 303 back with the reason", w.Code)
	}
}

func TestOtherPages(t *testing.T) {
	f := &fakeOps{}
	_, mux := newTestUI(t, f, &admin)
	body := get(t, mux, "/admin/audit-logs?actor=alice&action=job_retry&job=job_failed1&after=50").Body.String()
	wantContains(t, body, "JOB_RETRY", `data-testid="audit-user">alice`, `<a href="/admin/jobs/job_failed1">`,
		"{&#34;via&#34;:&#34;web&#34;}", `href="/admin/audit-logs?action=JOB_RETRY&amp;actor=alice&amp;after=41&amp;job=job_failed1"`,
		`<option value="JOB_RETRY" selected>JOB_RETRY</option>`, `<option value="USER_ADD">USER_ADD</option>`,
		`<option value="TOKEN_REVOKE">TOKEN_REVOKE</option>`,
		`aria-current="page">Audit log`, "health-degraded")
	a := f.audits[0].Filter
	if a.Actor != "alice" || !slices.Equal(a.Actions, []string{"JOB_RETRY"}) || a.ResourceID != "job_failed1" || a.After != 50 {
		t.Errorf("audit filter %+v", a)
	}
	if w := get(t, mux, "/admin/audit-logs?after=x"); w.Code != http.StatusBadRequest {
		t.Errorf("bad after: %d", w.Code)
	}
	if w := get(t, mux, "/admin/audit-logs?action=JOB_EXPLODE"); w.Code != http.StatusBadRequest {
		t.Errorf("unknown action: %d", w.Code)
	}
	wantContains(t, get(t, mux, "/admin/workers").Body.String(), "w-1", "box", "4242", "CalendarSync", "health-degraded")
	wantContains(t, get(t, mux, "/admin/schedules").Body.String(), "nightly-metrics", "0 2 * * *", "MetricCalc")
}

func TestLoginForm(t *testing.T) {
	f := &fakeOps{}
	_, mux := newTestUI(t, f, nil)
	body := get(t, mux, "/login?next=%2Fadmin%2Fjobs%3Fstatus%3DFAILED").Body.String()
	wantContains(t, body, `action="/login"`, `name="name"`, `name="password" type="password"`,
		`name="csrf" value="tok-123"`, `name="next" value="/admin/jobs?status=FAILED"`)
	wantLacks(t, body, "Log out", "role=\"alert\"")
	wantContains(t, get(t, mux, "/login?error=bad").Body.String(), "Wrong name or password.")
	wantContains(t, get(t, mux, "/login?error=throttled").Body.String(), "Too many failed logins")
	wantContains(t, get(t, mux, "/login?next=https://evil.example/").Body.String(), `name="next" value="/admin/jobs"`)
	wantContains(t, get(t, mux, "/login?next=//evil.example/").Body.String(), `name="next" value="/admin/jobs"`)
}

// Every script and stylesheet the layout names is served, with the right
// type, and status.css carries render's palette.
func TestStaticAssets(t *testing.T) {
	f := &fakeOps{}
	_, mux := newTestUI(t, f, &admin)
	body := get(t, mux, "/admin/jobs").Body.String()
	refs := regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(refs) < 5 {
		t.Fatalf("only %d assets referenced", len(refs))
	}
	for _, m := range refs {
		w := get(t, mux, m[1])
		if w.Code != http.StatusOK || w.Body.Len() == 0 {
			t.Errorf("%s: %d, %d bytes", m[1], w.Code, w.Body.Len())
		}
		ct := w.Header().Get("Content-Type")
		if strings.HasSuffix(m[1], ".js") && !strings.Contains(ct, "javascript") ||
			strings.HasSuffix(m[1], ".css") && !strings.HasPrefix(ct, "text/css") {
			t.Errorf("%s: Content-Type %q", m[1], ct)
		}
	}
	css := get(t, mux, "/static/status.css").Body.String()
	// 196 is FAILED's red and 88 DEAD's dark red (white text), 220 RUNNING's yellow (black text).
	wantContains(t, css, ".st-failed{background:#ff0000;color:#fff}", ".st-dead{background:#870000;color:#fff}",
		".st-running{background:#ffd700;color:#000}", ".st-pending{background:#0087ff;")
	for _, lic := range []string{"vendor/htmx/LICENSE", "vendor/htmx-ext-sse/LICENSE", "vendor/README.md"} {
		if _, err := fs.Stat(staticFS(), lic); err != nil {
			t.Errorf("vendored licence: %v", err)
		}
	}
	// htmx's meta config turns off its inline indicator styles.
	wantContains(t, body, `"includeIndicatorStyles":false`)
	r := get(t, mux, "/static/vendor/htmx/htmx.min.js")
	if b, _ := io.ReadAll(r.Body); !strings.Contains(string(b), "htmx") {
		t.Error("htmx.min.js is not htmx")
	}
}

// The list shows a long job ID by its prefix and the end that tells jobs
// made together apart, so the table fits a 1280 px screen.
func TestShortID(t *testing.T) {
	for id, want := range map[string]string{
		"job_01m8v102f4b8hwdd46p459x9h4": "job_…p459x9h4",
		"job_12345abc":                   "job_12345abc",
		"job_0123456789":                 "job_0123456789",
		"job_01234567890":                "job_…34567890",
		"noprefix0123456789":             "…23456789",
	} {
		if got := shortID(id); got != want {
			t.Errorf("shortID(%q) = %q; want %q", id, got, want)
		}
	}
}

// The badge on every page is read from the store at most once per
// healthBadgeTTL, however many pages are viewed.
func TestHealthBadgeCached(t *testing.T) {
	f := &fakeOps{}
	now := testNow
	_, mux := newTestUIAt(t, f, &admin, func() time.Time { return now })
	for _, path := range []string{"/admin/jobs", "/admin/workers", "/admin/schedules", "/admin/audit-logs"} {
		wantContains(t, get(t, mux, path).Body.String(), `class="health health-degraded"`)
	}
	if n := f.n("Health"); n != 1 {
		t.Errorf("4 pages within the badge's TTL read health %d times; want 1", n)
	}
	now = now.Add(healthBadgeTTL)
	get(t, mux, "/admin/workers")
	if n := f.n("Health"); n != 2 {
		t.Errorf("a page after the TTL: health read %d times in all; want 2", n)
	}
}
