package kernel

import (
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/internal/hrtimer"
)

// intervalTimer is one armed timer: an interval timer (setitimer), or a
// POSIX timer. A timer on a wall or monotonic clock runs on a Go timer, so
// an idle sandbox with armed timers costs nothing until one fires. A
// timer on a CPU clock (cpu set: ITIMER_VIRTUAL, ITIMER_PROF, and POSIX
// timers on the CPU clocks) is polled every cpuTimerTick while armed, as
// Linux checks them at each scheduler tick.
type intervalTimer struct {
	mu       sync.Mutex
	timer    *hrtimer.Timer
	deadline time.Time     // next expiry; zero when disarmed (wall timers)
	interval time.Duration // 0: one shot
	overrun  int           // expirations since the last delivery, minus one
	fire     func()        // sends the signal
	gen      uint64        // bumped by every set

	// cpu reads the CPU clock the timer counts (nil: a wall timer);
	// cpuDeadline is its next expiry on that clock, 0 when disarmed.
	cpu         func() int64
	cpuDeadline int64
}

// cpuTimerTick is how often an armed CPU-time timer looks at its clock:
// Linux's tick at HZ=250.
const cpuTimerTick = 4 * time.Millisecond

// set arms (value > 0) or disarms the timer and returns the old setting.
func (it *intervalTimer) set(value, interval time.Duration) (oldValue, oldInterval time.Duration) {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.setLocked(value, interval)
}

// setLocked is set with it.mu held.
func (it *intervalTimer) setLocked(value, interval time.Duration) (oldValue, oldInterval time.Duration) {
	oldValue, oldInterval = it.remainingLocked(), it.interval
	if it.timer != nil {
		it.timer.Stop()
		it.timer = nil
	}
	it.deadline, it.interval, it.overrun, it.cpuDeadline = time.Time{}, interval, 0, 0
	it.gen++
	switch {
	case value <= 0:
	case it.cpu != nil:
		it.cpuDeadline = it.cpu() + int64(value)
		go it.pollCPU(it.gen)
	default:
		it.deadline = time.Now().Add(value)
		it.timer = hrtimer.AfterFunc(value, it.expire)
	}
	return oldValue, oldInterval
}

// pollCPU expires setting gen of a CPU-time timer when its clock reaches
// the expiry, until the setting is replaced or ends.
func (it *intervalTimer) pollCPU(gen uint64) {
	tick := time.NewTicker(cpuTimerTick)
	defer tick.Stop()
	for range tick.C {
		now := it.cpu() // outside it.mu: it reads the process's clocks
		it.mu.Lock()
		if gen != it.gen || it.cpuDeadline == 0 {
			it.mu.Unlock()
			return
		}
		if now < it.cpuDeadline {
			it.mu.Unlock()
			continue
		}
		if it.interval > 0 {
			next := it.cpuDeadline + int64(it.interval)
			for next <= now {
				next += int64(it.interval)
				it.overrun++
			}
			it.cpuDeadline = next
		} else {
			it.cpuDeadline = 0
		}
		done := it.cpuDeadline == 0
		fire := it.fire
		it.mu.Unlock()
		fire()
		if done {
			return
		}
	}
}

// shift moves setting gen's expiry d earlier (the wall clock jumped d
// forward); false once that setting is gone.
func (it *intervalTimer) shift(gen uint64, d time.Duration) bool {
	it.mu.Lock()
	defer it.mu.Unlock()
	if gen != it.gen || it.deadline.IsZero() {
		return false
	}
	it.deadline = it.deadline.Add(-d)
	if it.timer != nil {
		it.timer.Stop()
	}
	it.timer = hrtimer.AfterFunc(max(time.Until(it.deadline), 0), it.expire)
	return true
}

// get returns the time left and the interval.
func (it *intervalTimer) get() (time.Duration, time.Duration) {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.remainingLocked(), it.interval
}

func (it *intervalTimer) remainingLocked() time.Duration {
	if it.cpu != nil {
		if it.cpuDeadline == 0 {
			return 0
		}
		return max(time.Duration(it.cpuDeadline-it.cpu()), time.Microsecond)
	}
	if it.deadline.IsZero() {
		return 0
	}
	d := time.Until(it.deadline)
	if d <= 0 {
		d = time.Microsecond // due now: Linux reports a tiny positive value
	}
	return d
}

// expire fires the timer and re-arms a periodic one.
func (it *intervalTimer) expire() {
	it.mu.Lock()
	if it.deadline.IsZero() {
		it.mu.Unlock()
		return
	}
	if it.interval > 0 {
		next := it.deadline.Add(it.interval)
		now := time.Now()
		for !next.After(now) {
			next = next.Add(it.interval)
			it.overrun++
		}
		it.deadline = next
		it.timer = hrtimer.AfterFunc(time.Until(next), it.expire)
	} else {
		it.deadline = time.Time{}
	}
	fire := it.fire
	it.mu.Unlock()
	fire()
}

