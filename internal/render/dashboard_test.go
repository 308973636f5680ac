package render

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/jobctl/jobctl/internal/store"
)

// dashboardView is the guide's dashboard numbers with every status, and
// the listing fixtures plus a job whose real-length ID and long type must
// give way on a narrow terminal.
func dashboardView() *DashboardView {
	jobs := append([]*store.Job{{
		ID: "job_01jd8x6r3eq4v5w6x7y8z9a0bc", Type: "MonthlyInvoiceReconciliation",
		Status: store.StatusPending, CreatedAt: at(11, 59, 58), UpdatedAt: at(11, 59, 58),
	}}, listJobs()...)
	return &DashboardView{
		Source: "postgres://jobctl:****@db.internal:5432/jobs",
		Counts: map[store.Status]int64{
			store.StatusPending: 15, store.StatusRunning: 3, store.StatusFailed: 2,
			store.StatusCompleted: 1234567, store.StatusRetrying: 1, store.StatusCancelled: 4,
		},
		Jobs: jobs,
	}
}

func TestDashboard(t *testing.T) {
	for _, width := range []int{60, 120} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			runModes(t, fmt.Sprintf("dashboard_%d", width), func(ios *IO) error {
				ios.Width = width
				frame := ios.Dashboard(dashboardView())
				checkFits(t, frame, width)
				ios.Printf("%s", frame)
				return nil
			})
		})
	}
}

// checkFits fails unless every line of frame fills exactly width columns:
// the box neither overflows the terminal nor leaves a ragged edge.
func checkFits(t *testing.T, frame string, width int) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSuffix(frame, "\n"), "\n") {
		if w := ansi.StringWidth(line); w != width {
			t.Errorf("line is %d columns, want %d: %q", w, width, ansi.Strip(line))
		}
	}
}

func TestDashboardEmptyNarrow(t *testing.T) {
	// A fresh store on a 40-column terminal: the summary takes fewer
	// statuses to a line instead of overflowing.
	ios, _, _, _ := Test(false, false)
	ios.Width = 40
	frame := ios.Dashboard(&DashboardView{Counts: map[store.Status]int64{store.StatusCompleted: 1234567}})
	checkFits(t, frame, 40)
	for _, want := range []string{"Job Queue Dashboard", "Completed: 1,234,567", "Cancelled:", "No jobs yet"} {
		if !strings.Contains(frame, want) {
			t.Errorf("frame lacks %q:\n%s", want, frame)
		}
	}
}

// An estimated count (a large Postgres table's COMPLETED jobs) says so,
// and the grid stays aligned and within the terminal.
func TestDashboardEstimated(t *testing.T) {
	ios, _, _, _ := Test(false, false)
	ios.Width = 60
	frame := ios.Dashboard(&DashboardView{
		Counts:    map[store.Status]int64{store.StatusCompleted: 958170, store.StatusFailed: 20},
		Estimated: map[store.Status]bool{store.StatusCompleted: true},
	})
	checkFits(t, frame, 60)
	if !strings.Contains(frame, "Completed: ≈958,170") || strings.Contains(frame, "≈20") {
		t.Errorf("want COMPLETED shown as an estimate and FAILED as a count:\n%s", frame)
	}
}

func TestDashboardTitleWatching(t *testing.T) {
	ios, _, _, _ := Test(false, false)
	ios.Width = 80
	frame := ios.Dashboard(&DashboardView{Source: "/var/lib/jobctl/jobs.db", Every: 2 * time.Second})
	if !strings.Contains(frame, "/var/lib/jobctl/jobs.db · every 2s · 12:00:00 │") {
		t.Errorf("title row lacks the store, the interval and the time:\n%s", frame)
	}
}

