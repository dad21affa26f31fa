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
// It returns the host's errno (ETIMEDOUT when the timeout ran out).
func futexWait(w *atomic.Uint32, val uint32, timeout *unix.Timespec) unix.Errno {
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexOpWait, uintptr(val),
		uintptr(unsafe.Pointer(timeout)), 0, 0)
	return errno
}

// futexWake wakes up to n waiters on w: the one handler sleeping there
// (n 1), or every waiter (uk's too) once the stub of the thread has died.
func futexWake(w *atomic.Uint32, n int) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexOpWake, uintptr(n), 0, 0, 0)
}
