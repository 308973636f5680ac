package render

import (
	"fmt"
	"strings"
)

// Format is an output format, the value of -o/--output.
type Format string

// The output formats. Wide is the table with more columns.
const (
	FormatTable Format = "table"
	FormatWide  Format = "wide"
	FormatJSON  Format = "json"
	FormatJSONL Format = "jsonl"
	FormatYAML  Format = "yaml"
	FormatCSV   Format = "csv"
)

// Formats lists every format, for -o's help text and completion.
var Formats = []string{
	string(FormatTable), string(FormatWide), string(FormatJSON),
	string(FormatJSONL), string(FormatYAML), string(FormatCSV),
}

// ParseFormat accepts a format name in any case; "" means table.
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "" {
		return FormatTable, nil
	}
	for _, f := range Formats {
		if name == f {
			return Format(f), nil
		}
	}
	return "", fmt.Errorf("unknown output format %q (want one of %s)", s, strings.Join(Formats, ", "))
}

// human reports whether the format is a table meant for people.
func (f Format) human() bool {
	return f == "" || f == FormatTable || f == FormatWide
}
