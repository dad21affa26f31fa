package syscalls

import (
	"time"

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

// sleepFor sleeps d; when a signal interrupts it, the time left goes to
// remAddr (if non-zero) and the syscall fails with EINTR.
func sleepFor(t *kernel.Task, d time.Duration, remAddr uint64) error {
	start := time.Now()
	if err := t.Sleep(d); err != nil {
		if remAddr != 0 {
			left := d - time.Since(start)
			if left < 0 {
				left = 0
			}
			t.CopyOut(remAddr, timespec(int64(left)))
		}
		return err
	}
	return nil
}

func sysClockNanosleep(t *kernel.Task, a [6]uint64) (uint64, error) {
	clock, flags := int32(a[0]), a[1]
	switch clock {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return 0, unix.EINVAL
	case unix.CLOCK_PROCESS_CPUTIME_ID:
	default:
		return 0, unix.EINVAL
	}
	ns, err := getTimespec(t, a[2])
	if err != nil {
		return 0, err
	}
	if flags&unix.TIMER_ABSTIME != 0 {
		now, err := t.Kernel().ClockNow(clock, t)
		if err != nil {
			return 0, err
		}
		if ns <= now {
			return 0, nil
		}
		return 0, t.Sleep(time.Duration(ns - now))
	}
	return 0, sleepFor(t, time.Duration(ns), a[3])
}
