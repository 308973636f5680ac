package render

import "golang.org/x/sys/unix"

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
