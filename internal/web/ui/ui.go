// Package ui is the web admin's pages: the guide's dashboard and job list
// at /admin/jobs, the Job Details Page, the audit log, workers and
// schedules, rendered on the server with html/template and kept live over
// Server-Sent Events. Every read and action goes through ops.Service, so a
// page shows and does exactly what the CLI and API would for the same
// principal. Authentication, sessions and CSRF checking belong to the
// caller (internal/web); this package only asks who is there and which
// CSRF token to put in its forms.
package ui

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
)

//go:embed templates static
var assets embed.FS

// Options are the pages' dependencies on the server around them.
type Options struct {
	// Principal is who made the request; false sends the browser to the
	// login form.
	Principal func(*http.Request) (ops.Principal, bool)
	// CSRF is the token every state-changing form carries in its hidden
	// "csrf" field.
	CSRF func(*http.Request) string
	// Logger hears about errors the pages cannot show (a broken stream).
	Logger *slog.Logger
	// Tick is how often the live stream queries the store (default 2s).
	Tick time.Duration
	// Now is the clock (default time.Now), for relative times and the
	// date-range filter.
	Now func() time.Time
}

// UI serves the pages.
type UI struct {
	svc   ops.Service
	o     Options
	pages map[string]*template.Template
	hub   *hub
	css   []byte // status.css, made from render's palette
	badge badge
}

// New parses the templates and starts nothing: the live stream's hub
// queries the store only while someone is subscribed.
func New(svc ops.Service, o Options) (*UI, error) {
	if svc == nil {
		return nil, errors.New("ui: no ops.Service")
	}
	if o.Principal == nil {
		return nil, errors.New("ui: no Principal function")
	}
	if o.CSRF == nil {
		o.CSRF = func(*http.Request) string { return "" }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Tick <= 0 {
		o.Tick = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	u := &UI{svc: svc, o: o, css: statusCSS()}
	pages, err := parsePages(u.funcs())
	if err != nil {
		return nil, err
	}
	u.pages = pages
	u.hub = newHub(svc, o.Tick, u.fragments, o.Logger)
	return u, nil
}

// Register adds the pages to mux (Go 1.22 patterns).
func (u *UI) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/jobs", u.page(u.jobs))
	mux.HandleFunc("GET /admin/jobs/{id}", u.page(u.job))
	mux.HandleFunc("GET /admin/audit-logs", u.page(u.audit))
	mux.HandleFunc("GET /admin/workers", u.page(u.workers))
	mux.HandleFunc("GET /admin/schedules", u.page(u.schedules))
	mux.HandleFunc("GET /admin/events", u.events)
	mux.HandleFunc("POST /admin/jobs/actions", u.bulkAction)
	mux.HandleFunc("POST /admin/jobs/{id}/{action}", u.jobAction)
	mux.HandleFunc("GET /login", u.login)
	static, _ := fs.Sub(assets, "static")
	files := http.FileServerFS(static)
	mux.HandleFunc("GET /static/status.css", u.statusCSS)
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheable(files)))
}

// Close ends every live stream. Call it when the server shuts down:
// http.Server.Shutdown waits for handlers, and a stream's handler runs
// until its browser goes away.
func (u *UI) Close() { u.hub.close() }

// cacheable lets browsers keep the embedded assets for an hour: they change
// only with the binary.
func cacheable(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// view is what every page's layout needs.
type view struct {
	Title  string
	Nav    string // which nav item is current
	Who    ops.Principal
	CSRF   string
	Health string // healthy, degraded, unhealthy or "" when unknown
	Flash  string
	Path   string
	Data   any
}

// pageFunc renders one page for who, or returns an error to show instead.
type pageFunc func(w http.ResponseWriter, r *http.Request, v *view) (page string, err error)

// page sends the anonymous to the login form, then renders fn's page in
// the shared layout, with the health badge.
func (u *UI) page(fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, ok := u.o.Principal(r)
		if !ok {
			toLogin(w, r)
			return
		}
		v := &view{Who: who, CSRF: u.o.CSRF(r), Path: r.URL.RequestURI(), Flash: takeFlash(w, r)}
		name, err := fn(w, r, v)
		if err != nil {
			u.fail(w, r, v, err)
			return
		}
		if name == "" { // fn wrote the response itself
			return
		}
		v.Health = u.health(r.Context(), who)
		u.render(w, r, http.StatusOK, name, v)
	}
}

// toLogin answers 303 to the login form, which brings the browser back
// here after it logs in.
func toLogin(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// healthBadgeTTL is how old the health badge's reading may be. The badge
// is on every page and a health check reads the store (about 20 ms on a
// 1M-job table), while the status is everyone's and changes over minutes:
// one check per few seconds serves every page view.
const healthBadgeTTL = 5 * time.Second

// badge is the health badge's last reading.
type badge struct {
	mu         sync.Mutex
	status     string
	at         time.Time
	refreshing bool
}

// health is the badge's status: the last reading while it is younger than
// healthBadgeTTL; else this request reads it again, while requests that
// arrive meanwhile show the last one rather than wait or read it too.
func (u *UI) health(ctx context.Context, who ops.Principal) string {
	b := &u.badge
	b.mu.Lock()
	if !b.at.IsZero() && (u.o.Now().Sub(b.at) < healthBadgeTTL || b.refreshing) {
		st := b.status
		b.mu.Unlock()
		return st
	}
	b.refreshing = true
	b.mu.Unlock()

	status := ""
	rep, err := u.svc.Health(ctx, who)
	if err == nil && rep != nil {
		status = rep.Status
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refreshing = false
	if err == nil && rep != nil {
		b.status, b.at = status, u.o.Now()
	}
	return status
}

// render executes a page; a template error after the header is written can
// only be logged.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t, ok := u.pages[name]
	if !ok {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Job data stays out of caches, and a page left behind is not kept
	// alive in the back-forward cache with its event stream open: a browser
	// allows six connections to a host, and each kept page would hold one.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout", v); err != nil {
		u.o.Logger.Error("ui: render", "page", name, "path", r.URL.Path, "err", err)
	}
}

// fail shows an error page whose status follows the ops error's code: the
// guide's 403 for a foreign job, 404 for a missing one.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	status, msg := statusOf(err)
	if status >= 500 {
		u.o.Logger.Error("ui: page", "path", r.URL.Path, "err", err)
	}
	v.Title = http.StatusText(status)
	v.Data = errorView{Status: status, Message: msg}
	u.render(w, r, status, "error", v)
}

type errorView struct {
	Status  int
	Message string
}

// statusOf maps an ops error to an HTTP status and a message safe to show.
func statusOf(err error) (int, string) {
	var oe *ops.Error
	if errors.As(err, &oe) {
		switch oe.Code {
		case ops.CodeInvalid:
			// Name the inputs as the form labels them: "Since", not "--since".
			return http.StatusBadRequest, oe.In(func(f string) string { return titleCase(f) })
		case ops.CodeUnauthorized:
			return http.StatusUnauthorized, oe.Message
		case ops.CodeForbidden:
			return http.StatusForbidden, oe.Message
		case ops.CodeNotFound:
			return http.StatusNotFound, oe.Message
		case ops.CodeConflict:
			return http.StatusConflict, oe.Message
		case ops.CodeUnprocessable:
			return http.StatusUnprocessableEntity, oe.Message
		}
	}
	return http.StatusInternalServerError, fmt.Sprintf("internal error: %v", err)
}
