package render

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"

	"github.com/jobctl/jobctl/internal/store"
)

// DashboardView is one frame of the guide's "Job Queue Dashboard": what
// the store said, ready to draw.
type DashboardView struct {
	// Source names the store in the title row, such as its redacted DSN.
	Source string
	// Every is the refresh interval of a watched dashboard; zero for one
	// frame.
	Every time.Duration
	// Counts holds the number of jobs in each status; a missing status
	// counts zero.
	Counts map[store.Status]int64
	// Estimated marks the counts that are the store's estimate (a large
	// table's COMPLETED and CANCELLED jobs on Postgres), shown with ≈.
	Estimated map[store.Status]bool
	// Jobs are the most recent jobs, newest first.
	Jobs []*store.Job
	// Height is the most lines the frame may take, the screen's height
	// for a watched dashboard; 0 for no limit. The recent jobs give way
	// first, the oldest of them first.
	Height int
}

// DashboardAction is the action the dashboard offers for a job in status
// s: the first of the guide's "Actions Available" for it that jobctl runs,
// with Retry for DEAD, whose "Manual Intervention" is a retry once fixed.
func DashboardAction(s store.Status) string {
	switch s {
	case store.StatusPending:
		return "Start"
	case store.StatusRunning, store.StatusRetrying:
		return "Cancel"
	case store.StatusCompleted:
		return "View"
	case store.StatusFailed, store.StatusDead:
		return "Retry"
	case store.StatusCancelled:
		return "Delete"
	}
	return ""
}

// summaryLayouts are the status summary's lines, widest first: the
// guide's two lines (Pending, Running, Failed over Completed, Dead) with
// the statuses its box leaves out at their ends, then the guide's lines
// as drawn with those two below, then two to a line, then one.
var summaryLayouts = [][][]store.Status{
	{
		{store.StatusPending, store.StatusRunning, store.StatusFailed, store.StatusRetrying},
		{store.StatusCompleted, store.StatusDead, store.StatusCancelled},
	},
	{
		{store.StatusPending, store.StatusRunning, store.StatusFailed},
		{store.StatusCompleted, store.StatusDead},
		{store.StatusRetrying, store.StatusCancelled},
	},
	{
		{store.StatusPending, store.StatusRunning},
		{store.StatusFailed, store.StatusRetrying},
		{store.StatusCompleted, store.StatusDead},
		{store.StatusCancelled},
	},
	{
		{store.StatusPending}, {store.StatusRunning}, {store.StatusFailed}, {store.StatusRetrying},
		{store.StatusCompleted}, {store.StatusDead}, {store.StatusCancelled},
	},
}

// Dashboard draws one frame of the dashboard, as wide as the terminal:
// a box with the title, the status summary and the recent jobs, each
// with the action the guide allows. Times are relative to the IO's clock,
// piped output included, since the frame is for people either way.
func (ios *IO) Dashboard(v *DashboardView) string {
	width := ios.TerminalWidth()
	// The box's borders and its padding of one column each side.
	inner := max(width-4, 1)
	shown := len(v.Jobs)
	for {
		frame := ios.box(width,
			ios.dashboardTitle(v, inner),
			ios.paint(ios.styles.header, "Status Summary")+"\n"+ios.statusSummary(v.Counts, v.Estimated, inner),
			ios.recentSection(v.Jobs, shown, inner),
		) + "\n"
		over := strings.Count(frame, "\n") - v.Height
		if v.Height <= 0 || over <= 0 {
			return frame
		}
		if shown == 0 {
			// Too short even for the summary: the top of the frame,
			// rather than a scrolled screen.
			lines := strings.SplitAfter(frame, "\n")
			return strings.Join(lines[:v.Height], "")
		}
		// Each job is one line of the table; without room for one, the
		// table's four lines of rules and headers go too.
		shown = max(shown-over, 0)
	}
}

// recentSection is the recent jobs' heading and table, with the newest
// shown of jobs: all of them, unless the screen is too short.
func (ios *IO) recentSection(jobs []*store.Job, shown int, width int) string {
	title := ios.paint(ios.styles.header, "Recent Jobs")
	switch {
	case shown >= len(jobs):
		return title + "\n" + ios.recentJobs(jobs, width)
	case shown == 0:
		return title + "\n " + ios.paint(ios.styles.muted, truncate(fmt.Sprintf("%s hidden: the terminal is too short", CountOf(int64(len(jobs)), "job")), width-1))
	}
	if note := fmt.Sprintf(" (newest %d of %d)", shown, len(jobs)); lipgloss.Width(title+note) <= width {
		title += ios.paint(ios.styles.muted, note)
	}
	return title + "\n" + ios.recentJobs(jobs[:shown], width)
}

