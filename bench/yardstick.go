package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"crypto/rand"

	_ "modernc.org/sqlite" // the naive loop's driver, the store's own
)

// yardsticks are the ceilings the worker's figures are divided by, measured
// once per run, in the same run, so a busy machine slows both alike.
type yardsticks struct {
	pgCeiling float64 // jobs/s; 0 until measured
	// pgCeilingCPU is the server's CPU time per completed job during the
	// ceiling's pgbench run; 0 where it cannot be read (serverCPU).
	pgCeilingCPU time.Duration
	// pgCeilingCheckpoints is how many checkpoints the server started
	// during the ceiling's pgbench: one costs full-page images.
	pgCeilingCheckpoints int64
	sqliteNaive          float64 // jobs/s; 0 until measured
}

// ceilingSchema is the raw-SQL ceiling's table: the columns a queue needs
// and three indexes, no application code.
const ceilingSchema = `
CREATE TABLE %[1]s.job (
  id text PRIMARY KEY, type text NOT NULL, status text NOT NULL, priority smallint NOT NULL,
  data jsonb NOT NULL, attempts int NOT NULL DEFAULT 0, scheduled_for timestamptz NOT NULL,
  created_at timestamptz NOT NULL, started_at timestamptz, completed_at timestamptz);
INSERT INTO %[1]s.job (id, type, status, priority, data, scheduled_for, created_at)
  SELECT 'job_' || lpad(g::text, 10, '0'), 'Noop', 'PENDING', 1, jsonb_build_object('n', g), now(), now()
  FROM generate_series(1, %[2]d) g;
CREATE INDEX ON %[1]s.job (priority DESC, scheduled_for, id) WHERE status IN ('PENDING', 'RETRYING');
CREATE INDEX ON %[1]s.job (type, status, created_at);
CREATE INDEX ON %[1]s.job (status, completed_at);`

// The ceiling's two pgbench scripts, run with equal weight.
const (
	ceilingClaim = `WITH c AS (SELECT id FROM %[1]s.job WHERE status IN ('PENDING', 'RETRYING') AND scheduled_for <= now()
  ORDER BY priority DESC, scheduled_for, id LIMIT 200 FOR UPDATE SKIP LOCKED)
UPDATE %[1]s.job j SET status = 'RUNNING', attempts = j.attempts + 1, started_at = now() FROM c WHERE j.id = c.id;
`
	ceilingComplete = `UPDATE %[1]s.job SET status = 'COMPLETED', completed_at = now()
WHERE id IN (SELECT id FROM %[1]s.job WHERE status = 'RUNNING' LIMIT 200 FOR UPDATE SKIP LOCKED);
`
)

// pgCeiling measures the raw-SQL Postgres ceiling: -ceiling-rows PENDING
// rows, VACUUM ANALYZEd, then `pgbench -n -c 4 -j 2 -T secs` running the
// claim and complete scripts with equal weight; completed rows / secs.
func (e *env) pgCeiling(ctx context.Context) (float64, error) {
	if e.yard.pgCeiling > 0 {
		return e.yard.pgCeiling, nil
	}
	b := make([]byte, 4)
	rand.Read(b)
	schema := "bench_ceiling_" + hex.EncodeToString(b)
	e.schemas = append(e.schemas, schema)
	pool := e.admin.Pool()
	if _, err := pool.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		return 0, err
	}
	if _, err := pool.Exec(ctx, fmt.Sprintf(ceilingSchema, schema, e.cfg.ceilingRows)); err != nil {
		return 0, fmt.Errorf("ceiling table: %w", err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE `+schema+`.job`); err != nil {
		return 0, err
	}
	dir := filepath.Join(e.tmp, schema)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	claim, complete := filepath.Join(dir, "claim.sql"), filepath.Join(dir, "complete.sql")
	if err := os.WriteFile(claim, []byte(fmt.Sprintf(ceilingClaim, schema)), 0o644); err != nil {
		return 0, err
	}
	if err := os.WriteFile(complete, []byte(fmt.Sprintf(ceilingComplete, schema)), 0o644); err != nil {
		return 0, err
	}
	secs := int(e.cfg.ceilingTime / time.Second)
	_, ck0, err := walState(ctx, e.admin)
	if err != nil {
		return 0, err
	}
	cpu0 := serverCPU()
	cmd := exec.CommandContext(ctx, e.cfg.pgbench, "-n", "-c", "4", "-j", "2", "-T", fmt.Sprint(secs),
		"-f", claim+"@1", "-f", complete+"@1", e.dsn)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pgbench: %v: %s", err, firstLine(string(out)))
	}
	time.Sleep(300 * time.Millisecond) // pgbench's backends are reaped
	cpu := serverCPU() - cpu0
	_, ck1, err := walState(ctx, e.admin)
	if err != nil {
		return 0, err
	}
	e.yard.pgCeilingCheckpoints = ck1 - ck0
	var done int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.job WHERE status = 'COMPLETED'`).Scan(&done); err != nil {
		return 0, err
	}
	e.yard.pgCeilingCPU = 0
	if done > 0 && cpu > 0 {
		e.yard.pgCeilingCPU = cpu / time.Duration(done)
	}
	if _, err := pool.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err == nil {
		e.schemas = e.schemas[:len(e.schemas)-1]
	}
	e.yard.pgCeiling = float64(done) / float64(secs)
	return e.yard.pgCeiling, nil
}

