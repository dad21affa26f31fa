// Package timerfd implements timerfd_create(2) files for uk: a timer on
// one of the kernel's clocks whose expirations read(2) counts, as Linux's
// fs/timerfd.c.
//
// Timing uses internal/hrtimer timers, one per armed timer, never a
// ticker: like Linux, an interval timer is not re-armed after it fires
// until somebody reads or asks (read, timerfd_gettime, timerfd_settime),
// and the expirations missed meanwhile are counted then from the clock.
// So an interval timer nobody reads costs nothing after its first
// expiration.
//
// Choices where uk differs or simplifies:
//   - CLOCK_REALTIME_ALARM and CLOCK_BOOTTIME_ALARM need privilege
//     (CAP_WAKE_ALARM: EPERM otherwise, as Linux) and then behave as
//     CLOCK_REALTIME and CLOCK_BOOTTIME: there is no suspend to wake from.
//   - The sandbox may set its realtime clock (the kernel's wall clock):
//     given SetWallClock, an absolute CLOCK_REALTIME timer is measured
//     again on the new clock, and one set with TFD_TIMER_CANCEL_ON_SET
//     makes its next read fail with ECANCELED.
//   - The TFD_IOC_SET_TICKS ioctl (checkpoint/restore) is not supported
//     (ENOTTY).
package timerfd

import (
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/eventfd"
	"uk/fs/vfs"
	"uk/internal/hrtimer"
)

// Flags of timerfd_settime (x/sys/unix has TFD_TIMER_ABSTIME and
// TFD_TIMER_CANCEL_ON_SET with these values).
const (
	TimerAbstime     = 1 << 0
	TimerCancelOnSet = 1 << 1
)

// eventFree is Linux's POLLFREE: told to waiters when the file goes away.
const eventFree = vfs.EventMask(0x4000)

// Clock reads clock clockid (CLOCK_REALTIME, CLOCK_MONOTONIC or
// CLOCK_BOOTTIME) in nanoseconds: the time the application sees through
// clock_gettime, so that absolute expirations mean what it meant.
type Clock func(clockid int32) int64

