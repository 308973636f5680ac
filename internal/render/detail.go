package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/jobctl/jobctl/internal/store"
)

// jobDetail is `show`'s machine-readable shape: the job's own fields with
// its related jobs beside them.
type jobDetail struct {
	*jobJSON
	Related *relatedJSON `json:"related,omitempty"`
}

// JobDetail prints one job: the guide's "Job Details Page" for people, or
// the job and its related jobs as data.
func (ios *IO) JobDetail(f Format, j *store.Job, rel *store.Related) error {
	switch f {
	case "", FormatTable, FormatWide:
		return ios.detailPage(j, rel)
	case FormatCSV:
		return ios.jobsCSV([]*store.Job{j})
	}
	return ios.Encode(f, jobDetail{jobJSON: exportJob(j), Related: exportRelated(rel)})
}

func (ios *IO) detailPage(j *store.Job, rel *store.Related) error {
	var b strings.Builder
	ios.writeMetadata(&b, j)
	ios.writeSection(&b, "Input", dataYAML(j.Data))
	if !isNull(j.Output) {
		ios.writeSection(&b, "Output", dataYAML(j.Output))
	}
	if j.ErrorMessage != "" || j.ErrorCode != "" || j.ErrorStack != "" {
		ios.writeSection(&b, "Error", errorYAML(j))
	}
	if len(j.History) > 0 {
		ios.writeSection(&b, "Retry History", historyText(j.History))
	}
	if text := ios.relatedText(rel); text != "" {
		ios.writeSection(&b, "Related Jobs", text)
	}
	_, err := io.WriteString(ios.Out, b.String())
	return err
}

func (ios *IO) writeMetadata(b *strings.Builder, j *store.Job) {
	field := func(label, value string) {
		fmt.Fprintf(b, "%s %s\n", ios.paint(ios.styles.label, label+":"), value)
	}
	field("Job ID", Inert(j.ID))
	field("Type", Inert(j.Type))
	field("Status", ios.StatusText(j.Status))
	field("Priority", string(j.Priority))
	field("Created", ios.detailTime(j.CreatedAt))
	field("Scheduled", ios.detailTime(j.ScheduledFor))
	if j.StartedAt != nil {
		field("Started", ios.detailTime(*j.StartedAt))
	}
	if j.CompletedAt != nil {
		field(finishLabel(j.Status), ios.detailTime(*j.CompletedAt))
	}
	if d := ios.durationText(j); d != "" {
		field("Duration", d)
	}
	field("Attempts", fmt.Sprintf("%d / %d", j.Attempts, j.MaxAttempts))
	if j.UserID != "" {
		field("User", Inert(j.UserID))
	}
	if j.WorkerID != "" {
		field("Worker", Inert(j.WorkerID))
	}
	if j.UniqueKey != "" {
		field("Unique key", Inert(j.UniqueKey))
	}
	if j.CancelRequested {
		field("Cancel requested", "yes")
	}
	if j.ArchivedAt != nil {
		field("Archived", ios.detailTime(*j.ArchivedAt))
	}
}

// writeSection adds a blank line, a title and an already indented body.
func (ios *IO) writeSection(b *strings.Builder, title, body string) {
	fmt.Fprintf(b, "\n%s\n%s", ios.paint(ios.styles.label, title+":"), body)
}

// finishLabel names completedAt after how the job ended.
func finishLabel(s store.Status) string {
	switch s {
	case store.StatusCompleted:
		return "Completed"
	case store.StatusFailed, store.StatusDead:
		return "Failed"
	case store.StatusCancelled:
		return "Cancelled"
	}
	return "Finished"
}

// detailTime is absolute, as in the guide, with the relative time added
// on a terminal.
func (ios *IO) detailTime(t time.Time) string {
	abs := t.UTC().Format(time.RFC3339)
	if !ios.StdoutTTY {
		return abs
	}
	return abs + " " + ios.paint(ios.styles.muted, "("+RelativeTime(t, ios.now())+")")
}

