package storetest

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

func exerciseAccounts(t *testing.T, newHarness NewFunc) {
	t.Run("Accounts", func(t *testing.T) { t.Parallel(); testAccounts(t, newHarness(t)) })
	t.Run("AccountRemoveCascades", func(t *testing.T) { t.Parallel(); testAccountRemoveCascades(t, newHarness(t)) })
	t.Run("Sessions", func(t *testing.T) { t.Parallel(); testSessions(t, newHarness(t)) })
	t.Run("Tokens", func(t *testing.T) { t.Parallel(); testTokens(t, newHarness(t)) })
	t.Run("LoginFailures", func(t *testing.T) { t.Parallel(); testLoginFailures(t, newHarness(t)) })
	t.Run("AccountAudit", func(t *testing.T) { t.Parallel(); testAccountAudit(t, newHarness(t)) })
	t.Run("AccountAuditSameTransaction", func(t *testing.T) { t.Parallel(); testAccountAuditSameTransaction(t, newHarness(t)) })
}

// accountActions are the audit actions of account and token changes.
var accountActions = []string{store.ActionUserAdd, store.ActionUserRemove, store.ActionUserPasswd, store.ActionTokenCreate, store.ActionTokenRevoke}

// Each change to an account or token writes one audit row naming the
// actor, the account or token and what is safe to keep; a refused change
// writes none; no row holds a password hash or a token's hash or prefix.
func testAccountAudit(t *testing.T, h *Harness) {
	s := h.Store
	if err := s.AddAccount(ctx(), &store.Account{Name: "sam", Role: store.RoleUser, UserID: "user_9", PasswordHash: "$argon2id$secret-sam"}, "ada"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx(), &store.APIToken{Name: "ci", Account: "sam", Hash: "tokenhash-ci", Prefix: "jobctl_pfx"}, "ada"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword(ctx(), "sam", "$argon2id$secret-new", "sam"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx(), "ci", "ada"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveAccount(ctx(), "sam", "root"); err != nil {
		t.Fatal(err)
	}
	// Refused: none of these is audited.
	_ = s.AddAccount(ctx(), &store.Account{Name: "x", Role: store.RoleUser, PasswordHash: "h"}, "ada") // a user without a user ID
	_ = s.RemoveAccount(ctx(), "sam", "ada")
	_ = s.SetPassword(ctx(), "nobody", "h", "ada")
	_ = s.CreateToken(ctx(), &store.APIToken{Name: "t", Account: "nobody", Hash: "h", Prefix: "p"}, "ada")
	_ = s.RevokeToken(ctx(), "ci", "ada")

	es, err := s.Audit(ctx(), &store.AuditFilter{Actions: accountActions, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		action, actor, resource, id string
		meta                        map[string]any
	}{ // newest first
		{store.ActionUserRemove, "root", "Account", "sam", map[string]any{"role": "user"}},
		{store.ActionTokenRevoke, "ada", "ApiToken", "ci", map[string]any{"account": "sam"}},
		{store.ActionUserPasswd, "sam", "Account", "sam", map[string]any{"sessionsEnded": float64(0)}},
		{store.ActionTokenCreate, "ada", "ApiToken", "ci", map[string]any{"account": "sam"}},
		{store.ActionUserAdd, "ada", "Account", "sam", map[string]any{"role": "user", "jobsUserId": "user_9"}},
	}
	if len(es) != len(want) {
		t.Fatalf("%d account audit rows; want %d: %+v", len(es), len(want), es)
	}
	for i, w := range want {
		e := es[i]
		var meta map[string]any
		if err := json.Unmarshal(e.Metadata, &meta); err != nil {
			t.Fatal(err)
		}
		if e.Action != w.action || e.UserID != w.actor || e.Resource != w.resource || e.ResourceID != w.id || !reflect.DeepEqual(meta, w.meta) {
			t.Errorf("row %d: %s by %s on %s %s %s; want %s by %s on %s %s %v", i, e.Action, e.UserID, e.Resource, e.ResourceID, e.Metadata,
				w.action, w.actor, w.resource, w.id, w.meta)
		}
		for _, secret := range []string{"secret", "tokenhash", "jobctl_pfx"} {
			if strings.Contains(string(e.Metadata), secret) {
				t.Errorf("row %d metadata %s holds a secret", i, e.Metadata)
			}
		}
	}
}

// An account or token change and its audit row commit together: when the
// database refuses the row, the change is undone too.
func testAccountAuditSameTransaction(t *testing.T, h *Harness) {
	s := h.Store
	addAccount(t, s, "doomed", store.RoleAdmin, "")
	if err := s.CreateToken(ctx(), &store.APIToken{Name: "doomed", Account: "doomed", Hash: "hd", Prefix: "p"}, "root"); err != nil {
		t.Fatal(err)
	}
	switch s.Backend() {
	case "postgres":
		h.Exec(t, `CREATE FUNCTION refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RAISE EXCEPTION ''no audit row for doomed''; END'`)
		h.Exec(t, `CREATE TRIGGER refuse_doomed BEFORE INSERT ON "AuditLog" FOR EACH ROW WHEN (NEW."resourceId" IN ('doomed', 'doomed2')) EXECUTE FUNCTION refuse_doomed()`)
	default:
		h.Exec(t, `CREATE TRIGGER refuse_doomed BEFORE INSERT ON "AuditLog" WHEN NEW."resourceId" IN ('doomed', 'doomed2') BEGIN SELECT RAISE(ABORT, 'no audit row for doomed'); END`)
	}
	if err := s.AddAccount(ctx(), &store.Account{Name: "doomed2", Role: store.RoleAdmin, PasswordHash: "h"}, "root"); err == nil {
		t.Error("AddAccount succeeded without its audit row")
	}
	if _, err := s.GetAccount(ctx(), "doomed2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an account was added without its audit row: %v", err)
	}
	if err := s.SetPassword(ctx(), "doomed", "$argon2id$new", "root"); err == nil {
		t.Error("SetPassword succeeded without its audit row")
	}
	if a, _ := s.GetAccount(ctx(), "doomed"); a == nil || a.PasswordHash != "$argon2id$doomed" {
		t.Errorf("a password changed without its audit row: %+v", a)
	}
	if err := s.CreateToken(ctx(), &store.APIToken{Name: "doomed2", Account: "doomed", Hash: "hd2", Prefix: "p"}, "root"); err == nil {
		t.Error("CreateToken succeeded without its audit row")
	}
	if err := s.RevokeToken(ctx(), "doomed", "root"); err == nil {
		t.Error("RevokeToken succeeded without its audit row")
	}
	if ts, _ := s.ListTokens(ctx(), "doomed"); len(ts) != 1 || ts[0].Name != "doomed" {
		t.Errorf("tokens changed without their audit rows: %+v", ts)
	}
	if err := s.RemoveAccount(ctx(), "doomed", "root"); err == nil {
		t.Error("RemoveAccount succeeded without its audit row")
	}
	if _, err := s.GetAccount(ctx(), "doomed"); err != nil {
		t.Errorf("an account was removed without its audit row: %v", err)
	}
}

// ms is a time both backends keep exactly (SQLite stores milliseconds).
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func addAccount(t *testing.T, s store.Store, name string, role store.Role, userID string) *store.Account {
	t.Helper()
	a := &store.Account{Name: name, Role: role, UserID: userID, PasswordHash: "$argon2id$" + name}
	if err := s.AddAccount(ctx(), a, "root"); err != nil {
		t.Fatalf("add account %s: %v", name, err)
	}
	return a
}

func testAccounts(t *testing.T, h *Harness) {
	s := h.Store
	if n, err := s.CountAccounts(ctx()); err != nil || n != 0 {
		t.Fatalf("CountAccounts on an empty store = %d, %v", n, err)
	}
	before := time.Now().Add(-time.Second)
	bob := addAccount(t, s, "bob", store.RoleUser, "user_123")
	if bob.CreatedAt.Before(before) || bob.UpdatedAt.IsZero() || bob.LastLoginAt != nil {
		t.Errorf("AddAccount did not fill the times: %+v", bob)
	}
	addAccount(t, s, "alice", store.RoleAdmin, "")
	addAccount(t, s, "max", store.RoleManager, "")
	if err := s.AddAccount(ctx(), &store.Account{Name: "bob", Role: store.RoleAdmin, PasswordHash: "x"}, "root"); !errors.Is(err, store.ErrExists) {
		t.Errorf("adding bob twice: %v; want ErrExists", err)
	}
	for _, bad := range []*store.Account{
		{Name: "u", Role: store.RoleUser, PasswordHash: "x"},                      // a user without a user ID
		{Name: "m", Role: store.RoleManager, UserID: "user_1", PasswordHash: "x"}, // a manager with one
		{Name: "r", Role: "root", PasswordHash: "x"},
		{Name: "p", Role: store.RoleAdmin},
	} {
		if err := s.AddAccount(ctx(), bad, "root"); err == nil {
			t.Errorf("AddAccount(%+v) succeeded", bad)
		}
	}
	if n, err := s.CountAccounts(ctx()); err != nil || n != 3 {
		t.Errorf("CountAccounts = %d, %v; want 3", n, err)
	}

	got, err := s.GetAccount(ctx(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "bob" || got.Role != store.RoleUser || got.UserID != "user_123" || got.PasswordHash != "$argon2id$bob" ||
		!got.CreatedAt.Equal(bob.CreatedAt) || got.LastLoginAt != nil {
		t.Errorf("GetAccount(bob) = %+v; want %+v", got, bob)
	}
	if _, err := s.GetAccount(ctx(), "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAccount(nobody): %v; want ErrNotFound", err)
	}
	list, err := s.ListAccounts(ctx())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range list {
		names = append(names, a.Name)
	}
	if len(names) != 3 || names[0] != "alice" || names[1] != "bob" || names[2] != "max" || list[0].UserID != "" {
		t.Errorf("ListAccounts = %v; want alice, bob, max by name", names)
	}

	// A new password ends the account's sessions, and only its own.
	now := ms(time.Now())
	for _, sess := range []*store.Session{
		{IDHash: "b1", Account: "bob", CSRF: "c", CreatedAt: now, SeenAt: now},
		{IDHash: "b2", Account: "bob", CSRF: "c", CreatedAt: now, SeenAt: now},
		{IDHash: "a1", Account: "alice", CSRF: "c", CreatedAt: now, SeenAt: now},
	} {
		if err := s.CreateSession(ctx(), sess); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetPassword(ctx(), "bob", "$argon2id$new", "root"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetAccount(ctx(), "bob")
	if got.PasswordHash != "$argon2id$new" || got.UpdatedAt.Before(bob.UpdatedAt) {
		t.Errorf("after SetPassword: %+v", got)
	}
	for _, id := range []string{"b1", "b2"} {
		if _, _, err := s.GetSession(ctx(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session %s survived SetPassword: %v", id, err)
		}
	}
	if _, _, err := s.GetSession(ctx(), "a1"); err != nil {
		t.Errorf("alice's session ended with bob's password: %v", err)
	}
	if err := s.SetPassword(ctx(), "nobody", "x", "root"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPassword(nobody): %v; want ErrNotFound", err)
	}

	if err := s.RemoveAccount(ctx(), "max", "root"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveAccount(ctx(), "max", "root"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing max twice: %v; want ErrNotFound", err)
	}
	if n, _ := s.CountAccounts(ctx()); n != 2 {
		t.Errorf("CountAccounts after a removal = %d; want 2", n)
	}
}

func testAccountRemoveCascades(t *testing.T, h *Harness) {
	s := h.Store
	addAccount(t, s, "bob", store.RoleUser, "user_123")
	addAccount(t, s, "alice", store.RoleAdmin, "")
	now := ms(time.Now())
	for _, sess := range []*store.Session{
		{IDHash: "b1", Account: "bob", CSRF: "c", CreatedAt: now, SeenAt: now},
		{IDHash: "a1", Account: "alice", CSRF: "c", CreatedAt: now, SeenAt: now},
	} {
		if err := s.CreateSession(ctx(), sess); err != nil {
			t.Fatal(err)
		}
	}
	for _, tok := range []*store.APIToken{
		{Name: "bob-ci", Account: "bob", Hash: "hb", Prefix: "jobctl_b"},
		{Name: "alice-ci", Account: "alice", Hash: "ha", Prefix: "jobctl_a"},
	} {
		if err := s.CreateToken(ctx(), tok, "root"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RemoveAccount(ctx(), "bob", "root"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetSession(ctx(), "b1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob's session outlived bob: %v", err)
	}
	if _, _, err := s.TokenByHash(ctx(), "hb", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob's token outlived bob: %v", err)
	}
	if ts, err := s.ListTokens(ctx(), ""); err != nil || len(ts) != 1 || ts[0].Name != "alice-ci" {
		t.Errorf("tokens after removing bob: %+v %v", ts, err)
	}
	if _, _, err := s.GetSession(ctx(), "a1"); err != nil {
		t.Errorf("alice's session went with bob: %v", err)
	}
}

func testSessions(t *testing.T, h *Harness) {
	s := h.Store
	addAccount(t, s, "bob", store.RoleUser, "user_123")
	t0 := ms(time.Now().Add(-time.Hour))
	sess := &store.Session{IDHash: "h1", Account: "bob", CSRF: "csrf1", CreatedAt: t0, SeenAt: t0, Addr: "192.0.2.1"}
	if err := s.CreateSession(ctx(), sess); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx(), sess); !errors.Is(err, store.ErrExists) {
		t.Errorf("creating session h1 twice: %v; want ErrExists", err)
	}
	if err := s.CreateSession(ctx(), &store.Session{IDHash: "h9", Account: "nobody", CSRF: "c", CreatedAt: t0, SeenAt: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session for no account: %v; want ErrNotFound", err)
	}
	got, a, err := s.GetSession(ctx(), "h1")
	if err != nil {
		t.Fatal(err)
	}
	if *got != *sess {
		t.Errorf("GetSession = %+v; want %+v", got, sess)
	}
	if a.Name != "bob" || a.Role != store.RoleUser || a.UserID != "user_123" {
		t.Errorf("GetSession's account = %+v", a)
	}
	// Logging in is the account's last login.
	if a.LastLoginAt == nil || !a.LastLoginAt.Equal(t0) {
		t.Errorf("lastLoginAt = %v; want %v", a.LastLoginAt, t0)
	}
	if _, _, err := s.GetSession(ctx(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSession(nope): %v; want ErrNotFound", err)
	}

	t1 := t0.Add(10 * time.Minute)
	if err := s.TouchSession(ctx(), "h1", t1); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.GetSession(ctx(), "h1"); !got.SeenAt.Equal(t1) || !got.CreatedAt.Equal(t0) {
		t.Errorf("after TouchSession: %+v; want seenAt %v", got, t1)
	}
	if err := s.TouchSession(ctx(), "nope", t1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TouchSession(nope): %v; want ErrNotFound", err)
	}

	// DeleteSessionsBefore ends sessions too old by either clock.
	for _, x := range []*store.Session{
		{IDHash: "old-created", Account: "bob", CSRF: "c", CreatedAt: t0.Add(-13 * time.Hour), SeenAt: t1},
		{IDHash: "old-seen", Account: "bob", CSRF: "c", CreatedAt: t0, SeenAt: t0.Add(-time.Hour)},
	} {
		if err := s.CreateSession(ctx(), x); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteSessionsBefore(ctx(), t0.Add(-12*time.Hour), t0.Add(-30*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("DeleteSessionsBefore = %d, %v; want 2", n, err)
	}
	for _, id := range []string{"old-created", "old-seen"} {
		if _, _, err := s.GetSession(ctx(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session %s survived DeleteSessionsBefore: %v", id, err)
		}
	}
	if _, _, err := s.GetSession(ctx(), "h1"); err != nil {
		t.Errorf("live session h1 ended: %v", err)
	}

	if err := s.DeleteSession(ctx(), "h1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetSession(ctx(), "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("h1 after DeleteSession: %v", err)
	}
	if err := s.DeleteSession(ctx(), "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteSession twice: %v; want ErrNotFound", err)
	}
}

func testTokens(t *testing.T, h *Harness) {
	s := h.Store
	addAccount(t, s, "bob", store.RoleUser, "user_123")
	addAccount(t, s, "alice", store.RoleAdmin, "")
	before := time.Now().Add(-time.Second)
	tok := &store.APIToken{Name: "ci", Account: "bob", Hash: "hash-ci", Prefix: "jobctl_abcde"}
	if err := s.CreateToken(ctx(), tok, "root"); err != nil {
		t.Fatal(err)
	}
	if tok.CreatedAt.Before(before) || tok.LastUsedAt != nil {
		t.Errorf("CreateToken did not fill createdAt: %+v", tok)
	}
	if err := s.CreateToken(ctx(), &store.APIToken{Name: "ci", Account: "alice", Hash: "other", Prefix: "p"}, "root"); !errors.Is(err, store.ErrExists) {
		t.Errorf("a second token named ci: %v; want ErrExists", err)
	}
	if err := s.CreateToken(ctx(), &store.APIToken{Name: "ci2", Account: "alice", Hash: "hash-ci", Prefix: "p"}, "root"); !errors.Is(err, store.ErrExists) {
		t.Errorf("a second token with the same hash: %v; want ErrExists", err)
	}
	if err := s.CreateToken(ctx(), &store.APIToken{Name: "x", Account: "nobody", Hash: "hx", Prefix: "p"}, "root"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a token for no account: %v; want ErrNotFound", err)
	}
	if err := s.CreateToken(ctx(), &store.APIToken{Name: "admin", Account: "alice", Hash: "hash-admin", Prefix: "jobctl_zzzzz"}, "root"); err != nil {
		t.Fatal(err)
	}

	// Using a token records when.
	used := ms(time.Now().Add(time.Minute))
	got, a, err := s.TokenByHash(ctx(), "hash-ci", used)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "ci" || got.Account != "bob" || got.Prefix != "jobctl_abcde" || got.Hash != "hash-ci" || got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) {
		t.Errorf("TokenByHash = %+v; want ci used at %v", got, used)
	}
	if a.Name != "bob" || a.UserID != "user_123" {
		t.Errorf("TokenByHash's account = %+v", a)
	}
	if _, _, err := s.TokenByHash(ctx(), "wrong", used); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash(wrong): %v; want ErrNotFound", err)
	}

	all, err := s.ListTokens(ctx(), "")
	if err != nil || len(all) != 2 || all[0].Name != "admin" || all[1].Name != "ci" {
		t.Fatalf("ListTokens(all) = %+v, %v; want admin (alice) then ci (bob)", all, err)
	}
	if all[1].LastUsedAt == nil || !all[1].LastUsedAt.Equal(used) || all[0].LastUsedAt != nil {
		t.Errorf("ListTokens lastUsedAt: %v, %v", all[0].LastUsedAt, all[1].LastUsedAt)
	}
	bobs, err := s.ListTokens(ctx(), "bob")
	if err != nil || len(bobs) != 1 || bobs[0].Name != "ci" {
		t.Errorf("ListTokens(bob) = %+v, %v", bobs, err)
	}
	if _, err := s.ListTokens(ctx(), "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ListTokens(nobody): %v; want ErrNotFound", err)
	}

	if err := s.RevokeToken(ctx(), "ci", "root"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TokenByHash(ctx(), "hash-ci", used); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked token still works: %v", err)
	}
	if err := s.RevokeToken(ctx(), "ci", "root"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking twice: %v; want ErrNotFound", err)
	}
}

func testLoginFailures(t *testing.T, h *Harness) {
	s := h.Store
	t0 := ms(time.Now())
	window := 15 * time.Minute
	record := func(key string, at time.Time) int64 {
		t.Helper()
		n, err := s.RecordLoginFailure(ctx(), key, at, at.Add(-window))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Three failures a minute apart count up; another key is apart.
	for i := 1; i <= 3; i++ {
		if n := record("acct:bob", t0.Add(time.Duration(i)*time.Minute)); n != int64(i) {
			t.Errorf("failure %d counted %d", i, n)
		}
	}
	if n := record("addr:192.0.2.1", t0); n != 1 {
		t.Errorf("another key's first failure counted %d", n)
	}
	count := func(key string, since time.Time) int64 {
		t.Helper()
		n, err := s.LoginFailures(ctx(), key, since)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("acct:bob", t0); n != 3 {
		t.Errorf("LoginFailures = %d; want 3", n)
	}
	// The window's start is inclusive; failures before it do not count.
	if n := count("acct:bob", t0.Add(2*time.Minute)); n != 2 {
		t.Errorf("LoginFailures since the second = %d; want 2", n)
	}
	if n := count("acct:nobody", t0); n != 0 {
		t.Errorf("LoginFailures of an unknown key = %d", n)
	}
	// At minute 17 the window starts at minute 2: the first failure is
	// out, and forgotten for good.
	if n := record("acct:bob", t0.Add(17*time.Minute)); n != 3 {
		t.Errorf("a failure after the window moved counted %d; want 3 (minutes 2, 3 and 17)", n)
	}
	if n := count("acct:bob", time.Time{}); n != 3 {
		t.Errorf("failures kept = %d; want 3: the one out of the window is pruned", n)
	}

	if err := s.ClearLoginFailures(ctx(), "acct:bob"); err != nil {
		t.Fatal(err)
	}
	if n := count("acct:bob", time.Time{}); n != 0 {
		t.Errorf("after ClearLoginFailures: %d", n)
	}
	if n := count("addr:192.0.2.1", time.Time{}); n != 1 {
		t.Errorf("clearing bob cleared the address too: %d", n)
	}
	if err := s.ClearLoginFailures(ctx(), "acct:nobody"); err != nil {
		t.Errorf("clearing a key with no failures: %v", err)
	}
}
