// Package kernel is uk's Linux: tasks and thread groups, the syscall
// dispatch loop, credentials and limits. Each application thread is a Task
// running in its own goroutine, locked to its OS thread (the ptrace platform
// binds a traced stub thread to the tracer thread). The loop of a task is:
// switch into the application until it traps; a syscall goes through the
// syscall table; a page fault goes to mm; anything else becomes a signal.
//
// Syscall handlers live in kernel/syscalls, one file per family; they reach
// the kernel through Task's exported methods. The table is handed to
// New, so this package does not import the handlers.
package kernel

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"uk/fs/fanotify"
	"uk/fs/inotify"
	"uk/net/netdev"
	"uk/net/socket"
	unixsock "uk/net/unix"

	"uk/fs/tty"
	"uk/fs/vfs"
	"uk/kernel/futex"
	"uk/kernel/memfile"
	"uk/kernel/vdso"
	"uk/platform"

	"golang.org/x/sys/unix"
)

// Config is what a kernel is started with.
type Config struct {
	Platform platform.Platform
	// NoSyscallPatch keeps every syscall site trapping, even on a
	// platform that can take patched sites (kernel/mm's patch.go).
	NoSyscallPatch bool
	MemFile        *memfile.File
	Table          *SyscallTable
	// Hostname is the UTS nodename.
	Hostname string
	// Cmdline is the kernel command line (/proc/cmdline).
	Cmdline string
	// Filesystems are the filesystem types mount(2) knows, in the order
	// /proc/filesystems lists them and sysfs(2) numbers them.
	Filesystems []string
	// VFS is the sandbox's filesystem namespace (nil: no filesystem yet).
	VFS *vfs.VFS
	// Strace, when non-nil, receives one line per syscall.
	Strace io.Writer
	// Debug receives diagnostics such as "not implemented" notes; nil
	// discards them.
	Debug io.Writer
	// NoVDSO leaves the vDSO out of address spaces: every clock read is
	// then a syscall (for comparisons and for learning what it saves).
	NoVDSO bool
	// SessionLeaderExited, when set, is told that a session leader's
	// process ended (its terminal hangs up); ctty may be nil.
	SessionLeaderExited func(sid int32, ctty *tty.Terminal)
	// CrashLog receives the report of an application killed by a fault;
	// nil means os.Stderr.
	CrashLog io.Writer
	// Network is the sandbox's network namespace (nil: AF_UNIX only).
	Network Network
	// MaxTasks is the most tasks the sandbox may hold at once, and the
	// most processes including zombies (0: no limit); clone beyond it
	// fails with EAGAIN (process_limits.go).
	MaxTasks int
}

// Network is a sandbox's network namespace as the kernel sees it: the
// socket families beyond AF_UNIX, and the interface table the SIOCGIF*
// ioctls read. net/netns implements it.
type Network interface {
	// Provider returns the implementation of an address family
	// (EAFNOSUPPORT when the namespace has none).
	Provider(family int) (socket.Provider, error)
	// Interfaces returns the interface table.
	Interfaces() (netdev.Table, error)
	// InetSockets lists the sockets of an Internet family and protocol
	// (IPPROTO_TCP, IPPROTO_UDP) as /proc/net/tcp and its kin show them.
	InetSockets(family, protocol int) []socket.InetInfo
	// Fresh returns a new namespace with only a loopback device.
	Fresh() Network
	// Close stops the namespace's stack, letting closed TCP
	// connections finish sending for up to drain.
	Close(drain time.Duration)
}

// Kernel is one sandbox.
type Kernel struct {
	// ptraceLinks counts tasks with a tracer, or whose exit a tracer has
	// yet to collect: while it is 0 an exit has no ptrace work to do.
	ptraceLinks atomic.Int32
	Config
	// Boot is when the kernel started (CLOCK_BOOTTIME zero point).
	Boot time.Time

	uts     *UTSNamespace // the first UTS namespace, made once (uts.go)
	utsOnce sync.Once
	// netRoot is the first network namespace, made once from Network
	// (netns.go); liveNets counts the ones made since.
	netRoot  *NetNamespace
	netOnce  sync.Once
	liveNets atomic.Int32
	// unixNS is the AF_UNIX family, made on first use (UnixNamespace).
	unixNS   *unixsock.Namespace
	unixOnce sync.Once

	mu      sync.Mutex
	nextTID int32                  // protected by mu
	tasks   map[int32]*Task        // live tasks by TID; protected by mu
	tgs     map[int32]*ThreadGroup // processes by PID, zombies included; protected by mu
	initTG  *ThreadGroup           // PID 1; protected by mu
	// initTask is the thread of a PID 1 that runs no code (uk run's
	// stand-in): what /proc/1 shows and what a tracer attaching to it
	// sees (ptrace.go's attachKernelInit); set with initTG.
	initTask *Task
	fdUsers  map[*FDTable]int // tasks sharing each descriptor table; protected by mu
	nrTasks  int              // live tasks, and tasks being created; protected by mu
	goneCPU  int64            // CPU time of the processes ended, ns (CPUTotal); protected by mu
	created  int64            // tasks ever made (TasksCreated); protected by mu

	// mainTG is the process whose exit ends the sandbox.
	mainTG *ThreadGroup
	// done receives the exit status of mainTG.
	done chan int

	futexes    *futex.Manager
	halted     atomic.Bool // reboot(2) powered the sandbox off, or Stop ended it
	vdso       *vdsoPages
	timekeeper atomic.Pointer[vdso.Timekeeper] // nil until calibrated, or when the TSC is unusable
	// wall is the sandbox's own setting of its wall clock (time_wallclock.go).
	wall wallClock

	// ipcRoot is the sandbox's first IPC namespace (ipcns.go).
	ipcRoot *IPCNamespace
	// keys is the sandbox's key registry (task_keys.go).
	keys keysState

	// inotify holds the sandbox's inotify limits and what each user has
	// against them.
	inotify *inotify.Limits
	// fanotify holds the sandbox's fanotify limits and what each user
	// has against them.
	fanotify *fanotify.Limits

	// oom is the OOM killer's state (kernel_oom.go).
	oom oomKiller

	// acct is process accounting (acct.go).
	acct processAccounting
	// aioNr counts the events of every AIO context (aio.go).
	aioNr aioEvents

	// workers are task goroutines idle between tasks (task_worker.go).
	workers workerPool

	missingMu sync.Mutex
	missing   map[uint64]int // calls of each syscall not implemented; protected by missingMu
	// patcher is the platform, if it takes patched syscall sites and
	// patching is on (SetPlatform).
	patcher platform.SyscallPatcher
}