// durationText is the run time of a finished job, or the time so far of a
// running one.
func (ios *IO) durationText(j *store.Job) string {
	switch {
	case j.StartedAt != nil && j.CompletedAt != nil:
		return FormatDuration(j.Duration())
	case j.StartedAt != nil && j.Status == store.StatusRunning:
		return FormatDuration(ios.now().Sub(*j.StartedAt)) + " so far"
	}
	return ""
}

// isNull reports whether a JSON value is absent or null.
func isNull(m json.RawMessage) bool {
	t := bytes.TrimSpace(m)
	return len(t) == 0 || string(t) == "null"
}

// dataYAML renders a job's data or output as YAML indented under its
// section title.
func dataYAML(m json.RawMessage) string {
	t := bytes.TrimSpace(m)
	if isNull(t) || string(t) == "{}" {
		return indent("(none)\n")
	}
	var buf bytes.Buffer
	// YAML refuses the DEL, C1 and bidi characters that JSON holds raw;
	// inertJSON writes them as JSON escapes, which YAML reads.
	if err := writeYAMLFromJSON(&buf, inertJSON(t), 2); err != nil {
		// Stored data that is not JSON is still worth showing as it is.
		return indent(InertBlock(string(t)) + "\n")
	}
	return indent(buf.String())
}

// errorYAML quotes the message and code, as the guide does, and keeps the
// stack as a literal block so that its lines stay as they were. YAML
// escapes the control characters of the quoted strings (ESC as \e) and
// inertYAML the rest; the stack is made inert first, since a literal
// block cannot hold an escape.
func errorYAML(j *store.Job) string {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key, value string, style yaml.Style) {
		if value == "" {
			return
		}
		doc.Content = append(doc.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Value: key},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Style: style})
	}
	add("message", j.ErrorMessage, yaml.DoubleQuotedStyle)
	add("code", j.ErrorCode, yaml.DoubleQuotedStyle)
	add("stack", InertBlock(j.ErrorStack), yaml.LiteralStyle)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return indent(Inert(errorSummary(j)) + "\n")
	}
	_ = enc.Close()
	return indent(string(inertYAML(buf.Bytes())))
}

func historyText(history []store.Attempt) string {
	var b strings.Builder
	for i, a := range history {
		n := a.Attempt
		if n == 0 {
			n = i + 1
		}
		fmt.Fprintf(&b, "  %d. %s - Failed", n, a.At.UTC().Format(time.RFC3339))
		if reason := attemptReason(a); reason != "" {
			fmt.Fprintf(&b, " (%s)", reason)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func attemptReason(a store.Attempt) string {
	msg, code := Inert(oneLine(a.Message)), Inert(a.Code)
	switch {
	case code != "" && msg != "":
		return code + ": " + msg
	case code != "":
		return code
	}
	return msg
}

// relatedText lists related jobs under aligned labels, one job a line;
// it is empty when there are none.
func (ios *IO) relatedText(rel *store.Related) string {
	if rel == nil {
		return ""
	}
	groups := []struct {
		label string
		jobs  []*store.Job
	}{
		{"Parent:", single(rel.Parent)},
		{"Children:", rel.Children},
		{"Depends on:", rel.Dependencies},
		{"Dependents:", rel.Dependents},
	}
	var idWidth, typeWidth int
	for _, g := range groups {
		for _, j := range g.jobs {
			idWidth = max(idWidth, utf8.RuneCountInString(Inert(j.ID)))
			typeWidth = max(typeWidth, utf8.RuneCountInString(Inert(j.Type)))
		}
	}
	var b strings.Builder
	for _, g := range groups {
		for i, j := range g.jobs {
			label := g.label
			if i > 0 {
				label = ""
			}
			fmt.Fprintf(&b, "  %-14s%s  %s  %s\n", label,
				padRight(Inert(j.ID), idWidth), padRight(Inert(j.Type), typeWidth), ios.StatusText(j.Status))
		}
	}
	return b.String()
}

func single(j *store.Job) []*store.Job {
	if j == nil {
		return nil
	}
	return []*store.Job{j}
}

// padRight pads by runes, not bytes, so a non-ASCII type name aligns.
func padRight(s string, width int) string {
	return s + strings.Repeat(" ", max(0, width-utf8.RuneCountInString(s)))
}

// indent puts every non-empty line of s under a section title.
func indent(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "")
}
