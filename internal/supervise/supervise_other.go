//go:build !linux

package supervise

import "syscall"

// PR_SET_PDEATHSIG is Linux's; elsewhere the socket alone does the job.
func setDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}