// New creates a kernel.
func New(c Config) *Kernel {
	if c.Debug == nil {
		c.Debug = io.Discard
	}
	if c.CrashLog == nil {
		c.CrashLog = os.Stderr
	}
	if c.Hostname == "" {
		c.Hostname = "uk"
	}
	k := &Kernel{Config: c, Boot: time.Now(), nextTID: 1, tasks: make(map[int32]*Task), tgs: make(map[int32]*ThreadGroup), fdUsers: make(map[*FDTable]int),
		done: make(chan int, 1), missing: make(map[uint64]int), futexes: futex.NewManager(), inotify: inotify.NewLimits(), fanotify: fanotify.NewLimits()}
	k.ipcRoot = newIPCNamespace(k, rootIPCInum)
	k.ipcRoot.initial = true
	k.SetPlatform(c.Platform)
	if c.NoVDSO {
		return k
	}
	if err := k.setupVDSO(); err != nil {
		fmt.Fprintf(k.Debug, "uk: no vdso: %v\n", err)
	}
	return k
}

// SetPlatform installs the platform tasks run on (before the first runs).
func (k *Kernel) SetPlatform(p platform.Platform) {
	k.Platform = p
	k.patcher = nil
	if sp, ok := p.(platform.SyscallPatcher); ok && !k.NoSyscallPatch {
		k.patcher = sp
	}
}

// Inotify returns the sandbox's inotify limits (/proc/sys/fs/inotify).
func (k *Kernel) Inotify() *inotify.Limits { return k.inotify }

// Fanotify returns the sandbox's fanotify limits.
func (k *Kernel) Fanotify() *fanotify.Limits { return k.fanotify }

// pidMax is the largest PID handed out before wrapping (pid_max).
const pidMax = 4194304

// allocTIDLocked hands out the next free thread id (skipping ids still
// held by live tasks or unreaped processes) and registers t under it.
// Preconditions: k.mu held.
func (k *Kernel) allocTIDLocked(t *Task) int32 {
	for k.pidInUseLocked(k.nextTID) {
		k.nextTID++
		if k.nextTID > pidMax {
			k.nextTID = 2
		}
	}
	tid := k.nextTID
	k.nextTID++
	k.tasks[tid] = t
	k.created++
	return tid
}

// removeTask unregisters t and gives back its place under MaxTasks. The
// last task of a process brings the process's final CPU time to
// goneCPU, in the same step as it leaves the task table: CPUTotal counts
// a process once, live or gone.
func (k *Kernel) removeTask(t *Task, last bool, processCPU int64) {
	attr, creds := t.Sched(), t.Credentials() // t.mu is not taken under k.mu
	k.mu.Lock()
	if last {
		k.goneCPU += processCPU
	}
	t.noteLeaderGoneLocked(attr, creds)
	delete(k.tasks, t.tid)
	t.removed = true
	if !t.ptrace.exited {
		// A traced task's exit its tracer has not collected keeps its
		// place in the count (--pids), as a zombie keeps its pid: a
		// tracer that never waits cannot pile them up unbounded.
		k.nrTasks--
	}
	k.mu.Unlock()
}

// Wait blocks until the init process exits and returns its wait status
// converted to a shell-style exit code (128+signal when killed).
func (k *Kernel) Wait() int { return <-k.done }

// reportMissing logs an unimplemented syscall once per name.
func (k *Kernel) reportMissing(nr uint64, name string) {
	k.missingMu.Lock()
	seen := k.missing[nr] > 0
	k.missing[nr]++
	k.missingMu.Unlock()
	if !seen {
		fmt.Fprintf(k.Debug, "uk: syscall %s (%d) is not implemented: ENOSYS\n", name, nr)
	}
}

// PowerOff ends the sandbox as reboot(2) does: status 0, every process
// gone.
//
// The machine stops at once: no task runs application code or another
// syscall afterwards, so nothing a process does after the caller's
// reboot(2) reaches the console.
func (k *Kernel) PowerOff() {
	k.halted.Store(true)
	select {
	case k.done <- 0: // before the kills, whose exits must not set the status
	default:
	}
	k.killAll()
}

// Stop ends the sandbox at once, as a limit of uk run does: every
// process is killed, and once it is called no task resumes application
// code or starts another syscall (one running application code now stops
// at its kill's interrupt). Killing the processes one by one would not
// do: a parent woken by its child's death runs on until its own kill
// lands, long enough to write a file or a line (a shell's "Killed").
func (k *Kernel) Stop() {
	k.halted.Store(true)
	k.killAll()
}

// killAll kills every live process (not uk run's kernel-made PID 1,
// which runs no code).
func (k *Kernel) killAll() {
	for _, tg := range k.threadGroups() {
		if !tg.isKernelInit {
			tg.kill(int(unix.SIGKILL))
		}
	}
}
