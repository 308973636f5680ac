package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

// TestAccountGrants: a jobctl_read login (a read-only serve) logs people
// in and uses tokens, which all write, but cannot add accounts, change
// passwords or mint tokens: that is the schema owner's.
func TestAccountGrants(t *testing.T) {
	t.Parallel()
	owner := newStore(t)
	ctx := context.Background()
	if err := owner.AddAccount(ctx, &store.Account{Name: "bob", Role: store.RoleAdmin, PasswordHash: "h"}, "root"); err != nil {
		t.Fatal(err)
	}
	if err := owner.CreateToken(ctx, &store.APIToken{Name: "ci", Account: "bob", Hash: "th", Prefix: "jobctl_x"}, "root"); err != nil {
		t.Fatal(err)
	}
	reader, _ := loginAs(t, pgtest.URL(t), owner.Schema(), "jobctl_read")
	now := time.Now().UTC().Truncate(time.Millisecond)

	if n, err := reader.CountAccounts(ctx); err != nil || n != 1 {
		t.Errorf("jobctl_read cannot count accounts: %d %v", n, err)
	}
	if err := reader.CreateSession(ctx, &store.Session{IDHash: "s", Account: "bob", CSRF: "c", CreatedAt: now, SeenAt: now}); err != nil {
		t.Errorf("jobctl_read cannot create a session: %v", err)
	}
	if _, _, err := reader.GetSession(ctx, "s"); err != nil {
		t.Errorf("jobctl_read cannot read a session: %v", err)
	}
	if err := reader.TouchSession(ctx, "s", now.Add(time.Minute)); err != nil {
		t.Errorf("jobctl_read cannot touch a session: %v", err)
	}
	if _, err := reader.DeleteSessionsBefore(ctx, now.Add(-time.Hour), now.Add(-time.Hour)); err != nil {
		t.Errorf("jobctl_read cannot expire sessions: %v", err)
	}
	if err := reader.DeleteSession(ctx, "s"); err != nil {
		t.Errorf("jobctl_read cannot log out: %v", err)
	}
	if _, _, err := reader.TokenByHash(ctx, "th", now); err != nil {
		t.Errorf("jobctl_read cannot use a token: %v", err)
	}
	if _, err := reader.RecordLoginFailure(ctx, "acct:bob", now, now.Add(-time.Hour)); err != nil {
		t.Errorf("jobctl_read cannot record a failed login: %v", err)
	}
	if err := reader.ClearLoginFailures(ctx, "acct:bob"); err != nil {
		t.Errorf("jobctl_read cannot clear failed logins: %v", err)
	}

	var pe *store.PermissionError
	if err := reader.AddAccount(ctx, &store.Account{Name: "eve", Role: store.RoleAdmin, PasswordHash: "h"}, "root"); !errors.As(err, &pe) {
		t.Errorf("jobctl_read added an account: %v", err)
	}
	if err := reader.SetPassword(ctx, "bob", "h2", "root"); !errors.As(err, &pe) {
		t.Errorf("jobctl_read changed a password: %v", err)
	}
	if err := reader.CreateToken(ctx, &store.APIToken{Name: "eve", Account: "bob", Hash: "eh", Prefix: "p"}, "root"); !errors.As(err, &pe) {
		t.Errorf("jobctl_read minted a token: %v", err)
	}
	if err := reader.RevokeToken(ctx, "ci", "root"); !errors.As(err, &pe) {
		t.Errorf("jobctl_read revoked a token: %v", err)
	}
	if err := reader.RemoveAccount(ctx, "bob", "root"); !errors.As(err, &pe) {
		t.Errorf("jobctl_read removed an account: %v", err)
	}
}
