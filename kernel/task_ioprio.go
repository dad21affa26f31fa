package kernel

// I/O priorities: what ioprio_set(2) gives a thread and ioprio_get(2)
// reports (Linux's block/ioprio.c). uk's I/O goes through the host without
// them, so, like the scheduling attributes beside them in SchedAttr, they
// change nothing but what reads them back and what a fork inherits.

// I/O priority classes. An I/O priority is 16 bits: the class at bit 13,
// Linux 6.x's hint in bits 3-12 and the level in bits 0-2.
const (
	IOPrioClassNone = 0 // no priority set: derived from the nice value
	IOPrioClassRT   = 1
	IOPrioClassBE   = 2
	IOPrioClassIdle = 3

	ioprioClassShift = 13
)

// IOPrioClass returns the class of an I/O priority (3 bits, so 0..7 of any
// int: ioprio_set's argument is not checked for bits beyond the 16).
func IOPrioClass(prio int32) int32 { return prio >> ioprioClassShift & 7 }

// IOPrioLevel returns the level of an I/O priority (0..7).
func IOPrioLevel(prio int32) int32 { return prio & 7 }

// IOPrio returns the I/O priority the target thread set, as
// ioprio_get(IOPRIO_WHO_PROCESS) reports it: 0 (IOPRIO_CLASS_NONE) if it
// set none, and 0 for a zombie, whose I/O context Linux freed at its exit.
func (s SchedTarget) IOPrio() uint16 {
	if s.t == nil {
		return 0
	}
	return s.Sched().IOPrio
}

// EffectiveIOPrio returns the I/O priority the target's I/O would have, as
// ioprio_get(IOPRIO_WHO_PGRP or IOPRIO_WHO_USER) compares them: its own,
// or without a class, the class of its policy (idle, real-time for the
// real-time and deadline ones, else best-effort) at the level of its nice
// value, (nice + 20) / 5. That is Linux's __get_task_ioprio.
func (s SchedTarget) EffectiveIOPrio() uint16 {
	prio := s.IOPrio()
	if IOPrioClass(int32(prio)) != IOPrioClassNone {
		return prio
	}
	a := s.Sched()
	class := int32(IOPrioClassBE)
	switch {
	case a.Policy == SchedIdle:
		class = IOPrioClassIdle
	case RealTime(a.Policy) || a.Policy == SchedDeadline:
		class = IOPrioClassRT
	}
	return uint16(class<<ioprioClassShift | (a.Nice+20)/5)
}

// SetIOPrio gives a live target the I/O priority prio, which the caller
// checked (Linux keeps its 16 bits); a zombie's stays as it is, as
// Linux's set_task_ioprio skips an exiting task and still succeeds.
func (s SchedTarget) SetIOPrio(prio uint16) {
	if s.t == nil {
		return
	}
	s.t.mu.Lock()
	s.t.sched.IOPrio = prio
	s.t.mu.Unlock()
}

// CanSetIOPrio reports whether t may set target's I/O priority: the
// target's real uid is t's real or effective uid, or t holds CAP_SYS_NICE
// (uk's privileged credentials). Unlike CanSchedule, this compares the
// target's real uid only, as Linux's set_task_ioprio does; otherwise
// Linux says EPERM.
func (t *Task) CanSetIOPrio(target SchedTarget) bool {
	c, tc := t.Credentials(), target.Credentials()
	return c.Privileged || tc.UID == c.EUID || tc.UID == c.UID
}

// forkIOPrio is the I/O priority a child inherits: its parent's, if that
// has a class (Linux's copy_io copies only a valid one, so a hint without
// a class is not inherited).
func forkIOPrio(prio uint16) uint16 {
	if IOPrioClass(int32(prio)) == IOPrioClassNone {
		return 0
	}
	return prio
}
