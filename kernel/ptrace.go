package kernel

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/landlock"
	"uk/platform"
)

// ptrace(2) between tasks of the sandbox: a tracer observes a tracee's
// stops through wait, reads and changes its registers and memory while it
// is stopped, and decides which signal, if any, it goes on with.
//
// A tracee stops (a ptrace-stop) where Linux's would: before a signal is
// delivered (signal-delivery-stop), at syscall entry and exit when resumed
// with PTRACE_SYSCALL, at the events PTRACE_SETOPTIONS asked for (exec,
// fork, vfork, clone), and in place of a group stop. A stopped tracee's
// goroutine waits in ptraceStop; only its tracer resumes it (or SIGKILL,
// or the tracer's exit). While it waits, its State is the tracer's to read
// and write: the tracee wrote it before publishing the stop under k.mu and
// reads it again only after the resume's channel receive.
//
// The links live under Kernel.mu, as Linux's under tasklist_lock. The
// tracer is a thread, but any thread of its process may wait for and act
// on its tracees (Linux requires the very thread for requests; uk asks
// only for its process).

// ptraceLink is a task's side of a ptrace relation; all fields but the
// tracee's own copy of options are protected by k.mu.
type ptraceLink struct {
	tracer  *Task // nil: not traced
	seized  bool  // attached by PTRACE_SEIZE
	options uint32
	stop    *ptraceStopState // non-nil while in a ptrace-stop
	// siginfo is the stop's siginfo (PTRACE_GETSIGINFO); hasInfo is
	// false in a group stop, where Linux has none.
	siginfo  arch.SignalInfo
	hasInfo  bool
	eventMsg uint64 // PTRACE_GETEVENTMSG
	// mode is how the tracer last resumed it: whether syscalls stop.
	mode PtraceMode
	// exited is set when a traced task ended and its tracer has yet to
	// collect the status by wait (exitStatus).
	exited     bool
	exitStatus int
	// groupStop: the stop is a group stop (PTRACE_LISTEN's condition).
	groupStop bool
}

// ptraceStopState is one ptrace-stop: the wait status it reports, whether
// a wait has collected it, and how the tracer resumes it.
type ptraceStopState struct {
	status   int
	reported bool
	resume   chan int // the signal to go on with; buffered, sent once
}

// PtraceMode is how a tracer resumes a tracee.
type PtraceMode int

// Resume modes.
const (
	PtraceCont       PtraceMode = iota // run until the next signal or event
	PtraceSyscall                      // also stop at syscall entry and exit
	PtraceSysemu                       // stop at syscall entry, which then does not run
	PtraceSingleStep                   // stop after one instruction
)

// Ptrace option bits and events (PTRACE_O_*, PTRACE_EVENT_*).
const (
	PtraceOTraceSysGood = 1 << 0
	PtraceOTraceFork    = 1 << 1
	PtraceOTraceVfork   = 1 << 2
	PtraceOTraceClone   = 1 << 3
	PtraceOTraceExec    = 1 << 4
	PtraceOTraceVforkDn = 1 << 5
	PtraceOTraceExit    = 1 << 6
	PtraceOTraceSeccomp = 1 << 7
	PtraceOExitKill     = 1 << 20
	PtraceOSuspendSecc  = 1 << 21
	// PtraceOMask is every option Linux accepts.
	PtraceOMask = 0xff | PtraceOExitKill | PtraceOSuspendSecc

	ptraceEventFork    = 1
	ptraceEventVfork   = 2
	ptraceEventClone   = 3
	ptraceEventExec    = 4
	ptraceEventVfkDone = 5
	ptraceEventExit    = 6
	ptraceEventSeccomp = 7
	ptraceEventStop    = 128
)

const sigTrap = int(unix.SIGTRAP)

// stoppedStatus is the wait status of a stop with sig (and an event).
func stoppedStatus(sig, event int) int { return (event<<8|sig)<<8 | 0x7f }

// linkTracerLocked makes tracer trace t. Preconditions: k.mu held, t not
// traced.
func (t *Task) linkTracerLocked(tracer *Task, seized bool, options uint32) {
	t.ptrace = ptraceLink{tracer: tracer, seized: seized, options: options}
	tg := tracer.tg
	if tg.proc.tracees == nil {
		tg.proc.tracees = make(map[*Task]struct{})
	}
	tg.proc.tracees[t] = struct{}{}
	t.traced.Store(true)
	t.k.ptraceLinks.Add(1)
}

