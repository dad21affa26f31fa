package e2e

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hostWallOffset is the host's CLOCK_REALTIME minus its CLOCK_MONOTONIC:
// it moves only when the host's wall clock is set.
func hostWallOffset() time.Duration {
	var m unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &m)
	return time.Duration(time.Now().UnixNano() - m.Nano())
}

func init() {
	// Run by TestWallClock, under uk only, for TestCProgramsAllUsed.
	otherCPrograms = append(otherCPrograms, "wallclock")
}

// wallclockLinux is what testdata/c/wallclock.c prints on Linux 6.18 as
// root, worked out from kernel/time/ntp.c and timekeeping.c (the program
// would set the machine's clock, so it never runs natively): every
// reading of CLOCK_REALTIME follows clock_settime, settimeofday and
// ADJ_SETOFFSET while CLOCK_MONOTONIC does not; a time before boot is
// EINVAL; an absolute sleep and an absolute timerfd end when the clock is
// set past them, a TFD_TIMER_CANCEL_ON_SET one reads ECANCELED once and a
// relative one does not move (it runs on the monotonic base), and so for
// POSIX timers; the
// discipline keeps what is set (ADJ_TIMECONST adds 4 in microsecond
// mode, STA_CLK is read-only, the frequency is bounded at 500 ppm, and
// leaving STA_PLL clears the status).
const wallclockLinux = `clock_settime(CLOCK_REALTIME, &ts) == 0: ok
clock_settime +1000 s: 1
settimeofday(&tv, NULL) == 0: ok
settimeofday -3000 s: 1
ADJ_SETOFFSET: ok
ADJ_SETOFFSET +2000.5 s: 1
clock_settime(CLOCK_REALTIME, &ts): -1 EINVAL
absolute sleep ended by the setting: 1 (0)
set past the sleep: 0
clock_settime(CLOCK_REALTIME, &ts) == 0: ok
absolute timerfd fired at the setting: 8, 1
cancel-on-set timerfd: -1 ECANCELED
and then: -1 EAGAIN
relative timerfd: -1 EAGAIN
clock_settime(CLOCK_REALTIME, &ts) == 0: ok
absolute POSIX timer: about 1800 s left: 1
relative POSIX timer: about 3600 s left: 1
freq 100 maxerror about 4000 1 esterror 300 status 0x1 constant 7 tick 10001 state 0
freq clamped to 500 ppm
synchronized: state 0
adjtime offset kept: 1
`

// TestWallClock: the sandbox sets its own wall clock. On every platform
// the program's readings and waits follow the settings as Linux's do, and
// the host's clock is untouched (compared before and after).
func TestWallClock(t *testing.T) {
	prog := cProgram(t, "wallclock")
	forEachPlatform(t, func(t *testing.T, platform string) {
		before := hostWallOffset()
		r := runUK(t, platform, prog, nil)
		if r.Code != 0 || r.Stdout != wallclockLinux {
			t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", r.Code, r.Stdout, wallclockLinux, r.Stderr)
		}
		if d := hostWallOffset() - before; d > time.Second || d < -time.Second {
			t.Errorf("the host's wall clock moved by %v while the sandbox set its own", d)
		}
	})
}
