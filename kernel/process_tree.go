package kernel

import (
	"golang.org/x/sys/unix"
	"uk/fs/vfs"

	"uk/arch"
	"uk/fs/tty"
)

// The process tree lives under Kernel.mu (Linux's tasklist_lock): the
// PID table, parent and child links, process groups and sessions, and
// zombies waiting to be reaped.

// procState is a ThreadGroup's place in the process tree; all fields are
// protected by Kernel.mu.
type procState struct {
	parent     *ThreadGroup
	children   map[*ThreadGroup]struct{}
	pgid, sid  int32
	exitSignal int  // sent to the parent at exit (SIGCHLD, or clone's choice)
	zombie     bool // every thread has exited; waiting for the parent
	waitStatus int  // wait(2) status once a zombie
	// childEvent is closed (and replaced) whenever a child changes state,
	// waking the process's waiters.
	childEvent chan struct{}
	// vforkDone is closed when a vfork child execs or exits.
	vforkDone chan struct{}
	// ctty is the process's controlling terminal (nil: none); inherited
	// at fork, dropped by setsid.
	ctty      *tty.Terminal
	subreaper bool
	// stopReported and contReported: a stop or continue not yet
	// collected by wait (WUNTRACED, WCONTINUED).
	stopReported, contReported bool
	utime                      int64 // CPU time of reaped children (RUSAGE_CHILDREN), ns
	stime                      int64 // the system-time part of utime, ns
	cminflt                    int64 // page faults of reaped children
	cnvcsw                     int64 // voluntary context switches of reaped children
	// cmaxRSS is the largest high-water mark, in pages, of the children
	// it waited for and theirs (Linux's cmaxrss): RUSAGE_CHILDREN's.
	cmaxRSS int
	// tracees are the tasks the process's threads trace (ptrace.go),
	// and traced tasks that exited until its wait collects them.
	tracees map[*Task]struct{}
	// ptraceHeld: the process exited traced by another than its parent,
	// which hears of it only after the tracer's wait (ptrace.go).
	ptraceHeld bool
}

// allocPID registers tg's leader and the tg itself; the PID stays taken
// until the zombie is reaped.
func (k *Kernel) registerThreadGroupLocked(tg *ThreadGroup) {
	k.tgs[tg.pid] = tg
}

// pidInUseLocked reports whether id names a live thread or an unreaped
// process.
func (k *Kernel) pidInUseLocked(id int32) bool {
	_, t := k.tasks[id]
	_, g := k.tgs[id]
	return t || g
}

// threadGroups returns the live (non-zombie) processes.
func (k *Kernel) threadGroups() []*ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*ThreadGroup, 0, len(k.tgs))
	for _, tg := range k.tgs {
		if !tg.proc.zombie {
			out = append(out, tg)
		}
	}
	return out
}

// processes lists every process, zombies too (kill(2) reaches them, as
// Linux's walks of its process list and process groups do).
func (k *Kernel) processes() []*ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*ThreadGroup, 0, len(k.tgs))
	for _, tg := range k.tgs {
		out = append(out, tg)
	}
	return out
}

// ThreadGroupByPID returns the live process with the given pid.
func (k *Kernel) ThreadGroupByPID(pid int32) *ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	if tg, ok := k.tgs[pid]; ok && !tg.proc.zombie {
		return tg
	}
	return nil
}

// ProcessByPID returns the process with the given pid, a zombie too: a
// process not yet reaped still holds its pid, and kill(2) finds it there
// (a signal to it goes nowhere, and the call succeeds, as on Linux).
func (k *Kernel) ProcessByPID(pid int32) *ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tgs[pid]
}

// TaskByTID returns the thread with the given id.
func (k *Kernel) TaskByTID(tid int32) *Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tasks[tid]
}

// ProcessGroup is the process group id.
func (tg *ThreadGroup) ProcessGroup() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.proc.pgid
}

// Session is the session id.
func (tg *ThreadGroup) Session() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.proc.sid
}

