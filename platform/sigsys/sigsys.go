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
// Hot syscall sites skip the signal: the kernel rewrites a site that has
// trapped often into a jump to a trampoline in the stub's code, which
// hands the registers over in the slot's fast frame and waits on the
// same state word (fastcall.go has the protocol and why it is safe). The
// handler drops uk's interrupt signal while a thread is in the
// trampoline before uk has answered its fast trap: it is on its way to
// uk anyway.
//
// # Stub processes and the edit thread
//
// Stubs are made as on the ptrace platform, by the same code
// (platform/internal/stubproc): one master exec'd from a memfd, confined,
// and an address space's stub forked from it by an injected clone. The
// master here also keeps the slot file and installs the handler for the
// stubs it forks to inherit. The stub's
// main thread is the edit thread: it stays traced by the platform's
// factory thread, never runs application code, and runs only what uk
// injects: the clones of new stub threads and their setup. Mapping
// batches (mmap of the memory file or the slot file only, with fixed
// flags, and munmap, from the read-only request page) run in the stub's
// serving thread, a clone of the edit thread left untraced in a loop that
// sleeps on a futex in the request page and reports each batch through a
// pipe only it can write (stubproc's serve.go; it follows the CPU of
// whoever flushes). Application threads can never issue an mmap
// (their filter traps it), even by jumping into stub code: a forged mmap
// of the memory file at an arbitrary offset would expose other processes'
// pages, and one of the slot file other processes' registers.
//
// The queue goes out before a switch only when it holds a change that
// must be in place before the program runs: a mapping the kernel made
// ahead of need (an mmap's prefault) where nothing was mapped waits for
// the next such change, or for the program's first touch of it, a fault
// this platform resolves by running the queue and resuming the thread
// (Context.aheadFault; stubproc's ahead.go). ld.so's mmap calls for a
// library then share batches instead of taking one each (with fork's
// executable windows, a shell's spawn went from about 17 batches to 12).
//
// A new stub thread is cloned from the edit thread, traced from birth by
// the factory thread, which injects the mapping of its slot, its
// sigaltstack (the slot) and its thread filter before it ever runs (one
// batch, which the new thread runs itself), points it at an entry site whose
// syscall traps at once, and detaches it. From then on the thread is not
// traced: every signal to a tracee would be a ptrace stop, which is what
// this platform exists to avoid. It ends by returning from the handler
// into an exit site. Stubs die with uk as on ptrace: the edit thread is
// traced with PTRACE_O_EXITKILL and the master with a parent death signal.
//
// The factory thread moves to the CPU of whoever hands it work, and pins
// the stub thread it injects into there (stubproc.Config.FollowCaller):
// an injection is then a hand-off on one CPU. Work done ahead of need (the
// spare stub, a parked thread) is handed over from a thread pinned to the
// other CPU, beside the program it is for.
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
//     frame's pointers (ucontext, stubproc.Siginfo, XSAVE image) must lie inside the
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
// A hand-off between uk's thread and a stub thread costs what the two
// threads' placement makes it (handoff.go has the policy). Each context's
// OS thread is pinned to one CPU, the one it ran on at first; while its
// task waits in the kernel (Context.Unbind) the thread is unpinned and
// given back to Go, and the next Switch makes the CPU of whatever thread
// runs it the new home, the stub thread following. While a CPU is to
// spare (a split token: one per two CPUs), the pair splits: the stub
// thread runs on another CPU and both sides spin on the state word, so a
// hand-off is a cache line crossing CPUs; at a trap that runs a mapping
// batch uk grants the handler a few more rounds of spinning, since a
// handler that sleeps lets its CPU halt and waking it costs more than the
// batch. Otherwise, or once a split pair
// keeps missing (the program computes between syscalls, or the machine
// is busy and a spinner lost its CPU), the stub thread shares uk's CPU and
// neither side spins: a hand-off is a futex wake and a futex wait on that
// CPU. Measured on this kind of VM (idle, medians of the getpid round
// trip): split about 3.2-3.5 µs, of which 2.6 µs is the bare mechanism
// (SIGSYS delivery, the handler, rt_sigreturn, the word crossing twice);
// pinned about 10 µs; and 25-55 µs when the threads are left wherever the
// host puts them (Options.NoPin), where every hand-off that finds the
// other side asleep is a cross-CPU wake-up of a halted virtual CPU.
//
// # Costs
//
// A syscall round trip costs one host signal delivery and rt_sigreturn
// (the XSAVE image written to and read from the slot; uk leaves the
// image's state bytes alone when it did not change them) and two
// hand-offs through the state word; no ptrace stop. A mapping batch costs
// a futex wake of the serving thread and a read of its pipe, on one CPU
// (6.4 us for an empty one here, against 9.7 us for a ptrace injection
// into a context's own traced edit thread, which it replaced), and the
// host's mmap and munmap work, which in a git job is most of a batch's
// 20-26 us.
//
// Lock order: stubproc's (the platform's list of address spaces, then an
// AddressSpace's lock, stubproc.Space.Mu, then the host's reap lock),
// then Platform.smu, which the reap lock's holder takes to give a reaped
// stub's slots back. AddressSpace's lock is held across a flush, which
// waits for the factory; the factory never takes any of these locks.
package sigsys

import (
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"uk/platform"
	"uk/platform/internal/stubproc"
)

