package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/jobctl/jobctl/internal/store"
)

func TestFitTable(t *testing.T) {
	headers := []string{"ID", "NAME", "COUNT", "NOTE"}
	rows := [][]string{
		{"job_01", "請求書の照合処理", "12", "\x1b[1mbold\x1b[0m note that runs on"},
		{"job_02", "short", "7", "-"},
	}
	fit := Fit{Keep: []string{"ID"}, Cut: []string{"NOTE", "NAME", "COUNT"}, Whole: []string{"COUNT"},
		Min: map[string]int{"NOTE": 6, "NAME": 7}}
	// twwidth.Truncate closes a cut styled cell with a reset.
	const reset = "\x1b[0m"
	tests := []struct {
		width   int
		headers []string
		rows    [][]string
	}{
		// Wide enough: nothing changes (ID 6, NAME 16, COUNT 5, NOTE 22,
		// three gaps of two: 55).
		{55, headers, rows},
		// The note gives way first, escapes counting zero; the CJK name
		// counts two columns a character.
		{50, headers, [][]string{
			{"job_01", "請求書の照合処理", "12", "\x1b[1mbold\x1b[0m note that r" + reset + "…"},
			{"job_02", "short", "7", "-"},
		}},
		// Note at its minimum, then the name: a wide character that does
		// not fit whole is left out, not split.
		{33, headers, [][]string{
			{"job_01", "請求書の…", "12", "\x1b[1mbold\x1b[0m " + reset + "…"},
			{"job_02", "short", "7", "-"},
		}},
		// Name at its minimum, then the count, whose cells are whole:
		// only its header narrows.
		{29, []string{"ID", "NAME", "COU…", "NOTE"}, [][]string{
			{"job_01", "請求書…", "12", "\x1b[1mbold\x1b[0m " + reset + "…"},
			{"job_02", "short", "7", "-"},
		}},
		// Even the minimums do not fit: whole columns go, right to left
		// as Hide names none, and the rest widen again.
		{20, []string{"ID", "NAME"}, [][]string{
			{"job_01", "請求書の照…"},
			{"job_02", "short"},
		}},
		// The kept column stays whole even when nothing else fits.
		{3, []string{"ID"}, [][]string{{"job_01"}, {"job_02"}}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.width), func(t *testing.T) {
			h, r := fitTable(headers, rows, tt.width, fit)
			if fmt.Sprintf("%q", h) != fmt.Sprintf("%q", tt.headers) || fmt.Sprintf("%q", r) != fmt.Sprintf("%q", tt.rows) {
				t.Errorf("got\n%q\n%q\nwant\n%q\n%q", h, r, tt.headers, tt.rows)
			}
		})
	}
	if rows[0][3] != "\x1b[1mbold\x1b[0m note that runs on" {
		t.Error("fitTable changed the caller's rows")
	}
	// Hide names the order whole columns go in.
	fit.Hide = []string{"NAME", "NOTE"}
	if h, _ := fitTable(headers, rows, 20, fit); fmt.Sprint(h) != "[ID COU… NOTE]" {
		t.Errorf("with Hide NAME first: %q", h)
	}
}

func TestCutCellLeft(t *testing.T) {
	if got := cutCell("job_01jd8x6r3eq4v5w6x7y8z9a0bc", 10, true); got != "…7y8z9a0bc" {
		t.Errorf("got %q", got)
	}
	if got := cutCell("ab照合", 4, true); got != "…合" {
		t.Errorf("got %q", got)
	}
}

// widthJobs are the listing fixtures and a job as long as real ones: a
// full-length ID, a CJK type and a parent ID.
func widthJobs() []*store.Job {
	return append(listJobs(), &store.Job{
		ID: "job_01jd8x6r3eq4v5w6x7y8z9a0bc", Type: "請求書の照合", Status: store.StatusFailed,
		Priority: store.PriorityHigh, Attempts: 1, MaxAttempts: 3, ErrorCode: "MISMATCH",
		ErrorMessage: "invoice 2025-10-0042 total 1,204.50 does not match the ledger's 1,240.50",
		ScheduledFor: at(11, 0, 0), CreatedAt: at(11, 0, 0), StartedAt: ptr(at(11, 0, 1)),
		CompletedAt: ptr(at(11, 0, 3)), UpdatedAt: at(11, 0, 3), UserID: "user_long_name_42",
		ParentID: "job_01jd8x6r3eq4v5w6x7y8z9a0aa",
	})
}

