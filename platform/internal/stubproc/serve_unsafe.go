package stubproc

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// publishSeq stores seq into the request page's sequence word (req is
// uk's view of the page) and wakes the serving thread sleeping on it. The
// atomic store orders it after the records and count written before it.
// The futex is a shared one (no FUTEX_PRIVATE_FLAG): the thread sleeps on
// the same page of the request file through the stub's own mapping.
func publishSeq(req []byte, seq uint32) {
	word := (*uint32)(unsafe.Pointer(&req[CtlSeq]))
	atomic.StoreUint32(word, seq)
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWake, 1, 0, 0, 0)
}

// futexWake is FUTEX_WAKE (linux/futex.h).
const futexWake = 1
