package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

const migrationTable = `CREATE TABLE IF NOT EXISTS "SchemaMigration" (
	version     integer PRIMARY KEY,
	name        text NOT NULL,
	"appliedAt" timestamptz NOT NULL DEFAULT now()
)`

// Migrate implements store.Store. Each migration runs in its own
// transaction under an advisory lock, so two jobctl processes migrating at
// once apply each version exactly once.
func (s *Store) Migrate(ctx context.Context) ([]store.Migration, error) {
	var applied []store.Migration
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('jobctl_migrate:' || $1))", s.schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, migrationTable); err != nil {
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
		return nil, s.wrap("migrate", err)
	}
	return applied, nil
}

// Migrations implements store.Store.
func (s *Store) Migrations(ctx context.Context) ([]store.Migration, error) {
	done, err := appliedVersions(ctx, s.pool)
	if err != nil && !errors.Is(wrap("", err), store.ErrNotMigrated) {
		return nil, s.wrap("migration status", err)
	}
	return store.MergeMigrations(s.migrations, done), nil
}

// CheckSchema implements store.Store.
func (s *Store) CheckSchema(ctx context.Context) error {
	done, err := appliedVersions(ctx, s.pool)
	if err != nil {
		return s.wrap("check schema", err)
	}
	return store.CompareVersions(store.MaxVersion(done), store.Latest(s.migrations))
}

func appliedVersions(ctx context.Context, q querier) (map[int]time.Time, error) {
	rows, err := q.Query(ctx, `SELECT version, "appliedAt" FROM "SchemaMigration"`)
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
