// Package ptrace is uk's ptrace platform: application code runs natively in
// stub processes that uk traces with PTRACE_SYSEMU, so every system call,
// fault and synchronous signal of the application stops the stub and comes
// back to uk instead of reaching the host kernel.
//
// # Stub processes
//
// Each AddressSpace is one stub process. The platform starts one master
// stub by exec'ing a tiny static ELF image (stub.go, a few hundred bytes of
// hand-assembled code at the top of the user address range) from a memfd.
// Nothing of uk is forked: the child of syscall.ForkExec holds only the
// memory file as fd 3 (and the request file as fd 4, until set up) and is
// traced from its first instruction (PTRACE_TRACEME, then
// PTRACE_O_EXITKILL, PTRACE_O_TRACESYSGOOD and the fork and clone events).
// uk then unmaps everything but the stub (stack, vDSO, vvar), confines it
// (confine.go) and from then on makes each address space's stub by
// injecting a fork into the master; the application sees an empty address
// space below MaxUserAddress. Stubs die with uk: PTRACE_O_EXITKILL kills a
// tracee when its tracer thread exits, and the master, whose parent death
// signal is SIGKILL, dies with the thread that created it (and, as the
// init of their PID namespace, takes the other stubs with it).
//
// Host system calls inside a stub (mmap of the memory file, munmap, clone of
// a new stub thread) are injected: the tracer points RIP at a `syscall; int3`
// site in the stub code, loads the registers and PTRACE_CONTs; the int3 hands
// control back with the result in RAX. Mapping changes are batched: requests
// are written to a request page that uk shares with the stub (read-only in
// the stub), and one injection at the batch site runs them all.
//
// # Threads
//
// A tracee is bound to its tracer *thread*, so each piece of ptrace work runs
// on the OS thread that traces the stub thread it touches:
//
//   - The platform owns one "factory" goroutine locked to an OS thread for the
//     platform's life. It creates stub processes and traces each stub's main
//     thread, which never runs application code: it serves injections
//     requested from goroutines that are not tracers in that address space
//     (creating new stub threads, synchronous Unmap).
//   - A Context belongs to one goroutine that holds runtime.LockOSThread for
//     the context's life. The first time it switches into an AddressSpace,
//     the factory clones a new stub thread there (clone with the thread
//     flags, at a site where the child parks in pause()), and the context's
//     thread PTRACE_SEIZEs and PTRACE_INTERRUPTs it. That stub thread runs the
//     application thread from then on. Several contexts can run in one
//     address space at once; a context can use several address spaces
//     (after execve).
//   - With pinning on (the default), each context's OS thread and all its
//     stub threads are pinned to one CPU, chosen round-robin: a ptrace round
//     trip between CPUs costs up to three times as much.
//
// # Mappings and locking
//
// MapFile only queues a request. Every Switch flushes the address space's
// queue (through its own stub thread) before it resumes the application, so
// a mapping is in place before the thread that needs it runs. Unmap queues
// and flushes at once: through the caller's own stub thread when the caller
// is a context's goroutine with a stub thread in that address space,
// otherwise through the factory and the main stub thread. munmap in the
// shared host mm affects every stub thread at once, including ones running
// application code right now, so no running thread has to be interrupted.
//
// # Stops
//
// A switch is SETREGS (selectors forced to the user ones, FS base inside
// the register set, OrigRax -1 so the host never "restarts" a syscall),
// SETREGSET NT_X86_XSTATE only when st.FPDirty or the state lives in another
// stub thread, PTRACE_SYSEMU, wait4, then GETREGS and GETREGSET into st. Stops
// are classified as: SIGTRAP|0x80 = TrapSyscall (number in OrigRax, and
// copied back into Rax); SIGSEGV raised by the CPU with a page-fault si_code
// = TrapFault, the access decoded from the instruction at RIP with x86asm
// (read from the stub with one process_vm_readv), Exec when the fault is at
// RIP; other CPU-raised SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP = TrapSignal;
// SIGCHLD sent by uk with tgkill = TrapInterrupt; anything else (group stops,
// event stops, signals from outside) is suppressed and the thread resumed.
// No signal is ever delivered to a stub thread. On hosts with IA-32
// emulation `int $0x80` also stops as TrapSyscall (elsewhere it is a #GP,
// TrapSignal SIGSEGV): the kernel can tell it from `syscall` by the two
// bytes before RIP (cd 80 versus 0f 05) in its own mapping of the memory
// file.
//
// # Confinement
//
// Stubs run in their own user, PID, mount, network, IPC, UTS and cgroup
// namespaces, chrooted to an empty directory with no capabilities, when the
// host allows it (confine.go), hold no fd but the memory file, and carry
// seccomp filters (seccomp.go) that only admit the host syscalls uk
// injects; PTRACE_SYSEMU stops skip seccomp, so application syscalls never
// reach them. Calls into the legacy
// vsyscall page, which the host would otherwise emulate, are trapped by the
// same filter and reported as an instruction fetch fault at that page.
//
// New sets SA_NOCLDSTOP on uk's SIGCHLD handler: every ptrace-stop would
// otherwise also deliver a SIGCHLD to uk, one Go signal handler run per
// application syscall.
//
// Lock order: Platform.mu, then AddressSpace.mu. AddressSpace.mu is held
// across a flush, including a flush that waits for the factory; the factory
// never takes either lock, so this cannot deadlock. Context has no lock: only
// its own goroutine uses it, except Interrupt, which uses atomics only.
package ptrace

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
	"uk/platform/internal/stubproc"
)

