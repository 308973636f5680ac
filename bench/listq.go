package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
	"github.com/jobctl/jobctl/internal/store/postgres"
)

const listTarget = 50 * time.Millisecond

// jobTypes are the seeded types, weighted by repetition (CalendarSync and
// EmailSending a fifth each).
var jobTypes = []string{
	"CalendarSync", "CalendarSync", "CalendarSync", "CalendarSync",
	"EmailSending", "EmailSending", "EmailSending", "EmailSending",
	"ReportGeneration", "ReportGeneration", "DataImport", "DataImport",
	"MetricCalculation", "MetricCalculation", "WebhookDelivery", "WebhookDelivery",
	"ImageResize", "SearchIndex", "InvoiceGeneration", "CacheWarmup",
}

// seedSQL fills "Job" with $1 jobs in one statement. Statuses: ~95.8%
// COMPLETED, 2% FAILED, 1% DEAD, 0.4% PENDING, 0.1% RUNNING, 0.2%
// RETRYING, 0.5% CANCELLED. Live jobs (PENDING, RUNNING, RETRYING) and 2%
// of the rest were created in the last hour, the others over 60 days.
// Started/completed times follow from the status; IDs are job_ + 10 hex
// digits of creation milliseconds + 16 of the row number: unique and
// time-ordered like jobctl's own.
const seedSQL = `
INSERT INTO "Job" (id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
	attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt", "userId", "workerId")
SELECT
	'job_' || lpad(to_hex((extract(epoch FROM created) * 1000)::bigint), 10, '0') || lpad(to_hex(g), 16, '0'),
	type, status, priority,
	jsonb_build_object('userId', 'user_' || (g % 5000), 'n', g),
	CASE WHEN status = 'COMPLETED' THEN '{"ok":true}'::jsonb END,
	CASE WHEN err > 0 THEN (ARRAY['Network timeout', 'Rate limit exceeded', 'Execution time limit exceeded',
		'Token refresh failed: Invalid refresh token', 'Not found'])[err] END,
	CASE WHEN err > 0 THEN (ARRAY['NETWORK_ERROR', 'RATE_LIMIT', 'TIMEOUT', 'AUTH_ERROR', 'NOT_FOUND'])[err] END,
	CASE WHEN err > 0 THEN 'Error: ' || status || E'\n    at handler (handler.js:42:13)' END,
	CASE status WHEN 'PENDING' THEN 0 WHEN 'DEAD' THEN 5 WHEN 'FAILED' THEN 1 + floor(r2 * 3)::int
		WHEN 'RETRYING' THEN 1 + floor(r2 * 4)::int WHEN 'CANCELLED' THEN (started IS NOT NULL)::int
		WHEN 'COMPLETED' THEN 1 + (r3 < 0.05)::int ELSE 1 END,
	5,
	CASE WHEN status = 'RETRYING' THEN now() + r3 * interval '10 minutes' ELSE created END,
	created, started, completed,
	coalesce(completed, started, created),
	CASE WHEN g % 3 = 0 THEN 'user_' || (g % 5000) END,
	CASE WHEN status = 'RUNNING' THEN 'bench-worker' END
FROM (
	SELECT *, CASE
		WHEN status IN ('COMPLETED', 'FAILED', 'DEAD') THEN least(started + (0.05 + r2 * r2 * 30) * interval '1 second', now())
		WHEN status = 'CANCELLED' THEN least(coalesce(started, created) + r2 * interval '1 minute', now())
	END AS completed
	FROM (
		SELECT *, CASE WHEN status = 'PENDING' OR (status = 'CANCELLED' AND r3 < 0.6) THEN NULL
			ELSE least(created + (0.01 + r3 * 2) * interval '1 second', now()) END AS started
		FROM (
			SELECT *, CASE WHEN status IN ('PENDING', 'RUNNING', 'RETRYING') OR r6 < 0.02
					THEN now() - r5 * interval '1 hour'
					ELSE now() - interval '1 hour' - r5 * interval '59 days 23 hours' END AS created,
				CASE WHEN status IN ('FAILED', 'DEAD', 'RETRYING') THEN 1 + floor(r4 * 5)::int ELSE 0 END AS err
			FROM (
				SELECT *, CASE WHEN r1 < 0.020 THEN 'FAILED' WHEN r1 < 0.030 THEN 'DEAD'
						WHEN r1 < 0.034 THEN 'PENDING' WHEN r1 < 0.035 THEN 'RUNNING'
						WHEN r1 < 0.037 THEN 'RETRYING' WHEN r1 < 0.042 THEN 'CANCELLED'
						ELSE 'COMPLETED' END AS status,
					($2::text[])[1 + floor(r4 * array_length($2::text[], 1))::int] AS type,
					CASE WHEN r3 < 0.90 THEN 'NORMAL' WHEN r3 < 0.95 THEN 'HIGH'
						WHEN r3 < 0.99 THEN 'LOW' ELSE 'CRITICAL' END AS priority
				FROM (SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5, random() r6
					FROM generate_series(1, $1) g) r
			) s
		) c
	) st
) x`

