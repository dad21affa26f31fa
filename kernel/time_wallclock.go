package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"uk/internal/hrtimer"
)

// The sandbox's wall clock. CLOCK_REALTIME (with its coarse form and
// CLOCK_TAI) reads the host's plus an offset that clock_settime,
// settimeofday and adjtimex's ADJ_SETOFFSET change: for the sandbox only,
// as a virtual machine's clock; the host's is never touched. The
// monotonic clocks do not move. File timestamps keep following the host's
// clock.
type wallClock struct {
	mu sync.Mutex
	// offset is what is added to the host's realtime, ns; written under
	// mu.
	offset atomic.Int64
	// changed is closed, and replaced, when the clock is set: absolute
	// waits on the realtime clocks read it again.
	changed chan struct{} // protected by mu
	// ntp is adjtimex's state (time_adjtimex.go).
	ntp NTPState // protected by mu
	// followers are told of each setting, with the jump, before it
	// returns (FollowWallClock).
	followers map[any]func(jump int64) bool // protected by mu
}

// FollowWallClock has f told of every setting of the wall clock with the
// jump in ns, before the setting returns, as Linux's clock_was_set
// reprograms realtime timers: absolute timers on a realtime clock keep to
// their wall-clock time. f replaces key's earlier follower; it is dropped
// when it returns false or by UnfollowWallClock. f runs with the wall
// clock's lock held: it must not set the clock or follow it.
func (k *Kernel) FollowWallClock(key any, f func(jump int64) bool) {
	k.wall.mu.Lock()
	defer k.wall.mu.Unlock()
	if k.wall.followers == nil {
		k.wall.followers = map[any]func(int64) bool{}
	}
	k.wall.followers[key] = f
}

// UnfollowWallClock drops key's follower.
func (k *Kernel) UnfollowWallClock(key any) {
	k.wall.mu.Lock()
	defer k.wall.mu.Unlock()
	delete(k.wall.followers, key)
}

// realtimeChanged returns a channel closed at the next setting of the
// wall clock: absolute sleeps on a realtime clock wait on it.
func (k *Kernel) realtimeChanged() <-chan struct{} {
	k.wall.mu.Lock()
	defer k.wall.mu.Unlock()
	if k.wall.changed == nil {
		k.wall.changed = make(chan struct{})
	}
	return k.wall.changed
}

// SetRealtime sets the sandbox's CLOCK_REALTIME to ns (clock_settime,
// settimeofday): EINVAL for a time before the monotonic clock's (Linux
// does not let the wall clock go back past boot).
func (k *Kernel) SetRealtime(ns int64) error {
	k.wall.mu.Lock()
	defer k.wall.mu.Unlock()
	if ns < hostClock(unix.CLOCK_MONOTONIC) {
		return unix.EINVAL
	}
	now, _ := k.ClockNow(unix.CLOCK_REALTIME, nil)
	k.setOffsetLocked(k.wall.offset.Load() + ns - now)
	return nil
}

// ShiftRealtime moves the sandbox's CLOCK_REALTIME by delta ns
// (adjtimex's ADJ_SETOFFSET), with SetRealtime's limit.
func (k *Kernel) ShiftRealtime(delta int64) error {
	k.wall.mu.Lock()
	defer k.wall.mu.Unlock()
	now, _ := k.ClockNow(unix.CLOCK_REALTIME, nil)
	if now+delta < hostClock(unix.CLOCK_MONOTONIC) {
		return unix.EINVAL
	}
	k.setOffsetLocked(k.wall.offset.Load() + delta)
	return nil
}

// setOffsetLocked installs a new offset everywhere the realtime clocks are
// read and wakes the absolute waits.
//
// Preconditions: k.wall.mu is held.
func (k *Kernel) setOffsetLocked(off int64) {
	jump := off - k.wall.offset.Load()
	k.wall.offset.Store(off)
	if tk := k.timekeeper.Load(); tk != nil {
		tk.SetRealAdjust(off)
	}
	for key, f := range k.wall.followers {
		if !f(jump) {
			delete(k.wall.followers, key)
		}
	}
	if k.wall.changed != nil {
		close(k.wall.changed)
		k.wall.changed = nil
	}
}

// isRealtime reports whether clock id follows the wall clock's settings.
func isRealtime(id int32) bool {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_TAI, unix.CLOCK_REALTIME_ALARM:
		return true
	}
	return false
}

// SleepUntilClock sleeps until clock reads at least deadline (ns), or a
// signal is to be handled (EINTR). On a realtime clock a setting of the
// wall clock meanwhile is seen: the deadline is measured again.
func (t *Task) SleepUntilClock(clock int32, deadline int64) error {
	for {
		now, err := t.k.ClockNow(clock, t)
		if err != nil {
			return err
		}
		if deadline <= now {
			return nil
		}
		var changed <-chan struct{}
		if isRealtime(clock) {
			changed = t.k.realtimeChanged()
		}
		wait := time.Duration(deadline - now)
		if isCPUClock(clock) {
			// A process's CPU time runs at most as fast as the
			// machine's CPUs together: waking that much sooner and
			// looking again never oversleeps.
			wait = max(wait/time.Duration(runtime.NumCPU()), 50*time.Microsecond)
		}
		if err := t.sleepOrUntil(wait, changed); err != nil {
			return err
		}
	}
}

// sleepOrUntil is Sleep that also ends when ch is closed (nil: never).
func (t *Task) sleepOrUntil(d time.Duration, ch <-chan struct{}) error {
	t.sleepBegin() // asleep: /proc shows 'S'
	defer t.sleepEnd()
	if t.unbind() {
		defer runtime.LockOSThread()
	}
	// A precise timer: the Go runtimes of Go programs sleep for
	// microseconds (usleep while their scheduler spins), which Go's own
	// timers would stretch to a millisecond (internal/hrtimer).
	timer := hrtimer.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			return nil
		case <-ch:
			return nil
		case <-t.interrupt:
			if t.hasDeliverable() {
				return unix.EINTR
			}
		}
	}
}
