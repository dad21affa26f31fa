package kernel

import (
	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Scheduling attributes: what nice(2), setpriority(2),
// sched_setscheduler(2), sched_setattr(2) and ioprio_set(2) set and their
// readers report. uk does not schedule threads itself (the host does, and
// a sandbox gets no real-time priority from it), so the attributes change
// nothing but what they read back, /proc/PID/stat, and what a fork
// inherits; their checks are Linux's, so that a program sees the same
// errors. In particular uk keeps SCHED_DEADLINE's parameters without
// enforcing them or admitting threads by bandwidth as Linux does.

// Scheduling policies (include/uapi/linux/sched.h).
const (
	SchedNormal   = 0
	SchedFIFO     = 1
	SchedRR       = 2
	SchedBatch    = 3
	SchedIdle     = 5
	SchedDeadline = 6
	// SchedResetOnFork is the flag sched_setscheduler takes beside a
	// policy: a fork's child gets SCHED_NORMAL and a nice value of at
	// least 0.
	SchedResetOnFork = 0x40000000
)

// Nice values, and real-time priorities of SCHED_FIFO and SCHED_RR.
const (
	MinNice   = -20
	MaxNice   = 19
	MaxRTPrio = 99
)

// SchedAttr is a thread's scheduling attributes.
type SchedAttr struct {
	Nice        int32 // MinNice..MaxNice
	Policy      int32 // SchedNormal, SchedFIFO, SchedRR, SchedBatch, SchedIdle, SchedDeadline
	RTPriority  int32 // 1..MaxRTPrio for SchedFIFO and SchedRR, else 0
	ResetOnFork bool
	// Slice is the time slice sched_setattr gave a thread of a fair
	// policy (its sched_runtime, clamped), 0 for the default one.
	Slice uint64
	// Deadline is SCHED_DEADLINE's parameters, read under that policy.
	Deadline DeadlineParams
	// IOPrio is what ioprio_set gave the thread (task_ioprio.go), 0 for
	// none.
	IOPrio uint16
}

// DeadlineParams are a SCHED_DEADLINE thread's parameters as sched_setattr
// took them: runtime <= deadline <= period, in nanoseconds.
type DeadlineParams struct {
	Runtime, Deadline, Period uint64
	// Flags are the sched_setattr flags that belong to the policy
	// (SCHED_FLAG_RECLAIM, SCHED_FLAG_DL_OVERRUN).
	Flags uint64
}

// RealTime reports whether policy is SCHED_FIFO or SCHED_RR.
func RealTime(policy int32) bool { return policy == SchedFIFO || policy == SchedRR }

// Sched returns t's scheduling attributes.
func (t *Task) Sched() SchedAttr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sched
}

// SetSched replaces t's scheduling attributes (the caller checked them)
// but its I/O priority, which SchedTarget.SetIOPrio alone changes: the
// callers read, change and write back the attributes, and a concurrent
// ioprio_set must not be undone by them.
func (t *Task) SetSched(a SchedAttr) {
	t.mu.Lock()
	a.IOPrio = t.sched.IOPrio
	t.sched = a
	t.mu.Unlock()
}

// forkSched is what a new thread or process started by t inherits. With
// reset-on-fork, Linux's sched_fork gives the child of a real-time or
// deadline thread SCHED_NORMAL at nice 0, that of another a nice value of
// at least 0, and either the default time slice. Without it, a deadline
// thread may not fork at all: EAGAIN, as Linux says.
func (t *Task) forkSched() (SchedAttr, error) {
	a := t.Sched()
	if a.ResetOnFork {
		if RealTime(a.Policy) || a.Policy == SchedDeadline {
			a.Policy, a.RTPriority, a.Nice = SchedNormal, 0, 0
		}
		a.Nice = max(a.Nice, 0)
		a.Slice = 0
		a.ResetOnFork = false
	}
	if a.Policy == SchedDeadline {
		return SchedAttr{}, unix.EAGAIN
	}
	a.Deadline = DeadlineParams{}
	a.IOPrio = forkIOPrio(a.IOPrio)
	return a, nil
}

