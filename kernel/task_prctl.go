package kernel

import (
	"runtime"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// Per-thread and per-process prctl(2) state that has no other home.

// DefaultTimerSlack is the timer slack of the first task, in ns (Linux's
// init_task.timer_slack_ns).
const DefaultTimerSlack = 50000

// TimerSlack returns the thread's current timer slack in ns
// (PR_GET_TIMERSLACK, /proc/PID/timerslack_ns).
func (t *Task) TimerSlack() uint64 {
	if v := t.timerSlack.Load(); v != 0 {
		return v
	}
	return DefaultTimerSlack // a task made before any slack was set
}

// SetTimerSlack sets the current timer slack (PR_SET_TIMERSLACK); 0 puts
// back the thread's default, the slack its creator had when it was made.
func (t *Task) SetTimerSlack(ns uint64) {
	if ns == 0 {
		ns = t.defaultSlack.Load()
		if ns == 0 {
			ns = DefaultTimerSlack
		}
	}
	t.timerSlack.Store(ns)
}

// cloneTimerSlack gives a new thread both slack values from its creator's
// current one, as Linux's copy_process.
// The machine-check policy is inherited as well (a task flag in Linux).
func (t *Task) cloneTimerSlack(child *Task) {
	v := t.TimerSlack()
	child.timerSlack.Store(v)
	child.defaultSlack.Store(v)
	child.mceKill.Store(t.mceKill.Load())
	child.affinity.Store(t.affinity.Load())
}

// THPDisabled reports PR_GET_THP_DISABLE: 0, or 1 with the flags it was
// set with.
func (tg *ThreadGroup) THPDisabled() uint64 { return tg.thpDisabled.Load() }

// SetTHPDisabled sets PR_SET_THP_DISABLE's value (see THPDisabled).
func (tg *ThreadGroup) SetTHPDisabled(v uint64) { tg.thpDisabled.Store(v) }

// ClearChildTID is the address set_tid_address (or CLONE_CHILD_CLEARTID)
// gave the thread (PR_GET_TID_ADDRESS).
func (t *Task) ClearChildTID() uint64 { return t.clearChildTID.Load() }

// Machine-check kill policies (PR_MCE_KILL_*).
const (
	MCEKillLate    = 0
	MCEKillEarly   = 1
	MCEKillDefault = 2
)

// MCEKillPolicy is the thread's PR_MCE_KILL policy. uk's memory has no
// machine checks to report; the policy is only kept and read back.
func (t *Task) MCEKillPolicy() int {
	if v := t.mceKill.Load(); v != 0 {
		return int(v - 1)
	}
	return MCEKillDefault
}

// SetMCEKillPolicy sets the policy (one of MCEKill*).
func (t *Task) SetMCEKillPolicy(p int) { t.mceKill.Store(uint32(p + 1)) }

// FileSizeLimit is RLIMIT_FSIZE's soft limit (vfs.FileSizeLimiter).
func (t *Task) FileSizeLimit() uint64 { return t.tg.Rlimit(unix.RLIMIT_FSIZE).Cur }

// FileSizeExceeded sends the process SIGXFSZ, as Linux does when a write
// or truncation passes RLIMIT_FSIZE (vfs.FileSizeLimiter).
func (t *Task) FileSizeExceeded() {
	t.tg.SendSignal(&arch.SignalInfo{Signo: int32(unix.SIGXFSZ), Code: arch.SI_KERNEL}, nil)
}

// Affinity returns the thread's CPU mask (sched_getaffinity), n bytes:
// every CPU of the host until SetAffinity.
func (t *Task) Affinity(n int) []byte {
	if m := t.affinity.Load(); m != nil && len(*m) == n {
		return append([]byte(nil), *m...)
	}
	mask := make([]byte, n)
	for i := 0; i < runtime.NumCPU() && i/8 < n; i++ {
		mask[i/8] |= 1 << (i % 8)
	}
	return mask
}

// SetAffinity records the thread's CPU mask; a new thread inherits it.
func (t *Task) SetAffinity(mask []byte) {
	m := append([]byte(nil), mask...)
	t.affinity.Store(&m)
}

// wake1 ends a futex park's wait: asleepN counts the waits the task is
// in, which /proc shows as 'S' (every wait a signal can end adds one).
func (t *Task) wake1() { t.sleepEnd() }

// wakeRelock is wake1 for a park that let go of its OS thread.
func (t *Task) wakeRelock() {
	t.sleepEnd()
	runtime.LockOSThread()
}

// ProcState is the one-letter state /proc shows: 'T' while the process
// is stopped, 't' in a ptrace-stop, 'S' while the task waits, 'R' otherwise.
func (t *Task) ProcState() byte {
	t.tg.mu.Lock()
	stopped := t.tg.stopSig != 0
	t.tg.mu.Unlock()
	switch {
	case t.ptraceStopped.Load():
		return 't' // tracing stop
	case stopped:
		return 'T'
	case t.asleepN.Load() > 0:
		return 'S'
	}
	return 'R'
}
