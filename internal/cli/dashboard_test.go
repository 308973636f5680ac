package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

const (
	enterScreen = "\x1b[?1049h\x1b[?25l"
	leaveScreen = "\x1b[?25h\x1b[?1049l"
	clearFrame  = "\x1b[H\x1b[2J"
)

// dashboardFactory is a factory over a fresh SQLite store holding one job
// in each status, created a minute apart before render.TestNow.
func dashboardFactory(t *testing.T, tty bool) (*cmdutil.Factory, *bytes.Buffer, []*store.Job) {
	t.Helper()
	ios, _, out, _ := render.Test(tty, tty)
	f := cmdutil.NewFactory(ios, func(string) string { return "" })
	f.DBFlag = "sqlite:" + filepath.Join(t.TempDir(), "jobs.db")
	t.Cleanup(f.Close)
	var jobs []*store.Job
	for i, st := range store.Statuses {
		created := render.TestNow.Add(-time.Duration(len(store.Statuses)-i) * time.Minute)
		jobs = append(jobs, &store.Job{
			ID: store.NewID(created), Type: "Type" + string(st[:3]), Status: st, Priority: store.PriorityNormal,
			MaxAttempts: 5, ScheduledFor: created, CreatedAt: created, UpdatedAt: created.Add(30 * time.Second),
		})
	}
	s, err := f.StoreCreate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Import(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	return f, out, jobs
}

func TestDashboardFlags(t *testing.T) {
	tests := []struct {
		args      []string
		wantLimit int
		wantWatch time.Duration
		wantErr   string
	}{
		{args: []string{"dashboard"}, wantLimit: 10},
		{args: []string{"dash", "--watch", "2s", "--limit", "3"}, wantLimit: 3, wantWatch: 2 * time.Second},
		{args: []string{"dash", "-w", "500ms"}, wantLimit: 10, wantWatch: 500 * time.Millisecond},
		{args: []string{"dash", "--watch", "1d"}, wantLimit: 10, wantWatch: 24 * time.Hour},
		{args: []string{"dashboard", "--watch", "1x"}, wantErr: `--watch: invalid duration "1x" (use e.g. 90s, 10m, 1h, 30d)`},
		{args: []string{"dashboard", "--limit", "0"}, wantErr: "--limit must be at least 1"},
		{args: []string{"dashboard", "--watch", "10ms"}, wantErr: "--watch must be at least 100ms"},
		{args: []string{"dashboard", "-o", "json"}, wantErr: "dashboard draws for people only"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ios, _, _, _ := render.Test(false, false)
			f := cmdutil.NewFactory(ios, func(string) string { return "" })
			var got *DashboardOptions
			root := NewCmdRoot(f)
			// Swap the real command for one that captures its options.
			for _, c := range root.Commands() {
				if c.Name() == "dashboard" {
					root.RemoveCommand(c)
				}
			}
			root.AddCommand(NewCmdDashboard(f, func(_ context.Context, o *DashboardOptions) error {
				got = o
				return nil
			}))
			root.SetArgs(tt.args)
			err := root.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !cmdutil.IsUsageError(err) {
					t.Fatalf("err = %v, want a usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Limit != tt.wantLimit || got.Watch != tt.wantWatch {
				t.Errorf("limit %d, watch %v; want %d, %v", got.Limit, got.Watch, tt.wantLimit, tt.wantWatch)
			}
		})
	}
}

// TestDashboardPiped runs the command against a real store with stdout
// piped: one plain frame, even with --watch, with the newest jobs first.
func TestDashboardPiped(t *testing.T) {
	f, out, jobs := dashboardFactory(t, false)
	f.IO.Width = 120
	root := NewCmdRoot(f)
	root.SetArgs([]string{"dashboard", "--limit", "3", "--watch", "2s"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Contains(got, "\x1b") {
		t.Errorf("piped frame has escapes:\n%q", got)
	}
	if n := strings.Count(got, "Job Queue Dashboard"); n != 1 {
		t.Errorf("%d frames, want 1:\n%s", n, got)
	}
	for _, want := range []string{
		"Pending:   1  Running: 1  Failed:    1  Retrying: 1",
		"Completed: 1  Dead:    1  Cancelled: 1",
		// The three newest, as they last changed: 30s after creation.
		jobs[6].ID + " │ TypeDEA │ DEAD      │ 30s ago │ [Retry]",
		jobs[5].ID + " │ TypeCAN │ CANCELLED │ 1m ago  │ [Delete]",
		jobs[4].ID + " │ TypeRET │ RETRYING  │ 2m ago  │ [Cancel]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("frame lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, jobs[3].ID) {
		t.Errorf("frame shows more than --limit 3 jobs:\n%s", got)
	}
	if strings.Contains(got, "every 2s") {
		t.Errorf("piped frame claims to refresh:\n%s", got)
	}
}

// frameCounter stands in for a terminal: it counts the frames drawn and
// cancels the command's context once it has seen enough.
type frameCounter struct {
	buf    bytes.Buffer
	frames int
	stopAt int
	cancel context.CancelFunc
	// onFrame, when set, runs after each frame but the last.
	onFrame func(n int)
}

func (w *frameCounter) Write(p []byte) (int, error) {
	n := strings.Count(string(p), clearFrame)
	w.frames += n
	if w.frames >= w.stopAt {
		w.cancel()
	} else if n > 0 && w.onFrame != nil {
		defer w.onFrame(w.frames)
	}
	return w.buf.Write(p)
}

// TestDashboardWatch runs --watch on a terminal until the context is
// cancelled (as Ctrl-C does): frames are redrawn in place on the alternate
// screen, which is left, cursor shown, when the command ends without error.
func TestDashboardWatch(t *testing.T) {
	f, _, jobs := dashboardFactory(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w := &frameCounter{stopAt: 2, cancel: cancel}
	f.IO.Out = w
	root := NewCmdRoot(f)
	root.SetArgs([]string{"dashboard", "--watch", "100ms"})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("watch drew %d frames in 10s, want 2", w.frames)
	}
	got := w.buf.String()
	if !strings.HasPrefix(got, enterScreen+clearFrame) {
		t.Errorf("output does not start by entering the alternate screen: %.40q", got)
	}
	if !strings.HasSuffix(got, leaveScreen) {
		t.Errorf("output does not end by leaving the alternate screen: …%q", got[max(0, len(got)-40):])
	}
	if n := strings.Count(got, enterScreen); n != 1 {
		t.Errorf("entered the alternate screen %d times", n)
	}
	frames := strings.Split(strings.TrimSuffix(strings.TrimPrefix(got, enterScreen), leaveScreen), clearFrame)[1:]
	if len(frames) < 2 {
		t.Fatalf("%d frames, want at least 2", len(frames))
	}
	for _, fr := range frames {
		if !strings.Contains(fr, "every 100ms") || !strings.Contains(fr, jobs[6].ID) || !strings.Contains(fr, "💀") {
			t.Errorf("frame lacks the interval, the newest job or its icon:\n%s", fr)
		}
	}
}

// TestWatchRestoresOnError checks that a failing frame ends the watch
// with its error and the terminal restored.
func TestWatchRestoresOnError(t *testing.T) {
	ios, _, out, _ := render.Test(true, true)
	boom := errors.New("store went away")
	calls := 0
	err := watch(context.Background(), ios, time.Millisecond, nil, func(context.Context) (func() string, error) {
		calls++
		if calls == 2 {
			return nil, boom
		}
		return func() string { return "frame\n" }, nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	want := enterScreen + clearFrame + "frame" + leaveScreen
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// TestWatchRelaysOutOnResize checks that a resize redraws the last frame's
// data at once, laid out for the new size, without reading the store again.
func TestWatchRelaysOutOnResize(t *testing.T) {
	ios, _, _, _ := render.Test(true, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resized := make(chan os.Signal, 1)
	w := &frameCounter{stopAt: 3, cancel: cancel}
	w.onFrame = func(n int) {
		// The terminal shrinks after each frame is drawn.
		ios.Width -= 20
		resized <- syscall.SIGWINCH
	}
	ios.Out = w
	loads := 0
	err := watch(ctx, ios, time.Hour, resized, func(context.Context) (func() string, error) {
		loads++
		return func() string { return fmt.Sprintf("width %d\n", ios.Width) }, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("drew %d frames in 10s, want 3", w.frames)
	}
	got := w.buf.String()
	want := enterScreen + clearFrame + "width 100" + clearFrame + "width 80" + clearFrame + "width 60" + leaveScreen
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if loads != 1 {
		t.Errorf("loaded %d times, want once: a resize only lays out again", loads)
	}
}
