package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/auth"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// TestAPIRoles runs every endpoint as each role: anonymous is 401, a user
// reads and retries its own jobs only, a manager may not delete, an admin
// may do everything.
func TestAPIRoles(t *testing.T) {
	checkRoles(t, newEnv(t), true)
}

// checkRoles runs the role matrix on e, whose store holds the fake's four
// jobs. exact wants the fake's statuses; over the real operations layer
// an allowed request may also meet the job's state (409, or 404 for a
// restore of a job that is not archived), never a refusal of who asks.
func checkRoles(t *testing.T, e *env, exact bool) {
	type want struct{ anon, user, manager, admin int }
	all := func(code int) want { return want{http.StatusUnauthorized, code, code, code} }
	const ok, forbidden = http.StatusOK, http.StatusForbidden
	cases := []struct {
		method, path, body string
		want               want
	}{
		{"GET", "/api/admin/jobs", "", all(ok)},
		{"GET", "/api/admin/jobs/job_failed1", "", all(ok)},
		{"GET", "/api/admin/jobs/job_failed2", "", want{401, forbidden, ok, ok}}, // u2's job
		{"POST", "/api/admin/jobs/job_failed1/retry", "", all(ok)},
		{"POST", "/api/admin/jobs/job_failed2/retry", "", want{401, forbidden, ok, ok}},
		{"POST", "/api/admin/jobs/job_pending/cancel", "", want{401, forbidden, ok, ok}},
		{"POST", "/api/admin/jobs/job_pending/start", "", want{401, forbidden, ok, ok}},
		{"POST", "/api/admin/jobs/job_done/restore", "", want{401, forbidden, forbidden, ok}},
		{"DELETE", "/api/admin/jobs/job_done", "", want{401, forbidden, forbidden, ok}},
		{"POST", "/api/admin/jobs/retry", `{"filter":{"status":"failed"}}`, all(ok)},
		{"POST", "/api/admin/jobs/cancel", `{"ids":["job_pending"]}`, want{401, forbidden, ok, ok}},
		{"POST", "/api/admin/jobs/delete", `{"ids":["job_done"]}`, want{401, forbidden, forbidden, ok}},
		{"POST", "/api/admin/jobs/purge", `{"filter":{"older":"30d"}}`, want{401, forbidden, forbidden, ok}},
		{"POST", "/api/admin/jobs/archive", `{"all":true}`, want{401, forbidden, forbidden, ok}},
		{"GET", "/api/admin/stats", "", all(ok)},
		{"GET", "/api/admin/audit-logs", "", all(ok)},
		{"GET", "/api/admin/workers", "", all(ok)},
		{"GET", "/api/admin/schedules", "", all(ok)},
		{"GET", HealthPath, "", want{ok, ok, ok, ok}},
		{"GET", OpenAPIPath, "", want{ok, ok, ok, ok}},
	}
	for _, c := range cases {
		for _, r := range []struct {
			as   string
			code int
		}{{"", c.want.anon}, {"user1", c.want.user}, {"manager1", c.want.manager}, {"admin1", c.want.admin}} {
			w := e.do(t, req{method: c.method, path: c.path, body: c.body, as: r.as})
			stateOnly := !exact && r.code == ok && (w.Code == http.StatusConflict || w.Code == http.StatusNotFound && strings.HasSuffix(c.path, "/restore"))
			if w.Code != r.code && !stateOnly {
				t.Errorf("%s %s as %q: %d %s; want %d", c.method, c.path, r.as, w.Code, w.Body, r.code)
				continue
			}
			if w.Code != ok && w.Header().Get("Content-Type") != "application/json" && c.path != HealthPath {
				t.Errorf("%s %s as %q: error as %q; want JSON", c.method, c.path, r.as, w.Header().Get("Content-Type"))
			}
			switch w.Code {
			case http.StatusUnauthorized:
				assertError(t, w.Body.Bytes(), ops.CodeUnauthorized)
				if w.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s anonymous: no WWW-Authenticate", c.method, c.path)
				}
			case forbidden:
				if strings.Contains(c.path, "job_failed2") {
					// The guide's body for a job that is not the caller's.
					if got := strings.TrimSpace(w.Body.String()); got != `{"error":"Forbidden"}` {
						t.Errorf("%s %s as %s: %s; want the guide's {\"error\":\"Forbidden\"}", c.method, c.path, r.as, got)
					}
				} else {
					assertError(t, w.Body.Bytes(), ops.CodeForbidden)
				}
			}
		}
	}
}

