//go:build !linux

package supervise

import "syscall"

// procSelfExe is Linux's; elsewhere os.Executable finds the binary.
const procSelfExe = ""

// PR_SET_PDEATHSIG is Linux's; elsewhere the lifeline alone does the job.
func setDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}

// resetSignal relies on the Go runtime, which ends the process by most
// signals it does not handle itself.
func resetSignal(syscall.Signal) {}
