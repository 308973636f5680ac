package store

import (
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// MigrationFile is one embedded, numbered migration (NNN_name.up.sql).
type MigrationFile struct {
	Version int
	Name    string
	SQL     string
}

var migrationName = regexp.MustCompile(`^(\d{3})_([a-z0-9_]+)\.up\.sql$`)

// LoadMigrations reads a backend's migrations from its embedded folder and
// checks that versions run 1, 2, 3… with no gap, so a bad file is caught by
// the backend's tests rather than at a user's upgrade.
func LoadMigrations(fsys fs.FS) ([]MigrationFile, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var ms []MigrationFile
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s: name is not NNN_name.up.sql", e.Name())
		}
		sql, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		v, _ := strconv.Atoi(m[1])
		ms = append(ms, MigrationFile{Version: v, Name: m[2], SQL: string(sql)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %03d_%s: expected version %d", m.Version, m.Name, i+1)
		}
	}
	return ms, nil
}

// Latest is the highest version in ms, or 0.
func Latest(ms []MigrationFile) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// MergeMigrations lists known migrations with their applied times, plus any
// applied version this binary does not know (from a newer jobctl).
func MergeMigrations(known []MigrationFile, applied map[int]time.Time) []Migration {
	var out []Migration
	for _, m := range known {
		mm := Migration{Version: m.Version, Name: m.Name}
		if at, ok := applied[m.Version]; ok {
			at := at.UTC()
			mm.AppliedAt = &at
		}
		out = append(out, mm)
	}
	for v, at := range applied {
		if v > Latest(known) {
			at := at.UTC()
			out = append(out, Migration{Version: v, Name: "(unknown: from a newer jobctl)", AppliedAt: &at})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

// CompareVersions turns the store's version and the binary's latest into
// ErrNotMigrated, ErrSchemaTooNew or nil.
func CompareVersions(applied, latest int) error {
	switch {
	case applied == 0:
		return ErrNotMigrated
	case applied > latest:
		return fmt.Errorf("%w: store is at version %d, this jobctl knows up to %d (upgrade jobctl)", ErrSchemaTooNew, applied, latest)
	case applied < latest:
		return fmt.Errorf("%w: store is at version %d of %d", ErrNotMigrated, applied, latest)
	}
	return nil
}

// MaxVersion is the highest applied version, or 0.
func MaxVersion(applied map[int]time.Time) int {
	m := 0
	for v := range applied {
		m = max(m, v)
	}
	return m
}
