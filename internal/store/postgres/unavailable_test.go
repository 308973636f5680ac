package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

func TestUnavailableErrors(t *testing.T) {
	for _, c := range []struct {
		err    error
		reason string // "" means not an outage
	}{
		{&pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"}, "terminating connection due to administrator command"},
		{fmt.Errorf("server error: %w", &pgconn.PgError{Severity: "FATAL", Code: "08006", Message: "connection failure"}), "connection failure"},
		{fmt.Errorf("receive: %w", io.ErrUnexpectedEOF), "connection lost"},
		{pgconn.ErrConnClosed, "connection lost"},
		{&pgconn.PgError{Severity: "FATAL", Code: "28P01", Message: "password authentication failed"}, ""},
		{&pgconn.PgError{Severity: "FATAL", Code: "3D000", Message: `database "x" does not exist`}, ""},
		{&pgconn.PgError{Severity: "ERROR", Code: "23505", Message: "duplicate key"}, ""},
		{context.Canceled, ""},
	} {
		err := wrap("complete", store.PermWrite, c.err)
		var u *store.UnavailableError
		if got := errors.As(err, &u); got != (c.reason != "") {
			t.Errorf("%v: unavailable = %v, want %v", c.err, got, !got)
			continue
		}
		if c.reason == "" {
			continue
		}
		if !errors.Is(err, store.ErrUnavailable) || u.Reason != c.reason || u.Op != "complete" {
			t.Errorf("%v: %#v", c.err, u)
		}
		if msg := err.Error(); msg != "store unreachable ("+c.reason+")" {
			t.Errorf("%v: message %q", c.err, msg)
		}
	}
}

// TestConnectRefused: a store that cannot be reached says so in one line,
// without the driver's dial chain, and is an outage to errors.Is.
func TestConnectRefused(t *testing.T) {
	_, err := Open(context.Background(), "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "")
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if !errors.Is(err, store.ErrUnavailable) || err.Error() != "cannot connect: connection refused" {
		t.Errorf("Open = %q (unavailable %v); want \"cannot connect: connection refused\"", err, errors.Is(err, store.ErrUnavailable))
	}
}

// TestListenWakesOnceSubscribed: Listen wakes its caller as soon as it is
// subscribed, with no notification, so work enqueued while it was not
// (at start, or during an outage) is looked for at once.
func TestListenWakesOnceSubscribed(t *testing.T) {
	dsn, schema := pgtest.Schema(t)
	s, err := Open(context.Background(), dsn, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	woke := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.Listen(ctx, func() {
			select {
			case woke <- struct{}{}:
			default:
			}
		})
	}()
	select {
	case <-woke:
	case err := <-done:
		t.Fatalf("Listen = %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Listen did not wake its caller once subscribed")
	}
	cancel()
	if err := <-done; err != nil && !strings.Contains(err.Error(), "context canceled") && !errors.Is(err, context.Canceled) {
		t.Errorf("Listen after cancel = %v", err)
	}
}