// listCase is one `jobctl list` invocation and the filter it runs.
type listCase struct {
	label  string
	args   []string
	filter store.Filter
}

// benchList takes the shared seeded table (bigTable), then times list commands as processes and
// their SQL (captured from jobsql with the Postgres dialect) with EXPLAIN.
func benchList(ctx context.Context, e *env) error {
	bt, err := e.bigTable(ctx)
	if err != nil {
		return err
	}
	s, pgEnv := bt.s, bt.env

	now := time.Now()
	cases := []listCase{
		{"(a) list --status dead --since 1h", []string{"--status", "dead", "--since", "1h"},
			store.Filter{Statuses: []store.Status{store.StatusDead}, Since: now.Add(-time.Hour)}},
		{"(b) list --type CalendarSync --status failed", []string{"--type", "CalendarSync", "--status", "failed"},
			store.Filter{Types: []string{"CalendarSync"}, Statuses: []store.Status{store.StatusFailed}}},
		{"(c) list (no filter; extra)", nil, store.Filter{}},
	}
	runs := e.cfg.runs
	note("method: whole-process wall time of `jobctl list …` (connect, list page of 50, count, render")
	note("to a pipe), median of %d runs; SQL = jobsql.ListQuery / jobsql.Count with the Postgres", runs)
	note("dialect, timed by EXPLAIN (ANALYZE, BUFFERS) Execution Time, median of %d; target < %s", runs, ms(listTarget))
	t := newTable("command", "process p50", "min", "list SQL", "count SQL", "matched", "index scan (list / count)", "meets (process / SQL)")
	var plans, used []string
	for _, c := range cases {
		var walls []time.Duration
		for range runs {
			p, err := e.run(ctx, pgEnv, append([]string{"list"}, c.args...)...)
			if err != nil {
				return err
			}
			walls = append(walls, p.wall)
		}
		params := &store.ListParams{Filter: c.filter, Limit: 50, Sort: store.SortCreatedDesc}
		listQ, err := capture(func(db jobsql.DB) error { _, err := jobsql.List(ctx, db, s.D, params); return err })
		if err != nil {
			return err
		}
		countQ, err := capture(func(db jobsql.DB) error { _, err := jobsql.Count(ctx, db, s.D, &c.filter, false); return err })
		if err != nil {
			return err
		}
		listEx, err := explain(ctx, s, listQ, runs)
		if err != nil {
			return err
		}
		countEx, err := explain(ctx, s, countQ, runs)
		if err != nil {
			return err
		}
		matched, err := s.Count(ctx, &c.filter, false)
		if err != nil {
			return err
		}
		procOK, sqlOK := median(walls) < listTarget, listEx.exec+countEx.exec < listTarget
		t.add(c.label, ms(median(walls)), ms(minOf(walls)), ms(listEx.exec), ms(countEx.exec), count(matched),
			listEx.indexVerdict()+" / "+countEx.indexVerdict(), verdict(procOK)+" / "+verdict(sqlOK))
		used = append(used, fmt.Sprintf("%s: list %s; count %s", c.label[:3], listEx.scans(), countEx.scans()))
		f := figure{part: "list", name: "postgres " + c.label + ", process p50", value: ms(median(walls)),
			yardstick: "SQL " + ms(listEx.exec+countEx.exec), target: "< " + ms(listTarget), meets: meets(procOK)}
		if strings.Contains(c.label, "extra") { // measured, with no target
			f.target, f.meets = "", ""
		}
		e.addFigure(f)
		plans = append(plans, planText(c.label+", list query", listQ, listEx), planText(c.label+", count query", countQ, countEx))
	}
	t.print()
	for _, u := range used {
		note("%s", u)
	}

	claimQ, err := capture(func(db jobsql.DB) error {
		_, err := jobsql.Claim(ctx, db, s.D, &store.ClaimParams{WorkerID: "bench-explain", Types: uniq(jobTypes), Limit: 10})
		return err
	})
	if err != nil {
		return err
	}
	claimEx, err := explain(ctx, s, claimQ, runs)
	if err != nil {
		return err
	}
	note("claim (jobsql.Claim, 10 jobs, all %d types, FOR UPDATE SKIP LOCKED; each EXPLAIN ANALYZE in a", len(uniq(jobTypes)))
	note("rolled-back transaction): %s median of %d; index scan: %s (%s)", ms(claimEx.exec), runs, claimEx.indexVerdict(), claimEx.scans())

	fmt.Println("\n  Plans (last EXPLAIN run of each; the SQL as jobctl sends it, then its parameters):")
	for _, p := range append(plans, planText("claim query", claimQ, claimEx)) {
		fmt.Print(p)
	}
	return nil
}

