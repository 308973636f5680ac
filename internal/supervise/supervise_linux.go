package supervise

import (
	"syscall"
	"unsafe"
)

const procSelfExe = "/proc/self/exe"

func setDeathSignal(a *syscall.SysProcAttr, sig syscall.Signal) { a.Pdeathsig = sig }

// resetSignal sets sig's disposition to SIG_DFL behind the Go runtime's
// back, so that raising it ends the process the way it ended the handler
// (the runtime would otherwise turn SIGSEGV, SIGABRT and the like into a
// Go crash report).
func resetSignal(sig syscall.Signal) {
	// struct sigaction as the kernel reads it on 64-bit Linux: handler,
	// flags, restorer, mask. All zero is SIG_DFL.
	var sa [4]uint64
	_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
}
