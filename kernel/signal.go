package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
)

// sigQueue holds pending signals: at most one instance of each standard
// signal, any number of real-time ones, in arrival order.
type sigQueue struct {
	set   arch.SigSet
	infos []arch.SignalInfo
}

// maxQueuedRT bounds queued real-time signals (RLIMIT_SIGPENDING's role).
const maxQueuedRT = 4096

func (q *sigQueue) enqueue(info *arch.SignalInfo) bool {
	sig := int(info.Signo)
	if sig < arch.SIGRTMIN && q.set.Has(sig) {
		return false // standard signals do not queue
	}
	if len(q.infos) >= maxQueuedRT {
		return false
	}
	q.set.Add(sig)
	q.infos = append(q.infos, *info)
	return true
}

// dequeue removes the signal to deliver next among those not in mask:
// synchronous fault signals first, then the lowest number, as Linux.
func (q *sigQueue) dequeue(mask arch.SigSet) (arch.SignalInfo, bool) {
	ready := q.set &^ mask
	if ready == 0 {
		return arch.SignalInfo{}, false
	}
	const syncSignals = 1<<(unix.SIGSEGV-1) | 1<<(unix.SIGBUS-1) | 1<<(unix.SIGILL-1) |
		1<<(unix.SIGTRAP-1) | 1<<(unix.SIGFPE-1) | 1<<(unix.SIGSYS-1)
	pick := ready & syncSignals
	if pick == 0 {
		pick = ready
	}
	sig := pick.Next()
	for i := range q.infos {
		if int(q.infos[i].Signo) != sig {
			continue
		}
		info := q.infos[i]
		q.infos = append(q.infos[:i], q.infos[i+1:]...)
		still := false
		for j := range q.infos {
			if int(q.infos[j].Signo) == sig {
				still = true
				break
			}
		}
		if !still {
			q.set.Remove(sig)
		}
		return info, true
	}
	q.set.Remove(sig)
	return arch.SignalInfo{Signo: int32(sig)}, true
}

// remove drops every pending instance of the signals in set.
func (q *sigQueue) remove(set arch.SigSet) {
	q.set &^= set
	kept := q.infos[:0]
	for _, in := range q.infos {
		if !set.Has(int(in.Signo)) {
			kept = append(kept, in)
		}
	}
	q.infos = kept
}

const (
	sigDFL = 0
	sigIGN = 1
)

// stopSignals and their counterpart SIGCONT cancel each other when sent.
var stopSignals = arch.SigSetOf(int(unix.SIGSTOP), int(unix.SIGTSTP), int(unix.SIGTTIN), int(unix.SIGTTOU))

// ignoredLocked reports whether sig would be discarded on delivery.
// Preconditions: tg.mu held.
func (tg *ThreadGroup) ignoredLocked(sig int) bool {
	h := tg.handlers().get(sig).Handler
	if h == sigIGN {
		return true
	}
	return h == sigDFL && arch.DefaultAction(sig) == arch.ActionIgnore
}

// SendSignal queues info for the process (target nil) or for one thread
// of it, and wakes a thread that can take it.
func (tg *ThreadGroup) SendSignal(info *arch.SignalInfo, target *Task) {
	tg.queueSignal(info, target)()
}

// queueSignal is SendSignal's first half: it makes the signal pending and
// returns the second, which wakes the thread that is to take it (and, for
// SIGKILL and SIGCONT, ends or continues the process). The first half
// takes only tg's own locks, so a caller may hold k.mu across it: a child's
// exit and stop are queued to the parent under the same k.mu section that
// makes them visible to wait, so a wait that reports the child returns
// with its SIGCHLD already pending, as Linux's do_notify_parent under
// tasklist_lock (otherwise the late signal would interrupt the parent's
// next wait with EINTR). The returned function must be called without
// k.mu.
func (tg *ThreadGroup) queueSignal(info *arch.SignalInfo, target *Task) (wake func()) {
	nothing := func() {}
	sig := int(info.Signo)
	if !arch.ValidSignal(sig) {
		// Callers validate what the application asks for; this keeps a
		// slip (an exit or death signal taken unchecked from a syscall
		// argument) from indexing past the sigactions.
		return nothing
	}
	tg.mu.Lock()
	if tg.exiting {
		tg.mu.Unlock()
		return nothing
	}
	continued := false
	switch {
	case sig == int(unix.SIGKILL):
		tg.mu.Unlock()
		return func() { tg.kill(int(unix.SIGKILL)) }
	case sig == int(unix.SIGCONT):
		tg.pending.remove(stopSignals)
		for _, t := range tg.tasks {
			t.pending.remove(stopSignals)
		}
		continued = tg.continueLocked()
	case stopSignals.Has(sig):
		tg.pending.remove(arch.SigSetOf(int(unix.SIGCONT)))
	}
	report := nothing
	if continued {
		report = tg.reportContinued
	}
	if tg.ignoredLocked(sig) && !tg.anyTracedLocked() && !tg.blockedLocked(sig, target) {
		tg.mu.Unlock()
		return report
	}
	if target != nil {
		target.pending.enqueue(info)
	} else {
		tg.pending.enqueue(info)
		// Prefer a thread that does not block the signal, or waits for
		// it in sigtimedwait.
		for _, t := range tg.tasks {
			if !t.SigMask().Has(sig) || arch.SigSet(t.sigWaiting.Load()).Has(sig) {
				target = t
				break
			}
		}
	}
	tg.mu.Unlock()
	return func() {
		tg.sigNotify.Notify(vfs.EventIn)
		if target != nil {
			target.wake()
		}
		report()
	}
}