// SchedTarget is a thread a priority, sched_* or capget call names: a live one, or
// the leader of a zombie process, which Linux still finds until it is
// reaped (a parent may ask for its exited child's policy), or the init
// uk stands in for under `uk run` (root's, as Linux's pid 1).
type SchedTarget struct {
	t     *Task // nil for a zombie's leader
	tg    *ThreadGroup
	attr  SchedAttr        // a zombie's, as its leader left it
	creds *vfs.Credentials // a zombie's
}

// SchedTarget returns the target for t itself.
func (t *Task) SchedTarget() SchedTarget { return SchedTarget{t: t, tg: t.tg} }

// SchedTargetByTID returns the thread with id tid, or the leader of the
// zombie process (or stand-in init) with that pid.
func (k *Kernel) SchedTargetByTID(tid int32) (SchedTarget, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if t, ok := k.tasks[tid]; ok {
		return SchedTarget{t: t, tg: t.tg}, true
	}
	if tg, ok := k.tgs[tid]; ok && tg.noLeader.creds != nil {
		return SchedTarget{tg: tg, attr: tg.noLeader.sched, creds: tg.noLeader.creds}, true
	}
	return SchedTarget{}, false
}

// Sched returns the target's scheduling attributes.
func (s SchedTarget) Sched() SchedAttr {
	if s.t == nil {
		return s.attr
	}
	return s.t.Sched()
}

// SetSched replaces a live target's attributes (a zombie's stay as they
// are: nothing can read a change but this same lookup).
func (s SchedTarget) SetSched(a SchedAttr) {
	if s.t != nil {
		s.t.SetSched(a)
	}
}

// Credentials returns the target's credentials.
func (s SchedTarget) Credentials() *vfs.Credentials {
	if s.t == nil {
		return s.creds
	}
	return s.t.Credentials()
}

// Rlimit returns one of the target's process's resource limits.
func (s SchedTarget) Rlimit(r int) Rlimit { return s.tg.Rlimit(r) }

// CanSchedule reports whether t may change target's scheduling
// attributes at all: its effective uid is the target's real or effective
// uid, or it holds CAP_SYS_NICE (uk's privileged credentials). Otherwise
// Linux says EPERM.
func (t *Task) CanSchedule(target SchedTarget) bool {
	c, tc := t.Credentials(), target.Credentials()
	return c.Privileged || c.EUID == tc.UID || c.EUID == tc.EUID
}

// CanRaiseNice reports whether t may give target the nice value nice,
// lower than its current one: RLIMIT_NICE allows it (as 20 - nice) or t
// is privileged (CAP_SYS_NICE). Otherwise Linux says EACCES.
func (t *Task) CanRaiseNice(target SchedTarget, nice int32) bool {
	if t.Credentials().Privileged {
		return true
	}
	return uint64(20-nice) <= target.Rlimit(unix.RLIMIT_NICE).Cur
}

// SchedTargetsWhere returns the live threads for which match is true, in
// no particular order; match must not take the kernel's lock.
func (k *Kernel) SchedTargetsWhere(match func(*Task) bool) []SchedTarget {
	k.mu.Lock()
	all := make([]*Task, 0, len(k.tasks))
	for _, t := range k.tasks {
		all = append(all, t)
	}
	k.mu.Unlock()
	var out []SchedTarget
	for _, t := range all {
		if match(t) {
			out = append(out, t.SchedTarget())
		}
	}
	return out
}

// noteLeaderGoneLocked keeps what the sched_* calls read of a process's
// leader once it has exited (its attributes and credentials, read by the
// caller before it took k.mu), for as long as the process is a zombie.
//
// Preconditions: k.mu is held.
func (t *Task) noteLeaderGoneLocked(attr SchedAttr, creds *vfs.Credentials) {
	if t.tid != t.tg.pid {
		return
	}
	t.tg.noLeader.sched, t.tg.noLeader.creds = attr, creds
}
