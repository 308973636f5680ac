package store

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// Every refusal of EnqueueParams.Validate, with its exact one-line text:
// the same on both backends, since both call it.
func TestValidateRefusals(t *testing.T) {
	ok := func() EnqueueParams { return EnqueueParams{Type: "EmailSending"} }
	tests := []struct {
		name string
		edit func(p *EnqueueParams)
		want string
	}{
		{"empty type", func(p *EnqueueParams) { p.Type = "" }, "job type is required"},
		{"type too long", func(p *EnqueueParams) { p.Type = strings.Repeat("a", 5000) },
			"invalid job type: 5000 characters (a type is 1-128 letters, digits and _ - . :)"},
		{"type with ESC", func(p *EnqueueParams) { p.Type = "Email\x1b]0;pwned\a" },
			`invalid job type "Email\x1b]0;pwned\a": '\x1b' is not allowed (a type is 1-128 letters, digits and _ - . :)`},
		{"type with tab", func(p *EnqueueParams) { p.Type = "A\tB" },
			`invalid job type "A\tB": '\t' is not allowed (a type is 1-128 letters, digits and _ - . :)`},
		{"type with newline", func(p *EnqueueParams) { p.Type = "A\nB" },
			`invalid job type "A\nB": '\n' is not allowed (a type is 1-128 letters, digits and _ - . :)`},
		{"type with space", func(p *EnqueueParams) { p.Type = "Email Sending" },
			`invalid job type "Email Sending": ' ' is not allowed (a type is 1-128 letters, digits and _ - . :)`},
		{"type with slash", func(p *EnqueueParams) { p.Type = "a/b" },
			`invalid job type "a/b": '/' is not allowed (a type is 1-128 letters, digits and _ - . :)`},
		{"type with non-ASCII letter", func(p *EnqueueParams) { p.Type = "Café" },
			`invalid job type "Café": 'é' is not allowed (a type is 1-128 letters, digits and _ - . :)`},
		{"type with invalid UTF-8", func(p *EnqueueParams) { p.Type = "A\xffB" },
			`invalid job type "A\xffB": invalid UTF-8 is not allowed (a type is 1-128 letters, digits and _ - . :)`},
		{"type with NUL", func(p *EnqueueParams) { p.Type = "A\x00" },
			`invalid job type "A\x00": '\x00' is not allowed (a type is 1-128 letters, digits and _ - . :)`},
		{"unknown priority", func(p *EnqueueParams) { p.Priority = "URGENT" }, `unknown priority "URGENT" (want LOW, NORMAL, HIGH or CRITICAL)`},
		{"max attempts negative", func(p *EnqueueParams) { p.MaxAttempts = -1 }, "maxAttempts must be between 1 and 1000 (got -1)"},
		{"max attempts over 1000", func(p *EnqueueParams) { p.MaxAttempts = 1001 }, "maxAttempts must be between 1 and 1000 (got 1001)"},
		{"user ID too long", func(p *EnqueueParams) { p.UserID = strings.Repeat("u", 256) }, "invalid user ID: 256 characters (at most 255)"},
		{"user ID with ESC", func(p *EnqueueParams) { p.UserID = "u\x1b[2J" }, `invalid user ID "u\x1b[2J": control character '\x1b'`},
		{"user ID with DEL", func(p *EnqueueParams) { p.UserID = "u\x7f" }, `invalid user ID "u\x7f": control character '\x7f'`},
		{"user ID with C1 control", func(p *EnqueueParams) { p.UserID = "u\u009b" }, `invalid user ID "u\u009b": control character '\u009b'`},
		{"user ID invalid UTF-8", func(p *EnqueueParams) { p.UserID = "u\xc3" }, "invalid user ID: not valid UTF-8"},
		{"unique key too long", func(p *EnqueueParams) { p.UniqueKey = strings.Repeat("k", 300) }, "invalid unique key: 300 characters (at most 255)"},
		{"unique key with NUL", func(p *EnqueueParams) { p.UniqueKey = "k\x00" }, `invalid unique key "k\x00": control character '\x00'`},
		{"parent ID too long", func(p *EnqueueParams) { p.ParentID = "job_" + strings.Repeat("p", 252) }, "invalid parent ID: 256 characters (at most 255)"},
		{"parent ID with newline", func(p *EnqueueParams) { p.ParentID = "job_1\n" }, `invalid parent ID "job_1\n": control character '\n'`},
		{"dependency ID too long", func(p *EnqueueParams) { p.DependsOn = []string{"job_1", strings.Repeat("d", 256)} }, "invalid dependency ID: 256 characters (at most 255)"},
		{"data not JSON", func(p *EnqueueParams) { p.Data = json.RawMessage(`{"a":`) }, "data: invalid JSON at byte 5: unexpected end of JSON input"},
		{"data with NUL escape", func(p *EnqueueParams) { p.Data = json.RawMessage(`{"a":"x\u0000y"}`) }, `data holds \u0000 (NUL), which Postgres cannot store`},
		{"data with NUL escape in a key", func(p *EnqueueParams) { p.Data = json.RawMessage(`{"\u0000":1}`) }, `data holds \u0000 (NUL), which Postgres cannot store`},
		{"data with lone high surrogate", func(p *EnqueueParams) { p.Data = json.RawMessage(`["\ud83d"]`) }, `data holds an unpaired surrogate escape \ud83d, which Postgres cannot store`},
		{"data with lone low surrogate", func(p *EnqueueParams) { p.Data = json.RawMessage(`["\ude00x"]`) }, `data holds an unpaired surrogate escape \ude00, which Postgres cannot store`},
		{"data with invalid UTF-8", func(p *EnqueueParams) { p.Data = json.RawMessage("{\"a\":\"\xff\"}") }, "data is not valid UTF-8"},
		{"data with a huge number", func(p *EnqueueParams) { p.Data = json.RawMessage(`{"n":1e131072}`) },
			"data holds the number 1e131072, beyond what Postgres can store (131072 digits before the decimal point, 16383 after)"},
		{"data with a tiny number", func(p *EnqueueParams) { p.Data = json.RawMessage(`[1e-16384]`) },
			"data holds the number 1e-16384, beyond what Postgres can store (131072 digits before the decimal point, 16383 after)"},
		{"data over the default limit", func(p *EnqueueParams) { p.Data = jsonOfSize(DefaultMaxDataBytes + 1) },
			"data is 1048577 bytes, over the limit of 1048576 (limits.maxDataBytes in the config file)"},
		{"data over a configured limit", func(p *EnqueueParams) { p.Data = jsonOfSize(101); p.MaxDataBytes = 100 },
			"data is 101 bytes, over the limit of 100 (limits.maxDataBytes in the config file)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ok()
			tc.edit(&p)
			err := p.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil; want %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("Validate() = %q\n                  want %q", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\n\r\x1b\x00\t\a") {
				t.Errorf("error %q holds a raw control character", err)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		p    EnqueueParams
	}{
		{"every allowed type character", EnqueueParams{Type: "az.AZ_09-x:y"}},
		{"type of 128", EnqueueParams{Type: strings.Repeat("T", 128)}},
		{"IDs of 255 characters, Unicode", EnqueueParams{Type: "A", UserID: strings.Repeat("ü", 255), UniqueKey: strings.Repeat("k", 255),
			ParentID: "job_" + strings.Repeat("p", 251), DependsOn: []string{"job_" + strings.Repeat("d", 251)}}},
		{"max attempts bounds", EnqueueParams{Type: "A", MaxAttempts: 1000}},
		{"surrogate pair", EnqueueParams{Type: "A", Data: json.RawMessage(`{"e":"\ud83d\ude00","f":"\uD83D\uDE00"}`)}},
		{"escaped backslash before u0000", EnqueueParams{Type: "A", Data: json.RawMessage(`{"a":"\\u0000"}`)}},
		{"raw UTF-8", EnqueueParams{Type: "A", Data: json.RawMessage(`{"a":"żółw 🐢"}`)}},
		{"big and small numbers", EnqueueParams{Type: "A", Data: json.RawMessage(`[1e1000,1.5e131071,1e-16383,-0.0e5,0e99999999,12345678901234567890]`)}},
		{"data at the limit", EnqueueParams{Type: "A", Data: jsonOfSize(DefaultMaxDataBytes)}},
		{"no limit", EnqueueParams{Type: "A", Data: jsonOfSize(DefaultMaxDataBytes + 10), MaxDataBytes: NoDataLimit}},
	}
	for _, tc := range tests {
		if err := tc.p.Validate(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// jsonOfSize is a JSON string of exactly n bytes.
func jsonOfSize(n int) json.RawMessage {
	return json.RawMessage(`"` + strings.Repeat("x", n-2) + `"`)
}

func TestScheduleValidate(t *testing.T) {
	good := Schedule{Name: "daily-revenue", Type: "MetricCalculation", Data: json.RawMessage(`{}`)}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(s *Schedule)
		want string
	}{
		{"bad type", func(s *Schedule) { s.Type = "a b" }, `invalid job type "a b": ' ' is not allowed (a type is 1-128 letters, digits and _ - . :)`},
		{"NUL in data", func(s *Schedule) { s.Data = json.RawMessage(`"\u0000"`) }, `data holds \u0000 (NUL), which Postgres cannot store`},
		{"data too big", func(s *Schedule) { s.Data = jsonOfSize(11); s.MaxDataBytes = 10 }, "data is 11 bytes, over the limit of 10 (limits.maxDataBytes in the config file)"},
		{"name with ESC", func(s *Schedule) { s.Name = "x\x1b" }, `invalid schedule name "x\x1b": control character '\x1b'`},
		{"name too long for its unique key", func(s *Schedule) { s.Name = strings.Repeat("n", 226) }, "invalid schedule name: 226 characters (at most 225)"},
		{"bad priority", func(s *Schedule) { s.Priority = "NOW" }, `unknown priority "NOW" (want LOW, NORMAL, HIGH or CRITICAL)`},
	}
	for _, tc := range tests {
		s := good
		tc.edit(&s)
		if err := s.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("%s: Validate() = %v; want %q", tc.name, err, tc.want)
		}
	}
}

func TestSliceSourceAndRowError(t *testing.T) {
	src := SliceSource([]*EnqueueParams{{Type: "A"}, {Type: "B"}})
	for want := 1; want <= 2; want++ {
		p, line, err := src.Next()
		if err != nil || line != want || p == nil {
			t.Fatalf("Next() = %v, %d, %v; want line %d", p, line, err, want)
		}
	}
	if _, _, err := src.Next(); err != io.EOF {
		t.Fatalf("Next() at the end = %v; want io.EOF", err)
	}
	err := error(&RowError{Line: 7, Err: ErrNotFound})
	if err.Error() != "line 7: not found" || !errors.Is(err, ErrNotFound) {
		t.Errorf("RowError = %q", err)
	}
}

func TestIDSeqSorts(t *testing.T) {
	var s IDSeq
	now := time.Now()
	prev := ""
	for i := range 100000 {
		at := now
		switch {
		case i == 50000:
			at = now.Add(-time.Second) // the clock steps back
		case i > 60000:
			at = now.Add(time.Millisecond)
		}
		id := s.Next(at)
		if len(id) != 30 || !strings.HasPrefix(id, IDPrefix) {
			t.Fatalf("ID %q is not job_ + 26 characters", id)
		}
		if id <= prev {
			t.Fatalf("ID %d %s does not sort after %s", i, id, prev)
		}
		prev = id
	}
}

func TestOneLine(t *testing.T) {
	if got, want := OneLine("bad\n  value \x1b[2J\x00 here\t"), `bad value \x1b[2J\x00 here`; got != want {
		t.Errorf("OneLine = %q; want %q", got, want)
	}
}
