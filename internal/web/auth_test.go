package web

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/internal/auth"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

func cookieOf(w interface{ Result() *http.Response }, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestCSRF: a browser's state change needs its session's token, in the
// header or the form field; bearer requests need none.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	post := func(r req) int {
		r.method, r.as, r.cookie = "POST", "manager1", true
		return e.do(t, r).Code
	}
	if c := post(req{path: "/api/admin/jobs/job_failed1/retry"}); c != http.StatusForbidden {
		t.Errorf("cookie POST without a token: %d; want 403", c)
	}
	if c := post(req{path: "/api/admin/jobs/job_failed1/retry", csrf: "csrf-admin1"}); c != http.StatusForbidden {
		t.Errorf("cookie POST with another session's token: %d; want 403", c)
	}
	if c := post(req{path: "/api/admin/jobs/job_failed1/retry", csrf: "csrf-manager1"}); c != http.StatusOK {
		t.Errorf("cookie POST with the session's token: %d; want 200", c)
	}
	if who := e.ops.last().Who; who.Name != "manager1" || who.Via != ops.ViaAPI {
		t.Errorf("cookie API call acted as %+v", who)
	}
	if c := post(req{path: "/admin/jobs/actions", form: "action=retry&csrf=csrf-manager1"}); c != http.StatusOK {
		t.Errorf("form POST with the token in the csrf field: %d; want 200", c)
	}
	if c := post(req{path: "/admin/jobs/actions", form: "action=retry&csrf=wrong"}); c != http.StatusForbidden {
		t.Errorf("form POST with a wrong csrf field: %d; want 403", c)
	}
	w := e.do(t, req{method: "DELETE", path: "/api/admin/jobs/job_done", as: "admin1", cookie: true})
	if w.Code != http.StatusForbidden {
		t.Errorf("cookie DELETE without a token: %d; want 403", w.Code)
	}
	assertError(t, w.Body.Bytes(), ops.CodeForbidden)
	if c := e.do(t, req{method: "POST", path: "/api/admin/jobs/job_failed1/retry", as: "admin1"}).Code; c != http.StatusOK {
		t.Errorf("bearer POST without a token: %d; want 200 (bearer requests are exempt)", c)
	}
	// Reads need no token; the page gets the session's to put in its forms.
	w = e.do(t, req{method: "GET", path: "/admin/jobs", as: "admin1", cookie: true})
	if w.Code != 200 || w.Body.String() != "page for admin1 (true) via web csrf=csrf-admin1" {
		t.Errorf("page: %d %q", w.Code, w.Body)
	}
}

