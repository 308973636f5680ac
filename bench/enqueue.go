package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	enqueueTarget = 50000 // jobs/s
	// enqueueMaxAbove is the most RSS a bulk enqueue may take above the
	// process baseline, whatever the input's size.
	enqueueMaxAbove = 64 << 10 // KiB
)

// benchEnqueue times `jobctl enqueue --from FILE` on a freshly migrated
// store of each backend, at -jobs lines and at -enqueue-max lines, and
// shows that memory stays flat and the rate does not fall with the size.
func benchEnqueue(ctx context.Context, e *env) error {
	sizes := []int{e.cfg.jobs}
	if big := e.cfg.enqueueMax; big > 0 && big != e.cfg.jobs {
		sizes = append(sizes, big)
	}
	files := map[int]string{}
	for _, n := range sizes {
		files[n] = filepath.Join(e.tmp, fmt.Sprintf("enqueue-%d.jsonl", n))
		if err := writeJobs(files[n], n); err != nil {
			return err
		}
	}
	defer func() {
		for _, f := range files {
			os.Remove(f)
		}
	}()
	empty := filepath.Join(e.tmp, "enqueue-0.jsonl")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		return err
	}
	note("method: wall time of one `jobctl enqueue --from FILE` process (read JSONL, connect, stream by")
	note("COPY or one prepared INSERT in one transaction, Postgres ANALYZE), into a freshly migrated empty store;")
	note("Noop jobs, ~40 bytes of data each, 1 run per backend and size; peak RSS = max VmHWM, polled every 50ms;")
	note("baseline = peak RSS of `enqueue --from` an empty file on the same store (polled every 2ms, best of 3)")

	t := newTable("store", "jobs", "wall", "rate", "user+sys CPU", "peak RSS", "above baseline", "target", "meets")
	var lastSchema string
	type backend struct {
		name string
		env  func() ([]string, error)
	}
	backends := []backend{
		{"postgres (COPY)", func() ([]string, error) {
			schema, pgEnv, err := e.newSchema(ctx)
			lastSchema = schema
			return pgEnv, err
		}},
		{"sqlite", func() ([]string, error) {
			path := filepath.Join(e.tmp, fmt.Sprintf("enqueue-%d.db", time.Now().UnixNano()))
			sqEnv := e.sqliteEnv(path)
			_, err := e.run(ctx, sqEnv, "migrate")
			return sqEnv, err
		}},
	}
	var lines []string
	for _, b := range backends {
		var rates []float64
		for _, n := range sizes {
			childEnv, err := b.env()
			if err != nil {
				return err
			}
			base, err := baselineRSS(ctx, e, childEnv, empty)
			if err != nil {
				return err
			}
			p, err := e.run(ctx, childEnv, "enqueue", "--from", files[n])
			if err != nil {
				return err
			}
			if want := "Enqueued " + count(int64(n)) + " jobs"; !strings.Contains(p.stderr, want) {
				return fmt.Errorf("%s: stderr %q, want %q", b.name, firstLine(p.stderr), want)
			}
			r := rate(n, p.wall)
			rates = append(rates, r)
			above := p.peakKB - base
			t.add(b.name, count(int64(n)), ms(p.wall), perSec(r), ms(p.user+p.sys), mib(p.peakKB), mib(above),
				"≥ "+perSec(enqueueTarget)+", ≤ 64 MiB", verdict(r >= enqueueTarget && above <= enqueueMaxAbove))
			lines = append(lines, fmt.Sprintf("%s, %s jobs: baseline %s; ru_maxrss %s (includes the bench's own RSS)",
				b.name, count(int64(n)), mib(base), mib(p.rusageKB)))
		}
		if len(rates) == 2 {
			lines = append(lines, fmt.Sprintf("%s: rate at %s / rate at %s = %.2f (1.00 = linear time)",
				b.name, count(int64(sizes[1])), count(int64(sizes[0])), rates[1]/rates[0]))
		}
	}
	t.print()
	for _, l := range lines {
		note("%s", l)
	}
	// Where the Postgres time goes: the process spends most of it waiting
	// on the server (COPY into an indexed table, then ANALYZE).
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
