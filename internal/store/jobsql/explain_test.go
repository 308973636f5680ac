package jobsql_test

import (
	"context"
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/internal/store/jobsql"
	"github.com/jobctl/jobctl/internal/store/postgres"
	"github.com/jobctl/jobctl/internal/store/sqlite"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

var printSQL = flag.Bool("print-sql", false, "print every named statement as each backend runs it")

// slotSamples fill each slot for EXPLAIN as its builder would for the
// simplest input; "$?" is the slot's next parameter, numbered after the
// statement's own.
var slotSamples = map[string]string{
	"filter":   "TRUE",
	"table":    `"Job"`,
	"scope":    "",
	"after":    "",
	"order":    "id",
	"ids":      "($?)",
	"keys":     "($?)",
	"idArray":  "$?",
	"previous": "status",
	"next":     "status",
	"extra":    "'{}'",
	"from":     `"Job"`,
	"to":       `"JobArchive"`,
	"limit":    "100",
	"ranges":   `SELECT * FROM "Job"`,
	// claimIDs's one-type branch, less its clock and lock clause, which
	// are the engine's (Dialect.Now, Dialect.SkipLocked).
	"claimIDs": `SELECT id FROM "Job" WHERE status IN ('PENDING', 'RETRYING') AND "waitingOn" = 0 AND type = $?
		ORDER BY "priorityRank" DESC, "scheduledFor", id LIMIT 100`,
}

var param = regexp.MustCompile(`\$([0-9]+)`)

// TestStatementsExplain plans every named statement on both backends
// against a migrated schema, with NULL for each parameter: a misspelled
// column, a missing cast or a statement one engine cannot run fails here
// rather than in use.
func TestStatementsExplain(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		ctx := context.Background()
		engine, explain := jobsql.Postgres, func(sql string, args []any) error {
			pool := b.Store.(*postgres.Store).Pool()
			if strings.HasPrefix(sql, "CREATE ") {
				// Postgres EXPLAINs no DDL: parsing and analysing it is
				// what there is to check.
				conn, err := pool.Acquire(ctx)
				if err != nil {
					return err
				}
				defer conn.Release()
				_, err = conn.Conn().Prepare(ctx, "", sql)
				return err
			}
			rows, err := pool.Query(ctx, "EXPLAIN "+sql, args...)
			if err != nil {
				return err
			}
			rows.Close()
			return rows.Err()
		}
		if s, ok := b.Store.(*sqlite.Store); ok {
			engine, explain = jobsql.SQLite, func(sql string, args []any) error {
				rows, err := s.DB().QueryContext(ctx, "EXPLAIN QUERY PLAN "+sql, args...)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
				}
				return rows.Err()
			}
		}
		for _, l := range jobsql.Statements() {
			sql := l.SQL[engine]
			if sql == "" {
				continue // not run on this engine
			}
			n := 0
			for _, m := range param.FindAllStringSubmatch(sql, -1) {
				k, _ := strconv.Atoi(m[1])
				n = max(n, k)
			}
			filled := map[string]bool{}
			for _, slot := range l.Slots {
				if filled[slot] {
					continue // one text fills every place of a slot
				}
				filled[slot] = true
				sample, ok := slotSamples[slot]
				if !ok {
					t.Fatalf("%s: no sample for slot %s", l.Name, slot)
				}
				if strings.Contains(sample, "$?") {
					n++
					sample = strings.ReplaceAll(sample, "$?", "$"+strconv.Itoa(n))
				}
				sql = regexp.MustCompile(`/\*:`+slot+`\*/`).ReplaceAllLiteralString(sql, sample)
			}
			if err := explain(sql, make([]any, n)); err != nil {
				t.Errorf("%s (%s): %v\n%s", l.Name, l.File, err, sql)
			}
		}
	})
}

// TestPrintStatements prints the statements under -print-sql:
//
//	go test ./internal/store/jobsql -run PrintStatements -v -print-sql
func TestPrintStatements(t *testing.T) {
	if !*printSQL {
		t.Skip("-print-sql not set")
	}
	for _, l := range jobsql.Statements() {
		fmt.Printf("-- %s (%s)\n%s;\n", l.Name, l.File, l.SQL[jobsql.Postgres])
		if l.SQL[jobsql.SQLite] == "" {
			fmt.Printf("-- %s is not run on SQLite\n", l.Name)
		} else if l.SQL[jobsql.SQLite] != l.SQL[jobsql.Postgres] {
			fmt.Printf("-- %s on SQLite\n%s;\n", l.Name, l.SQL[jobsql.SQLite])
		}
		fmt.Println()
	}
}