// blockedLocked reports whether sig is blocked by target, or for a
// process-directed signal (target nil) by any thread. An ignored signal
// is dropped at once unless it is blocked, as Linux's sig_ignored: a
// blocked one stays pending for sigwait and signalfd (the usual signalfd
// pattern blocks it in every thread). Preconditions: tg.mu held.
func (tg *ThreadGroup) blockedLocked(sig int, target *Task) bool {
	if target != nil {
		return target.SigMask().Has(sig)
	}
	for _, t := range tg.tasks {
		if t.SigMask().Has(sig) {
			return true
		}
	}
	return false
}

// kill ends the whole process as if by an uncatchable signal.
func (tg *ThreadGroup) kill(sig int) { tg.killStatus(sig, sig) }

// killStatus is kill with the wait status the process leaves: sig, with
// WCOREDUMP (0x80) when a core was written (killWithCore).
func (tg *ThreadGroup) killStatus(sig, status int) {
	tg.mu.Lock()
	if !tg.exiting {
		tg.exiting = true
		tg.exitStatus = status
	}
	tasks := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	for _, t := range tasks {
		t.mu.Lock()
		t.exiting = true
		t.mu.Unlock()
		if sig == int(unix.SIGKILL) {
			t.sigkilled.Store(true) // ends even a PTRACE_EVENT_EXIT stop
		}
		t.wake()
	}
}

// wake interrupts whatever the task is doing so it looks at its signals:
// a blocking syscall returns, application code traps.
func (t *Task) wake() {
	select {
	case t.interrupt <- struct{}{}:
	default:
	}
	// In the kernel it looks at its signals before it returns to the
	// application: only application code needs the platform's interrupt.
	t.interruptApp()
}

// wakeIfPending wakes the task if it has a deliverable signal.
func (t *Task) wakeIfPending() {
	if t.hasDeliverable() {
		t.wake()
	}
}

// hasDeliverable reports whether a signal is pending that the mask lets
// through, or the task must exit.
func (t *Task) hasDeliverable() bool {
	a := t.attention()
	return a.deliverable || a.exiting || a.ptrace
}

// nothingToHandle reports whether handleSignals would find nothing to do:
// no deliverable signal, no stop, no exit, no mask to restore. It runs
// after every trap: one look under each lock, where handleSignals's full
// path takes them eight times.
func (t *Task) nothingToHandle() bool {
	return t.attention() == taskAttention{}
}

// taskAttention is what may keep a task from going straight back to its
// program, read with one look under each lock (attention).
type taskAttention struct {
	deliverable bool // a pending signal the mask lets through
	exiting     bool // the task leaves its loop
	ptrace      bool // its tracer asked it to stop (ptraceWant)
	stopped     bool // its process is stopped
	savedMask   bool // rt_sigsuspend's mask waits to be restored
}

func (t *Task) attention() taskAttention {
	var a taskAttention
	t.mu.Lock()
	mask := t.sigMask
	a.exiting, a.savedMask = t.exiting, t.savedMask != nil
	t.mu.Unlock()
	a.ptrace = t.ptraceWant.Load()
	t.tg.mu.Lock()
	a.deliverable = (t.pending.set|t.tg.pending.set)&^mask != 0
	a.stopped = t.tg.stopSig != 0
	t.tg.mu.Unlock()
	return a
}

// Interrupted reports whether a long copy the task makes (sendfile of
// gigabytes, say) should stop early with what it has done: a signal the
// task can take is pending, or it must exit. Linux's /dev/zero, urandom
// and splice loops check signal_pending between pages the same way.
func (t *Task) Interrupted() bool { return t.hasDeliverable() }

// Dying reports whether the task must exit (SIGKILL, a group exit). A
// long loop that Linux does not cut short for a signal (mincore over
// terabytes) still ends for this: what it returns goes nowhere.
func (t *Task) Dying() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.exiting
}

