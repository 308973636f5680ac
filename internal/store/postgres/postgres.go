// Package postgres is the PostgreSQL job store, for many workers on many
// hosts sharing one database. It is the only package that imports pgx.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a job store in one Postgres schema.
type Store struct {
	jobsql.Base
	pool       *pgxpool.Pool
	schema     string
	user       string
	migrations []store.MigrationFile
}

var _ store.Store = (*Store)(nil)

// Open connects to dsn. A non-empty schema becomes the connection's
// search_path, so jobctl's tables can sit beside an application's own.
func Open(ctx context.Context, dsn, schema string) (*Store, error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message repeats the DSN (password masked); its cause, when
		// there is one, says what is wrong without it.
		if cause := errors.Unwrap(err); cause != nil {
			err = cause
		}
		return nil, fmt.Errorf("invalid Postgres DSN: %w", err)
	}
	if schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "jobctl"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot connect: %w", connError(err))
	}
	s := &Store{pool: pool, schema: schema, migrations: ms, user: cfg.ConnConfig.User}
	s.Base = jobsql.Base{D: dialect, DB: db{pool}, Wrap: s.wrap, InTx: func(ctx context.Context, fn func(jobsql.DB) error) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return fn(db{tx}) })
	}}
	if schema == "" {
		if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&s.schema); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

func loadMigrations() ([]store.MigrationFile, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return store.LoadMigrations(sub)
}

// connError keeps the cause of a failed connection. pgx may try several
// times (each address, with and without TLS) and join the failures; the
// last one says why the final try failed, and one is enough for a message.
func connError(err error) error {
	if u := unavailable("connect", err); u != nil {
		return &connectFailed{u.(*store.UnavailableError)}
	}
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return err
	}
	inner := errors.Unwrap(ce)
	if inner == nil {
		return err
	}
	if joined, ok := inner.(interface{ Unwrap() []error }); ok {
		if errs := joined.Unwrap(); len(errs) > 0 {
			inner = errs[len(errs)-1]
		}
	}
	return inner
}

// Backend implements store.Store.
func (s *Store) Backend() string { return "postgres" }

// Schema is the namespace holding jobctl's tables.
func (s *Store) Schema() string { return s.schema }

// Pool exposes the connection pool to tests and benchmarks in this module.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close implements store.Store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// wrap turns driver errors into the store's errors at the boundary. A
// refusal by the grants names op, the permission op declares and the login
// role. A schema the login may not use looks to Postgres like one without
// tables; that is a refusal too, not a schema to migrate.
func (s *Store) wrap(op string, perm store.Permission, err error) error {
	err = wrap(op, perm, err)
	if errors.Is(err, store.ErrNotMigrated) && s.schemaUnusable() {
		err = &store.PermissionError{Op: op, Perm: perm, Err: fmt.Errorf("permission denied for schema %s", s.schema)}
	}
	var pe *store.PermissionError
	if errors.As(err, &pe) {
		pe.Role = s.user
	}
	return err
}

// schemaUnusable reports whether the schema exists but the login lacks
// USAGE on it.
func (s *Store) schemaUnusable() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var denied bool
	err := s.pool.QueryRow(ctx, `SELECT NOT has_schema_privilege(oid, 'USAGE') FROM pg_namespace WHERE nspname = $1`, s.schema).Scan(&denied)
	return err == nil && denied
}

func wrap(op string, perm store.Permission, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if u := unavailable(op, err); u != nil {
		return u
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "42501": // insufficient_privilege
			return &store.PermissionError{Op: op, Perm: perm, Err: errors.New(pe.Message)}
		case "42P01", "3F000": // undefined_table, invalid_schema_name
			return fmt.Errorf("%s: %w", op, store.ErrNotMigrated)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}