// TestLogin: the form's double-submit token, the session cookie's
// attributes, where the browser goes next, and the failures.
func TestLogin(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, req{method: "GET", path: "/login"})
	csrf := cookieOf(w, CSRFCookie)
	if csrf == nil || !csrf.HttpOnly || csrf.SameSite != http.SameSiteLaxMode || w.Body.String() != "login form csrf="+csrf.Value {
		t.Fatalf("login form: %q, cookie %+v; want the double-submit token in both", w.Body, csrf)
	}
	login := func(form string, cookies ...*http.Cookie) *httptestRecorder {
		return e.do(t, req{method: "POST", path: "/login", form: form, cookies: cookies, remote: "198.51.100.7:5555"})
	}
	form := url.Values{"name": {"user1"}, "password": {"pw-user1"}, "next": {"/admin/jobs/job_1?x=1"}, "csrf": {csrf.Value}}

	if w := login(form.Encode()); w.Code != http.StatusForbidden {
		t.Errorf("login without the csrf cookie: %d; want 403", w.Code)
	}
	bad := url.Values{"name": {"user1"}, "password": {"pw-user1"}, "csrf": {"forged"}}
	if w := login(bad.Encode(), csrf); w.Code != http.StatusForbidden {
		t.Errorf("login with a forged csrf: %d; want 403", w.Code)
	}

	w = login(form.Encode(), csrf)
	sess := cookieOf(w, auth.CookieName)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/jobs/job_1?x=1" || sess == nil {
		t.Fatalf("login: %d to %q, cookie %v", w.Code, w.Header().Get("Location"), sess)
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Secure || sess.Value != "new-user1-198.51.100.7" {
		t.Errorf("session cookie %+v; want HttpOnly, Lax, Path=/, not Secure without TLS, throttled by the peer's address", sess)
	}
	// The new session works, with its own CSRF token.
	w = e.do(t, req{method: "GET", path: "/admin/jobs", cookies: []*http.Cookie{sess}})
	if w.Body.String() != "page for user1 (true) via web csrf=csrf-new-user1" {
		t.Errorf("after login: %q", w.Body)
	}

	for _, c := range []struct{ name, pw, next, loc string }{
		{"user1", "wrong", "/admin/audit-logs", "/login?error=bad&next=%2Fadmin%2Faudit-logs"},
		{"nobody", "x", "", "/login?error=bad"},
		{"user1", "pw-user1", "//evil.example/", "/admin/jobs"}, // next stays on this site
		{"user1", "pw-user1", "https://evil.example/", "/admin/jobs"},
		{"user1", "pw-user1", "/\\evil.example", "/admin/jobs"},
	} {
		f := url.Values{"name": {c.name}, "password": {c.pw}, "next": {c.next}, "csrf": {csrf.Value}}
		if w := login(f.Encode(), csrf); w.Code != http.StatusSeeOther || w.Header().Get("Location") != c.loc {
			t.Errorf("login %s/%s next %q: %d to %q; want 303 to %q", c.name, c.pw, c.next, w.Code, w.Header().Get("Location"), c.loc)
		}
	}

	// Throttled: the form says so instead of "bad".
	e.auth.throttled["user1"] = true
	w = login(form.Encode(), csrf)
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?error=throttled") || cookieOf(w, auth.CookieName) != nil {
		t.Errorf("throttled login: %d to %q; want 303 to /login?error=throttled and no session", w.Code, loc)
	}

	// Under TLS the cookies are Secure.
	r := httptestRequest("POST", "https://jobs.example/login", form.Encode())
	r.AddCookie(csrf)
	delete(e.auth.throttled, "user1")
	rec := serve(e, r)
	if c := cookieOf(rec, auth.CookieName); c == nil || !c.Secure {
		t.Errorf("login over TLS: cookie %+v; want Secure", c)
	}
}

// TestLoginAddress: failures are counted against the client, which a
// trusted proxy names in X-Forwarded-For and anyone else cannot.
func TestLoginAddress(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Proxy = Proxy{UserHeader: "X-Forwarded-User", Trusted: []netip.Prefix{mustPrefix(t, "10.0.0.0/8")}}
	})
	csrf := &http.Cookie{Name: CSRFCookie, Value: strings.Repeat("c", 43)}
	form := "name=admin1&password=pw-admin1&csrf=" + csrf.Value
	for _, c := range []struct{ remote, xff, want string }{
		{"10.0.0.5:1000", "203.0.113.1, 198.51.100.9", "198.51.100.9"}, // the proxy's own entry
		{"192.0.2.1:1000", "198.51.100.9", "192.0.2.1"},                // untrusted: its header is ignored
		{"10.0.0.5:1000", "", "10.0.0.5"},
	} {
		r := req{method: "POST", path: "/login", form: form, remote: c.remote, cookies: []*http.Cookie{csrf}}
		if c.xff != "" {
			r.header = http.Header{"X-Forwarded-For": {c.xff}}
		}
		w := e.do(t, r)
		if got := cookieOf(w, auth.CookieName); got == nil || got.Value != "new-admin1-"+c.want {
			t.Errorf("login from %s (X-Forwarded-For %q): session %v; want the address %s", c.remote, c.xff, got, c.want)
		}
	}
}

// TestLogout ends the session in the store and in the browser, and needs
// the session's CSRF token like any state change.
func TestLogout(t *testing.T) {
	e := newEnv(t)
	if w := e.do(t, req{method: "POST", path: "/logout", as: "admin1", cookie: true}); w.Code != http.StatusForbidden {
		t.Errorf("logout without the CSRF token: %d; want 403", w.Code)
	}
	w := e.do(t, req{method: "POST", path: "/logout", as: "admin1", cookie: true, form: "csrf=csrf-admin1"})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
		t.Errorf("logout: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if c := cookieOf(w, auth.CookieName); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout cookie %+v; want it deleted", c)
	}
	if len(e.auth.loggedOut) != 1 || e.auth.loggedOut[0] != "cookie-admin1" {
		t.Errorf("sessions ended: %v", e.auth.loggedOut)
	}
	// The old cookie no longer opens pages, and the browser is told to forget it.
	w = e.do(t, req{method: "GET", path: "/admin/jobs", as: "admin1", cookie: true})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next=%2Fadmin%2Fjobs" {
		t.Errorf("page after logout: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if c := cookieOf(w, auth.CookieName); c == nil || c.MaxAge >= 0 {
		t.Errorf("expired session's cookie %+v; want it deleted", c)
	}
}

