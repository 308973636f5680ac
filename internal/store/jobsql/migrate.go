package jobsql

import (
	"context"
	"fmt"
	"time"

	"github.com/jobctl/jobctl/internal/store"
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
		a := d.Args()
		if _, err := tx.Exec(ctx, `INSERT INTO "SchemaMigration" (version, name, "appliedAt") VALUES (`+
			a.Add(m.Version)+", "+a.Add(m.Name)+", "+a.Add(now)+")", a.Values...); err != nil {
			return nil, err
		}
		done = append(done, store.Migration{Version: m.Version, Name: m.Name, AppliedAt: &now})
	}
	return done, nil
}