// unlinkTracerLocked ends t's tracing; a stop it is in ends with sig.
// Preconditions: k.mu held, t traced.
func (t *Task) unlinkTracerLocked(sig int) {
	delete(t.ptrace.tracer.tg.proc.tracees, t)
	if st := t.ptrace.stop; st != nil {
		st.resume <- sig
	}
	t.ptrace = ptraceLink{}
	t.traced.Store(false)
	t.clearDebugRegsLocked()
	t.k.ptraceLinks.Add(-1)
}

// PtraceTraceme implements PTRACE_TRACEME: t's parent becomes its tracer.
func (t *Task) PtraceTraceme() error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	parent := t.tg.proc.parent
	if t.ptrace.tracer != nil || parent == nil || parent.isKernelInit || parent.proc.zombie {
		return unix.EPERM
	}
	tracer := parent.firstTask()
	// Landlock: the parent must be in t's domain or one t's is nested in.
	if tracer == nil || !landlock.Within(landlock.Of(t.Credentials()), landlock.Of(tracer.Credentials())) {
		return unix.EPERM
	}
	t.linkTracerLocked(tracer, false, 0)
	return nil
}

// PtraceAttach implements PTRACE_ATTACH and PTRACE_SEIZE of thread tid.
// ATTACH stops the tracee with SIGSTOP; SEIZE leaves it running.
func (t *Task) PtraceAttach(tid int32, seize bool, options uint32) error {
	k := t.k
	target := k.TaskByTID(tid)
	if target == nil {
		if tid == 1 {
			return t.attachKernelInit(seize, options)
		}
		return unix.ESRCH
	}
	if target.tg == t.tg || !t.MayPtraceAccess(target) {
		return unix.EPERM
	}
	if target.isExiting() {
		return unix.EPERM
	}
	k.mu.Lock()
	if target.ptrace.tracer != nil {
		k.mu.Unlock()
		return unix.EPERM
	}
	target.linkTracerLocked(t, seize, options)
	k.mu.Unlock()
	if !seize {
		target.tg.SendSignal(&arch.SignalInfo{Signo: int32(unix.SIGSTOP), Code: arch.SI_KERNEL}, nil)
	}
	t.waitTrapped(target)
	return nil
}

