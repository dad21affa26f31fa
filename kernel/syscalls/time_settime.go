package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"uk/kernel"
)

// Setting the sandbox's wall clock: clock_settime, settimeofday, adjtimex
// and clock_adjtime (kernel/time_wallclock.go keeps the clock,
// time_adjtimex.go the discipline), with Linux's checks in its order.

// settodMaxSec is the latest second a wall clock may be set to
// (KTIME_SETTOD_MAX: KTIME_SEC_MAX less 30 years of uptime).
const settodMaxSec = (1<<63-1)/int64(time.Second) - 30*365*86400

func sysClockSettime(t *kernel.Task, a [6]uint64) (uint64, error) {
	clock := int32(a[0])
	if clock != unix.CLOCK_REALTIME {
		return 0, unix.EINVAL // unknown, or a clock that cannot be set (the CPU clocks too, on 6.18)
	}
	var b [16]byte
	if err := t.CopyIn(a[1], b[:]); err != nil {
		return 0, err
	}
	sec, nsec := int64(binary.LittleEndian.Uint64(b[0:])), int64(binary.LittleEndian.Uint64(b[8:]))
	return 0, setWallClock(t, sec, nsec)
}

// setWallClock is do_sys_settimeofday64's part for a new time: EINVAL for
// an invalid or too late time, then EPERM without CAP_SYS_TIME.
func setWallClock(t *kernel.Task, sec, nsec int64) error {
	if sec < 0 || nsec < 0 || nsec >= 1e9 || sec >= settodMaxSec {
		return unix.EINVAL
	}
	if !t.Credentials().Privileged {
		return unix.EPERM
	}
	return t.Kernel().SetRealtime(sec*1e9 + nsec)
}

func sysSettimeofday(t *kernel.Task, a [6]uint64) (uint64, error) {
	tvAddr, tzAddr := a[0], a[1]
	var sec, usec int64
	if tvAddr != 0 {
		var b [16]byte
		if err := t.CopyIn(tvAddr, b[:]); err != nil {
			return 0, err
		}
		sec, usec = int64(binary.LittleEndian.Uint64(b[0:])), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || usec < 0 || usec >= 1e6 {
			return 0, unix.EINVAL
		}
	}
	var minutesWest int32
	if tzAddr != 0 {
		var b [8]byte
		if err := t.CopyIn(tzAddr, b[:]); err != nil {
			return 0, err
		}
		minutesWest = int32(binary.LittleEndian.Uint32(b[0:]))
	}
	if tvAddr != 0 && sec >= settodMaxSec {
		return 0, unix.EINVAL
	}
	if !t.Credentials().Privileged {
		return 0, unix.EPERM
	}
	// The timezone is checked and otherwise ignored: uk keeps the
	// kernel's timezone at UTC, as the vDSO's gettimeofday reports it.
	if tzAddr != 0 && (minutesWest > 15*60 || minutesWest < -15*60) {
		return 0, unix.EINVAL
	}
	if tvAddr == 0 {
		return 0, nil
	}
	return 0, t.Kernel().SetRealtime(sec*1e9 + usec*1e3)
}

// timexSize is sizeof(struct timex).
const timexSize = 208

func sysAdjtimex(t *kernel.Task, a [6]uint64) (uint64, error) {
	return adjtimex(t, a[0])
}

func sysClockAdjtime(t *kernel.Task, a [6]uint64) (uint64, error) {
	clock := int32(a[0])
	var b [timexSize]byte
	if err := t.CopyIn(a[1], b[:]); err != nil {
		return 0, err
	}
	switch {
	case clock == unix.CLOCK_REALTIME:
		return adjtimex(t, a[1])
	case clock < 0 && clock&7 == 3:
		return 0, unix.EINVAL // a clock of a file: uk has no such clock
	case clock < 0:
		return 0, unix.EOPNOTSUPP // a CPU clock: never adjusted
	}
	if _, err := t.Kernel().ClockNow(clock, t); err != nil {
		return 0, unix.EINVAL
	}
	return 0, unix.EOPNOTSUPP // no clock_adj for the other clocks
}

// adjtimex reads struct timex at addr, applies it and writes it back
// (padding and all, as Linux copies the whole structure both ways).
func adjtimex(t *kernel.Task, addr uint64) (uint64, error) {
	var b [timexSize]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	i64 := func(off int) int64 { return int64(le.Uint64(b[off:])) }
	tx := kernel.Timex{Modes: le.Uint32(b[0:]), Offset: i64(8), Freq: i64(16), Maxerror: i64(24), Esterror: i64(32),
		Status: int32(le.Uint32(b[40:])), Constant: i64(48), Sec: i64(72), Usec: i64(80), Tick: i64(88)}
	if err := kernel.CheckTimex(&tx, t.Credentials().Privileged); err != nil {
		return 0, err
	}
	state, err := t.Kernel().Adjtimex(&tx)
	if err != nil {
		return 0, err
	}
	put := func(off int, v int64) { le.PutUint64(b[off:], uint64(v)) }
	put(8, tx.Offset)
	put(16, tx.Freq)
	put(24, tx.Maxerror)
	put(32, tx.Esterror)
	le.PutUint32(b[40:], uint32(tx.Status))
	put(48, tx.Constant)
	put(56, tx.Precision)
	put(64, tx.Tolerance)
	put(72, tx.Sec)
	put(80, tx.Usec)
	put(88, tx.Tick)
	for _, off := range []int{96, 104, 120, 128, 136, 144, 152} { // the PPS fields: no PPS signal
		put(off, 0)
	}
	le.PutUint32(b[112:], 0) // shift
	le.PutUint32(b[160:], uint32(tx.TAI))
	if err := t.CopyOut(addr, b[:]); err != nil {
		return 0, err
	}
	return uint64(state), nil
}
