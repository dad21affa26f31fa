// Package hostfilter confines uk itself, the second barrier of its security
// model (the first: an application's syscalls never reach the host kernel,
// they are all implemented in uk). Once start-up is done — the platform and
// its stubs running, the program and any --rootfs copied in, the TAP
// device, the console and the profile opened — Confine drops every
// capability, sets no_new_privs and installs a seccomp allowlist of the host
// syscalls uk needs from then on, on every thread. A kernel bug that let a
// program make uk do something else would then meet the host kernel's
// refusal: uk can no longer open, create or exec anything, fork, mount,
// change credentials or reach the network except through the TAP fd it
// holds.
//
// This file is the allowlist, each entry with the reason uk needs it. A
// syscall it lacks makes the host send uk a SIGSYS, which the Go runtime
// turns into a crash report naming the call site ("SIGSYS: bad system
// call", with the syscall number in rax): a missing entry shows up as a
// failing test, not as a silent error. `uk run --debug` prints the list.
package hostfilter

import (
	"golang.org/x/sys/unix"
)

// Rule admits one host syscall.
type Rule struct {
	Nr   int
	Name string
	// Why uk needs it.
	Why string
	// Alts, if any, restrict the arguments: the call is admitted when one
	// alternative matches (all of its Args do). None: any arguments.
	Alts [][]Arg
}

// Arg is a condition on one argument: arg[Index] & Mask == Value, or with
// Ne, != Value (Ne compares the low 32 bits only: it is for int arguments
// such as a directory fd).
type Arg struct {
	Index int
	Mask  uint64 // the bits compared; 0: all 64
	Value uint64
	Ne    bool
}

func (c Arg) mask() uint64 {
	if c.Mask == 0 {
		return ^uint64(0)
	}
	return c.Mask
}

// eq is arg[i] == v.
func eq(i int, v uint64) Arg { return Arg{Index: i, Value: v} }

// clear is arg[i] & mask == 0.
func clearBits(i int, mask uint64) Arg { return Arg{Index: i, Mask: mask, Value: 0} }

// set is arg[i] & bits == bits.
func set(i int, bits uint64) Arg { return Arg{Index: i, Mask: bits, Value: bits} }

// notCwd is arg[i] (a directory fd) != AT_FDCWD: a path is looked up
// relative to a directory uk opened, never to uk's working directory.
func notCwd(i int) Arg { return Arg{Index: i, Mask: 0xffffffff, Value: atFDCWD, Ne: true} }

// atFDCWD is AT_FDCWD (-100) as the 32-bit int the kernel reads.
const atFDCWD = 0xffffff9c

// one is a single alternative.
func one(args ...Arg) [][]Arg { return [][]Arg{args} }

// each makes one alternative per value of arg i.
func each(i int, vs ...uint64) [][]Arg {
	var alts [][]Arg
	for _, v := range vs {
		alts = append(alts, []Arg{eq(i, v)})
	}
	return alts
}

// goThreadFlags are the clone flags the Go runtime creates its threads with
// (runtime/os_linux.go: cloneFlags; sys_linux_amd64.s adds CLONE_SETTLS).
const goThreadFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_SYSVSEM | unix.CLONE_THREAD

// Terminal ioctls uk makes on its own stdio after start-up.
const (
	ioctlTCGETS     = unix.TCGETS
	ioctlTCSETS     = unix.TCSETS
	ioctlTIOCGWINSZ = unix.TIOCGWINSZ
)

// KVM ioctls on the VM and vCPU fds after start-up (linux/kvm.h; the
// /dev/kvm system ioctls are all made before).
const (
	kvmSetUserMemoryRegion = 0x4020ae46
	kvmCreateVCPU          = 0xae41
	kvmRun                 = 0xae80
	kvmGetRegs             = 0x8090ae81
	kvmSetRegs             = 0x4090ae82
	kvmGetSregs            = 0x8138ae83
	kvmSetSregs            = 0x4138ae84
	kvmGetVCPUEvents       = 0x8040ae9f
	kvmSetMSRs             = 0x4008ae89
	kvmSetCPUID2           = 0x4008ae90
	kvmGetXSave            = 0x9000aea4
	kvmSetXSave            = 0x5000aea5
	kvmGetXSave2           = 0x9000aecf
	kvmSetXCRs             = 0x4188aea7
	kvmSetDeviceAttr       = 0x4018aee1
	kvmHasDeviceAttr       = 0x4018aee3
)

