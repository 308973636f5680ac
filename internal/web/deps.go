package web

import (
	"errors"

	"github.com/jobctl/jobctl/internal/auth"
	"github.com/jobctl/jobctl/internal/ops"
)

// The names the handlers use for internal/auth's and internal/ops's, kept
// short where they are read most.
const cookieName = auth.CookieName

var (
	errBadCredentials = auth.ErrBadCredentials
	errNoSession      = auth.ErrNoSession
	errBadToken       = auth.ErrBadToken
	principalOf       = auth.Principal
	filterFromQuery   = ops.FilterFromQuery
	parseFilter       = ops.ParseFilter
)

// throttled reports whether err is a login refused for too many failures.
func throttled(err error) bool {
	var t *auth.ThrottledError
	return errors.As(err, &t)
}

func isBadCredentials(err error) bool { return errors.Is(err, errBadCredentials) }
func isNoSession(err error) bool      { return errors.Is(err, errNoSession) }
