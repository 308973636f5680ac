package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/sqlite"
)

const (
	rssTarget = 60 << 10 // KiB
	// The targets, as ratios to the yardstick of the same run.
	pgTarget200 = 0.8
	pgTarget50  = 0.6
	sqTarget    = 0.6
)

// benchBurn enqueues Noop jobs (untimed), then times one draining worker
// from start to exit at each -concurrency on each backend, and reads its
// peak RSS, beside the yardstick of its backend measured in the same run.
func benchBurn(ctx context.Context, e *env) error {
	n := e.cfg.jobs
	file := filepath.Join(e.tmp, "burn.jsonl")
	if err := writeJobs(file, n); err != nil {
		return err
	}
	defer os.Remove(file)

	note("method: wall time of one `jobctl worker run --drain --concurrency N --log-level warn` process")
	note("(start-up, claims, builtin noop, completions, drain check, exit) over %s queued Noop jobs,", count(n))
	note("a fresh store each run; peak RSS = max VmHWM of the worker, /proc polled every 50ms; 1 run each.")
	note("yardstick: measured again just before each backend's rows, so both see the same load:")
	note("Postgres raw-SQL ceiling (pgbench, %s rows, %s), SQLite naive loop (%s rows)",
		count(e.cfg.ceilingRows), e.cfg.ceilingTime, count(n))
	note("CPU/job: the worker's user+sys time, and (Postgres) the server's processes' over the run, per job;")
	note("the ceiling's server CPU/job is in brackets: on 2 cores the two together bound the rate")
	note("checkpoints: how many the server started during the run (the ceiling's in brackets): each costs")
	note("the writes after it full-page images, so a run with one pays more for its WAL than a run without")
	t := newTable("store", "concurrency", "completed", "jobs/s", "yardstick", "ratio", "target", "peak RSS", "worker CPU/job", "server CPU/job", "checkpoints")
	var pgYard, sqYard float64
	for _, backend := range []string{"postgres", "sqlite"} {
		var err error
		switch backend {
		case "postgres":
			e.yard.pgCeiling = 0
			if pgYard, err = e.pgCeiling(ctx); err != nil {
				return fmt.Errorf("postgres ceiling: %w", err)
			}
		case "sqlite":
			e.yard.sqliteNaive = 0
			if sqYard, err = e.sqliteNaive(ctx); err != nil {
				return fmt.Errorf("sqlite naive loop: %w", err)
			}
		}
		for _, c := range e.cfg.concurrency {
			var childEnv []string
			var count func() (int64, error)
			switch backend {
			case "postgres":
				schema, pgEnv, err := e.newSchema(ctx)
				if err != nil {
					return err
				}
				childEnv = pgEnv
				count = func() (int64, error) {
					s, err := e.openSchema(ctx, schema)
					if err != nil {
						return 0, err
					}
					defer s.Close()
					return s.Count(ctx, &store.Filter{Statuses: []store.Status{store.StatusCompleted}}, false)
				}
			case "sqlite":
				// A file of its own per cell: -concurrency may name a value twice.
				path := filepath.Join(e.tmp, fmt.Sprintf("burn-%d-%d.db", c, time.Now().UnixNano()))
				childEnv = e.sqliteEnv(path)
				defer func() {
					for _, s := range []string{"", "-wal", "-shm"} {
						os.Remove(path + s)
					}
				}()
				if _, err := e.run(ctx, childEnv, "migrate"); err != nil {
					return err
				}
				count = func() (int64, error) {
					s, err := sqlite.Open(ctx, path)
					if err != nil {
						return 0, err
					}
					defer s.Close()
					return s.Count(ctx, &store.Filter{Statuses: []store.Status{store.StatusCompleted}}, false)
				}
			}
			if _, err := e.run(ctx, childEnv, "enqueue", "--from", file); err != nil {
				return err
			}
			_, ck0, err := walState(ctx, e.admin)
			if err != nil {
				return err
			}
			cpu0 := serverCPU()
			p, err := e.run(ctx, childEnv, "worker", "run", "--drain", "--concurrency", fmt.Sprint(c),
				"--log-level", "warn", "--config", e.noopCfg)
			if err != nil {
				return err
			}
			server, checkpoints := "-", "-"
			if backend == "postgres" {
				time.Sleep(300 * time.Millisecond) // the worker's backends are reaped
				server = cpuPerJob(serverCPU()-cpu0, int64(n))
				if ceil := e.yard.pgCeilingCPU; ceil > 0 && server != "-" {
					server += " [" + cpuPerJob(ceil, 1) + "]"
				}
				_, ck1, err := walState(ctx, e.admin)
				if err != nil {
					return err
				}
				checkpoints = fmt.Sprintf("%d [%d]", ck1-ck0, e.yard.pgCeilingCheckpoints)
			}
			done, err := count()
			if err != nil {
				return err
			}
			r := rate(n, p.wall)
			yard, min := pgYard, 0.0
			switch {
			case backend == "sqlite":
				yard, min = sqYard, sqTarget
			case c == 200:
				min = pgTarget200
			case c == 50:
				min = pgTarget50
			}
			target := ""
			if min > 0 {
				target = fmt.Sprintf("≥ %.1f", min)
			}
			t.add(backend, fmt.Sprint(c), countStr(done, n), perSec(r), perSec(yard), ratio(r, yard), target, mib(p.peakKB),
				cpuPerJob(p.user+p.sys, int64(n)), server, checkpoints)
			yardName := "ceiling"
			if backend == "sqlite" {
				yardName = "naive loop"
			}
			e.addFigure(ratioFigure("burn", fmt.Sprintf("%s worker, --concurrency %d (vs %s)", backend, c, yardName), r, yard, perSec, min))
			e.addFigure(figure{part: "burn", name: fmt.Sprintf("%s worker peak RSS, --concurrency %d", backend, c), value: mib(p.peakKB),
				target: "< " + mib(rssTarget), meets: meets(p.peakKB < rssTarget)})
		}
	}
	t.print()
	note("peak RSS target < %s", mib(rssTarget))
	return nil
}

func countStr(done int64, n int) string {
	if done == int64(n) {
		return count(done)
	}
	return count(done) + " of " + count(n) + " (!)"
}
