package kernel

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/internal/hrtimer"
	"uk/platform"
)

// hostClock reads a host clock; uk's monotonic clocks are the host's, so
// they never go back and agree with the vDSO's TSC-based reading.
func hostClock(id int32) int64 {
	var ts unix.Timespec
	unix.ClockGettime(id, &ts)
	return ts.Nano()
}

// ClockNow returns the current value of clock id in nanoseconds as task t
// sees it (in its time namespace; nil: as the host), or EINVAL for a clock
// uk does not have.
func (k *Kernel) ClockNow(id int32, t *Task) (int64, error) {
	ns, err := k.hostClockNow(id, t)
	if err == nil && t != nil {
		ns += t.TimeNS().clockOffset(id)
	}
	return ns, err
}

// hostClockNow is ClockNow before the time namespace's offsets: t matters
// only for the CPU clocks.
func (k *Kernel) hostClockNow(id int32, t *Task) (int64, error) {
	if isCPUClock(id) {
		tg, thread, ok := k.cpuClockOwner(id, t)
		switch {
		case !ok:
			return 0, unix.EINVAL
		case thread != nil:
			// A thread's time in Switch also holds its waits for a host
			// CPU; the process's, where the host measures it, bounds it.
			return min(thread.cpuTime(), tg.cpuTime()), nil
		}
		return tg.cpuTime(), nil
	}
	if tk := k.timekeeper.Load(); tk != nil {
		// The same formula as the vDSO, so that reads through either
		// agree and never go back relative to each other.
		tk.Refresh()
		if ns, ok := tk.Now(id); ok {
			return ns, nil
		}
	}
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_REALTIME_COARSE:
		return time.Now().UnixNano() + k.wall.offset.Load(), nil
	case unix.CLOCK_TAI:
		// The host's TAI offset, as the timekeeper's (it was a fixed 37
		// s here, so TAI jumped when the timekeeper came up on a host
		// whose offset is unset).
		return hostClock(unix.CLOCK_TAI) + k.wall.offset.Load(), nil
	case unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_MONOTONIC_RAW:
		return hostClock(unix.CLOCK_MONOTONIC), nil
	case unix.CLOCK_BOOTTIME:
		return hostClock(unix.CLOCK_BOOTTIME), nil
	}
	return 0, unix.EINVAL
}

// isCPUClock reports whether clock id is a CPU clock: the calling
// process's or thread's, or one clock_getcpuclockid or
// pthread_getcpuclockid made (negative: ~pid << 3 | kind, bit 2 for a
// thread; glibc's timer_create uses those for the first two too).
func isCPUClock(id int32) bool {
	return id == unix.CLOCK_PROCESS_CPUTIME_ID || id == unix.CLOCK_THREAD_CPUTIME_ID || id < 0 && id&7 != 3
}

// cpuClockOwner resolves CPU clock id, read by t, to the process it
// measures and the thread if it is a thread's clock, as Linux's
// posix-cpu-timers do: any process's clock, but only a thread of t's own
// process; ok is false for a malformed id or one naming nobody.
func (k *Kernel) cpuClockOwner(id int32, t *Task) (tg *ThreadGroup, thread *Task, ok bool) {
	if t == nil {
		return nil, nil, false
	}
	switch id {
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		return t.tg, nil, true
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return t.tg, t, true
	}
	if id >= 0 || id&3 == 3 {
		return nil, nil, false // not a CPU clock, or no such kind (PROF 0, VIRT 1, SCHED 2)
	}
	pid := ^(id >> 3)
	if id&4 != 0 {
		thread = t
		if pid != 0 {
			thread = k.TaskByTID(pid)
		}
		if thread == nil || thread.tg != t.tg {
			return nil, nil, false
		}
		return thread.tg, thread, true
	}
	tg = t.tg
	if pid != 0 {
		tg = k.ThreadGroupByPID(pid)
	}
	return tg, nil, tg != nil
}

// CPUClockSleepable reports whether clock_nanosleep may sleep on CPU
// clock id, read by t: a process's clock, or another thread's of t's own
// process, but not t's own thread's (Linux's posix_cpu_nsleep: EINVAL;
// that thread's CPU time could not advance while it sleeps).
func (k *Kernel) CPUClockSleepable(id int32, t *Task) bool {
	if !isCPUClock(id) {
		return false
	}
	_, thread, ok := k.cpuClockOwner(id, t)
	return ok && thread != t
}

