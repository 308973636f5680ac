package render

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Table prints rows under headers: an aligned, borderless table as wide
// as the terminal at most, or tab-separated values when piped. On a
// narrow terminal its columns give way from the right, the first never.
func (ios *IO) Table(headers []string, rows [][]string) {
	ios.FitTable(headers, rows, Fit{Keep: headers[:min(1, len(headers))]})
}

// FitTable is Table with fit saying which columns give way first on a
// narrow terminal.
func (ios *IO) FitTable(headers []string, rows [][]string, fit Fit) {
	// An error here is a failed write to stdout (a closed pipe, say),
	// which the caller could not report anywhere either.
	_ = ios.writeTable(headers, rows, fit)
}

func (ios *IO) writeTable(headers []string, rows [][]string, fit Fit) error {
	if !ios.StdoutTTY {
		return writeTSV(ios.Out, headers, rows)
	}
	headers, rows = fitTable(headers, rows, ios.TerminalWidth(), fit)
	return ios.writeAligned(headers, rows)
}

// writeTSV is the piped table: a header line and one line a row, fields
// split by tabs, so `cut -f` and `awk -F'\t'` work whatever the cells hold.
func writeTSV(w io.Writer, headers []string, rows [][]string) error {
	var b strings.Builder
	writeTSVLine(&b, headers)
	for _, row := range rows {
		writeTSVLine(&b, row)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTSVLine(b *strings.Builder, cells []string) {
	for i, c := range cells {
		if i > 0 {
			b.WriteByte('\t')
		}
		b.WriteString(strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, c))
	}
	b.WriteByte('\n')
}

// writeAligned draws the terminal table in the style of kubectl and gh: no
// borders or rules, bold headers, columns two spaces apart. tablewriter
// measures cells without their ANSI escapes, so coloured statuses keep the
// columns aligned.
func (ios *IO) writeAligned(headers []string, rows [][]string) error {
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.SeparatorsNone,
				Lines:      tw.LinesNone,
			},
		})),
		tablewriter.WithConfig(tablewriter.Config{
			Header: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoFormat: tw.Off, AutoWrap: tw.WrapNone},
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Padding:    tw.CellPadding{Global: cellPadding},
			},
			Row: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone},
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Padding:    tw.CellPadding{Global: cellPadding},
			},
		}),
	)
	styled := make([]string, len(headers))
	for i, h := range headers {
		styled[i] = ios.paint(ios.styles.header, h)
	}
	t.Header(styled)
	if err := t.Bulk(rows); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	_, err := io.WriteString(ios.Out, trimLines(buf.String()))
	return err
}

// cellPadding puts the gap between columns on the right of each cell, so
// the first column starts at the left margin.
var cellPadding = tw.Padding{Left: "", Right: "  ", Overwrite: true}

// paddingTail is the padding tablewriter leaves after the last column,
// with the reset it appends after a styled cell's padding.
var paddingTail = regexp.MustCompile(` +(\x1b\[0m)? *$`)

// trimLines drops the padding after the last column. The reset goes with
// it: lipgloss has already reset the cell's own style before the padding.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = paddingTail.ReplaceAllString(l, "")
	}
	return strings.Join(lines, "\n")
}
