package sigsys

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
	"uk/platform/internal/stubproc"
)

// DefaultSpin is how long uk spins on a stub thread's state word before
// it sleeps on it: long enough to cover a syscall round trip of a thread
// running on another CPU, short enough not to burn a shared CPU.
const DefaultSpin = 5 * time.Microsecond

// interruptSignal is what Context.Interrupt sends to a running stub
// thread. Its handler is the trap handler; SIGUSR2 is never raised by the
// CPU and no stub sends signals.
const interruptSignal = unix.SIGUSR2

// handledSignals are the signals the handler is installed for.
var handledSignals = []unix.Signal{unix.SIGSYS, unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL,
	unix.SIGTRAP, interruptSignal}

// handlerSigaction is the kernel struct sigaction of the handler: on the
// alternate stack, with stubproc.Siginfo, every signal blocked while it runs (an
// interrupt that comes meanwhile is delivered right after rt_sigreturn,
// before any application instruction, and comes back to uk as an
// interrupt). The host requires a restorer on x86-64; the handler never
// returns with ret, but should it, the restorer is its own rt_sigreturn.
func handlerSigaction() []byte {
	const saSiginfo, saOnstack, saRestorer = 0x4, 0x08000000, 0x04000000
	var sa [32]byte
	putUint64(sa[0:], siteHandler)
	putUint64(sa[8:], saSiginfo|saOnstack|saRestorer)
	putUint64(sa[16:], siteSigreturnRet-7) // mov eax, 15; syscall
	putUint64(sa[24:], ^uint64(0))
	return sa[:]
}

// installHandler returns the master's setup steps that install the
// handler for every signal that brings a thread back to uk. The stubs
// forked from the master inherit the dispositions.
func installHandler(d *stubproc.PageData) []stubproc.Step {
	handler := d.Put(handlerSigaction())
	var steps []stubproc.Step
	for _, sig := range handledSignals {
		steps = append(steps, stubproc.Must("install the handler", unix.SYS_RT_SIGACTION, uint64(sig), handler, 0, 8))
	}
	return steps
}

func putUint64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

// usable checks what the platform needs of the host: FSGSBASE enabled
// for user space (the handler switches FS and GS bases with
// WRFSBASE/WRGSBASE), and signal frames that fit a slot.
func usable() error {
	if hwcap2()&hwcap2FSGSBASE == 0 {
		return fmt.Errorf("the host does not enable FSGSBASE for user space (Linux 5.9+ on a CPU with it)")
	}
	if slotSize > maxSlotSize {
		return fmt.Errorf("signal frames of %d bytes do not fit a %d-byte slot", arch.HostXSave().MinSigStackSize(), maxSlotSize)
	}
	return nil
}

// thread is a stub thread running one context's application thread in
// one address space.
type thread struct {
	as    *AddressSpace
	ctx   *Context       // the context it runs for
	tid   int            // host tid
	mem   []byte         // uk's view of its slot
	addr  uint64         // the slot's address in the stub
	ts    threadSlot     // the slot, for reuse when the thread ends
	word  *atomic.Uint32 // the slot's state word
	fresh bool           // its first trap (at siteThreadEntry) is still to be consumed
	// dropped is set once its context let go of it: its slot may then
	// belong to another thread (AddressSpace.drop).
	dropped bool
	// fast is set while the thread waits in the trampoline of a patched
	// syscall site (fastcall.go) rather than in the handler: it has no
	// signal frame, and its FP state is in its registers.
	fast bool
	// resumes counts the times uk let the thread run: a frame (and the FP
	// state it holds) is the thread's only until the next resume.
	resumes uint64
	// Where the last saved trap left its FP state (fetchFP), and when.
	fpOff, fpSize int
	fpResumes     uint64
	loadFP        func([]byte)
	f             frame // the last trap, checked
	// misses counts waits in a row that an unpinned spin did not cover;
	// after a few, uk skips spinning for the next noSpin waits (the stub
	// thread is not getting a CPU soon enough: the machine is busy).
	misses, noSpin int
	// free is set while the thread is let go of its pin because it ran
	// longRun without a trap (handoff.go, ranLong), until the next
	// resume places it again (rehome).
	free bool
}

