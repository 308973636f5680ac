package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
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

// IsPostgres reports whether the DSN selects the Postgres backend: a
// postgres:// or postgresql:// URL, or libpq keyword/value pairs.
func (d DSN) IsPostgres() bool {
	b, _, _ := d.parse()
	return b == backendPostgres
}

// SQLitePath is the file a SQLite DSN names: "sqlite:PATH" or a plain path.
func (d DSN) SQLitePath() string {
	p := strings.TrimPrefix(d.URL, "sqlite:")
	p = strings.TrimPrefix(p, "//")
	return p
}

type backend int

const (
	backendNone backend = iota
	backendPostgres
	backendSQLite
)

// parse says which backend the DSN selects, the file for SQLite, or why it
// selects none. Anything that looks like a DSN jobctl does not speak is
// refused rather than taken for a file name: that file would be a new,
// empty store named after the DSN, password included.
func (d DSN) parse() (backend, string, error) {
	s := d.URL
	switch {
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		return backendPostgres, "", nil
	case isKeywordValue(s):
		return backendPostgres, "", nil
	}
	path := d.SQLitePath()
	explicit := strings.HasPrefix(s, "sqlite:")
	switch {
	case path == "":
		return backendNone, "", errors.New("empty SQLite path")
	case path == ":memory:" || strings.HasPrefix(path, "file::memory:"):
		return backendNone, "", errors.New("an in-memory SQLite database lasts one command: name a file")
	case explicit || isFile(path):
		return backendSQLite, path, nil
	}
	if scheme, ok := uriScheme(s); ok {
		if strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql") {
			return backendNone, "", fmt.Errorf("not a Postgres URL: write %s://USER@HOST/DB", strings.ToLower(scheme))
		}
		if strings.Contains(s, "://") || strings.EqualFold(scheme, "sqlite3") {
			return backendNone, "", fmt.Errorf("unsupported scheme %q (use postgres://, postgresql://, host=… dbname=…, sqlite:PATH or a file path)", scheme)
		}
	}
	if i := strings.IndexAny(s, "=@"); i >= 0 || strings.Contains(s, "://") {
		c := "://"
		if i >= 0 {
			c = s[i : i+1]
		}
		return backendNone, "", fmt.Errorf("no such file, and the %q in it makes it look like a DSN: use postgres://…, host=… dbname=…, or sqlite:PATH for a new file by this name", c)
	}
	return backendSQLite, path, nil
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// schemeRE is a URI scheme and its colon. One letter is a Windows drive.
var schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]+):`)

// uriScheme is the scheme of a string that starts like a URI: "scheme:"
// followed by a slash.
func uriScheme(s string) (string, bool) {
	m := schemeRE.FindStringSubmatch(s)
	if m == nil || !strings.HasPrefix(s[len(m[0]):], "/") {
		return "", false
	}
	return m[1], true
}

// Redacted is the DSN with any password masked, for messages: in URL
// userinfo (well-formed or not), in a password= pair or query parameter,
// quoted or not.
func (d DSN) Redacted() string {
	s := d.URL
	if kv, ok := parseKeywordValue(s); ok {
		s = kv.masked(s)
	} else {
		s = maskUserinfo(s)
	}
	return passwordParam.ReplaceAllString(s, "${1}****")
}

// passwordParam is a password in a keyword/value pair or a URL query,
// quoted (libpq's '…' with backslash escapes) or up to the next space, "&"
// or ";".
var passwordParam = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&;]*)`)

// userinfo finds a password in "[scheme:[//]]user:password@host…": the
// span of the password in s, or ok false. A well-formed URL's userinfo
// ends at the authority's last "@"; a malformed one (one slash, no scheme,
// an unescaped "/" or "#" in the password) is cut at the string's last
// "@" and its first ":", which masks too much rather than too little.
func userinfo(s string) (start, end int, ok bool) {
	i := 0
	if m := schemeRE.FindStringIndex(s); m != nil && strings.HasPrefix(s[m[1]:], "/") {
		i = m[1] + len(s[m[1]:]) - len(strings.TrimLeft(s[m[1]:], "/"))
	}
	auth := s[i:]
	if u, err := url.Parse(s); err == nil && u.User != nil && strings.Contains(s, "://") {
		if k := strings.IndexAny(auth, "/?#"); k >= 0 {
			auth = auth[:k]
		}
	}
	at := strings.LastIndex(auth, "@")
	if at < 0 {
		return 0, 0, false
	}
	colon := strings.Index(auth[:at], ":")
	if colon < 0 {
		return 0, 0, false
	}
	return i + colon + 1, i + at, true
}

func maskUserinfo(s string) string {
	start, end, ok := userinfo(s)
	if !ok {
		return s
	}
	return s[:start] + "****" + s[end:]
}

// kvPair is one keyword=value of a libpq connection string, with where its
// value sits in the string.
type kvPair struct {
	key        string
	value      string // unquoted and unescaped
	start, end int    // the value as written, quotes included
}

type keywordValue []kvPair

// libpqKeywords are connection keywords that make a string of key=value
// pairs a libpq DSN (pgx takes any other key as a run-time parameter).
var libpqKeywords = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true,
	"password": true, "passfile": true, "sslmode": true, "sslrootcert": true,
	"sslcert": true, "sslkey": true, "sslpassword": true, "connect_timeout": true,
	"service": true, "target_session_attrs": true, "application_name": true,
	"options": true, "servicefile": true,
}

// isKeywordValue reports whether s is a libpq keyword/value DSN, such as
// "host=db user=jobctl dbname=jobs".
func isKeywordValue(s string) bool {
	kv, ok := parseKeywordValue(s)
	if !ok {
		return false
	}
	for _, p := range kv {
		if libpqKeywords[p.key] {
			return true
		}
	}
	return false
}