// TestPagesNeedLogin: an anonymous browser goes to the login form and
// back; the API answers 401 instead.
func TestPagesNeedLogin(t *testing.T) {
	e := newEnv(t)
	w := e.do(t, req{method: "GET", path: "/admin/jobs?status=failed"})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next=%2Fadmin%2Fjobs%3Fstatus%3Dfailed" {
		t.Errorf("anonymous page: %d to %q", w.Code, w.Header().Get("Location"))
	}
	w = e.do(t, req{method: "POST", path: "/admin/jobs/actions", form: "action=retry"})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next=%2Fadmin%2Fjobs" {
		t.Errorf("anonymous form post: %d to %q; want 303 to the login form, then the pages", w.Code, w.Header().Get("Location"))
	}
	if w := e.do(t, req{method: "GET", path: "/"}); w.Code != http.StatusSeeOther || w.Header().Get("Location") != HomePath {
		t.Errorf("/: %d to %q", w.Code, w.Header().Get("Location"))
	}
	// Health and metrics need no login.
	if w := e.do(t, req{method: "GET", path: MetricsPath}); w.Code != 200 || w.Body.String() != "jobctl_up 1\n" {
		t.Errorf("metrics: %d %q", w.Code, w.Body)
	}
	if w := e.do(t, req{method: "GET", path: HealthPath}); w.Code != 200 || !strings.Contains(w.Body.String(), `"status": "healthy"`) {
		t.Errorf("health: %d %q", w.Code, w.Body)
	}
}

