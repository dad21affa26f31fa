package hostfilter

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// install sets no_new_privs and loads prog on every thread of uk: both go
// to the calling thread, and SECCOMP_FILTER_FLAG_TSYNC puts the filter and
// no_new_privs on all the others at once (the kernel copies the caller's
// no_new_privs with the filter); threads made later inherit both.
func install(prog []Insn) error {
	if len(prog) == 0 || len(prog) > 4096 {
		return fmt.Errorf("hostfilter: program of %d instructions", len(prog))
	}
	// The prctl and the seccomp call must be one thread's.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("hostfilter: prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	filter := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		filter[i] = unix.SockFilter{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	r, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC,
		uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(filter)
	if e != 0 {
		return fmt.Errorf("hostfilter: seccomp(SET_MODE_FILTER, TSYNC): %w", e)
	}
	if r != 0 {
		return fmt.Errorf("hostfilter: seccomp TSYNC: thread %d cannot take the filter", r)
	}
	return nil
}

// capHeader and capData are the kernel's __user_cap_header_struct and
// __user_cap_data_struct (version 3: two data structs, 64 bits).
type capHeader struct {
	version uint32
	pid     int32
}

type capData struct {
	effective, permitted, inheritable uint32
}

// setCaps makes keep the effective and permitted capability sets of every
// thread, with nothing inheritable (and so no ambient set).
func setCaps(keep uint64) error {
	hdr := capHeader{version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]capData{
		{effective: uint32(keep), permitted: uint32(keep)},
		{effective: uint32(keep >> 32), permitted: uint32(keep >> 32)},
	}
	err := allThreads(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	runtime.KeepAlive(&hdr)
	runtime.KeepAlive(&data)
	if err != nil {
		return fmt.Errorf("hostfilter: capset: %w", err)
	}
	return nil
}

// errCgo is what every all-threads call fails with in a uk built with cgo:
// Go refuses them there (ENOTSUP), since threads it did not start may exist.
var errCgo = fmt.Errorf("this uk was built with cgo, which keeps it from confining all of its threads; build it with CGO_ENABLED=0 (make build)")

// allThreads runs a syscall on every thread of uk.
func allThreads(nr, a1, a2, a3 uintptr) error {
	if _, _, e := syscall.AllThreadsSyscall(nr, a1, a2, a3); e != 0 {
		if e == unix.ENOTSUP {
			return errCgo
		}
		return e
	}
	return nil
}
