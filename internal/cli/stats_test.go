package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

const longSMTPError = "SMTP connection refused by mail.example.com:587 after 3 attempts; check the relay's allow list"

// seedStats fills a store with a day of work whose numbers render the same
// however long the test takes: every time sits well inside its window.
func seedStats(t *testing.T, ms *monStore) {
	t.Helper()
	var specs []monJob
	for _, secs := range []int{1, 2, 3, 4} {
		specs = append(specs, monJob{typ: "CalendarSync", status: store.StatusCompleted, age: time.Hour, finished: 20 * time.Minute, ran: time.Duration(secs) * time.Second})
	}
	for i := range 10 {
		specs = append(specs, monJob{typ: "EmailSending", status: store.StatusCompleted, age: 4 * time.Hour, finished: 3 * time.Hour, ran: time.Duration(100+10*i) * time.Millisecond})
	}
	specs = append(specs,
		monJob{typ: "CalendarSync", status: store.StatusPending, n: 3, age: time.Minute},
		monJob{typ: "CalendarSync", status: store.StatusRunning, ran: 10 * time.Second},
		monJob{typ: "CalendarSync", status: store.StatusDead, n: 3, age: time.Hour, finished: 10 * time.Minute, ran: 2 * time.Second,
			errMsg: "Token refresh failed: Invalid refresh token", errCode: "AUTH_ERROR"},
		monJob{typ: "EmailSending", status: store.StatusFailed, age: 3 * time.Hour, finished: 2 * time.Hour, ran: time.Second,
			errMsg: longSMTPError, errCode: "NETWORK_ERROR"},
		monJob{typ: "EmailSending", status: store.StatusRetrying, n: 2, age: time.Hour},
		monJob{typ: "EmailSending", status: store.StatusCancelled, age: time.Hour, finished: time.Hour},
		monJob{typ: "MetricCalculation", status: store.StatusDead, n: 2, age: 6 * time.Hour, finished: 5 * time.Hour, ran: 2 * time.Minute,
			errMsg: "Execution time limit exceeded", errCode: "TIMEOUT"},
		// Two days ago: counted, but outside the run times and top errors.
		monJob{typ: "MetricCalculation", status: store.StatusCompleted, age: 49 * time.Hour, finished: 48 * time.Hour, ran: 2 * time.Minute},
		monJob{typ: "MetricCalculation", status: store.StatusDead, age: 49 * time.Hour, finished: 48 * time.Hour, ran: time.Minute,
			errMsg: "Old failure", errCode: "INTERNAL_ERROR"},
		monJob{typ: "ReportGeneration", status: store.StatusCompleted, age: time.Hour, finished: 30 * time.Minute, ran: 90 * time.Second},
		monJob{typ: "ReportGeneration", status: store.StatusCompleted, age: time.Hour, finished: 30 * time.Minute, ran: 2 * time.Minute},
	)
	ms.seed(t, specs...)
}

func TestStatsCommandGolden(t *testing.T) {
	ms := newMonSQLite(t)
	seedStats(t, ms)
	for _, m := range []struct {
		name string
		tty  bool
	}{{"tty", true}, {"piped", false}} {
		t.Run(m.name, func(t *testing.T) {
			code, out, stderr := monRun(t, m.tty, nil, append([]string{"stats"}, ms.args...)...)
			if code != 0 {
				t.Errorf("exit %d; want 0", code)
			}
			monGolden(t, "stats_"+m.name, out, stderr)
		})
	}
}

