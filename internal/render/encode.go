package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Encode writes v as JSON (indented two spaces), JSONL (one compact value a
// line; a slice gives one element a line) or YAML.
func (ios *IO) Encode(f Format, v any) error {
	switch f {
	case FormatJSON:
		return writeJSON(ios.Out, v, "  ")
	case FormatJSONL:
		return writeJSONL(ios.Out, v)
	case FormatYAML:
		return writeYAML(ios.Out, v)
	}
	return fmt.Errorf("output format %q is not supported here (want json, jsonl or yaml)", f)
}

// marshalJSON is json.Marshal without HTML escaping: "<" in an error
// message should read as "<" in a terminal, not "\u003c".
func marshalJSON(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return inertJSON(buf.Bytes()), nil
}

func writeJSON(w io.Writer, v any, indent string) error {
	b, err := marshalJSON(v, indent)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// writeJSONL splits a JSON array into its elements after encoding, which
// works for any slice type without reflection.
func writeJSONL(w io.Writer, v any) error {
	b, err := marshalJSON(v, "")
	if err != nil {
		return err
	}
	if trimmed := bytes.TrimSpace(b); len(trimmed) == 0 || trimmed[0] != '[' {
		_, err = w.Write(b)
		return err
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil {
		return err
	}
	for _, e := range elems {
		if _, err := fmt.Fprintf(w, "%s\n", e); err != nil {
			return err
		}
	}
	return nil
}

// writeYAML goes through JSON so that YAML keeps the json tags, their order
// and nested json.RawMessage values, which yaml.v3 would otherwise print
// as byte lists.
func writeYAML(w io.Writer, v any) error {
	b, err := marshalJSON(v, "")
	if err != nil {
		return err
	}
	return writeYAMLFromJSON(w, b, 2)
}

// writeYAMLFromJSON re-prints a JSON document as block-style YAML. JSON is
// YAML, so it parses as a node tree; only the flow and quoting styles need
// clearing, and yaml.v3 re-quotes strings that would otherwise change type.
func writeYAMLFromJSON(w io.Writer, js []byte, indent int) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(js, &doc); err != nil {
		return err
	}
	clearStyle(&doc)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(indent)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := w.Write(inertYAML(buf.Bytes()))
	return err
}

// clearStyle lets yaml.v3 choose each scalar's style, except that a string
// holding a character that yaml.v3 prints raw but a terminal obeys (a
// bidi control, a line separator) is double-quoted, where inertYAML can
// write it as an escape. yaml.v3 double-quotes and escapes the control
// characters by itself.
func clearStyle(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && strings.IndexFunc(n.Value, yamlRaw) >= 0 {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		clearStyle(c)
	}
}

// yamlRaw reports whether yaml.v3 would print r raw although it acts on a
// terminal.
func yamlRaw(r rune) bool {
	return r > 0x9f && unsafeRune(r)
}

// inertYAML escapes what yaml.v3 leaves raw in double-quoted scalars,
// which clearStyle and errorYAML make of every string holding one.
func inertYAML(b []byte) []byte {
	if !bytes.ContainsFunc(b, yamlRaw) {
		return b
	}
	var out []byte
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if yamlRaw(r) {
			out = appendU(out, r)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}
