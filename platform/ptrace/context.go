package ptrace

import (
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
	"uk/platform/internal/stubproc"
)

// Context runs one application thread. It binds to the OS thread of the
// goroutine that first calls Switch, which must hold runtime.LockOSThread
// from then on until after Release: its stub threads are traced by that OS
// thread and are killed (with their whole address space) if it exits.
type Context struct {
	p *Platform

	// Used only by the owning goroutine.
	tracer  int                   // OS thread tid, 0 before the first Switch
	cpu     int                   // CPU the tracer and its stub threads are pinned to, or -1
	threads map[*AddressSpace]int // stub thread per address space
	code    [16]byte              // scratch for the faulting instruction
	last    int                   // stub thread that ran last: holds st's FP state

	// running is pid<<32 | tid of the stub thread while Switch may be
	// running application code, else 0. Read by Interrupt.
	running atomic.Uint64
	// interrupted is set by Interrupt and consumed by Switch.
	interrupted atomic.Bool
}

var (
	_ platform.Context  = (*Context)(nil)
	_ platform.Preparer = (*Context)(nil)
)

// errWrongThread reports a contract violation by the caller.
var errWrongThread = errors.New("ptrace: context used from a different OS thread (missing runtime.LockOSThread?)")

// bind ties the context to the calling OS thread on first use.
// interruptSignal is what Context.Interrupt sends to a running stub thread.
// SIGCHLD is ignored by default, so even if it were ever delivered it would
// do nothing; a traced thread still stops for it.
const interruptSignal = unix.SIGCHLD

func (c *Context) bind() error {
	tid := unix.Gettid()
	if c.tracer == 0 {
		c.tracer = tid
		c.cpu = c.p.h.PickCPU(!c.p.opts.NoPin)
		if err := stubproc.PinThread(0, c.cpu); err != nil {
			return fmt.Errorf("ptrace: pin tracer thread: %w", err)
		}
		return nil
	}
	if c.tracer != tid {
		return errWrongThread
	}
	return nil
}

// thread returns this context's stub thread in as, creating it on first use.
func (c *Context) thread(as *AddressSpace) (int, error) {
	if tid, ok := c.threads[as]; ok {
		return tid, nil
	}
	if err := c.bind(); err != nil {
		return 0, err
	}
	// A new address space usually means an old one was released (execve):
	// forget stub threads that died with theirs.
	for old := range c.threads {
		if old.Released() {
			delete(c.threads, old)
		}
	}
	tid, err := as.newThread(c.tracer, c.cpu)
	if err != nil {
		return 0, err
	}
	c.threads[as] = tid
	return tid, nil
}

