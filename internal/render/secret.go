package render

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/term"
)

// ReadSecret asks prompt on ErrOut and reads one line from In, without
// echoing it when In is a terminal: a password. Ctrl-C (ctx cancelled)
// ends the wait at once and gives the terminal its echo back, which an
// abandoned read would otherwise leave off. From anything but a terminal
// (tests) it reads the line as Confirm does. Callers check CanPrompt
// first.
func (ios *IO) ReadSecret(ctx context.Context, prompt string) (string, error) {
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	restore := func() {}
	if f, ok := ios.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		state, err := term.GetState(fd)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		restore = func() { _ = term.Restore(fd, state) }
		// Echo goes off before the prompt is shown, not when ReadPassword
		// gets to it, or a password typed at once is echoed.
		if err := echoOff(fd); err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(ios.ErrOut, Inert(prompt))
		go func() {
			line, err := readSecretLine(f)
			got <- answer{line, err}
		}()
	} else {
		fmt.Fprint(ios.ErrOut, Inert(prompt))
		in := ios.In
		go func() {
			line, err := readLine(in)
			got <- answer{line, err}
		}()
	}
	select {
	case <-ctx.Done():
		restore()
		fmt.Fprintln(ios.ErrOut)
		return "", ctx.Err()
	case a := <-got:
		restore()
		// The typed Enter was not echoed either.
		fmt.Fprintln(ios.ErrOut)
		if a.err != nil {
			return "", a.err
		}
		return a.line, nil
	}
}
