package jobsql

import (
	"context"
	"fmt"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// The record of applied migrations, in sql/migrate.sql: the backends run
// the first two themselves.
var (
	MigrationTableCreate = stmt("MigrationTableCreate")
	MigrationsApplied    = stmt("MigrationsApplied")
	migrationRecord      = stmt("MigrationRecord")
)

// ApplyMigrations applies, inside the caller's transaction, each known
// migration not in applied, recording it in "SchemaMigration". A store
// migrated by a newer jobctl is refused untouched.
func ApplyMigrations(ctx context.Context, tx DB, d *Dialect, known []store.MigrationFile, applied map[int]time.Time) ([]store.Migration, error) {
	if v := store.MaxVersion(applied); v > store.Latest(known) {
		return nil, store.CompareVersions(v, store.Latest(known))
	}
	var done []store.Migration
	for _, m := range known {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return nil, fmt.Errorf("migration %03d_%s: %w", m.Version, m.Name, err)
		}
		now := time.Now().UTC()
		if _, err := tx.Exec(ctx, d.SQL(migrationRecord), d.Values(m.Version, m.Name, now)...); err != nil {
			return nil, err
		}
		done = append(done, store.Migration{Version: m.Version, Name: m.Name, AppliedAt: &now})
	}
	return done, nil
}
