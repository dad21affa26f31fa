package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/kernel"
	"uk/kernel/cbpf"
)

// seccomp(2) and prctl's PR_SET_SECCOMP / PR_GET_SECCOMP; the kernel's
// seccomp.go runs the filters. The checks come in the order of Linux's
// kernel/seccomp.c.

// seccomp operations.
const (
	seccompSetModeStrict  = 0
	seccompSetModeFilter  = 1
	seccompGetActionAvail = 2
)

// Filter flags uk does not have: a user-space listener
// (SECCOMP_FILTER_FLAG_NEW_LISTENER, and WAIT_KILLABLE_RECV which needs
// one). Like a kernel from before them, uk refuses them (EINVAL) and says
// SECCOMP_RET_USER_NOTIF is not available.
const (
	seccompFlagNewListener      = 8
	seccompFlagWaitKillableRecv = 32
	seccompFlagsKnown           = kernel.SeccompFlagTsync | kernel.SeccompFlagLog | kernel.SeccompFlagSpecAllow | kernel.SeccompFlagTsyncESRCH
)

func sysSeccomp(t *kernel.Task, a [6]uint64) (uint64, error) {
	op, flags, uargs := a[0], a[1], a[2]
	switch op {
	case seccompSetModeStrict:
		if flags != 0 || uargs != 0 {
			return 0, unix.EINVAL
		}
		return 0, t.SetSeccompStrict()
	case seccompSetModeFilter:
		return seccompSetFilter(t, flags, uargs)
	case seccompGetActionAvail:
		if flags != 0 {
			return 0, unix.EINVAL
		}
		var b [4]byte
		if err := t.CopyIn(uargs, b[:]); err != nil {
			return 0, err
		}
		switch binary.LittleEndian.Uint32(b[:]) {
		case kernel.SeccompRetKillProcess, kernel.SeccompRetKillThread, kernel.SeccompRetTrap, kernel.SeccompRetErrno,
			kernel.SeccompRetTrace, kernel.SeccompRetLog, kernel.SeccompRetAllow:
			return 0, nil
		}
		return 0, unix.EOPNOTSUPP
	}
	return 0, unix.EINVAL
}

// seccompSetFilter installs the filter whose struct sock_fprog is at addr.
func seccompSetFilter(t *kernel.Task, flags, addr uint64) (uint64, error) {
	if flags&^seccompFlagsKnown != 0 {
		return 0, unix.EINVAL
	}
	var hdr [16]byte // struct sock_fprog: u16 len, then the pointer
	if err := t.CopyIn(addr, hdr[:]); err != nil {
		return 0, err
	}
	n := int(binary.LittleEndian.Uint16(hdr[0:]))
	ptr := binary.LittleEndian.Uint64(hdr[8:])
	if n == 0 || n > cbpf.MaxInstructions {
		return 0, unix.EINVAL
	}
	if !t.NoNewPrivs() && !t.Credentials().Privileged {
		return 0, unix.EACCES
	}
	if ptr == 0 {
		return 0, unix.EINVAL
	}
	buf := make([]byte, n*cbpf.InstructionSize)
	if err := t.CopyIn(ptr, buf); err != nil {
		return 0, err
	}
	prog := cbpf.Decode(buf, n)
	if cbpf.CheckSeccomp(prog, kernel.SeccompDataSize) != nil {
		return 0, unix.EINVAL
	}
	return t.AddSeccompFilter(prog, int(flags))
}

// prctlSeccomp is PR_SET_SECCOMP: mode 1 (strict) or 2 (a filter at
// filter); anything else EINVAL.
func prctlSeccomp(t *kernel.Task, mode, filter uint64) (uint64, error) {
	switch mode {
	case kernel.SeccompModeStrict:
		return 0, t.SetSeccompStrict()
	case kernel.SeccompModeFilter:
		return seccompSetFilter(t, 0, filter)
	}
	return 0, unix.EINVAL
}