// Context runs one application thread. Its stub threads are not traced, so
// any goroutine may call Switch, one at a time. What ties it to an OS
// thread is that thread's CPU pin; the
// kernel's task goroutine holds runtime.LockOSThread, and lets go of it
// while its task waits when Unbind allows.
type Context struct {
	p *Platform

	// Used only by the goroutine in Switch.
	threads map[*AddressSpace]*thread
	bound   bool
	tid     int // the OS thread that bound it or used it last (the task goroutine is locked to it while it uses the context)
	// unbound is set by Unbind: the next Switch may come from another
	// OS thread.
	unbound bool
	pl      placement
	// held is the stub thread whose handler uk granted rounds of spinning
	// at its trap (atTrap), until the next resume or Unbind.
	held *thread
	// fpAt is the stub thread whose slot holds fpOf's FP state, as saved
	// at its last trap (Switch skips copying it back if unchanged).
	fpAt *thread
	fpOf *arch.State

	// running is pid<<32 | tid of the stub thread while Switch may be
	// running application code, else 0. Read by Interrupt.
	running atomic.Uint64
	// interrupted is set by Interrupt and consumed by Switch.
	interrupted atomic.Bool
	// interruptedAt is when (UnixNano) an Interrupt not yet answered by a
	// trap was first sent, or 0.
	interruptedAt atomic.Int64
}

// interruptDeadline is how long a stub thread may leave an Interrupt
// unanswered before uk kills its stub. A thread always answers within
// microseconds unless the program used rt_sigreturn at the handler's site
// to block the interrupt signal or move its signal stack away: it then
// cannot be stopped any other way, and must not keep its process (or
// uk's exit) waiting forever.
const interruptDeadline = 2 * time.Second

var (
	_ platform.Context  = (*Context)(nil)
	_ platform.Preparer = (*Context)(nil)
	_ platform.Unbinder = (*Context)(nil)
)

// Unbind implements platform.Unbinder: the context's OS thread may go
// back to Go's pool (no stub thread is traced by it). The thread is
// unpinned first: it may now run any goroutine. The next Switch pins the
// thread it comes back on (rebind).
//
// It lets go at every wait. A context whose waits alternate with mapping
// batches (a shell that forks between its waits) used to keep its thread
// instead, which the suite's fork_exit measured faster when it was
// introduced (626-647 against 771-807 us a fork); with the stubs renewed,
// held handlers and the hand-offs as they are now it measured the other
// way (BENCHMARKS §34: fork_exit 980 against 710 us, exec_true 2,199
// against 2,014): a locked goroutine's every wake-up is a second host
// wake-up, its thread's.
func (c *Context) Unbind() bool {
	c.pl.waited()
	// The task waits: the handler should sleep, not spin the rounds
	// atTrap granted it, and the CPU it spins on is free for other pairs.
	c.unhold()
	// A thread that cannot be unpinned stays the context's: left pinned
	// in Go's pool, it would keep whatever goroutine runs there next on
	// one CPU.
	pinned := c.pl.home >= 0
	if !c.bound || pinned && !hostAffinityOK {
		return false
	}
	if pinned && unix.SchedSetaffinity(0, &hostAffinity) != nil {
		return false
	}
	c.unbound = true
	return true
}

// hostAffinity is the set of CPUs uk was started on, read (at package
// initialisation) before any of its threads was pinned.
var (
	hostAffinity   unix.CPUSet
	hostAffinityOK = unix.SchedGetaffinity(0, &hostAffinity) == nil
)

// rebind makes the calling OS thread the context's after an Unbind. The
// context's home becomes the CPU the thread is on (pinning the thread to
// the old one would migrate it: measured, that costs more than it saves),
// and its stub threads follow it there.
func (c *Context) rebind() {
	c.unbound = false
	c.tid = unix.Gettid()
	if c.pl.home < 0 {
		return
	}
	cpu := stubproc.CurrentCPU()
	if cpu < 0 {
		cpu = c.pl.home
	}
	stubproc.PinThread(0, cpu)
	if cpu != c.pl.home {
		c.pl.home = cpu
		for _, t := range c.threads {
			c.place(t)
		}
	}
}

