package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/sqlite"
)

const (
	// rssTarget is the "< 60 MB" read as decimal megabytes, the
	// stricter reading: 60,000,000 bytes, 57.2 MiB.
	rssTarget = 60_000_000 / 1024 // KiB
	// The targets, as ratios to the yardstick of the same run.
	pgTarget200 = 0.8
	pgTarget50  = 0.6
	sqTarget    = 0.6
)

// benchBurn enqueues Noop jobs (untimed), then times one draining worker
// from start to exit at each -concurrency on each backend, -burn-runs
// times, and reads its peak RSS, beside the yardstick of its backend
// measured in the same run just before and just after each cell.
func benchBurn(ctx context.Context, e *env) error {
	n := e.cfg.jobs
	file := filepath.Join(e.tmp, "burn.jsonl")
	if err := writeJobs(file, n); err != nil {
		return err
	}
	defer os.Remove(file)

	runs := e.cfg.burnRuns
	note("method: wall time of one `jobctl worker run --drain --concurrency N --log-level warn` process")
	note("(start-up, claims, builtin noop, completions, drain check, exit) over %s queued Noop jobs,", count(n))
	note("a fresh store each run; peak RSS = max VmHWM of the worker, /proc polled every 50ms.")
	note("%d runs per cell: jobs/s is their median (min–max beside it), peak RSS the highest, CPU/job the", runs)
	note("median; a single run on this shared host is ±20%%.")
	note("yardstick: measured before a backend's first cell and after each of its cells, so each cell has one")
	note("just before it and one just after: the ratio is to their mean. Postgres raw-SQL ceiling (pgbench,")
	note("%s rows, %s), SQLite naive loop (%s rows)", count(e.cfg.ceilingRows), e.cfg.ceilingTime, count(n))
	note("CPU/job: the worker's user+sys time, and (Postgres) the server's processes' over the run, per job;")
	note("the ceiling's server CPU/job is in brackets: on 2 cores the two together bound the rate")
	note("checkpoints: how many the server started during the cell's runs; each costs the writes after it")
	note("full-page images, so a run with one pays more for its WAL than a run without")
	ceilings := ""
	t := newTable("store", "concurrency", "completed", "jobs/s", "min–max", "yardstick", "ratio", "target", "peak RSS", "worker CPU/job", "server CPU/job", "checkpoints")
	for _, backend := range []string{"postgres", "sqlite"} {
		// yards[i] and yards[i+1] bracket cell i.
		first, err := e.burnYardstick(ctx, backend)
		if err != nil {
			return err
		}
		yards := []float64{first}
		ceilingCPU, ceilingCheckpoints := e.yard.pgCeilingCPU, int64(0)
		if backend == "postgres" {
			ceilingCheckpoints = e.yard.pgCeilingCheckpoints
		}
		cells := make([][]*burnRun, len(e.cfg.concurrency))
		for i, c := range e.cfg.concurrency {
			for range runs {
				r, err := e.burnOnce(ctx, backend, c, file)
				if err != nil {
					return err
				}
				cells[i] = append(cells[i], r)
			}
			y, err := e.burnYardstick(ctx, backend)
			if err != nil {
				return err
			}
			yards = append(yards, y)
			if backend == "postgres" {
				ceilingCheckpoints += e.yard.pgCeilingCheckpoints
			}
		}
		if backend == "postgres" {
			ceilings = fmt.Sprintf("the server started %d checkpoints during the %d Postgres ceilings", ceilingCheckpoints, len(yards))
		}
		yardName := "ceiling"
		if backend == "sqlite" {
			yardName = "naive loop"
		}
		for i, c := range e.cfg.concurrency {
			rs, before, after := cells[i], yards[i], yards[i+1]
			yard := (before + after) / 2
			var (
				walls, worker       []time.Duration
				server              []time.Duration
				peakKB, checkpoints int64
			)
			done := int64(n) // the fewest any run completed
			for _, r := range rs {
				walls = append(walls, r.p.wall)
				worker = append(worker, r.p.user+r.p.sys)
				server = append(server, r.server)
				peakKB = max(peakKB, r.p.peakKB)
				done = min(done, r.done)
				checkpoints += r.checkpoints
			}
			// The median run's rate; the slowest run's is the lowest.
			med := rate(n, median(walls))
			lo, hi := rate(n, slices.Max(walls)), rate(n, slices.Min(walls))
			serverCol, checkpointCol := "-", "-"
			if backend == "postgres" {
				serverCol = cpuPerJob(median(server), int64(n))
				if ceilingCPU > 0 {
					serverCol += " [" + cpuPerJob(ceilingCPU, 1) + "]"
				}
				checkpointCol = fmt.Sprint(checkpoints)
			}
			target := 0.0
			switch {
			case backend == "sqlite":
				target = sqTarget
			case c == 200:
				target = pgTarget200
			case c == 50:
				target = pgTarget50
			}
			targetCol := ""
			if target > 0 {
				targetCol = fmt.Sprintf("≥ %.1f", target)
			}
			t.add(backend, fmt.Sprint(c), countStr(done, n), perSec(med), perSec(lo)+"–"+perSec(hi),
				perSec(before)+", "+perSec(after), ratio(med, yard), targetCol, mib(peakKB),
				cpuPerJob(median(worker), int64(n)), serverCol, checkpointCol)
			e.addFigure(ratioFigure("burn", fmt.Sprintf("%s worker, --concurrency %d (vs %s)", backend, c, yardName), med, yard, perSec, target))
			e.addFigure(figure{part: "burn", name: fmt.Sprintf("%s worker peak RSS, --concurrency %d", backend, c), value: mib(peakKB),
				target: "< " + mib(rssTarget) + " (60 MB)", meets: meets(peakKB < rssTarget)})
		}
	}
	t.print()
	note("yardstick: the one before the cell, the one after; the ratio is the median jobs/s over their mean")
	note("%s", ceilings)
	note("peak RSS target < %s (60 MB)", mib(rssTarget))
	return nil
}

