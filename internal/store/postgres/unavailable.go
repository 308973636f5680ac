package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jobctl/jobctl/internal/store"
)

// unavailable turns an error that says the database could not be reached
// (a failed or lost connection, a server shutting down or refusing
// connections) into a *store.UnavailableError, and returns nil for any
// other error. Bad credentials and a missing database are not outages:
// they stay as they are, since trying again changes nothing.
func unavailable(op string, err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.Canceled) {
		return nil
	}
	var pe *pgconn.PgError
	hasPG := errors.As(err, &pe)
	if hasPG && (strings.HasPrefix(pe.Code, "28") || pe.Code == "3D000") {
		return nil // invalid authorization, or no such database
	}
	var (
		ce *pgconn.ConnectError
		ne net.Error
	)
	switch {
	case errors.As(err, &ce),
		hasPG && (strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")),
		errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return &store.UnavailableError{Op: op, Reason: reason(err), Err: err}
	}
	return nil
}

// reason says in a few words why the database could not be reached: the
// server's message without its FATAL and SQLSTATE, or the system's.
func reason(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		return errno.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, pgconn.ErrConnClosed):
		return "connection lost"
	case pgconn.Timeout(err):
		return "timed out"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	return "connection failed"
}

// connectFailed is a connection that could not be made, said in a few
// words ("connection refused") after "cannot connect: ".
type connectFailed struct{ u *store.UnavailableError }

func (e *connectFailed) Error() string { return e.u.Reason }
func (e *connectFailed) Unwrap() error { return e.u }
