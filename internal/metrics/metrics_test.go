package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/postgres"
	"github.com/jobctl/jobctl/internal/store/sqlite"
	"github.com/jobctl/jobctl/internal/testutil/pgtest"
)

// eachBackend runs f against a fresh SQLite store and, when the test
// database is configured, a fresh Postgres schema.
func eachBackend(t *testing.T, f func(t *testing.T, s store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "jobs.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn, schema := pgtest.Schema(t)
		s, err := postgres.Open(context.Background(), dsn, schema)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		f(t, s)
	})
}

// seed imports n jobs of typ in status st, scheduled (and created) at
// scheduled.
func seed(t *testing.T, s store.Store, typ string, st store.Status, n int, scheduled time.Time) {
	t.Helper()
	scheduled = scheduled.UTC().Truncate(time.Millisecond)
	var jobs []*store.Job
	for range n {
		j := &store.Job{ID: store.NewID(time.Now()), Type: typ, Status: st, Priority: store.PriorityNormal,
			Data: json.RawMessage(`{}`), Attempts: 1, MaxAttempts: 5, ScheduledFor: scheduled, CreatedAt: scheduled, UpdatedAt: scheduled}
		switch {
		case st.Final():
			j.StartedAt, j.CompletedAt = &scheduled, &scheduled
		case st == store.StatusRunning:
			j.StartedAt, j.WorkerID = &scheduled, "w1"
		}
		jobs = append(jobs, j)
		time.Sleep(time.Millisecond) // distinct IDs
	}
	if err := s.Import(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
}

// scrape GETs /metrics from h and parses the Prometheus text format.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q; want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the value of the series of name with exactly labels (name=value
// pairs), and whether there is one. Counters and gauges give their value,
// histograms their count.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	fam := fams[name]
	if fam == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
next:
	for _, m := range fam.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		for _, l := range m.GetLabel() {
			if want[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func expect(t *testing.T, fams map[string]*dto.MetricFamily, want float64, name string, labels ...string) {
	t.Helper()
	got, ok := value(fams, name, labels...)
	if !ok {
		t.Errorf("%s%v: no such series", name, labels)
		return
	}
	if got != want {
		t.Errorf("%s%v = %v; want %v", name, labels, got, want)
	}
}