// sqliteNaive measures the naive SQLite loop on the disk the bench's
// SQLite stores live on: the ceiling's table and indexes, -jobs PENDING
// rows, WAL, one connection, synchronous=FULL; claim 200 with UPDATE …
// RETURNING, complete them with one UPDATE, each its own durable commit,
// until none is left. Jobs / time of the loop.
func (e *env) sqliteNaive(ctx context.Context) (float64, error) {
	if e.yard.sqliteNaive > 0 {
		return e.yard.sqliteNaive, nil
	}
	path := filepath.Join(e.tmp, "naive.db")
	defer removeSQLite(path)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	n := e.cfg.jobs
	setup := []string{
		`CREATE TABLE job (id text PRIMARY KEY, type text NOT NULL, status text NOT NULL, priority integer NOT NULL,
		  data text NOT NULL, attempts integer NOT NULL DEFAULT 0, scheduled_for text NOT NULL,
		  created_at text NOT NULL, started_at text, completed_at text)`,
		fmt.Sprintf(`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < %d)
		  INSERT INTO job (id, type, status, priority, data, scheduled_for, created_at)
		  SELECT printf('job_%%010d', n), 'Noop', 'PENDING', 1, json_object('n', n), strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ'), strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ') FROM g`, n),
		`CREATE INDEX job_claim ON job (priority DESC, scheduled_for, id) WHERE status IN ('PENDING', 'RETRYING')`,
		`CREATE INDEX job_type ON job (type, status, created_at)`,
		`CREATE INDEX job_done ON job (status, completed_at)`,
		`ANALYZE`,
	}
	for _, s := range setup {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return 0, fmt.Errorf("naive loop setup: %w", err)
		}
	}
	const claim = `UPDATE job SET status = 'RUNNING', attempts = attempts + 1, started_at = strftime('%Y-%m-%dT%H:%M:%fZ')
	  WHERE id IN (SELECT id FROM job WHERE status IN ('PENDING', 'RETRYING') AND scheduled_for <= strftime('%Y-%m-%dT%H:%M:%fZ')
	  ORDER BY priority DESC, scheduled_for, id LIMIT 200) RETURNING id, type, data, attempts`
	t0 := time.Now()
	done := 0
	for {
		rows, err := db.QueryContext(ctx, claim)
		if err != nil {
			return 0, err
		}
		var ids []any
		for rows.Next() {
			var id, typ, data string
			var attempts int
			if err := rows.Scan(&id, &typ, &data, &attempts); err != nil {
				rows.Close()
				return 0, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		if len(ids) == 0 {
			break
		}
		in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		res, err := db.ExecContext(ctx, `UPDATE job SET status = 'COMPLETED', completed_at = strftime('%Y-%m-%dT%H:%M:%fZ') WHERE id IN (`+in+`)`, ids...)
		if err != nil {
			return 0, err
		}
		c, _ := res.RowsAffected()
		done += int(c)
	}
	took := time.Since(t0)
	if done != n {
		return 0, fmt.Errorf("naive loop completed %d of %d", done, n)
	}
	e.yard.sqliteNaive = rate(n, took)
	return e.yard.sqliteNaive, nil
}

// benchYardsticks prints the two ceilings alone.
func benchYardsticks(ctx context.Context, e *env) error {
	note("Postgres raw-SQL ceiling: minimal job table, 3 indexes, %s PENDING rows VACUUM ANALYZEd;", count(e.cfg.ceilingRows))
	note("`pgbench -n -c 4 -j 2 -T %d`, claim-200 and complete-200 scripts of equal weight; completed rows / %ds", int(e.cfg.ceilingTime/time.Second), int(e.cfg.ceilingTime/time.Second))
	note("SQLite naive loop: same table and indexes, %s rows, WAL, 1 connection, synchronous=FULL,", count(e.cfg.jobs))
	note("claim 200 with UPDATE … RETURNING, complete them with one UPDATE, until empty; jobs / loop time")
	note("server CPU/job: the local Postgres server's processes' CPU time over the run, per completed job")
	note("checkpoints: how many the server started during the run; each costs the writes after it full-page images")
	t := newTable("yardstick", "jobs/s", "server CPU/job", "checkpoints")
	pg, err := e.pgCeiling(ctx)
	if err != nil {
		return err
	}
	t.add("postgres raw-SQL ceiling", perSec(pg), cpuPerJob(e.yard.pgCeilingCPU, 1), fmt.Sprint(e.yard.pgCeilingCheckpoints))
	sq, err := e.sqliteNaive(ctx)
	if err != nil {
		return err
	}
	t.add("sqlite naive loop", perSec(sq), "-", "-")
	t.print()
	return nil
}

// ratio formats a figure over its yardstick.
func ratio(v, yard float64) string {
	if yard <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v/yard)
}
