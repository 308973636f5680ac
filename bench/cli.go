package main

import (
	"context"
	"path/filepath"
	"time"
)

// benchCLI times short commands as whole processes on a demo-seeded
// embedded store.
func benchCLI(ctx context.Context, e *env) error {
	path := filepath.Join(e.tmp, "demo.db")
	sqEnv := e.sqliteEnv(path)
	seeded, err := e.run(ctx, sqEnv, "demo")
	if err != nil {
		return err
	}
	runs := e.cfg.cliRuns
	note("method: whole-process wall time (fork/exec to exit, stdout to a pipe), median of %d runs", runs)
	note("each after 1 unmeasured warm-up run; store: SQLite seeded by `jobctl demo` (%s)", firstLine(seeded.stderr))
	t := newTable("command", "p50", "min", "max", "target", "meets")
	for _, c := range []struct {
		args   []string
		target time.Duration
	}{
		{[]string{"--help"}, 30 * time.Millisecond},
		{[]string{"list"}, 60 * time.Millisecond},
	} {
		if _, err := e.run(ctx, sqEnv, c.args...); err != nil {
			return err
		}
		var walls []time.Duration
		for range runs {
			p, err := e.run(ctx, sqEnv, c.args...)
			if err != nil {
				return err
			}
			walls = append(walls, p.wall)
		}
		p50 := median(walls)
		t.add("jobctl "+joinArgs(c.args), ms(p50), ms(minOf(walls)), ms(percentile(walls, 100)),
			"< "+ms(c.target), verdict(p50 < c.target))
		e.addFigure(figure{part: "cli", name: "sqlite jobctl " + joinArgs(c.args) + ", p50", value: ms(p50),
			target: "< " + ms(c.target), meets: meets(p50 < c.target)})
	}
	t.print()
	return nil
}

func joinArgs(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}
