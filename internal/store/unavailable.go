package store

import "errors"

// ErrUnavailable means the store could not be reached: the connection
// failed or was lost. Trying again later may succeed; callers test with
// errors.Is.
var ErrUnavailable = errors.New("store unreachable")

// UnavailableError is an operation that failed because the store could not
// be reached. Its message is one line without the driver's raw text
// ("store unreachable (connection refused)"), so an operator sees what
// happened rather than a FATAL with its SQLSTATE.
type UnavailableError struct {
	Op     string // what was attempted, e.g. "complete"
	Reason string // the cause in a few words: "connection refused"
	Err    error  // the driver's error
}

func (e *UnavailableError) Error() string {
	if e.Reason == "" {
		return ErrUnavailable.Error()
	}
	return ErrUnavailable.Error() + " (" + e.Reason + ")"
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) hold.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }
