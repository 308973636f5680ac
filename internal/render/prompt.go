package render

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Confirm asks a yes/no question on ErrOut and reads the answer from In.
// Only "y" and "yes" (any case) say yes; an empty answer or end of input
// says no, so a destructive action never runs by default. Callers check
// CanPrompt first.
func (ios *IO) Confirm(prompt string) (bool, error) {
	fmt.Fprintf(ios.ErrOut, "%s [y/N] ", Inert(prompt))
	line, err := readLine(ios.In)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// readLine reads up to a newline a byte at a time: a buffered reader could
// swallow input meant for whoever reads In next.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return b.String(), nil
			}
			b.WriteByte(buf[0])
		}
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			return "", fmt.Errorf("read answer: %w", err)
		}
	}
}