// thread returns this context's stub thread in as, creating it on first use.
func (c *Context) thread(as *AddressSpace) (*thread, error) {
	if t, ok := c.threads[as]; ok {
		return t, nil
	}
	if !c.bound {
		c.bound, c.tid = true, unix.Gettid()
		if err := c.homeCPU(); err != nil {
			return nil, fmt.Errorf("sigsys: pin: %w", err)
		}
	}
	// A new address space usually means an old one was released (execve):
	// forget stub threads that died with theirs.
	for old := range c.threads {
		if old.Released() {
			c.forget(old)
		}
	}
	t, err := as.newThread()
	if err != nil {
		return nil, err
	}
	t.ctx = c
	t.free = false
	c.place(t)
	c.threads[as] = t
	as.hold()
	return t, nil
}

// forget lets go of the context's thread in as (AddressSpace.drop).
func (c *Context) forget(as *AddressSpace) {
	if t, ok := c.threads[as]; ok {
		if c.held == t {
			// Its slot may go to another thread once dropped.
			setHold(t.mem, 0)
			c.held = nil
		}
		delete(c.threads, as)
		as.drop(t)
	}
}

// Prepare implements platform.Preparer: it creates the context's stub
// thread in as.
func (c *Context) Prepare(pas platform.AddressSpace) error {
	as, ok := pas.(*AddressSpace)
	if !ok {
		return fmt.Errorf("sigsys: Prepare for a %T", pas)
	}
	_, err := c.thread(as)
	return err
}

// Switch runs the thread described by st in address space as until it
// traps, and stores its state back into st. At a TrapSyscall, st.Regs.Rax
// holds the syscall number again (as OrigRax does), as on a host where the
// kernel has not yet written a result.
func (c *Context) Switch(pas platform.AddressSpace, st *arch.State) (platform.Trap, error) {
	as, ok := pas.(*AddressSpace)
	if !ok {
		return platform.Trap{}, fmt.Errorf("sigsys: Switch into a %T", pas)
	}
	if c.unbound {
		c.rebind()
	}
	t, err := c.thread(as)
	if err != nil {
		return platform.Trap{}, err
	}

	// Install queued mappings before the application can need them.
	if err := as.Flush(0); err != nil {
		return platform.Trap{}, err
	}

	if t.fresh {
		// The thread's entry trap: it now waits in the handler with a
		// frame uk can fill.
		if err := c.wait(t); err != nil {
			return platform.Trap{}, err
		}
		if err := readFrame(t.mem, t.addr, &t.f); err != nil {
			return platform.Trap{}, err
		}
		t.fresh = false
	}

	if len(st.FP) != arch.FPStateSize() {
		st.FP = arch.NewFPState()
	}
	// An FP state still left in a frame (arch.State.FPLoad) is fetched
	// before that frame can change: the last trap's, when this switch is
	// for another thread or state (the context moved to another address
	// space), and st's own, wherever it is.
	if c.fpAt != t || c.fpOf != st {
		if c.fpOf != nil {
			c.fpOf.SyncFP()
		}
		st.SyncFP()
	}
	// The frame already holds st's FP state when the last trap saved it
	// from this very thread and the kernel has not changed it since:
	// leave those bytes alone (on a split pair they would cross CPUs
	// twice for nothing).
	// A thread waiting in the trampoline that cannot go back through the
	// fast frame traps into the handler first. Before the running thread
	// is published: an Interrupt meanwhile only sets the flag (its signal
	// would be taken for the reentry's trap and lost).
	fast := t.fast && c.fastResumable(t, st)
	if t.fast && !fast {
		if err := c.reenter(t); err != nil {
			return platform.Trap{}, err
		}
	}

	// Publish the running thread before looking at the flag, so that an
	// Interrupt either sees it (and signals) or set the flag before we look.
	c.running.Store(uint64(as.Pid)<<32 | uint64(t.tid))
	defer c.running.Store(0)
	if c.interrupted.Swap(false) {
		c.interruptedAt.Store(0)
		return platform.Trap{Kind: platform.TrapInterrupt}, nil
	}

	next := uint32(stateRunning)
	if fast {
		writeFast(t, st)
		next = stateFastResume
	} else {
		copyFP := st.FPDirty || c.fpAt != t || c.fpOf != st
		if err := writeFrame(t.mem, t.addr, &t.f, st, copyFP); err != nil {
			return platform.Trap{}, err
		}
		st.FPDirty = false
	}
	trap, err := c.runToTrap(t, st, next)
	c.atTrap(t, trap, err, &st.Regs)
	return trap, err
}