// addOverrun counts an expiry whose signal was not sent: the last one
// still waits.
func (it *intervalTimer) addOverrun() {
	it.mu.Lock()
	it.overrun++
	it.mu.Unlock()
}

// takeOverrun returns and resets the overrun count (a signal taken).
func (it *intervalTimer) takeOverrun() int {
	it.mu.Lock()
	defer it.mu.Unlock()
	n := it.overrun
	it.overrun = 0
	return n
}

// Itimer kinds.
const (
	ItimerReal    = 0
	ItimerVirtual = 1
	ItimerProf    = 2
)

// itimer returns the process's timer of kind which (created on first use).
// ITIMER_VIRTUAL and ITIMER_PROF count the process's CPU time (both its
// whole CPU time: uk does not split user from system time).
func (tg *ThreadGroup) itimer(which int) *intervalTimer {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.itimers[which] == nil {
		sig := [3]unix.Signal{unix.SIGALRM, unix.SIGVTALRM, unix.SIGPROF}[which]
		it := &intervalTimer{fire: func() {
			tg.SendSignal(&arch.SignalInfo{Signo: int32(sig), Code: arch.SI_KERNEL}, nil)
		}}
		if which != ItimerReal {
			it.cpu = tg.cpuTimeNow
		}
		tg.itimers[which] = it
	}
	return tg.itimers[which]
}

// SetItimer implements setitimer; it returns the old value and interval.
func (tg *ThreadGroup) SetItimer(which int, value, interval time.Duration) (time.Duration, time.Duration, error) {
	if which < 0 || which > 2 {
		return 0, 0, unix.EINVAL
	}
	v, i := tg.itimer(which).set(value, interval)
	return v, i, nil
}

// GetItimer implements getitimer.
func (tg *ThreadGroup) GetItimer(which int) (time.Duration, time.Duration, error) {
	if which < 0 || which > 2 {
		return 0, 0, unix.EINVAL
	}
	v, i := tg.itimer(which).get()
	return v, i, nil
}

// PosixTimer is a timer_create(2) timer.
type PosixTimer struct {
	it     *intervalTimer
	clock  int32
	notify int // SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID
	// lastOverrun is the overrun count its last delivered signal
	// carried (timer_getoverrun); protected by the process's mu.
	lastOverrun int
}

// timerCost is what a POSIX timer is charged to the sandbox: about what
// it holds in uk (the timer, its closure, its place in the map).
const timerCost = 512

// TimerCreate implements timer_create for the calling task t: sig and
// value are what the timer delivers (idAsValue: the timer's own id, as
// without a sigevent); target is the thread for SIGEV_THREAD_ID (nil: the
// process). A timer on a CPU clock counts that process's or thread's CPU
// time (cpuClockOwner).
//
// Ids go round as Linux's posix_timer_add gives them: the next after the
// last given that is free, not the lowest free. A process holds at most
// RLIMIT_SIGPENDING timers (Linux counts them with the user's pending
// signals, each timer owning one) and each is charged to the sandbox:
// EAGAIN past either.
func (tg *ThreadGroup) TimerCreate(t *Task, clock int32, notify, sig int, value uint64, idAsValue bool, target *Task) (int32, error) {
	var cpu func() int64
	switch clock {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
	case unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_MONOTONIC_COARSE,
		unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
		// Clocks with no timers: the raw and coarse ones have none on
		// Linux, the alarm ones none without a real-time clock device
		// (uk has none, as its clock_gettime of them says: EINVAL).
		return 0, unix.EOPNOTSUPP
	default:
		owner, thread, ok := tg.k.cpuClockOwner(clock, t)
		switch {
		case !ok:
			return 0, unix.EINVAL
		case thread != nil:
			// The thread's own count, not bounded by its process's as a
			// read of the clock is: the bound moves with the other
			// threads' time, which must not bring this timer closer.
			cpu = func() int64 {
				thread.interruptApp() // a thread's time shows when it traps
				return thread.cpuTime()
			}
		default:
			cpu = owner.cpuTimeNow
		}
	}
	limit := tg.Rlimit(unix.RLIMIT_SIGPENDING).Cur
	mf := tg.k.MemFile
	if mf != nil && !mf.Charge(timerCost) {
		return 0, unix.EAGAIN
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if uint64(len(tg.posixTimers)) >= limit {
		tg.uncharge(timerCost)
		return 0, unix.EAGAIN
	}
	if tg.posixTimers == nil {
		tg.posixTimers = make(map[int32]*PosixTimer)
	}
	id := tg.nextTimerID
	for tg.posixTimers[id] != nil {
		id = (id + 1) & math.MaxInt32
	}
	tg.nextTimerID = (id + 1) & math.MaxInt32
	if idAsValue {
		value = uint64(id)
	}
	pt := &PosixTimer{clock: clock, notify: notify}
	pt.it = &intervalTimer{cpu: cpu}
	pt.it.fire = func() {
		if notify == sigevNone {
			return
		}
		// As Linux: while the timer's signal waits to be delivered,
		// an expiry only counts as an overrun; the signal, when it is
		// taken, carries the count (dequeueSignal).
		tg.mu.Lock()
		queued := tg.timerQueuedLocked(id, target)
		tg.mu.Unlock()
		if queued {
			pt.it.addOverrun()
			return
		}
		info := arch.SignalInfo{Signo: int32(sig), Code: arch.SI_TIMER, TimerID: id, Value: value}
		tg.SendSignal(&info, target)
	}
	tg.posixTimers[id] = pt
	return id, nil
}

// SIGEV_* notification kinds.
const (
	sigevSignal   = 0
	sigevNone     = 1
	sigevThread   = 2
	sigevThreadID = 4
)

// Timer returns the POSIX timer id.
func (tg *ThreadGroup) Timer(id int32) (*PosixTimer, error) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if pt := tg.posixTimers[id]; pt != nil {
		return pt, nil
	}
	return nil, unix.EINVAL
}

