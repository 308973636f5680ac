//go:build !linux

package render

import (
	"errors"
	"io"
	"os"

	"golang.org/x/term"
)

// echoOff does nothing here: term.ReadPassword turns echo off as it starts.
func echoOff(int) error { return nil }

// readSecretLine reads a line from the terminal f without echo.
func readSecretLine(f *os.File) (string, error) {
	b, err := term.ReadPassword(int(f.Fd()))
	if errors.Is(err, io.EOF) && len(b) == 0 {
		return "", ErrNoAnswer
	}
	return string(b), err
}