// PendingSignals returns the set of pending signals (rt_sigpending).
func (t *Task) PendingSignals() arch.SigSet {
	t.tg.mu.Lock()
	defer t.tg.mu.Unlock()
	return t.pending.set | t.tg.pending.set
}

// dequeueSignal takes the next deliverable signal.
func (t *Task) dequeueSignal(mask arch.SigSet) (arch.SignalInfo, bool) {
	t.tg.mu.Lock()
	defer t.tg.mu.Unlock()
	info, ok := t.pending.dequeue(mask)
	if !ok {
		info, ok = t.tg.pending.dequeue(mask)
	}
	if ok {
		t.tg.timerTakenLocked(&info)
	}
	return info, ok
}

// DequeueSignalIn takes a pending signal that is in set (rt_sigtimedwait).
func (t *Task) DequeueSignalIn(set arch.SigSet) (arch.SignalInfo, bool) {
	return t.dequeueSignal(^set)
}

// handleSignals runs after every trap: it delivers at most one signal with
// a handler (building its frame), performs default actions, and applies
// Linux's syscall-restart rules.
func (t *Task) handleSignals() {
	if t.nothingToHandle() {
		arch.RestartSyscall(&t.State.Regs, false, 0)
		return
	}
	t.waitWhileStopped()
	if t.ptraceWant.Swap(false) {
		t.ptraceInterruptStop()
	}
	for {
		if t.isExiting() {
			return
		}
		t.mu.Lock()
		mask := t.sigMask
		t.mu.Unlock()
		info, ok := t.dequeueSignal(mask)
		if !ok {
			arch.RestartSyscall(&t.State.Regs, false, 0)
			t.restoreSavedMask()
			return
		}
		if t.traced.Load() && info.Signo != int32(unix.SIGKILL) && !t.ptraceSignal(&info) {
			continue
		}
		sig := int(info.Signo)
		act := t.tg.SigAction(sig)
		switch act.Handler {
		case sigIGN:
			continue
		case sigDFL:
			switch arch.DefaultAction(sig) {
			case arch.ActionIgnore, arch.ActionContinue:
				continue
			case arch.ActionStop:
				// A traced thread's group stop is reported to its
				// tracer (waitWhileStopped).
				if t.tg.pid != 1 {
					t.groupStop(sig)
				}
				continue
			}
			if t.tg.pid == 1 && info.Code <= 0 {
				continue // init has no default actions for sent signals
			}
			// A core-dumping signal writes the core file, if it may,
			// and only then sets WCOREDUMP (coredump.go).
			t.exitsItself = true
			t.killWithCore(sig, &info)
			return
		}
		if t.deliverToHandler(&info, act, mask) {
			return
		}
	}
}

// restoreSavedMask puts back the mask rt_sigsuspend replaced, once no
// handler ran.
func (t *Task) restoreSavedMask() {
	t.mu.Lock()
	if t.savedMask != nil {
		t.sigMask = *t.savedMask
		t.savedMask = nil
	}
	t.mu.Unlock()
}

// deliverToHandler builds the signal frame and points the thread at the
// handler. It returns false if the frame could not be written (the process
// was then killed by SIGSEGV).
func (t *Task) deliverToHandler(info *arch.SignalInfo, act SigAction, mask arch.SigSet) bool {
	arch.RestartSyscall(&t.State.Regs, true, act.Flags)
	t.mu.Lock()
	restore := mask
	if t.savedMask != nil {
		restore = *t.savedMask
		t.savedMask = nil
	}
	alt := t.altStack
	t.mu.Unlock()
	d := arch.SignalDelivery{Info: *info, Action: act, AltStack: alt, Mask: restore, XPerm: t.tg.xperm.Load()}
	if info.Signo == int32(unix.SIGSEGV) || info.Signo == int32(unix.SIGBUS) {
		d.Trapno, d.CR2 = 14, info.Addr
	}
	f, err := arch.BuildSignalFrame(&t.State, &d)
	if err == nil {
		err = t.CopyOut(f.Addr, f.Bytes)
	}
	if err != nil {
		// Linux's force_sigsegv: a SIGSEGV from the kernel (SI_KERNEL,
		// address 0), not one sent by kill.
		t.crash(int(unix.SIGSEGV), arch.SI_KERNEL, 0, fmt.Sprintf("cannot write the frame for %s at rsp %#x", arch.SignalName(int(info.Signo)), t.State.Regs.Rsp))
		return false
	}
	if f.DisarmAltStack {
		t.mu.Lock()
		t.altStack = arch.StackT{Flags: arch.SS_DISABLE}
		t.mu.Unlock()
	}
	f.EnterHandler(&t.State, int(info.Signo), act.Handler)
	t.State.FPDirty = true
	newMask := mask | act.Mask
	if act.Flags&arch.SA_NODEFER == 0 {
		newMask.Add(int(info.Signo))
	}
	t.mu.Lock()
	t.sigMask = newMask.Blockable()
	t.mu.Unlock()
	if act.Flags&arch.SA_RESETHAND != 0 {
		// Linux's get_signal resets only the handler (sa_handler =
		// SIG_DFL): the flags, SA_SIGINFO included, the mask and the
		// restorer stay what sigaction reads back.
		reset := act
		reset.Handler = sigDFL
		t.tg.SetSigAction(int(info.Signo), reset)
	}
	return true
}