// ClockRes is the resolution clock_getres reports.
func (k *Kernel) ClockRes(id int32, t *Task) (int64, error) {
	if _, err := k.ClockNow(id, t); err != nil {
		return 0, err
	}
	switch id {
	case unix.CLOCK_REALTIME_COARSE, unix.CLOCK_MONOTONIC_COARSE:
		return 4e6, nil // one jiffy at HZ=250
	}
	return 1, nil
}

// cpuTime is the CPU time the task has used, in ns: the time its thread
// spent in the platform's Switch, running application code and trapping,
// with the Switch running now counted up to now, and its system time. It
// never goes back.
func (t *Task) cpuTime() int64 {
	ns := t.userNS.Load() + t.sysNS.Load()
	if s := t.switchStart.Load(); s != 0 {
		ns += max(int64(monoNow())-s, 0)
	}
	for {
		seen := t.cpuSeen.Load()
		if ns <= seen {
			return seen
		}
		if t.cpuSeen.CompareAndSwap(seen, ns) {
			return ns
		}
	}
}

// monoBase anchors monoNow.
var monoBase = time.Now()

// monoNow reads the monotonic clock. The task loop reads a clock twice a
// trap, and time.Since reads only the monotonic clock (one vDSO call)
// where time.Now reads the wall clock too.
func monoNow() time.Duration { return time.Since(monoBase) }

func (tg *ThreadGroup) cpuTime() int64 {
	if ns, ok := tg.cpu.time(); ok {
		// The stub's clock holds the system time too (process_systime.go).
		return max(ns, tg.sysTime())
	}
	tg.mu.Lock()
	tasks := append([]*Task(nil), tg.tasks...)
	total := tg.deadCPU
	tg.mu.Unlock()
	for _, t := range tasks {
		total += t.cpuTime()
	}
	return total
}

// Sleep blocks the task for d, or until something interrupts it (a signal
// to handle), in which case it returns EINTR.
func (t *Task) Sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	return t.sleepOrUntil(d, nil)
}

// Block waits until ch is ready or a signal must be handled (vfs.Context).
// An interrupted wait returns ERESTARTSYS: the syscall then restarts or
// fails with EINTR by Linux's rules once the signal is dealt with.
func (t *Task) Block(ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	default:
	}
	t.sleepBegin() // asleep: /proc shows 'S'
	defer t.sleepEnd()
	if t.unbind() {
		defer runtime.LockOSThread()
	}
	for {
		select {
		case <-ch:
			return nil
		case <-t.interrupt:
			if t.hasDeliverable() {
				return arch.ERESTARTSYS
			}
		}
	}
}

// unbind lets the task goroutine's OS thread go for a wait, if the
// platform context allows it (platform.Unbinder), and reports whether it
// did: the caller then locks again once the wait is over. A goroutine that
// stays locked while it waits costs every wake-up of it a second host
// wake-up: Go readies it on a P, an idle thread takes that P, finds the
// goroutine locked to another thread, hands the P over and wakes that
// thread. Unlocked, whichever thread takes the P runs it.
//
// Only the task goroutine calls it (Block and Sleep run there).
func (t *Task) unbind() bool {
	u, ok := t.ctx.(platform.Unbinder)
	if !ok || !u.Unbind() {
		return false
	}
	runtime.UnlockOSThread()
	return true
}

// ChildrenCPU is the CPU time of reaped children (RUSAGE_CHILDREN), ns.
func (tg *ThreadGroup) ChildrenCPU() int64 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.proc.utime
}

// CPUTime is the CPU time the whole process has used, ns.
func (tg *ThreadGroup) CPUTime() int64 { return tg.cpuTime() }

// CPUTime is the CPU time the thread has used, ns.
func (t *Task) CPUTime() int64 { return t.cpuTime() }

// BlockUntil is Block with a deadline on the monotonic clock: it returns
// unix.ETIMEDOUT once deadline passes (a zero deadline never does),
// ERESTARTSYS when a signal must be handled, nil when ch is ready.
func (t *Task) BlockUntil(ch <-chan struct{}, deadline time.Time) error {
	if deadline.IsZero() {
		return t.Block(ch)
	}
	select {
	case <-ch:
		return nil
	default:
	}
	d := time.Until(deadline)
	if d <= 0 {
		return unix.ETIMEDOUT
	}
	t.sleepBegin() // asleep: /proc shows 'S'
	defer t.sleepEnd()
	if t.unbind() {
		defer runtime.LockOSThread()
	}
	timer := hrtimer.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-ch:
			return nil
		case <-timer.C:
			return unix.ETIMEDOUT
		case <-t.interrupt:
			if t.hasDeliverable() {
				return arch.ERESTARTSYS
			}
		}
	}
}
