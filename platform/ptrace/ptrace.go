// Package ptrace is uk's ptrace platform: application code runs natively in
// stub processes that uk traces with PTRACE_SYSEMU, so every system call,
// fault and synchronous signal of the application stops the stub and comes
// back to uk instead of reaching the host kernel.
//
// # Stub processes
//
// Each AddressSpace is one stub process. The platform starts one master
// stub by exec'ing a tiny static ELF image (a few hundred bytes of
// hand-assembled code at the top of the user address range) from a memfd.
// Nothing of uk is forked: the child of syscall.ForkExec holds only the
// memory file as fd 3 (and the request file as fd 4, until set up) and is
// traced from its first instruction (PTRACE_TRACEME, then
// PTRACE_O_EXITKILL, PTRACE_O_TRACESYSGOOD and the fork and clone events).
// uk then unmaps everything but the stub (stack, vDSO, vvar), confines it
// and from then on makes each address space's stub by
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
//     stub threads are pinned to one CPU, the one the thread ran on when the
//     context started (Host.PickCPU): a ptrace round trip between CPUs
//     costs up to three times as much.
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
// host allows it, hold no fd but the memory file, and carry
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
// The stub processes themselves (the image, the master and its
// confinement, forking a stub per address space, mapping batches, cloning
// stub threads, reaping) are platform/internal/stubproc's, shared with
// platform/sigsys; this package adds the stub threads that run application
// code under PTRACE_SYSEMU and their tracers.
//
// Lock order: stubproc's (the platform's list of address spaces, then an
// AddressSpace's lock, stubproc.Space.Mu). AddressSpace's lock is held
// across a flush, including a flush that waits for the factory; the
// factory never takes either lock, so this cannot deadlock. Context has no
// lock: only its own goroutine uses it, except Interrupt, which uses
// atomics only.
package ptrace

import (
	"fmt"
	"os"

	"uk/platform"
	"uk/platform/internal/stubproc"
)

// Options tune the platform.
type Options struct {
	// NoPin leaves tracer and stub threads wherever the host scheduler puts
	// them instead of pinning each pair to one CPU.
	NoPin bool

	// modes, for tests, replaces the confinement modes the host tries.
	modes []stubproc.Confinement
}

// Platform is the ptrace platform. Create it with New.
type Platform struct {
	h    *stubproc.Host
	pid  int // uk's own pid: interrupts are signals sent by it
	opts Options

	spaces stubproc.Spaces[*AddressSpace]
}

var _ platform.Platform = (*Platform)(nil)

// New returns a ptrace platform whose address spaces map memFD, the memory
// file. If ptrace cannot be used here, the error wraps
// platform.ErrUnavailable with a one-line reason.
func New(memFD int) (*Platform, error) { return NewWithOptions(memFD, Options{}) }

// NewWithOptions is New with tuning options.
func NewWithOptions(memFD int, opts Options) (*Platform, error) {
	h, err := stubproc.NewHost(stubproc.Config{
		Name:      "ptrace",
		StubName:  "uk-stub",
		Code:      stubproc.BaseCode(),
		MemFD:     memFD,
		FDs:       "the memory file and the host files it maps",
		Filter:    stubFilter,
		Modes:     opts.modes,
		HostFiles: true,
	})
	if err != nil {
		return nil, err
	}
	p := &Platform{h: h, pid: os.Getpid(), opts: opts}
	p.spaces.New = p.newAddressSpace
	p.spaces.Warm = func(as *AddressSpace) { as.park() }
	// Probe: the master must fork one stub that takes injected syscalls,
	// or the platform is unavailable.
	as, err := p.newAddressSpace()
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("%w: %v", platform.ErrUnavailable, err)
	}
	p.spaces.SetSpare(as)
	return p, nil
}

// Name returns "ptrace".
func (p *Platform) Name() string { return "ptrace" }

// MaxUserAddress is where the stub's code begins; the application owns
// everything below.
const MaxUserAddress = stubproc.StubBase

// MaxUserAddress returns the constant MaxUserAddress.
func (p *Platform) MaxUserAddress() uint64 { return MaxUserAddress }

var _ platform.SpecialMapper = (*Platform)(nil)

// SpecialMappings are the stub's code page, request page and scratch
// page (stubproc.Host.SpecialMappings).
func (p *Platform) SpecialMappings() []platform.SpecialMapping {
	return p.h.SpecialMappings()
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

// NewContext returns a context; it binds to the OS thread of the goroutine
// that first calls Switch on it.
func (p *Platform) NewContext() (platform.Context, error) {
	return &Context{p: p, threads: make(map[*AddressSpace]int)}, nil
}

// Close kills every stub process and stops the factory thread.
func (p *Platform) Close() error {
	if p.spaces.Close() {
		p.h.Close()
	}
	return nil
}
