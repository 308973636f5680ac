package health

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

func f64(v float64) *float64 { return &v }

// TestPerfDatumString: the plugin guidelines' label=value[UOM];[warn];[crit];[min];[max],
// with the empty fields at the end dropped and those in between kept.
func TestPerfDatumString(t *testing.T) {
	for _, c := range []struct {
		d    PerfDatum
		want string
	}{
		{PerfDatum{Label: "dead", Value: 0}, "dead=0"},
		{PerfDatum{Label: "pending", Value: 15, Warn: f64(100)}, "pending=15;100"},
		{PerfDatum{Label: "worker_last_ping", Value: 5, UOM: "s", Crit: f64(60)}, "worker_last_ping=5s;;60"},
		{PerfDatum{Label: "worker_last_ping", Unknown: true, UOM: "s", Crit: f64(60)}, "worker_last_ping=U;;60"},
		{PerfDatum{Label: "latency", Value: 1.25, UOM: "ms", Warn: f64(0.5), Crit: f64(2), Min: f64(0), Max: f64(1e6)}, "latency=1.25ms;0.5;2;0;1000000"},
		{PerfDatum{Label: "x", Value: 3, Max: f64(10)}, "x=3;;;;10"},
		{PerfDatum{Label: "queue depth", Value: 1}, "'queue depth'=1"},
		{PerfDatum{Label: "it's", Value: 1}, "'it''s'=1"},
	} {
		if got := c.d.String(); got != c.want {
			t.Errorf("%+v: %q; want %q", c.d, got, c.want)
		}
	}
}

// TestPerfDataGuideExample is the guide's example health response as
// performance data: the line, plus the stuck jobs.
func TestPerfDataGuideExample(t *testing.T) {
	s := snap(15, 2, 2*time.Minute, 5*time.Second)
	s.Counts[store.StatusDead] = 0
	got := FormatPerfData(Evaluate(s, in()).PerfData())
	want := "pending=15;100 failed=2;10 dead=0 oldest_pending=120s;1800 worker_last_ping=5s;;60 stuck=0;0"
	if got != want {
		t.Errorf("perfdata\n got %s\nwant %s", got, want)
	}
	// Nothing pending, no worker ever: the age is 0s, the ping unknown;
	// thresholds from the inputs, fractional seconds as they are.
	i := in()
	i.Thresholds.MaxPending, i.Thresholds.MaxWorkerSilence, i.Thresholds.MaxOldestPending = 5, 1500*time.Millisecond, time.Hour
	got = FormatPerfData(Evaluate(snap(0, 0, 0), i).PerfData())
	want = "pending=0;5 failed=0;10 dead=1 oldest_pending=0s;3600 worker_last_ping=U;;1.5 stuck=0;0"
	if got != want {
		t.Errorf("perfdata\n got %s\nwant %s", got, want)
	}
	if d := Unreachable(errors.New("connection refused")).PerfData(); d != nil {
		t.Errorf("unreachable store has performance data %v; want none", d)
	}
}

