package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/worker"
)

// WorkerMetrics counts what one worker process does. It is the worker's
// Observer, so it sees each claim, start and outcome as it happens.
type WorkerMetrics struct {
	started    *prometheus.CounterVec
	completed  *prometheus.CounterVec
	failed     *prometheus.CounterVec
	retried    *prometheus.CounterVec
	cancelled  *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	inFlight   prometheus.Gauge
	claimBatch prometheus.Histogram
}

var _ worker.Observer = (*WorkerMetrics)(nil)

// durationBuckets span the builtin noop (well under 5ms) to long exec jobs
// (half an hour); the default job timeout, 30s, falls on a bound.
var durationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}

// NewWorkerMetrics registers the worker's series with reg.
func NewWorkerMetrics(reg prometheus.Registerer) *WorkerMetrics {
	f := promauto.With(reg)
	counter := func(name, help string) *prometheus.CounterVec {
		return f.NewCounterVec(prometheus.CounterOpts{Name: "jobctl_worker_jobs_" + name + "_total", Help: help}, []string{"type"})
	}
	return &WorkerMetrics{
		started:   counter("started", "Jobs this worker started running."),
		completed: counter("completed", "Jobs this worker ran to COMPLETED."),
		failed:    counter("failed", "Failed attempts that ended the job FAILED or DEAD."),
		retried:   counter("retried", "Failed attempts that left the job RETRYING."),
		cancelled: counter("cancelled", "Running jobs an operator cancelled."),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jobctl_worker_job_duration_seconds",
			Help:    "How long each finished attempt ran, whatever its outcome.",
			Buckets: durationBuckets,
		}, []string{"type"}),
		inFlight: f.NewGauge(prometheus.GaugeOpts{
			Name: "jobctl_worker_jobs_in_flight",
			Help: "Jobs this worker has started whose outcome it has not yet recorded.",
		}),
		claimBatch: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "jobctl_worker_claim_batch_size",
			Help:    "Jobs per claim that returned any.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11), // 1 … 1024
		}),
	}
}

// Declare creates the series of each job type at zero, so that rates and
// alerts see a type before its first job rather than from its second.
func (m *WorkerMetrics) Declare(types []string) {
	for _, t := range types {
		for _, c := range []*prometheus.CounterVec{m.started, m.completed, m.failed, m.retried, m.cancelled} {
			c.WithLabelValues(t)
		}
		m.duration.WithLabelValues(t)
	}
}

// Claimed implements worker.Observer.
func (m *WorkerMetrics) Claimed(n int) { m.claimBatch.Observe(float64(n)) }

// Started implements worker.Observer.
func (m *WorkerMetrics) Started(j *store.Job) {
	m.started.WithLabelValues(j.Type).Inc()
	m.inFlight.Inc()
}

// Finished implements worker.Observer. Jobs handed back at shutdown are
// not finished; the worker stops, and its metrics with it, soon after.
func (m *WorkerMetrics) Finished(j *store.Job, status store.Status, d time.Duration) {
	m.inFlight.Dec()
	m.duration.WithLabelValues(j.Type).Observe(d.Seconds())
	var c *prometheus.CounterVec
	switch status {
	case store.StatusCompleted:
		c = m.completed
	case store.StatusFailed, store.StatusDead:
		c = m.failed
	case store.StatusRetrying:
		c = m.retried
	case store.StatusCancelled:
		c = m.cancelled
	default:
		return
	}
	c.WithLabelValues(j.Type).Inc()
}
