package syscalls

import (
	"errors"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
	"uk/kernel/futex"
)

func sysFutex(t *kernel.Task, a [6]uint64) (uint64, error) {
	op := uint32(a[1])
	args := futex.Args{Addr: a[0], Op: op, Val: uint32(a[2]), Val2: uint32(a[3]), Addr2: a[4], Val3: uint32(a[5])}
	if kind := futex.TimeoutOf(op); kind != futex.NoTimeout && a[3] != 0 {
		var b [16]byte
		if err := t.CopyIn(a[3], b[:]); err != nil {
			return 0, err
		}
		var now int64
		switch kind {
		case futex.AbsoluteMonotonic:
			now, _ = t.Kernel().ClockNow(unix.CLOCK_MONOTONIC, t)
		case futex.AbsoluteRealtime:
			now, _ = t.Kernel().ClockNow(unix.CLOCK_REALTIME, t)
		}
		d, err := futex.TimespecDeadline(kind, int64(le64(b[0:])), int64(le64(b[8:])), now)
		if err != nil {
			return 0, err
		}
		args.Deadline = d
	}
	args.TID, args.Owners = uint32(t.TID()), t.Kernel()
	n, err := t.Kernel().Futexes().Futex(t.FutexMemory(), args, t.Interrupt())
	if errors.Is(err, futex.ErrInterrupted) {
		switch op & futex.CmdMask {
		case futex.OpLockPI, futex.OpLockPI2:
			// Linux always restarts a PI lock (its deadline is
			// absolute): ERESTARTNOINTR.
			return 0, arch.ERESTARTNOINTR
		}
		return 0, arch.ERESTARTSYS
	}
	return uint64(n), err
}

func sysFutexWaitv(t *kernel.Task, a [6]uint64) (uint64, error) {
	addr, nr, flags, tsAddr, clock := a[0], a[1], a[2], a[3], int32(a[4])
	if flags != 0 || nr == 0 || nr > futex.WaitvMax || addr == 0 {
		return 0, unix.EINVAL
	}
	raw := make([]byte, nr*futex.WaitvEntrySize)
	if err := t.CopyIn(addr, raw); err != nil {
		return 0, err
	}
	entries, err := futex.DecodeWaitv(raw)
	if err != nil {
		return 0, err
	}
	var deadline futex.Args
	if tsAddr != 0 {
		kind := futex.AbsoluteMonotonic
		switch clock {
		case unix.CLOCK_MONOTONIC:
		case unix.CLOCK_REALTIME:
			kind = futex.AbsoluteRealtime
		default:
			return 0, unix.EINVAL
		}
		var b [16]byte
		if err := t.CopyIn(tsAddr, b[:]); err != nil {
			return 0, err
		}
		now, _ := t.Kernel().ClockNow(clock, t)
		d, err := futex.TimespecDeadline(kind, int64(le64(b[0:])), int64(le64(b[8:])), now)
		if err != nil {
			return 0, err
		}
		deadline.Deadline = d
	}
	i, err := t.Kernel().Futexes().Waitv(t.FutexMemory(), entries, deadline.Deadline, t.Interrupt())
	if errors.Is(err, futex.ErrInterrupted) {
		return 0, arch.ERESTARTSYS
	}
	return uint64(i), err
}