// runToTrap resumes t with state word value next and returns its next
// trap that means something to the application.
func (c *Context) runToTrap(t *thread, st *arch.State, next uint32) (platform.Trap, error) {
	for {
		if err := c.run(t, next); err != nil {
			return platform.Trap{}, err
		}
		next = stateRunning
		if fastTrapped(t.word.Load()) {
			if err := readFast(t, &st.Regs); err != nil {
				return platform.Trap{}, err
			}
			t.fast = true
			c.keepFP(t, st)
			c.interruptedAt.Store(0)
			return platform.Trap{Kind: platform.TrapSyscall, Patched: true}, nil
		}
		if err := readFrame(t.mem, t.addr, &t.f); err != nil {
			return platform.Trap{}, err
		}
		t.fast = false
		if inTrampoline(t.f.rip()) {
			// Stopped on its way back through the trampoline: its
			// state is st, which uk resumed it with; the frame holds
			// its FP state.
			c.keepFP(t, st)
			if t.f.signal() == int(interruptSignal) && t.f.siCode() == stubproc.SITkill {
				c.interrupted.Store(false)
				c.interruptedAt.Store(0)
				return platform.Trap{Kind: platform.TrapInterrupt}, nil
			}
			if err := writeFrame(t.mem, t.addr, &t.f, st, false); err != nil {
				return platform.Trap{}, err
			}
			continue
		}
		if resumed, err := c.aheadFault(t); err != nil {
			return platform.Trap{}, err
		} else if resumed {
			continue
		}
		trap, ok := c.classify(t, st)
		if ok {
			c.interruptedAt.Store(0)
			return trap, nil
		}
		// A trap that means nothing to the application (a signal sent
		// from outside): resume as is.
		resumeAsIs(t.mem, &t.f)
	}
}

// wait waits until t has published a trap: it spins as the placement
// says, then sleeps on the state word. It fails if the stub thread or its
// address space is gone.
func (c *Context) wait(t *thread) error {
	if d := c.spinFor(t); d > 0 && c.spinWait(t, d) {
		return nil
	}
	// A pinned context first sleeps for longRun only, to find a thread
	// that runs long between traps (handoff.go, letGo). Then, and after,
	// it checks the thread now and then: a thread that died (its process
	// killed, or it blocked SIGSYS and the host killed it) never traps.
	watch := c.pl.home >= 0
	timeout := unix.NsecToTimespec(int64(100 * time.Millisecond))
	if watch {
		timeout = unix.NsecToTimespec(int64(longRun))
	}
	for {
		v := t.word.Load()
		if trapped(v) {
			return nil
		}
		if v == stateRunning || v == stateFastResume || v == stateReenter {
			if !t.word.CompareAndSwap(v, v|ukSleeps) {
				continue
			}
			v |= ukSleeps
		}
		// Sleep while the word stays as it is: a value the program
		// forged (neither side's) is waited out by the timeout.
		errno := futexWait(t.word, v, &timeout)
		if trapped(t.word.Load()) {
			return nil
		}
		if watch && errno == unix.ETIMEDOUT {
			watch = false
			timeout = unix.NsecToTimespec(int64(100 * time.Millisecond))
			t.ranLong()
			continue
		}
		if unix.Tgkill(t.as.Pid, t.tid, 0) == unix.ESRCH {
			c.forget(t.as)
			return fmt.Errorf("sigsys: stub thread %d is gone", t.tid)
		}
		if at := c.interruptedAt.Load(); at != 0 && time.Since(time.Unix(0, at)) > interruptDeadline {
			unix.Kill(t.as.Pid, unix.SIGKILL)
			c.forget(t.as)
			return fmt.Errorf("sigsys: stub thread %d did not answer an interrupt for %v (signal blocked or signal stack moved by the program); stub killed", t.tid, interruptDeadline)
		}
	}
}

