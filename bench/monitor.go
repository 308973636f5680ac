package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

const (
	healthTarget = 150 * time.Millisecond
	statsTarget  = time.Second
	scrapeTarget = 150 * time.Millisecond
)

// benchMonitor times what monitoring runs against a large table: `jobctl
// health` and `jobctl stats` as processes, and /metrics scrapes of `jobctl
// serve`, uncached and cached, then EXPLAINs the SQL behind them.
func benchMonitor(ctx context.Context, e *env) error {
	bt, err := e.bigTable(ctx)
	if err != nil {
		return err
	}
	runs := e.cfg.runs
	note("method: whole-process wall time (fork/exec to exit, stdout to a pipe), median of %d runs after", runs)
	note("1 unmeasured warm-up; /metrics: HTTP GET + body read of `jobctl serve --addr 127.0.0.1:0`,")
	note("median of %d scrapes after 1 warm-up; \"read\" = its jobctl_store_read_duration_seconds", runs)
	t := newTable("figure", "p50", "min", "max", "target", "meets", "notes")

	for _, c := range []struct {
		args   []string
		target time.Duration
	}{
		{[]string{"health"}, healthTarget},
		{[]string{"stats"}, statsTarget},
	} {
		var walls []time.Duration
		code := 0
		for i := range runs + 1 {
			// health exits 1 or 2 when the queue is degraded or unhealthy
			// (the seeded table has no live worker): a result, not an error.
			wall, c2, err := e.runCode(ctx, bt.env, 2, c.args...)
			if err != nil {
				return err
			}
			if i > 0 {
				walls = append(walls, wall)
			}
			code = c2
		}
		p50 := median(walls)
		t.add("jobctl "+joinArgs(c.args), ms(p50), ms(minOf(walls)), ms(percentile(walls, 100)),
			"< "+ms(c.target), verdict(p50 < c.target), fmt.Sprintf("exit %d", code))
		e.addFigure(figure{part: "monitor", name: "postgres jobctl " + joinArgs(c.args) + ", p50", value: ms(p50),
			target: "< " + ms(c.target), meets: meets(p50 < c.target)})
	}

	for _, c := range []struct {
		label, cache string
		cached       bool
	}{
		{"/metrics, --metrics-cache 0 (uncached)", "0", false},
		{"/metrics, default cache (5s): cached", "5s", true},
	} {
		srv, err := e.startServer(ctx, bt.env, "serve", "--addr", "127.0.0.1:0", "--metrics-cache", c.cache)
		if err != nil {
			return err
		}
		first, firstRead, err := scrape(ctx, srv.url+"/metrics")
		var walls []time.Duration
		var reads []float64
		for i := 0; err == nil && i < runs; i++ {
			var d time.Duration
			var r float64
			if d, r, err = scrape(ctx, srv.url+"/metrics"); err == nil {
				walls = append(walls, d)
				reads = append(reads, r)
			}
		}
		if serr := srv.stop(); serr != nil && err == nil {
			err = fmt.Errorf("stopping serve: %v: %s", serr, firstLine(srv.stderr()))
		}
		if err != nil {
			return err
		}
		p50 := median(walls)
		notes := fmt.Sprintf("read %s; first scrape %s (read %s)", secs(reads[len(reads)-1]), ms(first), secs(firstRead))
		target, meets := "< "+ms(scrapeTarget), verdict(p50 < scrapeTarget)
		if c.cached {
			notes = fmt.Sprintf("first scrape (fills the cache) %s, read %s", ms(first), secs(firstRead))
			target, meets = "", ""
		}
		t.add(c.label, ms(p50), ms(minOf(walls)), ms(percentile(walls, 100)), target, meets, notes)
		e.addFigure(figure{part: "monitor", name: "postgres " + c.label + ", p50", value: ms(p50), target: target, meets: meets})
	}
	t.print()

	// The SQL: every statement a health check and `jobctl stats` (its
	// default --since 24h) send, recorded from jobsql with the Postgres
	// dialect in a rolled-back transaction, then EXPLAINed. The metrics
	// collector sends the health statements plus Stats with Since = now:
	// the same GROUP BY and counts, empty duration and error ranges.
	s := bt.s
	snapQs, err := record(ctx, s, nil, func(b *jobsql.Base) error { _, err := b.Snapshot(ctx); return err })
	if err != nil {
		return err
	}
	statsQs, err := record(ctx, s, nil, func(b *jobsql.Base) error {
		_, err := b.Stats(ctx, &store.StatsParams{Since: time.Now().Add(-24 * time.Hour), TopErrors: 5})
		return err
	})
	if err != nil {
		return err
	}
	fmt.Println()
	note("SQL (jobsql.Snapshot / jobsql.Stats, Postgres dialect), EXPLAIN (ANALYZE, BUFFERS) Execution Time")
	note("median of %d, each in a rolled-back transaction; \"in app\" = the statement's time as jobsql ran it:", runs)
	st := newTable("statement", "SQL p50", "in app", "index scan", "scans")
	var plans []string
	for _, g := range []struct {
		src string
		qs  []*recorded
	}{{"health", snapQs}, {"stats", statsQs}} {
		for i, q := range g.qs {
			if !strings.Contains(q.sql, "FROM") {
				continue
			}
			ex, err := explain(ctx, s, q.query, runs)
			if err != nil {
				return err
			}
			label := fmt.Sprintf("%s %d: %s", g.src, i+1, stmtLabel(q.sql, 60))
			st.add(label, ms(ex.exec), ms(q.took), ex.indexVerdict(), ex.scans())
			if (g.src == "health" && i == 0) || (g.src == "stats" && strings.Contains(q.sql, "GROUP BY type, status")) {
				plans = append(plans, planText(g.src+" counting query", q.query, ex))
			}
		}
	}
	st.print()
	fmt.Println("\n  Plans of the counting queries (last EXPLAIN run):")
	for _, p := range plans {
		fmt.Print(p)
	}
	return nil
}

