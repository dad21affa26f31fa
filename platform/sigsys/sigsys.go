// Package sigsys is uk's fast trap platform: application code runs natively
// in stub processes, as on platform/ptrace, but its system calls and faults
// come back to uk as signals handled inside the stub, through memory shared
// with uk, instead of as ptrace stops. No ptrace call is made on the
// syscall path.
//
// # The trap path
//
// Every application thread runs in a stub thread that carries a seccomp
// filter (seccomp.go, threadFilter) returning SECCOMP_RET_TRAP for every
// syscall, so the host kernel delivers a SIGSYS instead of running it. The
// handler (stub.go, handlerCode: a few dozen bytes of machine code
// assembled here) runs on the thread's alternate signal stack, which lies
// in the thread's slot (slot.go): pages of a memfd that uk maps too. The
// signal frame the host pushes there is the thread's register state. The
// handler records where the frame is and the FS/GS bases, swaps the slot's
// state word to "trapped" (waking uk if it sleeps on it), and waits: it
// spins briefly, then sleeps with FUTEX_WAIT on the word. uk's task
// goroutine (Context.Switch) spins on the word, then sleeps on it too,
// copies the frame, checks it, hands the state to the kernel, writes the
// next state into the frame, swaps the word to "running" and wakes the
// handler if it sleeps; the handler loads the FS and GS bases
// (WRFSBASE/WRGSBASE: the platform needs FSGSBASE) and returns with
// rt_sigreturn, which restores the edited frame. SIGSEGV, SIGBUS, SIGFPE,
// SIGILL and SIGTRAP raised by the CPU take the same path (si_addr and
// the page-fault error code in the frame give the address and access), and
// so does the interrupt signal (SIGUSR2, sent with tgkill by Interrupt).
//
// # Stub processes and the edit thread
//
// Stubs are made as on the ptrace platform (the code here started as a
// copy of it): one master exec'd from a memfd, confined (confine.go), and
// an address space's stub forked from it by an injected clone. The stub's
// main thread is the edit thread: it stays traced by the platform's
// factory thread, never runs application code, and runs only what uk
// injects: batches of mmap (of the memory file or the slot file only,
// with fixed flags) and munmap from the read-only request page, and the
// clones of new stub threads. Application threads can never issue an mmap
// (their filter traps it), even by jumping into stub code: a forged mmap
// of the memory file at an arbitrary offset would expose other processes'
// pages, and one of the slot file other processes' registers.
//
// A new stub thread is cloned from the edit thread, traced from birth by
// the factory thread, which injects its sigaltstack (its slot) and its
// thread filter before it ever runs, points it at an entry site whose
// syscall traps at once, and detaches it. From then on the thread is not
// traced: every signal to a tracee would be a ptrace stop, which is what
// this platform exists to avoid. It ends by returning from the handler
// into an exit site. Stubs die with uk as on ptrace: the edit thread is
// traced with PTRACE_O_EXITKILL and the master with a parent death signal.
//
// # What a hostile program can do
//
// The program controls its registers, its stack, and all memory of its
// address space, the slots included. It can:
//
//   - jump to the handler's syscall instructions with any registers: the
//     filter allows there only futex WAIT/WAKE, rt_sigreturn and exit, each
//     from one instruction, which are harmless with any arguments
//     (seccomp.go says why);
//   - forge the state word: uk then reads a frame that is not a trap, which
//     it checks as any other, and treats it as a syscall of that thread
//     with those registers, which the program could have made anyway; or
//     it makes uk or the handler wait for nothing (uk rechecks the word
//     and the thread's life every 100 ms);
//   - race the frame while uk reads it: uk reads every field of the slot
//     once into its own memory (readFrame) and decides on the copy; the
//     frame's pointers (ucontext, siginfo, XSAVE image) must lie inside the
//     slot's stack, or the Switch fails and the kernel kills the process;
//   - leave a frame that restores ring-0 selectors, odd flags or another
//     signal mask or stack: before every resume uk rewrites every part of
//     the frame rt_sigreturn reads (writeFrame): CS is the 64-bit or the
//     32-bit user code selector, SS the user data selector, only the flags
//     rt_sigreturn takes from a frame, no signal blocked, the slot's
//     alternate stack, its own XSAVE header. (The host kernel would force
//     RPL 3 anyway.) FS and GS bases beyond the user range are refused.
//
// What it can still do, with rt_sigreturn at the handler's instruction
// and a frame of its own, is block signals or move the alternate stack of
// its own host thread: that only keeps that thread from coming back to
// uk (or makes the host kill the stub, for SIGSYS).
//
// # Spinning and CPUs
//
// Both sides spin before they sleep: on an idle machine with uk's thread
// and the stub thread on two CPUs, a round trip is two cache-line
// transfers and no syscall but the trap itself; under load, or on one CPU,
// the futex makes it a pair of wakeups, never a busy wait for a thread
// that cannot run. Options.Pin puts a context's OS thread and its stub
// threads on one CPU, as the ptrace platform does (there a cross-CPU
// round trip costs up to three times as much); here it is off by default,
// since the spin hand-off wants two CPUs.
//
// # Costs
//
// A syscall round trip costs one host signal delivery and rt_sigreturn
// (the XSAVE image written to and read from the slot) and two hand-offs
// through the state word; no ptrace stop. Mapping edits cost more than on
// ptrace: there a context flushes through its own traced stub thread, here
// through the factory thread (a goroutine hand-off each way, then the
// injection), because the edit thread is the only stub thread that may
// map and it is traced by the factory. Page-fault-heavy programs (every
// fault ends in a flush) and fork therefore pay about one extra pair of
// thread wake-ups per edit; moving the edit thread's tracing to the
// context that uses it most is the next step.
//
// Lock order: Platform.mu, then AddressSpace.mu. AddressSpace.mu is held
// across a flush, which waits for the factory; the factory never takes
// either lock.
package sigsys

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
)

