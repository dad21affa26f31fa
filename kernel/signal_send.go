package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/internal/hrtimer"
)

// Kill implements kill(2)'s targets: pid > 0 one process, 0 the caller's
// process group, -1 every process but init and the caller, < -1 the group
// -pid. A zero signal only checks that the target exists.
func (k *Kernel) Kill(from *Task, pid int32, info *arch.SignalInfo) error {
	var targets []*ThreadGroup
	switch {
	case pid > 0:
		if tg := k.ThreadGroupByPID(pid); tg != nil {
			targets = append(targets, tg)
		}
	case pid == -1:
		for _, tg := range k.threadGroups() {
			if tg.pid != 1 && tg != from.tg {
				targets = append(targets, tg)
			}
		}
		if len(targets) == 0 {
			return unix.ESRCH
		}
	default:
		pgid := -pid
		if pid == 0 {
			pgid = from.tg.ProcessGroup()
		}
		for _, tg := range k.threadGroups() {
			if tg.ProcessGroup() == pgid {
				targets = append(targets, tg)
			}
		}
	}
	if len(targets) == 0 {
		return unix.ESRCH
	}
	if info.Signo == 0 {
		return nil
	}
	for _, tg := range targets {
		tg.SendSignal(info, nil)
	}
	return nil
}

// Tkill sends a signal to one thread (of process tgid, or of any process
// when tgid is 0). A thread that does not exist, or is not in tgid, is
// ESRCH; an invalid signal to one that does is EINVAL (Linux checks the
// target first); signal 0 only checks that it exists.
func (k *Kernel) Tkill(tgid, tid int32, info *arch.SignalInfo) error {
	t := k.TaskByTID(tid)
	if t == nil || (tgid != 0 && t.tg.pid != tgid) {
		return unix.ESRCH
	}
	if info.Signo != 0 && !arch.ValidSignal(int(info.Signo)) {
		return unix.EINVAL
	}
	if info.Signo != 0 {
		t.tg.SendSignal(info, t)
	}
	return nil
}

// WaitSignal implements rt_sigtimedwait: take a pending signal in set,
// waiting up to timeout (negative: forever).
func (t *Task) WaitSignal(set arch.SigSet, timeout time.Duration) (arch.SignalInfo, error) {
	var deadline <-chan struct{}
	if timeout >= 0 {
		timer := hrtimer.NewTimer(timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	// Signals in set are waited for, not delivered: unblock nothing, but
	// let them wake the task.
	for {
		if info, ok := t.DequeueSignalIn(set); ok {
			return info, nil
		}
		if t.hasDeliverable() {
			return arch.SignalInfo{}, unix.EINTR
		}
		select {
		case <-t.interrupt:
		case <-deadline:
			return arch.SignalInfo{}, unix.EAGAIN
		}
	}
}

// AltStack returns the task's alternate signal stack, with SS_ONSTACK set
// while the task runs on it.
func (t *Task) AltStack() arch.StackT {
	t.mu.Lock()
	s := t.altStack
	t.mu.Unlock()
	if s.OnStack(t.State.Regs.Rsp) {
		s.Flags |= arch.SS_ONSTACK
	}
	return s
}

// SetAltStack replaces the alternate signal stack.
func (t *Task) SetAltStack(s arch.StackT) {
	t.mu.Lock()
	t.altStack = s
	t.mu.Unlock()
}
