package web

// PRE-MERGE STAND-INS. internal/ops (helper A) and internal/auth (helper
// B) are written at the same time as this package; until both are on main
// these few names stand in for theirs, with the contract's signatures. After
// the merge each becomes an alias of the real one and this file shrinks to
// those lines.

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/when"
)

// cookieName is auth.CookieName.
const cookieName = "jobctl_session"

// The auth errors the handlers tell apart (auth.ErrBadCredentials, ...).
var (
	errBadCredentials = errors.New("bad name or password")
	errNoSession      = errors.New("no session")
	errBadToken       = errors.New("bad token")
)

// throttledError stands in for *auth.ThrottledError.
type throttledError struct{ RetryAfter time.Duration }

func (e *throttledError) Error() string { return "too many failed logins" }

// throttled reports whether err is a login refused for too many failures.
func throttled(err error) bool {
	var t *throttledError
	return errors.As(err, &t)
}

// principalOf is auth.Principal.
func principalOf(a *store.Account, via ops.Channel) ops.Principal {
	return ops.Principal{Name: a.Name, Role: a.Role, UserID: a.UserID, Via: via}
}

// filterFromQuery is ops.FilterFromQuery.
func filterFromQuery(q url.Values) ops.FilterInput {
	in := ops.FilterInput{Given: map[string]bool{}}
	list := func(k string) []string {
		var out []string
		for _, v := range q[k] {
			out = append(out, strings.Split(v, ",")...)
		}
		return out
	}
	for _, k := range []string{"status", "type", "since", "until", "older", "user"} {
		if _, ok := q[k]; ok {
			in.Given[k] = true
		}
	}
	in.Statuses, in.Types = list("status"), list("type")
	in.Since, in.Until, in.Older, in.User = q.Get("since"), q.Get("until"), q.Get("older"), q.Get("user")
	return in
}

// parseFilter is ops.ParseFilter.
func parseFilter(in ops.FilterInput, now time.Time) (store.Filter, error) {
	var f store.Filter
	bad := func(field, msg string) error {
		return &ops.Error{Code: ops.CodeInvalid, Field: field, Message: field + ": " + msg}
	}
	for _, s := range in.Statuses {
		st, err := store.ParseStatus(s)
		if err != nil {
			return f, bad("status", err.Error())
		}
		f.Statuses = append(f.Statuses, st)
	}
	for _, t := range in.Types {
		if t = strings.TrimSpace(t); t == "" {
			return f, bad("type", "empty value")
		}
		f.Types = append(f.Types, t)
	}
	for _, c := range []struct {
		name, v string
		to      *time.Time
	}{{"since", in.Since, &f.Since}, {"until", in.Until, &f.Until}, {"older", in.Older, &f.FinishedBefore}} {
		if c.v == "" {
			if in.Given[c.name] {
				return f, bad(c.name, "empty value")
			}
			continue
		}
		t, err := when.ParseTime(c.v, now)
		if err != nil {
			return f, bad(c.name, err.Error())
		}
		*c.to = t
	}
	if in.Given["user"] && in.User == "" {
		return f, bad("user", "empty value")
	}
	f.UserID = in.User
	return f, nil
}

func isBadCredentials(err error) bool { return errors.Is(err, errBadCredentials) }
func isNoSession(err error) bool      { return errors.Is(err, errNoSession) }