func planText(label string, q query, ex *explained) string {
	return fmt.Sprintf("\n  %s:\n%s\n%s\n", label, indent(statement(q), 4), indent(ex.plan, 6))
}

// seed fills the table, VACUUM ANALYZEs it (what autovacuum would do after
// a load this size) and prints what it made.
func seed(ctx context.Context, s *postgres.Store, rows int) error {
	t0 := time.Now()
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT setseed(0.42)"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, seedSQL, rows, jobTypes); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	inserted := time.Since(t0)
	if _, err := s.Pool().Exec(ctx, `VACUUM ANALYZE "Job"`); err != nil {
		return err
	}
	var size string
	if err := s.Pool().QueryRow(ctx, `SELECT pg_size_pretty(pg_total_relation_size('"Job"'))`).Scan(&size); err != nil {
		return err
	}
	r, err := s.Pool().Query(ctx, `SELECT status, count(*) FROM "Job" GROUP BY 1 ORDER BY 2 DESC`)
	if err != nil {
		return err
	}
	var dist []string
	for r.Next() {
		var st string
		var n int64
		if err := r.Scan(&st, &n); err != nil {
			return err
		}
		dist = append(dist, fmt.Sprintf("%s %s", st, count(n)))
	}
	if err := r.Err(); err != nil {
		return err
	}
	note("seeded %s jobs (INSERT … SELECT generate_series) in %s, VACUUM ANALYZE %s; table+indexes %s",
		count(rows), inserted.Round(100*time.Millisecond), (time.Since(t0) - inserted).Round(100*time.Millisecond), size)
	note("statuses: %s; %d types, createdAt over 60 days, ~2%% in the last hour", strings.Join(dist, ", "), len(uniq(jobTypes)))
	return nil
}

// query is a captured statement.
type query struct {
	sql  string
	args []any
}

var errCaptured = errors.New("captured")

