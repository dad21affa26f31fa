package sigsys

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// stateWord returns the state word of slot mem (its first four bytes, in
// uk's shared mapping of the slot file) for atomic access.
func stateWord(mem []byte) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&mem[hdrState]))
}

// futexWait sleeps while *w == val, for at most timeout. The futex is a
// shared one (no FUTEX_PRIVATE_FLAG): the stub's handler waits and wakes
// on the same page of the slot file through its own mapping, and the host
// keys shared futexes by file and offset. It goes through Syscall, not
// RawSyscall, so that the Go scheduler can hand this thread's P to others.
func futexWait(w *atomic.Uint32, val uint32, timeout *unix.Timespec) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexOpWait, uintptr(val),
		uintptr(unsafe.Pointer(timeout)), 0, 0)
}

// futexWakeOne wakes the handler sleeping on w, if any.
func futexWakeOne(w *atomic.Uint32) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexOpWake, 1, 0, 0, 0)
}

// futexWakeAll wakes every waiter on w: uk's, when the stub of the thread
// it waits for has died.
func futexWakeAll(w *atomic.Uint32) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexOpWake, uintptr(1<<31-1), 0, 0, 0)
}