// box frames sections one under another, with a rule between them as in
// the guide's drawing.
func (ios *IO) box(width int, sections ...string) string {
	parts := make([]string, len(sections))
	for i, sec := range sections {
		border := lipgloss.NormalBorder()
		if i > 0 {
			// The section's top edge is the rule under the previous one.
			border.TopLeft, border.TopRight = border.MiddleLeft, border.MiddleRight
		}
		st := ios.renderer.NewStyle().
			Border(border, true, true, i == len(sections)-1, true).
			Padding(0, 1).
			Width(max(width-2, 1))
		if ios.color {
			st = st.BorderForeground(ios.styles.border.GetForeground())
		}
		parts[i] = st.Render(sec)
	}
	return strings.Join(parts, "\n")
}

// dashboardTitle is "Job Queue Dashboard" with the store and the time at
// the right; the store's name gives way first when the line is short.
func (ios *IO) dashboardTitle(v *DashboardView, width int) string {
	const title = "Job Queue Dashboard"
	clock := ios.now().Format("15:04:05")
	if v.Every > 0 {
		clock = "every " + v.Every.String() + " · " + clock
	}
	right := clock
	if room := width - len(title) - 2 - lipgloss.Width(clock+" · "); v.Source != "" && room >= 8 {
		right = truncateLeft(Inert(v.Source), room) + " · " + clock
	}
	gap := width - len(title) - lipgloss.Width(right)
	if gap < 2 {
		return ios.paint(ios.styles.title, title)
	}
	return ios.paint(ios.styles.title, title) + strings.Repeat(" ", gap) + ios.paint(ios.styles.muted, right)
}

// statusSummary prints every status's count in aligned columns, in the
// widest of summaryLayouts that fits.
func (ios *IO) statusSummary(counts map[store.Status]int64, est map[store.Status]bool, width int) string {
	const indent = " "
	var lines []string
	for _, layout := range summaryLayouts {
		lines = summaryGrid(counts, est, layout)
		if lipgloss.Width(strings.Join(lines, "\n"))+len(indent) <= width {
			break
		}
	}
	for i, l := range lines {
		lines[i] = indent + ios.paintLabels(l)
	}
	return strings.Join(lines, "\n")
}

// summaryGrid lays "Label: N" cells out as layout says, labels padded and
// counts right-aligned within each column.
func summaryGrid(counts map[store.Status]int64, est map[store.Status]bool, layout [][]store.Status) []string {
	count := func(s store.Status) string {
		if est[s] {
			return "≈" + Count(counts[s])
		}
		return Count(counts[s])
	}
	var labelW, countW []int
	for _, line := range layout {
		for c, s := range line {
			if c == len(labelW) {
				labelW, countW = append(labelW, 0), append(countW, 0)
			}
			labelW[c] = max(labelW[c], len(statusLabel(s))+1)
			countW[c] = max(countW[c], lipgloss.Width(count(s)))
		}
	}
	lines := make([]string, len(layout))
	for i, line := range layout {
		var b strings.Builder
		for c, s := range line {
			if c > 0 {
				b.WriteString("  ")
			}
			b.WriteString(padRight(statusLabel(s)+":", labelW[c]))
			b.WriteString(" ")
			b.WriteString(padLeft(count(s), countW[c]))
		}
		lines[i] = b.String()
	}
	return lines
}

// paintLabels colours each status label of a summary line. The grid is
// laid out plain first so that escapes never upset its widths.
func (ios *IO) paintLabels(line string) string {
	if !ios.color {
		return line
	}
	for _, s := range store.Statuses {
		label := statusLabel(s) + ":"
		line = strings.Replace(line, label, ios.paint(ios.styles.status[s], label), 1)
	}
	return line
}

// statusLabel is a status as the guide's summary writes it: "Pending".
func statusLabel(s store.Status) string {
	return string(s[0]) + strings.ToLower(string(s[1:]))
}