// Options tune the platform.
type Options struct {
	// NoPin leaves tracer and stub threads wherever the host scheduler puts
	// them instead of pinning each pair to one CPU.
	NoPin bool

	// modes, for tests, replaces the confinement modes startMaster tries.
	modes []confinement
}

// Platform is the ptrace platform. Create it with New.
type Platform struct {
	memFD int
	exeFD int // memfd holding the stub image, exec'd as /proc/self/fd/exeFD; closed once the master runs
	pid   int // uk's own pid: interrupts are signals sent by it
	opts  Options
	cpus  []int // CPUs this process may run on, for round-robin pinning
	fac   *factory
	reqs  *requestFile

	// Set before the first address space and constant afterwards.
	master  int         // the master stub's host pid
	mode    confinement // how far the stubs are confined
	stubUID int         // host uid of the stubs in confineFull

	nextCPU atomic.Uint32

	mu     sync.Mutex
	spaces map[*AddressSpace]struct{} // live address spaces; protected by mu
	closed bool                       // protected by mu
	// spare is a stub started ahead of need, not yet handed out: first
	// the one that proved the platform works, later one started in the
	// background once the sandbox has asked for a second address space
	// (it forks or execs, and will likely again). A stub costs
	// milliseconds to start; a fork or exec that finds one ready does
	// not wait for them. Protected by mu.
	spare *AddressSpace
	// refill is closed when the spare being started in the background is
	// ready (or failed); nil when none is. Protected by mu.
	refill chan struct{}
	// handedOut counts NewAddressSpace calls. Protected by mu.
	handedOut int

	zmu     sync.Mutex
	zombies []int // killed stub threads not reaped yet; protected by zmu
}

var _ platform.Platform = (*Platform)(nil)

// New returns a ptrace platform whose address spaces map memFD, the memory
// file. If ptrace cannot be used here, the error wraps
// platform.ErrUnavailable with a one-line reason.
func New(memFD int) (*Platform, error) { return NewWithOptions(memFD, Options{}) }

