package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/metrics"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/supervise"
	"github.com/jobctl/jobctl/internal/worker"
)

// exampleConfig is the file worker run points at when there is no config.
const exampleConfig = "jobctl.example.yaml"

// NewCmdWorker builds `jobctl worker`.
func NewCmdWorker(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker, or list the registered ones",
		Example: `  jobctl worker run --config jobctl.yaml --concurrency 20
  jobctl worker list`,
	}
	cmd.AddCommand(newCmdWorkerRun(f), newCmdWorkerList(f))
	return parentCommand(cmd)
}

// WorkerRunOptions are `jobctl worker run`'s inputs.
type WorkerRunOptions struct {
	Worker    worker.Options
	LogFormat string
	LogLevel  string
	// MetricsAddr, when set, serves this worker's Prometheus metrics.
	MetricsAddr string
}

func newCmdWorkerRun(f *cmdutil.Factory) *cobra.Command {
	opts := &WorkerRunOptions{}
	var types []string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Claim and run jobs of the types the config file has handlers for",
		Long: `Run jobs from the store with the handlers in the config file (--config,
$JOBCTL_CONFIG, or ./jobctl.yaml; see jobctl.example.yaml). Types without a
handler stay PENDING for a worker that has one.

Any number of workers, on any number of hosts, may share one Postgres store:
claims use FOR UPDATE SKIP LOCKED, so no job runs twice at once, and a
worker silent past --lease has its jobs rescued by the others.

SIGTERM or Ctrl-C stops claiming and waits up to --shutdown-timeout for
running jobs, then hands the rest back as PENDING without counting the
attempt. A second signal stops at once; those jobs are rescued later.

An exec handler whose program is missing or not executable is refused at
start (exit 2): a relative path is taken from the worker's working
directory, a bare name from its PATH. A handler that cannot be started
later (its program removed) hands its job back as PENDING, the attempt
uncounted, and the worker stops claiming that type; once it claims none,
it exits 1. Failed attempts are logged at WARN, DEAD jobs at ERROR.

If the store becomes unreachable, the worker keeps the outcomes of jobs that
finish and retries until they are written. Stopped meanwhile, it tries until
--shutdown-timeout, then exits 1 naming the jobs that will be rescued after
the lease.`,
		Example: `  jobctl worker run --concurrency 20
  jobctl worker run --types CalendarSync,EmailSending --log-format json
  jobctl worker run --drain          # work until the queue is empty, then exit 0
  jobctl worker run --metrics-addr :9090   # Prometheus metrics at http://HOST:9090/metrics`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, t := range types {
				if t = strings.TrimSpace(t); t != "" {
					opts.Worker.Types = append(opts.Worker.Types, t)
				}
			}
			logger, err := newLogger(f.IO.ErrOut, opts.LogFormat, opts.LogLevel)
			if err != nil {
				return err
			}
			opts.Worker.Logger = logger
			cfg, err := f.Config()
			if errors.Is(err, config.ErrNoConfig) {
				return cmdutil.FlagErrorf("worker run needs a config file with a handler per job type: pass --config, set JOBCTL_CONFIG, or copy %s to ./jobctl.yaml", exampleConfig)
			}
			if err != nil {
				return err
			}
			return workerRun(cmd.Context(), f, cfg, opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Worker.Concurrency, "concurrency", 10, "jobs run at once")
	fl.IntVar(&opts.Worker.Prefetch, "prefetch", 0, "claim up to this many jobs ahead of free slots, held under this worker's lease (default: as many as finished in the last second, up to the concurrency but at least 2,000; -1: none)")
	fl.StringSliceVar(&types, "types", nil, "claim only these job types (default: every type in the config)")
	fl.BoolVar(&opts.Worker.Drain, "drain", false, "exit 0 once no job of these types is due, running or waiting to retry (delayed jobs are left)")
	cmdutil.DurationVar(fl, &opts.Worker.PollInterval, "poll-interval", time.Second, "look for due jobs this often (Postgres also wakes on LISTEN/NOTIFY)")
	cmdutil.DurationVar(fl, &opts.Worker.Lease, "lease", 60*time.Second, "rescue jobs of workers silent this long")
	cmdutil.DurationVar(fl, &opts.Worker.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, wait this long for running jobs and unwritten outcomes")
	cmdutil.DurationVar(fl, &opts.Worker.Heartbeat, "heartbeat", 2*time.Second, "refresh the lease and check for cancels this often")
	fl.StringVar(&opts.LogFormat, "log-format", "text", "log format: text or json")
	fl.StringVar(&opts.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fl.StringVar(&opts.MetricsAddr, "metrics-addr", "", "serve this worker's Prometheus metrics at http://ADDR/metrics (e.g. :9090) until it stops")
	return cmd
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, cmdutil.FlagErrorf("--log-level: %q is not debug, info, warn or error", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		ho.ReplaceAttr = textDuration
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		ho.ReplaceAttr = jsonDuration
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, cmdutil.FlagErrorf("--log-format: %q is not text or json", format)
}

// jsonDuration logs a duration attribute k as k_s, in seconds to the
// millisecond: slog would write raw nanoseconds under a key that names no
// unit. The worker's code logs plain time.Durations and need not know.
func jsonDuration(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindDuration {
		return a
	}
	return slog.Float64(a.Key+"_s", math.Round(a.Value.Duration().Seconds()*1000)/1000)
}

// textDuration rounds a duration attribute for people: 1.235s, 12ms, not
// 1.234567891s.
func textDuration(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindDuration {
		return a
	}
	d := a.Value.Duration()
	if d >= time.Millisecond || d <= -time.Millisecond {
		d = d.Round(time.Millisecond)
	} else {
		d = d.Round(time.Microsecond)
	}
	return slog.Duration(a.Key, d)
}

func workerRun(ctx context.Context, f *cmdutil.Factory, cfg *config.Config, opts *WorkerRunOptions) error {
	// Before the store is opened (and, for SQLite, created): a handler
	// that cannot run is a bad deploy, refused before it fails a job.
	if _, err := worker.CheckHandlers(cfg, opts.Worker.Types); err != nil {
		var he *worker.HandlerError
		if errors.As(err, &he) {
			return &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: fmt.Errorf("worker: %w", err)}
		}
		return err
	}
	s, err := f.StoreCreate(ctx)
	if err != nil {
		return err
	}
	exe, err := supervise.Executable()
	if err != nil {
		return err
	}
	opts.Worker.Env = worker.Env{DSN: f.DSN().URL, Schema: f.Schema(), Supervisor: exe}
	opts.Worker.Store = f.DSN().Redacted()
	if f.Schema() != "" && f.DSN().IsPostgres() { // a schema means nothing to SQLite
		opts.Worker.Store += " (schema " + f.Schema() + ")"
	}
	// The root context ends at the first signal (graceful stop); a second
	// one closes hard.
	hard := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		<-sigs
		<-sigs
		close(hard)
	}()
	opts.Worker.Hard = hard
	var (
		reg *prometheus.Registry
		wm  *metrics.WorkerMetrics
	)
	if opts.MetricsAddr != "" {
		reg = metrics.NewRegistry()
		wm = metrics.NewWorkerMetrics(reg)
		opts.Worker.Observer = wm
	}
	w, err := worker.New(s, cfg, opts.Worker)
	if err != nil {
		return err
	}
	if wm != nil {
		wm.Declare(w.Types())
		ln, err := net.Listen("tcp", opts.MetricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		opts.Worker.Logger.Info("serving metrics", "url", "http://"+ln.Addr().String()+metricsPath)
		// The server outlives the signal that starts a graceful stop, so
		// the jobs still finishing are scraped; it stops with the worker.
		srv := startServer(ln, metrics.Handler(reg))
		defer func() {
			if err := srv.Stop(); err != nil {
				opts.Worker.Logger.Warn("metrics server", "err", err)
			}
		}()
	}
	if err := w.Run(ctx); err != nil {
		return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: err}
	}
	return nil
}

// workerListFit fits `worker list` to the terminal: the worker's ID and
// last ping say whether it is alive; the list of types and the host give
// way first, and figures and times are whole or absent.
var workerListFit = render.Fit{
	Keep:  []string{"ID", "LAST PING"},
	Cut:   []string{"TYPES", "HOST", "CONCURRENCY", "STARTED", "RUNNING", "PID", "DONE"},
	Hide:  []string{"PID", "STARTED", "CONCURRENCY", "TYPES", "HOST", "DONE", "RUNNING"},
	Min:   map[string]int{"TYPES": 8, "HOST": 8},
	Whole: []string{"PID", "CONCURRENCY", "STARTED", "RUNNING", "DONE"},
}

func newCmdWorkerList(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List registered workers with their last ping and jobs in hand",
		Example: `  jobctl worker list
  jobctl worker list -o json`,
		Args:        cobra.NoArgs,
		Annotations: cmdutil.FormatsAnnotation(cmdutil.DataFormats...),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := f.Format()
			if err != nil {
				return err
			}
			s, err := f.Store(cmd.Context())
			if err != nil {
				return err
			}
			ws, err := s.Workers(cmd.Context())
			if err != nil {
				return err
			}
			if format != render.FormatTable && format != render.FormatWide {
				return f.IO.Encode(format, render.WorkersJSON(ws))
			}
			if len(ws) == 0 {
				f.IO.Warnf("No workers registered\n") // a note, not a row: stderr
				return nil
			}
			rows := make([][]string, len(ws))
			for i, w := range ws {
				rows[i] = []string{render.Inert(w.ID), render.Inert(w.Host), strconv.Itoa(w.PID), render.Inert(strings.Join(w.Types, ",")),
					strconv.Itoa(w.Concurrency), f.IO.TimeCell(w.StartedAt), f.IO.TimeCell(w.LastPing),
					fmt.Sprint(w.Running), render.Count(w.JobsDone)}
			}
			f.IO.FitTable([]string{"ID", "HOST", "PID", "TYPES", "CONCURRENCY", "STARTED", "LAST PING", "RUNNING", "DONE"}, rows, workerListFit)
			return nil
		},
	}
}
