package syscalls

import (
	"math"
	"time"
	"uk/arch"

	"golang.org/x/sys/unix"

	"uk/kernel"
)

// timespec encodes a struct timespec.
func timespec(ns int64) []byte {
	return words(uint64(ns/1e9), uint64(ns%1e9))
}

func getTimespec(t *kernel.Task, addr uint64) (int64, error) {
	var b [16]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec := int64(le64(b[0:]))
	nsec := int64(le64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, unix.EINVAL
	}
	if sec > (1<<63-1)/1000000000-1 {
		return 1<<63 - 1, nil
	}
	return sec*1e9 + nsec, nil
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func sysClockGettime(t *kernel.Task, a [6]uint64) (uint64, error) {
	ns, err := t.Kernel().ClockNow(int32(a[0]), t)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a[1], timespec(ns))
}

func sysClockGetres(t *kernel.Task, a [6]uint64) (uint64, error) {
	res, err := t.Kernel().ClockRes(int32(a[0]), t)
	if err != nil || a[1] == 0 {
		return 0, err
	}
	return 0, t.CopyOut(a[1], timespec(res))
}

func sysGettimeofday(t *kernel.Task, a [6]uint64) (uint64, error) {
	if a[0] != 0 {
		ns, _ := t.Kernel().ClockNow(unix.CLOCK_REALTIME, t)
		if err := t.CopyOut(a[0], words(uint64(ns/1e9), uint64(ns%1e9/1e3))); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		// struct timezone: minutes west and DST type, both 0 (UTC).
		if err := t.CopyOut(a[1], make([]byte, 8)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysTime(t *kernel.Task, a [6]uint64) (uint64, error) {
	ns, _ := t.Kernel().ClockNow(unix.CLOCK_REALTIME, t)
	now := uint64(ns / 1e9)
	if a[0] != 0 {
		if err := putUint64(t, a[0], now); err != nil {
			return 0, err
		}
	}
	return now, nil
}

func sysNanosleep(t *kernel.Task, a [6]uint64) (uint64, error) {
	ns, err := getTimespec(t, a[0])
	if err != nil {
		return 0, err
	}
	return 0, sleepFor(t, time.Duration(ns), a[1])
}

// sleepFor sleeps d (sleepUntil).
func sleepFor(t *kernel.Task, d time.Duration, remAddr uint64) error {
	return sleepUntil(t, time.Now().Add(d), remAddr)
}

// sleepUntil sleeps until deadline (on the monotonic clock). When a signal
// interrupts it, the time left goes to remAddr (if non-zero) and the
// syscall returns ERESTART_RESTARTBLOCK, as Linux's does: EINTR if a
// handler runs, else (a stop and continue, an ignored signal) the sleep
// goes on through restart_syscall until the same deadline.
func sleepUntil(t *kernel.Task, deadline time.Time, remAddr uint64) error {
	err := t.Sleep(time.Until(deadline))
	if err == nil {
		return nil
	}
	if remAddr != 0 {
		t.CopyOut(remAddr, timespec(int64(max(time.Until(deadline), 0))))
	}
	if err != unix.EINTR {
		return err
	}
	t.SetRestartBlock(func(t *kernel.Task) (uint64, error) { return 0, sleepUntil(t, deadline, remAddr) })
	return arch.ERESTART_RESTARTBLOCK
}

// sleepUntilCPU sleeps until CPU clock reaches deadline, with
// sleepUntil's handling of an interruption (the time left on that clock
// to remAddr, then ERESTART_RESTARTBLOCK).
func sleepUntilCPU(t *kernel.Task, clock int32, deadline int64, remAddr uint64) error {
	err := t.SleepUntilClock(clock, deadline)
	if err == nil {
		return nil
	}
	if remAddr != 0 {
		if now, cerr := t.Kernel().ClockNow(clock, t); cerr == nil {
			t.CopyOut(remAddr, timespec(max(deadline-now, 0)))
		}
	}
	if err != unix.EINTR {
		return err
	}
	t.SetRestartBlock(func(t *kernel.Task) (uint64, error) { return 0, sleepUntilCPU(t, clock, deadline, remAddr) })
	return arch.ERESTART_RESTARTBLOCK
}

// sysRestartSyscall is restart_syscall(2): the rest of the interrupted
// syscall the task recorded, or EINTR if there is none.
func sysRestartSyscall(t *kernel.Task, a [6]uint64) (uint64, error) {
	fn := t.TakeRestartBlock()
	if fn == nil {
		return 0, unix.EINTR
	}
	return fn(t)
}

func sysClockNanosleep(t *kernel.Task, a [6]uint64) (uint64, error) {
	clock, flags := int32(a[0]), a[1]
	switch clock {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
	case unix.CLOCK_THREAD_CPUTIME_ID, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_REALTIME_COARSE,
		unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
		// Clocks Linux has but cannot sleep on (the alarm ones without
		// a real-time clock device, which uk has none of); checked
		// before the time is read.
		return 0, unix.EOPNOTSUPP
	default:
		// The process's CPU clock, or one clock_getcpuclockid made
		// (glibc turns CLOCK_PROCESS_CPUTIME_ID into its own).
		if !t.Kernel().CPUClockSleepable(clock, t) {
			return 0, unix.EINVAL
		}
	}
	ns, err := getTimespec(t, a[2])
	if err != nil {
		return 0, err
	}
	if flags&unix.TIMER_ABSTIME == 0 && (clock == unix.CLOCK_PROCESS_CPUTIME_ID || clock < 0) {
		now, err := t.Kernel().ClockNow(clock, t)
		if err != nil {
			return 0, err
		}
		// A deadline past 2^63 ns is the end of time, not a wrap.
		return 0, sleepUntilCPU(t, clock, now+min(ns, math.MaxInt64-now), a[3])
	}
	if flags&unix.TIMER_ABSTIME != 0 {
		// An absolute sleep restarts as itself (ERESTARTNOHAND); on the
		// realtime clocks it ends when a setting of the wall clock
		// passes its time.
		if err := t.SleepUntilClock(clock, ns); err != unix.EINTR {
			return 0, err
		}
		return 0, arch.ERESTARTNOHAND
	}
	return 0, sleepFor(t, time.Duration(ns), a[3])
}
