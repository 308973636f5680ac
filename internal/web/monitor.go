package web

import (
	"context"
	"net/http"
	"time"

	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/render"
)

// HealthTimeout bounds one health check; `jobctl health` waits as long.
const HealthTimeout = 10 * time.Second

// healthHandler answers the guide's health endpoint with the report
// `jobctl health -o json` prints: 200 when healthy or degraded, 503 when
// unhealthy or the store is unreachable, so a load balancer can act on it.
func healthHandler(check func(context.Context) *health.Report) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), HealthTimeout)
		defer cancel()
		report := check(ctx)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		code := http.StatusOK
		if report.Status == health.Unhealthy {
			code = http.StatusServiceUnavailable
		}
		w.WriteHeader(code)
		_ = (&render.IO{Out: w}).Health(render.FormatJSON, report)
	})
}
