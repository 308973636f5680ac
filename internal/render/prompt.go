package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNoAnswer means the input ended (Ctrl-D at a terminal) before the
// question was answered.
var ErrNoAnswer = errors.New("no answer: end of input")

// Confirm asks a yes/no question on ErrOut and reads the answer from In.
// Only "y" and "yes" (any case) say yes; an empty answer says no, so a
// destructive action never runs by default. The end of input is
// ErrNoAnswer, and a cancelled ctx (Ctrl-C) ends the wait at once with
// ctx's error: a read from a terminal cannot be interrupted, so the
// answer is read aside and left behind. Callers check CanPrompt first.
func (ios *IO) Confirm(ctx context.Context, prompt string) (bool, error) {
	fmt.Fprintf(ios.ErrOut, "%s [y/N] ", Inert(prompt))
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	in := ios.In // the reader may outlive this call; don't read ios later
	go func() {
		line, err := readLine(in)
		got <- answer{line, err}
	}()
	var a answer
	select {
	case <-ctx.Done():
		// The cursor is still after the question.
		fmt.Fprintln(ios.ErrOut)
		return false, ctx.Err()
	case a = <-got:
	}
	if a.err != nil {
		if errors.Is(a.err, ErrNoAnswer) {
			fmt.Fprintln(ios.ErrOut)
		}
		return false, a.err
	}
	switch strings.ToLower(strings.TrimSpace(a.line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// readLine reads up to a newline a byte at a time: a buffered reader could
// swallow input meant for whoever reads In next. Input that ends before a
// newline is ErrNoAnswer, as a half-typed answer was never confirmed.
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
			return "", ErrNoAnswer
		}
		if err != nil {
			return "", fmt.Errorf("read answer: %w", err)
		}
	}
}
