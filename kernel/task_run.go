package kernel

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"uk/kernel/mm"
	"uk/platform"
)

// Start runs the task: on an idle worker of its address space if there is
// one (task_worker.go), else in a new goroutine.
func (t *Task) Start() {
	if w := t.k.workers.take(t.MM.AddressSpace()); w != nil {
		w.next <- t
		return
	}
	go t.run()
}

// run is a task goroutine: it binds an OS thread and a platform context,
// runs the task, then the further tasks handed to it while idle.
func (t *Task) run() {
	// A ptrace tracee is bound to the thread that traces it; the context
	// must always be used from this OS thread. A prepared context comes
	// with its goroutine (Attached.Run), locked already: locking once
	// more would leave it locked when Task.Block unlocks it once
	// (platform.Unbinder).
	ctx, err := t.preparedCtx, error(nil)
	t.preparedCtx = nil
	prepared := ctx != nil
	if !prepared {
		runtime.LockOSThread()
		ctx, err = t.k.Platform.NewContext()
	}
	if err != nil {
		fmt.Fprintf(t.k.CrashLog, "uk: cannot run task %d: %v\n", t.tid, err)
		t.exitGroup(int(unix.SIGKILL))
		t.exit()
		return
	}
	defer func() {
		ctx.Release()
		// Go ends a thread whose goroutine exits locked to it, and the
		// next task's goroutine then needs a new one (a clone, and a
		// thread exit, per process a shell spawns). A released context
		// that can let go of its thread (platform.Unbinder: it traces
		// nothing any more) gives it back to Go instead. A prepared
		// context's goroutine was locked by its caller, for good.
		if u, ok := ctx.(platform.Unbinder); ok && !prepared && u.Unbind() {
			runtime.UnlockOSThread()
		}
	}()
	w := &worker{ctx: ctx, next: make(chan *Task, 1)}
	pool := &t.k.workers
	for t != nil && t.runOn(w) {
		t = w.wait(pool)
	}
}

// runOn runs the task on w's context until it exits. It reports whether
// w may run another task; if so, w has been offered to Start as idle.
func (t *Task) runOn(w *worker) (reusable bool) {
	ctx := w.ctx
	t.mu.Lock()
	t.ctx = ctx
	t.mu.Unlock()
	t.tg.cpu.useAddressSpace(t.MM.AddressSpace())
	defer func() {
		t.mu.Lock()
		t.ctx = nil
		t.mu.Unlock()
	}()
	// A panic below is uk's bug: end uk, first of all (task_panic.go).
	defer t.recoverTask()
	platformOK := true
	for {
		// inApp tells wake whether the platform must interrupt the
		// thread. A signal queued after this store sees it; one queued
		// before it is seen by the check that follows.
		t.inApp.Store(true)
		if t.k.halted.Load() {
			break
		}
		if t.hasDeliverable() {
			t.inApp.Store(false)
			if t.isExiting() {
				break
			}
			t.handleSignals()
			continue
		}
		if t.debugBreakBefore() {
			t.inApp.Store(false)
			t.handleSignals()
			continue
		}
		t.debugStepBegin()
		start := monoNow()
		t.chargeSys(start)
		t.switchStart.Store(max(int64(start), 1))
		trap, err := ctx.Switch(t.MM.AddressSpace(), &t.State)
		t.inApp.Store(false)
		end := monoNow()
		t.leaveApp(end)
		if sc, ok := ctx.(platform.SwitchCPUer); ok {
			t.userNS.Add(sc.SwitchCPU())
		} else {
			t.userNS.Add(int64(end - start))
		}
		t.switchStart.Store(0)
		if err != nil {
			fmt.Fprintf(t.k.CrashLog, "uk: task %d: platform: %v\n", t.tid, err)
			t.exitGroup(int(unix.SIGKILL))
			platformOK = false
			break
		}
		if t.debugStepEnd(trap) {
			t.handleSignals()
			continue
		}
		if t.emulateVsyscall(trap) {
			t.handleSignals()
			continue
		}
		switch trap.Kind {
		case platform.TrapSyscall:
			if trap.Compat {
				t.refuseCompatSyscall()
				break
			}
			if t.k.patcher != nil && !trap.Patched {
				if rip, moved := t.MM.NoteSyscallSite(t.k.patcher, t.State.Regs.Rip, t.State.Regs.OrigRax); moved {
					t.State.Regs.Rip = rip
				}
			}
			t.doSyscall()
			if t.singleStepping {
				// The step was the syscall: it stops when the syscall
				// returns, as Linux's syscall exit reports a step.
				t.endSingleStep()
			}
		case platform.TrapFault:
			switch t.MM.HandleFault(trap.Addr, trap.Access, t.State.Regs.Rip, &t.lastFault) {
			case mm.FaultHandled:
				t.tg.minFlt.Add(1)
			case mm.FaultMapErr:
				t.forceSignal(int(unix.SIGSEGV), 1 /* SEGV_MAPERR */, trap.Addr)
			case mm.FaultAccErr:
				t.forceSignal(int(unix.SIGSEGV), 2 /* SEGV_ACCERR */, trap.Addr)
			case mm.FaultNoMem:
				// The OOM killer frees memory and the fault is
				// retried when the thread resumes; with nothing left
				// to kill, the access fails as a bus error.
				if !t.k.outOfMemory(t) {
					t.forceSignal(int(unix.SIGBUS), 2 /* BUS_ADRERR */, trap.Addr)
				}
			case mm.FaultBusErr:
				t.forceSignal(int(unix.SIGBUS), 2 /* BUS_ADRERR */, trap.Addr)
			case mm.FaultUserfault:
				// The handler fills the page, or a signal comes first
				// (delivered below; the access faults again after it).
				if t.waitUserfault(trap.Addr, trap.Access&platform.Write != 0) == errUserfaultSigbus {
					t.forceSignal(int(unix.SIGBUS), 2 /* BUS_ADRERR */, trap.Addr)
				}
			}
		case platform.TrapSignal:
			if t.singleStepped(trap) || t.patchedSiteFault(trap) {
				break
			}
			t.forceSignal(t.int80Fault(trap))
		case platform.TrapInterrupt:
		}
		t.handleSignals()
	}
	// Offer the worker before the exit duties: those wake a joiner
	// (clear_child_tid), whose next clone should find it idle. A task
	// handed over meanwhile waits in w.next until this one is done. The
	// last thread of a process keeps no worker: its address space dies
	// with it, so no task would match.
	if platformOK && !t.k.halted.Load() {
		if !t.lastThread() {
			w.as = t.MM.AddressSpace()
			reusable = t.k.workers.offer(w)
		} else if l, ok := ctx.(platform.Leaver); ok {
			// The process ends: its host state there (a stub thread)
			// goes back to its address space, which may then serve
			// the next program (platform/sigsys's recycle.go).
			l.Leave(t.MM.AddressSpace())
		}
	}
	t.exit()
	return reusable
}

