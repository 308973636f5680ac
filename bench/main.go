// Command bench measures jobctl end to end and prints a report: bulk
// enqueue, worker burn-down throughput and memory, pickup latency, list
// queries on a 1M-job table, CLI start-up, and monitoring and operator
// actions (retry, archive) on a 1M-job table. It runs the built binary
// (bin/jobctl) as a user would, against Postgres in throwaway schemas and
// SQLite in a temp directory. Figures are printed, never asserted.
//
//	make bench
//	go run ./bench -only list -rows 200000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	bin      string
	only     []string
	jobs     int // figure 2
	burnRuns int // figure 2, per cell (median)
	// enqueueSizes are figure 1's inputs, in lines.
	enqueueSizes []int
	rows         int // figures 4, 6 and 7
	samples      int // figure 3, per backend
	interval     time.Duration
	runs         int // figures 4 and 6, per command; EXPLAIN runs
	cliRuns      int // figure 5, per command
	keep         bool
	// The yardsticks and the burn-down table.
	ceilingRows int
	ceilingTime time.Duration
	pgbench     string
	concurrency []int
}

// part is one figure of the report.
type part struct {
	name  string
	title string
	run   func(ctx context.Context, e *env) error
}

var parts = []part{
	{"enqueue", "1. Bulk enqueue, streamed (enqueue --from): rate beside a plain COPY, and peak RSS, at each of -enqueue-sizes lines", benchEnqueue},
	{"yardsticks", "0. Yardsticks: Postgres raw-SQL ceiling and SQLite naive loop", benchYardsticks},
	{"burn", "2. Burn-down against concurrency, each beside its yardstick, and worker memory", benchBurn},
	{"latency", "3. Pickup latency, enqueue -> start", benchLatency},
	{"list", "4. List queries and claim on a large Postgres table", benchList},
	{"cli", "5. CLI start-up on an embedded SQLite store", benchCLI},
	// monitor reads the seeded large table and ops then changes it, so
	// monitor comes first; list, monitor and ops share one seeding.
	{"monitor", "6. Monitoring on a large Postgres table: health, stats, /metrics", benchMonitor},
	{"web", "8. Web admin (`jobctl serve`) on a large Postgres table: every page and API call, 100 live-stream clients", benchWeb},
	{"ops", "7. Operator actions on a large Postgres table: retry, archive, claims meanwhile", benchOps},
}

func main() {
	var cfg config
	var only string
	flag.StringVar(&cfg.bin, "bin", "bin/jobctl", "jobctl binary to measure (make build)")
	flag.StringVar(&only, "only", "", "comma-separated parts to run: yardsticks,enqueue,burn,latency,list,cli,monitor,ops (default all)")
	flag.IntVar(&cfg.jobs, "jobs", 200000, "jobs for the burn-down figures")
	flag.IntVar(&cfg.burnRuns, "burn-runs", 3, "runs per burn-down cell (the median run, by nearest rank)")
	sizes := flag.String("enqueue-sizes", "100000,1000000,5000000", "comma-separated input sizes, in lines, of the bulk enqueue figure (rate, yardstick, RSS, linearity)")
	flag.IntVar(&cfg.rows, "rows", 1000000, "rows seeded for the list, monitor and ops figures (one shared seeding)")
	flag.IntVar(&cfg.samples, "samples", 300, "latency samples per backend")
	flag.DurationVar(&cfg.interval, "interval", 20*time.Millisecond, "gap between latency enqueues")
	flag.IntVar(&cfg.runs, "runs", 5, "runs per list command (median)")
	flag.IntVar(&cfg.cliRuns, "cli-runs", 20, "runs per CLI start-up command (median)")
	flag.IntVar(&cfg.ceilingRows, "ceiling-rows", 800000, "PENDING rows of the Postgres raw-SQL ceiling's table")
	flag.DurationVar(&cfg.ceilingTime, "ceiling-time", 10*time.Second, "pgbench -T of the Postgres ceiling (whole seconds)")
	flag.StringVar(&cfg.pgbench, "pgbench", "pgbench", "pgbench binary for the Postgres ceiling")
	conc := flag.String("concurrency", "10,50,200,2000", "comma-separated worker --concurrency values of the burn-down table")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the bench schemas and temp files (for debugging)")
	flag.Parse()
	for _, c := range strings.Split(*conc, ",") {
		var v int
		if _, err := fmt.Sscan(strings.TrimSpace(c), &v); err != nil || v <= 0 {
			fmt.Fprintf(os.Stderr, "bench: -concurrency: bad value %q\n", c)
			os.Exit(2)
		}
		cfg.concurrency = append(cfg.concurrency, v)
	}
	for _, c := range strings.Split(*sizes, ",") {
		var v int
		if _, err := fmt.Sscan(strings.TrimSpace(c), &v); err != nil || v <= 0 {
			fmt.Fprintf(os.Stderr, "bench: -enqueue-sizes: bad value %q\n", c)
			os.Exit(2)
		}
		cfg.enqueueSizes = append(cfg.enqueueSizes, v)
	}
	if cfg.burnRuns < 1 {
		fmt.Fprintln(os.Stderr, "bench: -burn-runs: at least 1")
		os.Exit(2)
	}
	if cfg.ceilingTime < time.Second {
		fmt.Fprintln(os.Stderr, "bench: -ceiling-time: at least 1s")
		os.Exit(2)
	}
	for _, p := range strings.Split(only, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !slices.ContainsFunc(parts, func(x part) bool { return x.name == p }) {
			fmt.Fprintf(os.Stderr, "bench: unknown part %q (want yardsticks, enqueue, burn, latency, list, cli, monitor or ops)\n", p)
			os.Exit(2)
		}
		cfg.only = append(cfg.only, p)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, &cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg *config) error {
	e, err := newEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer e.close()

	fmt.Printf("jobctl benchmarks  %s  %s/%s, %d CPUs, %s\n", time.Now().Format("2006-01-02 15:04"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), e.version)
	fmt.Printf("binary %s; Postgres %s (%s)\n", cfg.bin, e.redactedDSN(), e.pgVersion)
	start := time.Now()
	failed := 0
	for _, p := range parts {
		if len(cfg.only) > 0 && !slices.Contains(cfg.only, p.name) {
			continue
		}
		fmt.Printf("\n== %s ==\n", p.title)
		t0 := time.Now()
		if err := p.run(ctx, e); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Printf("  ERROR: %v\n", err)
			failed++
		}
		fmt.Printf("  (part took %s)\n", time.Since(t0).Round(100*time.Millisecond))
	}
	e.printSummary()
	fmt.Printf("\nTotal %s\n", time.Since(start).Round(100*time.Millisecond))
	if failed > 0 {
		return fmt.Errorf("%d part(s) failed to run", failed)
	}
	return nil
}
