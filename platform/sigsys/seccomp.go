package sigsys

import (
	"golang.org/x/sys/unix"

	"uk/platform/internal/stubproc"
)

// The stubs' seccomp filters. There are three, stacked (the kernel runs
// every filter of a thread; the strictest answer wins: KILL over TRAP over
// ALLOW).
//
// The master stub installs the master filter; each address space's stub
// inherits it and adds the stub filter, which takes the master's fork and
// mremap away again. Together they allow the host calls uk injects into a
// stub's main thread (the edit thread) and the serving thread makes
// (stubproc's serve.go): mmap only of the memory file or the slot file
// with fixed flags, munmap, mprotect, a thread clone with fixed flags,
// sigaltstack and adding a filter (to set up a new thread), pipe2, dup3
// and close (to set up the serving thread's completion pipe), write only to
// that pipe, the calls the handler makes, and what installs and maps a
// host file (the stub's socket pair, read and recvmsg from it, dup3 and close,
// a private never-writable mmap of a host file fd:
// stubproc.Prog.HostFileCalls).
//
// Application threads add the thread filter (threadFilter) before they run
// any application code. It returns SECCOMP_RET_TRAP for everything but
// three calls, each only from one site of the handler's own code (by
// seccomp_data.instruction_pointer, the address after the syscall
// instruction): futex WAIT or WAKE (the op checked: no PI, requeue or
// wake-op), rt_sigreturn, and exit. The program can jump to those sites
// with any registers; what it gets is harmless to anyone but itself:
//
//   - futex WAIT/WAKE on its own memory: it blocks itself or wakes a
//     waiter on a page it maps. uk's waiters (on slot state words) recheck
//     the word after every wakeup; guest futexes are uk's, not host ones.
//   - rt_sigreturn with a forged frame: the host kernel validates it as for
//     any program (user selectors forced, flags masked), so it gets the
//     registers it could have loaded itself. It can also set its own
//     host signal mask and alternate stack that way: blocking SIGSYS makes
//     the host kill the stub at its next syscall; blocking the interrupt
//     signal or moving its alternate stack away only keeps its own thread
//     from coming back to uk (Interrupt then waits until it traps).
//   - exit: it ends its own host thread; uk sees the thread gone.
//
// No application thread can issue mmap, so no forged mapping of the memory
// file (or of another thread's slot) can ever be made from application
// code; only the edit and serving threads, which never run application
// code and only ever run what uk asks (ptrace injections, batches on the
// request page), can. Nor can one write to the serving thread's pipe, so
// no completion of a batch can be forged.
//
// The legacy vsyscall page, which the host kernel emulates on an
// instruction fetch without a syscall instruction, is trapped by the same
// filter: the three vsyscall numbers return SECCOMP_RET_TRAP, which uk
// reports as a fault at the vsyscall address (see Context.classify), as
// Linux with vsyscall=none would.

// Shorthands for the filters' code.
const (
	retAllow = stubproc.RetAllow
	retTrap  = stubproc.RetTrap
)

// stubFilter builds the stub filter, or with master the master's filter
// (see the top of this file). Anything it does not allow traps.
func stubFilter(master bool) []stubproc.Insn {
	var b stubproc.Prog
	b.LoadNr("trap")
	b.Jeq(unix.SYS_MUNMAP, "allow")
	b.Jeq(unix.SYS_MPROTECT, "allow")
	b.Jeq(unix.SYS_PAUSE, "allow")
	b.Jeq(unix.SYS_EXIT, "allow")
	b.Jeq(unix.SYS_SIGALTSTACK, "allow")
	// The handler's calls; the thread filter restricts them further.
	b.Jeq(unix.SYS_FUTEX, "allow")
	b.Jeq(unix.SYS_RT_SIGRETURN, "allow")
	// The serving thread's completion pipe: made at the stub's start,
	// then written (to its one fd only) after each batch.
	b.Jeq(unix.SYS_PIPE2, "allow")
	b.Jeq(unix.SYS_DUP3, "allow")
	b.Jeq(unix.SYS_CLOSE, "allow")
	b.Jeq(unix.SYS_WRITE, "write")
	b.Jeq(unix.SYS_MMAP, "mmap")
	b.Jeq(unix.SYS_SOCKETPAIR, "socketpair")
	b.Jeq(unix.SYS_READ, "read")
	b.Jeq(unix.SYS_RECVMSG, "recvmsg")
	b.Jeq(unix.SYS_CLONE, "clone")
	b.Jeq(unix.SYS_SECCOMP, "seccomp")
	if master {
		b.Jeq(unix.SYS_MREMAP, "mremap")
	}
	b.Ret(retTrap)

	if master {
		// The fork's request page.
		b.RequestPageMove("trap")
	}
	// Stubs add a filter too, for each new thread.
	b.AddFilter("trap")

	// mmap: a host file's (HostFileCalls), or only MapFlags or
	// MapFlagsLazy mappings of the memory file (fd 3) or the slot file
	// (fd 5).
	b.HostFileCalls("mmap-memfile", "trap")
	b.Label("mmap-memfile")
	b.MapFlagsArg("trap")
	b.Ld(stubproc.ArgOff(4) + 4)
	b.Jne(0, "trap")
	b.Ld(stubproc.ArgOff(4))
	b.Jeq(stubproc.MemFDInStub, "allow")
	b.Jeq(slotFDInStub, "allow")
	b.Ret(retTrap)

	b.Label("write")
	b.Need64(stubproc.ArgOff(0), serveFDInStub, "trap")
	b.Ret(retAllow)

	b.Clone(master, "trap")

	// Shared exits; classic BPF only jumps forward, so they come last.
	b.Label("allow")
	b.Ret(retAllow)
	b.Label("trap")
	b.Ret(retTrap)
	return b.Link()
}

// threadFilter builds the filter of application threads (see the top of
// this file): everything traps but the handler's futex, rt_sigreturn and
// the exit site, each from its own instruction only.
func threadFilter() []stubproc.Insn {
	var b stubproc.Prog
	b.LoadNr("trap")
	b.Jeq(unix.SYS_FUTEX, "futex")
	b.Jeq(unix.SYS_RT_SIGRETURN, "sigreturn")
	b.Jeq(unix.SYS_EXIT, "exit")
	b.Ret(retTrap)

	// futex: from the handler's and the trampoline's two futex sites each, WAIT or WAKE only (the
	// op is an int: its upper half is ignored by the kernel).
	b.Label("futex")
	b.Ld(stubproc.SdIP + 4)
	b.Jne(uint32(siteWakeRet>>32), "trap")
	b.Ld(stubproc.SdIP)
	b.Jeq(uint32(siteWakeRet), "futexop")
	b.Jeq(uint32(siteFastWakeRet), "futexop")
	b.Jeq(uint32(siteFastWaitRet), "futexop")
	b.Jne(uint32(siteWaitRet), "trap")
	b.Label("futexop")
	b.Ld(stubproc.ArgOff(1))
	b.Jeq(futexOpWait, "allow")
	b.Jeq(futexOpWake, "allow")
	b.Ret(retTrap)

	b.Label("sigreturn")
	b.Need64(stubproc.SdIP, siteSigreturnRet, "trap")
	b.Ret(retAllow)

	b.Label("exit")
	b.Need64(stubproc.SdIP, siteExitRet, "trap")
	b.Ret(retAllow)

	b.Label("allow")
	b.Ret(retAllow)
	b.Label("trap")
	b.Ret(retTrap)
	return b.Link()
}
