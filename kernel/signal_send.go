package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/internal/hrtimer"
	"uk/kernel/landlock"
)

// Kill implements kill(2)'s targets: pid > 0 one process, 0 the caller's
// process group, -1 every process but init and the caller, < -1 the group
// -pid. Zombies count among them until reaped (the signal goes
// nowhere). A zero signal only checks that the target exists and may be
// signalled. A process the caller may not signal (mayKill) is EPERM for
// one target; among many, kill succeeds if any took the signal, as
// Linux's kill_something_info and __kill_pgrp_info.
func (k *Kernel) Kill(from *Task, pid int32, info *arch.SignalInfo) error {
	var targets []*ThreadGroup
	switch {
	case pid > 0:
		if tg := k.ProcessByPID(pid); tg != nil {
			targets = append(targets, tg)
		}
	case pid == -1:
		for _, tg := range k.processes() {
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
		for _, tg := range k.processes() {
			if tg.ProcessGroup() == pgid {
				targets = append(targets, tg)
			}
		}
	}
	if len(targets) == 0 {
		return unix.ESRCH
	}
	sent := false
	for _, tg := range targets {
		if !from.mayKill(tg, int(info.Signo)) {
			continue
		}
		sent = true
		if info.Signo != 0 {
			tg.SendSignal(info, nil)
		}
	}
	if !sent {
		return unix.EPERM
	}
	return nil
}

// mayKill is Linux's check_kill_permission for a signal from a program:
// its own process always; otherwise its real or effective uid must be the
// target's real or saved uid, or it must have CAP_KILL; SIGCONT also goes
// to any process of its session.
func (t *Task) mayKill(tg *ThreadGroup, sig int) bool {
	if tg == t.tg {
		return true
	}
	var tc *vfs.Credentials
	switch target := anyTask(tg); {
	case target != nil:
		tc = target.Credentials()
	case tg.isKernelInit:
		tc = vfs.RootCredentials() // uk's stand-in init is root's, as Linux's init
	default:
		return true // exiting: the signal goes nowhere
	}
	c := t.Credentials()
	if !(c.EUID == tc.SUID || c.EUID == tc.UID || c.UID == tc.SUID || c.UID == tc.UID || c.HasCap(capKill)) &&
		!(sig == int(unix.SIGCONT) && tg.Session() == t.tg.Session()) {
		return false
	}
	// A Landlock domain that scopes signals reaches only its own domain
	// and those nested in it (threads of one process always: above).
	return !landlock.ScopeDenied(landlock.Of(c), landlock.Of(tc), landlock.ScopeSignal)
}

// capKill is CAP_KILL.
const capKill = 5

// Tkill sends a signal to one thread (of process tgid, or of any process
// when tgid is 0). A thread that does not exist, or is not in tgid, is
// ESRCH; an invalid signal to one that does is EINVAL (Linux checks the
// target first); one the caller may not signal is EPERM; signal 0 only
// checks.
func (k *Kernel) Tkill(from *Task, tgid, tid int32, info *arch.SignalInfo) error {
	t := k.TaskByTID(tid)
	if t == nil || (tgid != 0 && t.tg.pid != tgid) {
		return unix.ESRCH
	}
	if info.Signo != 0 && !arch.ValidSignal(int(info.Signo)) {
		return unix.EINVAL
	}
	if !from.mayKill(t.tg, int(info.Signo)) {
		return unix.EPERM
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
	// let them wake the task. A signal sent to the process counts this
	// thread as one that takes it (SendSignal), as Linux unblocks the
	// waited set for the wait: were every thread blocking it, nobody
	// would be woken.
	t.sigWaiting.Store(uint64(set))
	defer t.sigWaiting.Store(0)
	t.sleepBegin() // asleep: /proc shows 'S'
	defer t.sleepEnd()
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
