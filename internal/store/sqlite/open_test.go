package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/sqlite"
)

// TestOpenWithoutCreate: a store that may not be created is not, whether
// the file is missing or there but empty, and a foreign file is left as
// it is: no schema, no journal-mode change.
func TestOpenWithoutCreate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	missing := filepath.Join(dir, "sub", "jobs.db")
	if _, err := sqlite.OpenWith(ctx, missing, sqlite.Options{}); !errors.Is(err, sqlite.ErrNoFile) {
		t.Fatalf("missing file: %v, want ErrNoFile", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the directory was made: %v", err)
	}

	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.OpenWith(ctx, empty, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSchema(ctx); !errors.Is(err, store.ErrNotMigrated) {
		t.Errorf("CheckSchema: %v, want ErrNotMigrated", err)
	}
	s.Close()
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Errorf("the empty file was written to: %v, %d bytes", err, fi.Size())
	}

	// Created, it has the schema, and opening it again without Create
	// finds it.
	created := filepath.Join(dir, "new", "jobs.db")
	s, err = sqlite.OpenWith(ctx, created, sqlite.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.OpenWith(ctx, created, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckSchema(ctx); err != nil {
		t.Errorf("CheckSchema of the created store: %v", err)
	}
}

// TestOpenNoMigrate: migrate's open leaves the schema to it, so it can say
// what it applied.
func TestOpenNoMigrate(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.OpenWith(ctx, filepath.Join(t.TempDir(), "jobs.db"), sqlite.Options{Create: true, NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckSchema(ctx); !errors.Is(err, store.ErrNotMigrated) {
		t.Fatalf("CheckSchema before Migrate: %v", err)
	}
	applied, err := s.Migrate(ctx)
	if err != nil || len(applied) == 0 {
		t.Fatalf("Migrate: %v, %d applied", err, len(applied))
	}
}