// recentJobs is the guide's table of recent jobs, with each job's ID so
// the operator can act on it. Type and ID give way to a narrow terminal.
func (ios *IO) recentJobs(jobs []*store.Job, width int) string {
	if len(jobs) == 0 {
		return " " + ios.paint(ios.styles.muted, "No jobs yet: add one with `jobctl enqueue TYPE`")
	}
	headers := []string{"ID", "Type", "Status", "Time", "Actions"}
	const idCol, typeCol = 0, 1
	rows := make([][]string, len(jobs))
	widths := make([]int, len(headers))
	for c, h := range headers {
		widths[c] = len(h)
	}
	for i, j := range jobs {
		rows[i] = []string{
			Inert(j.ID),
			Inert(oneLine(j.Type)),
			ios.StatusText(j.Status),
			RelativeTime(lastChange(j), ios.now()),
			"[" + DashboardAction(j.Status) + "]",
		}
		for c, cell := range rows[i] {
			widths[c] = max(widths[c], lipgloss.Width(cell))
		}
	}
	// Each column has a space of padding each side and a rule after it,
	// and the table a rule at its left.
	chrome := 1 + 3*len(headers)
	fixed := chrome
	for c := typeCol + 1; c < len(widths); c++ {
		fixed += widths[c]
	}
	idW, typeW := shareWidth(widths[idCol], widths[typeCol], width-fixed)
	// Dropping "job_" may leave the IDs narrower than their share; the
	// type takes what they leave.
	idUsed := len(headers[idCol])
	for _, r := range rows {
		r[idCol] = shortID(r[idCol], idW)
		idUsed = max(idUsed, utf8.RuneCountInString(r[idCol]))
	}
	typeW = max(typeW, min(widths[typeCol], width-fixed-idUsed))
	for i, r := range rows {
		r[typeCol] = truncate(r[typeCol], typeW)
		r[len(r)-1] = ios.paint(ios.styles.action, r[len(r)-1])
		rows[i] = r
	}
	for c, h := range headers {
		headers[c] = ios.paint(ios.styles.header, h)
	}

	cell := ios.renderer.NewStyle().Padding(0, 1)
	t := table.New().
		Border(lipgloss.NormalBorder()).
		Headers(headers...).
		Rows(rows...).
		Wrap(false).
		StyleFunc(func(row, col int) lipgloss.Style { return cell })
	if ios.color {
		t = t.BorderStyle(ios.styles.border)
	}
	return t.String()
}

// lastChange is when a job last changed status or was touched by a
// worker: its updatedAt, or its createdAt for a row that lacks one.
func lastChange(j *store.Job) time.Time {
	if j.UpdatedAt.After(j.CreatedAt) {
		return j.UpdatedAt
	}
	return j.CreatedAt
}

// shareWidth fits two columns that want a and b columns into room,
// narrowing the wider one first, but neither below minColumn.
func shareWidth(a, b, room int) (int, int) {
	const minColumn = 4
	for a+b > room {
		switch {
		case a >= b && a > minColumn:
			a--
		case b > minColumn:
			b--
		case a > minColumn:
			a--
		default:
			return a, b
		}
	}
	return a, b
}

// shortID fits a job ID into n columns. The "job_" prefix goes first,
// since every command accepts an ID without it; then the start, which is
// a timestamp that recent jobs share, so the random end tells them apart.
func shortID(id string, n int) string {
	if len(id) <= n {
		return id
	}
	id = strings.TrimPrefix(id, store.IDPrefix)
	if len(id) <= n {
		return id
	}
	return truncateLeft(id, n)
}

// truncateLeft shortens s to at most n runes, keeping its end and marking
// the cut with "…": for paths and IDs, whose ends say the most.
func truncateLeft(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	return "…" + string(r[len(r)-(n-1):])
}

// padLeft right-aligns s in n columns.
func padLeft(s string, n int) string {
	if w := lipgloss.Width(s); w < n {
		return strings.Repeat(" ", n-w) + s
	}
	return s
}

// The escape sequences of a view redrawn in place.
const (
	altScreenOn  = "\x1b[?1049h"
	altScreenOff = "\x1b[?1049l"
	cursorHide   = "\x1b[?25l"
	cursorShow   = "\x1b[?25h"
	clearScreen  = "\x1b[H\x1b[2J" // cursor home, then erase the screen
)

// Screen redraws whole frames in place on the terminal's alternate screen,
// as top and watch do, so the shell's scrollback is left as it was.
type Screen struct {
	w     io.Writer
	close sync.Once
}

// OpenScreen switches stdout to the alternate screen and hides the cursor.
// Only for a terminal; Close undoes both and must follow, error or not.
func (ios *IO) OpenScreen() *Screen {
	_, _ = io.WriteString(ios.Out, altScreenOn+cursorHide)
	return &Screen{w: ios.Out}
}

// Draw replaces the screen's contents with frame in one write, so the
// terminal never shows a half-drawn frame for long. The final newline is
// dropped: on a frame as tall as the screen it would scroll the top away.
func (s *Screen) Draw(frame string) {
	_, _ = io.WriteString(s.w, clearScreen+strings.TrimSuffix(frame, "\n"))
}

// Close shows the cursor and returns to the normal screen. It may be
// called more than once.
func (s *Screen) Close() {
	s.close.Do(func() { _, _ = io.WriteString(s.w, cursorShow+altScreenOff) })
}
