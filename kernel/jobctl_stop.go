package kernel

import (
	"golang.org/x/sys/unix"

	"uk/arch"
)

// Job control: a stop signal whose action is the default stops every
// thread of the process until SIGCONT; the parent hears of both through
// SIGCHLD (CLD_STOPPED, CLD_CONTINUED) and wait(WUNTRACED/WCONTINUED).

// groupStop stops the process with sig; it returns once the process is
// continued or killed.
func (t *Task) groupStop(sig int) {
	tg := t.tg
	tg.mu.Lock()
	if tg.exiting {
		tg.mu.Unlock()
		return
	}
	first := tg.stopSig == 0
	if first {
		tg.stopSig = sig
		tg.contCh = make(chan struct{})
	}
	others := append([]*Task(nil), tg.tasks...)
	tg.mu.Unlock()
	if first {
		for _, o := range others {
			if o != t {
				o.wake()
			}
		}
		tg.k.mu.Lock()
		tg.proc.stopReported, tg.proc.contReported = false, false
		parent := tg.proc.parent
		if tr := t.ptrace.tracer; tr != nil && tr.tg == parent {
			// A parent that traces the thread hears of the stop as its
			// tracer only (waitWhileStopped), once, as Linux's.
			tg.proc.stopReported = true
			parent = nil
		}
		wake := tg.notifyParentOfJobLocked(parent, arch.CLD_STOPPED, sig)
		tg.k.mu.Unlock()
		wake()
	}
	t.waitWhileStopped()
}

// waitWhileStopped blocks the thread while its process is stopped. A
// traced thread stops for its tracer instead (its tracer may have
// attached to the stopped process), and once the tracer resumes it, runs
// though the process stays stopped, as Linux's: until the next stop, or
// until the tracer lets go of it.
func (t *Task) waitWhileStopped() {
	for {
		t.tg.mu.Lock()
		ch := t.tg.contCh
		sig := t.tg.stopSig
		t.tg.mu.Unlock()
		if sig == 0 || t.isExiting() || ch == t.leftStop {
			return
		}
		if t.traced.Load() {
			t.ptraceGroupStop(sig)
			if t.traced.Load() {
				t.leftStop = ch
				return
			}
			continue // detached: stopped with its process again
		}
		select {
		case <-ch:
		case <-t.interrupt:
		}
	}
}

// continueLocked resumes a stopped process (SIGCONT was sent).
// Preconditions: tg.mu held.
func (tg *ThreadGroup) continueLocked() bool {
	if tg.stopSig == 0 {
		return false
	}
	tg.stopSig = 0
	close(tg.contCh)
	tg.contCh = nil
	return true
}

// reportContinued tells the parent the process was continued.
func (tg *ThreadGroup) reportContinued() {
	tg.k.mu.Lock()
	tg.proc.contReported = true
	tg.proc.stopReported = false
	wake := tg.notifyParentOfJobLocked(tg.proc.parent, arch.CLD_CONTINUED, int(unix.SIGCONT))
	tg.k.mu.Unlock()
	wake()
}

// notifyParentOfJobLocked wakes the waiters of parent (nil: none) for tg's
// stop or continue and queues its SIGCHLD (code CLD_STOPPED or
// CLD_CONTINUED), unless the parent asked for none (SA_NOCLDSTOP). It
// returns what wakes the parent's thread, to call without k.mu. Both
// happen under k.mu, so a wait that sees the change returns with the
// signal pending (queueSignal). Preconditions: k.mu held.
func (tg *ThreadGroup) notifyParentOfJobLocked(parent *ThreadGroup, code int32, sig int) (wake func()) {
	if parent == nil {
		return func() {}
	}
	parent.notifyChildEventLocked()
	if parent.isKernelInit || parent.SigAction(int(unix.SIGCHLD)).Flags&arch.SA_NOCLDSTOP != 0 {
		return func() {}
	}
	return parent.queueSignal(&arch.SignalInfo{Signo: int32(unix.SIGCHLD), Code: code, Pid: tg.pid, Status: int32(sig)}, nil)
}

// stopStatusLocked returns the wait status to report for a stopped or
// continued child, if any (WUNTRACED, WCONTINUED). Preconditions: k.mu
// held.
func (tg *ThreadGroup) jobStatusLocked(options int) (int, bool) {
	tg.mu.Lock()
	sig := tg.stopSig
	tg.mu.Unlock()
	switch {
	case options&wUntraced != 0 && sig != 0 && !tg.proc.stopReported:
		if options&wNoWait == 0 {
			tg.proc.stopReported = true
		}
		return sig<<8 | 0x7f, true
	case options&wContinued != 0 && tg.proc.contReported:
		if options&wNoWait == 0 {
			tg.proc.contReported = false
		}
		return 0xffff, true
	}
	return 0, false
}
