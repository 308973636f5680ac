package cmdutil

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const secret = "S3cret"

// TestDSNBackend: what each DSN shape selects.
func TestDSNBackend(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "a@b=c.db")
	if err := os.WriteFile(existing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dsn      string
		want     backend
		wantPath string
	}{
		{"postgres://u:S3cret@h/x", backendPostgres, ""},
		{"postgresql://h:5432/x?sslmode=disable", backendPostgres, ""},
		{"host=127.0.0.1 user=u password=S3cret dbname=x", backendPostgres, ""},
		{"host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable", backendPostgres, ""},
		{"  dbname = x  ", backendPostgres, ""},
		{"host=h password='a b'", backendPostgres, ""},
		{"service=jobs", backendPostgres, ""},
		{"sqlite:/tmp/jobs.db", backendSQLite, "/tmp/jobs.db"},
		{"sqlite:///tmp/jobs.db", backendSQLite, "/tmp/jobs.db"},
		{"sqlite:jobs.db", backendSQLite, "jobs.db"},
		{"sqlite:a@b.db", backendSQLite, "a@b.db"}, // said so explicitly
		{"jobs.db", backendSQLite, "jobs.db"},
		{"/var/lib/jobctl/jobs.db", backendSQLite, "/var/lib/jobctl/jobs.db"},
		{"demo.bd", backendSQLite, "demo.bd"},
		{"C:/jobs.db", backendSQLite, "C:/jobs.db"},
		{"backup:2024.db", backendSQLite, "backup:2024.db"},
		{existing, backendSQLite, existing}, // "@" and "=", but the file is there
	}
	for _, tt := range tests {
		b, path, err := DSN{tt.dsn, "--db"}.parse()
		if err != nil || b != tt.want || path != tt.wantPath {
			t.Errorf("%q: backend %d, path %q, err %v; want %d, %q", tt.dsn, b, path, err, tt.want, tt.wantPath)
		}
		if got := (DSN{tt.dsn, "--db"}).IsPostgres(); got != (tt.want == backendPostgres) {
			t.Errorf("%q: IsPostgres %v", tt.dsn, got)
		}
	}
}

// TestDSNRefused: every DSN that selects nothing is refused by OpenStore,
// even for a command that may create the store, with one line naming its
// source, no password, and no file made.
func TestDSNRefused(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"mysql://u:S3cret@db.internal/jobs", `unsupported scheme "mysql"`},
		{"sqlite3://u:S3cret@host/x", `unsupported scheme "sqlite3"`},
		{"sqlite3:/tmp/x.db", `unsupported scheme "sqlite3"`},
		{"http://u:S3cret@host/x", `unsupported scheme "http"`},
		{"redis://:S3cret@host:6379", `unsupported scheme "redis"`},
		{"postgres:/u:S3cret@host/x", "not a Postgres URL: write postgres://"},
		{"postgresql:u:S3cret@host/x", ""}, // no slash: a path with "@"
		{"POSTGRES:/u:S3cret@host/x", "not a Postgres URL"},
		{"u:S3cret@host/x", `the "@" in it makes it look like a DSN`},
		{"a@b.db", `the "@" in it makes it look like a DSN`},
		{"x password=S3cret", `the "=" in it makes it look like a DSN`},
		{"foo=bar", `the "=" in it`},
		{"dir://x", `unsupported scheme "dir"`},
		{"./dir://x", `the "://" in it`},
		{"host=h password='S3cret", `the "=" in it`}, // unterminated quote
		{":memory:", "in-memory SQLite database lasts one command"},
		{"sqlite::memory:", "in-memory"},
		{"file::memory:?cache=shared", "in-memory"},
		{"sqlite:", "empty SQLite path"},
	}
	t.Chdir(t.TempDir())
	for _, tt := range tests {
		for _, src := range []string{"--db", "JOBCTL_DATABASE_URL", "DATABASE_URL"} {
			d := DSN{tt.dsn, src}
			_, err := OpenStore(context.Background(), d, "", OpenOptions{Create: true}, os.Getenv)
			if err == nil {
				t.Fatalf("%q: opened", tt.dsn)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.Contains(msg, "(from "+src+")") || strings.Contains(msg, "\n") {
				t.Errorf("%q from %s: %q; want one line with %q and its source", tt.dsn, src, msg, tt.want)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("%q: password in %q", tt.dsn, msg)
			}
		}
		if ents, _ := os.ReadDir("."); len(ents) != 0 {
			t.Fatalf("%q: made %v", tt.dsn, ents[0].Name())
		}
	}
}

