package main_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemon is a long-running jobctl process whose stderr is read line by
// line.
type daemon struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan error
}

func startDaemon(t *testing.T, env []string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "jobctl"), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = t.TempDir() // no ./jobctl.yaml but the one the test names
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, lines: make(chan string, 100), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.lines <- sc.Text()
		}
		close(d.lines)
		d.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return d
}

// waitLine returns the first match of re on a stderr line, skipping lines
// before it.
func (d *daemon) waitLine(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case line, ok := <-d.lines:
			if !ok {
				t.Fatalf("jobctl exited before printing a line matching %s: %v", re, <-d.done)
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		case <-timeout:
			t.Fatalf("no stderr line matching %s in 15s", re)
		}
	}
}

// stop sends SIGTERM and returns the exit code and the rest of stderr.
func (d *daemon) stop(t *testing.T) (int, string) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest []string
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-d.lines:
			if ok {
				rest = append(rest, line)
				continue
			}
			err := <-d.done
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode(), strings.Join(rest, "\n")
			}
			if err != nil {
				t.Fatal(err)
			}
			return 0, strings.Join(rest, "\n")
		case <-timeout:
			t.Fatal("jobctl did not exit within 20s of SIGTERM")
		}
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func runJobctl(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "jobctl"), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("jobctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestServeSIGTERM runs `jobctl serve` as a user would: it says where it
// listens, answers both endpoints, and exits 0 on SIGTERM.
func TestServeSIGTERM(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"JOBCTL_DATABASE_URL=sqlite:" + filepath.Join(dir, "jobs.db"), "JOBCTL_CONFIG=", "HOME=" + dir, "XDG_DATA_HOME=" + dir}
	runJobctl(t, env, "enqueue", "CalendarSync")
	d := startDaemon(t, env, "serve", "--addr", "127.0.0.1:0")
	base := d.waitLine(t, regexp.MustCompile(`^serving on (http://127\.0\.0\.1:\d+)$`))

	code, body := httpGet(t, base+"/api/admin/jobs/health")
	var r struct {
		Status string
		Checks struct{ PendingJobs int64 }
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("health: %v\n%s", err, body)
	}
	if code != http.StatusServiceUnavailable || r.Status != "unhealthy" || r.Checks.PendingJobs != 1 {
		t.Errorf("health with no worker: %d %s, %d pending; want 503 unhealthy, 1 pending", code, r.Status, r.Checks.PendingJobs)
	}
	code, body = httpGet(t, base+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, `jobctl_jobs{status="PENDING",type="CalendarSync"} 1`) {
		t.Errorf("metrics: %d\n%s", code, body)
	}

	// Nothing more on stderr than one log line per request.
	code, rest := d.stop(t)
	logLine := regexp.MustCompile(`^time=\S+ level=INFO msg=request method=GET path=(/api/admin/jobs/health status=503|/metrics status=200) duration=\S+ account=""$`)
	lines := strings.Split(rest, "\n")
	if code != 0 || len(lines) != 2 || !logLine.MatchString(lines[0]) || !logLine.MatchString(lines[1]) {
		t.Errorf("after SIGTERM: exit %d, stderr %q; want 0 and the two requests' log lines", code, rest)
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
		c.Close()
		t.Error("still listening after exit")
	}
}

// TestWorkerMetricsAddr runs a worker with --metrics-addr: its counters
// follow the jobs it runs, and the endpoint goes away with the worker.
func TestWorkerMetricsAddr(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "jobctl.yaml")
	if err := os.WriteFile(cfg, []byte("jobs:\n  Noop:\n    handler: {builtin: noop}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"JOBCTL_DATABASE_URL=sqlite:" + filepath.Join(dir, "jobs.db"), "JOBCTL_CONFIG=" + cfg, "HOME=" + dir, "XDG_DATA_HOME=" + dir}
	runJobctl(t, env, "migrate")
	d := startDaemon(t, env, "worker", "run", "--metrics-addr", "127.0.0.1:0", "--poll-interval", "50ms")
	url := d.waitLine(t, regexp.MustCompile(`msg="serving metrics" url=(http://\S+/metrics)`))

	_, body := httpGet(t, url)
	if !strings.Contains(body, `jobctl_worker_jobs_completed_total{type="Noop"} 0`) {
		t.Errorf("before any job, no zero Noop counter:\n%s", body)
	}
	runJobctl(t, env, "enqueue", "Noop")
	runJobctl(t, env, "enqueue", "Noop")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(body, `jobctl_worker_jobs_completed_total{type="Noop"} 2`) {
		if time.Now().After(deadline) {
			t.Fatalf("2 Noop jobs not counted in 10s:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
		_, body = httpGet(t, url)
	}
	if !strings.Contains(body, `jobctl_worker_job_duration_seconds_count{type="Noop"} 2`) || !strings.Contains(body, "jobctl_worker_jobs_in_flight 0") {
		t.Errorf("duration histogram or in-flight gauge off:\n%s", body)
	}

	if code, rest := d.stop(t); code != 0 {
		t.Errorf("after SIGTERM: exit %d\n%s", code, rest)
	}
	if _, err := http.Get(url); err == nil {
		t.Error("metrics still served after the worker stopped")
	}
}
