package web

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/jobctl/jobctl/internal/auth"
)

// login checks the login form (name, password, next, csrf) and starts a
// session: 303 to next, or to the login form with error=bad or
// error=throttled. The form's CSRF token is the double-submit cookie's, as
// there is no session yet.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	if !validCSRF(r, CSRFToken(r)) {
		http.Error(w, "Forbidden: missing or wrong CSRF token; reload the login page and try again", http.StatusForbidden)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if s.cfg.Auth == nil {
		s.loginFailed(w, r, "bad", next)
		return
	}
	cookie, _, _, err := s.cfg.Auth.Login(r.Context(), r.PostFormValue("name"), r.PostFormValue("password"), s.clientIP(r))
	switch {
	case throttled(err):
		s.loginFailed(w, r, "throttled", next)
		return
	case errors.Is(err, auth.ErrBadCredentials):
		s.loginFailed(w, r, "bad", next)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	http.SetCookie(w, s.sessionCookie(r, cookie, 0))
	if next == "" {
		next = HomePath
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *server) loginFailed(w http.ResponseWriter, r *http.Request, why, next string) {
	q := url.Values{"error": {why}}
	if next != "" {
		q.Set("next", next)
	}
	http.Redirect(w, r, LoginPath+"?"+q.Encode(), http.StatusSeeOther)
}

// logout ends the session (its CSRF token was checked on the way in) and
// sends the browser to the login form.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	a := stateOf(r).auth
	if a.method == viaSession && s.cfg.Auth != nil {
		if err := s.cfg.Auth.Logout(r.Context(), a.cookie); err != nil && !errors.Is(err, auth.ErrNoSession) {
			s.internal(w, r, err)
			return
		}
	}
	http.SetCookie(w, s.sessionCookie(r, "", -1))
	http.Redirect(w, r, LoginPath, http.StatusSeeOther)
}

// sessionCookie is the session cookie: HttpOnly, SameSite=Lax, Secure over
// TLS, for the whole site. It lasts as long as the browser; the store ends
// the session on idle and absolute expiry. maxAge -1 deletes it.
func (s *server) sessionCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: auth.CookieName, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r),
	}
}

// safeNext keeps a login's next page on this site: a path, never
// "//host" or "/\host", which browsers read as another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return ""
	}
	return next
}

// clientIP is the address login failures are counted against: the peer's,
// or, from a trusted proxy, the address the proxy says it forwards for
// (the last X-Forwarded-For entry, the one it added itself), lest one
// person's failures lock out everyone behind the proxy.
func (s *server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !s.cfg.Proxy.trusts(r.RemoteAddr) {
		return host
	}
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return host
	}
	parts := strings.Split(xff[len(xff)-1], ",")
	if last := strings.TrimSpace(parts[len(parts)-1]); last != "" {
		return last
	}
	return host
}

// internal answers a failure that is not the client's: logged in full,
// answered in general terms.
func (s *server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: errorDetail{Code: "internal", Message: "internal error: see the server log"}})
		return
	}
	http.Error(w, "Internal error: see the server log", http.StatusInternalServerError)
}

// throttled reports whether err is a login refused for too many failures.
func throttled(err error) bool {
	var t *auth.ThrottledError
	return errors.As(err, &t)
}
