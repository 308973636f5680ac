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
