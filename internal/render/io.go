// Package render turns jobctl's data into output: tables, job details,
// JSON, JSONL, YAML and CSV, prompts and progress. It is the only package
// that writes to the terminal, and the only one that knows about colour.
package render

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"golang.org/x/term"
)

// defaultWidth is assumed when the terminal's width is unknown.
const defaultWidth = 100

// IO holds the standard streams, whether each is a terminal, and whether
// colour is on. Commands write through it so that tests can run them once
// as a terminal and once as a pipe.
type IO struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	StdinTTY  bool
	StdoutTTY bool
	StderrTTY bool

	// Width is the terminal's width in columns; 0 means unknown.
	Width int
	// Height is the terminal's height in lines; 0 means unknown.
	Height int
	// Now is the clock that relative times are measured against.
	Now func() time.Time

	color    bool
	renderer *lipgloss.Renderer
	styles   styles
	// term is the terminal stdout writes to, whose size Resize reads
	// again; nil when stdout is not a terminal.
	term *os.File
}

// System returns an IO for the process's standard streams. Colour is on
// only when stdout is a terminal, NO_COLOR is unset or empty
// (no-color.org) and TERM is not "dumb".
func System() *IO {
	ios := &IO{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		StdinTTY:  isTerminal(os.Stdin),
		StdoutTTY: isTerminal(os.Stdout),
		StderrTTY: isTerminal(os.Stderr),
		Now:       time.Now,
	}
	if ios.StdoutTTY {
		ios.term = os.Stdout
		ios.Resize()
	}
	// $COLUMNS and $LINES override the terminal's own size, as they do
	// for gh and less: for tests, and for a terminal that misreports.
	if n := envSize("COLUMNS"); n > 0 {
		ios.Width = n
	}
	if n := envSize("LINES"); n > 0 {
		ios.Height = n
	}
	ios.renderer = lipgloss.NewRenderer(os.Stdout)
	ios.color = colorWanted(ios.StdoutTTY, os.Getenv("NO_COLOR"), os.Getenv("TERM"))
	// termenv may still find no colour support (e.g. TERM unset); then we
	// print no icons either, so the output matches a pipe's.
	if ios.color && ios.renderer.ColorProfile() == termenv.Ascii {
		ios.color = false
	}
	if !ios.color {
		ios.renderer.SetColorProfile(termenv.Ascii)
	}
	ios.styles = newStyles(ios.renderer)
	return ios
}

// colorWanted follows no-color.org: a NO_COLOR that is set and not empty
// turns colour off, as does a pipe or a dumb terminal.
func colorWanted(stdoutTTY bool, noColor, termName string) bool {
	return stdoutTTY && noColor == "" && termName != "dumb"
}

// Resize reads the terminal's size again, as after SIGWINCH. The size
// the terminal reports wins over $COLUMNS and $LINES here: after a resize
// they are stale. An IO not on a terminal keeps its size.
func (ios *IO) Resize() {
	if ios.term == nil {
		return
	}
	if w, h, err := term.GetSize(int(ios.term.Fd())); err == nil && w > 0 && h > 0 {
		ios.Width, ios.Height = w, h
	}
}

// envSize is a positive whole number from the environment, or 0.
func envSize(name string) int {
	n, err := strconv.Atoi(strings.TrimSpace(os.Getenv(name)))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// TestNow is the fixed clock of an IO made by Test.
var TestNow = time.Date(2025, 10, 25, 12, 0, 0, 0, time.UTC)

// Test returns an IO over buffers for tests, with the clock fixed at
// TestNow and a width of 100. When stdoutTTY is set, stderr counts as a
// terminal too and colour is on with a fixed 256-colour profile, so that
// golden files do not depend on the machine running the tests.
func Test(stdinTTY, stdoutTTY bool) (ios *IO, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	ios = &IO{
		In:        in,
		Out:       out,
		ErrOut:    errOut,
		StdinTTY:  stdinTTY,
		StdoutTTY: stdoutTTY,
		StderrTTY: stdoutTTY,
		Width:     defaultWidth,
		Now:       func() time.Time { return TestNow },
		color:     stdoutTTY,
		renderer:  lipgloss.NewRenderer(out),
	}
	if stdoutTTY {
		ios.renderer.SetColorProfile(termenv.ANSI256)
	} else {
		ios.renderer.SetColorProfile(termenv.Ascii)
	}
	ios.styles = newStyles(ios.renderer)
	return ios, in, out, errOut
}

// DisableColor turns colour and icons off (--no-color).
func (ios *IO) DisableColor() {
	ios.color = false
	if ios.renderer != nil {
		ios.renderer.SetColorProfile(termenv.Ascii)
	}
}

// ColorEnabled reports whether output to Out may be coloured.
func (ios *IO) ColorEnabled() bool { return ios.color }

// IsTerminal reports whether stdout is a terminal.
func (ios *IO) IsTerminal() bool { return ios.StdoutTTY }

// CanPrompt reports whether a question can be asked and answered: stdin is
// a terminal and the user can see the prompt on stdout or stderr.
func (ios *IO) CanPrompt() bool {
	return ios.StdinTTY && (ios.StdoutTTY || ios.StderrTTY)
}

// TerminalHeight is Height, or 0 when the height is unknown.
func (ios *IO) TerminalHeight() int { return max(ios.Height, 0) }

// TerminalWidth is Width, or a default when the width is unknown.
func (ios *IO) TerminalWidth() int {
	if ios.Width <= 0 {
		return defaultWidth
	}
	return ios.Width
}

// Printf writes to Out.
func (ios *IO) Printf(format string, a ...any) {
	fmt.Fprintf(ios.Out, format, a...)
}

// Warnf writes plain text to ErrOut: notes, warnings and summaries that
// must not mix with data a script reads from stdout. Its string, error
// and Stringer arguments are made inert, since refusals quote IDs and
// keys; the format is the code's own.
func (ios *IO) Warnf(format string, a ...any) {
	args := make([]any, len(a))
	for i, v := range a {
		switch v := v.(type) {
		case string:
			args[i] = Inert(v)
		case error:
			args[i] = Inert(v.Error())
		case fmt.Stringer:
			args[i] = Inert(v.String())
		default:
			args[i] = v
		}
	}
	fmt.Fprintf(ios.ErrOut, format, args...)
}

// IDs prints one ID per line (-q), for pipes such as `xargs jobctl retry`.
func (ios *IO) IDs(ids []string) {
	for _, id := range ids {
		fmt.Fprintln(ios.Out, id)
	}
}

// now reads the IO's clock, falling back to the wall clock so a
// hand-built IO still works.
func (ios *IO) now() time.Time {
	if ios.Now == nil {
		return time.Now()
	}
	return ios.Now()
}