// NewWithOptions is New with tuning options.
func NewWithOptions(memFD int, opts Options) (*Platform, error) {
	exe, err := unix.MemfdCreate("uk-stub", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("ptrace: memfd for the stub image: %w", err)
	}
	// Keep the image's fd out of the range that ForkExec rearranges
	// (0..4) so that /proc/self/fd/N still names the image in the child.
	hi, err := unix.FcntlInt(uintptr(exe), unix.F_DUPFD_CLOEXEC, 64)
	unix.Close(exe)
	if err != nil {
		return nil, fmt.Errorf("ptrace: dup stub image fd: %w", err)
	}
	img := stubImage()
	if n, err := unix.Pwrite(hi, img, 0); err != nil || n != len(img) {
		unix.Close(hi)
		return nil, fmt.Errorf("ptrace: write stub image: %v", err)
	}
	p := &Platform{
		memFD:  memFD,
		exeFD:  hi,
		pid:    os.Getpid(),
		opts:   opts,
		spaces: make(map[*AddressSpace]struct{}),
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err == nil {
		for i := 0; i < 1024; i++ {
			if set.IsSet(i) {
				p.cpus = append(p.cpus, i)
			}
		}
	}
	if err := stubproc.QuietStopNotifications(); err != nil {
		unix.Close(hi)
		return nil, fmt.Errorf("ptrace: SIGCHLD disposition: %w", err)
	}
	reqs, err := newRequestFile()
	if err != nil {
		unix.Close(hi)
		return nil, fmt.Errorf("ptrace: %w", err)
	}
	p.reqs = reqs
	p.fac = startFactory()
	// Probe: the master must start and fork one stub that takes injected
	// syscalls, or the platform is unavailable (seccomp, Yama, no
	// CAP_SYS_PTRACE).
	err = p.startMasterOnFactory()
	unix.Close(hi) // the only exec was the master's
	p.exeFD = -1
	var as *AddressSpace
	if err == nil {
		as, err = p.newAddressSpace()
	}
	if err != nil {
		p.shutdown()
		return nil, fmt.Errorf("%w: %v", platform.ErrUnavailable, err)
	}
	p.spare = as
	return p, nil
}

// startMasterOnFactory starts the master stub on the factory thread.
func (p *Platform) startMasterOnFactory() error {
	var err error
	if ferr := p.fac.do(func() { err = p.startMaster() }); ferr != nil {
		return ferr
	}
	return err
}

// killMaster kills the master stub (and, in a PID namespace, with it every
// stub) and reaps it.
func (p *Platform) killMaster() {
	if p.master > 0 {
		unix.Kill(p.master, unix.SIGKILL)
		p.reap(p.master)
		p.master = 0
	}
}

// Name returns "ptrace".
func (p *Platform) Name() string { return "ptrace" }

// MaxUserAddress is where the stub's code begins; the application owns
// everything below.
const MaxUserAddress = stubBase

// MaxUserAddress returns the constant MaxUserAddress.
func (p *Platform) MaxUserAddress() uint64 { return MaxUserAddress }

var _ platform.SpecialMapper = (*Platform)(nil)

// SpecialMappings are the stub's code page (which the application can run
// and read, as the stub runs in its address space) and its request page
// (read-only, and empty but while a mapping batch runs).
func (p *Platform) SpecialMappings() []platform.SpecialMapping {
	return []platform.SpecialMapping{
		{Start: stubBase, End: stubBase + arch.PageSize, Access: platform.Read | platform.Exec, Name: "[uk-stub]"},
		{Start: reqPage, End: reqPage + arch.PageSize, Access: platform.Read, Name: "[uk-stub-requests]"},
	}
}

// NewAddressSpace hands out the spare stub (waiting for the one being
// started, if any) or starts a new stub process. From the second call on,
// it also starts the next spare in the background.
func (p *Platform) NewAddressSpace() (platform.AddressSpace, error) {
	p.mu.Lock()
	p.handedOut++
	if p.spare == nil && p.refill != nil {
		// One is nearly ready: waiting costs less than starting another.
		wait := p.refill
		p.mu.Unlock()
		<-wait
		p.mu.Lock()
	}
	as := p.spare
	p.spare = nil
	prefill := p.handedOut >= 2
	p.mu.Unlock()
	if as == nil {
		var err error
		if as, err = p.newAddressSpace(); err != nil {
			return nil, err
		}
	}
	if prefill {
		p.startRefill()
	}
	return as, nil
}

// startRefill starts a spare stub in the background unless there is one or
// one is being started.
func (p *Platform) startRefill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.spare != nil || p.refill != nil {
		return
	}
	done := make(chan struct{})
	p.refill = done
	go func() {
		as, err := p.newAddressSpace()
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if err == nil && !closed {
			// Its first thread too, so that the task that gets it does
			// not wait for the factory (a failure leaves that to it).
			as.park()
		}
		p.mu.Lock()
		if err == nil && p.spare == nil && !p.closed {
			p.spare, as = as, nil
		}
		p.refill = nil
		close(done)
		p.mu.Unlock()
		if as != nil {
			as.Release() // not wanted after all (closed meanwhile)
		}
	}()
}