// attachKernelInit attaches to the PID 1 `uk run` makes, which runs no
// code: as an init that sits idle would, it stops at once for ATTACH's
// SIGSTOP (a signal-delivery-stop the tracer's wait sees) and stays where
// it is when resumed. Its thread has no memory (PEEK and POKE: EIO) and
// empty registers (Kernel.initTask).
func (t *Task) attachKernelInit(seize bool, options uint32) error {
	k := t.k
	k.mu.Lock()
	init := k.initTG
	if init == nil || !init.isKernelInit || t.tg == init {
		k.mu.Unlock()
		return unix.ESRCH
	}
	it := k.initTask
	k.mu.Unlock()
	if !t.MayPtraceAccess(it) {
		return unix.EPERM
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if it.ptrace.tracer != nil {
		return unix.EPERM
	}
	it.linkTracerLocked(t, seize, options)
	if !seize {
		info := arch.SignalInfo{Signo: int32(unix.SIGSTOP), Code: arch.SI_KERNEL}
		it.ptrace.stop = &ptraceStopState{status: stoppedStatus(int(unix.SIGSTOP), 0), resume: make(chan int, 1)}
		it.ptrace.siginfo, it.ptrace.hasInfo = info, true
		t.tg.notifyChildEventLocked()
	}
	return nil
}

// waitTrapped is t attaching to target, a thread of a stopped process: the
// thread moves from its group stop into a ptrace-stop (waitWhileStopped),
// and the attach waits for that (as Linux's JOBCTL_TRAPPING), so that the
// tracer's next request finds it stopped. The stop wakes t's process's
// waiters (ptraceStopAs); a second bounds the wait.
func (t *Task) waitTrapped(target *Task) {
	target.tg.mu.Lock()
	stopped := target.tg.stopSig != 0
	target.tg.mu.Unlock()
	if !stopped {
		return
	}
	target.wake()
	timeout := time.NewTimer(time.Second)
	defer timeout.Stop()
	k := t.k
	for {
		k.mu.Lock()
		trapped := target.ptrace.stop != nil || target.ptrace.tracer != t
		if t.tg.proc.childEvent == nil {
			t.tg.proc.childEvent = make(chan struct{})
		}
		ev := t.tg.proc.childEvent
		k.mu.Unlock()
		if trapped || target.isExiting() {
			return
		}
		select {
		case <-ev:
		case <-timeout.C:
			return
		}
	}
}

// PtraceTracee returns the thread tid if t's process traces it; stopped
// asks that it also be in a ptrace-stop (what most requests need). Either
// failing is ESRCH, as Linux's ptrace_check_attach.
func (t *Task) PtraceTracee(tid int32, stopped bool) (*Task, error) {
	k := t.k
	target := k.TaskByTID(tid)
	k.mu.Lock()
	defer k.mu.Unlock()
	if target == nil && tid == 1 {
		target = k.initTask // the stand-in init, if a tracer attached to it
	}
	if target == nil {
		return nil, unix.ESRCH
	}
	tr := target.ptrace.tracer
	if tr == nil || tr.tg != t.tg || target.ptrace.exited || stopped && target.ptrace.stop == nil {
		return nil, unix.ESRCH
	}
	return target, nil
}

// PtraceResume ends the tracee's stop: it goes on with signal sig (0:
// none) in mode. EIO for a signal number that is not one.
func (t *Task) PtraceResume(tracee *Task, sig int, mode PtraceMode) error {
	if sig != 0 && !arch.ValidSignal(sig) {
		return unix.EIO
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	st := tracee.ptrace.stop
	if st == nil || tracee.ptrace.tracer == nil {
		return unix.ESRCH
	}
	tracee.ptrace.mode = mode
	tracee.ptrace.stop = nil
	if mode == PtraceSingleStep {
		tracee.State.Regs.Eflags |= arch.EflagsTF
		tracee.singleStepping = true
	}
	st.resume <- sig
	return nil
}

// PtraceDetach implements PTRACE_DETACH: the tracee goes on untraced,
// with signal sig.
func (t *Task) PtraceDetach(tracee *Task, sig int) error {
	if sig != 0 && !arch.ValidSignal(sig) {
		return unix.EIO
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if tracee.ptrace.tracer == nil || tracee.ptrace.tracer.tg != t.tg {
		return unix.ESRCH
	}
	tracee.unlinkTracerLocked(sig)
	return nil
}

// PtraceKill implements PTRACE_KILL: the tracee's process is killed (not
// the stand-in init, whose death would end the sandbox's tree).
func (t *Task) PtraceKill(tracee *Task) {
	if !tracee.tg.isKernelInit {
		tracee.tg.kill(int(unix.SIGKILL))
	}
}

// PtraceInterrupt implements PTRACE_INTERRUPT: a seized tracee stops as
// soon as it can (PTRACE_EVENT_STOP). EIO for one attached otherwise.
func (t *Task) PtraceInterrupt(tracee *Task) error {
	k := t.k
	k.mu.Lock()
	seized, stopped := tracee.ptrace.seized, tracee.ptrace.stop != nil
	k.mu.Unlock()
	if !seized {
		return unix.EIO
	}
	if !stopped {
		tracee.ptraceWant.Store(true)
		tracee.wake()
	}
	return nil
}

// PtraceSetOptions replaces the tracee's options (PTRACE_SETOPTIONS).
func (t *Task) PtraceSetOptions(tracee *Task, options uint32) error {
	if options&^PtraceOMask != 0 {
		return unix.EINVAL
	}
	t.k.mu.Lock()
	tracee.ptrace.options = options
	t.k.mu.Unlock()
	return nil
}

// PtraceSiginfo returns the siginfo of the tracee's stop; false in a
// stop that has none (a group stop).
func (t *Task) PtraceSiginfo(tracee *Task) (arch.SignalInfo, bool) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return tracee.ptrace.siginfo, tracee.ptrace.hasInfo
}

// PtraceSetSiginfo replaces the siginfo the tracee's stop will go on with.
func (t *Task) PtraceSetSiginfo(tracee *Task, info arch.SignalInfo) bool {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if !tracee.ptrace.hasInfo {
		return false
	}
	tracee.ptrace.siginfo = info
	return true
}

// What PTRACE_GET_SYSCALL_INFO reports a stop as (PTRACE_SYSCALL_INFO_*);
// the first two are also a syscall stop's event message.
const (
	PtraceSyscallNone    = 0
	PtraceSyscallEntry   = 1
	PtraceSyscallExit    = 2
	PtraceSyscallSeccomp = 3
)

// PtraceSyscallStopKind is the kind of stop the tracee is in, for
// PTRACE_GET_SYSCALL_INFO, and the event message (a seccomp filter's
// data): a syscall entry or exit stop reports as such only with
// PTRACE_O_TRACESYSGOOD, as Linux's (it tells them by the siginfo).
func (t *Task) PtraceSyscallStopKind(tracee *Task) (kind int, msg uint64) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	l := &tracee.ptrace
	if !l.hasInfo {
		return PtraceSyscallNone, l.eventMsg
	}
	switch l.siginfo.Code {
	case int32(sigTrap | 0x80):
		if l.eventMsg == PtraceSyscallEntry || l.eventMsg == PtraceSyscallExit {
			return int(l.eventMsg), l.eventMsg
		}
	case int32(sigTrap | ptraceEventSeccomp<<8):
		return PtraceSyscallSeccomp, l.eventMsg
	}
	return PtraceSyscallNone, l.eventMsg
}

// PtraceEventMsg returns PTRACE_GETEVENTMSG's value.
func (t *Task) PtraceEventMsg(tracee *Task) uint64 {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return tracee.ptrace.eventMsg
}

// ptraceStop puts t in a ptrace-stop reporting status to its tracer, and
// waits to be resumed. It returns the signal the tracer resumed it with
// and whether t stopped at all: false when it has no tracer, or it was
// killed (t.isExiting) while stopped.
func (t *Task) ptraceStop(status int, info *arch.SignalInfo) (int, bool) {
	return t.ptraceStopAs(status, info, stopOrdinary)
}

// ptraceStopKind says what is special about a ptrace-stop.
type ptraceStopKind int

const (
	stopOrdinary ptraceStopKind = iota
	stopGroup                   // a group stop (what PTRACE_LISTEN takes)
	stopAtExit                  // PTRACE_EVENT_EXIT: the task is exiting already, only SIGKILL ends the stop early
)

// ptraceStopAs is ptraceStop for a stop of the given kind.
func (t *Task) ptraceStopAs(status int, info *arch.SignalInfo, kind ptraceStopKind) (int, bool) {
	killed := t.isExiting
	if kind == stopAtExit {
		killed = t.sigkilled.Load
	}
	if killed() {
		return 0, false
	}
	// The tracer may read the FP state; a platform fetches it lazily,
	// only from the thread that runs the task.
	t.State.SyncFP()
	k := t.k
	k.mu.Lock()
	tracer := t.ptrace.tracer
	if tracer == nil {
		k.mu.Unlock()
		return 0, false
	}
	st := &ptraceStopState{status: status, resume: make(chan int, 1)}
	t.ptrace.stop = st
	t.ptrace.groupStop = kind == stopGroup
	t.ptrace.hasInfo = info != nil
	if info != nil {
		t.ptrace.siginfo = *info
	}
	tracerTG := tracer.tg
	tracerTG.notifyChildEventLocked()
	wake := func() {}
	if tracerTG.SigAction(int(unix.SIGCHLD)).Flags&arch.SA_NOCLDSTOP == 0 {
		// Queued with the stop made visible (queueSignal says why).
		wake = tracerTG.queueSignal(&arch.SignalInfo{Signo: int32(unix.SIGCHLD), Code: arch.CLD_TRAPPED,
			Pid: t.tid, Status: int32(status >> 8 & 0x7f)}, nil)
	}
	k.mu.Unlock()
	wake()
	t.ptraceStopped.Store(true)
	defer t.ptraceStopped.Store(false)
	if t.unbind() {
		defer runtime.LockOSThread()
	}
	for {
		select {
		case sig := <-st.resume:
			return sig, true
		case <-t.interrupt:
			if killed() {
				k.mu.Lock()
				if t.ptrace.stop == st {
					t.ptrace.stop = nil
				}
				k.mu.Unlock()
				return 0, false
			}
		}
	}
}

// ptraceSignal is the signal-delivery-stop of a traced task about to take
// info. It reports whether the (possibly replaced) signal is still to be
// delivered now.
func (t *Task) ptraceSignal(info *arch.SignalInfo) bool {
	sig, stopped := t.ptraceStop(stoppedStatus(int(info.Signo), 0), info)
	if !stopped {
		return !t.isExiting() // no tracer any more: deliver as usual
	}
	k := t.k
	k.mu.Lock()
	*info = t.ptrace.siginfo // PTRACE_SETSIGINFO may have changed it
	tracer := t.ptrace.tracer
	k.mu.Unlock()
	if sig == 0 {
		return false
	}
	if sig != int(info.Signo) {
		// A different signal: Linux fills the siginfo as if the tracer
		// had sent it.
		*info = arch.SignalInfo{Signo: int32(sig), Code: arch.SI_USER}
		if tracer != nil {
			info.Pid, info.Uid = tracer.tg.pid, tracer.Credentials().UID
		}
	}
	if t.SigMask().Has(sig) {
		t.tg.SendSignal(info, t) // blocked now: it waits, queued
		return false
	}
	return true
}

// ptraceSyscallStop stops a task resumed with PTRACE_SYSCALL or
// PTRACE_SYSEMU at a syscall's entry (exit false) or exit. It reports
// whether it stopped and, at entry, whether the syscall is to run: not
// after PTRACE_SYSEMU, nor when the task was killed.
func (t *Task) ptraceSyscallStop(exit bool) (run, stopped bool) {
	k := t.k
	k.mu.Lock()
	mode, opts := t.ptrace.mode, t.ptrace.options
	stops := mode == PtraceSyscall || mode == PtraceSysemu && !exit
	if stops {
		// The event message says which (Linux's
		// PTRACE_EVENTMSG_SYSCALL_ENTRY and _EXIT).
		t.ptrace.eventMsg = PtraceSyscallEntry
		if exit {
			t.ptrace.eventMsg = PtraceSyscallExit
		}
	}
	k.mu.Unlock()
	if !stops {
		return true, false
	}
	sig := sigTrap
	if opts&PtraceOTraceSysGood != 0 {
		sig |= 0x80
	}
	if !exit {
		enosys := int64(unix.ENOSYS)
		t.State.Regs.Rax = uint64(-enosys)
	}
	resumeSig, stopped := t.ptraceStop(stoppedStatus(sig, 0), &arch.SignalInfo{Signo: int32(sigTrap), Code: int32(sig)})
	if !stopped {
		return !t.isExiting(), false
	}
	t.ptraceInject(resumeSig)
	return mode != PtraceSysemu, true
}

// ptraceInject sends the signal a tracer resumed a syscall or event stop
// with, as Linux's ptrace_notify does.
func (t *Task) ptraceInject(sig int) {
	if sig != 0 {
		t.tg.SendSignal(&arch.SignalInfo{Signo: int32(sig), Code: arch.SI_KERNEL}, t)
	}
}

// ptraceEvent reports event to the tracer if its options ask for it
// (PTRACE_O_TRACE*), with msg for PTRACE_GETEVENTMSG. It reports whether
// the tracer asked.
func (t *Task) ptraceEvent(event int, msg uint64) bool {
	if !t.traced.Load() {
		return false
	}
	var opt uint32
	switch event {
	case ptraceEventFork:
		opt = PtraceOTraceFork
	case ptraceEventVfork:
		opt = PtraceOTraceVfork
	case ptraceEventClone:
		opt = PtraceOTraceClone
	case ptraceEventExec:
		opt = PtraceOTraceExec
	case ptraceEventVfkDone:
		opt = PtraceOTraceVforkDn
	case ptraceEventExit:
		opt = PtraceOTraceExit
	case ptraceEventSeccomp:
		opt = PtraceOTraceSeccomp
	}
	k := t.k
	k.mu.Lock()
	asked := t.ptrace.tracer != nil && t.ptrace.options&opt != 0
	if asked {
		t.ptrace.eventMsg = msg
	}
	k.mu.Unlock()
	if !asked {
		return false
	}
	sig, stopped := t.ptraceStop(stoppedStatus(sigTrap, event), &arch.SignalInfo{Signo: int32(sigTrap), Code: int32(sigTrap | event<<8)})
	if stopped {
		t.ptraceInject(sig)
	}
	return true
}

// ptraceExitEvent is PTRACE_EVENT_EXIT: a task ending by its own exit
// (or a signal's) stops, if its tracer asked, with its exit status as the
// event message, before it lets go of anything.
func (t *Task) ptraceExitEvent() {
	status := t.ownExitStatus()
	k := t.k
	k.mu.Lock()
	asked := t.ptrace.tracer != nil && t.ptrace.options&PtraceOTraceExit != 0
	if asked {
		t.ptrace.eventMsg = uint64(status)
	}
	k.mu.Unlock()
	if asked {
		t.ptraceStopAs(stoppedStatus(sigTrap, ptraceEventExit), &arch.SignalInfo{Signo: int32(sigTrap), Code: int32(sigTrap | ptraceEventExit<<8)}, stopAtExit)
	}
}

// ownExitStatus is the wait status of t's exit: its process's, if that is
// exiting as a whole, else what its exit(2) gave.
func (t *Task) ownExitStatus() int {
	t.tg.mu.Lock()
	status, exiting := t.tg.exitStatus, t.tg.exiting
	t.tg.mu.Unlock()
	if !exiting {
		t.mu.Lock()
		status = t.exitCode
		t.mu.Unlock()
	}
	return status
}

// ptraceExec runs after a successful execve of a traced task: the exec
// event if asked for, else (for a tracee not seized) a SIGTRAP, as Linux.
func (t *Task) ptraceExec(oldTID int32) {
	if !t.traced.Load() || t.ptraceEvent(ptraceEventExec, uint64(oldTID)) {
		return
	}
	t.k.mu.Lock()
	seized := t.ptrace.seized
	t.k.mu.Unlock()
	if !seized {
		t.tg.SendSignal(&arch.SignalInfo{Signo: int32(sigTrap), Code: arch.SI_USER}, t)
	}
}

// ptraceClone makes a new task child traced as its creator t is, when
// t's options ask for the event of this kind of clone (or CLONE_PTRACE),
// and returns the event to report, 0 if none. The child then starts in a
// stop: SIGSTOP, or PTRACE_EVENT_STOP if seized.
func (t *Task) ptraceClone(child *Task, flags uint64) int {
	if !t.traced.Load() {
		return 0
	}
	event, opt := ptraceEventClone, uint32(PtraceOTraceClone)
	switch {
	case flags&unix.CLONE_VFORK != 0:
		event, opt = ptraceEventVfork, PtraceOTraceVfork
	case flags&0xff == uint64(unix.SIGCHLD):
		event, opt = ptraceEventFork, PtraceOTraceFork
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tracer := t.ptrace.tracer
	if tracer == nil || flags&unix.CLONE_UNTRACED != 0 ||
		t.ptrace.options&opt == 0 && flags&unix.CLONE_PTRACE == 0 {
		return 0
	}
	child.linkTracerLocked(tracer, t.ptrace.seized, t.ptrace.options)
	if t.ptrace.seized {
		child.ptraceWant.Store(true)
	} else {
		child.pending.enqueue(&arch.SignalInfo{Signo: int32(unix.SIGSTOP), Code: arch.SI_KERNEL})
	}
	if t.ptrace.options&opt == 0 {
		return 0
	}
	return event
}

// ptraceInterruptStop is the stop of a seized tracee that PTRACE_INTERRUPT
// (or its creation) asked to stop (ptraceWant); it runs where signals are
// handled.
func (t *Task) ptraceInterruptStop() {
	sig, stopped := t.ptraceStop(stoppedStatus(sigTrap, ptraceEventStop), &arch.SignalInfo{Signo: int32(sigTrap), Code: int32(sigTrap | ptraceEventStop<<8)})
	if stopped {
		t.ptraceInject(sig)
	}
}

// singleStepped handles the trap that ends a PTRACE_SINGLESTEP: the trap
// flag's SIGTRAP after one instruction.
func (t *Task) singleStepped(trap platform.Trap) bool {
	if !t.singleStepping || trap.Signo != int32(sigTrap) {
		return false
	}
	t.endSingleStep()
	return true
}

// endSingleStep clears the trap flag the step set and reports the step
// as Linux does: a SIGTRAP (TRAP_TRACE) for the tracer to see.
func (t *Task) endSingleStep() {
	const trapTrace = 2
	t.singleStepping = false
	t.State.Regs.Eflags &^= arch.EflagsTF
	t.forceSignal(sigTrap, trapTrace, 0)
}

// forceTraced is Linux's force_sig_info for a traced task: the signal,
// unblocked and (if blocked or ignored) back to its default action, is
// queued for the thread, whose delivery first stops for the tracer.
func (t *Task) forceTraced(info *arch.SignalInfo) {
	sig := int(info.Signo)
	act := t.tg.SigAction(sig)
	blocked := t.SigMask().Has(sig)
	if blocked || act.Handler == sigIGN {
		act.Handler = sigDFL
		t.tg.SetSigAction(sig, act)
	}
	if blocked {
		m := t.SigMask()
		m.Remove(sig)
		t.SetSigMask(m)
	}
	t.State.Regs.OrigRax = ^uint64(0) // not in a syscall: no restart
	t.tg.SendSignal(info, t)
}

// anyTracedLocked reports whether a thread of tg is traced: its signals
// are never discarded as ignored, for the tracer sees each one.
// Preconditions: tg.mu held.
func (tg *ThreadGroup) anyTracedLocked() bool {
	for _, t := range tg.tasks {
		if t.traced.Load() {
			return true
		}
	}
	return false
}

// ptraceGroupStop is a traced task's group stop: reported to the tracer,
// which resumes it (Linux's TASK_TRACED for a group stop, simplified: the
// tracer's resume ends it, not SIGCONT).
func (t *Task) ptraceGroupStop(sig int) {
	k := t.k
	k.mu.Lock()
	seized := t.ptrace.seized
	k.mu.Unlock()
	status := stoppedStatus(sig, 0)
	var info *arch.SignalInfo // none for a group stop, unless seized
	if seized {
		status = stoppedStatus(sig, ptraceEventStop)
		info = &arch.SignalInfo{Signo: int32(sig), Code: int32(sig | ptraceEventStop<<8), Pid: t.tid}
	}
	resume, stopped := t.ptraceStopAs(status, info, stopGroup)
	switch {
	case !stopped:
	case resume == ptraceListenResume:
		t.ptraceListen()
	default:
		t.ptraceInject(resume)
	}
}

// ptraceListenResume is the resume "signal" of PTRACE_LISTEN.
const ptraceListenResume = -1

// PtraceListen implements PTRACE_LISTEN: a seized tracee in a group stop
// leaves its ptrace-stop but stays stopped, listening: a signal sent to it
// (its delivery stops for the tracer again) or the end of the group stop
// (a PTRACE_EVENT_STOP then tells the tracer) ends that. EIO for a tracee
// not seized or not in a group stop.
func (t *Task) PtraceListen(tracee *Task) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	st := tracee.ptrace.stop
	if st == nil {
		return unix.ESRCH
	}
	if !tracee.ptrace.seized || !tracee.ptrace.groupStop {
		return unix.EIO
	}
	tracee.ptrace.stop = nil
	st.resume <- ptraceListenResume
	return nil
}

// ptraceListen is a listening tracee's wait (PTRACE_LISTEN).
func (t *Task) ptraceListen() {
	for {
		t.tg.mu.Lock()
		ch, stopped := t.tg.contCh, t.tg.stopSig != 0
		t.tg.mu.Unlock()
		if !stopped {
			// Continued: the tracer hears of it in a stop of its own.
			if sig, ok := t.ptraceStop(stoppedStatus(sigTrap, ptraceEventStop), &arch.SignalInfo{Signo: int32(sigTrap), Code: int32(sigTrap | ptraceEventStop<<8)}); ok {
				t.ptraceInject(sig)
			}
			return
		}
		if t.hasDeliverable() || !t.traced.Load() {
			return
		}
		select {
		case <-ch:
		case <-t.interrupt:
		}
	}
}

// ptraceExitLocked runs as t exits with wait status status: its tracees
// go free (killed if they asked, PTRACE_O_EXITKILL), and a tracer of its
// own hears of the exit unless, being its parent, it will by the child's
// exit. It returns the processes to kill and the tracer's process to
// send SIGCHLD to. Preconditions: k.mu held.
func (t *Task) ptraceExitLocked(status int, last bool) (kill []*ThreadGroup, notify *ThreadGroup, notifies []func()) {
	for tr := range t.tg.proc.tracees {
		if tr.ptrace.tracer != t {
			continue
		}
		if tr.ptrace.exited {
			notifies = append(notifies, tr.forgetExitedLocked(t.tg))
			continue
		}
		if tr.ptrace.options&PtraceOExitKill != 0 {
			kill = append(kill, tr.tg)
		}
		tr.unlinkTracerLocked(0)
	}
	tracer := t.ptrace.tracer
	if tracer == nil {
		return kill, nil, notifies
	}
	if last && tracer.tg == t.tg.proc.parent {
		t.unlinkTracerLocked(0)
		return kill, nil, notifies
	}
	t.traced.Store(false)
	t.clearDebugRegsLocked()
	t.ptrace.stop = nil
	t.ptrace.exited, t.ptrace.exitStatus = true, status
	if last {
		t.tg.proc.ptraceHeld = true
	}
	tracer.tg.notifyChildEventLocked()
	return kill, tracer.tg, notifies
}

// forgetExitedLocked drops the record of a traced task's exit that
// tracerTG held (its wait collected it, or the tracer exited), with its
// place in the task count, and lets the parent hear of its process's exit.
// Preconditions: k.mu held.
func (t *Task) forgetExitedLocked(tracerTG *ThreadGroup) func() {
	delete(tracerTG.proc.tracees, t)
	t.ptrace = ptraceLink{}
	t.k.ptraceLinks.Add(-1)
	if t.removed {
		t.k.nrTasks--
	}
	return t.tg.releaseExitLocked()
}

// releaseExitLocked ends the hold a tracer had on tg's exit (ptraceHeld):
// once tg is a zombie its parent hears of it. The returned function runs
// without k.mu. Preconditions: k.mu held.
func (tg *ThreadGroup) releaseExitLocked() func() {
	if !tg.proc.ptraceHeld {
		return func() {}
	}
	tg.proc.ptraceHeld = false
	if !tg.proc.zombie {
		return func() {} // exitThreadGroup, still to run, tells the parent
	}
	if p := tg.proc.parent; p != nil && p.isKernelInit {
		tg.k.reapLocked(tg)
		return func() {}
	}
	return tg.k.notifyParentOfExitLocked(tg)
}

// ptraceExit is ptraceExitLocked with its follow-ups, for t's exit
// (ownExitStatus).
func (t *Task) ptraceExit(last bool) {
	k := t.k
	if k.ptraceLinks.Load() == 0 {
		return // no tracer anywhere, no tracee: nothing to do
	}
	status := t.ownExitStatus()
	k.mu.Lock()
	kill, notify, notifies := t.ptraceExitLocked(status, last)
	wake := func() {}
	if notify != nil {
		// Queued with the exit made visible (queueSignal says why).
		info := arch.SignalInfo{Signo: int32(unix.SIGCHLD), Pid: t.tid}
		info.Code, info.Status = arch.ChildStatus(status)
		wake = notify.queueSignal(&info, nil)
	}
	k.mu.Unlock()
	for _, f := range notifies {
		f()
	}
	for _, tg := range kill {
		tg.kill(int(unix.SIGKILL))
	}
	wake()
}

// ptraceWaitLocked looks among the tracees of t's process for one sel
// matches with something to report: an exit (with WEXITED) or a stop no
// wait has collected. found says whether any tracee matched at all.
// Preconditions: k.mu held.
//
// then, to run without k.mu, tells the parent of a process whose exit the
// wait collected.
func (t *Task) ptraceWaitLocked(sel WaitSelector, options int) (r WaitResult, ready, found bool, then func()) {
	then = func() {}
	for tr := range t.tg.proc.tracees {
		if sel.Pid > 0 && tr.tid != sel.Pid || sel.PGID > 0 && tr.tg.proc.pgid != sel.PGID {
			continue
		}
		found = true
		switch {
		case tr.ptrace.exited && options&wExited != 0:
			// A thread's own exit status, unless its process has
			// exited as a whole since: then that (Linux's
			// SIGNAL_GROUP_EXIT).
			st := tr.ptrace.exitStatus
			tr.tg.mu.Lock()
			if tr.tg.exiting {
				st = tr.tg.exitStatus
			}
			tr.tg.mu.Unlock()
			r = WaitResult{Pid: tr.tid, Status: st}
			if options&wNoWait == 0 {
				then = tr.forgetExitedLocked(t.tg)
			}
			return r, true, true, then
		case tr.ptrace.stop != nil && !tr.ptrace.stop.reported:
			if options&wNoWait == 0 {
				tr.ptrace.stop.reported = true
			}
			return WaitResult{Pid: tr.tid, Status: tr.ptrace.stop.status}, true, true, then
		}
	}
	return WaitResult{}, false, found, then
}

// TracerPID is the process tracing t, 0 if none (/proc's TracerPid).
func (t *Task) TracerPID() int32 {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if tr := t.ptrace.tracer; tr != nil && !t.ptrace.exited {
		return tr.tg.pid
	}
	return 0
}

// PtracePendingSiginfo returns the siginfo of the pending signal at
// position off of the tracee's own queue, or of its process's (shared),
// for PTRACE_PEEKSIGINFO; false past the end.
func (t *Task) PtracePendingSiginfo(tracee *Task, shared bool, off uint64) (arch.SignalInfo, bool) {
	tg := tracee.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	q := &tracee.pending
	if shared {
		q = &tg.pending
	}
	if off >= uint64(len(q.infos)) {
		return arch.SignalInfo{}, false
	}
	return q.infos[off], true
}