func secs(v float64) string { return ms(time.Duration(v * float64(time.Second))) }

var readSecondsRe = regexp.MustCompile(`(?m)^jobctl_store_read_duration_seconds ([0-9.eE+-]+)$`)

// scrape GETs url on a fresh connection and reads the body; it returns the
// time taken and the reading's jobctl_store_read_duration_seconds.
func scrape(ctx context.Context, url string) (time.Duration, float64, error) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	m := readSecondsRe.FindSubmatch(body)
	if m == nil {
		return 0, 0, fmt.Errorf("GET %s: no jobctl_store_read_duration_seconds", url)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return d, v, nil
}

// runCode runs jobctl to completion and times it; exit codes up to okMax
// are results, not errors.
func (e *env) runCode(ctx context.Context, childEnv []string, okMax int, args ...string) (time.Duration, int, error) {
	cmd := e.command(ctx, childEnv, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code, err = ee.ExitCode(), nil
	}
	if err != nil || code > okMax {
		return 0, code, fmt.Errorf("jobctl %s: exit %d %v: %s", strings.Join(args, " "), code, err, firstLine(stderr.String()))
	}
	return wall, code, nil
}

// server is a running `jobctl serve`, its URL read from its start line.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan error
	mu   sync.Mutex
	log  strings.Builder
}

var servingRe = regexp.MustCompile(`serving on (http://\S+)`)

func (e *env) startServer(ctx context.Context, childEnv []string, args ...string) (*server, error) {
	srv := &server{cmd: e.command(ctx, childEnv, args...), done: make(chan error, 1)}
	pipe, err := srv.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := srv.cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			srv.mu.Lock()
			srv.log.WriteString(line + "\n")
			srv.mu.Unlock()
			if m := servingRe.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		srv.done <- srv.cmd.Wait() // only once the pipe is read to its end
	}()
	select {
	case srv.url = <-addr:
		return srv, nil
	case err := <-srv.done:
		return nil, fmt.Errorf("jobctl %s exited: %v: %s", strings.Join(args, " "), err, firstLine(srv.stderr()))
	case <-time.After(15 * time.Second):
		srv.stop()
		return nil, fmt.Errorf("jobctl %s: no \"serving on\" line within 15s", strings.Join(args, " "))
	case <-ctx.Done():
		srv.stop()
		return nil, ctx.Err()
	}
}

func (s *server) stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

func (s *server) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		return errors.New("did not stop within 30s of SIGTERM")
	}
}
