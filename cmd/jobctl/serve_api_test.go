package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// apiCall is one request to a running `jobctl serve`.
type apiCall struct {
	t     *testing.T
	base  string
	token string
}

func (a apiCall) do(method, path, body string) (int, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func (a apiCall) want(method, path, body string, code int) string {
	a.t.Helper()
	got, out := a.do(method, path, body)
	if got != code {
		a.t.Fatalf("%s %s %s: %d %s; want %d", method, path, body, got, out, code)
	}
	return out
}

// TestServeAPI runs the built binary's REST API on both backends with API
// tokens: roles, a user's scope and the guide's 403, the guide's retry
// response, audit rows naming the account and the channel, and a revoked
// token.
func TestServeAPI(t *testing.T) {
	bothBackends(t, func(t *testing.T, e *workerEnv) {
		e.mustRun("correct-horse-1\n", "user", "add", "alice", "--role", "admin", "--password-stdin")
		e.mustRun("correct-horse-2\n", "user", "add", "bob", "--role", "user", "--user-id", "u_bob", "--password-stdin")
		e.mustRun("correct-horse-3\n", "user", "add", "mia", "--role", "manager", "--password-stdin")
		tokens := map[string]string{}
		for _, who := range []string{"alice", "bob", "mia"} {
			tokens[who] = strings.TrimSpace(e.mustRun("", "token", "create", who+"-ci", "--user", who))
		}
		mine := e.enqueue("CalendarSync", "--user", "u_bob")
		other := e.enqueue("CalendarSync", "--user", "u_carol")

		srv := e.start("serve", "serve", "--addr", "127.0.0.1:0", "--metrics-cache", "0")
		srv.waitStderr("serving on ", 15*time.Second)
		base := regexp.MustCompile(`serving on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(srv.stderr.String())[1]
		anon := apiCall{t, base, ""}
		alice, bob, mia := apiCall{t, base, tokens["alice"]}, apiCall{t, base, tokens["bob"]}, apiCall{t, base, tokens["mia"]}

		anon.want("GET", "/api/admin/jobs", "", http.StatusUnauthorized)
		if code, _ := anon.do("GET", "/api/admin/jobs/health", ""); code != 200 && code != 503 {
			t.Errorf("health without login: %d", code)
		}
		anon.want("GET", "/metrics", "", http.StatusOK)

		// A manager cancels both jobs in bulk; a dry run first changes nothing.
		out := mia.want("POST", "/api/admin/jobs/cancel", `{"ids":["`+mine+`","`+other+`"],"dryRun":true}`, 200)
		if !strings.Contains(out, `"changed":2`) || !strings.Contains(out, `"dryRun":true`) {
			t.Errorf("dry-run cancel: %s", out)
		}
		out = mia.want("POST", "/api/admin/jobs/cancel", `{"ids":["`+mine+`","`+other+`"]}`, 200)
		if !strings.Contains(out, `"changed":2`) || !strings.Contains(out, `"operationId":"`) {
			t.Errorf("cancel: %s", out)
		}
		mia.want("DELETE", "/api/admin/jobs/"+other, "", http.StatusForbidden) // delete needs admin

		// bob sees and retries only its own job; the other is the guide's 403.
		if out := bob.want("GET", "/api/admin/jobs/"+other, "", http.StatusForbidden); out != `{"error":"Forbidden"}` {
			t.Errorf("bob reads carol's job: %s; want the guide's body", out)
		}
		if out := bob.want("POST", "/api/admin/jobs/"+other+"/retry", "", http.StatusForbidden); out != `{"error":"Forbidden"}` {
			t.Errorf("bob retries carol's job: %s; want the guide's body", out)
		}
		bob.want("POST", "/api/admin/jobs/"+mine+"/cancel", "", http.StatusForbidden)
		var page struct {
			Items []struct{ ID, UserID string } `json:"items"`
			Total int64                         `json:"total"`
			Next  string                        `json:"next"`
		}
		if err := json.Unmarshal([]byte(bob.want("GET", "/api/admin/jobs?status=cancelled", "", 200)), &page); err != nil {
			t.Fatal(err)
		}
		if page.Total != 1 || len(page.Items) != 1 || page.Items[0].ID != mine {
			t.Errorf("bob's list: %+v; want only %s", page, mine)
		}
		out = bob.want("POST", "/api/admin/jobs/"+mine+"/retry", `{"resetAttempts":true}`, 200)
		var resp map[string]any
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatal(err)
		}
		if resp["success"] != true || resp["jobId"] != mine || resp["status"] != "PENDING" || resp["scheduledFor"] == nil || len(resp) != 4 {
			t.Errorf("retry response %s; want exactly the guide's success, jobId, status PENDING and scheduledFor", out)
		}
		bob.want("POST", "/api/admin/jobs/"+mine+"/retry", "", http.StatusConflict) // PENDING now

		// The API's job is `show -o json`'s: same fields, times to the
		// millisecond, absent values null.
		var detail struct{ Job map[string]any }
		if err := json.Unmarshal([]byte(alice.want("GET", "/api/admin/jobs/"+mine, "", 200)), &detail); err != nil {
			t.Fatal(err)
		}
		var shown map[string]any
		if err := json.Unmarshal([]byte(e.mustRun("", "show", mine, "-o", "json")), &shown); err != nil {
			t.Fatal(err)
		}
		for _, m := range []map[string]any{detail.Job, shown} {
			delete(m, "related")
			delete(m, "dependsOn")
		}
		if !reflect.DeepEqual(detail.Job, shown) {
			t.Errorf("GET /api/admin/jobs/%s job:\n%v\nwant show -o json's:\n%v", mine, detail.Job, shown)
		}

		// The audit row names the account and the channel.
		out = alice.want("GET", "/api/admin/audit-logs?action=retry&job="+mine, "", 200)
		var audit struct {
			Items []struct {
				UserID   string          `json:"userId"`
				Metadata json.RawMessage `json:"metadata"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &audit); err != nil {
			t.Fatal(err)
		}
		if len(audit.Items) != 1 || audit.Items[0].UserID != "bob" || !strings.Contains(strings.ReplaceAll(string(audit.Items[0].Metadata), " ", ""), `"via":"api"`) {
			t.Errorf("audit of bob's retry: %s; want one row by bob via api", out)
		}

		// An admin deletes; the job is gone.
		out = alice.want("DELETE", "/api/admin/jobs/"+other, "", 200)
		if !strings.Contains(out, `"status":"DELETED"`) {
			t.Errorf("delete: %s", out)
		}
		alice.want("GET", "/api/admin/jobs/"+other, "", http.StatusNotFound)
		alice.want("GET", "/api/admin/stats", "", 200)
		alice.want("GET", "/api/admin/workers", "", 200)
		alice.want("GET", "/api/admin/schedules", "", 200)
		alice.want("GET", "/api/openapi.json", "", 200)

		// A revoked token stops working at once.
		e.mustRun("", "token", "revoke", "bob-ci")
		bob.want("GET", "/api/admin/jobs", "", http.StatusUnauthorized)

		srv.signal(syscall.SIGTERM)
		if code := srv.wait(20 * time.Second); code != 0 {
			t.Errorf("serve exited %d after SIGTERM", code)
		}
		if !strings.Contains(srv.stderr.String(), "account=alice") {
			t.Errorf("request log names no account:\n%s", lastChars(srv.stderr.String(), 2000))
		}
	})
}

// TestServeRefusesOpenAdmin: beyond loopback with no account, serve says
// why in one line and exits 2; with an account it starts.
func TestServeRefusesOpenAdmin(t *testing.T) {
	t.Parallel()
	e := newWorkerEnv(t, "sqlite")
	r := e.run("", "serve", "--addr", "0.0.0.0:0")
	if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "jobctl user add") {
		t.Errorf("serve on 0.0.0.0 with no account: exit %d, stderr %q; want 2 and one line", r.code, r.stderr)
	}
	e.mustRun("correct-horse-1\n", "user", "add", "alice", "--role", "admin", "--password-stdin")
	srv := e.start("serve", "serve", "--addr", "0.0.0.0:0")
	srv.waitStderr("serving on ", 15*time.Second)
	srv.signal(syscall.SIGTERM)
	if code := srv.wait(20 * time.Second); code != 0 {
		t.Errorf("serve exited %d", code)
	}
}

// TestServeProxyAndMetricsAddr: single sign-on through a proxy header,
// believed only from --trusted-proxy; health and metrics on --metrics-addr
// and no longer on --addr.
func TestServeProxyAndMetricsAddr(t *testing.T) {
	t.Parallel()
	e := newWorkerEnv(t, "sqlite")
	e.enqueue("CalendarSync")
	proxied := func(trusted string) (apiCall, *workerProc) {
		srv := e.start("serve", "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0",
			"--auth-proxy-header", "X-Forwarded-User", "--auth-proxy-groups-header", "X-Forwarded-Groups",
			"--auth-proxy-role", "ops=manager", "--trusted-proxy", trusted)
		srv.waitStderr("serving metrics on ", 15*time.Second)
		base := regexp.MustCompile(`serving on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(srv.stderr.String())[1]
		return apiCall{t, base, ""}, srv
	}
	get := func(url string, hdr map[string]string) int {
		req, _ := http.NewRequest("GET", url, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	sso := map[string]string{"X-Forwarded-User": "carol", "X-Forwarded-Groups": "staff,ops"}

	api, srv := proxied("127.0.0.1/32")
	if code := get(api.base+"/api/admin/jobs", sso); code != 200 {
		t.Errorf("proxy user from a trusted address: %d; want 200", code)
	}
	if code := get(api.base+"/api/admin/jobs", map[string]string{"X-Forwarded-User": "carol", "X-Forwarded-Groups": "staff"}); code != 403 {
		t.Errorf("proxy user whose groups have no role: %d; want 403", code)
	}
	api.want("GET", "/metrics", "", http.StatusNotFound)
	api.want("GET", "/api/admin/jobs/health", "", http.StatusNotFound)
	mbase := regexp.MustCompile(`serving metrics on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(srv.stderr.String())[1]
	if code := get(mbase+"/metrics", nil); code != 200 {
		t.Errorf("metrics on --metrics-addr: %d", code)
	}
	if code := get(mbase+"/api/admin/jobs/health", nil); code != 503 {
		t.Errorf("health on --metrics-addr with no worker: %d; want 503", code)
	}
	if code := get(mbase+"/api/admin/jobs", sso); code != 404 {
		t.Errorf("the API on --metrics-addr: %d; want 404", code)
	}
	srv.signal(syscall.SIGTERM)
	if code := srv.wait(20 * time.Second); code != 0 {
		t.Errorf("serve exited %d", code)
	}

	api, srv = proxied("10.0.0.0/8") // the test's requests come from elsewhere
	if code := get(api.base+"/api/admin/jobs", sso); code != 401 {
		t.Errorf("proxy header from an untrusted address: %d; want 401", code)
	}
	srv.signal(syscall.SIGTERM)
	srv.wait(20 * time.Second)
}
