package cmdutil

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/render"
)

// formatsAnnotation holds, on a cobra command, the -o formats it prints;
// formatsNoteAnnotation what to do instead of another.
const (
	formatsAnnotation     = "jobctl/formats"
	formatsNoteAnnotation = "jobctl/formats-note"
)

// Output format sets most commands declare.
var (
	// AllFormats is every format, csv included: the job listings.
	AllFormats = []render.Format{render.FormatTable, render.FormatWide, render.FormatJSON, render.FormatJSONL, render.FormatYAML, render.FormatCSV}
	// DataFormats is a table with its wide form and the encodings, no csv.
	DataFormats = []render.Format{render.FormatTable, render.FormatWide, render.FormatJSON, render.FormatJSONL, render.FormatYAML}
)

// SetFormats declares the -o formats cmd prints, the first being what it
// prints by default. The one list serves -o's help on the command, its
// completion and the check of the flag before the command runs. A command
// that declares none prints only a table, and refuses any other -o.
func SetFormats(cmd *cobra.Command, formats ...render.Format) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	cmd.Annotations[formatsAnnotation] = strings.Join(names, ",")
}

// SetFormatsNote adds what the refusal of an undeclared -o format says
// besides the formats: where to get that format instead.
func SetFormatsNote(cmd *cobra.Command, note string) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[formatsNoteAnnotation] = note
}

// FormatsAnnotation is SetFormats for a command written as a literal: its
// Annotations.
func FormatsAnnotation(formats ...render.Format) map[string]string {
	c := &cobra.Command{}
	SetFormats(c, formats...)
	return c.Annotations
}

// Formats are the -o formats cmd declared (table if none).
func Formats(cmd *cobra.Command) []render.Format {
	v := cmd.Annotations[formatsAnnotation]
	if v == "" {
		return []render.Format{render.FormatTable}
	}
	var out []render.Format
	for _, n := range strings.Split(v, ",") {
		out = append(out, render.Format(n))
	}
	return out
}

// FormatNames is Formats as strings, for completion.
func FormatNames(cmd *cobra.Command) []string {
	fs := Formats(cmd)
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

// FormatUsage is the -o flag's help text on cmd.
func FormatUsage(cmd *cobra.Command) string {
	return "output format: " + strings.Join(FormatNames(cmd), "|")
}

// CheckFormat parses -o and refuses a format cmd does not declare: a
// usage error naming what it prints. Format then returns the result.
func (f *Factory) CheckFormat(cmd *cobra.Command) error {
	allowed := FormatNames(cmd)
	ff, err := f.Format()
	if err == nil {
		for _, a := range allowed {
			if string(ff) == a {
				return nil
			}
		}
	}
	ff = render.Format(f.Output)
	list := allowed[0]
	if len(allowed) > 1 {
		list = strings.Join(allowed[:len(allowed)-1], ", ") + " or " + allowed[len(allowed)-1]
	}
	name := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
	if note := cmd.Annotations[formatsNoteAnnotation]; note != "" {
		return FlagErrorf("%s prints %s, not %q: %s", name, list, ff, note)
	}
	return FlagErrorf("%s prints %s, not %q (see '%s --help')", name, list, ff, cmd.CommandPath())
}
