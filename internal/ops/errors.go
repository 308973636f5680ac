package ops

import (
	"fmt"
	"regexp"
)

// invalid is a CodeInvalid error about the input field. Its format names
// inputs as {field} tokens: Message reads them bare ("since"), as a query
// string names them, and In lets each adapter name them its own way
// ("--since"). Only the format holds tokens, never a value the user typed.
func invalid(field, format string, args ...any) *Error {
	return newError(CodeInvalid, field, format, args...)
}

func newError(code Code, field, format string, args ...any) *Error {
	e := &Error{Code: code, Field: field, format: format, args: args}
	e.Message = e.In(func(f string) string { return f })
	return e
}

var token = regexp.MustCompile(`\{([a-zA-Z]+)\}`)

// In is the message with every input it mentions named by name: the CLI
// passes func(f string) string { return "--" + f }. An Error made as a
// literal is its Message.
func (e *Error) In(name func(field string) string) string {
	if e.format == "" {
		return e.Message
	}
	f := token.ReplaceAllStringFunc(e.format, func(t string) string { return name(t[1 : len(t)-1]) })
	return fmt.Sprintf(f, e.args...)
}
