// Package sqlite is the embedded job store: one file, no server, a pure-Go
// driver so the binary stays static. Several jobctl processes can share the
// file: it runs in WAL mode with a busy timeout, and writes take the lock up
// front (BEGIN IMMEDIATE) so two writers never deadlock upgrading a read.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a job store in one SQLite file.
type Store struct {
	jobsql.Base
	db         *sql.DB
	path       string
	readOnly   bool
	migrations []store.MigrationFile
	// queueMu takes a worker's claims and outcome writes in turn. SQLite
	// has one writer at a time, and a writer that finds the file locked
	// sleeps in the busy handler (1, 2, 5, 10 ms…) rather than waiting
	// for the holder: a worker's claimers and writers would mostly sleep
	// on each other. Between processes the busy timeout still rules.
	queueMu sync.Mutex
	// stmts are the worker's claim and completion, prepared.
	stmts stmtCache
}

var _ store.Store = (*Store)(nil)

var dialect = &jobsql.Dialect{
	Engine:       jobsql.SQLite,
	Now:          `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
	BatchPause:   20 * time.Millisecond,
	ArchiveBatch: store.SQLiteArchiveBatch,
	InIDs:        func(a *jobsql.Args, ids []string) string { return " IN " + jobsql.In(a, ids) },
	JSONPath:     func(p, key string) string { return "json_extract(" + p + ", '$." + key + "')" },
	Time:         func(t time.Time) any { return jobsql.FormatTime(t) },
}

// Options say what opening a store may do to it.
type Options struct {
	// Create makes the file, and its directory, when there is none. A
	// command that only reads or acts on existing jobs leaves it false, so
	// a mistyped path is an error rather than a new empty store.
	Create bool
	// NoMigrate leaves the schema as it is found, for `jobctl migrate`,
	// which applies (and reports) the migrations itself.
	NoMigrate bool
	// Upgrading, when set, hears that a store with an older schema is
	// about to migrate itself, from version from to to: on a large store
	// that can take seconds (a migration that rebuilds an index reads
	// every row), which a command should not spend in silence.
	Upgrading func(from, to int)
}

// ErrNoFile means the store's file does not exist and Options.Create was
// false.
var ErrNoFile = errors.New("no store file")

// Open opens (creating if need be) the store at path and brings its schema
// up to date: the embedded store migrates itself on first use. A file
// without write permission is opened read-only, even for root, so the
// file's mode is the access control.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{Create: true})
}

// OpenWith opens the store at path as o allows. Without Create, a missing
// file is ErrNoFile, and a file that has no jobctl schema yet is left
// without one (CheckSchema reports it); one at an older version is still
// brought up to date.
func OpenWith(ctx context.Context, path string, o Options) (*Store, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	ms, err := store.LoadMigrations(sub)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, migrations: ms}
	if fi, err := os.Stat(path); err == nil {
		s.readOnly = fi.Mode().Perm()&0o222 == 0
	} else if errors.Is(err, fs.ErrNotExist) {
		if !o.Create {
			return nil, fmt.Errorf("%w: %s", ErrNoFile, path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create store directory: %w", err)
		}
	} else {
		return nil, err
	}
	s.db, err = sql.Open("sqlite", dsn(path, s.readOnly, o.Create))
	if err != nil {
		return nil, err
	}
	s.stmts.db = s.db
	s.Base = jobsql.Base{D: dialect, DB: db{s.db}, Wrap: s.wrap, InTx: func(ctx context.Context, fn func(jobsql.DB) error) error {
		return s.inTx(ctx, func(tx *sql.Tx) error { return fn(db{tx}) })
	}}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, s.wrap("open", store.PermRead, err)
	}
	if !o.NoMigrate {
		if err := s.ensureSchema(ctx, o.Create, o.Upgrading); err != nil {
			s.db.Close()
			return nil, err
		}
	}
	return s, nil
}

// dsn is the driver's URI for path. Without create, mode=rw makes SQLite
// itself refuse to make the file, so a file removed after the Stat above
// is not quietly recreated, and the journal mode is left as it is: a
// store jobctl made is in WAL mode for good, and some other SQLite file
// opened by mistake is not converted.
func dsn(path string, readOnly, create bool) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	switch {
	case readOnly:
		q.Set("mode", "ro")
	case create:
		q.Add("_pragma", "journal_mode(WAL)")
	default:
		q.Set("mode", "rw")
	}
	if !readOnly {
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// ensureSchema migrates a store that is behind this jobctl, telling
// upgrading first (nil: no one) when the store had a schema. A file with
// no jobctl schema at all is given one only when the command may create a
// store: a read of some other SQLite file must not write tables into it.
func (s *Store) ensureSchema(ctx context.Context, create bool, upgrading func(from, to int)) error {
	from, err := s.schemaVersion(ctx)
	switch {
	case errors.Is(err, store.ErrNotMigrated) && !s.readOnly:
		if !create && from == 0 {
			return nil // CheckSchema says so to whoever asks
		}
		if from > 0 && upgrading != nil {
			upgrading(from, store.Latest(s.migrations))
		}
		_, err = s.Migrate(ctx)
	case errors.Is(err, store.ErrSchemaTooNew):
		// Opened untouched: `migrate status` may still show it, and every
		// other command refuses it through CheckSchema.
		err = nil
	}
	return err
}

// Backend implements store.Store.
func (s *Store) Backend() string { return "sqlite" }

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// DB exposes the database handle to tests in this module.
func (s *Store) DB() *sql.DB { return s.db }

// Close implements store.Store.
func (s *Store) Close() error {
	s.stmts.close()
	return s.db.Close()
}

// SQLite has no grants: perm is what a Postgres store would report.
func (s *Store) wrap(op string, _ store.Permission, err error) error {
	err = wrap(op, err)
	if errors.Is(err, store.ErrReadOnly) {
		return fmt.Errorf("%w: %s is not writable (chmod u+w %s %s-wal %s-shm)", store.ErrReadOnly, s.path, s.path, s.path, s.path)
	}
	return err
}

// wrap turns driver errors into the store's errors at the boundary.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_READONLY:
			return store.ErrReadOnly
		case sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("cannot open the database file (check the path and its directory's permissions)")
		case sqlite3.SQLITE_NOTADB:
			return errors.New("not a SQLite database")
		}
		if se.Code() == sqlite3.SQLITE_ERROR && strings.Contains(se.Error(), "no such table") {
			return fmt.Errorf("%s: %w", op, store.ErrNotMigrated)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// inTx runs fn in a write transaction.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// EnqueueMany implements store.Store.
func (s *Store) EnqueueMany(ctx context.Context, ps []*store.EnqueueParams, progress func(done int)) (int, error) {
	return jobsql.EnqueueMany(ctx, s.EnqueueFrom, ps, progress)
}

// bulkError keeps the line of a row the database refused as data (a
// constraint, a value too big), and drops it from other failures (a busy
// or read-only store), which are not that row's fault.
func bulkError(err error) error {
	var re *store.RowError
	if !errors.As(err, &re) {
		return err
	}
	var se *sqlite.Error
	if !errors.As(re.Err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
		return &store.RowError{Line: re.Line, Err: errors.New("the database refused it: " + store.OneLine(se.Error()))}
	}
	return re.Err
}

// Claim implements store.Queue, one queue write at a time in this process,
// with the claim statement prepared once.
func (s *Store) Claim(ctx context.Context, p *store.ClaimParams) ([]*store.Job, error) {
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	var jobs []*store.Job
	err := s.Base.Retry(ctx, func() (err error) {
		jobs, err = jobsql.Claim(ctx, db{prepared{cache: &s.stmts}}, dialect, p)
		return err
	})
	return jobs, s.wrap("claim", store.PermWrite, err)
}

// Complete implements store.Queue, one queue write at a time in this
// process, with the completion's statements prepared once. The status
// change and the release of dependents commit together.
func (s *Store) Complete(ctx context.Context, workerID string, cs []store.Completion) (int64, error) {
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	var n int64
	err := s.Base.Retry(ctx, func() error {
		return s.inTx(ctx, func(tx *sql.Tx) (err error) {
			n, err = jobsql.Complete(ctx, db{prepared{cache: &s.stmts, tx: tx}}, dialect, workerID, cs)
			return err
		})
	})
	return n, s.wrap("complete", store.PermWrite, err)
}

// Fail implements store.Queue, one queue write at a time in this process.
func (s *Store) Fail(ctx context.Context, workerID string, fs []store.Failure) (int64, error) {
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	return s.Base.Fail(ctx, workerID, fs)
}

// OneWriter implements store.OneWriter.
func (s *Store) OneWriter() {}
