package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input limits. Both backends enforce them through EnqueueParams.Validate
// and Schedule.Validate, so SQLite accepts exactly what Postgres does and
// every refusal is the same one line.
const (
	// MaxTypeLen is the longest job type, in characters.
	MaxTypeLen = 128
	// MaxRefLen is the longest user ID, unique key, parent or dependency
	// ID, and schedule name, in characters.
	MaxRefLen = 255
	// DefaultMaxDataBytes caps a job's data unless the config file's
	// limits.maxDataBytes says otherwise.
	DefaultMaxDataBytes = 1 << 20
	// NoDataLimit as MaxDataBytes skips the size check, for data checked
	// against the limit earlier (a schedule's, when it fires).
	NoDataLimit = -1
	// MaxMaxAttempts is the largest attempt budget a job may have.
	MaxMaxAttempts = 1000
)

// typeRule is what every type error says a type may be.
const typeRule = "a type is 1-128 letters, digits and _ - . :"

// ValidateType checks a job type: 1 to MaxTypeLen ASCII letters, digits
// and _ - . : so that a type is safe on a terminal, in a log line and in a
// config file key, and fits any index.
func ValidateType(t string) error {
	if t == "" {
		return errors.New("job type is required")
	}
	if n := utf8.RuneCountInString(t); n > MaxTypeLen {
		return fmt.Errorf("invalid job type: %d characters (%s)", n, typeRule)
	}
	for _, r := range t {
		if !typeChar(r) {
			return fmt.Errorf("invalid job type %s: %s is not allowed (%s)", strconv.Quote(t), quoteRune(r), typeRule)
		}
	}
	return nil
}

func typeChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		r == '_' || r == '-' || r == '.' || r == ':'
}

func quoteRune(r rune) string {
	if r == utf8.RuneError {
		return "invalid UTF-8"
	}
	return strconv.QuoteRune(r)
}

// ValidateRef checks a user ID, unique key, job ID reference or schedule
// name (what names it): at most MaxRefLen characters of UTF-8 without
// control characters.
func ValidateRef(what, v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("invalid %s: not valid UTF-8", what)
	}
	if n := utf8.RuneCountInString(v); n > MaxRefLen {
		return fmt.Errorf("invalid %s: %d characters (at most %d)", what, n, MaxRefLen)
	}
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(v[i:])
		return fmt.Errorf("invalid %s %s: control character %s", what, strconv.Quote(v), quoteRune(r))
	}
	return nil
}

// CheckMaxAttempts checks an attempt budget; name is how the caller's
// input calls it (maxAttempts, --max-attempts).
func CheckMaxAttempts(name string, n int) error {
	if n < 1 || n > MaxMaxAttempts {
		return fmt.Errorf("%s must be between 1 and %d (got %d)", name, MaxMaxAttempts, n)
	}
	return nil
}

// CheckJSON checks only JSON's syntax, saying where it breaks: "invalid
// JSON at byte 2: …" (counted from 1), not the decoder's bare words.
func CheckJSON(data []byte) error {
	// json.Valid only scans; the Unmarshal below, which also copies, is
	// kept for the error's offset. A bulk enqueue checks every row's data.
	if json.Valid(data) {
		return nil
	}
	var v json.RawMessage
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// ValidateData checks a job's data: valid JSON of at most limit bytes (see
// EnqueueParams.MaxDataBytes) that Postgres's jsonb can hold too: UTF-8,
// no \u0000, no unpaired surrogate escape, numbers within numeric's range.
func ValidateData(data []byte, limit int) error {
	if limit == 0 {
		limit = DefaultMaxDataBytes
	}
	if limit > 0 && len(data) > limit {
		return fmt.Errorf("data is %d bytes, over the limit of %d (limits.maxDataBytes in the config file)", len(data), limit)
	}
	if len(data) == 0 {
		return nil
	}
	if err := CheckJSON(data); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if !utf8.Valid(data) {
		return errors.New("data is not valid UTF-8")
	}
	return jsonbSafe(data)
}

// jsonbSafe scans valid JSON for what jsonb refuses and SQLite would keep.
func jsonbSafe(data []byte) error {
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			end, err := scanString(data, i+1)
			if err != nil {
				return err
			}
			i = end
		case c == '-' || '0' <= c && c <= '9':
			end, err := scanNumber(data, i)
			if err != nil {
				return err
			}
			i = end - 1
		}
	}
	return nil
}

// scanString checks the string whose body starts at i and returns the
// index of its closing quote.
func scanString(data []byte, i int) (int, error) {
	for ; i < len(data); i++ {
		switch data[i] {
		case '"':
			return i, nil
		case '\\':
			i++
			if data[i] != 'u' {
				continue
			}
			u := hex4(data[i+1 : i+5])
			i += 4
			switch {
			case u == 0:
				return 0, errors.New(`data holds \u0000 (NUL), which Postgres cannot store`)
			case u >= 0xDC00 && u <= 0xDFFF:
				return 0, fmt.Errorf(`data holds an unpaired surrogate escape \u%04x, which Postgres cannot store`, u)
			case u >= 0xD800 && u <= 0xDBFF:
				if i+6 < len(data) && data[i+1] == '\\' && data[i+2] == 'u' {
					if lo := hex4(data[i+3 : i+7]); lo >= 0xDC00 && lo <= 0xDFFF {
						i += 6
						continue
					}
				}
				return 0, fmt.Errorf(`data holds an unpaired surrogate escape \u%04x, which Postgres cannot store`, u)
			}
		}
	}
	return i, nil
}

func hex4(b []byte) int {
	n, _ := strconv.ParseUint(string(b), 16, 16)
	return int(n)
}

