package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

const (
	// enqueueCopyRatio is the Postgres target: jobctl's rate over a plain
	// COPY of the same rows, measured in the same run.
	enqueueCopyRatio = 0.8
	enqueueSQLite    = 60000 // jobs/s
	// enqueueMaxAbove is the most RSS a bulk enqueue may take above the
	// process baseline, whatever the input's size.
	enqueueMaxAbove = 64 << 10 // KiB
)

// benchEnqueue times `jobctl enqueue --from FILE` on a freshly migrated
// store of each backend at each of -enqueue-sizes lines. On Postgres each
// size is measured beside its yardstick, a plain COPY of the same rows
// into another freshly migrated "Job"; on SQLite beside a plain INSERT of
// them (sqliteInsertYardstick), though its target is absolute. Memory
// must stay flat and the rate must not fall with the size.
func benchEnqueue(ctx context.Context, e *env) error {
	sizes := e.cfg.enqueueSizes
	note("method: wall time of one `jobctl enqueue --from FILE` process (read JSONL, validate, connect, stream by")
	note("COPY (Postgres, then ANALYZE) or 100-row INSERTs (SQLite) in one transaction) into a freshly migrated empty store;")
	note("Noop jobs, ~40 bytes of data each, 1 run per backend and size; peak RSS = max VmHWM, polled every 50ms;")
	note("baseline = peak RSS of `enqueue --from` an empty file on the same store (polled every 2ms, best of 3).")
	note("Postgres yardstick, just before each size: pgx CopyFrom of the same rows, already built (the IDs, types, data,")
	note("priorities, budgets and times jobctl would send, generated as COPY asks for them, no JSON, no validation, no")
	note("ANALYZE), into the same freshly migrated \"Job\" table: same columns, indexes, constraints and triggers.")
	note("SQLite yardstick, just before each size: the same rows, already built, by one prepared 100-row INSERT bound")
	note("again and again in one transaction, on one connection with the store's settings (WAL, synchronous=NORMAL,")
	note("foreign keys), into a freshly migrated store on the same disk: same columns, indexes, constraints and triggers.")
	note("Each run starts after a CHECKPOINT (and, for SQLite, a sync), so none pays for another's writes.")

	empty := filepath.Join(e.tmp, "enqueue-0.jsonl")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		return err
	}
	t := newTable("store", "jobs", "wall", "rate", "yardstick", "ratio", "user+sys CPU", "peak RSS", "above baseline", "target", "meets")
	var lines []string
	var lastSchema string
	type backend struct {
		name string
		env  func() (schema string, childEnv []string, err error)
	}
	backends := []backend{
		{"postgres", func() (string, []string, error) { return e.newSchema(ctx) }},
		{"sqlite", func() (string, []string, error) {
			path := filepath.Join(e.tmp, fmt.Sprintf("enqueue-%d.db", time.Now().UnixNano()))
			sqEnv := e.sqliteEnv(path)
			_, err := e.run(ctx, sqEnv, "migrate")
			return path, sqEnv, err
		}},
	}
	rates := map[string][]float64{}
	for _, n := range sizes {
		file := filepath.Join(e.tmp, fmt.Sprintf("enqueue-%d.jsonl", n))
		if err := writeJobs(file, n); err != nil {
			return err
		}
		for _, b := range backends {
			var yard float64
			var copyWAL walDelta
			if b.name == "postgres" {
				var d time.Duration
				var err error
				copyWAL, err = e.measureWAL(ctx, func() error {
					d, err = e.copyYardstick(ctx, n)
					return err
				})
				if err != nil {
					os.Remove(file)
					return err
				}
				yard = rate(n, d)
				rates["copy"] = append(rates["copy"], yard)
			} else {
				d, err := e.sqliteInsertYardstick(ctx, n)
				if err != nil {
					os.Remove(file)
					return err
				}
				yard = rate(n, d)
				rates["insert"] = append(rates["insert"], yard)
			}
			where, childEnv, err := b.env()
			if err != nil {
				os.Remove(file)
				return err
			}
			base, err := baselineRSS(ctx, e, childEnv, empty)
			if err != nil {
				os.Remove(file)
				return err
			}
			var p *proc
			var wal walDelta
			run := func() error {
				p, err = e.run(ctx, childEnv, "enqueue", "--from", file)
				return err
			}
			if b.name == "postgres" {
				wal, err = e.measureWAL(ctx, run)
			} else if err = e.settle(ctx); err == nil {
				err = run()
			}
			if err != nil {
				os.Remove(file)
				return err
			}
			if want := "Enqueued " + count(int64(n)) + " jobs"; !strings.Contains(p.stderr, want) {
				os.Remove(file)
				return fmt.Errorf("%s: stderr %q, want %q", b.name, firstLine(p.stderr), want)
			}
			r := rate(n, p.wall)
			rates[b.name] = append(rates[b.name], r)
			above := p.peakKB - base
			yardCell, ratioCell := perSec(yard), fmt.Sprintf("%.2f", r/yard)
			target, ok := fmt.Sprintf("≥ %.1f×", enqueueCopyRatio), r/yard >= enqueueCopyRatio
			if b.name == "sqlite" {
				target, ok = "≥ "+perSec(enqueueSQLite), r >= enqueueSQLite
			}
			t.add(b.name, count(int64(n)), ms(p.wall), perSec(r), yardCell, ratioCell, ms(p.user+p.sys), mib(p.peakKB), mib(above),
				target+", ≤ 64 MiB", verdict(ok && above <= enqueueMaxAbove))
			name := fmt.Sprintf("%s enqueue --from, %s lines", b.name, count(int64(n)))
			if b.name == "postgres" {
				e.addFigure(ratioFigure("enqueue", name+" (vs plain COPY)", r, yard, perSec, enqueueCopyRatio))
			} else {
				e.addFigure(figure{part: "enqueue", name: name + " (vs plain INSERT)", value: perSec(r), yardstick: perSec(yard),
					ratio: ratio(r, yard), target: "≥ " + perSec(enqueueSQLite), meets: meets(ok)})
			}
			e.addFigure(figure{part: "enqueue", name: name + ", RSS above baseline", value: mib(above),
				target: "≤ " + mib(enqueueMaxAbove), meets: meets(above <= enqueueMaxAbove)})
			lines = append(lines, fmt.Sprintf("%s, %s jobs: baseline %s; ru_maxrss %s (includes the bench's own RSS)",
				b.name, count(int64(n)), mib(base), mib(p.rusageKB)))
			if b.name == "postgres" {
				lines = append(lines, fmt.Sprintf("postgres, %s jobs: server WAL written, COPY %.0f MiB (%d checkpoints) vs jobctl %.0f MiB (%d checkpoints), whole server",
					count(int64(n)), copyWAL.mib, copyWAL.checkpoints, wal.mib, wal.checkpoints))
			}
			if b.name == "postgres" {
				if lastSchema != "" {
					e.dropSchema(ctx, lastSchema)
				}
				lastSchema = where
			} else if !e.cfg.keep {
				removeSQLite(where)
			}
		}
		os.Remove(file)
	}
	t.print()
	for _, l := range lines {
		note("%s", l)
	}
	for _, name := range []string{"copy", "postgres", "insert", "sqlite"} {
		rs := rates[name]
		if len(rs) < 2 {
			continue
		}
		var parts []string
		for i := 1; i < len(rs); i++ {
			parts = append(parts, fmt.Sprintf("%s: %.2f", count(int64(sizes[i])), rs[i]/rs[0]))
		}
		note("%s: rate at each size / rate at %s (1.00 = linear time): %s", name, count(int64(sizes[0])), strings.Join(parts, ", "))
		if name == "postgres" || name == "sqlite" {
			last := rs[len(rs)-1] / rs[0]
			e.addFigure(figure{part: "enqueue", name: fmt.Sprintf("%s enqueue rate at %s / at %s lines", name, count(int64(sizes[len(sizes)-1])), count(int64(sizes[0]))),
				value: fmt.Sprintf("%.2f", last), target: "≥ 0.8 (linear)", meets: meets(last >= 0.8)})
		}
	}
	if lastSchema == "" {
		return nil
	}
	// Where the Postgres time goes beyond the yardstick's: ANALYZE.
	s, err := e.openSchema(ctx, lastSchema)
	if err != nil {
		return err
	}
	defer s.Close()
	t0 := time.Now()
	if _, err := s.Pool().Exec(ctx, `ANALYZE "Job"`); err != nil {
		return err
	}
	note("postgres: EnqueueFrom ends with ANALYZE \"Job\" (loads ≥ 10,000 jobs); re-run on the loaded table it takes %s", ms(time.Since(t0)))
	return nil
}

