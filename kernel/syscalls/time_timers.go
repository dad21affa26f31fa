package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
)

// timeval encodes a struct timeval.
func timeval(d time.Duration) []byte {
	return words(uint64(d/time.Second), uint64(d%time.Second/time.Microsecond))
}

func getTimeval(t *kernel.Task, addr uint64) (time.Duration, error) {
	var b [16]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec, usec := int64(le64(b[0:])), int64(le64(b[8:]))
	if sec < 0 || usec < 0 || usec >= 1e6 {
		return 0, unix.EINVAL
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}

func sysSetitimer(t *kernel.Task, a [6]uint64) (uint64, error) {
	which := int(int32(a[0]))
	var value, interval time.Duration
	if a[1] != 0 {
		var err error
		if interval, err = getTimeval(t, a[1]); err != nil {
			return 0, err
		}
		if value, err = getTimeval(t, a[1]+16); err != nil {
			return 0, err
		}
	}
	ov, oi, err := t.ThreadGroup().SetItimer(which, value, interval)
	if err != nil {
		return 0, err
	}
	if a[2] != 0 {
		return 0, t.CopyOut(a[2], append(timeval(oi), timeval(ov)...))
	}
	return 0, nil
}

func sysGetitimer(t *kernel.Task, a [6]uint64) (uint64, error) {
	v, i, err := t.ThreadGroup().GetItimer(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a[1], append(timeval(i), timeval(v)...))
}

func sysAlarm(t *kernel.Task, a [6]uint64) (uint64, error) {
	ov, _, _ := t.ThreadGroup().SetItimer(kernel.ItimerReal, time.Duration(uint32(a[0]))*time.Second, 0)
	// Linux rounds the old value to the nearest second, and reports 1 for
	// anything left under a second.
	secs := uint64((ov + 500*time.Millisecond) / time.Second)
	if secs == 0 && ov > 0 {
		secs = 1
	}
	return secs, nil
}

func sysTimerCreate(t *kernel.Task, a [6]uint64) (uint64, error) {
	clock, sevAddr, idAddr := int32(a[0]), a[1], a[2]
	notify, sig, value := 0, int(unix.SIGALRM), uint64(0)
	var target *kernel.Task
	if sevAddr != 0 {
		// struct sigevent: sigev_value (8), sigev_signo (4), sigev_notify (4), tid (4).
		var b [24]byte
		if err := t.CopyIn(sevAddr, b[:]); err != nil {
			return 0, err
		}
		value = binary.LittleEndian.Uint64(b[0:])
		sig = int(int32(binary.LittleEndian.Uint32(b[8:])))
		notify = int(int32(binary.LittleEndian.Uint32(b[12:])))
		switch notify {
		case 0, 1: // SIGEV_SIGNAL, SIGEV_NONE
		case 4: // SIGEV_THREAD_ID
			target = t.Kernel().TaskByTID(int32(binary.LittleEndian.Uint32(b[16:])))
			if target == nil || target.ThreadGroup() != t.ThreadGroup() {
				return 0, unix.EINVAL
			}
		default:
			return 0, unix.EINVAL
		}
		if notify != 1 && !arch.ValidSignal(sig) {
			return 0, unix.EINVAL
		}
	}
	// Without a sigevent, the signal carries the timer id as its value.
	id, err := t.ThreadGroup().TimerCreate(t, clock, notify, sig, value, sevAddr == 0, target)
	if err != nil {
		return 0, err
	}
	if err := putUint32(t, idAddr, uint32(id)); err != nil {
		t.ThreadGroup().TimerDelete(id)
		return 0, err
	}
	return 0, nil
}

func itimerspecOf(value, interval time.Duration) []byte {
	return append(timespec(int64(interval)), timespec(int64(value))...)
}

func sysTimerSettime(t *kernel.Task, a [6]uint64) (uint64, error) {
	// As Linux: no new setting is EINVAL, and it is read before the
	// timer is looked up.
	if a[2] == 0 {
		return 0, unix.EINVAL
	}
	interval, err := getTimespec(t, a[2])
	if err != nil {
		return 0, err
	}
	value, err := getTimespec(t, a[2]+16)
	if err != nil {
		return 0, err
	}
	pt, err := t.ThreadGroup().Timer(int32(a[0]))
	if err != nil {
		return 0, err
	}
	if a[1]&unix.TIMER_ABSTIME != 0 && value != 0 {
		now, err := t.Kernel().ClockNow(pt.Clock(), t)
		if err != nil {
			return 0, err
		}
		value -= now
		if value <= 0 {
			value = 1
		}
	}
	ov, oi := pt.Set(t.Kernel(), time.Duration(value), time.Duration(interval), a[1]&unix.TIMER_ABSTIME != 0)
	if a[3] != 0 {
		return 0, t.CopyOut(a[3], itimerspecOf(ov, oi))
	}
	return 0, nil
}

func sysTimerGettime(t *kernel.Task, a [6]uint64) (uint64, error) {
	pt, err := t.ThreadGroup().Timer(int32(a[0]))
	if err != nil {
		return 0, err
	}
	v, i := pt.Get()
	return 0, t.CopyOut(a[1], itimerspecOf(v, i))
}

func sysTimerGetoverrun(t *kernel.Task, a [6]uint64) (uint64, error) {
	pt, err := t.ThreadGroup().Timer(int32(a[0]))
	if err != nil {
		return 0, err
	}
	return uint64(t.ThreadGroup().Overrun(pt)), nil
}

func sysTimerDelete(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, t.ThreadGroup().TimerDelete(int32(a[0]))
}
