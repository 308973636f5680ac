//go:build unix

package render

import (
	"os"
	"os/signal"
	"syscall"
)

// NotifyResize delivers a value each time the terminal is resized
// (SIGWINCH), after which Resize reads the new size. stop ends the
// notices. Off a terminal the channel is nil: it never delivers.
func (ios *IO) NotifyResize() (resized <-chan os.Signal, stop func()) {
	if ios.term == nil {
		return nil, func() {}
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGWINCH)
	return c, func() { signal.Stop(c) }
}
