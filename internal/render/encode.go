package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
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
	return buf.Bytes(), nil
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
	enc := yaml.NewEncoder(w)
	enc.SetIndent(indent)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return enc.Close()
}

func clearStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		clearStyle(c)
	}
}