// copyYardstick times a plain COPY of n rows, the ones `enqueue --from`
// would send for writeJobs's lines, into a freshly migrated schema, and
// drops the schema after.
func (e *env) copyYardstick(ctx context.Context, n int) (time.Duration, error) {
	schema, _, err := e.newSchema(ctx)
	if err != nil {
		return 0, err
	}
	defer e.dropSchema(ctx, schema)
	s, err := e.openSchema(ctx, schema)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	conn, err := s.Pool().Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	src := &builtRows{n: n, now: time.Now()}
	t0 := time.Now()
	got, err := conn.Conn().CopyFrom(ctx, pgx.Identifier{schema, "Job"}, jobsql.InsertColumnNames, src)
	d := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("yardstick COPY: %w", err)
	}
	if got != int64(n) {
		return 0, fmt.Errorf("yardstick COPY: %d rows, want %d", got, n)
	}
	return d, nil
}

// walDelta is the WAL the whole server wrote, and the checkpoints it
// started, while something ran.
type walDelta struct {
	mib         float64
	checkpoints int64
}

// settle has the Postgres server write out what the runs before left
// dirty (CHECKPOINT) and the kernel flush its dirty pages (sync), so a
// SQLite run does not share the machine with their writes.
func (e *env) settle(ctx context.Context) error {
	if _, err := e.admin.Pool().Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("CHECKPOINT: %w", err)
	}
	return exec.CommandContext(ctx, "sync").Run()
}