// TestStatsCommandJSON checks -o json's numbers on each backend: they must
// agree.
func TestStatsCommandJSON(t *testing.T) {
	for _, b := range monBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ms := b.open(t)
			seedStats(t, ms)
			st := monStats(t, ms)
			want := map[store.Status]int64{store.StatusPending: 3, store.StatusRunning: 1, store.StatusRetrying: 2, store.StatusCompleted: 17,
				store.StatusFailed: 1, store.StatusCancelled: 1, store.StatusDead: 6}
			for s, n := range want {
				if st.ByStatus[s] != n {
					t.Errorf("byStatus[%s] = %d; want %d", s, st.ByStatus[s], n)
				}
			}
			if st.Completed1h != 6 || st.Failed1h != 3 || st.Completed24h != 16 || st.Failed24h != 6 {
				t.Errorf("windows: %d/%d completed, %d/%d failed; want 6/16, 3/6", st.Completed1h, st.Completed24h, st.Failed1h, st.Failed24h)
			}
			var types []string
			for _, ts := range st.ByType {
				types = append(types, ts.Type)
				if ts.Type == "ReportGeneration" && (ts.Completed != 2 || ts.P50 != 105 || ts.P95 != 118.5) {
					t.Errorf("ReportGeneration: %+v; want p50 105s, p95 118.5s", ts)
				}
			}
			if strings.Join(types, ",") != "CalendarSync,EmailSending,MetricCalculation,ReportGeneration" {
				t.Errorf("types %v", types)
			}
			var errs []string
			for _, e := range st.TopErrors {
				errs = append(errs, fmt.Sprintf("%s×%d", e.Code, e.Count))
			}
			if strings.Join(errs, " ") != "AUTH_ERROR×3 TIMEOUT×2 NETWORK_ERROR×1" {
				t.Errorf("top errors %v", errs)
			}

			// --since all reaches back to the old failure; --top cuts the
			// list; --type narrows everything.
			st = monStats(t, ms, "--since", "all", "--top", "4")
			if len(st.TopErrors) != 4 || st.TopErrors[2].Code != "INTERNAL_ERROR" {
				t.Errorf("--since all --top 4: %+v", st.TopErrors)
			}
			st = monStats(t, ms, "--since", "all", "--top", "1")
			if len(st.TopErrors) != 1 {
				t.Errorf("--top 1: %+v", st.TopErrors)
			}
			st = monStats(t, ms, "--type", "MetricCalculation,ReportGeneration")
			if len(st.ByType) != 2 || len(st.TopErrors) != 1 || st.TopErrors[0].Code != "TIMEOUT" || st.ByStatus[store.StatusPending] != 0 {
				t.Errorf("--type: %d types, errors %+v, byStatus %v", len(st.ByType), st.TopErrors, st.ByStatus)
			}
		})
	}
}

func monStats(t *testing.T, ms *monStore, flags ...string) *store.Stats {
	t.Helper()
	code, out, stderr := monRun(t, false, nil, append(append([]string{"stats", "-o", "json"}, ms.args...), flags...)...)
	if code != 0 {
		t.Fatalf("stats %v: exit %d: %s", flags, code, stderr)
	}
	var st store.Stats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func TestStatsCommandEmpty(t *testing.T) {
	ms := newMonSQLite(t)
	code, out, _ := monRun(t, false, nil, append([]string{"stats"}, ms.args...)...)
	if code != 0 || !strings.Contains(out, "By Type (P50 and P95 run times: last 24h):\n  No jobs\n") || !strings.HasSuffix(out, "Top Errors (FAILED and DEAD, last 24h):\n  None\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = monRun(t, false, nil, append([]string{"stats", "-o", "json"}, ms.args...)...)
	if code != 0 || !strings.Contains(out, `"byType": []`) || !strings.Contains(out, `"topErrors": []`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestStatsCommandFlags(t *testing.T) {
	ios, _, _, _ := render.Test(false, false)
	f := cmdutil.NewFactory(ios, func(string) string { return "" })
	now := time.Date(2025, 10, 25, 12, 0, 0, 0, time.UTC)
	f.Now = func() time.Time { return now }
	tests := []struct {
		args   []string
		since  time.Time
		window string
		types  []string
		top    int
	}{
		{nil, now.Add(-24 * time.Hour), "last 24h", nil, 5},
		{[]string{"--since", "7d", "--top", "10"}, now.Add(-7 * 24 * time.Hour), "last 7d", nil, 10},
		{[]string{"--since", "all", "--type", "A, B", "--type", "C"}, time.Time{}, "all time", []string{"A", "B", "C"}, 5},
		{[]string{"--since", "2025-10-01T00:00:00Z"}, time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), "since 2025-10-01T00:00:00Z", nil, 5},
	}
	for _, tt := range tests {
		var got *StatsOptions
		cmd := NewCmdStats(f, func(_ context.Context, o *StatsOptions) error { got = o; return nil })
		cmd.SetArgs(append([]string{}, tt.args...)) // nil would read os.Args
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		p := got.Params
		if !p.Since.Equal(tt.since) || got.Window != tt.window || strings.Join(p.Types, ",") != strings.Join(tt.types, ",") || p.TopErrors != tt.top {
			t.Errorf("%v: since %v window %q types %v top %d", tt.args, p.Since, got.Window, p.Types, p.TopErrors)
		}
	}

	for _, args := range [][]string{{"--since", "soon"}, {"--top", "0"}, {"-o", "csv"}} {
		code, _, stderr := monRun(t, false, nil, append([]string{"stats"}, args...)...)
		if code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("stats %v: exit %d, stderr %q; want a usage error", args, code, stderr)
		}
	}
}