// Prepare implements platform.Preparer: it binds the context to the calling
// OS thread and creates its stub thread in as.
func (c *Context) Prepare(pas platform.AddressSpace) error {
	as, ok := pas.(*AddressSpace)
	if !ok {
		return fmt.Errorf("ptrace: Prepare for a %T", pas)
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
		return platform.Trap{}, fmt.Errorf("ptrace: Switch into a %T", pas)
	}
	tid, err := c.thread(as)
	if err != nil {
		return platform.Trap{}, err
	}

	// Install queued mappings before the application can need them.
	if err := as.Flush(tid); err != nil {
		return platform.Trap{}, err
	}

	// Publish the running thread before looking at the flag, so that an
	// Interrupt either sees it (and signals) or set the flag before we look.
	c.running.Store(uint64(as.Pid)<<32 | uint64(tid))
	defer c.running.Store(0)
	if c.interrupted.Swap(false) {
		return platform.Trap{Kind: platform.TrapInterrupt}, nil
	}

	regs := st.Regs
	// The kernel rejects other selectors: the 64-bit user code segment,
	// or the 32-bit one for a program that far-jumped into compat mode
	// (a syscall there is refused, as on a host without IA-32
	// emulation, but the code may go on). OrigRax -1: see injectRegs.
	if regs.Cs != arch.UserCS32 {
		regs.Cs = arch.UserCS
	}
	regs.Ss = arch.UserDS
	regs.Ds, regs.Es, regs.Fs, regs.Gs = 0, 0, 0, 0
	regs.OrigRax = ^uint64(0)
	if err := stubproc.SetRegs(tid, &regs); err != nil {
		// EIO means the kernel refused a value (putreg: a selector, or
		// fs_base/gs_base at or above TASK_SIZE_MAX): name them, so that
		// the report says which register uk let go wrong.
		return platform.Trap{}, fmt.Errorf("ptrace: set registers of stub thread %d: %w (rip %#x rsp %#x fs_base %#x gs_base %#x eflags %#x)",
			tid, err, regs.Rip, regs.Rsp, regs.FsBase, regs.GsBase, regs.Eflags)
	}
	if len(st.FP) != arch.FPStateSize() {
		st.FP = arch.NewFPState()
		st.FPDirty = true
	}
	if st.FPDirty || tid != c.last {
		// Another stub thread (another address space) has this thread's
		// FP state, or the kernel changed it.
		if err := stubproc.SetXState(tid, st.FP); err != nil {
			return platform.Trap{}, fmt.Errorf("ptrace: set FP state: %w", err)
		}
		st.FPDirty = false
		c.last = tid
	}

	for {
		if err := stubproc.Resume(unix.PTRACE_SYSEMU, tid); err != nil {
			return platform.Trap{}, fmt.Errorf("ptrace: sysemu: %w", err)
		}
		s, err := stubproc.WaitStop(tid)
		if err != nil {
			return platform.Trap{}, fmt.Errorf("ptrace: %w", err)
		}
		if s.Exited {
			delete(c.threads, as)
			as.forgetThread(c.tracer)
			return platform.Trap{}, fmt.Errorf("ptrace: stub thread %d died (status %#x)", tid, uint32(s.Status))
		}
		trap, ok, err := c.classify(as, tid, s, st)
		if err != nil || ok {
			return trap, err
		}
		// A stop that means nothing to the application: resume as is.
	}
}

// classify turns a stop into a trap. ok is false for stops to swallow
// (group stops, event stops, signals from outside); then st is untouched.
func (c *Context) classify(as *AddressSpace, tid int, s stubproc.Stop, st *arch.State) (platform.Trap, bool, error) {
	if s.Sig == int(unix.SIGTRAP)|0x80 {
		if err := c.save(tid, st); err != nil {
			return platform.Trap{}, false, err
		}
		st.Regs.Rax = st.Regs.OrigRax
		return platform.Trap{Kind: platform.TrapSyscall, Compat: compatEntry(&st.Regs)}, true, nil
	}
	if s.Event != 0 {
		return platform.Trap{}, false, nil
	}
	var si stubproc.Siginfo
	if err := stubproc.GetSiginfo(tid, &si); err != nil {
		// EINVAL: a group-stop, not a signal-delivery-stop.
		return platform.Trap{}, false, nil
	}
	sig := unix.Signal(s.Sig)
	switch sig {
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGILL, unix.SIGFPE, unix.SIGTRAP:
		if si.Code <= 0 {
			break // sent by someone, not raised by the CPU
		}
		if err := c.save(tid, st); err != nil {
			return platform.Trap{}, false, err
		}
		t := platform.Trap{Kind: platform.TrapSignal, Signo: int32(sig), Code: si.Code, Addr: si.Addr()}
		if sig == unix.SIGSEGV && si.Code != stubproc.SIKernel {
			t.Kind = platform.TrapFault
			t.Access = c.faultAccess(as.Pid, st.Regs.Rip, t.Addr)
		}
		return t, true, nil
	case unix.SIGSYS:
		// The stub's seccomp filter trapped a call into the vsyscall
		// page. The host has already emulated the `ret`; undo it and
		// report the fetch fault Linux without vsyscall would raise.
		if si.Code != stubproc.SysSeccomp || !stubproc.IsVsyscall(si.Addr()) {
			break
		}
		if err := c.save(tid, st); err != nil {
			return platform.Trap{}, false, err
		}
		st.Regs.Rip = si.Addr()
		st.Regs.Rsp -= 8
		return platform.Trap{Kind: platform.TrapFault, Signo: int32(unix.SIGSEGV), Code: stubproc.SegvMapErr,
			Addr: si.Addr(), Access: platform.Exec}, true, nil
	case interruptSignal:
		// In a PID namespace of its own the stub sees uk, outside it,
		// as pid 0. (No stub can send signals: its filter forbids it.)
		if si.Code == stubproc.SITkill && (si.Pid() == c.p.pid || c.p.h.Mode() != stubproc.ConfineNone && si.Pid() == 0) {
			c.interrupted.Store(false)
			if err := c.save(tid, st); err != nil {
				return platform.Trap{}, false, err
			}
			return platform.Trap{Kind: platform.TrapInterrupt}, true, nil
		}
	}
	return platform.Trap{}, false, nil
}

