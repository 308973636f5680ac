package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

// Postgres's own statements for migrating: the catalog and an advisory
// lock, which SQLite has no counterpart for. The shared ones are in
// jobsql's sql/migrate.sql.
const (
	// schemaExists: whether schema $1 exists.
	schemaExists = `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`
	// migrateLock takes turns between jobctl processes migrating schema
	// $1, until the transaction ends.
	migrateLock = `SELECT pg_advisory_xact_lock(hashtext('jobctl_migrate:' || $1))`
	// mayCreate: the database's name, whether schema $1 exists, and
	// whether this login may create schemas in the database and tables in
	// schema $1.
	mayCreate = `SELECT current_database(),
		EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1),
		has_database_privilege(current_database(), 'CREATE'),
		COALESCE((SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = $1), FALSE)`
)

// Migrate implements store.Store. Each migration runs in its own
// transaction under an advisory lock, so two jobctl processes migrating at
// once apply each version exactly once.
func (s *Store) Migrate(ctx context.Context) ([]store.Migration, error) {
	if err := s.mayMigrate(ctx); err != nil {
		return nil, err
	}
	var applied []store.Migration
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Not CREATE SCHEMA IF NOT EXISTS: it needs CREATE on the database
		// even when the schema is there.
		var exists bool
		if err := tx.QueryRow(ctx, schemaExists, s.schema).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{s.schema}.Sanitize()); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, migrateLock, s.schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, dialect.SQL(jobsql.MigrationTableCreate)); err != nil {
			return err
		}
		done, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		applied, err = jobsql.ApplyMigrations(ctx, db{tx}, dialect, s.migrations, done)
		return err
	})
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42501" {
			// Owning the tables is the one right left to lack (a later
			// migration alters them).
			return nil, &store.PermissionError{Op: "migrate", Role: s.user, Err: err,
				Need: fmt.Sprintf("to own jobctl's tables in schema %s (run it as their owner; the database said: %s)", pgx.Identifier{s.schema}.Sanitize(), pe.Message)}
		}
		return nil, s.wrap("migrate", "", err)
	}
	return applied, nil
}

// mayMigrate refuses, before any change, a login that cannot create what
// migrate creates, naming the privilege it lacks: none of jobctl's roles
// has it, since migrating is the schema owner's job.
func (s *Store) mayMigrate(ctx context.Context) error {
	var (
		database                   string
		exists, onDatabase, schema bool
	)
	err := s.pool.QueryRow(ctx, mayCreate, s.schema).Scan(&database, &exists, &onDatabase, &schema)
	if err != nil {
		return s.wrap("migrate", "", err)
	}
	name := pgx.Identifier{s.schema}.Sanitize()
	switch {
	case !exists && !onDatabase:
		return &store.PermissionError{Op: "migrate", Role: s.user,
			Need: fmt.Sprintf("to create schema %s (CREATE on database %s, or create the schema first)", name, pgx.Identifier{database}.Sanitize())}
	case exists && !schema:
		return &store.PermissionError{Op: "migrate", Role: s.user,
			Need: fmt.Sprintf("to create tables in schema %s (CREATE on schema %s, or run it as the schema's owner)", name, name)}
	}
	return nil
}

// Migrations implements store.Store.
func (s *Store) Migrations(ctx context.Context) ([]store.Migration, error) {
	done, err := appliedVersions(ctx, s.pool)
	if err != nil {
		if err = s.wrap("migration status", store.PermRead, err); !errors.Is(err, store.ErrNotMigrated) {
			return nil, err
		}
	}
	return store.MergeMigrations(s.migrations, done), nil
}

// CheckSchema implements store.Store.
func (s *Store) CheckSchema(ctx context.Context) error {
	done, err := appliedVersions(ctx, s.pool)
	if err != nil {
		return s.wrap("check schema", store.PermRead, err)
	}
	return store.CompareVersions(store.MaxVersion(done), store.Latest(s.migrations))
}

func appliedVersions(ctx context.Context, q querier) (map[int]time.Time, error) {
	rows, err := q.Query(ctx, dialect.SQL(jobsql.MigrationsApplied))
	if err != nil {
		return nil, err
	}
	done := map[int]time.Time{}
	var (
		v  int
		at time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&v, &at}, func() error {
		done[v] = at
		return nil
	})
	return done, err
}
