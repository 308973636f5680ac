package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/auth"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// TestRealAuth runs the handlers over internal/auth and a real store's
// accounts (the operations layer is still the fake): a form login, idle
// and absolute session expiry, logout, throttling and a revoked token.
func TestRealAuth(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		hash, err := auth.HashPassword("correct-horse")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.AddAccount(ctx, &store.Account{Name: "alice", Role: store.RoleManager, PasswordHash: hash}, "root"); err != nil {
			t.Fatal(err)
		}
		svc := auth.New(b.Store, auth.Options{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 2 * time.Hour, MaxFailures: 3, Now: clock})
		secret, _, err := svc.CreateToken(ctx, "ci", "alice", "root")
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, func(c *Config) { c.Auth, c.Accounts = svc, b.Store })

		csrf := cookieOf(e.do(t, req{method: "GET", path: "/login"}), CSRFCookie)
		login := func(pw string) *httptestRecorder {
			f := url.Values{"name": {"alice"}, "password": {pw}, "csrf": {csrf.Value}}
			return e.do(t, req{method: "POST", path: "/login", form: f.Encode(), cookies: []*http.Cookie{csrf}})
		}
		page := func(sess *http.Cookie) *httptestRecorder {
			return e.do(t, req{method: "GET", path: "/admin/jobs", cookies: []*http.Cookie{sess}})
		}
		w := login("correct-horse")
		sess := cookieOf(w, auth.CookieName)
		if w.Code != http.StatusSeeOther || sess == nil {
			t.Fatalf("login: %d, cookie %v", w.Code, sess)
		}
		if w := page(sess); !strings.HasPrefix(w.Body.String(), "page for alice (true) via web csrf=") {
			t.Fatalf("page after login: %d %q", w.Code, w.Body)
		}
		// Used every 20 minutes, the session lives until its absolute end.
		for range 5 {
			advance(20 * time.Minute)
			if w := page(sess); w.Code != 200 {
				t.Fatalf("page while in use: %d", w.Code)
			}
		}
		advance(25 * time.Minute) // 2h05 after login
		if w := page(sess); w.Code != http.StatusSeeOther {
			t.Errorf("page after the absolute timeout: %d; want 303 to the login form", w.Code)
		}
		// Idle for longer than the idle timeout.
		sess = cookieOf(login("correct-horse"), auth.CookieName)
		advance(31 * time.Minute)
		if w := page(sess); w.Code != http.StatusSeeOther || cookieOf(w, auth.CookieName) == nil {
			t.Errorf("page after idling: %d; want 303 and the cookie deleted", w.Code)
		}
		// Logout ends the session in the store: the same cookie replayed is anonymous.
		sess = cookieOf(login("correct-horse"), auth.CookieName)
		body := page(sess).Body.String()
		token := body[strings.Index(body, "csrf=")+len("csrf="):]
		e.do(t, req{method: "POST", path: "/logout", form: "csrf=" + token, cookies: []*http.Cookie{sess}})
		if w := page(sess); w.Code != http.StatusSeeOther {
			t.Errorf("replayed cookie after logout: %d; want 303", w.Code)
		}
		// Three wrong passwords, then even the right one is throttled.
		for range 3 {
			if loc := login("wrong").Header().Get("Location"); loc != "/login?error=bad" {
				t.Errorf("wrong password: to %q", loc)
			}
		}
		if loc := login("correct-horse").Header().Get("Location"); loc != "/login?error=throttled" {
			t.Errorf("after 3 failures: to %q; want error=throttled", loc)
		}
		// The token works until it is revoked.
		bearer := http.Header{"Authorization": {"Bearer " + secret}}
		if w := e.do(t, req{method: "GET", path: "/api/admin/jobs", header: bearer}); w.Code != 200 {
			t.Errorf("token: %d", w.Code)
		}
		if err := b.RevokeToken(ctx, "ci", "root"); err != nil {
			t.Fatal(err)
		}
		if w := e.do(t, req{method: "GET", path: "/api/admin/jobs", header: bearer}); w.Code != http.StatusUnauthorized {
			t.Errorf("revoked token: %d; want 401", w.Code)
		}
	})
}
