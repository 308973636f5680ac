package store_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/internal/store/postgres"
	"github.com/jobctl/jobctl/internal/store/sqlite"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// schema is what two backends must agree on: each table's columns, and
// each index's table, key columns with their order, and uniqueness. Types, defaults and the
// spelling of partial-index predicates are the dialects' own; the
// primary keys' indexes are implied by the columns.
type schema struct {
	columns map[string][]string // table -> sorted column names
	indexes map[string]string   // index name -> "table(col, col) unique partial"
}

func indexText(table string, cols []string, unique, partial bool) string {
	s := table + "(" + strings.Join(cols, ", ") + ")"
	if unique {
		s += " unique"
	}
	if partial {
		s += " partial"
	}
	return s
}

// TestSchemasMatch is River's riverdrivertest check of indexes, done for
// the whole schema: a migration added to one backend only, or an index
// with its columns in another order, fails here.
func TestSchemasMatch(t *testing.T) {
	lite := sqliteSchema(t, teststore.SQLite(t).Store.(*sqlite.Store))
	pg := postgresSchema(t, teststore.Postgres(t).Store.(*postgres.Store))
	for _, table := range union(slices.Collect(maps.Keys(lite.columns)), slices.Collect(maps.Keys(pg.columns))) {
		l, p := lite.columns[table], pg.columns[table]
		switch {
		case l == nil:
			t.Errorf("table %q is on Postgres only", table)
		case p == nil:
			t.Errorf("table %q is on SQLite only", table)
		case !slices.Equal(l, p):
			t.Errorf("table %q columns differ:\n  sqlite:   %v\n  postgres: %v", table, l, p)
		}
	}
	for _, name := range union(slices.Collect(maps.Keys(lite.indexes)), slices.Collect(maps.Keys(pg.indexes))) {
		l, p := lite.indexes[name], pg.indexes[name]
		switch {
		case l == "":
			t.Errorf("index %q is on Postgres only: %s", name, p)
		case p == "":
			t.Errorf("index %q is on SQLite only: %s", name, l)
		case l != p:
			t.Errorf("index %q differs:\n  sqlite:   %s\n  postgres: %s", name, l, p)
		}
	}
	if len(lite.columns) < 5 || len(lite.indexes) < 5 {
		t.Fatalf("read %d tables and %d indexes: the introspection is broken", len(lite.columns), len(lite.indexes))
	}
}

func union(a, b []string) []string {
	u := slices.Concat(a, b)
	slices.Sort(u)
	return slices.Compact(u)
}

func sqliteSchema(t *testing.T, s *sqlite.Store) schema {
	t.Helper()
	db := s.DB()
	sc := schema{columns: map[string][]string{}, indexes: map[string]string{}}
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	for _, table := range tables {
		// table_xinfo also lists generated columns.
		cols := queryStrings(t, func() ([]string, error) {
			return scanAll(db.Query(`SELECT name FROM pragma_table_xinfo(?) WHERE hidden IN (0, 2, 3)`, table))
		})
		slices.Sort(cols)
		sc.columns[table] = cols
		idx, err := db.Query(`SELECT name, "unique", partial FROM pragma_index_list(?) WHERE origin <> 'pk'`, table)
		if err != nil {
			t.Fatal(err)
		}
		type ix struct {
			name            string
			unique, partial bool
		}
		var ixs []ix
		for idx.Next() {
			var i ix
			if err := idx.Scan(&i.name, &i.unique, &i.partial); err != nil {
				t.Fatal(err)
			}
			ixs = append(ixs, i)
		}
		idx.Close()
		for _, i := range ixs {
			keys := queryStrings(t, func() ([]string, error) {
				return scanAll(db.Query(`SELECT coalesce(name, '<expr>') || CASE WHEN "desc" THEN ' desc' ELSE '' END
					FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno`, i.name))
			})
			sc.indexes[i.name] = indexText(table, keys, i.unique, i.partial)
		}
	}
	return sc
}

func postgresSchema(t *testing.T, s *postgres.Store) schema {
	t.Helper()
	ctx := context.Background()
	sc := schema{columns: map[string][]string{}, indexes: map[string]string{}}
	rows, err := s.Pool().Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, column_name COLLATE "C"`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		sc.columns[table] = append(sc.columns[table], col)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, cols := range sc.columns {
		slices.Sort(cols)
	}
	rows, err = s.Pool().Query(ctx, `SELECT i.relname, t.relname, x.indisunique, x.indpred IS NOT NULL,
			array(SELECT coalesce(a.attname, '<expr>') || CASE WHEN x.indoption[k.n - 1] & 1 = 1 THEN ' desc' ELSE '' END FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY k(attnum, n)
				LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0 ORDER BY k.n)
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
		WHERE t.relnamespace = current_schema()::regnamespace AND NOT x.indisprimary`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, table string
		var unique, partial bool
		var keys []string
		if err := rows.Scan(&name, &table, &unique, &partial, &keys); err != nil {
			t.Fatal(err)
		}
		sc.indexes[name] = indexText(table, keys, unique, partial)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return sc
}

type sqlRows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}

func scanAll[R sqlRows](rows R, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func queryStrings(t *testing.T, f func() ([]string, error)) []string {
	t.Helper()
	out, err := f()
	if err != nil {
		t.Fatal(fmt.Errorf("reading the schema: %w", err))
	}
	return out
}