// TestAPIActsAsAccount: the account acts as itself, through the API
// channel.
func TestAPIActsAsAccount(t *testing.T) {
	e := newEnv(t)
	e.do(t, req{method: "POST", path: "/api/admin/jobs/job_failed1/retry", as: "user1"})
	if who := e.ops.last().Who; who != (ops.Principal{Name: "user1", Role: store.RoleUser, UserID: "u1", Via: ops.ViaAPI}) {
		t.Errorf("retry as user1 acted as %+v", who)
	}
}

func assertError(t *testing.T, body []byte, code ops.Code) {
	t.Helper()
	var b struct {
		Error struct {
			Code    ops.Code `json:"code"`
			Message string   `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Error.Code != code || b.Error.Message == "" {
		t.Errorf("error body %s: want {\"error\":{\"code\":%q,\"message\":...}}", body, code)
	}
}

// TestRetryResponse: the guide's response, exactly, and the body's options.
func TestRetryResponse(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, req{method: "POST", path: "/api/admin/jobs/failed1/retry", as: "admin1", body: `{"delay":"10m","resetAttempts":true}`})
	if w.Code != http.StatusOK {
		t.Fatalf("retry: %d %s", w.Code, w.Body)
	}
	want := `{"success":true,"jobId":"job_failed1","status":"PENDING","scheduledFor":"2026-12-02T10:10:00.000Z"}` // to the millisecond, as -o json
	if got := strings.TrimSpace(w.Body.String()); got != want {
		t.Errorf("retry body %s; want %s", got, want)
	}
	got := e.ops.last().Req.(*ops.ActionRequest)
	if got.Action != store.ActRetry || !reflect.DeepEqual(got.IDs, []string{"job_failed1"}) || got.Delay != 10*time.Minute || !got.ResetAttempts {
		t.Errorf("retry request %+v; want job_failed1 (job_ added), delay 10m, resetAttempts", got)
	}

	for _, c := range []struct {
		method, path, body string
		code               int
		errCode            ops.Code
	}{
		{"POST", "/api/admin/jobs/job_pending/retry", "", http.StatusConflict, ops.CodeConflict},       // PENDING: retry needs FAILED...
		{"POST", "/api/admin/jobs/job_done/cancel", "", http.StatusConflict, ops.CodeConflict},         // COMPLETED
		{"POST", "/api/admin/jobs/job_nope/retry", "", http.StatusNotFound, ops.CodeNotFound},          // no such job
		{"GET", "/api/admin/jobs/job_nope", "", http.StatusNotFound, ops.CodeNotFound},                 // no such job
		{"POST", "/api/admin/jobs/job_failed1/retry", `{"delay":"soon"}`, 400, ops.CodeInvalid},        // bad delay
		{"POST", "/api/admin/jobs/job_failed1/retry", `{"dealy":"1m"}`, 400, ops.CodeInvalid},          // unknown field
		{"POST", "/api/admin/jobs/job_failed1/retry", `{"delay":`, 400, ops.CodeInvalid},               // not JSON
		{"POST", "/api/admin/jobs/job_pending/cancel", `{"delay":"1m"}`, 400, ops.CodeInvalid},         // cancel takes no body
		{"POST", "/api/admin/jobs/job_failed1/retry?force=1", "", 400, ops.CodeInvalid},                // unknown parameter
		{"POST", "/api/admin/jobs/retry", `{}`, http.StatusUnprocessableEntity, ops.CodeUnprocessable}, // empty selection
	} {
		w := e.do(t, req{method: c.method, path: c.path, body: c.body, as: "admin1"})
		if w.Code != c.code {
			t.Errorf("%s %s %s: %d %s; want %d", c.method, c.path, c.body, w.Code, w.Body, c.code)
			continue
		}
		assertError(t, w.Body.Bytes(), c.errCode)
	}
	// 409 says why.
	w = e.do(t, req{method: "POST", path: "/api/admin/jobs/job_pending/retry", as: "admin1"})
	if !strings.Contains(w.Body.String(), "job_pending is PENDING: retry needs FAILED, DEAD or CANCELLED") {
		t.Errorf("409 body %s; want the refusal's reason", w.Body)
	}
}

// TestBulkRequests: the body's ids or filter reach ops as a typed request,
// and the result comes back with counts and the operation ID.
func TestBulkRequests(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, req{method: "POST", path: "/api/admin/jobs/retry", as: "admin1",
		body: `{"filter":{"status":["failed"],"type":"CalendarSync","since":"1h","user":"u1"},"dryRun":true,"delay":"60s"}`})
	if w.Code != http.StatusOK {
		t.Fatalf("bulk retry: %d %s", w.Code, w.Body)
	}
	var res map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"operationId", "action", "dryRun", "changed", "cancelRequested", "skipped", "notFound"} {
		if _, ok := res[k]; !ok {
			t.Errorf("bulk result %s lacks %q", w.Body, k)
		}
	}
	if res["operationId"] != "op_test" || res["changed"] != float64(2) || res["dryRun"] != true {
		t.Errorf("bulk result %s", w.Body)
	}
	got := e.ops.last().Req.(*ops.ActionRequest)
	wantF := store.Filter{Statuses: []store.Status{store.StatusFailed}, Types: []string{"CalendarSync"}, Since: testNow.Add(-time.Hour), UserID: "u1"}
	if !reflect.DeepEqual(got.Filter, wantF) || !got.DryRun || got.Delay != time.Minute || got.Action != store.ActRetry {
		t.Errorf("bulk request %+v; want filter %+v, dry run, delay 1m", got, wantF)
	}

	w = e.do(t, req{method: "POST", path: "/api/admin/jobs/cancel", as: "admin1", body: `{"ids":["pending","job_nope"]}`})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"notFound":["job_nope"]`) {
		t.Errorf("bulk cancel by ids: %d %s; want job_nope not found", w.Code, w.Body)
	}
	if got := e.ops.last().Req.(*ops.ActionRequest); !reflect.DeepEqual(got.IDs, []string{"job_pending", "job_nope"}) {
		t.Errorf("bulk ids %v", got.IDs)
	}

	w = e.do(t, req{method: "POST", path: "/api/admin/jobs/archive", as: "admin1", body: `{"all":true}`})
	if got := e.ops.last().Req.(*ops.ActionRequest); w.Code != 200 || !got.All || got.Action != store.ActArchive {
		t.Errorf("archive all: %d %+v", w.Code, got)
	}

	for _, body := range []string{
		`{"ids":["a"],"filter":{"status":"failed"}}`, // both
		`{"filter":{"status":""}}`,                   // empty value
		`{"filter":{"type":[]}}`,                     // empty list
		`{"filter":{"colour":"red"}}`,                // unknown filter
		`{"filter":{"since":"whenever"}}`,            // bad time
		`{"filter":{"status":"sleeping"}}`,           // bad status
		`{"filter":{"user":7}}`,                      // not a string
		`{"ids":"job_a"}`,                            // not a list
	} {
		w := e.do(t, req{method: "POST", path: "/api/admin/jobs/retry", as: "admin1", body: body})
		if w.Code != http.StatusBadRequest {
			t.Errorf("bulk retry %s: %d %s; want 400", body, w.Code, w.Body)
			continue
		}
		assertError(t, w.Body.Bytes(), ops.CodeInvalid)
	}
	w = e.do(t, req{method: "POST", path: "/api/admin/jobs/purge", as: "admin1", body: `{"all":true,"resetAttempts":true}`})
	if w.Code != http.StatusBadRequest {
		t.Errorf("purge with resetAttempts: %d; want 400", w.Code)
	}
}

// TestListAndReads: query parameters reach ops typed; pages carry
// items, total and next.
func TestListAndReads(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, req{method: "GET", path: "/api/admin/jobs?status=failed,dead&type=CalendarSync&since=today&sort=priority&limit=10&after=abc", as: "manager1"})
	if w.Code != http.StatusOK {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
	var page struct {
		Items []map[string]any `json:"items"`
		Total *int64           `json:"total"`
		Next  *string          `json:"next"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || page.Total == nil || page.Next == nil || len(page.Items) != 4 {
		t.Fatalf("list body %s: want items, total and next", w.Body)
	}
	if _, ok := page.Items[0]["userId"]; !ok {
		t.Errorf("job JSON %v lacks the schema's userId", page.Items[0])
	}
	got := e.ops.last().Req.(*ops.ListRequest)
	midnight := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	want := &ops.ListRequest{Filter: store.Filter{Statuses: []store.Status{store.StatusFailed, store.StatusDead}, Types: []string{"CalendarSync"}, Since: midnight},
		Sort: store.SortPriority, Limit: 10, After: "job_abc", Count: true, CountLimit: ops.ExactCountLimit}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("list request %+v; want %+v", got, want)
	}
	if !strings.Contains(w.Body.String(), `"totalEstimated":false`) {
		t.Errorf("list body %s: want totalEstimated", w.Body)
	}
	if w := e.do(t, req{method: "GET", path: "/api/admin/jobs?count=exact", as: "admin1"}); w.Code != http.StatusOK || e.ops.last().Req.(*ops.ListRequest).CountLimit != 0 {
		t.Errorf("list ?count=exact: %d %s, request %+v; want an exact count", w.Code, w.Body, e.ops.last().Req)
	}
	for _, q := range []string{"?limit=0", "?limit=x", "?sort=sideways", "?status=", "?colour=red", "?since=later", "?archived=maybe", "?count=some"} {
		if w := e.do(t, req{method: "GET", path: "/api/admin/jobs" + q, as: "admin1"}); w.Code != http.StatusBadRequest {
			t.Errorf("list %s: %d %s; want 400", q, w.Code, w.Body)
		}
	}

	// A user's list is what ops lets it see.
	w = e.do(t, req{method: "GET", path: "/api/admin/jobs", as: "user1"})
	if strings.Contains(w.Body.String(), "job_failed2") {
		t.Errorf("user1's list shows u2's job: %s", w.Body)
	}

	w = e.do(t, req{method: "GET", path: "/api/admin/jobs/job_failed1", as: "admin1"})
	if !strings.Contains(w.Body.String(), `"job":{"id":"job_failed1"`) || !strings.Contains(w.Body.String(), `"related":`) {
		t.Errorf("job detail %s", w.Body)
	}

	w = e.do(t, req{method: "GET", path: "/api/admin/audit-logs?action=retry,JOB_DELETE&actor=alice&job=x1&since=1h&limit=5&after=9", as: "admin1"})
	ar := e.ops.last().Req.(*ops.AuditRequest)
	wantA := store.AuditFilter{Actions: []string{store.ActionRetry, store.ActionDelete}, Actor: "alice", ResourceID: "job_x1", Since: testNow.Add(-time.Hour), Limit: 5, After: 9}
	if w.Code != 200 || !reflect.DeepEqual(ar.Filter, wantA) || !strings.Contains(w.Body.String(), `"next":`) {
		t.Errorf("audit: %d %s %+v; want %+v", w.Code, w.Body, ar.Filter, wantA)
	}
	for _, q := range []string{"?action=explode", "?after=-1", "?limit=5000", "?since=x"} {
		if w := e.do(t, req{method: "GET", path: "/api/admin/audit-logs" + q, as: "admin1"}); w.Code != 400 {
			t.Errorf("audit %s: %d; want 400", q, w.Code)
		}
	}

	// Without since the window is stats's 24h; since=all is all time.
	for q, want := range map[string]time.Time{"": testNow.Add(-24 * time.Hour), "?since=all": {}, "?since=1h": testNow.Add(-time.Hour)} {
		e.do(t, req{method: "GET", path: "/api/admin/stats" + q, as: "admin1"})
		if sp := e.ops.last().Req.(*store.StatsParams); !sp.Since.Equal(want) {
			t.Errorf("stats%s: since %v; want %v", q, sp.Since, want)
		}
	}
	w = e.do(t, req{method: "GET", path: "/api/admin/stats?since=24h&type=Report&top=3", as: "admin1"})
	sp := e.ops.last().Req.(*store.StatsParams)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"FAILED":2,`) || sp.TopErrors != 3 || !reflect.DeepEqual(sp.Types, []string{"Report"}) || !sp.Since.Equal(testNow.Add(-24*time.Hour)) {
		t.Errorf("stats: %d %s %+v", w.Code, w.Body, sp)
	}
	if w := e.do(t, req{method: "GET", path: "/api/admin/workers", as: "admin1"}); !strings.Contains(w.Body.String(), `{"items":[{"id":"w1"`) {
		t.Errorf("workers: %s", w.Body)
	}
	if w := e.do(t, req{method: "GET", path: "/api/admin/schedules", as: "admin1"}); !strings.Contains(w.Body.String(), `"schedule":"0 3 * * *"`) {
		t.Errorf("schedules: %s", w.Body)
	}
}

// TestTokenRevoked: a token the store no longer knows is 401, with a
// message that says so.
func TestTokenRevoked(t *testing.T) {
	e := newEnv(t)
	if w := e.do(t, req{method: "GET", path: "/api/admin/jobs", as: "admin1"}); w.Code != 200 {
		t.Fatalf("live token: %d", w.Code)
	}
	e.auth.mu.Lock()
	delete(e.auth.tokens, "tok-admin1") // jobctl token revoke
	e.auth.mu.Unlock()
	w := e.do(t, req{method: "GET", path: "/api/admin/jobs", as: "admin1"})
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "revoked") {
		t.Errorf("revoked token: %d %s; want 401 saying it was revoked", w.Code, w.Body)
	}
	// A bad bearer token does not fall back to the session cookie.
	r := req{method: "GET", path: "/api/admin/jobs", header: http.Header{"Authorization": {"Bearer nope"}},
		cookies: []*http.Cookie{{Name: auth.CookieName, Value: "cookie-admin1"}}}
	if w := e.do(t, r); w.Code != http.StatusUnauthorized {
		t.Errorf("bad token with a good cookie: %d; want 401", w.Code)
	}
	// The store failing is the server's error, not the client's.
	e.auth.fail = errTest
	if w := e.do(t, req{method: "GET", path: "/api/admin/jobs", as: "admin1"}); w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), errTest.Error()) {
		t.Errorf("store down: %d %s; want 500 without the store's words", w.Code, w.Body)
	}
}
