package render

import (
	"os"

	"golang.org/x/sys/unix"
)

// echoOff turns the terminal's echo off at once, so that what is typed
// (or pasted) right after the prompt appears is never shown. The caller
// restores the terminal's whole state afterwards.
func echoOff(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Lflag &^= unix.ECHO
	t.Lflag |= unix.ICANON | unix.ISIG
	t.Iflag |= unix.ICRNL
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// readSecretLine reads the line typed at a terminal whose echo echoOff
// has already turned off. It leaves the terminal's state alone: were it
// to save and restore the state itself (as term.ReadPassword does), a
// read that starts after Ctrl-C has restored the echo would turn it off
// again as the process exits.
func readSecretLine(f *os.File) (string, error) { return readLine(f) }
