package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/kernel"
)

// ioprio_get and ioprio_set: threads' I/O priorities
// (kernel/task_ioprio.go keeps them), with Linux 6.x's checks and their
// order (block/ioprio.c).

// Which threads the ioprio calls name: the same as getpriority's, one
// more.
const (
	ioprioWhoProcess = 1
	ioprioWhoPgrp    = 2
	ioprioWhoUser    = 3
)

// ioprioTargets returns the threads which and who name, as getpriority's
// (who 0: the caller, its process group, its real uid) but for one quirk
// of Linux's ioprio_set: there, IOPRIO_WHO_USER with who 0 names uid 0's
// threads, not the caller's.
func ioprioTargets(t *kernel.Task, which, who int32, set bool) []kernel.SchedTarget {
	if set && which == ioprioWhoUser && who == 0 {
		return t.Kernel().SchedTargetsWhere(func(p *kernel.Task) bool { return p.Credentials().UID == 0 })
	}
	return priorityTargets(t, which-1, who)
}

// checkIOPrio is Linux's ioprio_check_cap: a known class, a class-less
// value without a level, and the real-time class only with
// CAP_SYS_ADMIN or CAP_SYS_NICE (uk's privileged credentials). The hint
// bits are not checked, nor bits past the 16 kept.
func checkIOPrio(t *kernel.Task, prio int32) error {
	switch kernel.IOPrioClass(prio) {
	case kernel.IOPrioClassRT:
		if !t.Credentials().Privileged {
			return unix.EPERM
		}
	case kernel.IOPrioClassBE, kernel.IOPrioClassIdle:
	case kernel.IOPrioClassNone:
		if kernel.IOPrioLevel(prio) != 0 {
			return unix.EINVAL
		}
	default:
		return unix.EINVAL
	}
	return nil
}

// sysIoprioGet returns a thread's own I/O priority for IOPRIO_WHO_PROCESS
// (0 if it set none), and for a process group or a user the highest of
// their threads' effective ones (the lowest value: a class first, then a
// level), as Linux does.
func sysIoprioGet(t *kernel.Task, a [6]uint64) (uint64, error) {
	which, who := int32(a[0]), int32(a[1])
	if which < ioprioWhoProcess || which > ioprioWhoUser {
		return 0, unix.EINVAL
	}
	targets := ioprioTargets(t, which, who, false)
	if len(targets) == 0 {
		return 0, unix.ESRCH
	}
	if which == ioprioWhoProcess {
		return uint64(targets[0].IOPrio()), nil
	}
	best := targets[0].EffectiveIOPrio()
	for _, p := range targets[1:] {
		best = min(best, p.EffectiveIOPrio())
	}
	return uint64(best), nil
}

// sysIoprioSet gives the threads named the I/O priority, after checking
// it. As Linux, it stops at the first thread whose real uid is neither
// the caller's real nor effective uid (EPERM, unless privileged); a
// zombie is skipped without an error.
func sysIoprioSet(t *kernel.Task, a [6]uint64) (uint64, error) {
	which, who, prio := int32(a[0]), int32(a[1]), int32(a[2])
	if err := checkIOPrio(t, prio); err != nil {
		return 0, err
	}
	if which < ioprioWhoProcess || which > ioprioWhoUser {
		return 0, unix.EINVAL
	}
	targets := ioprioTargets(t, which, who, true)
	if len(targets) == 0 {
		return 0, unix.ESRCH
	}
	for _, p := range targets {
		if !t.CanSetIOPrio(p) {
			return 0, unix.EPERM
		}
		p.SetIOPrio(uint16(prio))
	}
	return 0, nil
}