// fetchFP is an arch.State.FPLoad: it copies the FP state of t's last
// saved trap into fp, if t has not run since (else the frame is gone, and
// FP keeps what it had: Switch fetches before it resumes).
func (t *thread) fetchFP(fp []byte) {
	if t.dropped || t.resumes != t.fpResumes {
		return
	}
	if t.fast && t.ctx.reenter(t) != nil {
		return // the thread is gone: its FP state with it
	}
	saveFP(t.mem, t.fpOff, t.fpSize, fp)
}

// keepFP leaves st's FP state where t's last trap left it (its frame, or
// its registers after a fast trap) until the kernel asks for it
// (arch.State.FPLoad): most syscalls never do, and it goes back untouched
// (Switch's copyFP, fastResumable).
func (c *Context) keepFP(t *thread, st *arch.State) {
	t.fpOff, t.fpSize, t.fpResumes = t.f.fpOff, t.f.fpSize, t.resumes
	if t.loadFP == nil {
		t.loadFP = t.fetchFP // one closure per thread, not one per trap
	}
	st.FPLoad = t.loadFP
	c.fpAt, c.fpOf = t, st
}

// classify turns a trap into a platform.Trap and st. ok is false for
// traps to swallow (signals from outside); then st is untouched.
func (c *Context) classify(t *thread, st *arch.State) (platform.Trap, bool) {
	f := &t.f
	sig := unix.Signal(f.signal())
	code := f.siCode()
	save := func() {
		st.Regs = f.regs()
		c.keepFP(t, st)
	}
	switch sig {
	case unix.SIGSYS:
		if code != stubproc.SysSeccomp {
			break
		}
		save()
		if stubproc.IsVsyscall(f.siAddr()) {
			// The host has already emulated the `ret`; undo it and
			// report the fetch fault Linux without vsyscall would raise.
			st.Regs.Rip = f.siAddr()
			st.Regs.Rsp -= 8
			return platform.Trap{Kind: platform.TrapFault, Signo: int32(unix.SIGSEGV), Code: stubproc.SegvMapErr,
				Addr: f.siAddr(), Access: platform.Exec}, true
		}
		// The host rolled RAX back to the number (syscall_rollback), as
		// OrigRax.
		st.Regs.OrigRax = st.Regs.Rax
		return platform.Trap{Kind: platform.TrapSyscall, Compat: f.siArch() != stubproc.AuditArchX86_64}, true
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGILL, unix.SIGFPE, unix.SIGTRAP:
		if code <= 0 {
			break // sent by someone, not raised by the CPU
		}
		save()
		tr := platform.Trap{Kind: platform.TrapSignal, Signo: int32(sig), Code: code, Addr: f.siAddr()}
		if sig == unix.SIGSEGV && code != stubproc.SIKernel {
			tr.Kind = platform.TrapFault
			tr.Access = faultAccess(f, st.Regs.Rip, tr.Addr)
		}
		return tr, true
	case interruptSignal:
		if code == stubproc.SITkill {
			c.interrupted.Store(false)
			save()
			return platform.Trap{Kind: platform.TrapInterrupt}, true
		}
	}
	return platform.Trap{}, false
}

