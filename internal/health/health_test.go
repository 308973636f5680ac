package health

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/store"
)

var now = time.Date(2025, 10, 25, 12, 0, 0, 0, time.UTC)

func snap(pending, failed int64, oldest time.Duration, pings ...time.Duration) *store.Snapshot {
	s := &store.Snapshot{Now: now, Counts: map[store.Status]int64{store.StatusPending: pending, store.StatusFailed: failed, store.StatusDead: 1}}
	if oldest > 0 {
		t := now.Add(-oldest)
		s.OldestDue = &t
	}
	for _, p := range pings {
		s.Workers = append(s.Workers, &store.WorkerInfo{LastPing: now.Add(-p)})
	}
	return s
}

func in() Inputs {
	return Inputs{Thresholds: config.DefaultHealth(), Lease: time.Minute, Timeout: func(string) time.Duration { return 30 * time.Second }}
}

func checks(r *Report) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.Check+":"+p.Severity)
	}
	sort.Strings(out)
	return out
}

func TestEvaluateThresholds(t *testing.T) {
	cases := []struct {
		name     string
		snap     *store.Snapshot
		status   string
		exit     int
		problems []string
	}{
		{"guide example", snap(15, 2, 2*time.Minute, 5*time.Second), Healthy, 0, nil},
		{"at the thresholds", snap(100, 10, 30*time.Minute, 60*time.Second), Healthy, 0, nil},
		{"pending over 100", snap(101, 0, time.Minute, time.Second), Degraded, 1, []string{"pendingJobs:warning"}},
		{"failed over 10", snap(0, 11, 0, time.Second), Degraded, 1, []string{"failedJobs:warning"}},
		{"oldest pending over 30m", snap(1, 0, 31*time.Minute, time.Second), Degraded, 1, []string{"oldestPendingJob:warning"}},
		{"worker silent over 60s", snap(1, 0, time.Minute, 61*time.Second), Unhealthy, 2, []string{"workerLastPing:critical"}},
		{"no worker at all", snap(1, 0, time.Minute), Unhealthy, 2, []string{"worker:critical"}},
		{"one live worker is enough", snap(1, 0, time.Minute, time.Hour, 2*time.Second), Healthy, 0, nil},
		{"warnings and a critical", snap(500, 50, time.Hour), Unhealthy, 2, []string{"failedJobs:warning", "oldestPendingJob:warning", "pendingJobs:warning", "worker:critical"}},
	}
	for _, c := range cases {
		r := Evaluate(c.snap, in())
		if r.Status != c.status || r.ExitCode() != c.exit || !reflect.DeepEqual(checks(r), c.problems) && len(c.problems)+len(r.Problems) > 0 {
			t.Errorf("%s: %s exit %d problems %v; want %s exit %d %v", c.name, r.Status, r.ExitCode(), checks(r), c.status, c.exit, c.problems)
		}
	}
}

func TestSilentWorkerMessage(t *testing.T) {
	r := Evaluate(snap(0, 0, 0, 5*time.Minute), in())
	if len(r.Problems) != 1 || r.Problems[0].Message != "no worker has pinged for 5 minutes (threshold 1 minute)" {
		t.Errorf("problems: %+v", r.Problems)
	}
}

func TestStuckJobsAndOverrides(t *testing.T) {
	s := snap(0, 0, 0, time.Second)
	started := now.Add(-2 * time.Minute)
	fresh := now.Add(-10 * time.Second)
	s.Running = []*store.Job{{Type: "Slow", StartedAt: &started}, {Type: "Slow", StartedAt: &fresh}}
	r := Evaluate(s, in())
	if *r.Checks.StuckJobs != 1 || r.Status != Degraded {
		t.Errorf("stuck: %d %s; want 1 degraded (timeout 30s + lease 60s < 2m)", *r.Checks.StuckJobs, r.Status)
	}
	i := in()
	i.Timeout = func(string) time.Duration { return time.Hour }
	if r := Evaluate(s, i); *r.Checks.StuckJobs != 0 {
		t.Errorf("with a 1h timeout, %d stuck; want 0", *r.Checks.StuckJobs)
	}
	i = in()
	i.Thresholds.MaxPending = 5
	if r := Evaluate(snap(6, 0, 0, time.Second), i); r.Status != Degraded {
		t.Errorf("--max-pending 5 with 6 pending: %s", r.Status)
	}
	i = in()
	i.SchemaErr = errors.New("store is at version 1 of 2")
	if r := Evaluate(snap(0, 0, 0, time.Second), i); r.Status != Unhealthy {
		t.Errorf("schema behind: %s", r.Status)
	}
}

// The JSON has the guide's keys, in the guide's order, before jobctl's own.
func TestJSONShapeMatchesGuide(t *testing.T) {
	guide := `{"status":"healthy","checks":{"database":"ok","redis":"ok","worker":"running","pendingJobs":15,"failedJobs":2,"oldestPendingJob":"2 minutes","workerLastPing":"5 seconds ago"}}`
	var want map[string]any
	_ = json.Unmarshal([]byte(guide), &want)
	b, _ := json.Marshal(Evaluate(snap(15, 2, 2*time.Minute, 5*time.Second), in()))
	var got map[string]any
	_ = json.Unmarshal(b, &got)
	if got["status"] != "healthy" {
		t.Errorf("status = %v", got["status"])
	}
	gc, wc := got["checks"].(map[string]any), want["checks"].(map[string]any)
	for k, v := range wc {
		if _, ok := gc[k]; !ok {
			t.Errorf("checks lacks the guide's key %q", k)
		}
		if k != "redis" && gc[k] != v {
			t.Errorf("checks.%s = %v; the guide's example gives %v", k, gc[k], v)
		}
	}
	if _, ok := got["problems"].([]any); !ok {
		t.Errorf("problems is not a list: %s", b)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0 seconds", time.Second: "1 second", 5 * time.Second: "5 seconds", 2 * time.Minute: "2 minutes",
		90 * time.Minute: "1 hour", 47 * time.Hour: "47 hours", 72 * time.Hour: "3 days",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q; want %q", d, got, want)
		}
	}
	if Ago(5*time.Second) != "5 seconds ago" {
		t.Error(Ago(5 * time.Second))
	}
}

func TestUnreachable(t *testing.T) {
	r := Unreachable(errors.New("connection refused"))
	if r.ExitCode() != ExitUnreachable || r.Status != Unhealthy {
		t.Errorf("unreachable: %s exit %d", r.Status, r.ExitCode())
	}
}

// A store that refuses the check was reached: the problem says what it
// refused, not that it is unreachable.
func TestRefused(t *testing.T) {
	r := Unreachable(&store.PermissionError{Op: "check schema", Perm: store.PermRead, Role: "eve"})
	want := "permission denied: check schema needs jobs:read (GRANT jobctl_read TO eve)"
	if r.ExitCode() != ExitUnreachable || len(r.Problems) != 1 || r.Problems[0].Message != want {
		t.Errorf("refused: exit %d, %+v; want %q", r.ExitCode(), r.Problems, want)
	}
	if r.Checks.Database != "refused: "+want {
		t.Errorf("database check %q", r.Checks.Database)
	}
}
