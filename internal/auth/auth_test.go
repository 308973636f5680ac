package auth

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// Hashing at the real cost would make every login in these tests take
// 50 ms (much more under -race); the cost itself is tested once, below.
func init() { params = argonParams{memory: 64, time: 1, threads: 1} }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var ctx = context.Background()

// newService is a Service over a fresh SQLite store holding bob (a user)
// and alice (an admin), both with password "correct horse".
func newService(t *testing.T) (*Service, store.Store, *clock) {
	t.Helper()
	st := teststore.SQLite(t).Store
	for _, a := range []*store.Account{
		{Name: "bob", Role: store.RoleUser, UserID: "user_123"},
		{Name: "alice", Role: store.RoleAdmin},
	} {
		h, err := HashPassword("correct horse")
		if err != nil {
			t.Fatal(err)
		}
		a.PasswordHash = h
		if err := st.AddAccount(ctx, a, "root"); err != nil {
			t.Fatal(err)
		}
	}
	c := &clock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	return New(st, Options{Now: c.Now}), st, c
}

func TestHashPassword(t *testing.T) {
	saved := params
	params = argonParams{memory: 19 * 1024, time: 2, threads: 1}
	defer func() { params = saved }()
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(h) {
		t.Errorf("hash %q is not argon2id's PHC string with OWASP's parameters", h)
	}
	if !CheckPassword(h, "correct horse") {
		t.Error("the password does not match its own hash")
	}
	if CheckPassword(h, "correct horsf") || CheckPassword(h, "") {
		t.Error("a wrong password matches")
	}
	h2, _ := HashPassword("correct horse")
	if h2 == h {
		t.Error("two hashes of one password are equal: no random salt")
	}
}

func TestCheckPasswordRefusesBadHashes(t *testing.T) {
	good, _ := HashPassword("pw")
	parts := strings.Split(good, "$")
	for _, h := range []string{
		"", "pw", "$2a$10$abcdefghijklmnopqrstuv", // bcrypt
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Join([]string{"", "argon2id", "v=19", "m=4194304,t=1,p=1", parts[4], parts[5]}, "$"), // 4 GiB
		strings.Join([]string{"", "argon2id", "v=19", "m=64,t=1000,p=1", parts[4], parts[5]}, "$"),
		strings.Join([]string{"", "argon2id", "v=19", "m=64,t=1,p=0", parts[4], parts[5]}, "$"),
		strings.Join([]string{"", "argon2id", "v=19", "m=64,t=1,p=1", "!!", parts[5]}, "$"),
		good + "$",
	} {
		if CheckPassword(h, "pw") {
			t.Errorf("CheckPassword(%q) matched", h)
		}
	}
	if !CheckPassword(good, "pw") {
		t.Error("the good hash does not match")
	}
}

