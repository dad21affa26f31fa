package ptrace

import (
	"golang.org/x/sys/unix"

	"uk/platform/internal/stubproc"
)

// The stubs' seccomp filters. Since Linux 4.8 seccomp runs after the ptrace
// syscall-entry stop, and a PTRACE_SYSEMU stop skips the syscall before
// seccomp is consulted, so a filter only ever judges syscalls uk injects at
// the stub's sites. It allows exactly those and kills the stub for anything
// else: defense in depth should the application ever manage to run a host
// syscall in a stub.
//
// There are two, stacked (the kernel runs both; the strictest answer wins).
// The master stub, which only ever forks the stubs of address spaces
// (stubproc), installs the master filter; it also admits that fork, the
// mremap that moves a new stub's request page into place and the seccomp
// call that adds the second filter. Each address-space stub inherits it and
// adds the stub filter, which takes those three away again.
//
// Both admit what installs and maps a host file (the stub's socket pair,
// read and recvmsg from it, dup3 and close to move the fd into place, a
// private never-writable mmap of a host file fd:
// stubproc.Prog.HostFileCalls).

// Shorthands for the filter's code.
const (
	retAllow = stubproc.RetAllow
	retTrap  = stubproc.RetTrap
	retKill  = stubproc.RetKill
)

// stubFilter builds the stub filter, or with master the master's filter.
func stubFilter(master bool) []stubproc.Insn {
	var b stubproc.Prog
	b.LoadNr("kill")
	b.Jeq(unix.SYS_MUNMAP, "allow")
	b.Jeq(unix.SYS_MPROTECT, "allow")
	b.Jeq(unix.SYS_PAUSE, "allow")
	b.Jeq(unix.SYS_EXIT, "allow")
	b.Jeq(unix.SYS_MMAP, "mmap")
	b.Jeq(unix.SYS_SOCKETPAIR, "socketpair")
	b.Jeq(unix.SYS_READ, "read")
	b.Jeq(unix.SYS_RECVMSG, "recvmsg")
	b.Jeq(unix.SYS_DUP3, "allow")
	b.Jeq(unix.SYS_CLOSE, "allow")
	b.Jeq(unix.SYS_CLONE, "clone")
	b.Jeq(unix.SYS_GETTIMEOFDAY, "trap")
	b.Jeq(unix.SYS_TIME, "trap")
	b.Jeq(unix.SYS_GETCPU, "trap")
	if master {
		b.Jeq(unix.SYS_MREMAP, "mremap")
		b.Jeq(unix.SYS_SECCOMP, "seccomp")
	}
	b.Ret(retKill)

	if master {
		// The fork's request page, and the stub filter.
		b.RequestPageMove("kill")
		b.AddFilter("kill")
	}

	// mmap: a host file's (HostFileCalls), or only MapFlags or
	// MapFlagsLazy mappings of the memory file.
	b.HostFileCalls("mmap-memfile", "kill")
	b.Label("mmap-memfile")
	b.MapFlagsArg("kill")
	b.Need64(stubproc.ArgOff(4), stubproc.MemFDInStub, "kill")
	b.Ret(retAllow)

	b.Clone(master, "kill")

	// Shared exits; classic BPF only jumps forward, so they come last.
	b.Label("allow")
	b.Ret(retAllow)
	b.Label("trap")
	b.Ret(retTrap)
	b.Label("kill")
	b.Ret(retKill)
	return b.Link()
}