// HostClock reads the host's clocks, which are uk's.
func HostClock(clockid int32) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(clockid, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

// Spec is struct itimerspec: Value is the time to the first expiration
// (relative, or with TimerAbstime an absolute time on the timer's clock;
// 0 disarms), Interval the period after it (0: one expiration).
type Spec struct {
	Interval time.Duration
	Value    time.Duration
}

// File is a timerfd's open file description. It implements vfs.FileImpl.
type File struct {
	vfs.AnonFileBase
	clock   Clock
	clockid int32 // the clock read: alarm clocks mapped to their base clock

	mu       sync.Mutex
	armed    bool   // an expiration is pending or an interval is running; protected by mu
	next     int64  // the next (or last fired, if fired) expiration, clock ns; protected by mu
	interval int64  // ns; protected by mu
	fired    bool   // the timer fired at next and was not yet moved past it; protected by mu
	ticks    uint64 // expirations not yet read; protected by mu
	timer    *hrtimer.Timer
	gen      uint64 // bumped at every re-arm; stale timer callbacks see a different value; protected by mu
	released bool   // protected by mu

	// wall, when set, has an absolute CLOCK_REALTIME timer told of
	// settings of the realtime clock (SetWallClock): it is measured
	// again at each one; with TimerCancelOnSet it is also canceled: the
	// next read fails with ECANCELED.
	wall        WallClock
	setting     uint64 // bumped by every SetTime and by Release; protected by mu
	cancelOnSet bool   // protected by mu
	canceled    bool   // protected by mu

	q vfs.Queue
}

// New is timerfd_create(2). clock supplies the current time (nil means
// HostClock). flags may hold TFD_NONBLOCK and TFD_CLOEXEC (the latter is
// the fd table's business); anything else, or an unknown clock, is EINVAL.
// The alarm clocks need ctx to be privileged (EPERM). The timer starts
// disarmed. The description is O_RDWR, like Linux's.
func New(ctx vfs.Context, clock Clock, clockid int32, flags int) (*vfs.FileDescription, error) {
	if flags&^(unix.TFD_NONBLOCK|unix.TFD_CLOEXEC) != 0 {
		return nil, unix.EINVAL
	}
	base := clockid
	switch clockid {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME:
	case unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
		if c := ctx.Credentials(); c == nil || !c.Privileged {
			return nil, unix.EPERM
		}
		base = unix.CLOCK_REALTIME
		if clockid == unix.CLOCK_BOOTTIME_ALARM {
			base = unix.CLOCK_BOOTTIME
		}
	default:
		return nil, unix.EINVAL
	}
	if clock == nil {
		clock = HostClock
	}
	st := uint32(unix.O_RDWR)
	if flags&unix.TFD_NONBLOCK != 0 {
		st |= unix.O_NONBLOCK
	}
	f := &File{clock: clock, clockid: base}
	return vfs.NewFileDescription(f, st, vfs.Path{}, vfs.FileOptions{}), nil
}

// WallClock is the kernel's notice of settings of the realtime clock:
// Follow has f called at each setting, before the setting returns, until
// f returns false or Unfollow(key); f runs under the clock's lock.
type WallClock struct {
	Follow   func(key any, f func(jump int64) bool)
	Unfollow func(key any)
}

// SetWallClock gives the timer the kernel's notice of clock settings.
func (f *File) SetWallClock(w WallClock) {
	f.mu.Lock()
	f.wall = w
	f.mu.Unlock()
}

// clockSet handles a setting of the realtime clock for the setting gen:
// the expiration is measured on the new clock (Linux's hrtimers on
// CLOCK_REALTIME follow it), and a TimerCancelOnSet timer is canceled.
// It reports whether the setting is still the current one.
func (f *File) clockSet(setting uint64) bool {
	f.mu.Lock()
	if setting != f.setting || !f.armed || f.released {
		f.mu.Unlock()
		return false
	}
	if f.cancelOnSet {
		f.canceled = true
		f.ticks++ // readable: the read reports the cancellation
	}
	if !f.fired {
		f.startLocked(f.clock(f.clockid))
	}
	f.mu.Unlock()
	f.q.Notify(vfs.EventIn)
	return true
}

// Of returns the timerfd behind a description, or nil (timerfd_settime and
// timerfd_gettime then fail with EINVAL).
func Of(fd *vfs.FileDescription) *File {
	f, _ := fd.Impl().(*File)
	return f
}

// Name is what /proc/PID/fd/N links to.
func (f *File) Name() string { return "anon_inode:[timerfd]" }

// catchUpLocked moves a fired interval timer's expiration past now,
// counts the periods it skipped (the first was counted when it fired) and
// starts the Go timer for the next one (hrtimer_forward_now).
func (f *File) catchUpLocked() {
	if !f.fired || f.interval == 0 {
		return
	}
	now := f.clock(f.clockid)
	periods := uint64(1)
	if now >= f.next {
		periods = uint64((now-f.next)/f.interval) + 1
	}
	f.ticks += periods - 1
	f.next += int64(periods) * f.interval
	f.fired = false
	f.startLocked(now)
}

// startLocked starts the Go timer for the expiration at f.next.
func (f *File) startLocked(now int64) {
	f.gen++
	gen := f.gen
	if f.timer != nil {
		f.timer.Stop()
	}
	f.timer = hrtimer.AfterFunc(time.Duration(max(f.next-now, 0)), func() { f.fire(gen) })
}

// fire runs when the Go timer for generation gen expires.
func (f *File) fire(gen uint64) {
	f.mu.Lock()
	if gen != f.gen || !f.armed || f.fired || f.released {
		f.mu.Unlock()
		return
	}
	if now := f.clock(f.clockid); now < f.next {
		// Go's timer and the timer's clock disagree slightly (or the
		// realtime clock moved back): wait for the rest.
		f.startLocked(now)
		f.mu.Unlock()
		return
	}
	f.ticks++
	f.fired = true
	if f.interval == 0 {
		f.armed = false
	}
	f.mu.Unlock()
	f.q.Notify(vfs.EventIn)
}

// getLocked is the current setting as timerfd_gettime reports it: the
// time left to the next expiration (0 if disarmed) and the interval.
func (f *File) getLocked() Spec {
	f.catchUpLocked()
	var s Spec
	if f.armed {
		s.Interval = time.Duration(f.interval)
		if left := f.next - f.clock(f.clockid); left > 0 {
			s.Value = time.Duration(left)
		} else if !f.fired {
			s.Value = 1 // due but not yet seen fired: report it as imminent, not disarmed
		}
	}
	return s
}

// GetTime is timerfd_gettime(2).
func (f *File) GetTime() Spec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.getLocked()
}

