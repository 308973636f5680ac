package cli

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/sqlite"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
	"github.com/jobctl/jobctl/internal/web"
)

func serveGet(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// serveGauge is the value of the one series of name with the given labels.
func serveGauge(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	t.Helper()
next:
	for _, m := range fams[name].GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

func TestServeEndpoints(t *testing.T) {
	teststore.Each(t, func(t *testing.T, s *teststore.Backend) {
		now := time.Now()
		teststore.Seed(t, s, "CalendarSync", store.StatusPending, 1, now.Add(-45*time.Minute))
		teststore.Seed(t, s, "CalendarSync", store.StatusPending, 2, now)
		teststore.Seed(t, s, "CalendarSync", store.StatusCompleted, 5, now.Add(-time.Hour))
		teststore.Seed(t, s, "Report", store.StatusFailed, 3, now.Add(-time.Hour))
		teststore.Seed(t, s, "Report", store.StatusDead, 1, now.Add(-time.Hour))
		in := health.Inputs{Thresholds: config.DefaultHealth(), Lease: time.Minute}
		srv := httptest.NewServer(web.NewMonitor(newMonitor(s, in, 0, func(err error) { t.Errorf("metrics: %v", err) })))
		defer srv.Close()

		// No worker has registered: critical, so 503.
		code, ct, body := serveGet(t, srv.URL+healthPath)
		var r health.Report
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("health is not JSON: %v\n%s", err, body)
		}
		if code != http.StatusServiceUnavailable || ct != "application/json" || r.Status != health.Unhealthy || r.Checks.Worker != "down" {
			t.Errorf("health without a worker: %d %s %s worker %s; want 503 application/json unhealthy down", code, ct, r.Status, r.Checks.Worker)
		}
		// The body is health.Check's report as `health -o json` prints it:
		// the same bytes but for the measured latency.
		var want strings.Builder
		if err := (&render.IO{Out: &want}).Health(render.FormatJSON, health.Check(context.Background(), s, in)); err != nil {
			t.Fatal(err)
		}
		latency := regexp.MustCompile(`"databaseLatencyMs": [0-9.e-]+`)
		if g, w := latency.ReplaceAllString(string(body), "L"), latency.ReplaceAllString(want.String(), "L"); g != w {
			t.Errorf("health body:\n%s\nwant:\n%s", g, w)
		}

		if err := s.RegisterWorker(context.Background(), &store.WorkerInfo{ID: "w1", Host: "test", PID: 1, Types: []string{"CalendarSync"}, Concurrency: 2}); err != nil {
			t.Fatal(err)
		}
		// A live worker; the 45-minute-old job is only a warning: 200.
		code, _, body = serveGet(t, srv.URL+healthPath)
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		if code != http.StatusOK || r.Status != health.Degraded || val(r.Checks.PendingJobs) != 3 || val(r.Checks.FailedJobs) != 3 || val(r.Checks.LiveWorkers) != 1 {
			t.Errorf("health with a worker: %d %+v; want 200 degraded, 3 pending, 3 failed, 1 live worker", code, r)
		}

		code, ct, body = serveGet(t, srv.URL+metricsPath)
		if code != http.StatusOK || !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("GET /metrics: %d %s", code, ct)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
		if err != nil {
			t.Fatalf("parse /metrics: %v\n%s", err, body)
		}
		for name := range fams {
			if !strings.HasPrefix(name, "jobctl_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
				t.Errorf("series %s is neither jobctl_… nor the standard go_… or process_…", name)
			}
		}
		counts := map[[2]string]float64{
			{"CalendarSync", "PENDING"}: 3, {"CalendarSync", "COMPLETED"}: 5, {"Report", "FAILED"}: 3, {"Report", "DEAD"}: 1,
		}
		for _, typ := range []string{"CalendarSync", "Report"} {
			for _, st := range store.Statuses {
				got, ok := serveGauge(t, fams, "jobctl_jobs", map[string]string{"type": typ, "status": string(st)})
				if w := counts[[2]string{typ, string(st)}]; !ok || got != w {
					t.Errorf("jobctl_jobs{type=%s,status=%s} = %v (present %v); want %v", typ, st, got, ok, w)
				}
			}
		}
		for name, want := range map[string]float64{"jobctl_workers_live": 1, "jobctl_health_status": 1, "jobctl_store_up": 1} {
			if got, ok := serveGauge(t, fams, name, nil); !ok || got != want {
				t.Errorf("%s = %v (present %v); want %v", name, got, ok, want)
			}
		}
		if age, _ := serveGauge(t, fams, "jobctl_oldest_pending_job_age_seconds", nil); age < 45*60-5 || age > 45*60+60 {
			t.Errorf("oldest pending age %vs; want about 2700", age)
		}
		if age, ok := serveGauge(t, fams, "jobctl_worker_last_ping_age_seconds", nil); !ok || age > 10 {
			t.Errorf("last ping age %vs (present %v); want a few seconds", age, ok)
		}

		if code, _, _ := serveGet(t, srv.URL+"/nope"); code != http.StatusNotFound {
			t.Errorf("GET /nope: %d; want 404", code)
		}
		resp, err := http.Post(srv.URL+healthPath, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST health: %d; want 405", resp.StatusCode)
		}
	})
}

func TestServeUnreachable(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	srv := httptest.NewServer(web.NewMonitor(newMonitor(s, health.Inputs{Thresholds: config.DefaultHealth()}, 0, func(error) {})))
	defer srv.Close()
	code, _, body := serveGet(t, srv.URL+healthPath)
	var r health.Report
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(r.Checks.Database, "unreachable: ") {
		t.Errorf("closed store: %d %+v; want 503 and the database unreachable", code, r)
	}
	// It shares health's evaluation: what it could not read is null.
	for _, k := range []string{"pendingJobs", "failedJobs", "oldestPendingJob", "workerLastPing", "deadJobs", "stuckJobs", "liveWorkers", "databaseLatencyMs"} {
		if !strings.Contains(string(body), `"`+k+`": null`) {
			t.Errorf("closed store: %s is not null:\n%s", k, body)
		}
	}
}

func TestServeFlags(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "jobctl.yaml")
	if err := os.WriteFile(cfgPath, []byte("health:\n  maxPending: 500\n  maxFailed: 20\njobs:\n  Slow:\n    handler: {builtin: sleep}\n    timeout: 5m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (*ServeOptions, health.Inputs, error) {
		ios, _, _, _ := render.Test(false, false)
		f := cmdutil.NewFactory(ios, func(string) string { return "" })
		f.ConfigFlag = cfgPath
		var got *ServeOptions
		cmd := NewCmdServe(f, func(_ context.Context, o *ServeOptions) error { got = o; return nil })
		cmd.SetArgs(args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		if err := cmd.Execute(); err != nil {
			return nil, health.Inputs{}, err
		}
		in, err := got.Check.inputs(f)
		return got, in, err
	}

	o, in, err := run()
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != "127.0.0.1:8080" || o.MetricsCache != 5*time.Second || o.StatsCache != 5*time.Second || in.Lease != time.Minute {
		t.Errorf("defaults: addr %s cache %s stats cache %s lease %s", o.Addr, o.MetricsCache, o.StatsCache, in.Lease)
	}
	def := config.DefaultHealth()
	if in.Thresholds.MaxPending != 500 || in.Thresholds.MaxFailed != 20 || in.Thresholds.MaxWorkerSilence != def.MaxWorkerSilence {
		t.Errorf("thresholds from the file: %+v", in.Thresholds)
	}
	if in.Timeout("Slow") != 5*time.Minute || in.Timeout("Other") != 30*time.Second {
		t.Errorf("timeouts: Slow %s, Other %s; want 5m and the default 30s", in.Timeout("Slow"), in.Timeout("Other"))
	}

	o, in, err = run("--addr", ":9100", "--metrics-cache", "0", "--stats-cache", "1m", "--max-failed", "3", "--max-worker-silence", "2m", "--lease", "30s")
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != ":9100" || o.MetricsCache != 0 || o.StatsCache != time.Minute || in.Lease != 30*time.Second {
		t.Errorf("flags: addr %s cache %s lease %s", o.Addr, o.MetricsCache, in.Lease)
	}
	if in.Thresholds.MaxPending != 500 || in.Thresholds.MaxFailed != 3 || in.Thresholds.MaxWorkerSilence != 2*time.Minute {
		t.Errorf("flags over the file: %+v; want maxPending 500 (file), maxFailed 3 and silence 2m (flags)", in.Thresholds)
	}

	for _, args := range [][]string{
		{"--metrics-cache", "-1s"}, {"--stats-cache", "-1s"}, {"--max-pending", "-1"}, {"--max-worker-silence", "0s"}, {"--lease", "0s"}, {"extra"},
	} {
		if _, _, err := run(args...); err == nil || !cmdutil.IsUsageError(err) {
			t.Errorf("serve %v: %v; want a usage error", args, err)
		}
	}
}

func TestServeAdminFlags(t *testing.T) {
	run := func(args ...string) (*ServeOptions, error) {
		ios, _, _, _ := render.Test(false, false)
		f := cmdutil.NewFactory(ios, func(string) string { return "" })
		var got *ServeOptions
		cmd := NewCmdServe(f, func(_ context.Context, o *ServeOptions) error { got = o; return nil })
		cmd.SetArgs(args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		return got, cmd.Execute()
	}
	if _, err := run("--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"); err != nil {
		t.Errorf("both on port 0: %v; want two free ports", err)
	}
	o, err := run()
	if err != nil {
		t.Fatal(err)
	}
	if o.SessionIdle != 30*time.Minute || o.SessionMax != 12*time.Hour || o.TLS != (web.TLS{}) || o.Proxy.UserHeader != "" || o.MetricsAddr != "" {
		t.Errorf("defaults: %+v", o)
	}
	o, err = run("--tls-cert", "c.pem", "--tls-key", "k.pem", "--metrics-addr", ":9100", "--session-idle", "10m", "--session-max", "1h",
		"--auth-proxy-header", "X-Forwarded-User", "--auth-proxy-groups-header", "X-Forwarded-Groups",
		"--auth-proxy-role", "ops=Manager", "--auth-proxy-role", "root=admin", "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	wantTrusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}
	if o.TLS != (web.TLS{CertFile: "c.pem", KeyFile: "k.pem"}) || o.MetricsAddr != ":9100" || o.SessionIdle != 10*time.Minute || o.SessionMax != time.Hour ||
		o.Proxy.UserHeader != "X-Forwarded-User" || o.Proxy.GroupsHeader != "X-Forwarded-Groups" ||
		!reflect.DeepEqual(o.Proxy.Roles, map[string]store.Role{"ops": store.RoleManager, "root": store.RoleAdmin}) || !reflect.DeepEqual(o.Proxy.Trusted, wantTrusted) {
		t.Errorf("flags: %+v", o)
	}
	for _, args := range [][]string{
		{"--tls-cert", "c.pem"},
		{"--tls-key", "k.pem"},
		{"--session-idle", "0s"},
		{"--session-idle", "2h", "--session-max", "1h"},
		{"--metrics-addr", "127.0.0.1:8080"},
		{"--trusted-proxy", "10.0.0.0/8"},
		{"--auth-proxy-header", "X-Forwarded-User"},
		{"--auth-proxy-header", "X-U", "--trusted-proxy", "10.0.0.300/8"},
		{"--auth-proxy-header", "X-U", "--trusted-proxy", "10.0.0.0/8", "--auth-proxy-role", "ops=manager"},
		{"--auth-proxy-header", "X-U", "--trusted-proxy", "10.0.0.0/8", "--auth-proxy-groups-header", "X-G", "--auth-proxy-role", "ops=root"},
		{"--auth-proxy-header", "X-U", "--trusted-proxy", "10.0.0.0/8", "--auth-proxy-groups-header", "X-G", "--auth-proxy-role", "ops"},
	} {
		if _, err := run(args...); err == nil || !cmdutil.IsUsageError(err) {
			t.Errorf("serve %v: %v; want a usage error", args, err)
		}
	}
}

// TestServeExposure: the admin stays on loopback while nobody could log
// in to it.
func TestServeExposure(t *testing.T) {
	s := teststore.SQLite(t)
	loop := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	all := &net.TCPAddr{IP: net.IPv4zero, Port: 8080}
	if err := checkExposure(context.Background(), s, loop, &ServeOptions{}); err != nil {
		t.Errorf("loopback without accounts: %v", err)
	}
	err := checkExposure(context.Background(), s, all, &ServeOptions{})
	if err == nil || !cmdutil.IsUsageError(err) || !strings.Contains(err.Error(), "jobctl user add") || strings.Contains(err.Error(), "\n") {
		t.Errorf("0.0.0.0 without accounts: %v; want a one-line usage error naming jobctl user add", err)
	}
	if err := checkExposure(context.Background(), s, all, &ServeOptions{Proxy: web.Proxy{UserHeader: "X-Forwarded-User"}}); err != nil {
		t.Errorf("0.0.0.0 behind a proxy: %v", err)
	}
	if err := s.AddAccount(context.Background(), &store.Account{Name: "alice", Role: store.RoleAdmin, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"}); err != nil {
		t.Fatal(err)
	}
	if err := checkExposure(context.Background(), s, all, &ServeOptions{}); err != nil {
		t.Errorf("0.0.0.0 with an account: %v", err)
	}
}

// TestServeBadCertificate: a certificate that cannot be read stops serve
// before it says it is serving.
func TestServeBadCertificate(t *testing.T) {
	dir := t.TempDir()
	ios, _, _, stderr := render.Test(false, false)
	f := cmdutil.NewFactory(ios, func(k string) string {
		if k == "JOBCTL_DATABASE_URL" {
			return "sqlite:" + filepath.Join(dir, "jobs.db")
		}
		return ""
	})
	cmd := NewCmdServe(f, nil)
	cmd.SetArgs([]string{"--addr", "127.0.0.1:0", "--tls-cert", filepath.Join(dir, "nope.pem"), "--tls-key", filepath.Join(dir, "nope.key")})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	if err == nil || !strings.HasPrefix(err.Error(), "--tls-cert/--tls-key: ") {
		t.Errorf("serve with a missing certificate: %v", err)
	}
	if strings.Contains(stderr.String(), "serving on") {
		t.Errorf("serve said it was serving: %q", stderr)
	}
}