// TestRedacted: the password is masked in every shape, and the rest is
// kept so the message still says where.
func TestRedacted(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://u:S3cret@h/x", "postgres://u:****@h/x"},
		{"postgresql://u:S3cret@h:5432/x?sslmode=disable", "postgresql://u:****@h:5432/x?sslmode=disable"},
		{"postgres://u@h/x", "postgres://u@h/x"},
		{"postgres://h/x?application_name=a@b", "postgres://h/x?application_name=a@b"},
		{"postgres://u:p@ss:w0rd@h/x", "postgres://u:****@h/x"},
		{"postgres://u:S3cret@h:notaport/x", "postgres://u:****@h:notaport/x"},
		{"postgres://u:S3c/ret@h/x", "postgres://u:****@h/x"},
		{"postgres://u:S3c#ret@h/x", "postgres://u:****@h/x"},
		{"postgres://u:1234/S3cret@h/x", "postgres://u:****@h/x"}, // "u:1234" parses as host:port
		{"postgres://u:S3cret@h/x?application_name=a@b", "postgres://u:****@h/x?application_name=a@b"},
		{"postgres://u:S3c%3Fret@h/x", "postgres://u:****@h/x"},
		{"postgres:/u:S3cret@host/x", "postgres:/u:****@host/x"},
		{"postgres:u:S3cret@host/x", "postgres:****@host/x"},
		{"u:S3cret@host/x", "u:****@host/x"},
		{"mysql://bob:S3cret@db.internal/jobs", "mysql://bob:****@db.internal/jobs"},
		{"sqlite3://u:S3cret@host/x", "sqlite3://u:****@host/x"},
		{"http://u:S3cret@host/x", "http://u:****@host/x"},
		{"postgres://h/x?user=u&password=S3cret", "postgres://h/x?user=u&password=****"},
		{"postgres://h/x?password=S3cret&sslmode=disable", "postgres://h/x?password=****&sslmode=disable"},
		{"postgres://u:S3cret@h/x?password=S3cret", "postgres://u:****@h/x?password=****"},
		{"host=127.0.0.1 user=u password=S3cret dbname=x", "host=127.0.0.1 user=u password=**** dbname=x"},
		{"host=h password='S3cret and more' dbname=x", "host=h password=**** dbname=x"},
		{`host=h password = 'S3\'cret' dbname=x`, "host=h password = **** dbname=x"},
		{`host=h password=S3\ cret dbname=x`, "host=h password=**** dbname=x"},
		{"password=S3cret", "password=****"},
		{"host=h sslpassword=S3cret", "host=h sslpassword=****"},
		{"x password=S3cret", "x password=****"},
		{"x PASSWORD='S3cret", "x PASSWORD=****"},
		{"sqlite:/tmp/jobs.db", "sqlite:/tmp/jobs.db"},
		{"/tmp/jobs.db", "/tmp/jobs.db"},
	}
	for _, tt := range tests {
		d := DSN{tt.dsn, "--db"}
		if got := d.Redacted(); got != tt.want {
			t.Errorf("%q: Redacted %q, want %q", tt.dsn, got, tt.want)
		}
		if strings.Contains(d.Redacted(), "S3") || strings.Contains(d.Redacted(), "cret") {
			t.Errorf("%q: a piece of the password in %q", tt.dsn, d.Redacted())
		}
	}
}

