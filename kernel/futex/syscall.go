package futex

import (
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// futex(2) operations and flags, from <linux/futex.h>.
const (
	OpWait          = 0
	OpWake          = 1
	OpFD            = 2 // removed in Linux 2.6.26: ENOSYS
	OpRequeue       = 3
	OpCmpRequeue    = 4
	OpWakeOp        = 5
	OpLockPI        = 6
	OpUnlockPI      = 7
	OpTrylockPI     = 8
	OpWaitBitset    = 9
	OpWakeBitset    = 10
	OpWaitRequeuePI = 11
	OpCmpRequeuePI  = 12
	OpLockPI2       = 13

	// FlagPrivate (FUTEX_PRIVATE_FLAG) says the futex is private to the
	// caller's address space.
	FlagPrivate = 128
	// FlagClockRealtime (FUTEX_CLOCK_REALTIME) makes an absolute timeout
	// count on CLOCK_REALTIME instead of CLOCK_MONOTONIC.
	FlagClockRealtime = 256
	// CmdMask extracts the operation from futex_op.
	CmdMask = ^uint32(FlagPrivate | FlagClockRealtime)

	// BitsetMatchAny is the bitset of FUTEX_WAIT and FUTEX_WAKE.
	BitsetMatchAny = 0xffffffff
)

// Args are futex(2)'s arguments as the application passed them, plus the
// deadline the kernel computed from the timeout argument (see TimeoutOf
// and TimespecDeadline).
type Args struct {
	Addr uint64 // uaddr
	Op   uint32 // futex_op, with FlagPrivate and FlagClockRealtime
	Val  uint32 // val
	// Val2 is the fourth argument as an integer, which REQUEUE,
	// CMP_REQUEUE and WAKE_OP use instead of a timeout (the low 32
	// bits of the pointer-sized register, as Linux takes them).
	Val2     uint32
	Addr2    uint64    // uaddr2
	Val3     uint32    // val3
	Deadline time.Time // zero: no timeout (or the op takes none)
	// TID is the caller's thread id and Owners says which threads
	// exist: the PI operations need them.
	TID    uint32
	Owners PIOwners
}

// Futex performs futex(2) and returns its result: the number of waiters
// woken (and requeued) for the wake and requeue operations, 0 for a wait.
// FUTEX_WAIT_REQUEUE_PI, FUTEX_CMP_REQUEUE_PI and FUTEX_FD return
// unix.ENOSYS, as does an unknown
// operation or FlagClockRealtime on an operation other than
// FUTEX_WAIT_BITSET (and the PI waits), as on Linux.
//
// A handler for futex(2) reads the timespec first when TimeoutOf(op) says
// the fourth argument is one and it is not NULL (EFAULT / EINVAL as
// TimespecDeadline reports), then calls Futex; on ErrInterrupted it
// returns ERESTARTSYS, or for FUTEX_WAIT with a timeout sets up a restart
// that waits until the same Deadline.
func (m *Manager) Futex(mem Memory, a Args, interrupt <-chan struct{}) (int, error) {
	cmd := a.Op & CmdMask
	private := a.Op&FlagPrivate != 0
	if a.Op&FlagClockRealtime != 0 && cmd != OpWaitBitset && cmd != OpWaitRequeuePI && cmd != OpLockPI2 {
		return 0, unix.ENOSYS
	}
	switch cmd {
	case OpWait:
		return 0, m.Wait(mem, a.Addr, private, a.Val, BitsetMatchAny, a.Deadline, interrupt)
	case OpWaitBitset:
		return 0, m.Wait(mem, a.Addr, private, a.Val, a.Val3, a.Deadline, interrupt)
	case OpWake:
		return m.Wake(mem, a.Addr, private, int(int32(a.Val)), BitsetMatchAny)
	case OpWakeBitset:
		return m.Wake(mem, a.Addr, private, int(int32(a.Val)), a.Val3)
	case OpRequeue:
		return m.Requeue(mem, a.Addr, a.Addr2, private, int(int32(a.Val)), int(int32(a.Val2)), nil)
	case OpCmpRequeue:
		val3 := a.Val3
		return m.Requeue(mem, a.Addr, a.Addr2, private, int(int32(a.Val)), int(int32(a.Val2)), &val3)
	case OpWakeOp:
		return m.WakeOp(mem, a.Addr, a.Addr2, private, int(int32(a.Val)), int(int32(a.Val2)), a.Val3)
	case OpLockPI, OpLockPI2, OpTrylockPI:
		if a.Owners == nil {
			return 0, unix.ENOSYS
		}
		return 0, m.LockPI(mem, a.Owners, a.Addr, private, a.TID, a.Deadline, interrupt, cmd == OpTrylockPI)
	case OpUnlockPI:
		return 0, m.UnlockPI(mem, a.Addr, private, a.TID)
	}
	return 0, unix.ENOSYS
}

// TimeoutKind says how futex(2) reads its fourth argument.
type TimeoutKind int

const (
	// NoTimeout: the argument is val2 or unused.
	NoTimeout TimeoutKind = iota
	// RelativeTimeout: a struct timespec interval measured on
	// CLOCK_MONOTONIC (FUTEX_WAIT).
	RelativeTimeout
	// AbsoluteMonotonic: a struct timespec time on CLOCK_MONOTONIC.
	AbsoluteMonotonic
	// AbsoluteRealtime: a struct timespec time on CLOCK_REALTIME.
	AbsoluteRealtime
)

// TimeoutOf returns how futex(2) with operation op (flags included) reads
// its timeout argument, following Linux's futex_cmd_has_timeout and
// futex_init_timeout. A NULL pointer always means no timeout.
func TimeoutOf(op uint32) TimeoutKind {
	realtime := op&FlagClockRealtime != 0
	switch op & CmdMask {
	case OpWait:
		return RelativeTimeout
	case OpLockPI:
		return AbsoluteRealtime
	case OpWaitBitset, OpWaitRequeuePI, OpLockPI2:
		if realtime {
			return AbsoluteRealtime
		}
		return AbsoluteMonotonic
	}
	return NoTimeout
}

// TimespecDeadline turns an application timespec into a Go deadline for
// Args.Deadline, Wait and Waitv. clockNow is the current value, in
// nanoseconds, of the clock an absolute timeout counts on (the kernel's
// ClockNow of CLOCK_MONOTONIC or CLOCK_REALTIME; unused for a relative
// one). A timespec with tv_sec < 0 or tv_nsec outside [0, 1e9) is
// unix.EINVAL (timespec64_valid). A timeout too far away to represent
// means no timeout (the zero Time), as it is in practice on Linux.
//
// Realtime deadlines are converted once, when the wait starts, so a later
// change of the wall clock does not move them (Linux would).
func TimespecDeadline(kind TimeoutKind, sec, nsec, clockNow int64) (time.Time, error) {
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return time.Time{}, unix.EINVAL
	}
	if sec > math.MaxInt64/int64(time.Second)-1 {
		return time.Time{}, nil
	}
	ns := sec*1e9 + nsec
	now := time.Now()
	switch kind {
	case RelativeTimeout:
		return now.Add(time.Duration(ns)), nil
	case AbsoluteMonotonic, AbsoluteRealtime:
		return now.Add(time.Duration(ns - clockNow)), nil
	}
	return time.Time{}, nil
}