// aheadFault resumes t, as it was, when its trap is a fault in a mapping
// that waits in the queue (stubproc's ahead.go), once the queue is in:
// the access is then retried, and the kernel never sees the fault.
func (c *Context) aheadFault(t *thread) (bool, error) {
	f := &t.f
	if unix.Signal(f.signal()) != unix.SIGSEGV || f.siCode() <= 0 || f.siCode() == stubproc.SIKernel {
		return false, nil
	}
	ok, err := t.as.FlushAheadAt(f.siAddr())
	if !ok || err != nil {
		return false, err
	}
	resumeAsIs(t.mem, f)
	return true, nil
}

// faultAccess decides what kind of access faulted at addr from the page
// fault error code the host recorded (bit 1 write, bit 4 instruction
// fetch).
func faultAccess(f *frame, rip, addr uint64) platform.Access {
	errCode, trapno := f.errTrap()
	if trapno != 14 {
		if addr == rip {
			return platform.Exec
		}
		return platform.Read
	}
	switch {
	case errCode&0x10 != 0:
		return platform.Exec
	case errCode&0x2 != 0:
		return platform.Write
	}
	return platform.Read
}

// Interrupt makes the running (or the next) Switch return TrapInterrupt.
func (c *Context) Interrupt() {
	c.interrupted.Store(true)
	c.interruptedAt.CompareAndSwap(0, time.Now().UnixNano())
	if r := c.running.Load(); r != 0 {
		unix.Tgkill(int(r>>32), int(uint32(r)), interruptSignal)
	}
}

// Release ends this context's stub threads: each returns from the handler
// into siteExit and exits; its slot stays mapped in the stub for a later
// thread.
func (c *Context) Release() {
	for as, t := range c.threads {
		if !as.Released() {
			c.end(t)
		}
	}
	for as := range c.threads {
		c.forget(as)
	}
	// Nothing is left to keep the thread for: the Unbind after a Release
	// gives it back to Go (the next task's goroutine then needs no new
	// host thread).
	c.held = nil // its thread has ended
	c.release()
}

// end sends t, a live thread of this context, from the handler into
// siteExit: it exits, and its slot stays mapped in the stub for a later
// thread (AddressSpace.retire).
func (c *Context) end(t *thread) {
	if t.fresh {
		if c.wait(t) != nil || readFrame(t.mem, t.addr, &t.f) != nil {
			return
		}
	}
	if t.fast && c.reenter(t) != nil {
		return
	}
	if t.exit() == nil {
		t.as.retire(t)
	}
}

// Leave implements platform.Leaver: the context's thread in as, which
// waits since the trap that left (a vfork child's execve, a process's
// exit), goes back to as's parked threads for the next context there to
// take (AddressSpace.repark), or ends if as has enough parked. A thread
// that waits in the trampoline traps into the handler first, so that the
// next Switch finds a frame as it does for a new thread. The context
// never runs in as again without a thread of its own.
func (c *Context) Leave(pas platform.AddressSpace) {
	as, ok := pas.(*AddressSpace)
	if !ok {
		return
	}
	t, ok := c.threads[as]
	if !ok {
		return
	}
	delete(c.threads, as)
	if c.fpAt == t {
		// The FP state the last trap left in the frame is fetched now:
		// the frame is the next context's from here on.
		if c.fpOf != nil {
			c.fpOf.SyncFP()
		}
		c.fpAt, c.fpOf = nil, nil
	}
	if as.Released() || (t.fast && c.reenter(t) != nil) || !as.repark(t) {
		if !as.Released() {
			c.end(t)
		}
		as.drop(t)
	}
}

// AT_HWCAP2 and its FSGSBASE bit (Linux's HWCAP2_FSGSBASE): the kernel
// lets user space use RDFSBASE and friends.
const (
	atHWCAP2       = 26
	hwcap2FSGSBASE = 1 << 1
)

// hwcap2 reads AT_HWCAP2 from uk's own auxiliary vector.
func hwcap2() uint64 {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0
	}
	for i := 0; i+16 <= len(b); i += 16 {
		if binary.LittleEndian.Uint64(b[i:]) == atHWCAP2 {
			return binary.LittleEndian.Uint64(b[i+8:])
		}
	}
	return 0
}