// measureWAL runs fn after a CHECKPOINT, so that neither the yardstick
// nor jobctl pays for a checkpoint of the other's writes, and reports the
// server's WAL meanwhile.
func (e *env) measureWAL(ctx context.Context, fn func() error) (walDelta, error) {
	if _, err := e.admin.Pool().Exec(ctx, "CHECKPOINT"); err != nil {
		return walDelta{}, fmt.Errorf("CHECKPOINT: %w", err)
	}
	lsn0, ck0, err := walState(ctx, e.admin)
	if err != nil {
		return walDelta{}, err
	}
	if err := fn(); err != nil {
		return walDelta{}, err
	}
	lsn1, ck1, err := walState(ctx, e.admin)
	if err != nil {
		return walDelta{}, err
	}
	return walDelta{mib: float64(lsn1-lsn0) / (1 << 20), checkpoints: ck1 - ck0}, nil
}

// builtRows yields writeJobs's jobs as the rows jobctl's COPY sends, made
// as COPY asks for them so 5M rows need no memory.
type builtRows struct {
	n, i int
	now  time.Time
	ids  store.IDSeq
	vals []any
}

func (r *builtRows) Next() bool {
	if r.i == r.n {
		return false
	}
	data := `{"n":` + strconv.Itoa(r.i) + `,"userId":"user_` + strconv.Itoa(r.i%5000) + `"}`
	r.vals = []any{r.ids.Next(time.Now()), "Noop", "NORMAL", data, store.DefaultMaxAttempts, r.now, nil, nil, nil, 0}
	r.i++
	return true
}

func (r *builtRows) Values() ([]any, error) { return r.vals, nil }
func (r *builtRows) Err() error             { return nil }

// baselineRSS is the peak RSS of the same command with nothing to insert:
// the binary, the runtime and the store's connection.
func baselineRSS(ctx context.Context, e *env, childEnv []string, empty string) (int64, error) {
	var best int64
	for range 3 {
		p, err := e.runPolled(ctx, 2*time.Millisecond, childEnv, "enqueue", "--from", empty)
		if err != nil {
			return 0, err
		}
		best = max(best, p.peakKB)
	}
	return best, nil
}

// sqliteInsertYardstick times a plain insert of n rows, the ones `enqueue
// --from` would send for writeJobs's lines, into a freshly migrated SQLite
// store on the bench's disk: one connection with the store's own settings
// (WAL, synchronous=NORMAL, foreign keys), one transaction, one prepared
// INSERT of sqliteYardRows rows bound again and again. SQLite's answer to
// COPY: what the engine takes to write these rows, with their indexes and
// triggers, and no JSON, validation or process start.
func (e *env) sqliteInsertYardstick(ctx context.Context, n int) (time.Duration, error) {
	path := filepath.Join(e.tmp, fmt.Sprintf("enqueue-yard-%d.db", time.Now().UnixNano()))
	defer removeSQLite(path)
	if _, err := e.run(ctx, e.sqliteEnv(path), "migrate"); err != nil {
		return 0, err
	}
	if err := e.settle(ctx); err != nil {
		return 0, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	cols := len(jobsql.InsertColumnNames) + 2 // and "createdAt", "updatedAt"
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	insert := func(rows int) string {
		return `INSERT INTO "Job" (` + jobsql.InsertColumns + `, "createdAt", "updatedAt") VALUES ` +
			strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
	}
	src := &builtRows{n: n, now: time.Now()}
	t0 := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	many, err := tx.PrepareContext(ctx, insert(sqliteYardRows))
	if err != nil {
		return 0, fmt.Errorf("yardstick INSERT: %w", err)
	}
	args := make([]any, 0, sqliteYardRows*cols)
	flush := func(rows int) error {
		stmt := many
		if rows != sqliteYardRows {
			stmt, err = tx.PrepareContext(ctx, insert(rows))
			if err != nil {
				return err
			}
			defer stmt.Close()
		}
		_, err := stmt.ExecContext(ctx, args...)
		args = args[:0]
		return err
	}
	due := jobsql.FormatTime(src.now) // every row's "scheduledFor", as the store binds it
	var now string                    // "createdAt" and "updatedAt": one clock read a statement
	rows, inserted := 0, 0
	for src.Next() {
		vals, _ := src.Values()
		if rows == 0 {
			now = jobsql.FormatTime(time.Now())
		}
		vals[5] = due
		args = append(append(args, vals...), now, now)
		if rows++; rows == sqliteYardRows {
			if err := flush(rows); err != nil {
				return 0, fmt.Errorf("yardstick INSERT: %w", err)
			}
			inserted, rows = inserted+rows, 0
		}
	}
	if rows > 0 {
		if err := flush(rows); err != nil {
			return 0, fmt.Errorf("yardstick INSERT: %w", err)
		}
		inserted += rows
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	d := time.Since(t0)
	if inserted != n {
		return 0, fmt.Errorf("yardstick INSERT: %d rows, want %d", inserted, n)
	}
	return d, nil
}

// sqliteYardRows is how many rows one INSERT of the SQLite yardstick
// carries: as many as jobctl's (bulkRows in the store).
const sqliteYardRows = 100
