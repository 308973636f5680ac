package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

const (
	burnTarget  = 20000     // jobs/s
	riverFigure = 15000     // jobs/s, River's published burn-down figure
	rssTarget   = 100 << 10 // KiB
	burnWorkers = 500
)

// benchBurn enqueues Noop jobs (untimed), then times one draining worker
// from start to exit, and reads its peak RSS from wait4.
func benchBurn(ctx context.Context, e *env) error {
	n := e.cfg.jobs
	file := filepath.Join(e.tmp, "burn.jsonl")
	if err := writeJobs(file, n); err != nil {
		return err
	}
	schema, pgEnv, err := e.newSchema(ctx)
	if err != nil {
		return err
	}
	if _, err := e.run(ctx, pgEnv, "enqueue", "--from", file); err != nil {
		return err
	}
	p, err := e.run(ctx, pgEnv, "worker", "run", "--drain", "--concurrency", fmt.Sprint(burnWorkers),
		"--log-level", "warn", "--config", e.noopCfg)
	if err != nil {
		return err
	}

	s, err := e.openSchema(ctx, schema)
	if err != nil {
		return err
	}
	defer s.Close()
	done, err := s.Count(ctx, &store.Filter{Statuses: []store.Status{store.StatusCompleted}}, false)
	if err != nil {
		return err
	}
	var spanSec float64 // first start to last completion, DB clock
	if err := s.Pool().QueryRow(ctx, `SELECT extract(epoch FROM max("completedAt") - min("startedAt"))::float8 FROM "Job"`).Scan(&spanSec); err != nil {
		return err
	}
	span := time.Duration(spanSec * float64(time.Second))

	note("method: wall time of one `jobctl worker run --drain --concurrency %d --log-level warn`", burnWorkers)
	note("process (start-up, claims, builtin noop, completions, drain check, exit) over %s queued", count(n))
	note("Noop jobs on Postgres; peak RSS = max VmHWM of the worker, /proc polled every 50ms; 1 run")
	t := newTable("figure", "value", "target", "meets")
	r := rate(n, p.wall)
	t.add("jobs completed", count(done)+" / "+count(n), "all", verdict(done == int64(n)))
	t.add("worker wall time", ms(p.wall), "", "")
	t.add("throughput (whole process)", perSec(r), "≥ "+perSec(burnTarget)+" (River ~"+perSec(riverFigure)+")", verdict(r >= burnTarget))
	t.add("throughput (first start..last completion)", perSec(rate(n, span)), "", "")
	t.add("worker CPU user+sys", ms(p.user+p.sys), "", "")
	t.add("worker peak RSS", mib(p.peakKB), "< "+mib(rssTarget), verdict(p.peakKB > 0 && p.peakKB < rssTarget))
	t.print()
	return nil
}