// Options tune the platform.
type Options struct {
	// NoPin leaves each context's OS thread and its stub threads wherever
	// the host scheduler puts them, and makes the hand-off spin, instead
	// of pinning each pair to one CPU (its home, see the package doc) with no
	// spinning (see the package doc).
	NoPin bool
	// NoSplit keeps every pinned pair on its one CPU, never splitting it
	// across two CPUs to spin (handoff.go).
	NoSplit bool
	// Spin is how long uk spins on a stub thread's state word before it
	// sleeps on it when not pinned; 0 means DefaultSpin, negative never
	// spins (and never splits).
	Spin time.Duration

	// modes, for tests, replaces the confinement modes the host tries.
	modes []stubproc.Confinement
}

// Platform is the sigsys platform. Create it with New.
type Platform struct {
	h     *stubproc.Host
	pid   int // uk's own pid
	opts  Options
	slots *slotFile
	spin  time.Duration

	spaces stubproc.Spaces[*AddressSpace]

	// splitTokens counts the contexts that may still split (handoff.go):
	// one per two CPUs uk may run on.
	splitTokens atomic.Int32
	// running counts the contexts whose thread runs program code (from a
	// resume to its trap): a split pair's handler is held spinning only
	// while no other program runs (atTrap).
	running atomic.Int32
	// yieldsPaused: spinners do not yield after one found its CPU
	// contended; splitsPaused: pairs do not split after a split pair
	// kept missing while the CPUs were contended (handoff.go).
	yieldsPaused, splitsPaused pause

	smu sync.Mutex
	// released holds the killed stubs, by pid, until their process is
	// reaped: until then a thread of theirs may still write to their
	// slots (AddressSpace.gone). Protected by smu.
	released map[int]*AddressSpace
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
	p := &Platform{
		pid:      os.Getpid(),
		opts:     opts,
		spin:     opts.Spin,
		released: make(map[int]*AddressSpace),
	}
	if p.spin == 0 {
		p.spin = DefaultSpin
	}
	var err error
	if p.slots, err = newSlotFile(); err != nil {
		return nil, fmt.Errorf("sigsys: %w", err)
	}
	p.h, err = stubproc.NewHost(stubproc.Config{
		Name:        "sigsys",
		StubName:    "uk-sigsys-stub",
		Code:        stubCode(),
		MemFD:       memFD,
		ExtraFDs:    []int{p.slots.fd}, // slotFDInStub
		FDs:         "the memory file, the slot file and the host files it maps",
		Seccomp:     "application threads: every syscall traps",
		Filter:      stubFilter,
		MasterSteps: installHandler,
		Reaped:      p.reaped,
		Modes:       opts.modes,
		// Every stub thread that runs application code is placed by
		// the platform (handoff.go) unless told not to pin; the serving
		// thread follows whoever flushes (stubproc's serve.go).
		FollowCaller: !opts.NoPin,
		ServeSite:    siteServe,
		MapAhead:     true,
		ServeFD:      serveFDInStub,
		HostFiles:    true,
	})
	if err != nil {
		p.slots.close()
		return nil, err
	}
	if p.h.NumCPU() == 1 && opts.Spin == 0 {
		// uk and every stub thread share one CPU (taskset): a spinning
		// side only keeps the other from running.
		p.spin = -1
	}
	p.splitTokens.Store(int32(p.h.NumCPU() / 2))
	p.spaces.New = p.newAddressSpace
	p.spaces.Warm = func(as *AddressSpace) { as.park() }
	p.spaces.Background = p.h.Background
	// Probe: the master must fork one stub that takes injected syscalls,
	// or the platform is unavailable.
	as, err := p.newAddressSpace()
	if err != nil {
		p.shutdown()
		return nil, fmt.Errorf("%w: %v", platform.ErrUnavailable, err)
	}
	p.spaces.SetSpare(as)
	return p, nil
}

// reaped gives back the slots of a reaped stub: its memory is gone with
// it, so they may be handed out again, unless a context still holds one
// of its threads (AddressSpace.held): that context may be waiting on a
// state word, and is woken to find its thread gone; its drop gives the
// slots back.
func (p *Platform) reaped(pid int) {
	p.smu.Lock()
	as, ok := p.released[pid]
	delete(p.released, pid)
	var give, waited []int
	if ok {
		as.reaped = true
		if as.held == 0 {
			give, as.gone = as.gone, nil
		} else {
			waited = as.gone
		}
	}
	p.smu.Unlock()
	for _, s := range waited {
		futexWake(stateWord(p.slots.slot(s)), math.MaxInt32)
	}
	if len(give) > 0 {
		p.slots.put(give...)
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
// state word and signal stack, read-write), then the stub's code page,
// request page and scratch page (stubproc.Host.SpecialMappings).
func (p *Platform) SpecialMappings() []platform.SpecialMapping {
	return append([]platform.SpecialMapping{
		{Start: threadBase, End: stubproc.StubBase, Access: platform.Read | platform.Write, Name: "[uk-sigsys-threads]"},
	}, p.h.SpecialMappings()...)
}

// Confinement describes, in one line, how the stubs are confined (for
// `uk run --debug`).
func (p *Platform) Confinement() string { return p.h.Confinement() }

// NewAddressSpace hands out the spare stub (waiting for the one being
// started, if any) or starts a new stub process. From the second call on,
// it also starts the next spare in the background.
func (p *Platform) NewAddressSpace() (platform.AddressSpace, error) {
	return p.spaces.Get()
}

// NewContext returns a context.
func (p *Platform) NewContext() (platform.Context, error) {
	return &Context{p: p, threads: make(map[*AddressSpace]*thread)}, nil
}

// Close kills every stub process and stops the factory thread.
func (p *Platform) Close() error {
	if p.spaces.Close() {
		p.shutdown()
	}
	return nil
}

// shutdown stops the host and frees the slot file, which no stub maps any
// more.
func (p *Platform) shutdown() {
	p.h.Close()
	p.slots.close()
}