// Options say what uk runs with, which decides part of the list.
type Options struct {
	// Platform is "ptrace", "sigsys" or "kvm".
	Platform string
	// HostFS: host directories are served (--rootfs DIR, --bind).
	HostFS bool
}

// Allowlist is every host syscall uk may make once confined, running as o
// says.
func Allowlist(o Options) []Rule {
	ioctls := []uint64{ioctlTCGETS, ioctlTCSETS, ioctlTIOCGWINSZ}
	if o.Platform == "kvm" {
		ioctls = append(ioctls, kvmCreateVCPU, kvmRun, kvmGetRegs, kvmSetRegs, kvmGetSregs, kvmSetSregs,
			kvmGetVCPUEvents, kvmSetMSRs, kvmSetCPUID2, kvmGetXSave, kvmSetXSave, kvmGetXSave2, kvmSetXCRs, kvmSetDeviceAttr,
			kvmHasDeviceAttr, kvmSetUserMemoryRegion)
	}
	// membarrier: QUERY and GLOBAL; under KVM also REGISTER_PRIVATE_EXPEDITED
	// and PRIVATE_EXPEDITED. Flags always 0.
	membarrierCmds := []uint64{0, 1}
	if o.Platform == "kvm" {
		membarrierCmds = append(membarrierCmds, 1<<4, 1<<3)
	}
	var membarrierAlts [][]Arg
	for _, c := range membarrierCmds {
		membarrierAlts = append(membarrierAlts, []Arg{eq(0, c), eq(1, 0)})
	}
	rules := []Rule{
		// The Go runtime: memory, threads, scheduling, signals, timers.
		{Nr: unix.SYS_MMAP, Name: "mmap", Why: "Go heap and stacks; KVM vCPU run areas. Never executable memory",
			Alts: one(clearBits(2, unix.PROT_EXEC))},
		{Nr: unix.SYS_MUNMAP, Name: "munmap", Why: "Go heap; KVM vCPU run areas"},
		{Nr: unix.SYS_MADVISE, Name: "madvise", Why: "the Go heap gives memory back (MADV_DONTNEED, MADV_FREE)"},
		{Nr: unix.SYS_MPROTECT, Name: "mprotect", Why: "Go runtime guard pages; never to executable",
			Alts: one(clearBits(2, unix.PROT_EXEC))},
		{Nr: unix.SYS_FUTEX, Name: "futex", Why: "Go runtime: parking and waking threads"},
		{Nr: unix.SYS_CLONE, Name: "clone", Why: "Go runtime: new OS threads (tasks lock theirs); exactly the runtime's thread flags, never a process",
			Alts: one(eq(0, goThreadFlags|unix.CLONE_SETTLS))},
		{Nr: unix.SYS_GETTID, Name: "gettid", Why: "Go runtime; the platforms check which thread they run on"},
		{Nr: unix.SYS_GETPID, Name: "getpid", Why: "Go runtime: signals to itself"},
		{Nr: unix.SYS_TGKILL, Name: "tgkill", Why: "Go runtime: preemption (SIGURG) and raise; the platforms: interrupting a running thread (SIGCHLD), killing a stub thread"},
		{Nr: unix.SYS_SCHED_YIELD, Name: "sched_yield", Why: "Go runtime: spinning"},
		{Nr: unix.SYS_NANOSLEEP, Name: "nanosleep", Why: "Go runtime: usleep"},
		{Nr: unix.SYS_CLOCK_GETTIME, Name: "clock_gettime", Why: "time (the vDSO answers most reads; the syscall is its fallback)"},
		{Nr: unix.SYS_CLOCK_NANOSLEEP, Name: "clock_nanosleep", Why: "Go runtime: sleeping"},
		{Nr: unix.SYS_TIMERFD_SETTIME, Name: "timerfd_settime", Why: "internal/hrtimer: arming its timerfd for the next sub-10 ms deadline (Go's timers are late by up to 1 ms)"},
		{Nr: unix.SYS_RT_SIGACTION, Name: "rt_sigaction", Why: "Go runtime and os/signal: signal handlers (host signal forwarding, SIGWINCH)"},
		{Nr: unix.SYS_RT_SIGPROCMASK, Name: "rt_sigprocmask", Why: "Go runtime: signal masks of new threads"},
		{Nr: unix.SYS_RT_SIGRETURN, Name: "rt_sigreturn", Why: "Go runtime: return from a signal handler"},
		{Nr: unix.SYS_SIGALTSTACK, Name: "sigaltstack", Why: "Go runtime: signal stacks of new threads"},
		{Nr: unix.SYS_SETITIMER, Name: "setitimer", Why: "Go runtime: CPU profiling (UK_CPUPROFILE)"},
		{Nr: unix.SYS_TIMER_CREATE, Name: "timer_create", Why: "Go runtime: per-thread CPU profiling timers"},
		{Nr: unix.SYS_TIMER_SETTIME, Name: "timer_settime", Why: "Go runtime: per-thread CPU profiling timers"},
		{Nr: unix.SYS_TIMER_DELETE, Name: "timer_delete", Why: "Go runtime: per-thread CPU profiling timers"},
		{Nr: unix.SYS_GETRANDOM, Name: "getrandom", Why: "the sandbox's /dev/random and getrandom; Go's hash seeds"},
		{Nr: unix.SYS_EXIT, Name: "exit", Why: "Go runtime: a thread ends"},
		{Nr: unix.SYS_EXIT_GROUP, Name: "exit_group", Why: "uk exits"},
		{Nr: unix.SYS_RESTART_SYSCALL, Name: "restart_syscall", Why: "the host restarts an interrupted sleep"},
		{Nr: unix.SYS_SCHED_GETAFFINITY, Name: "sched_getaffinity", Why: "Go runtime; the sandbox's sched_getaffinity"},
		{Nr: unix.SYS_MEMBARRIER, Name: "membarrier", Why: "the sandbox's membarrier: the host's MEMBARRIER_CMD_GLOBAL makes every CPU that may run a program thread execute a barrier (QUERY first: whether the host has it); under KVM, where uk's own threads run them all, its PRIVATE_EXPEDITED (after uk's registration)",
			Alts: membarrierAlts},

		// Waiting for file descriptors (Go's netpoller; uk's own polls).
		{Nr: unix.SYS_EPOLL_PWAIT, Name: "epoll_pwait", Why: "Go netpoller"},
		{Nr: unix.SYS_EPOLL_CTL, Name: "epoll_ctl", Why: "Go netpoller: the TAP fd and host stdio"},
		{Nr: unix.SYS_POLL, Name: "poll", Why: "host stdio and the console wait for input (the reader goroutines)"},
		{Nr: unix.SYS_PPOLL, Name: "ppoll", Why: "host stdio and the console wait for input"},

		// File descriptors uk already holds.
		{Nr: unix.SYS_READ, Name: "read", Why: "host stdin, the TAP device, eventfds"},
		{Nr: unix.SYS_WRITE, Name: "write", Why: "host stdout/stderr, the TAP device, eventfds"},
		{Nr: unix.SYS_READV, Name: "readv", Why: "netstack reads frames from the TAP device"},
		{Nr: unix.SYS_WRITEV, Name: "writev", Why: "netstack writes frames to the TAP device"},
		{Nr: unix.SYS_CLOSE, Name: "close", Why: "closing fds uk holds"},
		{Nr: unix.SYS_FCNTL, Name: "fcntl", Why: "Go's os package and netstack: fd flags (non-blocking mode); fdgrow: grow uk's fd table ahead of use (F_DUPFD_CLOEXEC)",
			Alts: each(1, unix.F_GETFL, unix.F_SETFL, unix.F_GETFD, unix.F_SETFD, unix.F_DUPFD_CLOEXEC)},
		{Nr: unix.SYS_IOCTL, Name: "ioctl", Why: "host terminal: read its settings and window size, put back the mode uk boot changed; KVM: make vCPUs, run them, move their registers",
			Alts: each(1, ioctls...)},
		{Nr: unix.SYS_PREAD64, Name: "pread64", Why: "Go runtime: sysmon re-reads the cgroup CPU limit every second, through an fd opened at start (GOMAXPROCS updates); hostfs: file contents"},
		{Nr: unix.SYS_PWRITEV, Name: "pwritev", Why: "the memory file: fill pages the host has not backed with copies of others (memfile.CopyPages)"},
		{Nr: unix.SYS_PWRITE64, Name: "pwrite64", Why: "the memory file: fill pages without faulting them in (loading a program); hostfs: writes to host files"},
		{Nr: unix.SYS_FALLOCATE, Name: "fallocate", Why: "the memory file and host files give freed pages back (FALLOC_FL_PUNCH_HOLE|KEEP_SIZE)",
			Alts: one(eq(1, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE))},
	}
	if o.Platform == "ptrace" || o.Platform == "sigsys" {
		rules = append(rules,
			Rule{Nr: unix.SYS_SENDMSG, Name: "sendmsg", Why: "stub platforms: hand a read-only tree's host file to a stub, which maps it (SCM_RIGHTS over the stub's socket)",
				Alts: one(eq(2, unix.MSG_DONTWAIT))},
			Rule{Nr: unix.SYS_PIDFD_OPEN, Name: "pidfd_open", Why: "stub platforms: reach a new stub to take its ends of the serving thread's pipe and of its socket",
				Alts: one(eq(1, 0))},
			Rule{Nr: unix.SYS_PIDFD_GETFD, Name: "pidfd_getfd", Why: "stub platforms: take uk's end of a new stub's socket (and, on sigsys, the read end of its serving-thread pipe); uk traces the stub already",
				Alts: one(eq(2, 0))},
		)
	}
	if o.Platform == "ptrace" {
		rules = append(rules,
			Rule{Nr: unix.SYS_PTRACE, Name: "ptrace", Why: "ptrace platform: run, stop and inspect stub threads"},
			Rule{Nr: unix.SYS_WAIT4, Name: "wait4", Why: "ptrace platform: stops of stub threads; reaping them"},
			Rule{Nr: unix.SYS_PROCESS_VM_READV, Name: "process_vm_readv", Why: "ptrace platform: read the faulting instruction in a stub"},
			Rule{Nr: unix.SYS_KILL, Name: "kill", Why: "ptrace platform: kill a released stub process",
				Alts: one(eq(1, uint64(unix.SIGKILL)))},
			Rule{Nr: unix.SYS_SCHED_SETAFFINITY, Name: "sched_setaffinity", Why: "ptrace platform: pin a tracer and its stub threads to one CPU"},
		)
	}
	if o.Platform == "sigsys" {
		rules = append(rules,
			Rule{Nr: unix.SYS_PTRACE, Name: "ptrace", Why: "sigsys platform: set up stubs and their threads"},
			Rule{Nr: unix.SYS_WAIT4, Name: "wait4", Why: "sigsys platform: stops of stub edit threads; reaping stubs"},
			Rule{Nr: unix.SYS_KILL, Name: "kill", Why: "sigsys platform: kill a released stub process",
				Alts: one(eq(1, uint64(unix.SIGKILL)))},
			Rule{Nr: unix.SYS_SCHED_SETAFFINITY, Name: "sched_setaffinity", Why: "sigsys platform: pin a context and its stub threads to one CPU (Options.Pin)"},
		)
	}
	if o.HostFS {
		// fs/hostfs: host files reached only through directory fds
		// opened at start, one component at a time, never following a
		// symbolic link (its package comment lists these calls).
		rules = append(rules,
			Rule{Nr: unix.SYS_OPENAT, Name: "openat", Why: "hostfs: a name in a served directory, never through a symlink",
				Alts: one(notCwd(0), set(2, unix.O_NOFOLLOW))},
			Rule{Nr: unix.SYS_NEWFSTATAT, Name: "newfstatat", Why: "hostfs: attributes of a name in a served directory",
				Alts: one(notCwd(0), set(3, unix.AT_SYMLINK_NOFOLLOW))},
			Rule{Nr: unix.SYS_FSTAT, Name: "fstat", Why: "hostfs: attributes of an open host file"},
			Rule{Nr: unix.SYS_FSTATFS, Name: "fstatfs", Why: "hostfs: statfs of a served tree"},
			Rule{Nr: unix.SYS_READLINKAT, Name: "readlinkat", Why: "hostfs: a symlink's target, resolved by uk's VFS inside the sandbox",
				Alts: one(notCwd(0))},
			Rule{Nr: unix.SYS_GETDENTS64, Name: "getdents64", Why: "hostfs: directory listings"},
			Rule{Nr: unix.SYS_LSEEK, Name: "lseek", Why: "hostfs: SEEK_DATA/SEEK_HOLE, positions for sendfile"},
			Rule{Nr: unix.SYS_SENDFILE, Name: "sendfile", Why: "hostfs: fill the page cache in the memory file from a host file"},
			Rule{Nr: unix.SYS_FTRUNCATE, Name: "ftruncate", Why: "hostfs: truncate a file of a writable bind mount"},
			Rule{Nr: unix.SYS_FSYNC, Name: "fsync", Why: "hostfs: fsync of a writable bind mount's file"},
			Rule{Nr: unix.SYS_MKDIRAT, Name: "mkdirat", Why: "hostfs: writable bind mounts",
				Alts: one(notCwd(0))},
			Rule{Nr: unix.SYS_MKNODAT, Name: "mknodat", Why: "hostfs: FIFOs and sockets in writable bind mounts (never devices)",
				Alts: [][]Arg{{notCwd(0), {Index: 2, Mask: unix.S_IFMT, Value: unix.S_IFIFO}},
					{notCwd(0), {Index: 2, Mask: unix.S_IFMT, Value: unix.S_IFSOCK}}}},
			Rule{Nr: unix.SYS_SYMLINKAT, Name: "symlinkat", Why: "hostfs: writable bind mounts",
				Alts: one(notCwd(1))},
			Rule{Nr: unix.SYS_LINKAT, Name: "linkat", Why: "hostfs: writable bind mounts; never following a symlink",
				Alts: one(notCwd(0), notCwd(2), clearBits(4, unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH))},
			Rule{Nr: unix.SYS_UNLINKAT, Name: "unlinkat", Why: "hostfs: writable bind mounts",
				Alts: one(notCwd(0))},
			Rule{Nr: unix.SYS_RENAMEAT2, Name: "renameat2", Why: "hostfs: writable bind mounts",
				Alts: one(notCwd(0), notCwd(2))},
			Rule{Nr: unix.SYS_FCHOWNAT, Name: "fchownat", Why: "hostfs: chown in writable bind mounts, never through a symlink",
				Alts: one(notCwd(0), set(4, unix.AT_SYMLINK_NOFOLLOW))},
			Rule{Nr: unix.SYS_FCHMODAT2, Name: "fchmodat2", Why: "hostfs: chmod in writable bind mounts, never through a symlink",
				Alts: one(notCwd(0), set(3, unix.AT_SYMLINK_NOFOLLOW))},
			Rule{Nr: unix.SYS_UTIMENSAT, Name: "utimensat", Why: "hostfs: times in writable bind mounts, never through a symlink",
				Alts: one(notCwd(0), set(3, unix.AT_SYMLINK_NOFOLLOW))},
		)
	}
	return rules
}
