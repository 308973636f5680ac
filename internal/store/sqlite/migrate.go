package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

// migrationTableExists counts the "SchemaMigration" tables in the file's
// catalog (0 or 1): SQLite's own statement, which Postgres has no use for
// (reading a missing table is ErrNotMigrated there). The shared ones are in
// jobsql's sql/migrate.sql.
const migrationTableExists = `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'SchemaMigration'`

// Migrate implements store.Store. BEGIN IMMEDIATE makes concurrent
// migrations of one file take turns, and the second finds nothing to do.
func (s *Store) Migrate(ctx context.Context) ([]store.Migration, error) {
	var applied []store.Migration
	err := s.inTx(ctx, func(t *sql.Tx) error {
		tx := db{t}
		if _, err := tx.Exec(ctx, dialect.SQL(jobsql.MigrationTableCreate)); err != nil {
			return err
		}
		done, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		applied, err = jobsql.ApplyMigrations(ctx, tx, dialect, s.migrations, done)
		return err
	})
	if err != nil {
		return nil, s.wrap("migrate", "", err)
	}
	return applied, nil
}

// Migrations implements store.Store.
func (s *Store) Migrations(ctx context.Context) ([]store.Migration, error) {
	done, err := appliedVersions(ctx, db{s.db})
	if err != nil {
		return nil, s.wrap("migration status", store.PermRead, err)
	}
	return store.MergeMigrations(s.migrations, done), nil
}

// CheckSchema implements store.Store.
func (s *Store) CheckSchema(ctx context.Context) error {
	_, err := s.schemaVersion(ctx)
	return err
}

// schemaVersion is the file's schema version (0: none) and how it
// compares with this jobctl's (store.CompareVersions).
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	done, err := appliedVersions(ctx, db{s.db})
	if err != nil {
		return 0, s.wrap("check schema", store.PermRead, err)
	}
	v := store.MaxVersion(done)
	return v, store.CompareVersions(v, store.Latest(s.migrations))
}

// appliedVersions reads "SchemaMigration"; a store without it has none.
func appliedVersions(ctx context.Context, d db) (map[int]time.Time, error) {
	var exists int
	if err := d.QueryRow(ctx, migrationTableExists).Scan(&exists); err != nil {
		return nil, err
	}
	done := map[int]time.Time{}
	if exists == 0 {
		return done, nil
	}
	rows, err := d.Query(ctx, dialect.SQL(jobsql.MigrationsApplied))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			v  int
			at string
		)
		if err := rows.Scan(&v, &at); err != nil {
			return nil, err
		}
		t, _ := time.Parse(time.RFC3339Nano, at)
		done[v] = t
	}
	return done, rows.Err()
}
