package render

import (
	"github.com/charmbracelet/lipgloss"

	"github.com/jobctl/jobctl/internal/store"
)

// The palette: the guide's status colours, as 256-colour codes so that
// orange and dark red survive on terminals without true colour.
var (
	colorBlue   = lipgloss.Color("33")
	colorYellow = lipgloss.Color("220")
	colorGreen  = lipgloss.Color("34")
	colorRed    = lipgloss.Color("196")
	// With 16 colours, 208 would round to the same red as FAILED's 196;
	// RETRYING is yellow there (RUNNING's 220 rounds to bright yellow).
	colorOrange  = lipgloss.CompleteColor{TrueColor: "208", ANSI256: "208", ANSI: "3"}
	colorGray    = lipgloss.Color("245")
	colorDarkRed = lipgloss.Color("88")
	colorCyan    = lipgloss.Color("37")
)

// statusLook is the guide's colour and icon for each status.
var statusLook = map[store.Status]struct {
	color lipgloss.TerminalColor
	icon  string
}{
	store.StatusPending:   {colorBlue, "⏳"},
	store.StatusRunning:   {colorYellow, "⚡"},
	store.StatusCompleted: {colorGreen, "✅"},
	store.StatusFailed:    {colorRed, "❌"},
	store.StatusRetrying:  {colorOrange, "🔄"},
	store.StatusCancelled: {colorGray, "🚫"},
	store.StatusDead:      {colorDarkRed, "💀"},
}

// styles are the named styles every view uses. They are bound to one
// renderer, so its colour profile (or Ascii, with colour off) decides what
// reaches the stream.
type styles struct {
	header lipgloss.Style // table headers
	label  lipgloss.Style // "Job ID:" and other labels in the details page
	muted  lipgloss.Style // secondary text, such as a relative time
	status map[store.Status]lipgloss.Style

	title  lipgloss.Style // the dashboard's title
	border lipgloss.Style // the dashboard's box and table rules
	action lipgloss.Style // an action a job offers, such as "[Retry]"

	// health's marks and verdicts: passed, warning, critical
	good, warn, bad lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	st := styles{
		header: r.NewStyle().Bold(true),
		label:  r.NewStyle().Bold(true),
		muted:  r.NewStyle().Foreground(colorGray),
		status: make(map[store.Status]lipgloss.Style, len(statusLook)),
		title:  r.NewStyle().Bold(true),
		border: r.NewStyle().Foreground(colorGray),
		action: r.NewStyle().Foreground(colorCyan),
		good:   r.NewStyle().Foreground(colorGreen).Bold(true),
		warn:   r.NewStyle().Foreground(colorYellow).Bold(true),
		bad:    r.NewStyle().Foreground(colorRed).Bold(true),
	}
	for s, look := range statusLook {
		st.status[s] = r.NewStyle().Foreground(look.color).Bold(true)
	}
	return st
}

// paint applies a style only when colour is on. Checking the flag here as
// well as through the renderer's profile keeps every escape out of piped
// output, even for an IO built by hand without a renderer.
func (ios *IO) paint(style lipgloss.Style, s string) string {
	if !ios.color {
		return s
	}
	return style.Render(s)
}

// StatusText is a status for people: coloured and with its icon on a colour
// terminal, the plain upper-case name otherwise.
func (ios *IO) StatusText(s store.Status) string {
	look, ok := statusLook[s]
	if !ok {
		return Inert(string(s))
	}
	if !ios.color {
		return string(s)
	}
	return look.icon + " " + ios.paint(ios.styles.status[s], string(s))
}

// StatusIcon is the guide's icon for a status, "" for an unknown one. The
// web pages show the same icons as the terminal.
func StatusIcon(s store.Status) string { return statusLook[s].icon }

// StatusColor256 is the guide's colour for a status as an xterm 256-colour
// code ("33" for PENDING's blue), "" for an unknown one, so the web pages'
// stylesheet is made from the terminal's palette.
func StatusColor256(s store.Status) string {
	switch c := statusLook[s].color.(type) {
	case lipgloss.Color:
		return string(c)
	case lipgloss.CompleteColor:
		return c.ANSI256
	}
	return ""
}