// Options tune the platform.
type Options struct {
	// Pin pins each context's OS thread and its stub threads to one CPU,
	// chosen round-robin. Off by default: the hand-off spins across CPUs
	// when it can (see the package doc).
	Pin bool
	// Spin is how long uk spins on a stub thread's state word before it
	// sleeps on it; 0 means DefaultSpin, negative never spins.
	Spin time.Duration

	// modes, for tests, replaces the confinement modes startMaster tries.
	modes []confinement
}

// Platform is the sigsys platform. Create it with New.
type Platform struct {
	memFD int
	exeFD int // memfd holding the stub image, exec'd as /proc/self/fd/exeFD; closed once the master runs
	pid   int // uk's own pid: interrupts are signals sent by it
	opts  Options
	cpus  []int // CPUs this process may run on, for round-robin pinning
	fac   *factory
	reqs  *requestFile
	slots *slotFile
	spin  time.Duration

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
	// slotsOf holds the slots of killed stubs until their process is
	// reaped: until then a thread of it may still write to them.
	// Protected by zmu.
	slotsOf map[int][]int
}

var _ platform.Platform = (*Platform)(nil)

// New returns a sigsys platform whose address spaces map memFD, the memory
// file. If it cannot be used here, the error wraps platform.ErrUnavailable
// with a one-line reason.
func New(memFD int) (*Platform, error) { return NewWithOptions(memFD, Options{}) }

// NewWithOptions is New with tuning options.
func NewWithOptions(memFD int, opts Options) (*Platform, error) {
	if err := usable(); err != nil {
		return nil, fmt.Errorf("%w: %v", platform.ErrUnavailable, err)
	}
	exe, err := unix.MemfdCreate("uk-sigsys-stub", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("sigsys: memfd for the stub image: %w", err)
	}
	// Keep the image's fd out of the range that ForkExec rearranges
	// (0..4) so that /proc/self/fd/N still names the image in the child.
	hi, err := unix.FcntlInt(uintptr(exe), unix.F_DUPFD_CLOEXEC, 64)
	unix.Close(exe)
	if err != nil {
		return nil, fmt.Errorf("sigsys: dup stub image fd: %w", err)
	}
	img := stubImage()
	if n, err := unix.Pwrite(hi, img, 0); err != nil || n != len(img) {
		unix.Close(hi)
		return nil, fmt.Errorf("sigsys: write stub image: %v", err)
	}
	p := &Platform{
		memFD:   memFD,
		exeFD:   hi,
		pid:     os.Getpid(),
		opts:    opts,
		spaces:  make(map[*AddressSpace]struct{}),
		spin:    opts.Spin,
		slotsOf: make(map[int][]int),
	}
	if p.spin == 0 {
		p.spin = DefaultSpin
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err == nil {
		for i := 0; i < 1024; i++ {
			if set.IsSet(i) {
				p.cpus = append(p.cpus, i)
			}
		}
	}
	if len(p.cpus) == 1 && opts.Spin == 0 {
		// uk and every stub thread share one CPU (taskset): a spinning
		// side only keeps the other from running.
		p.spin = -1
	}
	if err := quietStopNotifications(); err != nil {
		unix.Close(hi)
		return nil, fmt.Errorf("sigsys: SIGCHLD disposition: %w", err)
	}
	reqs, err := newRequestFile()
	if err != nil {
		unix.Close(hi)
		return nil, fmt.Errorf("sigsys: %w", err)
	}
	p.reqs = reqs
	if p.slots, err = newSlotFile(); err != nil {
		unix.Close(hi)
		reqs.close()
		return nil, fmt.Errorf("sigsys: %w", err)
	}
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

// Name returns "sigsys".
func (p *Platform) Name() string { return "sigsys" }

// MaxUserAddress is where the stub's thread region begins; the application
// owns everything below.
const MaxUserAddress = threadBase

// MaxUserAddress returns the constant MaxUserAddress.
func (p *Platform) MaxUserAddress() uint64 { return MaxUserAddress }

var _ platform.SpecialMapper = (*Platform)(nil)

// SpecialMappings are the thread region (each stub thread's slot: its
// state word and signal stack, read-write), the stub's code page (which the
// application can run and read, as the stub runs in its address space) and
// its request page (read-only, and empty but while a mapping batch runs).
func (p *Platform) SpecialMappings() []platform.SpecialMapping {
	return []platform.SpecialMapping{
		{Start: threadBase, End: stubBase, Access: platform.Read | platform.Write, Name: "[uk-sigsys-threads]"},
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
	return &Context{p: p, threads: make(map[*AddressSpace]*thread)}, nil
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
	p.slots.close()
}

// errClosed is returned for operations on a closed platform.
var errClosed = errors.New("sigsys: platform closed")

// pickCPU returns the CPU for the next context, or -1 when not pinning.
func (p *Platform) pickCPU() int {
	if !p.opts.Pin || len(p.cpus) < 2 {
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
