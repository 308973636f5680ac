//go:build !linux

package render

// echoOff does nothing here: term.ReadPassword turns echo off as it starts.
func echoOff(int) error { return nil }