// Postgres's numeric, which jsonb stores numbers in, holds up to 131,072
// digits before the decimal point and 16,383 after it.
const (
	maxNumericInt   = 131072
	maxNumericScale = 16383
	maxNumericExp   = 1<<30 - 2 // numeric_in refuses |exponent| >= INT_MAX/2
)

// scanNumber checks the JSON number starting at i and returns the index
// after it.
func scanNumber(data []byte, i int) (int, error) {
	start := i
	if data[i] == '-' {
		i++
	}
	intStart := i
	for i < len(data) && isDigit(data[i]) {
		i++
	}
	intPart := data[intStart:i]
	var frac []byte
	if i < len(data) && data[i] == '.' {
		i++
		fs := i
		for i < len(data) && isDigit(data[i]) {
			i++
		}
		frac = data[fs:i]
	}
	exp := int64(0)
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		neg := false
		if data[i] == '+' || data[i] == '-' {
			neg = data[i] == '-'
			i++
		}
		for ; i < len(data) && isDigit(data[i]); i++ {
			if exp <= maxNumericExp {
				exp = exp*10 + int64(data[i]-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	tooBig := func() error {
		num := string(data[start:i])
		if len(num) > 40 {
			num = num[:37] + "..."
		}
		return fmt.Errorf("data holds the number %s, beyond what Postgres can store (%d digits before the decimal point, %d after)", num, maxNumericInt, maxNumericScale)
	}
	if exp > maxNumericExp || exp < -maxNumericExp {
		return 0, tooBig()
	}
	if scale := int64(len(frac)) - exp; scale > maxNumericScale {
		return 0, tooBig()
	}
	// Digits before the point, counted from the first non-zero digit.
	if j := strings.IndexFunc(string(intPart), func(r rune) bool { return r != '0' }); j >= 0 {
		if int64(len(intPart)-j)+exp > maxNumericInt {
			return 0, tooBig()
		}
	} else if j := strings.IndexFunc(string(frac), func(r rune) bool { return r != '0' }); j >= 0 {
		if exp-int64(j) > maxNumericInt {
			return 0, tooBig()
		}
	}
	return i, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Validate checks everything either database could refuse, and the limits
// above, so that both backends accept and refuse alike and a bulk load is
// never refused by the database half-way. A zero MaxAttempts or Priority
// means the default.
func (p *EnqueueParams) Validate() error {
	if err := ValidateType(p.Type); err != nil {
		return err
	}
	if p.Priority != "" {
		if _, err := ParsePriority(string(p.Priority)); err != nil {
			return err
		}
	}
	if p.MaxAttempts != 0 {
		if err := CheckMaxAttempts("maxAttempts", p.MaxAttempts); err != nil {
			return err
		}
	}
	for _, r := range []struct{ what, v string }{{"user ID", p.UserID}, {"unique key", p.UniqueKey}, {"parent ID", p.ParentID}} {
		if err := ValidateRef(r.what, r.v); err != nil {
			return err
		}
	}
	for _, id := range p.DependsOn {
		if err := ValidateRef("dependency ID", id); err != nil {
			return err
		}
	}
	if err := ValidateData(p.Data, p.MaxDataBytes); err != nil {
		return err
	}
	return nil
}

// Validate checks a schedule before it is stored, as EnqueueParams.Validate
// checks a job, so that it can fire.
func (s *Schedule) Validate() error {
	if s.Name == "" {
		return errors.New("schedule name is required")
	}
	// A fired job's unique key is "schedule:NAME:" and an RFC 3339 time.
	if err := ValidateRef("schedule name", s.Name); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(s.Name); n > MaxRefLen-len("schedule::2006-01-02T15:04:05Z") {
		return fmt.Errorf("invalid schedule name: %d characters (at most %d)", n, MaxRefLen-len("schedule::2006-01-02T15:04:05Z"))
	}
	if err := ValidateType(s.Type); err != nil {
		return err
	}
	if s.Priority != "" {
		if _, err := ParsePriority(string(s.Priority)); err != nil {
			return err
		}
	}
	return ValidateData(s.Data, s.MaxDataBytes)
}

// BulkSource yields the jobs of a bulk enqueue one at a time.
type BulkSource interface {
	// Next returns the next job and the line errors about it name (its
	// line in the input), or io.EOF after the last job. Any other error
	// ends the batch, which is rolled back.
	Next() (p *EnqueueParams, line int, err error)
}

// ExistingObserver is a BulkSource that wants to know which of its jobs
// were not inserted because a live job already held their unique key: the
// ID reported for such a line is that job's. Existing is called inside the
// batch's transaction, which may still roll back.
type ExistingObserver interface {
	Existing(line int, j *Job)
}

// SliceSource yields ps in order; a job's line is its position, from 1.
func SliceSource(ps []*EnqueueParams) BulkSource { return &sliceSource{ps: ps} }

type sliceSource struct {
	ps []*EnqueueParams
	i  int
}

func (s *sliceSource) Next() (*EnqueueParams, int, error) {
	if s.i == len(s.ps) {
		return nil, 0, io.EOF
	}
	s.i++
	return s.ps[s.i-1], s.i, nil
}

// OneLine makes a database's message fit one line of a terminal: runs of
// white space become one space and other control characters are shown
// escaped (\x1b), since the message may quote the row's values.
func OneLine(msg string) string {
	msg = strings.Join(strings.Fields(msg), " ")
	if !strings.ContainsFunc(msg, unicode.IsControl) {
		return msg
	}
	var b strings.Builder
	for _, r := range msg {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// RowError is a bulk enqueue refused because of one row of its input.
type RowError struct {
	Line int
	Err  error
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *RowError) Unwrap() error { return e.Err }
