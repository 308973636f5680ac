package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/postgres"
	"github.com/jobctl/jobctl/internal/store/sqlite"
)

// DSN is where the store is and which setting said so.
type DSN struct {
	URL    string
	Source string // "--db", "JOBCTL_DATABASE_URL", "DATABASE_URL" or "default"
}

// IsPostgres reports whether the DSN selects the Postgres backend.
func (d DSN) IsPostgres() bool {
	return strings.HasPrefix(d.URL, "postgres://") || strings.HasPrefix(d.URL, "postgresql://")
}

// SQLitePath is the file a SQLite DSN names: "sqlite:PATH" or a plain path.
func (d DSN) SQLitePath() string {
	p := strings.TrimPrefix(d.URL, "sqlite:")
	p = strings.TrimPrefix(p, "//")
	return p
}

// Redacted is the DSN with any password masked, for messages.
func (d DSN) Redacted() string {
	if !d.IsPostgres() {
		return d.URL
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return maskUnparsable(d.URL)
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return strings.Replace(u.String(), "xxxxx", "****", -1)
}

// maskUnparsable hides whatever sits between "://user:" and "@" in a DSN
// that url.Parse rejects, since the password may be what broke it.
func maskUnparsable(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return s
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return s
	}
	return scheme + "://" + user + ":****" + rest[at:]
}

// ResolveDSN picks the store: --db, else JOBCTL_DATABASE_URL, else
// DATABASE_URL (the guide's variable), else the embedded default file.
func ResolveDSN(flag string, getenv func(string) string) DSN {
	switch {
	case flag != "":
		return DSN{flag, "--db"}
	case getenv("JOBCTL_DATABASE_URL") != "":
		return DSN{getenv("JOBCTL_DATABASE_URL"), "JOBCTL_DATABASE_URL"}
	case getenv("DATABASE_URL") != "":
		return DSN{getenv("DATABASE_URL"), "DATABASE_URL"}
	}
	return DSN{"sqlite:" + DefaultStorePath(getenv), "default"}
}

func dirExists(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// DefaultStorePath is $XDG_DATA_HOME/jobctl/jobs.db, or
// ~/.local/share/jobctl/jobs.db.
func DefaultStorePath(getenv func(string) string) string {
	dir := getenv("XDG_DATA_HOME")
	if dir == "" {
		dir = filepath.Join(getenv("HOME"), ".local", "share")
	}
	return filepath.Join(dir, "jobctl", "jobs.db")
}

// OpenStore opens the store a DSN names. It does not check the schema.
func OpenStore(ctx context.Context, d DSN, schema string) (store.Store, error) {
	var (
		s   store.Store
		err error
	)
	switch {
	case d.IsPostgres():
		s, err = postgres.Open(ctx, d.URL, schema)
	case strings.Contains(d.URL, "://"):
		scheme, _, _ := strings.Cut(d.URL, "://")
		err = fmt.Errorf("unsupported scheme %q (use postgres://, postgresql://, sqlite:PATH or a file path)", scheme)
	case d.SQLitePath() == "":
		err = errors.New("empty SQLite path")
	case d.Source != "default" && !dirExists(filepath.Dir(d.SQLitePath())):
		// Only the embedded default makes its own directory; a typo in
		// --db should not quietly create an empty store somewhere.
		err = fmt.Errorf("directory %s does not exist", filepath.Dir(d.SQLitePath()))
	default:
		s, err = sqlite.Open(ctx, d.SQLitePath())
	}
	if err != nil {
		return nil, &storeError{dsn: d, err: err}
	}
	return s, nil
}

// storeError names the store and the setting it came from, with any piece
// of the password the driver's message may echo (a DSN with an unescaped
// "@" in its password gets split there) masked.
type storeError struct {
	dsn DSN
	err error
}

func (e *storeError) Error() string {
	msg := fmt.Sprintf("store %s (from %s): %v", e.dsn.Redacted(), e.dsn.Source, e.err)
	for _, secret := range e.dsn.secrets() {
		msg = strings.ReplaceAll(msg, secret, "****")
	}
	return msg
}

func (e *storeError) Unwrap() error { return e.err }

// secrets are the DSN's password and its fragments around "@" and ":",
// longest first.
func (d DSN) secrets() []string {
	u, err := url.Parse(d.URL)
	if err != nil || u.User == nil {
		return nil
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		return nil
	}
	out := []string{pw}
	for _, part := range strings.FieldsFunc(pw, func(r rune) bool { return r == '@' || r == ':' }) {
		if len(part) >= 3 {
			out = append(out, part)
		}
	}
	return out
}