// ParentPID returns the parent process's pid (0 for init).
func (tg *ThreadGroup) ParentPID() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	if tg.proc.parent == nil {
		return 0
	}
	return tg.proc.parent.pid
}

// newChildLocked links child under parent.
func (k *Kernel) linkChildLocked(parent, child *ThreadGroup) {
	child.proc.parent = parent
	if parent != nil {
		if parent.proc.children == nil {
			parent.proc.children = make(map[*ThreadGroup]struct{})
		}
		parent.proc.children[child] = struct{}{}
	}
}

// notifyParentLocked wakes the parent's waiters.
func (tg *ThreadGroup) notifyChildEventLocked() {
	if tg.proc.childEvent != nil {
		close(tg.proc.childEvent)
	}
	tg.proc.childEvent = make(chan struct{})
}

// reaperFor returns the process that adopts tg's orphans: the nearest
// ancestor marked as a child subreaper, else init.
func (k *Kernel) reaperForLocked(tg *ThreadGroup) *ThreadGroup {
	for p := tg.proc.parent; p != nil; p = p.proc.parent {
		if p.proc.subreaper && !p.proc.zombie && p != tg {
			return p
		}
	}
	return k.initTG
}

// exitThreadGroup runs when the last thread of tg has exited: tg becomes a
// zombie for its parent to reap (or is reaped at once when nobody will),
// its children are adopted, and the parent is signalled.
func (k *Kernel) exitThreadGroup(tg *ThreadGroup, status int) {
	tg.stopTimers(true)
	k.mu.Lock()
	leader, sid, ctty := tg.proc.sid == tg.pid, tg.proc.sid, tg.proc.ctty
	k.mu.Unlock()
	if leader && k.SessionLeaderExited != nil {
		k.SessionLeaderExited(sid, ctty)
	}
	k.mu.Lock()
	tg.proc.zombie = true
	tg.proc.waitStatus = status
	defer tg.exitQ.Notify(vfs.EventIn) // pidfds: readable now
	reaper := k.reaperForLocked(tg)
	var orphans []*ThreadGroup
	var adopted []func() // the reaper's SIGCHLDs for zombie orphans
	for c := range tg.proc.children {
		orphans = append(orphans, c)
		delete(tg.proc.children, c)
		k.linkChildLocked(reaper, c)
		c.proc.exitSignal = int(unix.SIGCHLD) // as Linux's reparent_leader: the reaper hears SIGCHLD
		switch {
		case reaper == nil || !c.proc.zombie:
		case reaper.isKernelInit:
			k.reapAutoLocked(c)
		case c.proc.ptraceHeld:
			reaper.notifyChildEventLocked() // the reaper hears of it when the tracer lets go
		default:
			// A zombie orphan is an exit the reaper has not heard of:
			// SIGCHLD, or reaped at once if the reaper will not wait.
			adopted = append(adopted, k.notifyParentOfExitLocked(c))
		}
	}
	if tg.proc.vforkDone != nil {
		close(tg.proc.vforkDone)
		tg.proc.vforkDone = nil
	}
	// A tracer other than the parent hears of the exit first; the parent
	// does once the tracer has collected it (ptrace.go).
	notify := func() {}
	if !tg.proc.ptraceHeld {
		notify = k.notifyParentOfExitLocked(tg)
	}
	k.mu.Unlock()
	notify()
	for _, wake := range adopted {
		wake()
	}
	for _, c := range orphans {
		c.mu.Lock()
		tasks := append([]*Task(nil), c.tasks...)
		c.mu.Unlock()
		for _, ct := range tasks {
			if sig := ct.PdeathSignal(); sig != 0 {
				c.SendSignal(&arch.SignalInfo{Signo: int32(sig), Code: arch.SI_USER}, ct)
			}
		}
	}
	k.reportMainExit(tg, status)
}