// TestProxyAuth: the proxy's header counts only from a trusted address;
// an account's role wins over the groups; no role is 403.
func TestProxyAuth(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Proxy = Proxy{UserHeader: "X-Forwarded-User", GroupsHeader: "X-Forwarded-Groups",
			Roles:   map[string]store.Role{"ops": store.RoleManager, "staff": store.RoleUser, "root": store.RoleAdmin},
			Trusted: []netip.Prefix{mustPrefix(t, "10.0.0.0/8"), mustPrefix(t, "::1/128")}}
	})
	h := func(user, groups string) http.Header {
		hd := http.Header{"X-Forwarded-User": {user}}
		if groups != "" {
			hd.Set("X-Forwarded-Groups", groups)
		}
		return hd
	}
	cases := []struct {
		remote, user, groups string
		code                 int
		who                  ops.Principal
	}{
		{"10.1.2.3:40000", "carol", "staff,ops", 200, ops.Principal{Name: "carol", Role: store.RoleManager, Via: ops.ViaAPI}},
		{"10.1.2.3:40000", "dave", "staff", 200, ops.Principal{Name: "dave", Role: store.RoleUser, UserID: "dave", Via: ops.ViaAPI}},
		{"[::1]:40000", "erin", "root", 200, ops.Principal{Name: "erin", Role: store.RoleAdmin, Via: ops.ViaAPI}},
		{"10.1.2.3:40000", "user1", "root", 200, ops.Principal{Name: "user1", Role: store.RoleUser, UserID: "u1", Via: ops.ViaAPI}}, // the account decides
		{"10.1.2.3:40000", "frank", "", 403, ops.Principal{}},                                                                       // no group, no account
		{"10.1.2.3:40000", "frank", "visitors", 403, ops.Principal{}},                                                               // no group with a role
		{"192.0.2.9:40000", "erin", "root", 401, ops.Principal{}},                                                                   // untrusted: header ignored
		{"[::ffff:10.1.2.3]:40000", "carol", "ops", 200, ops.Principal{Name: "carol", Role: store.RoleManager, Via: ops.ViaAPI}},    // IPv4-mapped
	}
	for _, c := range cases {
		e.ops.calls = nil
		w := e.do(t, req{method: "GET", path: "/api/admin/stats", remote: c.remote, header: h(c.user, c.groups)})
		if w.Code != c.code {
			t.Errorf("%s from %s (%s): %d %s; want %d", c.user, c.remote, c.groups, w.Code, w.Body, c.code)
			continue
		}
		if c.code == 200 && e.ops.last().Who != c.who {
			t.Errorf("%s from %s: acted as %+v; want %+v", c.user, c.remote, e.ops.last().Who, c.who)
		}
	}
	// Pages: a proxy user without a role is refused, not sent to log in.
	w := e.do(t, req{method: "GET", path: "/admin/jobs", remote: "10.1.2.3:1", header: h("frank", "")})
	if w.Code != http.StatusForbidden {
		t.Errorf("page for a proxy user without a role: %d; want 403", w.Code)
	}
	// A proxy user's forms carry the double-submit token.
	w = e.do(t, req{method: "GET", path: "/admin/jobs", remote: "10.1.2.3:1", header: h("carol", "ops")})
	csrf := cookieOf(w, CSRFCookie)
	if csrf == nil || !strings.HasSuffix(w.Body.String(), "csrf="+csrf.Value) || !strings.HasPrefix(w.Body.String(), "page for carol (true) via web") {
		t.Fatalf("proxy page: %q, cookie %v", w.Body, csrf)
	}
	if c := e.do(t, req{method: "POST", path: "/admin/jobs/actions", remote: "10.1.2.3:1", header: h("carol", "ops"), form: "action=retry", cookies: []*http.Cookie{csrf}}).Code; c != http.StatusForbidden {
		t.Errorf("proxy form without csrf: %d; want 403", c)
	}
	if c := e.do(t, req{method: "POST", path: "/admin/jobs/actions", remote: "10.1.2.3:1", header: h("carol", "ops"), form: "action=retry&csrf=" + csrf.Value, cookies: []*http.Cookie{csrf}}).Code; c != http.StatusOK {
		t.Errorf("proxy form with csrf: %d; want 200", c)
	}
	// Secure cookies when the trusted proxy says the browser used TLS.
	hd := h("carol", "ops")
	hd.Set("X-Forwarded-Proto", "https")
	if c := cookieOf(e.do(t, req{method: "GET", path: "/admin/jobs", remote: "10.1.2.3:1", header: hd}), CSRFCookie); c == nil || !c.Secure {
		t.Errorf("behind a TLS proxy: cookie %+v; want Secure", c)
	}
	// A proxy header needs somewhere to trust it from.
	if _, err := New(Config{Ops: e.ops, SeparateMonitor: true, Proxy: Proxy{UserHeader: "X-Forwarded-User"}}); err == nil {
		t.Error("New with a proxy header and no trusted proxy: no error")
	}
}

// TestSecurityHeaders are on every response, errors included.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	for _, r := range []req{
		{method: "GET", path: "/admin/jobs", as: "admin1", cookie: true},
		{method: "GET", path: "/api/admin/jobs"},
		{method: "GET", path: HealthPath},
		{method: "GET", path: "/nope"},
		{method: "POST", path: "/login"},
	} {
		w := e.do(t, r)
		h := w.Header()
		if h.Get("Content-Security-Policy") != "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s (%d): headers %v", r.method, r.path, w.Code, h)
		}
	}
	m := NewMonitor(Monitor{Health: newEnvHealth, Metrics: http.NotFoundHandler()})
	if w := serve2(m, httptestRequest("GET", HealthPath, "")); w.Header().Get("Content-Security-Policy") == "" {
		t.Error("monitor: no security headers")
	}
}

// TestRequestLog: one line per request with the account.
func TestRequestLog(t *testing.T) {
	e := newEnv(t)
	e.do(t, req{method: "GET", path: "/api/admin/jobs?status=failed", as: "manager1"})
	e.do(t, req{method: "GET", path: "/api/admin/jobs"})
	lines := strings.Split(strings.TrimSpace(e.logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log lines:\n%s\nwant one per request", e.logs)
	}
	for i, want := range []string{
		"msg=request method=GET path=/api/admin/jobs status=200 duration=",
		"msg=request method=GET path=/api/admin/jobs status=401 duration=",
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("log line %q; want %q", lines[i], want)
		}
	}
	if !strings.HasSuffix(lines[0], "account=manager1") || !strings.HasSuffix(lines[1], "account=\"\"") {
		t.Errorf("log lines %q; want the account", lines)
	}
}
