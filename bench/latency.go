package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/sqlite"
)

const (
	latencyP50Target = 5 * time.Millisecond
	latencyP99Target = 50 * time.Millisecond
	latencyWarmup    = 10 // jobs run before sampling, not counted
	sqlitePoll       = 100 * time.Millisecond
)

// benchLatency enqueues jobs one at a time through the store package while
// an idle worker process waits, and reads each job's startedAt - createdAt
// back afterwards.
func benchLatency(ctx context.Context, e *env) error {
	n := e.cfg.samples
	note("method: an idle `jobctl worker run --concurrency 10 --log-level warn` process; the bench")
	note("enqueues %d Noop jobs one at a time (store.Enqueue, one transaction each) every %s after", n, e.cfg.interval)
	note("%d warm-up jobs, then reads startedAt - createdAt of each back (both the database's clock).", latencyWarmup)
	note("Postgres wakes on LISTEN/NOTIFY (poll fallback 1s); SQLite has no NOTIFY, so its worker")
	note("polls with --poll-interval %s and latency ≈ U(0, poll interval): its target does not apply.", sqlitePoll)

	t := newTable("store", "wake-up", "samples", "p50", "p95", "p99", "max", "enqueue p50", "target p50/p99", "meets")

	schema, pgEnv, err := e.newSchema(ctx)
	if err != nil {
		return err
	}
	pg, err := e.openSchema(ctx, schema)
	if err != nil {
		return err
	}
	defer pg.Close()
	lat, enq, err := measureLatency(ctx, e, pg, pgEnv)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	t.add("postgres", "LISTEN/NOTIFY", fmt.Sprint(len(lat)), ms(p50), ms(percentile(lat, 95)), ms(p99), ms(percentile(lat, 100)),
		ms(median(enq)), "≤ 5 ms / ≤ 50 ms", verdict(p50 <= latencyP50Target && p99 <= latencyP99Target))
	e.addFigure(figure{part: "latency", name: "postgres pickup, enqueue -> start, p50", value: ms(p50),
		target: "≤ " + ms(latencyP50Target), meets: meets(p50 <= latencyP50Target)})
	e.addFigure(figure{part: "latency", name: "postgres pickup, enqueue -> start, p99", value: ms(p99),
		target: "≤ " + ms(latencyP99Target), meets: meets(p99 <= latencyP99Target)})

	path := filepath.Join(e.tmp, "latency.db")
	sqEnv := e.sqliteEnv(path)
	if _, err := e.run(ctx, sqEnv, "migrate"); err != nil {
		return err
	}
	sq, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer sq.Close()
	lat, enq, err = measureLatency(ctx, e, sq, sqEnv, "--poll-interval", sqlitePoll.String())
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	t.add("sqlite", "poll "+sqlitePoll.String(), fmt.Sprint(len(lat)), ms(percentile(lat, 50)), ms(percentile(lat, 95)),
		ms(percentile(lat, 99)), ms(percentile(lat, 100)), ms(median(enq)), "n/a (polling)", "-")
	t.print()
	note("SQLite times are stored to the millisecond, so its figures are ±1 ms.")
	return nil
}

// measureLatency runs an idle worker on s's store and returns the pickup
// latency of each sampled job and the bench's own enqueue call times.
func measureLatency(ctx context.Context, e *env, s store.Store, childEnv []string, extra ...string) (lat, enq []time.Duration, err error) {
	args := append([]string{"worker", "run", "--concurrency", "10", "--log-level", "warn", "--config", e.noopCfg}, extra...)
	w, err := e.start(ctx, childEnv, args...)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if serr := w.stop(); serr != nil && err == nil {
			err = fmt.Errorf("stopping worker: %v: %s", serr, firstLine(w.stderr.String()))
		}
	}()
	if err := waitWorker(ctx, s, w); err != nil {
		return nil, nil, err
	}
	enqueue := func() (string, time.Duration, error) {
		t0 := time.Now()
		res, err := s.Enqueue(ctx, &store.EnqueueParams{Type: "Noop", Data: []byte(`{"bench":"latency"}`)})
		if err != nil {
			return "", 0, err
		}
		return res.Job.ID, time.Since(t0), nil
	}
	for range latencyWarmup {
		if _, _, err := enqueue(); err != nil {
			return nil, nil, err
		}
		time.Sleep(e.cfg.interval)
	}
	sampled := map[string]bool{}
	tick := time.NewTicker(e.cfg.interval)
	defer tick.Stop()
	for range e.cfg.samples {
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-tick.C:
		}
		id, d, err := enqueue()
		if err != nil {
			return nil, nil, err
		}
		sampled[id] = true
		enq = append(enq, d)
	}
	total := int64(latencyWarmup + e.cfg.samples)
	if err := waitCompleted(ctx, s, total); err != nil {
		return nil, nil, err
	}
	jobs, err := s.List(ctx, &store.ListParams{Limit: int(total) + 10})
	if err != nil {
		return nil, nil, err
	}
	for _, j := range jobs {
		if sampled[j.ID] && j.StartedAt != nil {
			lat = append(lat, j.StartedAt.Sub(j.CreatedAt))
		}
	}
	if len(lat) != e.cfg.samples {
		return nil, nil, fmt.Errorf("read back %d started samples, want %d", len(lat), e.cfg.samples)
	}
	return lat, enq, nil
}

func waitCompleted(ctx context.Context, s store.Store, want int64) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := s.Count(ctx, &store.Filter{Statuses: []store.Status{store.StatusCompleted}}, false)
		if err != nil {
			return err
		}
		if n >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d jobs completed after 30s", n, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
