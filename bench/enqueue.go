package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

const enqueueTarget = 50000 // jobs/s

// benchEnqueue times `jobctl enqueue --from FILE` on a freshly migrated
// store of each backend.
func benchEnqueue(ctx context.Context, e *env) error {
	n := e.cfg.jobs
	file := filepath.Join(e.tmp, "enqueue.jsonl")
	if err := writeJobs(file, n); err != nil {
		return err
	}
	note("method: wall time of one `jobctl enqueue --from FILE` process (parse JSONL, connect, COPY or")
	note("batched INSERT in one transaction, Postgres ANALYZE), into a freshly migrated empty store;")
	note("%s Noop jobs, ~40 bytes of data each, 1 run per backend; peak RSS = max VmHWM, polled every 50ms", count(n))

	t := newTable("store", "jobs", "wall", "rate", "user+sys CPU", "peak RSS", "target", "meets")
	schema, pgEnv, err := e.newSchema(ctx)
	if err != nil {
		return err
	}
	sqlitePath := filepath.Join(e.tmp, "enqueue.db")
	sqEnv := e.sqliteEnv(sqlitePath)
	if _, err := e.run(ctx, sqEnv, "migrate"); err != nil {
		return err
	}
	for _, b := range []struct {
		name string
		env  []string
	}{{"postgres (COPY)", pgEnv}, {"sqlite", sqEnv}} {
		p, err := e.run(ctx, b.env, "enqueue", "--from", file)
		if err != nil {
			return err
		}
		if want := "Enqueued " + count(n) + " jobs"; !strings.Contains(p.stdout, want) {
			return fmt.Errorf("%s: output %q, want %q", b.name, firstLine(p.stdout), want)
		}
		r := rate(n, p.wall)
		t.add(b.name, count(n), ms(p.wall), perSec(r), ms(p.user+p.sys), mib(p.peakKB),
			"≥ "+perSec(enqueueTarget), verdict(r >= enqueueTarget))
	}
	t.print()
	// Where the Postgres time goes: the process spends most of it waiting
	// on the server (COPY into an indexed table, then ANALYZE).
	s, err := e.openSchema(ctx, schema)
	if err != nil {
		return err
	}
	defer s.Close()
	t0 := time.Now()
	if _, err := s.Pool().Exec(ctx, `ANALYZE "Job"`); err != nil {
		return err
	}
	note("postgres: EnqueueMany ends with ANALYZE \"Job\" (loads ≥ 10,000 jobs); re-run on the loaded table it takes %s", ms(time.Since(t0)))
	return nil
}