// TimerDelete implements timer_delete.
func (tg *ThreadGroup) TimerDelete(id int32) error {
	tg.mu.Lock()
	pt := tg.posixTimers[id]
	delete(tg.posixTimers, id)
	tg.mu.Unlock()
	if pt == nil {
		return unix.EINVAL
	}
	pt.it.set(0, 0)
	tg.k.UnfollowWallClock(pt)
	tg.uncharge(timerCost)
	return nil
}

// uncharge gives n bytes back to the sandbox's budget.
func (tg *ThreadGroup) uncharge(n int64) {
	if mf := tg.k.MemFile; mf != nil {
		mf.Uncharge(n)
	}
}

// Set arms the timer (value is relative) and returns the old setting.
// An absolute setting (abs) on a realtime clock keeps to its wall-clock
// time if the sandbox sets its clock meanwhile (the expiry moves by the
// clock's jump); any other setting ends that.
func (pt *PosixTimer) Set(k *Kernel, value, interval time.Duration, abs bool) (time.Duration, time.Duration) {
	pt.it.mu.Lock()
	ov, oi := pt.it.setLocked(value, interval)
	gen, armed := pt.it.gen, !pt.it.deadline.IsZero()
	pt.it.mu.Unlock()
	// Outside it.mu: a setting of the clock calls followers under the
	// wall clock's lock, and they take it.mu.
	if abs && armed && isRealtime(pt.clock) {
		k.FollowWallClock(pt, func(jump int64) bool { return pt.it.shift(gen, time.Duration(jump)) })
	} else {
		k.UnfollowWallClock(pt)
	}
	return ov, oi
}

// Get returns the time left and the interval.
func (pt *PosixTimer) Get() (time.Duration, time.Duration) { return pt.it.get() }

// Overrun returns timer_getoverrun's count: the overruns of the last
// signal the timer delivered.
func (tg *ThreadGroup) Overrun(pt *PosixTimer) int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return pt.lastOverrun
}

// timerQueuedLocked reports whether a signal of POSIX timer id is queued
// and not yet taken, for the process or for target.
// Preconditions: tg.mu held.
func (tg *ThreadGroup) timerQueuedLocked(id int32, target *Task) bool {
	q := &tg.pending
	if target != nil {
		q = &target.pending
	}
	for i := range q.infos {
		if in := &q.infos[i]; in.Code == arch.SI_TIMER && in.TimerID == id {
			return true
		}
	}
	return false
}

// timerTakenLocked fills in the overrun count of a timer's signal being
// taken, and keeps it for timer_getoverrun. Preconditions: tg.mu held.
func (tg *ThreadGroup) timerTakenLocked(info *arch.SignalInfo) {
	if info.Code != arch.SI_TIMER {
		return
	}
	if pt := tg.posixTimers[info.TimerID]; pt != nil {
		n := pt.it.takeOverrun()
		info.Overrun = int32(n)
		pt.lastOverrun = n
	}
}

// Clock is the clock the timer measures.
func (pt *PosixTimer) Clock() int32 { return pt.clock }

// stopTimers disarms the POSIX timers of a process that exits or execs,
// and its interval timers too when it exits (they survive exec).
func (tg *ThreadGroup) stopTimers(exiting bool) {
	tg.mu.Lock()
	var its [3]*intervalTimer
	if exiting {
		its = tg.itimers
	}
	var pts []*PosixTimer
	for _, pt := range tg.posixTimers {
		pts = append(pts, pt)
	}
	tg.posixTimers = nil
	tg.mu.Unlock()
	for _, it := range its {
		if it != nil {
			it.set(0, 0)
		}
	}
	for _, pt := range pts {
		pt.it.set(0, 0)
		tg.k.UnfollowWallClock(pt)
	}
	tg.uncharge(int64(len(pts)) * timerCost)
}
