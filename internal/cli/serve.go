package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/auth"
	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/metrics"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/web"
	"github.com/jobctl/jobctl/internal/web/ui"
)

// Paths `jobctl serve` answers on.
const (
	healthPath  = web.HealthPath // the guide's endpoint
	metricsPath = web.MetricsPath
)

// healthTimeout bounds one health check, as the endpoint does.
const healthTimeout = web.HealthTimeout

// ServeOptions are `jobctl serve`'s inputs.
type ServeOptions struct {
	Addr         string
	MetricsAddr  string
	MetricsCache time.Duration
	StatsCache   time.Duration
	Check        checkFlags
	TLS          web.TLS
	Proxy        web.Proxy
	SessionIdle  time.Duration
	SessionMax   time.Duration

	// proxyRoles and trusted are the flags behind Proxy.Roles and Proxy.Trusted.
	proxyRoles []string
	trusted    []string
}

// NewCmdServe builds `jobctl serve`.
func NewCmdServe(f *cmdutil.Factory, runF func(context.Context, *ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the web admin, the REST API, health and metrics over HTTP",
		Long: `Serve the guide's web admin and REST API until SIGTERM or Ctrl-C:

  /admin/jobs                    the pages (log in with an account from
                                 jobctl user add)
  /api/admin/...                 the REST API (Authorization: Bearer, tokens
                                 from jobctl token create); its OpenAPI
                                 document is /api/openapi.json
  GET ` + healthPath + `   the guide's health JSON, as jobctl health -o json
                                 prints it; 200 when healthy or degraded, 503
                                 when unhealthy or the store is unreachable
  GET ` + metricsPath + `                  Prometheus metrics, all named jobctl_…

Health and metrics need no login; --metrics-addr moves them to a listener of
their own. Sessions live in the store, so several replicas behind a load
balancer share them. Behind an authenticating proxy such as oauth2-proxy,
--auth-proxy-header names the header that carries the user; it is believed
only from --trusted-proxy addresses. serve refuses to listen beyond loopback
while the store has no account and no proxy is configured.

Thresholds come from the config file's health section (else the guide's
defaults); the --max-* flags override them. Metrics are read from the store at
most once per --metrics-cache, however many scrapers ask.`,
		Example: `  jobctl serve --addr 127.0.0.1:8080
  curl -s localhost:8080` + healthPath + `
  jobctl serve --addr :8443 --tls-cert cert.pem --tls-key key.pem --metrics-addr :9100
  jobctl serve --addr :8080 --auth-proxy-header X-Forwarded-User \
      --auth-proxy-groups-header X-Forwarded-Groups --auth-proxy-role ops=manager \
      --trusted-proxy 10.0.0.0/8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(); err != nil {
				return err
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
	fl.StringVar(&opts.MetricsAddr, "metrics-addr", "", "serve /metrics and the health endpoint on this host:port instead, without the admin")
	cmdutil.DurationVar(fl, &opts.MetricsCache, "metrics-cache", 5*time.Second, "answer scrapes from a reading of the store this recent; 0 reads it on every scrape")
	cmdutil.DurationVar(fl, &opts.StatsCache, "stats-cache", 5*time.Second, "answer GET /api/admin/stats from a reading this recent, refreshed in the background; 0 reads the store every time")
	fl.StringVar(&opts.TLS.CertFile, "tls-cert", "", "serve HTTPS with this PEM certificate (with --tls-key)")
	fl.StringVar(&opts.TLS.KeyFile, "tls-key", "", "the PEM key of --tls-cert")
	fl.StringVar(&opts.Proxy.UserHeader, "auth-proxy-header", "", "take the user from this header set by an authenticating proxy (e.g. X-Forwarded-User); needs --trusted-proxy")
	fl.StringVar(&opts.Proxy.GroupsHeader, "auth-proxy-groups-header", "", "the proxy's header of comma-separated groups (e.g. X-Forwarded-Groups), for --auth-proxy-role")
	fl.StringArrayVar(&opts.proxyRoles, "auth-proxy-role", nil, "GROUP=ROLE: a proxy user without an account in GROUP gets ROLE (admin, manager or user); repeatable")
	fl.StringArrayVar(&opts.trusted, "trusted-proxy", nil, "CIDR or address of a proxy whose --auth-proxy-header to believe; repeatable")
	cmdutil.DurationVar(fl, &opts.SessionIdle, "session-idle", 30*time.Minute, "a login session ends after this long without a request")
	cmdutil.DurationVar(fl, &opts.SessionMax, "session-max", 12*time.Hour, "a login session ends this long after the login, however busy")
	opts.Check.register(cmd)
	return cmd
}

// validate checks the flags that need no store, and turns the proxy's
// into web.Proxy.
func (o *ServeOptions) validate() error {
	switch {
	case o.MetricsCache < 0:
		return cmdutil.FlagErrorf("--metrics-cache must not be negative, got %s", o.MetricsCache)
	case o.StatsCache < 0:
		return cmdutil.FlagErrorf("--stats-cache must not be negative, got %s", o.StatsCache)
	case (o.TLS.CertFile == "") != (o.TLS.KeyFile == ""):
		return cmdutil.FlagErrorf("--tls-cert and --tls-key go together: give both or neither")
	case o.SessionIdle <= 0 || o.SessionMax <= 0:
		return cmdutil.FlagErrorf("--session-idle and --session-max must be positive")
	case o.SessionIdle > o.SessionMax:
		return cmdutil.FlagErrorf("--session-idle (%s) must not be longer than --session-max (%s)", o.SessionIdle, o.SessionMax)
	case o.MetricsAddr != "" && o.MetricsAddr == o.Addr && !strings.HasSuffix(o.Addr, ":0"): // :0 picks two free ports
		return cmdutil.FlagErrorf("--metrics-addr must differ from --addr")
	case o.Proxy.UserHeader == "" && (o.Proxy.GroupsHeader != "" || len(o.proxyRoles) > 0 || len(o.trusted) > 0):
		return cmdutil.FlagErrorf("--auth-proxy-groups-header, --auth-proxy-role and --trusted-proxy need --auth-proxy-header")
	case o.Proxy.UserHeader != "" && len(o.trusted) == 0:
		return cmdutil.FlagErrorf("--auth-proxy-header needs --trusted-proxy: anyone else could send the header")
	case len(o.proxyRoles) > 0 && o.Proxy.GroupsHeader == "":
		return cmdutil.FlagErrorf("--auth-proxy-role needs --auth-proxy-groups-header")
	}
	o.Proxy.Roles = map[string]store.Role{}
	for _, gr := range o.proxyRoles {
		group, role, ok := strings.Cut(gr, "=")
		r := store.Role(strings.ToLower(strings.TrimSpace(role)))
		if !ok || strings.TrimSpace(group) == "" || (r != store.RoleAdmin && r != store.RoleManager && r != store.RoleUser) {
			return cmdutil.FlagErrorf("--auth-proxy-role: want GROUP=admin, GROUP=manager or GROUP=user, got %q", gr)
		}
		o.Proxy.Roles[strings.TrimSpace(group)] = r
	}
	o.Proxy.Trusted = nil
	for _, c := range o.trusted {
		p, err := parseCIDR(c)
		if err != nil {
			return cmdutil.FlagErrorf("--trusted-proxy: %q is not a CIDR such as 10.0.0.0/8 or an address", c)
		}
		o.Proxy.Trusted = append(o.Proxy.Trusted, p)
	}
	return nil
}

// parseCIDR reads a CIDR, or a single address as its own /32 or /128.
func parseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func serveRun(ctx context.Context, f *cmdutil.Factory, opts *ServeOptions) error {
	in, err := opts.Check.inputs(f)
	if err != nil {
		return err
	}
	if opts.TLS.CertFile != "" {
		// Read now, so a bad file is an error before "serving on", not after.
		if _, err := tls.LoadX509KeyPair(opts.TLS.CertFile, opts.TLS.KeyFile); err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
	}
	// Not f.Store: a store whose schema is not current should be reported
	// by the health endpoint, not keep the server from starting.
	s, err := f.OpenStore(ctx)
	if err != nil {
		return err
	}
	logger, err := newLogger(f.IO.ErrOut, "text", "info")
	if err != nil {
		return err
	}
	mon := newMonitor(s, in, opts.MetricsCache, func(err error) {
		if ctx.Err() == nil { // not the store closing under a reading at exit
			f.IO.Warnf("jobctl: metrics: %v\n", err)
		}
	})
	mon.Logger, mon.Version = logger, Version
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	defer ln.Close()
	if err := checkExposure(ctx, s, ln.Addr(), opts); err != nil {
		return err
	}
	h, err := adminHandler(s, in, mon, opts)
	if err != nil {
		return err
	}
	var metricsLn net.Listener
	if opts.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", opts.MetricsAddr); err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		defer metricsLn.Close()
	}
	scheme := "http"
	if opts.TLS.CertFile != "" {
		scheme = "https"
	}
	f.IO.Warnf("serving on %s://%s\n", scheme, ln.Addr())
	if metricsLn == nil {
		return web.Serve(ctx, ln, h, opts.TLS)
	}
	f.IO.Warnf("serving metrics on http://%s\n", metricsLn.Addr())
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	metricsDone := make(chan error, 1)
	go func() { metricsDone <- web.Serve(ctx, metricsLn, web.NewMonitor(mon), web.TLS{}) }()
	err = web.Serve(ctx, ln, h, opts.TLS)
	stop()
	return errors.Join(err, <-metricsDone)
}

// adminHandler is the handler of --addr: the pages and the API over the
// operations layer, with health and metrics unless --metrics-addr takes
// them.
func adminHandler(s store.Store, in health.Inputs, mon web.Monitor, opts *ServeOptions) (http.Handler, error) {
	svc := ops.New(s, ops.Options{Health: in})
	cfg := web.Config{
		Ops:             svc,
		Auth:            auth.New(s, auth.Options{IdleTimeout: opts.SessionIdle, AbsoluteTimeout: opts.SessionMax}),
		Accounts:        s,
		Proxy:           opts.Proxy,
		Health:          mon.Health,
		Metrics:         mon.Metrics,
		SeparateMonitor: opts.MetricsAddr != "",
		StatsCache:      opts.StatsCache,
		Logger:          mon.Logger,
		Version:         Version,
	}
	pages, err := ui.New(svc, ui.Options{Principal: web.PrincipalFrom, CSRF: web.CSRFToken, Logger: mon.Logger})
	if err != nil {
		return nil, err
	}
	cfg.UI = pages
	return web.New(cfg)
}

// checkExposure refuses to serve the admin beyond loopback when nobody
// could log in to it: no account and no proxy to vouch for users would
// mean an admin open to anyone who finds the port, as River UI ships.
func checkExposure(ctx context.Context, s store.Store, addr net.Addr, opts *ServeOptions) error {
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return nil
	}
	if opts.Proxy.UserHeader != "" {
		return nil
	}
	n, err := s.CountAccounts(ctx)
	if err != nil {
		return fmt.Errorf("counting accounts: %w", err)
	}
	if n == 0 {
		return cmdutil.FlagErrorf("refusing to serve the admin on --addr %s with no account: add one (jobctl user add NAME --role admin), set --auth-proxy-header, or listen on 127.0.0.1", opts.Addr)
	}
	return nil
}

// newMonitor reads health and metrics from one store: the endpoints that
// answer without login, on --addr or --metrics-addr.
func newMonitor(s store.Store, in health.Inputs, cache time.Duration, onError func(error)) web.Monitor {
	reg := metrics.NewRegistry()
	collector := metrics.NewStoreCollector(s, metrics.StoreOptions{Health: in, CacheTTL: cache, OnError: onError})
	reg.MustRegister(collector)
	if cache > 0 {
		collector.Prime()
	}
	return web.Monitor{
		Health:  func(ctx context.Context) *health.Report { return health.Check(ctx, s, in) },
		Metrics: metrics.Handler(reg),
	}
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
	go func() { b.done <- web.Serve(ctx, ln, h, web.TLS{}) }()
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
