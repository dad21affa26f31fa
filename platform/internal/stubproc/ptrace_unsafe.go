package stubproc

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// The ptrace requests here are issued with RawSyscall: none of them blocks
// (the tracee is in a ptrace-stop), and skipping the scheduler hooks of
// Syscall shortens every switch. Only wait4 (in waitStop) may block and goes
// through Syscall so the Go scheduler can hand this thread's P to others.

// Register sets for PTRACE_GETREGSET/SETREGSET (linux/elf.h).
const (
	ntPRStatus  = 1     // NT_PRSTATUS: struct user_regs_struct
	ntX86XState = 0x202 // NT_X86_XSTATE: the XSAVE image
)

func ptrace4(req int, tid int, addr, data uintptr) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// ptracePtr is ptrace(2) whose data argument points at memory of ours,
// often a variable on this goroutine's stack. The pointer travels as an
// unsafe.Pointer, which a stack copy updates, and becomes a uintptr only
// inside the call to the assembly RawSyscall6, which keeps its target in
// place until the call returns. Passing it on as a uintptr through a Go
// function instead (as ptrace4 would) lets a stack growth in between move
// the target: the kernel then reads or writes stale memory (seen as an
// intermittent EIO from PTRACE_SETREGS on a garbage fs_base).
func ptracePtr(req int, tid int, addr uintptr, data unsafe.Pointer) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, uintptr(data), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// GetRegs reads the general registers of a stopped tracee. arch.Registers has
// the layout of user_regs_struct, so the kernel fills it in place.
func GetRegs(tid int, r *arch.Registers) error {
	return ptracePtr(unix.PTRACE_GETREGS, tid, 0, unsafe.Pointer(r))
}

// SetRegs writes the general registers (FS/GS base included) of a stopped
// tracee.
func SetRegs(tid int, r *arch.Registers) error {
	return ptracePtr(unix.PTRACE_SETREGS, tid, 0, unsafe.Pointer(r))
}

// GetXState reads the tracee's XSAVE image into buf and returns how many
// bytes the kernel wrote.
func GetXState(tid int, buf []byte) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	err := ptracePtr(unix.PTRACE_GETREGSET, tid, ntX86XState, unsafe.Pointer(&iov))
	return int(iov.Len), err
}

// SetXState loads buf as the tracee's XSAVE image.
func SetXState(tid int, buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	return ptracePtr(unix.PTRACE_SETREGSET, tid, ntX86XState, unsafe.Pointer(&iov))
}

// GetSiginfo reads the Siginfo of the signal that caused the tracee's
// signal-delivery-stop.
func GetSiginfo(tid int, si *Siginfo) error {
	return ptracePtr(unix.PTRACE_GETSIGINFO, tid, 0, unsafe.Pointer(si))
}

// Resume continues a stopped tracee with the given ptrace request
// (PTRACE_SYSEMU, PTRACE_CONT), delivering no signal.
func Resume(req, tid int) error {
	return ptrace4(req, tid, 0, 0)
}

// Seize attaches to tid without stopping it, with the given options.
func Seize(tid int, options uintptr) error {
	return ptrace4(unix.PTRACE_SEIZE, tid, 0, options)
}

// SetOptions sets ptrace options of a tracee in a ptrace-stop.
func SetOptions(tid int, options uintptr) error {
	return ptrace4(unix.PTRACE_SETOPTIONS, tid, 0, options)
}

// Wait4 waits for a state change of one tracee. __WALL is needed because
// stub threads are not children of uk in the wait(2) sense.
func Wait4(tid int, options int) (int, unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		r, _, e := unix.Syscall6(unix.SYS_WAIT4, uintptr(tid), uintptr(unsafe.Pointer(&ws)), uintptr(options|unix.WALL), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, 0, e
		}
		return int(r), ws, nil
	}
}

// ReadMem copies the tracee's memory at addr into buf with one
// process_vm_readv; the remote range is split at page boundaries so that a
// partial read stops at the first unreadable page instead of failing whole.
func ReadMem(pid int, addr uint64, buf []byte) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	local := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	var remote [2]unix.RemoteIovec
	n := 1
	first := uint64(len(buf))
	if pageEnd := arch.PageRoundDown(addr) + arch.PageSize; addr+first > pageEnd {
		first = pageEnd - addr
		remote[1] = unix.RemoteIovec{Base: uintptr(pageEnd), Len: len(buf) - int(first)}
		n = 2
	}
	remote[0] = unix.RemoteIovec{Base: uintptr(addr), Len: int(first)}
	r, _, e := unix.RawSyscall6(unix.SYS_PROCESS_VM_READV, uintptr(pid),
		uintptr(unsafe.Pointer(&local)), 1, uintptr(unsafe.Pointer(&remote[0])), uintptr(n), 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// Tgkill sends sig to one thread of process pid.
func Tgkill(pid, tid int, sig unix.Signal) error {
	return unix.Tgkill(pid, tid, sig)
}

// kernelSigaction is the x86-64 kernel's struct sigaction for rt_sigaction.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// QuietStopNotifications adds SA_NOCLDSTOP to uk's SIGCHLD disposition,
// keeping the handler the Go runtime installed. Without it every ptrace-stop
// of every stub thread also sends uk a SIGCHLD, and the runtime's signal
// handler runs once per application syscall for nothing; wait4 is woken
// either way. Exit notifications, which os/exec relies on, are unaffected.
func QuietStopNotifications() error {
	const saNoCldStop = 1
	var sa kernelSigaction
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), 0, uintptr(unsafe.Pointer(&sa)), 8, 0, 0); e != 0 {
		return e
	}
	if sa.flags&saNoCldStop != 0 {
		return nil
	}
	sa.flags |= saNoCldStop
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0); e != 0 {
		return e
	}
	return nil
}
