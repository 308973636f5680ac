package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// decodeLine decodes one JSONL line of `enqueue --from` into bl: through
// decodeLineFast when it can, else through encoding/json's Decoder, whose
// result and error words are the rule. Profiled on 200k lines, the
// Decoder (allocated per line, scanning each value twice, matching fields
// by reflection) was a third of the Postgres client's CPU.
func decodeLine(raw []byte, bl *bulkLine) error {
	if decodeLineFast(raw, bl) {
		return nil
	}
	*bl = bulkLine{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(bl); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

// decodeLineFast decodes the common shape of a line: one valid JSON object
// whose keys are bulkLine's, spelled exactly, each once, with strings free
// of escapes. It reports false for anything else (the Decoder then decides,
// errors included), so it never accepts a line the Decoder would refuse
// nor reads one differently.
func decodeLineFast(raw []byte, bl *bulkLine) bool {
	*bl = bulkLine{}
	if !json.Valid(raw) {
		return false
	}
	// Valid JSON from here on: only the object's shape needs reading.
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	i = skipSpace(raw, i+1)
	if raw[i] == '}' {
		return true
	}
	var seen uint16
	for {
		key, end, ok := plainString(raw, i)
		if !ok {
			return false
		}
		i = skipSpace(raw, end)
		i = skipSpace(raw, i+1) // the ':'
		vEnd := valueEnd(raw, i)
		v := raw[i:vEnd]
		f := fieldIndex(key)
		if f < 0 || seen&(1<<f) != 0 || !bl.setFast(f, v) {
			return false
		}
		seen |= 1 << f
		i = skipSpace(raw, vEnd)
		if raw[i] == '}' {
			return true
		}
		i = skipSpace(raw, i+1) // the ','
	}
}

var fieldNames = [...]string{"type", "data", "priority", "scheduledFor", "dependsOn", "maxAttempts", "uniqueKey", "userId", "parentId"}

func fieldIndex(key []byte) int {
	for i, n := range fieldNames {
		if string(key) == n {
			return i
		}
	}
	return -1
}

// setFast sets field f from its JSON value v, or reports false where the
// Decoder's reading could differ (null, escapes, numbers not plain ints).
func (bl *bulkLine) setFast(f int, v []byte) bool {
	str := func(dst *string) bool {
		s, end, ok := plainString(v, 0)
		if !ok || end != len(v) {
			return false
		}
		*dst = string(s)
		return true
	}
	switch fieldNames[f] {
	case "type":
		return str(&bl.Type)
	case "data":
		if v[0] == 'n' { // null: the Decoder leaves a RawMessage "null"
			return false
		}
		bl.Data = bytes.Clone(v)
		return true
	case "priority":
		return str(&bl.Priority)
	case "scheduledFor":
		if v[0] != '"' {
			return false
		}
		var t time.Time
		if t.UnmarshalJSON(v) != nil { // what the Decoder calls
			return false
		}
		bl.ScheduledFor = &t
		return true
	case "dependsOn":
		return false // rare: the Decoder reads arrays
	case "maxAttempts":
		for j, c := range v {
			if (c < '0' || c > '9') && (j > 0 || c != '-') {
				return false
			}
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return false
		}
		bl.MaxAttempts = &n
		return true
	case "uniqueKey":
		return str(&bl.UniqueKey)
	case "userId":
		return str(&bl.UserID)
	case "parentId":
		return str(&bl.ParentID)
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads the JSON string starting at b[i] ('"'), returning its
// body and the index after its closing quote; false if it is not a string,
// holds an escape or is not valid UTF-8.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			return nil, 0, false
		case '"':
			// The Decoder turns invalid UTF-8 into U+FFFD; leave that to it.
			return b[i+1 : j], j + 1, utf8.Valid(b[i+1 : j])
		}
	}
	return nil, 0, false
}

// valueEnd returns the index just after the JSON value starting at b[i];
// b is valid JSON.
func valueEnd(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch c := b[j]; c {
		case '"':
			j++
			for ; b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			if depth == 0 {
				return j + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j // the end of the enclosing object
			}
			depth--
			if depth == 0 {
				return j + 1
			}
		case ',':
			if depth == 0 {
				return j
			}
		case ' ', '\t', '\n', '\r':
			if depth == 0 {
				return j
			}
		}
	}
	return len(b)
}