// TestScrub: a driver message that repeats the password, whole, decoded,
// or split at "@" or ":", is masked.
func TestScrub(t *testing.T) {
	tests := []struct{ dsn, msg string }{
		{"postgres://u:S3cret@h/x", "auth failed for S3cret"},
		{"postgres://u:S3c%72et@h/x", "auth failed for S3cret"},
		{"postgres://u:S3c@ret:pw@h/x", "lookup ret:pw@h: no such host; user S3c@ret"},
		{"postgres:/u:S3cret@host/x", "parse S3cret"},
		{"host=h password=S3cret", "bad password S3cret"},
		{"host=h password='S3cret x'", "bad password 'S3cret x' (S3cret x)"},
		{"postgres://h/x?password=S3cret", "password=S3cret rejected"},
	}
	for _, tt := range tests {
		got := DSN{tt.dsn, "--db"}.Scrub(tt.msg)
		if strings.Contains(got, "S3c") || strings.Contains(got, "cret") {
			t.Errorf("%q: Scrub(%q) = %q", tt.dsn, tt.msg, got)
		}
	}
	if got := (DSN{"postgres://u@h/x", "--db"}).Scrub("cannot connect"); got != "cannot connect" {
		t.Errorf("no password: Scrub changed the message to %q", got)
	}
}

// TestOpenStoreModes: a read never creates a store; a write creates it,
// and for the embedded default its directory.
func TestOpenStoreModes(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	getenv := func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	def := ResolveDSN("", getenv)
	path := filepath.Join(home, ".local", "share", "jobctl", "jobs.db")
	if def.SQLitePath() != path || def.Source != "default" {
		t.Fatalf("default %+v", def)
	}

	_, err := OpenStore(ctx, def, "", OpenOptions{}, getenv)
	var nse *NoStoreError
	if !errors.As(err, &nse) || err.Error() != "no store yet at ~/.local/share/jobctl/jobs.db; jobctl enqueue or jobctl migrate creates one" {
		t.Errorf("read of the missing default: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read made the default's directory: %v", err)
	}

	named := filepath.Join(home, "demo.bd")
	for src, want := range map[string]string{
		"--db":                "no store at " + named + "; jobctl migrate --db " + named + " creates one",
		"JOBCTL_DATABASE_URL": "no store at " + named + " (from JOBCTL_DATABASE_URL); jobctl migrate --db " + named + " creates one",
	} {
		for _, dsn := range []string{named, "sqlite:" + named} {
			_, err := OpenStore(ctx, DSN{dsn, src}, "", OpenOptions{}, getenv)
			if err == nil || err.Error() != want {
				t.Errorf("read of missing %s from %s: %v; want %q", dsn, src, err, want)
			}
		}
	}
	spaced := filepath.Join(home, "my jobs.db")
	if _, err := OpenStore(ctx, DSN{spaced, "--db"}, "", OpenOptions{}, getenv); err == nil || !strings.HasSuffix(err.Error(), "jobctl migrate --db '"+spaced+"' creates one") {
		t.Errorf("a path with a space is quoted for the shell: %v", err)
	}
	if _, err := os.Stat(named); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read made %s", named)
	}

	for _, d := range []DSN{def, {named, "--db"}} {
		s, err := OpenStore(ctx, d, "", OpenOptions{Create: true}, getenv)
		if err != nil {
			t.Fatalf("create %+v: %v", d, err)
		}
		if err := s.CheckSchema(ctx); err != nil {
			t.Errorf("created %+v: %v", d, err)
		}
		s.Close()
		s, err = OpenStore(ctx, d, "", OpenOptions{}, getenv)
		if err != nil {
			t.Fatalf("read of the created %+v: %v", d, err)
		}
		s.Close()
	}

	// A write to a named path in a directory that does not exist is
	// refused too: only the default makes its directory.
	_, err = OpenStore(ctx, DSN{filepath.Join(home, "nodir", "jobs.db"), "--db"}, "", OpenOptions{Create: true}, getenv)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("create in a missing directory: %v", err)
	}
}

// TestOpenStoreNotSQLite: an existing file that is not a SQLite database
// is refused by name and left as it was.
func TestOpenStoreNotSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	const text = "This is not a database, but it is long enough to have a header-sized first page of text in it.\n"
	if err := os.WriteFile(path, []byte(strings.Repeat(text, 10)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, o := range []OpenOptions{{}, {Create: true}} {
		_, err := OpenStore(context.Background(), DSN{path, "--db"}, "", o, os.Getenv)
		if err == nil || !strings.Contains(err.Error(), "not a SQLite database") || !strings.Contains(err.Error(), "(from --db)") {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != strings.Repeat(text, 10) {
		t.Error("the file changed")
	}
}