// TestStateAndSummary: the status line's state follows the exit code, and
// its summary names the problems, the critical ones first.
func TestStateAndSummary(t *testing.T) {
	schemaErr := in()
	schemaErr.SchemaErr = errors.New("store is at version 9 of 2")
	withStuck := snap(0, 0, 0, time.Second)
	started := now.Add(-time.Hour)
	withStuck.Running = []*store.Job{{Type: "Slow", StartedAt: &started}, {Type: "Slow", StartedAt: &started}}
	for _, c := range []struct {
		name, state, summary string
		r                    *Report
	}{
		{"ok", "OK", "1 live worker, 15 pending, 2 failed, 1 dead", Evaluate(snap(15, 2, 2*time.Minute, 5*time.Second), in())},
		{"ok two workers", "OK", "2 live workers, 0 pending, 0 failed, 1 dead", Evaluate(snap(0, 0, 0, time.Second, 2*time.Second), in())},
		{"warning", "WARNING", "150 pending (warn > 100); 12 failed (warn > 10); oldest pending waited 45m (warn > 30m)",
			Evaluate(snap(150, 12, 45*time.Minute, time.Second), in())},
		{"stuck", "WARNING", "2 stuck jobs (past timeout + lease)", Evaluate(withStuck, in())},
		{"critical first", "CRITICAL", "no worker has pinged for 95s; 150 pending (warn > 100)", Evaluate(snap(150, 0, 0, 95*time.Second), in())},
		{"never registered", "CRITICAL", "no worker has registered", Evaluate(snap(0, 0, 0), in())},
		{"silent for days", "CRITICAL", "no worker has pinged for 3d", Evaluate(snap(0, 0, 0, 80*time.Hour), in())},
		{"schema", "CRITICAL", "schema: store is at version 9 of 2", Evaluate(snap(0, 0, 0, time.Second), schemaErr)},
		{"schema unreadable", "CRITICAL", "schema: store is at version 9 of 2", schemaOnly(schemaErr)},
		{"unreachable", "UNKNOWN", "store unreachable: connection refused", Unreachable(errors.New("connection refused"))},
		{"refused", "UNKNOWN", "permission denied: check schema needs jobs:read (GRANT jobctl_read TO eve)",
			Unreachable(&store.PermissionError{Op: "check schema", Perm: store.PermRead, Role: "eve"})},
		{"config", "UNKNOWN", "config file x.yaml: line 3: bad", Unchecked(errors.New("config file x.yaml: line 3: bad"))},
	} {
		if got := c.r.State(); got != c.state {
			t.Errorf("%s: state %s; want %s", c.name, got, c.state)
		}
		if got := c.r.Summary(); got != c.summary {
			t.Errorf("%s: summary\n got %q\nwant %q", c.name, got, c.summary)
		}
	}
}

// TestUnreadFiguresAreNull: a figure that could not be read is null in the
// JSON, not a zero that reads as "no pending jobs"; one that was read is a
// number, zeros included.
func TestUnreadFiguresAreNull(t *testing.T) {
	figures := []string{"pendingJobs", "failedJobs", "oldestPendingJob", "workerLastPing", "deadJobs", "stuckJobs", "liveWorkers", "databaseLatencyMs"}
	checksOf := func(r *Report) map[string]any {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Checks map[string]any }
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		return got.Checks
	}
	schemaErr := in()
	schemaErr.SchemaErr = errors.New("schema not migrated")
	for name, r := range map[string]*Report{
		"unreachable": Unreachable(errors.New("connection refused")),
		"config":      Unchecked(errors.New("config file x.yaml does not exist")),
		"schema":      schemaOnly(schemaErr),
	} {
		c := checksOf(r)
		for _, k := range figures {
			if k == "databaseLatencyMs" && name == "schema" {
				continue // the database answered the schema check
			}
			v, ok := c[k]
			if !ok || v != nil {
				t.Errorf("%s: checks.%s = %v (present %v); want null", name, k, v, ok)
			}
		}
		if c["worker"] != "unknown" {
			t.Errorf("%s: worker %v; want unknown", name, c["worker"])
		}
	}
	c := checksOf(Evaluate(snap(0, 0, 0), in()))
	for _, k := range figures {
		if c[k] == nil {
			t.Errorf("read: checks.%s is null", k)
		}
	}
	if c["pendingJobs"] != 0.0 || c["workerLastPing"] != "never" || c["oldestPendingJob"] != "none" {
		t.Errorf("read: %v", c)
	}
}

func TestCompactAndExact(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 95 * time.Second: "95s", 119 * time.Second: "119s", 2 * time.Minute: "2m", 45*time.Minute + 59*time.Second: "45m",
		119 * time.Minute: "119m", 2 * time.Hour: "2h", 47 * time.Hour: "47h", 80 * time.Hour: "3d",
	} {
		if got := compact(d); got != want {
			t.Errorf("compact(%v) = %q; want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{
		time.Minute: "1m", 30 * time.Minute: "30m", time.Hour: "1h", 90 * time.Second: "90s", 48 * time.Hour: "2d",
		1500 * time.Millisecond: "1.5s", 90 * time.Minute: "90m",
	} {
		if got := exact(d); got != want {
			t.Errorf("exact(%v) = %q; want %q", d, got, want)
		}
	}
	if !strings.Contains(Evaluate(snap(0, 0, 61*time.Minute, time.Second), in()).Summary(), "(warn > 30m)") {
		t.Error("the oldest-pending threshold is not in the summary")
	}
}
