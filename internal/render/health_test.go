package render

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/store"
)

// healthReports are one report for each Nagios state, read off fixed
// snapshots, so that the golden files hold every figure exactly.
func healthReports() map[string]*health.Report {
	now := at(12, 0, 0)
	snap := func(pending, failed int64, oldest time.Duration, pings ...time.Duration) *store.Snapshot {
		s := &store.Snapshot{Now: now, Counts: map[store.Status]int64{store.StatusPending: pending, store.StatusFailed: failed, store.StatusDead: 3}}
		if oldest > 0 {
			s.OldestDue = ptr(now.Add(-oldest))
		}
		for _, p := range pings {
			s.Workers = append(s.Workers, &store.WorkerInfo{LastPing: now.Add(-p)})
		}
		return s
	}
	in := health.Inputs{Thresholds: config.DefaultHealth(), Lease: time.Minute, Latency: 1234 * time.Microsecond,
		Timeout: func(string) time.Duration { return 30 * time.Second }}
	return map[string]*health.Report{
		"ok":       health.Evaluate(snap(15, 2, 2*time.Minute, 5*time.Second), in),
		"warning":  health.Evaluate(snap(150, 2, 45*time.Minute, 5*time.Second), in),
		"critical": health.Evaluate(snap(150, 12, 2*time.Minute, 95*time.Second), in),
		"unknown":  health.Unreachable(errors.New("store postgres://x:****@127.0.0.1:1/x (from --db): cannot connect: connection refused")),
	}
}

// TestHealthNagios: the checklist is a Nagios plugin's output. Its first
// line is the status line, the same on a terminal and in a pipe; the
// checklist after it is coloured on a terminal only.
func TestHealthNagios(t *testing.T) {
	first := map[string]string{
		"ok":       "JOBCTL OK - 1 live worker, 15 pending, 2 failed, 3 dead | pending=15;100 failed=2;10 dead=3 oldest_pending=120s;1800 worker_last_ping=5s;;60 stuck=0;0",
		"warning":  "JOBCTL WARNING - 150 pending (warn > 100); oldest pending waited 45m (warn > 30m) | pending=150;100 failed=2;10 dead=3 oldest_pending=2700s;1800 worker_last_ping=5s;;60 stuck=0;0",
		"critical": "JOBCTL CRITICAL - no worker has pinged for 95s; 150 pending (warn > 100); 12 failed (warn > 10) | pending=150;100 failed=12;10 dead=3 oldest_pending=120s;1800 worker_last_ping=95s;;60 stuck=0;0",
		"unknown":  "JOBCTL UNKNOWN - store unreachable: store postgres://x:****@127.0.0.1:1/x (from --db): cannot connect: connection refused",
	}
	for name, r := range healthReports() {
		for _, m := range modes {
			t.Run(name+"_"+m.name, func(t *testing.T) {
				ios, _, out, errOut := Test(false, m.tty)
				if err := ios.Health(FormatTable, r); err != nil {
					t.Fatal(err)
				}
				line, rest, _ := strings.Cut(out.String(), "\n")
				if line != first[name] {
					t.Errorf("first line\n got %q\nwant %q", line, first[name])
				}
				if name == "unknown" && rest != "" {
					t.Errorf("an unreachable store has a checklist:\n%s", rest)
				}
				if !m.tty {
					assertPlain(t, out.String())
				} else if name != "unknown" && !strings.Contains(rest, "\x1b[") {
					t.Errorf("the checklist on a terminal is not coloured:\n%s", rest)
				}
				checkGolden(t, "health_"+name+"_"+m.name, out.String(), errOut.String())
			})
		}
	}
}

// TestNagiosLineInert: the summary may quote the database's own error. It
// can neither style the terminal, nor break the line, nor start the
// performance data with a "|".
func TestNagiosLineInert(t *testing.T) {
	got := NagiosLine("UNKNOWN", "store unreachable: \x1b[2Jpq: bad | \"x\"\nsecond", nil)
	want := "JOBCTL UNKNOWN - store unreachable: \\x1b[2Jpq: bad ¦ \"x\"\\nsecond\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := NagiosLine("OK", "fine", []health.PerfDatum{{Label: "dead", Value: 0}}); got != "JOBCTL OK - fine | dead=0\n" {
		t.Errorf("got %q", got)
	}
}

// TestHealthUnknown is the status line of a check that could not run.
func TestHealthUnknown(t *testing.T) {
	for _, m := range modes {
		ios, _, out, errOut := Test(false, m.tty)
		if err := ios.HealthUnknown("usage error: unknown flag: --bogus"); err != nil {
			t.Fatal(err)
		}
		if out.String() != "JOBCTL UNKNOWN - usage error: unknown flag: --bogus\n" || errOut.Len() != 0 {
			t.Errorf("%s: stdout %q stderr %q", m.name, out, errOut)
		}
	}
}