// burnYardstick measures backend's yardstick afresh: the Postgres raw-SQL
// ceiling or the SQLite naive loop.
func (e *env) burnYardstick(ctx context.Context, backend string) (float64, error) {
	if backend == "postgres" {
		e.yard.pgCeiling = 0
		r, err := e.pgCeiling(ctx)
		if err != nil {
			return 0, fmt.Errorf("postgres ceiling: %w", err)
		}
		return r, nil
	}
	e.yard.sqliteNaive = 0
	r, err := e.sqliteNaive(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite naive loop: %w", err)
	}
	return r, nil
}

// burnRun is one timed worker over a fresh store.
type burnRun struct {
	p           *proc
	done        int64         // jobs COMPLETED after it
	server      time.Duration // Postgres: the server's CPU time over the run
	checkpoints int64         // Postgres: checkpoints started during the run
}

// burnOnce enqueues the jobs of file into a fresh store of backend
// (untimed), then times one draining worker at concurrency c.
func (e *env) burnOnce(ctx context.Context, backend string, c int, file string) (*burnRun, error) {
	var (
		childEnv []string
		open     func() (store.Store, error)
	)
	switch backend {
	case "postgres":
		schema, pgEnv, err := e.newSchema(ctx)
		if err != nil {
			return nil, err
		}
		defer e.dropSchema(ctx, schema)
		childEnv = pgEnv
		open = func() (store.Store, error) { return e.openSchema(ctx, schema) }
	case "sqlite":
		// A file of its own per run: -concurrency may name a value twice.
		path := filepath.Join(e.tmp, fmt.Sprintf("burn-%d-%d.db", c, time.Now().UnixNano()))
		childEnv = e.sqliteEnv(path)
		defer removeSQLite(path)
		if _, err := e.run(ctx, childEnv, "migrate"); err != nil {
			return nil, err
		}
		open = func() (store.Store, error) { return sqlite.Open(ctx, path) }
	}
	if _, err := e.run(ctx, childEnv, "enqueue", "--from", file); err != nil {
		return nil, err
	}
	_, ck0, err := walState(ctx, e.admin)
	if err != nil {
		return nil, err
	}
	cpu0 := serverCPU()
	p, err := e.run(ctx, childEnv, "worker", "run", "--drain", "--concurrency", fmt.Sprint(c),
		"--log-level", "warn", "--config", e.noopCfg)
	if err != nil {
		return nil, err
	}
	r := &burnRun{p: p}
	if backend == "postgres" {
		time.Sleep(300 * time.Millisecond) // the worker's backends are reaped
		r.server = serverCPU() - cpu0
		_, ck1, err := walState(ctx, e.admin)
		if err != nil {
			return nil, err
		}
		r.checkpoints = ck1 - ck0
	}
	s, err := open()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r.done, err = s.Count(ctx, &store.Filter{Statuses: []store.Status{store.StatusCompleted}}, false)
	return r, err
}

func countStr(done int64, n int) string {
	if done == int64(n) {
		return count(done)
	}
	return count(done) + " of " + count(n) + " (!)"
}