func widthStats() *store.Stats {
	return &store.Stats{
		ByStatus: map[store.Status]int64{store.StatusPending: 1234, store.StatusCompleted: 98765, store.StatusFailed: 12},
		ByType: []*store.TypeStats{
			{Type: "MonthlyInvoiceReconciliation", Counts: map[store.Status]int64{store.StatusPending: 1200, store.StatusCompleted: 98000, store.StatusFailed: 12},
				Completed: 98000, P50: 1.25, P95: 125.5},
			{Type: "請求書の照合", Counts: map[store.Status]int64{store.StatusPending: 34, store.StatusCompleted: 765}, Completed: 765, P50: 0.12, P95: 0.9},
		},
		Completed1h: 1234, Failed1h: 5, Completed24h: 123456, Failed24h: 78901,
		TopErrors: []store.ErrorCount{
			{Code: "AUTH_ERROR", Message: "Token refresh failed: Invalid refresh token", Count: 3},
			{Code: "NETWORK_ERROR", Message: "SMTP connection refused by mail.example.com:587 after 3 attempts", Count: 2},
		},
	}
}

// TestTablesFitWidth draws every table view at 80 and 120 columns on a
// terminal: no line is wider than the screen, ID and status are whole,
// and the golden files show what gave way. Piped, the same views are
// whole whatever the width.
func TestTablesFitWidth(t *testing.T) {
	views := []struct {
		name string
		draw func(ios *IO) error
	}{
		{"list", func(ios *IO) error { return ios.Jobs(FormatTable, widthJobs(), 8) }},
		{"wide", func(ios *IO) error { return ios.Jobs(FormatWide, widthJobs(), 8) }},
		{"stats", func(ios *IO) error { return ios.Stats(FormatTable, widthStats(), "last 24h") }},
	}
	for _, v := range views {
		for _, width := range []int{80, 120} {
			t.Run(fmt.Sprintf("%s/%d", v.name, width), func(t *testing.T) {
				ios, _, out, errOut := Test(false, true)
				ios.Width = width
				if err := v.draw(ios); err != nil {
					t.Fatal(err)
				}
				assertFits(t, out.String(), width)
				if v.name != "stats" {
					for _, j := range widthJobs() {
						if !strings.Contains(out.String(), j.ID+" ") {
							t.Errorf("job ID %s was cut", j.ID)
						}
					}
					if !strings.Contains(out.String(), "CANCELLED") {
						t.Errorf("a status was cut")
					}
				}
				checkGolden(t, fmt.Sprintf("width_%s_%d_tty", v.name, width), out.String(), errOut.String())
			})
		}
		t.Run(v.name+"/piped", func(t *testing.T) {
			ios, _, out, errOut := Test(false, false)
			ios.Width = 80
			if err := v.draw(ios); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "…") {
				t.Errorf("piped output was cut:\n%s", out)
			}
			checkGolden(t, "width_"+v.name+"_piped", out.String(), errOut.String())
		})
	}
}

// assertFits fails when a line of out is wider than width on the screen.
func assertFits(t *testing.T, out string, width int) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if w := ansi.StringWidth(ansi.Strip(line)); w > width {
			t.Errorf("line is %d columns, more than %d:\n%s", w, width, ansi.Strip(line))
		}
	}
}

// TestSizeFromEnvironment checks that $COLUMNS and $LINES set the size,
// as they do for gh and less, and that nonsense in them is ignored.
func TestSizeFromEnvironment(t *testing.T) {
	t.Setenv("COLUMNS", "77")
	t.Setenv("LINES", " 19 ")
	ios := System()
	if ios.Width != 77 || ios.Height != 19 {
		t.Errorf("size %d×%d, want 77×19", ios.Width, ios.Height)
	}
	t.Setenv("COLUMNS", "wide")
	t.Setenv("LINES", "-3")
	// go test hands the test its stdout as a pipe, which has no size.
	if ios = System(); !ios.StdoutTTY && (ios.Width != 0 || ios.Height != 0 || ios.TerminalWidth() != defaultWidth) {
		t.Errorf("size %d×%d from nonsense, want unknown", ios.Width, ios.Height)
	}
}