// TestDashboardAction checks the mapping against the guide's action table
// as the store enforces it: the dashboard never offers a refused action.
func TestDashboardAction(t *testing.T) {
	acts := map[string]store.Action{"Start": store.ActStart, "Cancel": store.ActCancel, "Retry": store.ActRetry, "Delete": store.ActDelete}
	for _, s := range store.Statuses {
		a := DashboardAction(s)
		if a == "View" {
			continue // show works on any job
		}
		act, ok := acts[a]
		if !ok {
			t.Errorf("DashboardAction(%s) = %q, not a jobctl action", s, a)
			continue
		}
		if !slices.Contains(store.Allowed[act], s) {
			t.Errorf("DashboardAction(%s) = %q, which the store refuses for %s", s, a, s)
		}
	}
	if got := DashboardAction(store.StatusCompleted); got != "View" {
		t.Errorf("DashboardAction(COMPLETED) = %q, want View", got)
	}
}

func TestShortID(t *testing.T) {
	tests := []struct {
		id   string
		n    int
		want string
	}{
		{"job_01jd8x6r3e", 20, "job_01jd8x6r3e"},
		{"job_01jd8x6r3e", 10, "01jd8x6r3e"},
		{"job_01jd8x6r3eq4v5", 8, "…r3eq4v5"},
	}
	for _, tt := range tests {
		if got := shortID(tt.id, tt.n); got != tt.want {
			t.Errorf("shortID(%q, %d) = %q, want %q", tt.id, tt.n, got, tt.want)
		}
	}
}

func TestScreen(t *testing.T) {
	var out bytes.Buffer
	ios := &IO{Out: &out}
	s := ios.OpenScreen()
	s.Draw("frame 1\n")
	s.Draw("frame 2\n")
	s.Close()
	s.Close()
	want := "\x1b[?1049h\x1b[?25l" +
		"\x1b[H\x1b[2Jframe 1" +
		"\x1b[H\x1b[2Jframe 2" +
		"\x1b[?25h\x1b[?1049l"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// TestDashboardHeight fits a watched frame to short screens: the oldest
// recent jobs give way, then the table, then the frame's bottom; no frame
// is taller than the screen, and every line still fits its width.
func TestDashboardHeight(t *testing.T) {
	tests := []struct {
		height       int
		want, absent []string
	}{
		// Tall enough: all eight jobs, no note.
		{height: 30, want: []string{"01jddead"}, absent: []string{"newest"}},
		{height: 22, want: []string{"01jddead"}, absent: []string{"newest"}},
		// Four lines short: the four oldest go.
		{height: 18, want: []string{"Recent Jobs (newest 4 of 8)", "01jdpend"}, absent: []string{"01jddone", "01jddead"}},
		// One job left.
		{height: 15, want: []string{"Recent Jobs (newest 1 of 8)", "9a0bc"}, absent: []string{"12345abc"}},
		// No room for a table at all.
		{height: 12, want: []string{"8 jobs hidden: the terminal is too short", "Completed: 1,234,567"}, absent: []string{"9a0bc"}},
		// Shorter than the summary: the top of the frame.
		{height: 5, want: []string{"Job Queue Dashboard", "Pending:"}, absent: []string{"Recent Jobs"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.height), func(t *testing.T) {
			ios, _, _, _ := Test(false, false)
			ios.Width = 60
			v := dashboardView()
			v.Height = tt.height
			frame := ios.Dashboard(v)
			if n := strings.Count(frame, "\n"); n > tt.height {
				t.Errorf("frame is %d lines, screen %d:\n%s", n, tt.height, frame)
			}
			if tt.height >= 12 {
				checkFits(t, frame, 60)
			}
			for _, w := range tt.want {
				if !strings.Contains(frame, w) {
					t.Errorf("frame lacks %q:\n%s", w, frame)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(frame, a) {
					t.Errorf("frame has %q:\n%s", a, frame)
				}
			}
		})
	}
	runModes(t, "dashboard_60x18", func(ios *IO) error {
		ios.Width = 60
		v := dashboardView()
		v.Height = 18
		ios.Printf("%s", ios.Dashboard(v))
		return nil
	})
}