// compatEntry tells, at a syscall stop, whether the thread came in through
// a 32-bit entry. On a host with IA-32 emulation, int $0x80 (and, on
// Intel, sysenter) from 64-bit code and any syscall from compat-mode code
// stop here too, with an ia32 syscall in the registers. Compat mode shows
// in CS. The 64-bit syscall instruction is told apart without another
// host call (PTRACE_GET_SYSCALL_INFO would be one more ptrace round trip on
// every syscall): it stores the return address in RCX and the flags in
// R11, and the host's entry saves exactly those as the thread's RIP and
// RFLAGS, so they are equal at the stop; after int $0x80 RCX and R11 still
// hold what the program had in them. A program can make an int $0x80 look
// like a syscall by loading RCX and R11 first, and is then served as if it
// had executed syscall with those registers, which it could have done
// anyway.
func compatEntry(r *arch.Registers) bool {
	return r.Cs != arch.UserCS || r.Rcx != r.Rip || r.R11 != r.Eflags
}

// save reads the thread's registers and FP state into st.
func (c *Context) save(tid int, st *arch.State) error {
	if err := stubproc.GetRegs(tid, &st.Regs); err != nil {
		return fmt.Errorf("ptrace: get registers: %w", err)
	}
	if _, err := stubproc.GetXState(tid, st.FP); err != nil {
		return fmt.Errorf("ptrace: get FP state: %w", err)
	}
	return nil
}

// faultAccess decides what kind of access faulted at addr: an instruction
// fetch if addr is where the instruction is (or where its bytes run into an
// unreadable page), else a write or read as the instruction at rip says.
func (c *Context) faultAccess(pid int, rip, addr uint64) platform.Access {
	if addr == rip {
		return platform.Exec
	}
	n, _ := stubproc.ReadMem(pid, rip, c.code[:15])
	if addr > rip && addr < rip+15 && addr >= rip+uint64(n) {
		return platform.Exec
	}
	if write, ok := arch.InstructionWrites(c.code[:n]); ok && write {
		return platform.Write
	}
	return platform.Read
}

// Interrupt makes the running (or the next) Switch return TrapInterrupt.
func (c *Context) Interrupt() {
	c.interrupted.Store(true)
	if r := c.running.Load(); r != 0 {
		stubproc.Tgkill(int(r>>32), int(uint32(r)), interruptSignal)
	}
}

// Release ends this context's stub threads. It must run on the context's
// goroutine (the tracer thread); called elsewhere, the threads stay parked
// until their address spaces are released.
func (c *Context) Release() {
	if c.tracer == 0 || c.tracer != unix.Gettid() {
		c.threads = nil
		return
	}
	for as, tid := range c.threads {
		if !as.Released() {
			stubproc.ExitTraced(tid)
			as.forgetThread(c.tracer)
		}
	}
	c.threads = nil
}