func TestCheckNewPassword(t *testing.T) {
	for pw, ok := range map[string]bool{"": false, "short": false, "1234567": false, "12345678": true, "ünïcödé!": true, strings.Repeat("x", 2000): false} {
		if err := CheckNewPassword(pw); (err == nil) != ok {
			t.Errorf("CheckNewPassword(%q) = %v", pw, err)
		}
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{"bob": true, "ops.team@example.com": true, "a_b-c": true, strings.Repeat("a", 64): true,
		"": false, strings.Repeat("a", 65): false, "bob smith": false, "bob/x": false, "böb": false, "a\x1b[31m": false} {
		if err := CheckName(name); (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
}

func TestLogin(t *testing.T) {
	svc, st, c := newService(t)
	cookie, sess, a, err := svc.Login(ctx, "bob", "correct horse", "192.0.2.1:5555")
	if err != nil {
		t.Fatal(err)
	}
	if len(cookie) != 43 || !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(cookie) {
		t.Errorf("cookie %q is not 32 random bytes in base64url", cookie)
	}
	if sess.IDHash != hashHex(cookie) || strings.Contains(sess.IDHash, cookie) {
		t.Errorf("session stores %q for cookie %q; want its sha256", sess.IDHash, cookie)
	}
	if len(sess.CSRF) != 43 || sess.CSRF == cookie {
		t.Errorf("CSRF token %q", sess.CSRF)
	}
	if sess.Addr != "192.0.2.1" || !sess.CreatedAt.Equal(c.Now()) || !sess.SeenAt.Equal(c.Now()) || sess.Account != "bob" {
		t.Errorf("session = %+v", sess)
	}
	if a.Name != "bob" || a.UserID != "user_123" || a.PasswordHash != "" || a.LastLoginAt == nil {
		t.Errorf("account = %+v; want bob, scrubbed of its hash, with a last login", a)
	}
	stored, _, err := st.GetSession(ctx, sess.IDHash)
	if err != nil || stored.CSRF != sess.CSRF {
		t.Errorf("session not in the store: %+v %v", stored, err)
	}
	got, ga, err := svc.Session(ctx, cookie)
	if err != nil || got.IDHash != sess.IDHash || ga.Name != "bob" || ga.PasswordHash != "" {
		t.Errorf("Session(cookie) = %+v %+v %v", got, ga, err)
	}
	// Two logins are two sessions.
	cookie2, _, _, err := svc.Login(ctx, "bob", "correct horse", "192.0.2.1")
	if err != nil || cookie2 == cookie {
		t.Errorf("second login: %q %v", cookie2, err)
	}

	for _, bad := range [][2]string{{"bob", "wrong"}, {"bob", ""}, {"nobody", "correct horse"}, {"", ""}} {
		if _, _, _, err := svc.Login(ctx, bad[0], bad[1], "198.51.100.7"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Login(%q, %q) = %v; want ErrBadCredentials", bad[0], bad[1], err)
		}
	}
	if _, _, err := svc.Session(ctx, "not-a-cookie"); !errors.Is(err, ErrNoSession) {
		t.Errorf("Session(unknown) = %v", err)
	}
	if _, _, err := svc.Session(ctx, ""); !errors.Is(err, ErrNoSession) {
		t.Errorf("Session(\"\") = %v", err)
	}
}

// A login to a missing account checks a password all the same, so that
// it takes as long as a wrong password, and it counts as a failure.
func TestLoginMissingAccount(t *testing.T) {
	svc, st, c := newService(t)
	if _, _, _, err := svc.Login(ctx, "nobody", "pw", "192.0.2.1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatal(err)
	}
	if svc.dummy == "" {
		t.Error("no password was checked for a missing account")
	}
	for _, k := range []string{"acct:nobody", "addr:192.0.2.1"} {
		if n, _ := st.LoginFailures(ctx, k, c.Now().Add(-time.Minute)); n != 1 {
			t.Errorf("%s failures = %d; want 1", k, n)
		}
	}
}

func TestLoginThrottledPerAccount(t *testing.T) {
	svc, _, c := newService(t)
	for i := range 5 {
		// From a new address each time: only the account's count grows.
		addr := "192.0.2." + string(rune('1'+i))
		if _, _, _, err := svc.Login(ctx, "bob", "guess", addr); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
		c.Add(time.Minute)
	}
	// The right password, from yet another address, is refused too.
	_, _, _, err := svc.Login(ctx, "bob", "correct horse", "203.0.113.9")
	var te *ThrottledError
	if !errors.As(err, &te) || te.RetryAfter <= 0 || te.RetryAfter > 15*time.Minute {
		t.Fatalf("sixth login = %v; want a ThrottledError", err)
	}
	if !strings.Contains(err.Error(), "too many failed logins") {
		t.Errorf("message %q", err)
	}
	// Another account is not throttled by bob's failures.
	if _, _, _, err := svc.Login(ctx, "alice", "correct horse", "203.0.113.9"); err != nil {
		t.Errorf("alice throttled by bob's failures: %v", err)
	}
	// Once the window has moved past the first failure, bob may log in.
	c.Add(11 * time.Minute) // the first failure was 16 minutes ago
	if _, _, _, err := svc.Login(ctx, "bob", "correct horse", "203.0.113.9"); err != nil {
		t.Errorf("bob still throttled after the window: %v", err)
	}
}

func TestGoodLoginClearsAccountFailures(t *testing.T) {
	svc, _, _ := newService(t)
	fail := func(n int) {
		for range n {
			if _, _, _, err := svc.Login(ctx, "bob", "guess", ""); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("want ErrBadCredentials, got %v", err)
			}
		}
	}
	fail(4)
	if _, _, _, err := svc.Login(ctx, "bob", "correct horse", ""); err != nil {
		t.Fatal(err)
	}
	fail(4) // 8 in the window, but 4 since the good login
	if _, _, _, err := svc.Login(ctx, "bob", "correct horse", ""); err != nil {
		t.Errorf("a good login did not clear the failures before it: %v", err)
	}
}

func TestLoginThrottledPerAddress(t *testing.T) {
	svc, _, _ := newService(t)
	// Guessing across accounts from one host (different ports).
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		if _, _, _, err := svc.Login(ctx, name, "guess", "198.51.100.7:"+string(rune('1'+i))+"000"); !errors.Is(err, ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	var te *ThrottledError
	if _, _, _, err := svc.Login(ctx, "bob", "correct horse", "198.51.100.7:9999"); !errors.As(err, &te) {
		t.Errorf("login from the guessing host = %v; want throttled", err)
	}
	if _, _, _, err := svc.Login(ctx, "bob", "correct horse", "192.0.2.1:9999"); err != nil {
		t.Errorf("login from another host: %v", err)
	}
}

func TestSessionIdleExpiry(t *testing.T) {
	svc, st, c := newService(t)
	cookie, sess, _, err := svc.Login(ctx, "bob", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	// Used within the minute: SeenAt is not written again.
	c.Add(30 * time.Second)
	if _, _, err := svc.Session(ctx, cookie); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := st.GetSession(ctx, sess.IDHash); !got.SeenAt.Equal(sess.SeenAt) {
		t.Errorf("SeenAt written after 30s: %v", got.SeenAt)
	}
	// Used after 29 minutes: alive, and SeenAt moves.
	c.Add(29 * time.Minute)
	got, _, err := svc.Session(ctx, cookie)
	if err != nil {
		t.Fatal(err)
	}
	if !got.SeenAt.Equal(c.Now()) {
		t.Errorf("returned SeenAt %v; want now", got.SeenAt)
	}
	if stored, _, _ := st.GetSession(ctx, sess.IDHash); !stored.SeenAt.Equal(c.Now()) {
		t.Errorf("stored SeenAt %v; want %v", stored.SeenAt, c.Now())
	}
	// 29 more minutes: still alive, since it was seen.
	c.Add(29 * time.Minute)
	if _, _, err := svc.Session(ctx, cookie); err != nil {
		t.Errorf("session seen 29 minutes ago ended: %v", err)
	}
	// 30 minutes idle: over, and deleted.
	c.Add(30 * time.Minute)
	if _, _, err := svc.Session(ctx, cookie); !errors.Is(err, ErrNoSession) {
		t.Errorf("idle session: %v; want ErrNoSession", err)
	}
	if _, _, err := st.GetSession(ctx, sess.IDHash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired session still stored: %v", err)
	}
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	svc, st, c := newService(t)
	cookie, sess, _, err := svc.Login(ctx, "bob", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	for elapsed := 20 * time.Minute; elapsed < 12*time.Hour; elapsed += 20 * time.Minute {
		c.Add(20 * time.Minute)
		if _, _, err := svc.Session(ctx, cookie); err != nil {
			t.Fatalf("busy session ended after %v: %v", elapsed, err)
		}
	}
	c.Add(20 * time.Minute) // 12h since login
	if _, _, err := svc.Session(ctx, cookie); !errors.Is(err, ErrNoSession) {
		t.Errorf("session past 12h: %v; want ErrNoSession", err)
	}
	if _, _, err := st.GetSession(ctx, sess.IDHash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired session still stored: %v", err)
	}
}

func TestLoginSweepsExpiredSessions(t *testing.T) {
	svc, st, c := newService(t)
	_, old, _, err := svc.Login(ctx, "bob", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(time.Hour)
	if _, _, _, err := svc.Login(ctx, "alice", "correct horse", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.GetSession(ctx, old.IDHash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session idle for an hour survived the next login: %v", err)
	}
}

func TestOptionsDefaultsAndOverrides(t *testing.T) {
	svc, _, c := newService(t)
	if svc.o.IdleTimeout != 30*time.Minute || svc.o.AbsoluteTimeout != 12*time.Hour || svc.o.MaxFailures != 5 || svc.o.FailureWindow != 15*time.Minute {
		t.Errorf("defaults: %+v", svc.o)
	}
	short := New(svc.s, Options{IdleTimeout: time.Minute, Now: c.Now})
	cookie, _, _, err := short.Login(ctx, "bob", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(2 * time.Minute)
	if _, _, err := short.Session(ctx, cookie); !errors.Is(err, ErrNoSession) {
		t.Errorf("IdleTimeout of a minute not honoured: %v", err)
	}
}

func TestLogout(t *testing.T) {
	svc, _, _ := newService(t)
	cookie, _, _, err := svc.Login(ctx, "bob", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Logout(ctx, cookie); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Session(ctx, cookie); !errors.Is(err, ErrNoSession) {
		t.Errorf("session after logout: %v", err)
	}
	if err := svc.Logout(ctx, cookie); err != nil {
		t.Errorf("logging out twice: %v", err)
	}
	if err := svc.Logout(ctx, ""); err != nil {
		t.Errorf("logout without a cookie: %v", err)
	}
}

func TestNewPasswordEndsSessions(t *testing.T) {
	svc, st, _ := newService(t)
	cookie, _, _, err := svc.Login(ctx, "bob", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	h, _ := HashPassword("battery staple")
	if err := st.SetPassword(ctx, "bob", h, "root"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Session(ctx, cookie); !errors.Is(err, ErrNoSession) {
		t.Errorf("session after a password change: %v", err)
	}
	if _, _, _, err := svc.Login(ctx, "bob", "correct horse", ""); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("old password: %v", err)
	}
	if _, _, _, err := svc.Login(ctx, "bob", "battery staple", ""); err != nil {
		t.Errorf("new password: %v", err)
	}
}

func TestTokens(t *testing.T) {
	svc, st, c := newService(t)
	secret, tok, err := svc.CreateToken(ctx, "ci", "bob", "root")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^jobctl_[A-Za-z0-9_-]{43}$`).MatchString(secret) {
		t.Errorf("secret %q is not jobctl_ + 32 random bytes in base64url", secret)
	}
	if tok.Prefix != secret[:12] || tok.Hash != hashHex(secret) || tok.Account != "bob" || tok.Name != "ci" {
		t.Errorf("token = %+v", tok)
	}
	stored, err := st.ListTokens(ctx, "bob")
	if err != nil || len(stored) != 1 || stored[0].Hash == secret || strings.Contains(stored[0].Hash, secret[len(TokenPrefix):]) {
		t.Errorf("the store holds %+v (%v); want the hash only", stored, err)
	}

	c.Add(time.Hour)
	got, a, err := svc.Token(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "ci" || got.LastUsedAt == nil || !got.LastUsedAt.Equal(c.Now()) {
		t.Errorf("Token = %+v; want ci used now", got)
	}
	if a.Name != "bob" || a.UserID != "user_123" || a.PasswordHash != "" {
		t.Errorf("Token's account = %+v", a)
	}
	for _, bad := range []string{"", "jobctl_", secret[:len(secret)-1], secret + "x", "Bearer " + secret,
		strings.Replace(secret, "jobctl_", "jobctl-", 1), TokenPrefix + strings.Repeat("A", 43)} {
		if _, _, err := svc.Token(ctx, bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("Token(%q) = %v; want ErrBadToken", bad, err)
		}
	}

	if _, _, err := svc.CreateToken(ctx, "ci", "alice", "root"); !errors.Is(err, store.ErrExists) {
		t.Errorf("a second token called ci: %v; want ErrExists", err)
	}
	if _, _, err := svc.CreateToken(ctx, "x", "nobody", "root"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a token for nobody: %v; want ErrNotFound", err)
	}
	if _, _, err := svc.CreateToken(ctx, "bad name", "bob", "root"); err == nil {
		t.Error("a token named \"bad name\" was made")
	}
	other, _, err := svc.CreateToken(ctx, "ci2", "bob", "root")
	if err != nil || other == secret {
		t.Fatalf("second token: %q %v", other, err)
	}

	if err := st.RevokeToken(ctx, "ci", "root"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Token(ctx, secret); !errors.Is(err, ErrBadToken) {
		t.Errorf("revoked token: %v; want ErrBadToken", err)
	}
	if _, _, err := svc.Token(ctx, other); err != nil {
		t.Errorf("revoking ci revoked ci2: %v", err)
	}
	// Removing the account takes its tokens.
	if err := st.RemoveAccount(ctx, "bob", "root"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Token(ctx, other); !errors.Is(err, ErrBadToken) {
		t.Errorf("token of a removed account: %v; want ErrBadToken", err)
	}
}

func TestPrincipal(t *testing.T) {
	for _, tc := range []struct {
		a    store.Account
		via  ops.Channel
		want ops.Principal
	}{
		{store.Account{Name: "bob", Role: store.RoleUser, UserID: "user_123"}, ops.ViaWeb,
			ops.Principal{Name: "bob", Role: store.RoleUser, UserID: "user_123", Via: ops.ViaWeb}},
		// Only a user is scoped: a stray UserID on an admin means nothing.
		{store.Account{Name: "alice", Role: store.RoleAdmin, UserID: "user_9"}, ops.ViaAPI,
			ops.Principal{Name: "alice", Role: store.RoleAdmin, Via: ops.ViaAPI}},
		{store.Account{Name: "max", Role: store.RoleManager}, ops.ViaWeb,
			ops.Principal{Name: "max", Role: store.RoleManager, Via: ops.ViaWeb}},
	} {
		if got := Principal(&tc.a, tc.via); got != tc.want {
			t.Errorf("Principal(%+v) = %+v; want %+v", tc.a, got, tc.want)
		}
	}
}

// A huge name from a login form is a failure like any other, stored cut.
func TestLoginHugeName(t *testing.T) {
	svc, st, c := newService(t)
	name := strings.Repeat("x", 1<<20)
	if _, _, _, err := svc.Login(ctx, name, "pw", ""); !errors.Is(err, ErrBadCredentials) {
		t.Fatal(err)
	}
	if n, _ := st.LoginFailures(ctx, "acct:"+name[:128], c.Now().Add(-time.Minute)); n != 1 {
		t.Errorf("failures under the cut key = %d; want 1", n)
	}
}
