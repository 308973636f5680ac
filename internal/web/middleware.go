package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jobctl/jobctl/internal/auth"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// CSRFCookie holds the double-submit token of a browser without a session
// (the login form, and users a proxy vouches for): a form must send back
// the same value in its "csrf" field.
const CSRFCookie = "jobctl_csrf"

// CSRFField and CSRFHeader carry the CSRF token of a state-changing request.
const (
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"
)

// contentSecurityPolicy allows no inline script or style and no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// method is how a request proved who sent it.
type method int

const (
	viaNone    method = iota
	viaSession        // the session cookie
	viaToken          // Authorization: Bearer
	viaProxy          // a trusted proxy's header
)

// requestAuth is what authenticate learnt about a request.
type requestAuth struct {
	who    ops.Principal
	ok     bool
	method method
	csrf   string // the token a state change must carry
	cookie string // the session cookie's value
	// Why there is no principal, when that is not plain anonymity: a
	// bearer token that is not valid, a proxy user with no role, or the
	// store failing the lookup.
	badToken bool
	noRole   bool
	err      error
}

type ctxKey struct{}

// state is per request: authenticate fills it, the request log reads it.
type state struct {
	auth requestAuth
}

func stateOf(r *http.Request) *state {
	if st, ok := r.Context().Value(ctxKey{}).(*state); ok {
		return st
	}
	return &state{}
}

// PrincipalFrom returns who sent the request, if anyone logged in.
func PrincipalFrom(r *http.Request) (ops.Principal, bool) {
	a := stateOf(r).auth
	return a.who, a.ok
}

// CSRFToken is the token the request's forms must carry in their "csrf"
// field: the session's, or the browser's double-submit cookie's.
func CSRFToken(r *http.Request) string {
	return stateOf(r).auth.csrf
}

// statusWriter remembers the status for the request log, and whether the
// response is an event stream. Flush and Unwrap keep Server-Sent Events
// and http.ResponseController working through it.
type statusWriter struct {
	http.ResponseWriter
	status int
	// stream is set once an event stream's headers are out; onStream,
	// when set, hears of it (from the handler's goroutine).
	stream   atomic.Bool
	onStream func()
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream") {
			w.stream.Store(true)
			if w.onStream != nil {
				w.onStream()
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.WriteHeader(http.StatusOK)
		}
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one line per request: method, path, status, duration
// and the account, so an operator can tell who did what from the log alone.
// Every line is INFO: a 503 from an unhealthy queue is an answer, not a
// failure of the server; failures log their own ERROR line (internal).
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &state{}
		sw := &statusWriter{ResponseWriter: w}
		ctx := context.WithValue(r.Context(), ctxKey{}, st)
		if stopping, ok := r.Context().Value(stoppingKey{}).(context.Context); ok {
			// An event stream ends when the server starts to stop.
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
			defer context.AfterFunc(stopping, func() {
				if sw.stream.Load() {
					cancel()
				}
			})()
			sw.onStream = func() {
				if stopping.Err() != nil {
					cancel()
				}
			}
		}
		next.ServeHTTP(sw, r.WithContext(ctx))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)), slog.String("account", st.auth.who.Name))
	})
}

// secureHeaders are on every response.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// public paths answer without login and skip the account lookups.
func public(path string) bool {
	return path == MetricsPath || path == HealthPath || path == OpenAPIPath || strings.HasPrefix(path, "/static/")
}

// page paths are the web pages: without a login they send the browser to
// the login form.
func page(path string) bool {
	return path == "/admin" || strings.HasPrefix(path, "/admin/")
}

