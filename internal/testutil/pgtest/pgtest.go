// Package pgtest gives each test its own Postgres schema, so tests run in
// parallel against one database.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding the test database's DSN.
const EnvURL = "JOBCTL_TEST_DATABASE_URL"

// URL returns the test database's DSN. Without it the test is skipped,
// except under CI (CI set), where a skipped Postgres suite would hide that
// it never ran: there it fails.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: the Postgres suite must run in CI", EnvURL)
		}
		t.Skipf("%s not set: skipping Postgres tests", EnvURL)
	}
	return u
}

// Schema creates a fresh, empty schema, drops it when the test ends, and
// returns the DSN and the schema's name.
func Schema(t testing.TB) (dsn, schema string) {
	t.Helper()
	dsn = URL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema = "jobctl_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	return dsn, schema
}

// WithSearchPath returns dsn with search_path set to schema, for processes
// (the jobctl binary, psql) that take only a DSN.
func WithSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Login creates a login role named prefix_<random> (roles belong to the
// whole cluster), a member of group unless group is "", and drops it with
// whatever was granted to it when the test ends. The shared group roles
// are never dropped.
func Login(t testing.TB, dsn, prefix, group string) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	role := prefix + "_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	create := "CREATE ROLE " + pgx.Identifier{role}.Sanitize() + " LOGIN"
	if group != "" {
		create += " IN ROLE " + pgx.Identifier{group}.Sanitize()
	}
	if _, err := conn.Exec(ctx, create); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Logf("drop role %s: %v", role, err)
			return
		}
		defer conn.Close(ctx)
		// DROP OWNED takes the role's grants (CREATE on a schema, say)
		// with it, without which the role could not be dropped.
		_, _ = conn.Exec(ctx, "DROP OWNED BY "+pgx.Identifier{role}.Sanitize())
		_, _ = conn.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize())
	})
	return role
}