// captureDB records the first statement jobsql runs and fails it, so the
// bench EXPLAINs exactly the SQL jobctl would send.
type captureDB struct{ q *query }

func (c *captureDB) rec(sql string, args []any) {
	if c.q == nil {
		c.q = &query{sql: sql, args: args}
	}
}
func (c *captureDB) Exec(_ context.Context, sql string, args ...any) (int64, error) {
	c.rec(sql, args)
	return 0, errCaptured
}
func (c *captureDB) Query(_ context.Context, sql string, args ...any) (jobsql.Rows, error) {
	c.rec(sql, args)
	return nil, errCaptured
}
func (c *captureDB) QueryRow(_ context.Context, sql string, args ...any) jobsql.Scanner {
	c.rec(sql, args)
	return failScanner{}
}

type failScanner struct{}

func (failScanner) Scan(...any) error { return errCaptured }

func capture(fn func(jobsql.DB) error) (query, error) {
	c := &captureDB{}
	if err := fn(c); !errors.Is(err, errCaptured) || c.q == nil {
		return query{}, fmt.Errorf("capturing SQL: got %v", err)
	}
	return *c.q, nil
}

// explained is an EXPLAIN (ANALYZE, BUFFERS) result.
type explained struct {
	plan    string
	exec    time.Duration // median Execution Time
	indexes []string      // index names scanned
	seqScan bool
}

var (
	execTimeRe = regexp.MustCompile(`Execution Time: ([0-9.]+) ms`)
	indexRe    = regexp.MustCompile(`(?:Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) "?([^" ]+)"?`)
)

// explain runs EXPLAIN (ANALYZE, BUFFERS) n times, each in a transaction
// rolled back (the claim is an UPDATE), and keeps the last plan.
func explain(ctx context.Context, s *postgres.Store, q query, n int) (*explained, error) {
	ex := &explained{}
	var times []time.Duration
	for range max(n, 1) {
		tx, err := s.Pool().Begin(ctx)
		if err != nil {
			return nil, err
		}
		rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q.sql, q.args...)
		if err != nil {
			tx.Rollback(ctx)
			return nil, fmt.Errorf("explain: %w", err)
		}
		var lines []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				rows.Close()
				tx.Rollback(ctx)
				return nil, err
			}
			lines = append(lines, l)
		}
		rows.Close()
		err = rows.Err()
		tx.Rollback(ctx)
		if err != nil {
			return nil, fmt.Errorf("explain: %w", err)
		}
		ex.plan = strings.Join(lines, "\n")
		m := execTimeRe.FindStringSubmatch(ex.plan)
		if m == nil {
			return nil, errors.New("explain: no Execution Time in plan")
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		times = append(times, time.Duration(v*float64(time.Millisecond)))
	}
	ex.exec = median(times)
	seen := map[string]bool{}
	for _, m := range indexRe.FindAllStringSubmatch(ex.plan, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			ex.indexes = append(ex.indexes, m[1])
		}
	}
	ex.seqScan = strings.Contains(ex.plan, "Seq Scan")
	return ex, nil
}

// indexVerdict is "yes" when the plan reads through indexes and never
// scans a table sequentially.
func (x *explained) indexVerdict() string {
	return verdict(!x.seqScan && len(x.indexes) > 0)
}

// scans names what the plan read: its indexes, and any Seq Scan.
func (x *explained) scans() string {
	s := slices.Clone(x.indexes)
	if x.seqScan {
		s = append(s, "Seq Scan")
	}
	if len(s) == 0 {
		return "no scan"
	}
	return strings.Join(s, ", ")
}

// indent prefixes every line of s with n spaces.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

// statement is q on one line, whitespace collapsed, with its parameters.
func statement(q query) string {
	return strings.Join(strings.Fields(q.sql), " ") + "  " + fmtArgs(q.args)
}

func fmtArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			a = t.Format(time.RFC3339)
		}
		parts[i] = fmt.Sprintf("$%d=%v", i+1, a)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func uniq(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