// Sigreturn implements rt_sigreturn: it restores the state the signal
// frame at the stack pointer saved.
func (t *Task) Sigreturn() error {
	frameAddr := arch.SigreturnFrameAddr(t.State.Regs.Rsp)
	buf := make([]byte, arch.SigreturnReadSize(len(t.State.FP)))
	if err := t.CopyIn(frameAddr, buf); err != nil {
		// The read above takes alignment slack past the FP image; a frame
		// at the very top of a mapping (Go's signal stacks) has unmapped
		// memory there. Read just the frame: RestoreSignalFrame fetches
		// the FP image from where the frame says it is.
		buf = buf[:arch.RtSigframeSize]
		if err := t.CopyIn(frameAddr, buf); err != nil {
			t.crash(int(unix.SIGSEGV), 0, frameAddr, "rt_sigreturn with a bad frame")
			return ErrNoReturnValue
		}
	}
	mask, stack, err := arch.RestoreSignalFrame(&t.State, frameAddr, buf, t.CopyIn)
	if err != nil {
		t.crash(int(unix.SIGSEGV), 0, frameAddr, "rt_sigreturn: "+err.Error())
		return ErrNoReturnValue
	}
	t.State.FPDirty = true
	t.State.Regs.OrigRax = ^uint64(0) // not a syscall: no restart
	t.SetSigMask(mask)
	if stack.Flags&arch.SS_DISABLE == 0 || stack.Size != 0 {
		t.mu.Lock()
		if !t.altStack.OnStack(t.State.Regs.Rsp) {
			t.altStack = arch.StackT{Sp: stack.Sp, Flags: stack.Flags &^ arch.SS_ONSTACK, Size: stack.Size}
		}
		t.mu.Unlock()
	}
	return ErrNoReturnValue
}

// forceSignal delivers a synchronous signal caused by the thread's own
// instruction (a fault). If the program handles it, the handler runs;
// if the signal is blocked or ignored it cannot be, so the process dies
// with a crash report, as Linux's force_sig does.
func (t *Task) forceSignal(sig, code int, addr uint64) {
	t.forceSignalInfo(&arch.SignalInfo{Signo: int32(sig), Code: int32(code), Addr: addr})
}

// forceSignalInfo is forceSignal with the whole siginfo (a seccomp
// filter's SIGSYS carries the call and its arch).
func (t *Task) forceSignalInfo(info *arch.SignalInfo) {
	if t.traced.Load() {
		t.forceTraced(info)
		return
	}
	sig := int(info.Signo)
	act := t.tg.SigAction(sig)
	if act.Handler > sigIGN && !t.SigMask().Has(sig) {
		t.State.Regs.OrigRax = ^uint64(0)
		t.deliverToHandler(info, act, t.SigMask())
		return
	}
	t.crash(sig, int(info.Code), info.Addr, "")
}

// crash kills the process with sig and prints the report.
func (t *Task) crash(sig, code int, addr uint64, why string) {
	t.k.CrashLog.Write(t.crashReportBytes(sig, code, addr, why))
	t.killWithCore(sig, &arch.SignalInfo{Signo: int32(sig), Code: int32(code), Addr: addr})
}

// SigSuspend implements rt_sigsuspend: wait with mask until a signal is
// delivered; the old mask comes back after the handler.
func (t *Task) SigSuspend(mask arch.SigSet) error {
	t.mu.Lock()
	old := t.sigMask
	t.savedMask = &old
	t.sigMask = mask.Blockable()
	t.mu.Unlock()
	t.sleepBegin() // asleep: /proc shows 'S'
	defer t.sleepEnd()
	for !t.hasDeliverable() {
		<-t.interrupt
	}
	return arch.ERESTARTNOHAND
}

// SetSavedSigMask arranges for mask to be restored after the next signal
// handler returns (or at once if no handler runs): pselect, ppoll and
// epoll_pwait wait with a temporary mask that must stay in force while
// the handler that interrupted them runs.
func (t *Task) SetSavedSigMask(mask arch.SigSet) {
	t.mu.Lock()
	t.savedMask = &mask
	t.mu.Unlock()
}