// SetTime is timerfd_settime(2): it arms the timer with spec (or disarms
// it if spec.Value is 0), drops the expirations not yet read, and returns
// the previous setting as GetTime would have. flags may hold TimerAbstime
// and TimerCancelOnSet (for an absolute CLOCK_REALTIME timer: reads fail
// with ECANCELED after the clock is set); anything else, or a negative
// duration, is EINVAL. An absolute time already past expires at once.
func (f *File) SetTime(flags int, spec Spec) (Spec, error) {
	if flags&^(TimerAbstime|TimerCancelOnSet) != 0 || spec.Value < 0 || spec.Interval < 0 {
		return Spec{}, unix.EINVAL
	}
	f.mu.Lock()
	old := f.getLocked()
	f.ticks, f.fired, f.canceled = 0, false, false
	f.interval = int64(spec.Interval)
	f.armed = spec.Value != 0
	f.gen++
	f.setting++
	f.cancelOnSet = flags&TimerCancelOnSet != 0 && flags&TimerAbstime != 0 && f.clockid == unix.CLOCK_REALTIME
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	if f.armed && !f.released {
		now := f.clock(f.clockid)
		if flags&TimerAbstime != 0 {
			f.next = int64(spec.Value)
		} else {
			f.next = now + int64(spec.Value)
			if f.next < now { // overflow: never
				f.next = 1<<63 - 1
			}
		}
		f.startLocked(now)
	}
	follow := f.armed && !f.released && flags&TimerAbstime != 0 && f.clockid == unix.CLOCK_REALTIME
	setting, wall := f.setting, f.wall
	f.mu.Unlock()
	// Outside f.mu: the clock's setting calls followers under its own
	// lock, and they take f.mu.
	if wall.Follow != nil {
		if follow {
			wall.Follow(f, func(int64) bool { return f.clockSet(setting) })
		} else {
			wall.Unfollow(f)
		}
	}
	return old, nil
}

// Read implements vfs.FileImpl: it needs an 8-byte buffer (EINVAL
// otherwise), waits until the timer has expired at least once since the
// last read or setting (EAGAIN under O_NONBLOCK), then stores the number
// of expirations as a little-endian uint64, resets it, and returns 8.
func (f *File) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	if len(dst) < 8 {
		return 0, unix.EINVAL
	}
	f.mu.Lock()
	err := vfs.WaitUntil(ctx, &f.q, vfs.EventIn, &f.mu, fd.NonBlocking(), func() bool { return f.ticks != 0 })
	if f.canceled {
		// The clock was set: the expirations do not count, whatever
		// the wait said (Linux's timerfd_canceled).
		f.canceled, f.ticks = false, 0
		f.mu.Unlock()
		return 0, unix.ECANCELED
	}
	if err != nil {
		f.mu.Unlock()
		return 0, err
	}
	f.catchUpLocked()
	n := f.ticks
	f.ticks = 0
	f.mu.Unlock()
	binary.LittleEndian.PutUint64(dst, n)
	return 8, nil
}

// tfdIocSetTicks is TFD_IOC_SET_TICKS, _IOW('T', 0, u64).
const tfdIocSetTicks = 0x40085400

// Ioctl implements vfs.FileImpl: TFD_IOC_SET_TICKS (what checkpoint and
// restore tools use) sets the count of expirations not yet read, and
// wakes readers: EFAULT for an unreadable count, EINVAL for 0,
// ECANCELED if a clock setting canceled the timer; anything else is
// ENOTTY.
func (f *File) Ioctl(ctx vfs.Context, _ *vfs.FileDescription, cmd uint32, arg uint64) (uintptr, error) {
	if cmd != tfdIocSetTicks {
		return 0, unix.ENOTTY
	}
	var b [8]byte
	if err := ctx.CopyIn(arg, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	ticks := binary.LittleEndian.Uint64(b[:])
	if ticks == 0 {
		return 0, unix.EINVAL
	}
	f.mu.Lock()
	if f.canceled {
		f.mu.Unlock()
		return 0, unix.ECANCELED
	}
	f.ticks = ticks
	f.mu.Unlock()
	f.q.Notify(vfs.EventIn)
	return 0, nil
}

// Stat implements vfs.FileImpl: the shared anonymous inode.
func (f *File) Stat(vfs.Context, *vfs.FileDescription) (vfs.Stat, error) {
	return eventfd.AnonStat(), nil
}

// Readiness implements vfs.FileImpl: IN once the timer has expired since
// the last read or setting.
func (f *File) Readiness(mask vfs.EventMask) vfs.EventMask {
	f.mu.Lock()
	ready := f.ticks > 0
	f.mu.Unlock()
	if ready {
		return vfs.EventIn & mask
	}
	return 0
}

// EventRegister implements vfs.FileImpl.
func (f *File) EventRegister(w *vfs.Waiter) { f.q.Register(w) }

// EventUnregister implements vfs.FileImpl.
func (f *File) EventUnregister(w *vfs.Waiter) { f.q.Unregister(w) }

// Release implements vfs.FileImpl: the Go timer stops; waiters still
// registered hear POLLFREE (0x4000) if they asked for it (epoll).
func (f *File) Release() {
	f.mu.Lock()
	f.released = true
	f.gen++
	f.setting++
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	wall := f.wall
	f.mu.Unlock()
	if wall.Unfollow != nil {
		wall.Unfollow(f)
	}
	f.q.Notify(eventFree)
}
