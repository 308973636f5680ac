package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ShutdownGrace is how long a stopping server waits for requests in flight.
const ShutdownGrace = 10 * time.Second

// TLS names a certificate and its key in PEM files; the zero value serves
// plain HTTP.
type TLS struct {
	CertFile, KeyFile string
}

// Serve serves h on ln until ctx ends, then shuts down gracefully: requests
// in flight get ShutdownGrace to finish. A handler built by New or
// NewMonitor also ends its Server-Sent Event streams then, which would
// otherwise never finish and hold the shutdown for the whole grace.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, tls TLS) error {
	stopping, stop := context.WithCancel(context.Background())
	defer stop()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(context.Background(), stoppingKey{}, stopping)
		},
	}
	srv.RegisterOnShutdown(stop)
	served := make(chan error, 1)
	go func() {
		if tls.CertFile != "" {
			served <- srv.ServeTLS(ln, tls.CertFile, tls.KeyFile)
			return
		}
		served <- srv.Serve(ln)
	}()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
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

// stoppingKey finds, in a request's context, the context Serve cancels
// when it starts to shut down.
type stoppingKey struct{}
