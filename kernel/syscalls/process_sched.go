package syscalls

import (
	"encoding/binary"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"uk/kernel"
)

// cpuMaskBytes is the size of the affinity mask uk reports: enough bits for
// the host's CPUs, rounded up to a word as Linux does.
func cpuMaskBytes() int { return (runtime.NumCPU() + 63) / 64 * 8 }

// affinityTarget is the thread sched_{get,set}affinity name: pid 0 the
// caller, else any thread by id (ESRCH when none).
func affinityTarget(t *kernel.Task, pid int32) (*kernel.Task, error) {
	if pid == 0 {
		return t, nil
	}
	if pid < 0 {
		return nil, unix.ESRCH
	}
	if x := t.Kernel().TaskByTID(pid); x != nil {
		return x, nil
	}
	return nil, unix.ESRCH
}

func sysSchedGetaffinity(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, size, addr := int32(a[0]), a[1], a[2]
	n := cpuMaskBytes()
	if size < uint64(n) || size&7 != 0 {
		return 0, unix.EINVAL
	}
	target, err := affinityTarget(t, pid)
	if err != nil {
		return 0, err
	}
	if err := t.CopyOut(addr, target.Affinity(n)); err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// sysSchedSetaffinity records the thread's CPU mask, with Linux's checks
// in its order: the mask is read first (EFAULT), then the thread (ESRCH),
// the caller's right (EPERM: another user's thread without CAP_SYS_NICE),
// and a mask with none of the machine's CPUs is EINVAL. uk's threads run
// where the host puts them; the mask is what sched_getaffinity reads.
func sysSchedSetaffinity(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, size, addr := int32(a[0]), a[1], a[2]
	n := cpuMaskBytes()
	mask := make([]byte, n)
	if size >= uint64(n) {
		if err := t.CopyIn(addr, mask); err != nil {
			return 0, err
		}
	} else if err := t.CopyIn(addr, mask[:size]); err != nil {
		return 0, err
	}
	target, err := affinityTarget(t, pid)
	if err != nil {
		return 0, err
	}
	c, tc := t.Credentials(), target.Credentials()
	if c.EUID != tc.UID && c.EUID != tc.EUID && !c.HasCap(capSysNice) {
		return 0, unix.EPERM
	}
	any := false
	for i := range mask {
		if i*8 >= runtime.NumCPU() {
			mask[i] = 0
			continue
		}
		if left := runtime.NumCPU() - i*8; left < 8 {
			mask[i] &= 1<<left - 1
		}
		any = any || mask[i] != 0
	}
	if !any {
		return 0, unix.EINVAL
	}
	target.SetAffinity(mask)
	return 0, nil
}

func sysSchedYield(t *kernel.Task, a [6]uint64) (uint64, error) {
	runtime.Gosched()
	return 0, nil
}

func sysRseq(t *kernel.Task, a [6]uint64) (uint64, error) { return 0, unix.ENOSYS }

// Priorities (getpriority, setpriority) and scheduling policies
// (sched_*): kernel/task_sched.go keeps them; the checks and their order
// are Linux's (kernel/sys.c, kernel/sched/syscalls.c).

// Which processes getpriority and setpriority name.
const (
	prioProcess = 0
	prioPgrp    = 1
	prioUser    = 2
)

// priorityTargets returns the threads which and who name, as Linux's
// getpriority and setpriority find them (who 0: the caller, its process
// group, its real uid). PRIO_PROCESS names a single thread.
func priorityTargets(t *kernel.Task, which, who int32) []kernel.SchedTarget {
	k := t.Kernel()
	switch which {
	case prioProcess:
		if who == 0 {
			return []kernel.SchedTarget{t.SchedTarget()}
		}
		if p, ok := k.SchedTargetByTID(who); ok {
			return []kernel.SchedTarget{p}
		}
	case prioPgrp:
		pgrp := who
		if pgrp == 0 {
			pgrp = t.ThreadGroup().ProcessGroup()
		}
		return k.SchedTargetsWhere(func(p *kernel.Task) bool { return p.ThreadGroup().ProcessGroup() == pgrp })
	case prioUser:
		uid := uint32(who)
		if who == 0 {
			uid = t.Credentials().UID
		}
		return k.SchedTargetsWhere(func(p *kernel.Task) bool { return p.Credentials().UID == uid })
	}
	return nil
}

// sysGetpriority returns 20 - nice (1 to 40) of the highest priority of
// the threads named, as the raw syscall does (libc turns it back into a
// nice value).
func sysGetpriority(t *kernel.Task, a [6]uint64) (uint64, error) {
	which, who := int32(a[0]), int32(a[1])
	if which < prioProcess || which > prioUser {
		return 0, unix.EINVAL
	}
	best := int32(-1)
	for _, p := range priorityTargets(t, which, who) {
		best = max(best, 20-p.Sched().Nice)
	}
	if best < 0 {
		return 0, unix.ESRCH
	}
	return uint64(best), nil
}

// sysSetpriority sets the nice value (clamped to -20..19) of every thread
// named. As Linux, it goes on past a thread it may not change, and
// reports the last refusal: EPERM for another user's thread, EACCES for
// a nice value below the thread's own that RLIMIT_NICE does not allow.
func sysSetpriority(t *kernel.Task, a [6]uint64) (uint64, error) {
	which, who, nice := int32(a[0]), int32(a[1]), int32(a[2])
	if which < prioProcess || which > prioUser {
		return 0, unix.EINVAL
	}
	nice = min(max(nice, kernel.MinNice), kernel.MaxNice)
	err := error(unix.ESRCH)
	for _, p := range priorityTargets(t, which, who) {
		attr := p.Sched()
		switch {
		case !t.CanSchedule(p):
			err = unix.EPERM
		case nice < attr.Nice && !t.CanRaiseNice(p, nice):
			err = unix.EACCES
		default:
			attr.Nice = nice
			p.SetSched(attr)
			if err == unix.ESRCH {
				err = nil
			}
		}
	}
	return 0, err
}

// schedTarget is the thread a sched_* call names: pid 0 is the caller;
// EINVAL for a negative pid, ESRCH for one that does not exist.
func schedTarget(t *kernel.Task, pid int32) (kernel.SchedTarget, error) {
	switch {
	case pid < 0:
		return kernel.SchedTarget{}, unix.EINVAL
	case pid == 0:
		return t.SchedTarget(), nil
	}
	if p, ok := t.Kernel().SchedTargetByTID(pid); ok {
		return p, nil
	}
	return kernel.SchedTarget{}, unix.ESRCH
}

// validPolicy reports whether Linux knows policy (SCHED_DEADLINE too,
// which sched_setscheduler cannot set: it has no runtime and period).
func validPolicy(policy int32) bool {
	switch policy {
	case kernel.SchedNormal, kernel.SchedFIFO, kernel.SchedRR, kernel.SchedBatch, kernel.SchedIdle, kernel.SchedDeadline:
		return true
	}
	return false
}

func sysSchedSetscheduler(t *kernel.Task, a [6]uint64) (uint64, error) {
	policy := int32(a[1])
	if policy < 0 {
		return 0, unix.EINVAL
	}
	return 0, setScheduler(t, int32(a[0]), policy, a[2])
}

// sysSchedSetparam changes only the priority, under the thread's policy.
func sysSchedSetparam(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, setScheduler(t, int32(a[0]), -1, a[1])
}

// setScheduler is sched_setscheduler, and sched_setparam with policy -1.
func setScheduler(t *kernel.Task, pid, policy int32, paramAddr uint64) error {
	if paramAddr == 0 || pid < 0 {
		return unix.EINVAL
	}
	var b [4]byte
	if err := t.CopyIn(paramAddr, b[:]); err != nil {
		return err
	}
	prio := binary.LittleEndian.Uint32(b[:]) // compared unsigned, as Linux's sched_attr
	p, err := schedTarget(t, pid)
	if err != nil {
		return err
	}
	old := p.Sched()
	attr := old
	if policy < 0 {
		policy = old.Policy
	} else {
		attr.ResetOnFork = policy&kernel.SchedResetOnFork != 0
		policy &^= kernel.SchedResetOnFork
		if !validPolicy(policy) {
			return unix.EINVAL
		}
	}
	if prio > kernel.MaxRTPrio || kernel.RealTime(policy) != (prio != 0) || policy == kernel.SchedDeadline {
		return unix.EINVAL
	}
	attr.Policy, attr.RTPriority = policy, int32(prio)
	if !t.Credentials().Privileged && !mayReschedule(t, p, old, attr) {
		return unix.EPERM
	}
	p.SetSched(attr)
	return nil
}

// fairPolicy reports whether policy is one whose threads have a nice
// value and a time slice (Linux's fair_policy: not SCHED_IDLE, whose
// threads keep their nice value but are not given one).
func fairPolicy(policy int32) bool {
	return policy == kernel.SchedNormal || policy == kernel.SchedBatch
}

// mayReschedule is Linux's user_check_sched_setscheduler for a caller
// without CAP_SYS_NICE changing p's attributes from old to attr (its
// policy, priority, reset-on-fork flag, and nice value under a fair
// policy): a lower nice value only as RLIMIT_NICE allows, a real-time
// policy or priority only within RLIMIT_RTPRIO, SCHED_DEADLINE never,
// out of SCHED_IDLE only as RLIMIT_NICE allows the thread's nice value,
// only threads of its own user, and the reset-on-fork flag never cleared.
func mayReschedule(t *kernel.Task, p kernel.SchedTarget, old, attr kernel.SchedAttr) bool {
	if fairPolicy(attr.Policy) && attr.Nice < old.Nice && !t.CanRaiseNice(p, attr.Nice) {
		return false
	}
	if kernel.RealTime(attr.Policy) {
		lim := p.Rlimit(unix.RLIMIT_RTPRIO).Cur
		if attr.Policy != old.Policy && lim == 0 {
			return false
		}
		if attr.RTPriority > old.RTPriority && uint64(attr.RTPriority) > lim {
			return false
		}
	}
	if attr.Policy == kernel.SchedDeadline {
		return false
	}
	if old.Policy == kernel.SchedIdle && attr.Policy != kernel.SchedIdle && !t.CanRaiseNice(p, old.Nice) {
		return false
	}
	c, pc := t.Credentials(), p.Credentials()
	if c.EUID != pc.EUID && c.EUID != pc.UID {
		return false
	}
	return !old.ResetOnFork || attr.ResetOnFork
}

func sysSchedGetscheduler(t *kernel.Task, a [6]uint64) (uint64, error) {
	p, err := schedTarget(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	attr := p.Sched()
	policy := uint64(attr.Policy)
	if attr.ResetOnFork {
		policy |= kernel.SchedResetOnFork
	}
	return policy, nil
}

func sysSchedGetparam(t *kernel.Task, a [6]uint64) (uint64, error) {
	if a[1] == 0 || int32(a[0]) < 0 {
		return 0, unix.EINVAL
	}
	p, err := schedTarget(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(p.Sched().RTPriority))
	return 0, t.CopyOut(a[1], b[:])
}

func sysSchedGetPriorityMax(t *kernel.Task, a [6]uint64) (uint64, error) {
	switch policy := int32(a[0]); {
	case kernel.RealTime(policy):
		return kernel.MaxRTPrio, nil
	case validPolicy(policy):
		return 0, nil
	}
	return 0, unix.EINVAL
}

func sysSchedGetPriorityMin(t *kernel.Task, a [6]uint64) (uint64, error) {
	switch policy := int32(a[0]); {
	case kernel.RealTime(policy):
		return 1, nil
	case validPolicy(policy):
		return 0, nil
	}
	return 0, unix.EINVAL
}

// rrTimeslice is SCHED_RR's time slice, Linux's default
// (/proc/sys/kernel/sched_rr_timeslice_ms).
const rrTimeslice = 100 * time.Millisecond

// sysSchedRrGetInterval writes the thread's round-robin time slice: 100
// ms for SCHED_RR, 0 for the others (as Linux 6.x reports for a thread of
// the fair scheduler too).
func sysSchedRrGetInterval(t *kernel.Task, a [6]uint64) (uint64, error) {
	p, err := schedTarget(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	var d time.Duration
	if p.Sched().Policy == kernel.SchedRR {
		d = rrTimeslice
	}
	return 0, t.CopyOut(a[1], timespec(int64(d)))
}
