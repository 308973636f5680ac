package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jobctl/jobctl/internal/render"
)

// HandleError is the only place that turns an error into output and an
// exit code: 0 ok, 1 error, 2 usage error, or an ExitError's own code.
// Messages are one line and never a stack.
func HandleError(ios *render.IO, err error) int {
	if err == nil {
		return ExitOK
	}
	var exitErr *ExitError
	if errors.As(err, &exitErr) {
		if exitErr.Err != nil {
			printError(ios, exitErr.Err)
		}
		return exitErr.Code
	}
	if errors.Is(err, ErrSilent) {
		return ExitFailure
	}
	if errors.Is(err, context.Canceled) {
		printError(ios, errors.New("interrupted"))
		return ExitFailure
	}
	printError(ios, err)
	var fe *FlagError
	if errors.As(err, &fe) && fe.Hint != "" {
		fmt.Fprintln(ios.ErrOut, render.InertBlock(fe.Hint))
	}
	if IsUsageError(err) {
		return ExitUsage
	}
	return ExitFailure
}

// IsUsageError reports whether err is bad usage: a FlagError, or one of
// cobra's own argument and command errors.
func IsUsageError(err error) bool {
	var fe *FlagError
	if errors.As(err, &fe) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "invalid argument", "flag needs an argument", "accepts ", "requires at least", "required flag"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

func printError(ios *render.IO, err error) {
	// An error may echo input (an ID from stdin) or a stored value; it is
	// made inert like any other text that reaches the terminal.
	msg := render.Inert(strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " "))
	fmt.Fprintf(ios.ErrOut, "jobctl: %s\n", msg)
}
