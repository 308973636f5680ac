package render

import (
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// Fit says how a terminal table gives way when its rows are wider than
// the screen, as gh's tables do: the least important columns are narrowed
// first, their cells cut with "…", and only when every column is at its
// narrowest are whole columns left out. Columns are named by header; a
// piped table is never cut.
type Fit struct {
	// Keep are never narrowed or left out: the columns a row means nothing
	// without, such as a job's ID and status.
	Keep []string
	// Cut is the order columns are narrowed in, least important first.
	// Columns it does not name are narrowed after these, right to left.
	Cut []string
	// Hide is the order whole columns are left out in when even their
	// narrowest widths do not fit. Columns it does not name go after
	// these, right to left.
	Hide []string
	// Min is the narrowest a column is cut to; minColumn when unnamed.
	Min map[string]int
	// Whole are columns whose cells are never cut, such as counts and
	// times, where a cut value would read as another value: only their
	// header narrows, down to the widest cell.
	Whole []string
	// Left are columns cut at their start, such as IDs, whose ends tell
	// them apart.
	Left []string
}

// minColumn is the narrowest a column is cut to by default: three
// characters and the "…".
const minColumn = 4

// columnGap is the space between two columns of a terminal table.
var columnGap = len(cellPadding.Right)

// cellWidth is a cell's width on the screen as tablewriter measures it:
// escape sequences count zero, emoji and CJK count two.
func cellWidth(s string) int { return twwidth.Width(s) }

// fitTable narrows or drops columns so that every line of the table is
// at most width columns wide. It returns the headers and rows to draw; the
// caller's slices are left as they were.
func fitTable(headers []string, rows [][]string, width int, fit Fit) ([]string, [][]string) {
	n := len(headers)
	natural := make([]int, n)
	widest := make([]int, n) // the widest cell, header aside
	for c, h := range headers {
		natural[c] = cellWidth(h)
	}
	for _, r := range rows {
		for c := 0; c < n && c < len(r); c++ {
			w := cellWidth(r[c])
			natural[c] = max(natural[c], w)
			widest[c] = max(widest[c], w)
		}
	}
	visible := make([]bool, n)
	for c := range visible {
		visible[c] = true
	}
	if lineWidth(natural, visible) <= width {
		return headers, rows
	}

	floor := make([]int, n)
	for c, h := range headers {
		switch {
		case slices.Contains(fit.Keep, h):
			floor[c] = natural[c]
		default:
			m, ok := fit.Min[h]
			if !ok {
				m = minColumn
			}
			if slices.Contains(fit.Whole, h) {
				m = max(m, widest[c])
			}
			floor[c] = min(max(m, 1), natural[c])
		}
	}
	for _, c := range fit.order(headers, fit.Hide) {
		if lineWidth(floor, visible) <= width {
			break
		}
		visible[c] = false
	}
	widths := slices.Clone(natural)
	excess := lineWidth(widths, visible) - width
	for _, c := range fit.order(headers, fit.Cut) {
		if excess <= 0 {
			break
		}
		if !visible[c] {
			continue
		}
		take := min(excess, widths[c]-floor[c])
		widths[c] -= take
		excess -= take
	}

	var outHeaders []string
	for c, h := range headers {
		if visible[c] {
			outHeaders = append(outHeaders, cutCell(h, widths[c], false))
		}
	}
	outRows := make([][]string, len(rows))
	for i, r := range rows {
		out := make([]string, 0, len(outHeaders))
		for c := 0; c < n && c < len(r); c++ {
			if visible[c] {
				out = append(out, cutCell(r[c], widths[c], slices.Contains(fit.Left, headers[c])))
			}
		}
		outRows[i] = out
	}
	return outHeaders, outRows
}

// order is the columns other than Keep: those named first, in the order
// named, then the rest from right to left.
func (fit Fit) order(headers, named []string) []int {
	var out []int
	for _, name := range named {
		if c := slices.Index(headers, name); c >= 0 && !slices.Contains(fit.Keep, name) {
			out = append(out, c)
		}
	}
	for c := len(headers) - 1; c >= 0; c-- {
		if !slices.Contains(out, c) && !slices.Contains(fit.Keep, headers[c]) {
			out = append(out, c)
		}
	}
	return out
}

// lineWidth is the width of a table line with the visible columns at
// widths, two spaces apart.
func lineWidth(widths []int, visible []bool) int {
	total, cols := 0, 0
	for c, w := range widths {
		if visible[c] {
			total += w
			cols++
		}
	}
	if cols > 1 {
		total += columnGap * (cols - 1)
	}
	return total
}

// cutCell shortens s to at most w columns on the screen, marking the cut
// with "…": at its end, or at its start when left is set and s is plain.
func cutCell(s string, w int, left bool) string {
	if cellWidth(s) <= w {
		return s
	}
	if left && !strings.Contains(s, "\x1b") {
		return truncateLeftWidth(s, w)
	}
	return twwidth.Truncate(s, w, "…")
}

// truncateLeftWidth keeps the end of s that fits in w columns with a
// leading "…".
func truncateLeftWidth(s string, w int) string {
	room := w - cellWidth("…")
	if room <= 0 {
		return "…"
	}
	r := []rune(s)
	used, start := 0, len(r)
	for start > 0 {
		rw := cellWidth(string(r[start-1]))
		if used+rw > room {
			break
		}
		used += rw
		start--
	}
	return "…" + string(r[start:])
}
