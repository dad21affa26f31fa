package kernel

import (
	"io"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel/loader"
	"uk/kernel/mm"
	"uk/platform"
)

// Limits of execve's arguments, as Linux: one string at most 32 pages
// (MAX_ARG_STRLEN), all of them at most a quarter of the stack limit.
const (
	maxArgStrlen  = 32 * arch.PageSize
	maxInterpLine = 256 // BINPRM_BUF_SIZE
	maxInterpNest = 4
)

// Execve replaces the process's program, as execve(2). On success the task
// continues in the new program and the caller must not touch the old
// registers (the result is ErrNoReturnValue).
func (t *Task) Execve(path string, argv, envv []string) error {
	total := 0
	for _, s := range append(append([]string(nil), argv...), envv...) {
		if len(s)+1 > maxArgStrlen {
			return unix.E2BIG
		}
		total += len(s) + 1 + 8
	}
	if uint64(total) > t.tg.Rlimit(unix.RLIMIT_STACK).Cur/4 {
		return unix.E2BIG
	}

	// AT_EXECFN is the filename as passed to execve.
	execFn := path
	r, size, abs, argv, err := t.openFollowingScripts(path, argv)
	if err != nil {
		return err
	}
	// While the program runs its file is not open for writing, nor can
	// be (ETXTBSY both ways), until its memory goes.
	var exe vfs.Inode
	if ir, ok := r.(*inodeReader); ok {
		exe = ir.ino
		if err := vfs.DenyWriteAccess(exe); err != nil {
			return err
		}
	}
	allowed := exe == nil
	allow := func() {
		if !allowed {
			allowed = true
			vfs.AllowWriteAccess(exe)
		}
	}

	e, err := loader.ParseELF(r, size)
	if err != nil {
		allow()
		return unix.ENOEXEC
	}
	// Build the new memory before touching the old: until the switch
	// below, a failure leaves the caller as it was. The program is loaded
	// into an MM without an address space, as at start-up: loading edits
	// only uk's own records then (the loader's unmap of the room it
	// reserves for the interpreter would otherwise be a synchronous
	// platform edit of the new stub), and the address space, attached
	// after, gets everything the program first needs in one batch
	// (Prefault).
	m := mm.New(t.k.MemFile, nil, mm.NewLayout(t.k.Platform.MaxUserAddress()))
	m.Exe = abs
	m.Limits = t.tg.vmLimitsNow
	m.OnRelease = allow
	// The program runs in the time namespace of t's children; its
	// offsets are fixed from here (entered a little early if the exec
	// fails, which only stops them changing).
	timeNS := t.TimeNSForChildren()
	vdsoAddr, err := t.k.mapVDSO(m, timeNS.enter())
	if err != nil {
		m.DecUsers()
		return unix.ENOMEM
	}
	c := t.Credentials()
	res, err := loader.Load(m, r, e, loader.Args{
		Argv: argv, Envv: envv, ExecFn: execFn, SysinfoEhdr: vdsoAddr,
		UID: c.UID, EUID: c.EUID, GID: c.GID, EGID: c.EGID,
		OpenInterp: func(p string) (io.ReaderAt, int64, error) {
			ir, isize, _, err := t.OpenExecutable(p)
			return ir, isize, err
		},
	})
	if err != nil {
		m.DecUsers()
		return loader.Errno(err)
	}
	// A process that is the only user of its memory hands its address
	// space (emptied) to the new program, and its platform context its
	// stub thread there, rather than start a new stub (mm.TakeAddressSpace).
	// A vfork child shares its parent's and gets a new one.
	var as platform.AddressSpace
	shared := !t.MM.SoleUser()
	if shared {
		if as, err = t.k.Platform.NewAddressSpace(); err != nil {
			m.DecUsers()
			return unix.ENOMEM
		}
	}

	// Point of no return.
	oldTID := t.tid // PTRACE_EVENT_EXEC's message: the id it had
	t.becomeSoleThread()
	t.tg.execed.Store(true)
	t.tg.dropAIO() // the rings are in the memory being left
	t.execKeys()
	old := t.MM
	if as == nil {
		if as = old.TakeAddressSpace(); as == nil {
			// Emptying it failed (and killed it).
			if as, err = t.k.Platform.NewAddressSpace(); err != nil {
				m.DecUsers()
				t.exitGroup(int(unix.SIGKILL))
				return ErrNoReturnValue
			}
		}
	}
	m.Attach(as)
	m.PrefaultNew(res.Entry)
	t.tg.mu.Lock() // the OOM killer reads a process's MM under it
	t.MM = m
	t.tg.mu.Unlock()
	t.execTimeNS(timeNS)
	t.tg.cpu.useAddressSpace(as)
	if l, ok := t.ctx.(platform.Leaver); ok && shared {
		// A vfork child leaves its parent's address space for good:
		// the host state its context holds there (a stub thread) can
		// serve the parent's next child.
		l.Leave(old.AddressSpace())
	}
	t.tg.mu.Lock()
	t.tg.maxRSS = max(t.tg.maxRSS, old.PeakPages()) // ru_maxrss spans execve
	t.tg.mu.Unlock()
	old.DecUsers()
	if t.Files != nil {
		t.mqueueFlushCloexec()
		t.Files.CloseOnExec()
	}
	t.tg.stopTimers(false)
	t.tg.mu.Lock()
	// A table of its own (Linux's unshare_sighand, for one shared with
	// other processes), every handler but SIG_IGN back to default.
	h := t.tg.handlers().copy()
	for i := range h.actions {
		if h.actions[i].Handler != sigIGN {
			h.actions[i] = SigAction{}
		}
	}
	t.tg.releaseHandlers()
	t.tg.sighand.Store(h)
	t.tg.xperm.Store(0) // Linux's fpstate_reset: XSAVE permissions end at exec
	t.tg.xpermGuest.Store(0)
	t.tg.mu.Unlock()
	t.mu.Lock()
	t.creds = t.creds.AfterExec()
	t.altStack = arch.StackT{Flags: arch.SS_DISABLE}
	t.comm = comm(execFn)
	t.robustList.Store(0)
	t.mu.Unlock()
	t.State.Regs = arch.Registers{Rip: res.Entry, Rsp: res.SP, Cs: arch.UserCS, Ss: arch.UserDS, Eflags: 0x202}
	t.State.ResetFP(arch.NewFPState())
	t.State.XFeatures = 0
	t.k.mu.Lock()
	if done := t.tg.proc.vforkDone; done != nil {
		close(done)
		t.tg.proc.vforkDone = nil
	}
	t.clearDebugRegsLocked() // Linux's flush_thread: a tracer's breakpoints end at exec
	t.k.mu.Unlock()
	t.debugStep = debugStepState{}
	t.ptraceExec(oldTID)
	return ErrNoReturnValue
}

// becomeSoleThread ends every other thread of the process (execve's
// de_thread) and, if needed, takes over the leader's thread id.
func (t *Task) becomeSoleThread() {
	tg := t.tg
	tg.mu.Lock()
	others := make([]*Task, 0, len(tg.tasks))
	for _, o := range tg.tasks {
		if o != t {
			others = append(others, o)
		}
	}
	tg.mu.Unlock()
	for _, o := range others {
		o.mu.Lock()
		o.exiting = true
		o.mu.Unlock()
		o.wake()
	}
	for {
		tg.mu.Lock()
		n := len(tg.tasks)
		tg.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(200 * time.Microsecond)
	}
	if t.tid != tg.pid {
		t.k.mu.Lock()
		delete(t.k.tasks, t.tid)
		t.tid = tg.pid
		t.k.tasks[t.tid] = t
		t.k.mu.Unlock()
	}
}
