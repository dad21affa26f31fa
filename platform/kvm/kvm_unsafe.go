package kvm

import (
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctl issues a KVM ioctl whose argument is a plain integer (or none).
// KVM_RUN is not issued here: it blocks, see run.
//
// KVM returns EINTR from some ioctls (KVM_CREATE_VM among them) when a
// signal is pending, and the Go runtime signals threads all the time (for
// preemption): those are retried.
func ioctl(fd int, req uintptr, arg uintptr) (uintptr, error) {
	for {
		r, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), req, arg)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return r, e
		}
		return r, nil
	}
}

// ioctlBuf issues a KVM ioctl whose argument points at buf, a byte image of
// the kernel's structure. The pointer becomes a uintptr only inside the
// call to the assembly RawSyscall, which keeps buf in place until it
// returns.
// EINTR is retried, as in ioctl.
func ioctlBuf(fd int, req uintptr, buf []byte) (uintptr, error) {
	for {
		r, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(&buf[0])))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return r, e
		}
		return r, nil
	}
}

// runVCPU is KVM_RUN. It goes through Syscall, not RawSyscall: the guest
// may run for as long as the application computes, and the Go scheduler
// must be able to hand this thread's P to other goroutines meanwhile.
func runVCPU(fd int) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), kvmRun, 0)
	if e != 0 {
		return e
	}
	return nil
}

// setImmediateExit sets or clears kvm_run.immediate_exit (the byte at
// offset 1) of a vCPU's shared run page. Interrupt sets it from another
// goroutine while the owner may be entering KVM_RUN, so the store is
// atomic: the owner's KVM_RUN either sees it and returns at once, or was
// already in the guest and is kicked out by the signal that follows. The
// 32-bit word also holds request_interrupt_window (byte 0), which uk
// never sets.
func setImmediateExit(run []byte, on bool) {
	var v uint32
	if on {
		v = 1 << 8
	}
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&run[0])), v)
}

// words views a page-aligned slice of n*8 bytes as 64-bit words, in the
// host's (little-endian) byte order. Page tables and the per-vCPU mailbox
// are edited through such views; the memory is a MAP_SHARED mapping that
// the garbage collector never moves.
func words(b []byte) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), len(b)/8)
}

// atomicStore64 stores a page-table entry in one 8-byte write, so that a
// vCPU walking the table meanwhile sees the old or the new entry, never a
// torn one.
func atomicStore64(p *uint64, v uint64) { atomic.StoreUint64(p, v) }

// addrOf is the address of a mapping, for a memory slot's userspace_addr.
// The slice is an mmap'd region that never moves.
func addrOf(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }

// setTSCOffset sets the vCPU's TSC offset (KVM_VCPU_TSC_CTRL /
// KVM_VCPU_TSC_OFFSET): 0 makes the guest's TSC the host's.
func setTSCOffset(fd int, off int64) error {
	// On the heap, which never moves: the kernel reads it through a
	// plain address inside attr.
	v := new(int64)
	*v = off
	attr := &struct {
		flags, group uint32
		attr, addr   uint64
	}{group: 0, attr: 0, addr: uint64(uintptr(unsafe.Pointer(v)))}
	_, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), kvmHasDeviceAttr, uintptr(unsafe.Pointer(attr)))
	if e != 0 {
		return e
	}
	_, _, e = unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), kvmSetDeviceAttr, uintptr(unsafe.Pointer(attr)))
	runtime.KeepAlive(v)
	if e != 0 {
		return e
	}
	return nil
}