// notifyParentOfExitLocked tells the parent that zombie tg exited: its
// waiters wake (or it is reaped at once, when nobody will wait) and the
// exit signal is queued, both under k.mu (queueSignal says why); the
// returned function, to run without k.mu, wakes the parent's thread for
// it. Preconditions: k.mu held.
func (k *Kernel) notifyParentOfExitLocked(tg *ThreadGroup) func() {
	parent := tg.proc.parent
	sig := tg.proc.exitSignal
	status := tg.proc.waitStatus
	autoReap := parent == nil || parent.isKernelInit
	if parent != nil && !parent.isKernelInit && sig == int(unix.SIGCHLD) {
		act := parent.SigAction(int(unix.SIGCHLD))
		if act.Handler == sigIGN || act.Flags&arch.SA_NOCLDWAIT != 0 {
			autoReap = true
		}
	}
	if autoReap {
		k.reapLocked(tg)
	}
	if parent != nil {
		// Waiters look again: a child reaped at once may have been
		// the last, and a blocking wait then fails with ECHILD (Linux
		// wakes the parent's wait queue whether or not it reaps).
		parent.notifyChildEventLocked()
	}
	// clone accepts any exit signal in its low byte; like Linux's
	// do_notify_parent, one that is not a signal number is simply not sent.
	if parent == nil || parent.isKernelInit || !arch.ValidSignal(sig) {
		return func() {}
	}
	info := arch.SignalInfo{Signo: int32(sig), Pid: tg.pid}
	info.Code, info.Status = arch.ChildStatus(status)
	return parent.queueSignal(&info, nil)
}

// reportMainExit hands the exit status of mainTG to Wait, once: whichever
// of the exit's steps calls it first decides, and a power-off before either
// wins.
func (k *Kernel) reportMainExit(tg *ThreadGroup, status int) {
	k.mu.Lock()
	main := tg == k.mainTG
	k.mu.Unlock()
	if !main {
		return
	}
	select {
	case k.done <- shellStatus(status):
	default: // already reported, or powered off
	}
}

// reapAutoLocked reaps c if it already is a zombie (kernel init adopts it).
func (k *Kernel) reapAutoLocked(c *ThreadGroup) {
	if c.proc.zombie && !c.proc.ptraceHeld {
		k.reapLocked(c)
	}
}

// reapLocked removes a zombie from the tree and frees its PID.
func (k *Kernel) reapLocked(tg *ThreadGroup) {
	if p := tg.proc.parent; p != nil {
		delete(p.proc.children, tg)
		p.proc.utime += tg.cpuBothLocked()
		sys, minflt, nvcsw := tg.sysBothLocked()
		p.proc.stime += sys
		p.proc.cminflt += minflt
		p.proc.cnvcsw += nvcsw
	}
	delete(k.tgs, tg.pid)
	tg.releaseHandlers()
}

// cpuBothLocked is the CPU time of an exited process and of the children
// it reaped (Linux's RUSAGE_BOTH): what wait4 reports of it and what its
// parent's RUSAGE_CHILDREN gains when it is reaped.
//
// Preconditions: k.mu is held.
func (tg *ThreadGroup) cpuBothLocked() int64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.finalCPU + tg.proc.utime
}

// sysBothLocked is cpuBothLocked's system time, and the page faults and
// voluntary context switches of the process and its reaped children.
//
// Preconditions: k.mu is held.
func (tg *ThreadGroup) sysBothLocked() (sys, minflt, nvcsw int64) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.finalSys + tg.proc.stime, tg.minFlt.Load() + tg.proc.cminflt, tg.nvcsw.Load() + tg.proc.cnvcsw
}

// SetChildSubreaper marks the process as a subreaper (PR_SET_CHILD_SUBREAPER).
func (tg *ThreadGroup) SetChildSubreaper(on bool) {
	tg.k.mu.Lock()
	tg.proc.subreaper = on
	tg.k.mu.Unlock()
}

// ChildSubreaper reports PR_GET_CHILD_SUBREAPER.
func (tg *ThreadGroup) ChildSubreaper() bool {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.proc.subreaper
}