// unsafe methods change state and need a CSRF token from a browser.
func unsafe(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// authenticate finds who sent the request, keeps pages from anonymous
// browsers, and refuses a browser's state change without its CSRF token.
// The API's handlers refuse anonymous requests themselves, with JSON.
func (s *server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		if public(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		st.auth = s.identify(w, r)
		a := &st.auth
		if a.method != viaToken && a.method != viaSession {
			a.csrf = s.doubleSubmit(w, r)
		}
		if page(r.URL.Path) && !a.ok {
			switch {
			case a.err != nil:
				s.internal(w, r, a.err)
			case a.noRole:
				http.Error(w, "Forbidden: your groups give no role in jobctl", http.StatusForbidden)
			case r.Method != http.MethodGet:
				// A form posted after the session ended: back to the
				// pages, not to a URL that only takes a POST.
				http.Redirect(w, r, LoginPath+"?next="+url.QueryEscape(HomePath), http.StatusSeeOther)
			default:
				http.Redirect(w, r, LoginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			}
			return
		}
		if a.ok && unsafe(r.Method) && a.method != viaToken && !validCSRF(r, a.csrf) {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				writeError(w, &ops.Error{Code: ops.CodeForbidden, Message: "missing or wrong CSRF token: send the " + CSRFHeader + " header"})
			} else {
				http.Error(w, "Forbidden: missing or wrong CSRF token; reload the page and try again", http.StatusForbidden)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// identify tries, in order, a bearer token, a trusted proxy's header and
// the session cookie. A request that names a bearer token is judged by it
// alone.
func (s *server) identify(w http.ResponseWriter, r *http.Request) requestAuth {
	ctx := r.Context()
	if bearer, ok := bearerToken(r); ok {
		if s.cfg.Auth == nil {
			return requestAuth{badToken: true}
		}
		_, acct, err := s.cfg.Auth.Token(ctx, bearer)
		switch {
		case errors.Is(err, auth.ErrBadToken):
			return requestAuth{badToken: true}
		case err != nil:
			return requestAuth{err: err}
		}
		return requestAuth{who: auth.Principal(acct, ops.ViaAPI), ok: true, method: viaToken}
	}
	if p := s.cfg.Proxy; p.UserHeader != "" && p.trusts(r.RemoteAddr) {
		if user := strings.TrimSpace(r.Header.Get(p.UserHeader)); user != "" {
			return s.proxyUser(r, user)
		}
	}
	c, err := r.Cookie(auth.CookieName)
	if err != nil || c.Value == "" || s.cfg.Auth == nil {
		return requestAuth{}
	}
	sess, acct, err := s.cfg.Auth.Session(ctx, c.Value)
	switch {
	case errors.Is(err, auth.ErrNoSession):
		http.SetCookie(w, s.sessionCookie(r, "", -1)) // expired: let the browser forget it
		return requestAuth{}
	case err != nil:
		return requestAuth{err: err}
	}
	return requestAuth{who: auth.Principal(acct, s.channel(r)), ok: true, method: viaSession, csrf: sess.CSRF, cookie: c.Value}
}

// channel is how a browser's request is audited: the pages are "web", the
// API "api".
func (s *server) channel(r *http.Request) ops.Channel {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return ops.ViaAPI
	}
	return ops.ViaWeb
}

// proxyUser is the principal of a user the proxy vouches for: its
// account's, when it has one, else the highest role its groups map to. A
// user without an account acts on jobs under its own name as "userId".
func (s *server) proxyUser(r *http.Request, user string) requestAuth {
	if s.cfg.Accounts != nil {
		acct, err := s.cfg.Accounts.GetAccount(r.Context(), user)
		switch {
		case err == nil:
			return requestAuth{who: auth.Principal(acct, s.channel(r)), ok: true, method: viaProxy}
		case !errors.Is(err, store.ErrNotFound):
			return requestAuth{err: err}
		}
	}
	var role store.Role
	if gh := s.cfg.Proxy.GroupsHeader; gh != "" {
		for _, v := range r.Header.Values(gh) {
			for _, g := range strings.Split(v, ",") {
				if rr, ok := s.cfg.Proxy.Roles[strings.TrimSpace(g)]; ok && rank(rr) > rank(role) {
					role = rr
				}
			}
		}
	}
	if role == "" {
		return requestAuth{noRole: true}
	}
	who := ops.Principal{Name: user, Role: role, Via: s.channel(r)}
	if role == store.RoleUser {
		who.UserID = user
	}
	return requestAuth{who: who, ok: true, method: viaProxy}
}

// rank orders roles by what they may do.
func rank(r store.Role) int {
	switch r {
	case store.RoleAdmin:
		return 3
	case store.RoleManager:
		return 2
	case store.RoleUser:
		return 1
	}
	return 0
}

// trusts reports whether the connection comes from a trusted proxy. It
// looks at the peer address only: forwarded-for headers are the client's
// to forge.
func (p Proxy) trusts(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, pfx := range p.Trusted {
		if pfx.Contains(ip) {
			return true
		}
	}
	return false
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	return strings.TrimSpace(h[7:]), true
}

// doubleSubmit returns the browser's double-submit CSRF token, setting a
// new cookie when it has none.
func (s *server) doubleSubmit(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(CSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
	return tok
}

// validCSRF reports whether the request carries want in the X-CSRF-Token
// header or the csrf form field.
func validCSRF(r *http.Request, want string) bool {
	if want == "" {
		return false
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secure reports whether the browser reached us over TLS, directly or
// through a trusted proxy that says so: cookies are Secure then.
func (s *server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return s.cfg.Proxy.trusts(r.RemoteAddr) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
