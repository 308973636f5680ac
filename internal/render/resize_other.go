//go:build !unix

package render

import "os"

// NotifyResize never delivers where there is no SIGWINCH.
func (ios *IO) NotifyResize() (resized <-chan os.Signal, stop func()) {
	return nil, func() {}
}