// parseKeywordValue reads s as libpq does: pairs separated by spaces, "="
// with optional spaces around it, values bare or single-quoted, with
// backslash escapes. Every key must be a word.
func parseKeywordValue(s string) (keywordValue, bool) {
	var kv keywordValue
	i := 0
	skip := func() {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
	}
	for {
		skip()
		if i == len(s) {
			return kv, len(kv) > 0
		}
		k := i
		for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || i > k && s[i] >= '0' && s[i] <= '9') {
			i++
		}
		key := s[k:i]
		skip()
		if key == "" || i == len(s) || s[i] != '=' {
			return nil, false
		}
		i++
		skip()
		p := kvPair{key: key, start: i}
		var v strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) && !closed {
				switch c := s[i]; {
				case c == '\\' && i+1 < len(s):
					v.WriteByte(s[i+1])
					i += 2
				case c == '\'':
					closed = true
					i++
				default:
					v.WriteByte(c)
					i++
				}
			}
			if !closed {
				return nil, false
			}
		} else {
			for i < len(s) && !isSpace(s[i]) {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				v.WriteByte(s[i])
				i++
			}
		}
		p.value, p.end = v.String(), i
		kv = append(kv, p)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// masked is s with every password value replaced.
func (kv keywordValue) masked(s string) string {
	var b strings.Builder
	last := 0
	for _, p := range kv {
		if p.key == "password" || p.key == "sslpassword" {
			b.WriteString(s[last:p.start])
			b.WriteString("****")
			last = p.end
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// secrets are every password the DSN holds, as written and as decoded,
// with the fragments a driver may echo when it splits a malformed DSN at
// "@" or ":", longest first. Messages from drivers are scrubbed of them.
func (d DSN) secrets() []string {
	var pws []string
	if kv, ok := parseKeywordValue(d.URL); ok {
		for _, p := range kv {
			if p.key == "password" || p.key == "sslpassword" {
				pws = append(pws, p.value, d.URL[p.start:p.end])
			}
		}
	}
	if start, end, ok := userinfo(d.URL); ok {
		pws = append(pws, d.URL[start:end])
	}
	for _, m := range passwordParam.FindAllStringSubmatch(d.URL, -1) {
		pws = append(pws, strings.Trim(m[2], "'"), m[2])
	}
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, pw := range pws {
		add(pw)
		if dec, err := url.PathUnescape(pw); err == nil {
			add(dec)
		}
		for _, part := range strings.FieldsFunc(pw, func(r rune) bool { return r == '@' || r == ':' || r == '/' }) {
			if len(part) >= 3 {
				add(part)
			}
		}
	}
	// Longest first, so a fragment never leaves the rest of a password.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Scrub masks the DSN's password wherever msg repeats it.
func (d DSN) Scrub(msg string) string {
	for _, secret := range d.secrets() {
		msg = strings.ReplaceAll(msg, secret, "****")
	}
	return msg
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

// OpenOptions say what a command may do to the store it opens.
type OpenOptions struct {
	// Create lets a command that writes (enqueue, migrate, worker run,
	// schedule add, demo) make the SQLite store, and for the embedded
	// default its directory, when there is none. Reads and actions on
	// existing jobs never create a store.
	Create bool
	// Migrating leaves the schema to the caller (migrate), so the
	// embedded store does not migrate itself on open.
	Migrating bool
	// Upgrading hears that the embedded store is about to migrate itself
	// from schema version from to to (sqlite.Options.Upgrading).
	Upgrading func(from, to int)
}

// NoStoreError is a SQLite store that does not exist, opened by a command
// that may not create it.
type NoStoreError struct {
	Path   string
	Source string
	Home   string // $HOME, shown as ~ in the default path
}

func (e *NoStoreError) Error() string {
	if e.Source == "default" {
		p := e.Path
		if rest, ok := strings.CutPrefix(p, e.Home+string(filepath.Separator)); ok && e.Home != "" {
			p = filepath.Join("~", rest)
		}
		return fmt.Sprintf("no store yet at %s; jobctl enqueue or jobctl migrate creates one", p)
	}
	from := ""
	if e.Source != "--db" {
		from = " (from " + e.Source + ")"
	}
	return fmt.Sprintf("no store at %s%s; jobctl migrate --db %s creates one", e.Path, from, shellQuote(e.Path))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// OpenStore opens the store a DSN names, as o allows. It does not check
// the schema.
func OpenStore(ctx context.Context, d DSN, schema string, o OpenOptions, getenv func(string) string) (store.Store, error) {
	b, path, err := d.parse()
	var s store.Store
	switch {
	case err != nil:
	case b == backendPostgres:
		s, err = postgres.Open(ctx, d.URL, schema)
	case o.Create && d.Source != "default" && !dirExists(filepath.Dir(path)):
		// Only the embedded default makes its own directory; a typo in
		// --db should not quietly create an empty store somewhere.
		err = fmt.Errorf("directory %s does not exist", filepath.Dir(path))
	default:
		s, err = sqlite.OpenWith(ctx, path, sqlite.Options{Create: o.Create, NoMigrate: o.Migrating, Upgrading: o.Upgrading})
		if errors.Is(err, sqlite.ErrNoFile) {
			return nil, &NoStoreError{Path: path, Source: d.Source, Home: getenv("HOME")}
		}
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
	return fmt.Sprintf("store %s (from %s): %s", e.dsn.Redacted(), e.dsn.Source, e.dsn.Scrub(e.err.Error()))
}

func (e *storeError) Unwrap() error { return e.err }
