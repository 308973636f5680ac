package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/postgres"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// store.ValidateData must refuse exactly what jsonb refuses, so that a bulk
// load never fails in the database half-way and SQLite accepts only what
// Postgres would.
func TestValidateDataMatchesJSONB(t *testing.T) {
	b := teststore.Postgres(t)
	pool := b.Store.(*postgres.Store).Pool()
	samples := []string{
		`{}`, `{"a":"x\u0000y"}`, `"\u0000"`, `"\\u0000"`, `"\\\u0000"`, `"\u0001"`,
		`"\ud83d"`, `"\ude00"`, `"\ud83d\ude00"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\uDBFF\uDFFF"`,
		`1e1000`, `1e1001`, `1e131071`, `1e131072`, `1.5e131071`, `15e131071`, `0.001e131074`, `0.001e131075`,
		`1e-16383`, `1e-16384`, `0.5e-16383`, `12e-16384`, `1.50e-16382`, `0e99999999`, `0e-16383`, `0e-16384`,
		`-0`, `-0.0`, `1E+5`, `1e1073741822`, `1e1073741823`, `0e1073741823`, `[1, -2.5e-3, {"x": [true, null]}]`,
		`"` + strings.Repeat("9", 1000) + `"`, strings.Repeat("9", 131072), strings.Repeat("9", 131073),
		"0." + strings.Repeat("1", 16383), "0." + strings.Repeat("1", 16384),
	}
	for _, s := range samples {
		var out string
		dbErr := pool.QueryRow(context.Background(), `SELECT $1::text::jsonb::text`, s).Scan(&out)
		goErr := store.ValidateData([]byte(s), store.NoDataLimit)
		short := s
		if len(short) > 40 {
			short = short[:40] + "…"
		}
		if (dbErr == nil) != (goErr == nil) {
			t.Errorf("%s: Postgres says %v, ValidateData says %v", short, dbErr, goErr)
		}
	}
}

// pausingSource yields n plain jobs and, at row pauseAt, waits until the
// server has taken at least minCopied rows of the COPY in progress: the
// proof that rows stream into the database as they are read, not after
// the whole input has been.
type pausingSource struct {
	t                  *testing.T
	n, i               int
	pauseAt, minCopied int
	seen               func() int64
	copied             int64
}

func (s *pausingSource) Next() (*store.EnqueueParams, int, error) {
	if s.i == s.n {
		return nil, 0, io.EOF
	}
	s.i++
	if s.i == s.pauseAt {
		deadline := time.Now().Add(10 * time.Second)
		for s.copied = s.seen(); s.copied < int64(s.minCopied) && time.Now().Before(deadline); s.copied = s.seen() {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return &store.EnqueueParams{Type: "Stream", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, s.i))}, s.i, nil
}

func TestEnqueueFromStreamsIntoCopy(t *testing.T) {
	b := teststore.Postgres(t)
	s := b.Store.(*postgres.Store)
	ctx := context.Background()
	src := &pausingSource{t: t, n: 9000, pauseAt: 6000, minCopied: 3000, seen: func() int64 {
		var n int64
		err := s.Pool().QueryRow(ctx, `SELECT coalesce(max(p.tuples_processed), 0) FROM pg_stat_progress_copy p
			JOIN pg_class c ON c.oid = p.relid JOIN pg_namespace ns ON ns.oid = c.relnamespace
			WHERE ns.nspname = $1 AND c.relname = 'Job'`, s.Schema()).Scan(&n)
		if err != nil {
			t.Error(err)
		}
		return n
	}}
	n, err := s.EnqueueFrom(ctx, src, nil)
	if err != nil || n != 9000 {
		t.Fatalf("EnqueueFrom = %d, %v", n, err)
	}
	t.Logf("copied %d rows by row %d", src.copied, src.pauseAt)
	if src.copied < int64(src.minCopied) {
		t.Errorf("when the source had given 6,000 rows the server had copied %d; want ≥ %d (rows are held back)", src.copied, src.minCopied)
	}
	if c, _ := s.Count(ctx, &store.Filter{Types: []string{"Stream"}}, false); c != 9000 {
		t.Errorf("count = %d; want 9000", c)
	}
}

// A row COPY refuses (here, through a CHECK constraint validation cannot
// know about) is named by its input line, in a run after the first, with
// the database's words in one line and nothing inserted.
func TestCopyRefusalNamesLine(t *testing.T) {
	b := teststore.Postgres(t)
	s := b.Store.(*postgres.Store)
	b.Exec(t, `ALTER TABLE "Job" ADD CONSTRAINT no_forbidden CHECK (type <> 'Forbidden')`)
	var ps []*store.EnqueueParams
	for i := 1; i <= 20; i++ {
		p := &store.EnqueueParams{Type: "A"}
		switch i {
		case 3:
			p.UniqueKey = "k" // ends the first COPY
		case 17:
			p.Type = "Forbidden"
		}
		ps = append(ps, p)
	}
	_, err := s.EnqueueFrom(context.Background(), store.SliceSource(ps), nil)
	var re *store.RowError
	if !errors.As(err, &re) || re.Line != 17 {
		t.Fatalf("EnqueueFrom = %v; want a RowError at line 17", err)
	}
	want := `the database refused it: new row for relation "Job" violates check constraint "no_forbidden"`
	if !strings.HasPrefix(re.Err.Error(), want) || strings.Contains(err.Error(), "SQLSTATE") || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "Failing row") {
		t.Errorf("error = %q; want it to start %q, one line, no SQLSTATE, not the whole row", re.Err, want)
	}
	if c, _ := s.Count(context.Background(), &store.Filter{}, false); c != 0 {
		t.Errorf("a refused batch left %d jobs", c)
	}
}