// NewContext returns a context; it binds to the OS thread of the goroutine
// that first calls Switch on it.
func (p *Platform) NewContext() (platform.Context, error) {
	return &Context{p: p, threads: make(map[*AddressSpace]int)}, nil
}

// Close kills every stub process and stops the factory thread.
func (p *Platform) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.spare = nil
	if refill := p.refill; refill != nil {
		// A spare being started finishes first (it sees the platform
		// closed and releases its stub): shutting the factory down under
		// its clone left both waiting on each other.
		p.mu.Unlock()
		<-refill
		p.mu.Lock()
	}
	var spaces []*AddressSpace
	for as := range p.spaces {
		spaces = append(spaces, as)
	}
	p.mu.Unlock()
	for _, as := range spaces {
		as.Release()
	}
	p.shutdown()
	return nil
}

// shutdown stops the factory, kills the master and reaps what is left.
func (p *Platform) shutdown() {
	// A fork in flight on the factory thread completes first (its
	// address space, coming back to a closed platform, is released);
	// killing the master under it would leave the factory waiting for a
	// master that, as the init of the stubs' PID namespace, waits for
	// the new stub that only the factory can reap.
	p.fac.stop()
	p.killMaster()
	// Killed stubs exit promptly; give them a moment to be reaped so
	// that none is left as a zombie of uk.
	for deadline := time.Now().Add(time.Second); p.reap() > 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Microsecond)
	}
	p.reqs.close()
}

// errClosed is returned for operations on a closed platform.
var errClosed = errors.New("ptrace: platform closed")

// pickCPU returns the CPU for the next context, or -1 when not pinning.
func (p *Platform) pickCPU() int {
	if p.opts.NoPin || len(p.cpus) < 2 {
		return -1
	}
	n := p.nextCPU.Add(1) - 1
	return p.cpus[int(n)%len(p.cpus)]
}

// pinThread restricts host thread tid (0: the caller) to cpu.
func pinThread(tid, cpu int) error {
	if cpu < 0 {
		return nil
	}
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(tid, &set)
}

// factory is a goroutine locked to one OS thread for the platform's life.
// That thread creates stub processes (so Pdeathsig ties them to a thread
// that stays alive) and traces their main threads.
type factory struct {
	reqs chan func()
	done chan struct{}

	mu      sync.Mutex
	stopped bool // protected by mu; reqs is closed once set
}

func startFactory() *factory {
	f := &factory{reqs: make(chan func()), done: make(chan struct{})}
	go func() {
		// Never unlocked: when this goroutine returns, its thread exits,
		// and PTRACE_O_EXITKILL and Pdeathsig kill every stub it made.
		runtime.LockOSThread()
		defer close(f.done)
		for fn := range f.reqs {
			fn()
		}
	}()
	return f
}

// do runs fn on the factory thread and waits for it. It returns errClosed,
// without running fn, once the platform is closed.
func (f *factory) do(fn func()) error {
	ch := make(chan struct{})
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return errClosed
	}
	// Sending under mu keeps stop from closing reqs meanwhile; the
	// factory never takes mu, so it always receives.
	f.reqs <- func() { fn(); close(ch) }
	f.mu.Unlock()
	<-ch
	return nil
}

func (f *factory) stop() {
	f.mu.Lock()
	if !f.stopped {
		f.stopped = true
		close(f.reqs)
	}
	f.mu.Unlock()
	<-f.done
}
