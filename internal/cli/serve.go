package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/metrics"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// Paths `jobctl serve` answers on.
const (
	healthPath  = "/api/admin/jobs/health" // the guide's endpoint
	metricsPath = "/metrics"
)

// shutdownGrace is how long a stopping server waits for requests in flight.
const shutdownGrace = 10 * time.Second

// healthTimeout bounds one health check made for an HTTP request.
const healthTimeout = 10 * time.Second

// ServeOptions are `jobctl serve`'s inputs.
type ServeOptions struct {
	Addr         string
	MetricsCache time.Duration
	Check        checkFlags
}

// NewCmdServe builds `jobctl serve`.
func NewCmdServe(f *cmdutil.Factory, runF func(context.Context, *ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the health endpoint and Prometheus metrics over HTTP",
		Long: `Serve the store's health and metrics over HTTP until SIGTERM or Ctrl-C:

  GET ` + healthPath + `   the guide's health JSON, as jobctl health -o json
                                 prints it; 200 when healthy or degraded, 503
                                 when unhealthy or the store is unreachable
  GET ` + metricsPath + `                  Prometheus metrics, all named jobctl_…

Thresholds come from the config file's health section (else the guide's
defaults); the --max-* flags override them. Metrics are read from the store at
most once per --metrics-cache, however many scrapers ask.`,
		Example: `  jobctl serve --addr 127.0.0.1:8080
  curl -s localhost:8080` + healthPath + `
  jobctl serve --addr :9100 --metrics-cache 0 --max-pending 1000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.MetricsCache < 0 {
				return cmdutil.FlagErrorf("--metrics-cache must not be negative, got %s", opts.MetricsCache)
			}
			if err := opts.Check.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return serveRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "listen on this host:port (port 0 picks a free one; the start line says which)")
	cmdutil.DurationVar(fl, &opts.MetricsCache, "metrics-cache", 5*time.Second, "answer scrapes from a reading of the store this recent; 0 reads it on every scrape")
	opts.Check.register(cmd)
	return cmd
}

func serveRun(ctx context.Context, f *cmdutil.Factory, opts *ServeOptions) error {
	in, err := opts.Check.inputs(f)
	if err != nil {
		return err
	}
	// Not f.Store: a store whose schema is not current should be reported
	// by the health endpoint, not keep the server from starting.
	s, err := f.OpenStore(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	h := newServeHandler(s, in, opts.MetricsCache, func(err error) {
		if ctx.Err() == nil { // not the store closing under a reading at exit
			f.IO.Warnf("jobctl: metrics: %v\n", err)
		}
	})
	f.IO.Warnf("serving on http://%s\n", ln.Addr())
	return serveHTTP(ctx, ln, h)
}

// newServeHandler routes serve's endpoints over one store.
func newServeHandler(s store.Store, in health.Inputs, cache time.Duration, onError func(error)) http.Handler {
	reg := metrics.NewRegistry()
	collector := metrics.NewStoreCollector(s, metrics.StoreOptions{Health: in, CacheTTL: cache, OnError: onError})
	reg.MustRegister(collector)
	if cache > 0 {
		collector.Prime()
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+metricsPath, metrics.Handler(reg))
	mux.HandleFunc("GET "+healthPath, func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		report := health.Check(ctx, s, in)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		code := http.StatusOK
		if report.Status == health.Unhealthy {
			code = http.StatusServiceUnavailable
		}
		w.WriteHeader(code)
		_ = (&render.IO{Out: w}).Health(render.FormatJSON, report) // as `health -o json`
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "jobctl %s\n\n%s\n%s\n", Version, healthPath, metricsPath)
	})
	return mux
}

// serveHTTP serves h on ln until ctx ends, then shuts down gracefully:
// requests in flight get shutdownGrace to finish.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// backgroundServer is an HTTP server that lives beside other work, such as
// a worker's metrics endpoint.
type backgroundServer struct {
	stop context.CancelFunc
	done chan error
}

// startServer serves h on ln until Stop.
func startServer(ln net.Listener, h http.Handler) *backgroundServer {
	ctx, stop := context.WithCancel(context.Background())
	b := &backgroundServer{stop: stop, done: make(chan error, 1)}
	go func() { b.done <- serveHTTP(ctx, ln, h) }()
	return b
}

// Stop shuts the server down gracefully and returns why it ended.
func (b *backgroundServer) Stop() error {
	b.stop()
	return <-b.done
}

// checkFlags are the health check's inputs that flags can override: the
// thresholds of the config file's health section, and the lease after
// which a RUNNING job counts as stuck.
type checkFlags struct {
	thresholds config.Health
	lease      time.Duration
	cmd        *cobra.Command
}

func (cf *checkFlags) register(cmd *cobra.Command) {
	cf.cmd = cmd
	def := config.DefaultHealth()
	fl := cmd.Flags()
	fl.Int64Var(&cf.thresholds.MaxPending, "max-pending", def.MaxPending, "warn above this many PENDING jobs (overrides the config file)")
	fl.Int64Var(&cf.thresholds.MaxFailed, "max-failed", def.MaxFailed, "warn above this many FAILED jobs (overrides the config file)")
	cmdutil.DurationVar(fl, &cf.thresholds.MaxWorkerSilence, "max-worker-silence", def.MaxWorkerSilence, "critical when no worker has pinged for this long (overrides the config file)")
	cmdutil.DurationVar(fl, &cf.thresholds.MaxOldestPending, "max-oldest-pending", def.MaxOldestPending, "warn when a due PENDING job has waited this long (overrides the config file)")
	cmdutil.DurationVar(fl, &cf.lease, "lease", 60*time.Second, "a RUNNING job is stuck after its type's timeout plus this")
}

// validate rejects values the config file's parser would reject too.
func (cf *checkFlags) validate() error {
	switch th := cf.thresholds; {
	case th.MaxPending < 0:
		return cmdutil.FlagErrorf("--max-pending must not be negative, got %d", th.MaxPending)
	case th.MaxFailed < 0:
		return cmdutil.FlagErrorf("--max-failed must not be negative, got %d", th.MaxFailed)
	case th.MaxWorkerSilence <= 0:
		return cmdutil.FlagErrorf("--max-worker-silence must be positive, got %s", th.MaxWorkerSilence)
	case th.MaxOldestPending <= 0:
		return cmdutil.FlagErrorf("--max-oldest-pending must be positive, got %s", th.MaxOldestPending)
	case cf.lease <= 0:
		return cmdutil.FlagErrorf("--lease must be positive, got %s", cf.lease)
	}
	return nil
}

// inputs reads the config file, when there is one, for the thresholds and
// each type's timeout, and lays the flags that were given over it.
func (cf *checkFlags) inputs(f *cmdutil.Factory) (health.Inputs, error) {
	cfg, err := f.Config()
	if err != nil && !errors.Is(err, config.ErrNoConfig) {
		return health.Inputs{}, err
	}
	th := config.DefaultHealth()
	if cfg != nil {
		th = cfg.Health
	}
	fl := cf.cmd.Flags()
	if fl.Changed("max-pending") {
		th.MaxPending = cf.thresholds.MaxPending
	}
	if fl.Changed("max-failed") {
		th.MaxFailed = cf.thresholds.MaxFailed
	}
	if fl.Changed("max-worker-silence") {
		th.MaxWorkerSilence = cf.thresholds.MaxWorkerSilence
	}
	if fl.Changed("max-oldest-pending") {
		th.MaxOldestPending = cf.thresholds.MaxOldestPending
	}
	return health.Inputs{
		Thresholds: th,
		Lease:      cf.lease,
		Timeout:    func(jobType string) time.Duration { return cfg.Policy(jobType).Timeout },
	}, nil
}
