// Package metrics is jobctl's Prometheus instrumentation: the store's state
// as `jobctl serve` exposes it (StoreCollector) and one worker's activity as
// `jobctl worker run --metrics-addr` exposes it (WorkerMetrics). Every
// series of ours is named jobctl_…; a registry from NewRegistry adds the
// standard go_… and process_… series.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a private registry holding the Go runtime and process
// collectors. jobctl never uses the global default registry, so tests and
// commands in one process do not share series.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Handler serves what reg gathers, in the format the scraper asks for
// (Prometheus text by default).
func Handler(reg prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