// lastThread reports whether t is the only thread left in its process.
func (t *Task) lastThread() bool {
	t.tg.mu.Lock()
	defer t.tg.mu.Unlock()
	return len(t.tg.tasks) <= 1
}

func (t *Task) isExiting() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.exiting
}

// exitGroup ends every task of the process with the given wait status.
func (t *Task) exitGroup(status int) { t.tg.kill(status) }

// ExitGroup implements exit_group: the process exits with code.
func (t *Task) ExitGroup(code int) {
	t.exitsItself = true
	t.exitGroup((code & 0xff) << 8)
}

// Exit implements exit: only this thread ends; the process ends with its
// last thread.
func (t *Task) Exit(code int) {
	t.exitsItself = true
	t.tg.mu.Lock()
	if !t.tg.exiting && len(t.tg.tasks) == 1 {
		t.tg.exiting = true
		t.tg.exitStatus = (code & 0xff) << 8
	}
	t.tg.mu.Unlock()
	t.mu.Lock()
	t.exiting = true
	t.exitCode = (code & 0xff) << 8
	t.mu.Unlock()
}

// exit tears the task down once it has left its loop: the thread's exit
// duties (clear_child_tid, robust futexes), its share of the process's
// resources, and, for the last thread, the process's exit.
func (t *Task) exit() {
	t.leaving.Store(true)
	if t.exitsItself && t.traced.Load() {
		t.ptraceExitEvent()
	}
	t.exitThreadDuties()
	t.exitSem()
	t.exitKeys()
	tg := t.tg
	t.chargeSys(monoNow())
	cpu := t.cpuTime()
	tg.mu.Lock()
	for i, o := range tg.tasks {
		if o == t {
			tg.tasks = append(tg.tasks[:i], tg.tasks[i+1:]...)
			break
		}
	}
	last := len(tg.tasks) == 0
	if t.tid == tg.pid || last && tg.lastTask == nil {
		tg.lastTask = t
	}
	t.keepIOLocked()
	status := tg.exitStatus
	tg.deadCPU += cpu
	tg.deadSys += t.sysNS.Load()
	tg.mu.Unlock()
	var final, finalSys int64
	if last {
		// Read the stub's clock while it still serves the process.
		tg.cpu.finish()
		final, finalSys = tg.cpuTime(), tg.sysTime()
		tg.mu.Lock()
		tg.finalCPU, tg.finalSys = final, finalSys
		tg.mu.Unlock()
	}
	if last {
		t.writeAcct(status, final, finalSys) // as Linux's acct_process, before the files go
		tg.dropAIO()
		peak := t.MM.PeakPages()
		tg.mu.Lock()
		tg.maxRSS = max(tg.maxRSS, peak)
		tg.mu.Unlock()
	}
	t.k.releaseFiles(t.Files)
	t.setMountNamespace(nil)
	t.setIPCNamespace(nil)
	t.setNetNamespace(nil)
	if last {
		// uk itself can end now that the status is known; giving the
		// memory back (below) is work its own exit would redo.
		t.k.reportMainExit(tg, status)
	}
	t.MM.DecUsers()
	t.ptraceExit(last)
	t.k.removeTask(t, last, final)
	// Now that no lookup finds the thread, the waiters of PI locks it
	// held take them (a waiter checks its owner and queues under one
	// bucket lock, so none queues unseen after this).
	t.k.futexes.ThreadExited(uint32(t.tid))
	if last {
		t.k.exitThreadGroup(tg, status)
	}
}

// shellStatus turns a wait status into the exit code a shell reports.
func shellStatus(ws int) int {
	if sig := ws & 0x7f; sig != 0 {
		return 128 + sig
	}
	return (ws >> 8) & 0xff
}

// patchedSiteFault handles a SIGILL where a patched syscall site's
// syscall instruction began (kernel/mm's patch.go): the thread goes on in
// the site's entry, which makes the syscall.
func (t *Task) patchedSiteFault(trap platform.Trap) bool {
	if t.k.patcher == nil || trap.Signo != int32(unix.SIGILL) {
		return false
	}
	rip, ok := t.MM.PatchedSiteFault(t.State.Regs.Rip)
	if ok {
		t.State.Regs.Rip = rip
	}
	return ok
}
