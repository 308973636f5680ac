//go:build !linux

package supervise

import "syscall"

// PR_SET_PDEATHSIG is Linux's; elsewhere the socket alone does the job.
func setDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}

// socketpair is Linux's, made close-on-exec under ForkLock where the flag
// cannot be given at once. (Not every system has SOCK_SEQPACKET on Unix
// sockets; there exec handlers fail to start with the error.)
func socketpair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	return fds, err
}
