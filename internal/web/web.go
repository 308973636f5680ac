// Package web is `jobctl serve`'s HTTP side: the REST API under
// /api/admin, its OpenAPI document, logins, sessions, API tokens and
// single sign-on behind a proxy, CSRF checks, security headers and request
// logs. Every handler is a thin adapter over the operations layer
// (internal/ops): query strings and JSON bodies in, a result out. The
// pages themselves live in internal/web/ui, mounted here behind the same
// authentication.
package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// Paths served outside the REST API's authentication.
const (
	HealthPath  = "/api/admin/jobs/health" // the guide's endpoint
	MetricsPath = "/metrics"
	OpenAPIPath = "/api/openapi.json"
	LoginPath   = "/login"
	LogoutPath  = "/logout"
	// HomePath is where a login without a next page lands.
	HomePath = "/admin/jobs"
)

// Authenticator is the part of *auth.Service the server uses: logins,
// sessions behind the cookie, and API tokens.
type Authenticator interface {
	Login(ctx context.Context, name, password, addr string) (cookie string, sess *store.Session, acct *store.Account, err error)
	Session(ctx context.Context, cookie string) (*store.Session, *store.Account, error)
	Logout(ctx context.Context, cookie string) error
	Token(ctx context.Context, bearer string) (*store.APIToken, *store.Account, error)
}

// AccountLookup finds the account of a user the proxy vouches for.
type AccountLookup interface {
	GetAccount(ctx context.Context, name string) (*store.Account, error)
}

// Registrar is the pages' package (internal/web/ui): it adds its routes to
// the server's mux, which wraps them in authentication and CSRF checks.
type Registrar interface {
	Register(mux *http.ServeMux)
}

// Proxy is single sign-on behind an authenticating proxy such as
// oauth2-proxy: the proxy names the user in UserHeader (and its groups in
// GroupsHeader). The headers count only on connections from Trusted
// addresses; anyone else could send them too.
type Proxy struct {
	UserHeader   string
	GroupsHeader string
	// Roles maps a group to a role, for users without an account; the
	// highest role of their groups wins.
	Roles   map[string]store.Role
	Trusted []netip.Prefix
}

// Config is what the server serves.
type Config struct {
	Ops ops.Service
	// Auth checks logins, sessions and tokens; nil means none of them
	// (single sign-on only).
	Auth Authenticator
	// Accounts gives a proxy user its account's role; nil, or a user
	// without an account, takes the role from Proxy.Roles.
	Accounts AccountLookup
	Proxy    Proxy
	// Health and Metrics are served without login; SeparateMonitor leaves
	// them to another listener (serve --metrics-addr, see NewMonitor).
	Health          func(context.Context) *health.Report
	Metrics         http.Handler
	SeparateMonitor bool
	// UI adds the pages; nil serves the API alone.
	UI Registrar
	// StatsCache is how old an answer of GET /api/admin/stats may be
	// (serve --stats-cache); 0 reads the store for every request.
	StatsCache time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
	Version    string
}

// New builds the server's handler.
func New(cfg Config) (http.Handler, error) {
	if cfg.Ops == nil {
		return nil, errors.New("web: Config.Ops is required")
	}
	if !cfg.SeparateMonitor && (cfg.Health == nil || cfg.Metrics == nil) {
		return nil, errors.New("web: Config.Health and Config.Metrics are required unless SeparateMonitor")
	}
	if cfg.Proxy.UserHeader != "" && len(cfg.Proxy.Trusted) == 0 {
		return nil, errors.New("web: a proxy header needs at least one trusted proxy address")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &server{cfg: cfg, statsCache: newStatsCache(cfg.StatsCache, cfg.Now)}
	mux := http.NewServeMux()
	for _, rt := range apiRoutes {
		mux.Handle(rt.Method+" "+rt.Path, s.api(rt))
	}
	mux.HandleFunc("GET "+OpenAPIPath, serveOpenAPI)
	mux.HandleFunc("POST "+LoginPath, s.login)
	mux.HandleFunc("POST "+LogoutPath, s.logout)
	if cfg.SeparateMonitor {
		mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, &ops.Error{Code: ops.CodeNotFound, Message: "the health endpoint is served on the metrics address"})
		})
	} else {
		mux.Handle("GET "+HealthPath, healthHandler(cfg.Health))
		mux.Handle("GET "+MetricsPath, cfg.Metrics)
	}
	if cfg.UI != nil {
		cfg.UI.Register(mux)
	}
	mux.HandleFunc("GET /{$}", s.home)
	return s.logRequests(secureHeaders(s.authenticate(mux))), nil
}

// Monitor is what NewMonitor serves.
type Monitor struct {
	Health  func(context.Context) *health.Report
	Metrics http.Handler
	Logger  *slog.Logger
	Version string
}

// NewMonitor serves only the health endpoint and /metrics, without login:
// serve --metrics-addr, where scrapers and load balancers look.
func NewMonitor(m Monitor) http.Handler {
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &server{cfg: Config{Logger: m.Logger, Version: m.Version}}
	mux := http.NewServeMux()
	mux.Handle("GET "+HealthPath, healthHandler(m.Health))
	mux.Handle("GET "+MetricsPath, m.Metrics)
	mux.HandleFunc("GET /{$}", s.home)
	return s.logRequests(secureHeaders(mux))
}

// server holds a Config for the handlers.
type server struct {
	cfg        Config
	statsCache *statsCache
}

// home is the root: the pages when there are any, else a list of what is
// served.
func (s *server) home(w http.ResponseWriter, r *http.Request) {
	if s.cfg.UI != nil {
		http.Redirect(w, r, HomePath, http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "jobctl %s\n\n%s\n%s\n", s.cfg.Version, HealthPath, MetricsPath)
	if s.cfg.Ops != nil {
		fmt.Fprintf(w, "%s\n", OpenAPIPath)
	}
}
