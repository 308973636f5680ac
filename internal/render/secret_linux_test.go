package render

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// Ctrl-C at a password prompt gives the terminal its echo back, and
// nothing left reading afterwards takes it away again: the read that
// ReadSecret leaves behind must not touch the terminal's state. (With
// term.ReadPassword the abandoned read saved and changed the state
// itself, and when it started after the restore the process exited with
// echo off: a flaky TestPasswordPromptCtrlC in CI.)
func TestReadSecretCancelledLeavesEchoOn(t *testing.T) {
	for i := 0; i < 20; i++ {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Fatal(err)
		}
		ios := &IO{In: tty, Out: io.Discard, ErrOut: io.Discard}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := ios.ReadSecret(ctx, "Password: "); !errors.Is(err, context.Canceled) {
			t.Fatalf("ReadSecret after Ctrl-C: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // the abandoned read has started
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		ptmx.Close()
		tty.Close()
		if tio.Lflag&unix.ECHO == 0 {
			t.Fatalf("try %d: the terminal was left without echo", i)
		}
	}
}
