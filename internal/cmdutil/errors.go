// Package cmdutil is what every command shares: the lazy factory that opens
// the store, the meaning of errors, and the one place errors become output
// and exit codes.
package cmdutil

import (
	"errors"
	"fmt"
)

// Exit codes, as DESIGN §6 fixes them.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// FlagError is bad usage: an unknown flag, a bad flag value, a missing
// argument. It exits 2. Hint, when set, follows the one-line message on
// lines of its own (a suggestion, a pointer at --help).
type FlagError struct {
	Err  error
	Hint string
}

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf makes a FlagError.
func FlagErrorf(format string, a ...any) error {
	return &FlagError{Err: fmt.Errorf(format, a...)}
}

// ErrSilent means the command already said what went wrong; exit 1.
var ErrSilent = errors.New("silent error")

// ExitError ends the command with a given code and, when Err is set, a
// message (health's Nagios codes).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }
