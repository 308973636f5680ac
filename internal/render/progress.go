package render

import (
	"fmt"
	"os"
	"time"

	"github.com/briandowns/spinner"
)

// Progress shows a long operation's running count. On anything but a
// terminal's stderr it does nothing, so logs and pipes stay clean.
type Progress struct {
	label string
	spin  *spinner.Spinner // nil when there is nothing to draw on
	start time.Time
	width int
}

// StartProgress starts a spinner labelled with what is being counted, for
// example "archived".
func (ios *IO) StartProgress(label string) *Progress {
	p := &Progress{label: label, start: time.Now(), width: ios.TerminalWidth()}
	// The spinner checks for a terminal itself, through the *os.File it
	// writes to; anything else (a test's buffer) would never show it.
	f, ok := ios.ErrOut.(*os.File)
	if !ios.StderrTTY || !ok {
		return p
	}
	p.spin = spinner.New(spinner.CharSets[14], 100*time.Millisecond, spinner.WithWriterFile(f))
	p.spin.Suffix = " " + label
	p.spin.Start()
	return p
}

// Update sets the count shown; total <= 0 means the total is unknown.
func (p *Progress) Update(done, total int64) {
	if p == nil || p.spin == nil {
		return
	}
	// The suffix must fit on one line, or the spinner's erase leaves the
	// wrapped part behind.
	text := truncate(progressText(p.label, done, total, time.Since(p.start)), p.width-3)
	p.spin.Lock()
	p.spin.Suffix = " " + text
	p.spin.Unlock()
}

// Stop erases the spinner. The caller prints any summary afterwards.
func (p *Progress) Stop() {
	if p == nil || p.spin == nil {
		return
	}
	p.spin.Stop()
}

// progressText is "archived 120,000 / 1,000,000 — 85k/s". The rate is left
// out until enough time has passed for it to mean something.
func progressText(label string, done, total int64, elapsed time.Duration) string {
	s := label + " " + Count(done)
	if total > 0 {
		s += " / " + Count(total)
	}
	if elapsed >= 100*time.Millisecond {
		s += " — " + formatRate(float64(done)/elapsed.Seconds())
	}
	return s
}

// formatRate is a per-second rate with a k or M suffix: "850/s", "8.5k/s",
// "85k/s", "1.2M/s".
func formatRate(r float64) string {
	switch {
	case r < 1000:
		return fmt.Sprintf("%.0f/s", r)
	case r < 10_000:
		return fmt.Sprintf("%.1fk/s", r/1000)
	case r < 1_000_000:
		return fmt.Sprintf("%.0fk/s", r/1000)
	default:
		return fmt.Sprintf("%.1fM/s", r/1_000_000)
	}
}
