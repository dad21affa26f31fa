package kernel

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel/ipc"
	"uk/kernel/keys"
	"uk/kernel/mm"
	"uk/platform"
)

// SigAction is one entry of a process's signal handler table.
type SigAction = arch.SigAction

// Rlimit is one resource limit.
type Rlimit struct{ Cur, Max uint64 }

// RlimInfinity is RLIM_INFINITY.
const RlimInfinity = ^uint64(0)

// ThreadGroup is a process: the tasks sharing a PID, signal handlers and
// limits.
type ThreadGroup struct {
	k   *Kernel
	pid int32
	// isKernelInit marks the PID 1 uk makes for `uk run`: it runs no code
	// and reaps every orphan at once.
	isKernelInit bool

	// proc is the process's place in the tree; protected by k.mu.
	proc procState

	mu sync.Mutex
	// sighand is the handler table (signal_handlers.go), which exec
	// replaces under mu.
	sighand atomic.Pointer[sigHandlers]
	pending sigQueue   // process-directed signals; protected by mu
	rlimits [16]Rlimit // protected by mu
	// vmLimits mirrors RLIMIT_AS and RLIMIT_DATA's soft limits for the
	// MM's checks (MM.Limits), which run under the MM's lock and so may
	// not take mu (held around MM calls elsewhere).
	vmLimits   [2]atomic.Uint64
	exiting    bool    // protected by mu
	exitStatus int     // wait status once exiting; protected by mu
	tasks      []*Task // protected by mu
	deadCPU    int64   // CPU time of exited tasks; protected by mu
	finalCPU   int64   // the process's CPU time once its last thread exited; protected by mu
	// deadSys and finalSys are the system-time parts of deadCPU and
	// finalCPU (process_systime.go); protected by mu.
	deadSys, finalSys int64
	// minFlt counts the page faults uk resolved for the process's
	// threads (ru_minflt).
	minFlt atomic.Int64
	// nvcsw counts the waits in uk of the process's tasks (ru_nvcsw).
	nvcsw      atomic.Int64
	cpuWatched bool // an RLIMIT_CPU watcher runs (process_cpulimit.go); protected by mu
	// cpu counts the process's CPU time with the host's clocks where the
	// platform has them (process_cputime.go).
	cpu         processCPU
	notDumpable int                   // protected by mu
	stopSig     int                   // the signal that stopped the process, 0 if running; protected by mu
	contCh      chan struct{}         // closed when a stopped process continues; protected by mu
	itimers     [3]*intervalTimer     // setitimer's timers; protected by mu
	posixTimers map[int32]*PosixTimer // timer_create's timers; protected by mu
	nextTimerID int32                 // where timer_create looks for a free id; protected by mu
	// sigNotify tells signalfds that a signal was queued.
	sigNotify vfs.Queue
	// exitQ tells pidfds that every thread has exited (pidfd.go).
	exitQ vfs.Queue
	// xperm and xpermGuest are the dynamic XSAVE components (AMX tile
	// data) arch_prctl(ARCH_REQ_XCOMP_PERM) and its _GUEST variant
	// granted: written under mu, inherited by fork, cleared by exec.
	xperm, xpermGuest atomic.Uint64
	// thpDisabled is PR_SET_THP_DISABLE's flag: kept by fork and exec,
	// and only reported (uk's memory has no huge pages to disable).
	thpDisabled atomic.Uint64
	// dumpFilter is the core dump filter (task_coredump.go): kept by
	// fork and exec.
	dumpFilter atomic.Uint32
	// execed: the process has run execve since its fork (Linux's
	// PF_FORKNOEXEC cleared); its parent may no longer setpgid it.
	execed atomic.Bool
	// startBoot is CLOCK_BOOTTIME when the process was made (its
	// /proc/PID/stat starttime, and its accounting record's start and
	// elapsed time); forked says fork made it (not uk's start).
	startBoot time.Duration
	forked    bool
	// aio is the process's io_setup contexts (aio.go).
	aio aioState
	// maxRSS is the highest high-water mark, in pages, of the memories
	// the process left (at execve) or ended with; protected by mu.
	maxRSS int
	// ioGone is the I/O counted by the process's exited threads and by
	// the children it waited for (task_ioacct.go); protected by mu.
	ioGone IOAccounting
	// lastTask is the thread /proc/PID shows of a zombie (procfs.go): its
	// leader, whose name Linux shows, or the last thread to exit when the
	// leader's thread went before (an exec from another thread); set as
	// they exit, protected by mu.
	lastTask *Task
	// oomAdj is /proc/PID/oom_score_adj and oomAdjMin the lowest value an
	// unprivileged writer may set (kernel_oom_score.go); both inherited
	// by fork, protected by mu.
	oomAdj, oomAdjMin int
	// noLeader is what sched_* calls read of a process whose leader
	// runs no more: a zombie's as it exited, uk's stand-in init's
	// (task_sched.go); protected by k.mu.
	noLeader struct {
		sched SchedAttr
		creds *vfs.Credentials
	}
}

// PID is the thread group id.
func (tg *ThreadGroup) PID() int32 { return tg.pid }

// Task is one application thread.
type Task struct {
	k   *Kernel
	tid int32
	tg  *ThreadGroup
	// io is what /proc/PID/task/TID/io counts (task_ioacct.go).
	io ioCounters

	// State is the thread's registers and FP state, valid while the task
	// is in the kernel (between traps).
	State arch.State
	// MM is the task's memory.
	MM *mm.MM
	// Files is the task's file descriptor table.
	Files *FDTable
	// FS is the task's root and working directory (nil until the kernel
	// has a filesystem).
	FS *vfs.FSContext

	creds *vfs.Credentials // replaced, never modified in place
	umask uint32

	mu            sync.Mutex
	sigMask       arch.SigSet      // blocked signals; protected by mu
	savedMask     *arch.SigSet     // mask to restore after rt_sigsuspend's handler; protected by mu
	pending       sigQueue         // thread-directed signals; protected by tg.mu
	clearChildTID atomic.Uint64    // set_tid_address
	robustList    atomic.Uint64    // set_robust_list head
	exiting       bool             // task leaves its loop after the current trap; protected by mu
	altStack      arch.StackT      // protected by mu
	sched         SchedAttr        // nice value and policy (task_sched.go); protected by mu
	ctx           platform.Context // set while the task runs; Interrupt is goroutine safe
	preparedCtx   platform.Context // a context made ahead for run to use, on the thread it is bound to
	inApp         atomic.Bool      // the task is (about to be) running application code
	inSyscall     uint64           // the syscall's number + 1 while its handler runs, else 0; used by the task's goroutine only
	// restartBlock is what restart_syscall runs: the rest of a syscall
	// that returned ERESTART_RESTARTBLOCK (Linux's restart_block). Used
	// by the task's goroutine only.
	restartBlock func(*Task) (uint64, error)
	lastFault    mm.LastFault // where this thread last faulted; used by the task's goroutine only
	userNS       atomic.Int64 // CPU time used, in ns: its time in Switch (task_run.go)
	sysNS        atomic.Int64 // system time used, in ns (process_systime.go)
	// leftApp is monoNow when the last Switch returned (0: in none
	// since its time was charged); asleepFrom is when the task's
	// current wait began, slept the time it waited since leftApp. Used
	// by the task's goroutine only.
	leftApp, asleepFrom, slept time.Duration
	// switchStart is monoNow when the running Switch began (0 outside
	// one), so that a clock read by another thread counts the time of a
	// Switch still running (a thread that never traps); cpuSeen is the
	// largest time a read reported, which keeps those reads monotonic when
	// the Switch's own measure comes in lower (kvm's SwitchCPU).
	switchStart atomic.Int64
	cpuSeen     atomic.Int64
	// interrupt wakes a blocked syscall (a signal arrived).
	interrupt  chan struct{}
	pdeathSig  atomic.Int32
	noNewPrivs atomic.Bool
	// seccomp is the thread's seccomp mode and filters (seccomp.go); nil
	// when it has none. Changed under tg.mu (TSYNC changes other threads).
	seccomp atomic.Pointer[seccompState]
	persona atomic.Uint32 // personality(2)'s
	// timerSlack and defaultSlack are PR_SET_TIMERSLACK's current and
	// default values in ns (task_prctl.go).
	timerSlack, defaultSlack atomic.Uint64
	// memPolicy is the thread's NUMA policy (set_mempolicy); only the
	// task goroutine and clone, before the child runs, touch it.
	memPolicy mm.MemPolicy
	// timeNS is the time namespace the task is in, timeNSForChildren
	// the one its children will be in (timens.go); nil is the root one.
	timeNS, timeNSForChildren atomic.Pointer[TimeNamespace]
	// mntNS is the mount namespace the task is in (mountns.go); nil is
	// the VFS's initial one.
	mntNS      atomic.Pointer[vfs.MountNamespace]
	utsNS      atomic.Pointer[UTSNamespace]    // nil: the sandbox's first (uts.go)
	ipcNS      atomic.Pointer[IPCNamespace]    // nil: the sandbox's first (ipcns.go)
	cgroupNS   atomic.Pointer[CgroupNamespace] // nil: the initial one (cgroupns.go)
	netNS      atomic.Pointer[NetNamespace]    // nil: the sandbox's first (netns.go)
	mceKill    atomic.Uint32                   // PR_MCE_KILL's policy + 1; 0: the default
	affinity   atomic.Pointer[[]byte]          // sched_setaffinity's mask; nil: every CPU
	asleepN    atomic.Int32                    // waits the task is in: /proc shows 'S' (ProcState)
	sigWaiting atomic.Uint64                   // the set sigtimedwait waits for (a SigSet); 0 outside it
	// semUndo is the SysV semaphore undo list the task shares
	// (task_sysvsem.go); nil: none.
	semUndo atomic.Pointer[ipc.UndoList]
	// keyRings are the task's keyrings (task_keys.go).
	keyRings keys.TaskRings
	comm     string
	// ptrace is the task's side of a ptrace relation (ptrace.go);
	// protected by k.mu. traced mirrors ptrace.tracer != nil for checks
	// on hot paths; ptraceStopped is set while it waits in a
	// ptrace-stop (/proc's 't').
	ptrace        ptraceLink
	traced        atomic.Bool
	ptraceStopped atomic.Bool
	// ptraceWant asks the task to stop for its tracer at its next look
	// at its signals (PTRACE_INTERRUPT, a seized tracee's new child).
	ptraceWant atomic.Bool
	// singleStepping: PTRACE_SINGLESTEP set the trap flag for the next
	// instruction; used by the task's goroutine and, while it is
	// stopped, its tracer.
	singleStepping bool
	// ptraceDebug are the debug registers a tracer set, DR6 in Linux's
	// virtual polarity (ptrace_debugreg.go); protected by k.mu.
	// hwBreaks are the breakpoints DR7 enables, for the task's goroutine
	// to step by (nil: none); debugStep is its stepping state.
	// nvcsw counts the task's own waits in uk (voluntary context
	// switches: RUSAGE_THREAD, /proc's voluntary_ctxt_switches).
	nvcsw       atomic.Int64
	ptraceDebug [8]uint64
	hwBreaks    atomic.Pointer[[]hwBreak]
	debugStep   debugStepState
	// exitsItself: the task's exit is its own doing (exit, exit_group,
	// a signal it took), not another thread's exit_group or SIGKILL; a
	// tracer asking for PTRACE_EVENT_EXIT stops it. Used by the task's
	// goroutine only.
	exitsItself bool
	// leaving is set when the task starts to exit: from then on it
	// shares no filesystem context (fsShared), as pthread_join returns
	// before its removal.
	leaving atomic.Bool
	// sigkilled: SIGKILL was sent to the task's process.
	sigkilled atomic.Bool
	// removed: the task is out of the kernel's table (removeTask);
	// protected by k.mu.
	removed bool
	// leftStop is the group stop (its contCh) a tracer resumed the task
	// from: it runs while that stop lasts. Used by the task's goroutine.
	leftStop chan struct{}
	// exitCode is the wait status exit(2) of this thread alone gave (a
	// tracer's wait reports it); protected by mu.
	exitCode int
}

// Kernel returns the kernel t runs in.
func (t *Task) Kernel() *Kernel { return t.k }

// TID is the thread id.
func (t *Task) TID() int32 { return t.tid }

// PID is the thread group id.
func (t *Task) PID() int32 { return t.tg.pid }

// PPID is the parent's PID (0 for init).
func (t *Task) PPID() int32 { return t.tg.ParentPID() }

// PIDExists reports whether a thread or process of id pid exists (what
// SCM_CREDENTIALS may name; socket.CheckCred): uk run's stand-in init
// and unreaped zombies count, as their pids are still attached in Linux.
func (t *Task) PIDExists(pid int32) bool {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return pid > 0 && t.k.pidInUseLocked(pid)
}

// ThreadGroup returns the task's process.
func (t *Task) ThreadGroup() *ThreadGroup { return t.tg }

// Credentials returns the task's credentials; callers must not modify them.
func (t *Task) Credentials() *vfs.Credentials {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.creds
}

// SetCredentials installs new credentials.
func (t *Task) SetCredentials(c *vfs.Credentials) {
	t.mu.Lock()
	t.creds = c
	t.mu.Unlock()
}

// Personality is the thread's personality(2) value.
func (t *Task) Personality() uint32 { return t.persona.Load() }

// SetPersonality replaces the thread's personality(2) value.
func (t *Task) SetPersonality(p uint32) { t.persona.Store(p) }

// Umask is the file mode creation mask.
func (t *Task) Umask() uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.umask
}

// SetUmask replaces the umask and returns the old one.
func (t *Task) SetUmask(m uint32) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.umask
	t.umask = m & 0777
	return old
}

// MemoryBudget returns the sandbox's memory budget (vfs.ChargerOf): the
// memory file, whose size is --mem, charged for kernel buffers too.
func (t *Task) MemoryBudget() vfs.Charger {
	if t.k.MemFile == nil {
		return nil
	}
	return t.k.MemFile
}

// CopyIn reads application memory.
func (t *Task) CopyIn(addr uint64, dst []byte) error {
	return t.retryOOM(func() error { return t.MM.CopyIn(addr, dst) })
}

// CopyOut writes application memory.
func (t *Task) CopyOut(addr uint64, src []byte) error {
	return t.retryOOM(func() error { return t.MM.CopyOut(addr, src) })
}

// CopyInString reads a NUL-terminated string (at most max bytes).
func (t *Task) CopyInString(addr uint64, max int) (s string, err error) {
	err = t.retryOOM(func() error {
		s, err = t.MM.CopyInString(addr, max)
		return err
	})
	return s, err
}

// retryOOM runs an access to application memory, and when it finds the
// memory file exhausted (a page of the application's to fault in for the
// kernel), runs the OOM killer and tries again, as a page fault from
// Linux's copy_to_user does. An access that still fails returns ENOMEM;
// a task killed meanwhile returns EINTR (it exits before the application
// sees it).
func (t *Task) retryOOM(access func() error) error {
	for {
		err := access()
		if ue, ok := err.(*mm.UserfaultError); ok {
			// A page a userfaultfd handles: wait for its handler as a
			// faulting thread does; a signal ends the access (EFAULT).
			if t.waitUserfault(ue.Addr, ue.Write) != nil {
				return unix.EFAULT
			}
			continue
		}
		if err != mm.ErrNoMemory {
			return err
		}
		if !t.k.outOfMemory(t) {
			return err
		}
		if t.isExiting() {
			return unix.EINTR
		}
	}
}

// SigMask returns the blocked-signal mask.
func (t *Task) SigMask() arch.SigSet {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sigMask
}

// SetSigMask replaces the blocked-signal mask; SIGKILL and SIGSTOP are
// never blocked. Signals the new mask unblocks may now be delivered.
func (t *Task) SetSigMask(m arch.SigSet) {
	m = m.Blockable()
	t.mu.Lock()
	t.sigMask = m
	t.mu.Unlock()
	t.wakeIfPending()
}

// SigAction returns the handler table entry for sig (1..64).
func (tg *ThreadGroup) SigAction(sig int) SigAction {
	return tg.handlers().get(sig)
}

// SetSigAction replaces the entry for sig, in every process sharing the
// table.
func (tg *ThreadGroup) SetSigAction(sig int, a SigAction) {
	tg.handlers().set(sig, a)
}

// Rlimit returns resource limit r.
func (tg *ThreadGroup) Rlimit(r int) Rlimit {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.rlimits[r]
}

// noteVMLimitsLocked copies RLIMIT_AS and RLIMIT_DATA to vmLimits.
//
// Preconditions: mu is held (or tg is not shared yet).
func (tg *ThreadGroup) noteVMLimitsLocked() {
	tg.vmLimits[0].Store(tg.rlimits[unix.RLIMIT_AS].Cur)
	tg.vmLimits[1].Store(tg.rlimits[unix.RLIMIT_DATA].Cur)
}

// vmLimits is the MM's view of the limits (mm.MM.Limits).
func (tg *ThreadGroup) vmLimitsNow() (as, data uint64) {
	return tg.vmLimits[0].Load(), tg.vmLimits[1].Load()
}

// SetRlimit replaces resource limit r.
func (tg *ThreadGroup) SetRlimit(r int, l Rlimit) {
	tg.mu.Lock()
	tg.rlimits[r] = l
	tg.noteVMLimitsLocked()
	tg.mu.Unlock()
	if r == unix.RLIMIT_CPU {
		tg.watchCPULimit()
	}
}

// SetClearChildTID records set_tid_address's pointer.
func (t *Task) SetClearChildTID(addr uint64) { t.clearChildTID.Store(addr) }

// SetRobustList records set_robust_list's head.
func (t *Task) SetRobustList(addr uint64) { t.robustList.Store(addr) }

// defaultRlimits are Linux's defaults for a process started by a shell.
func defaultRlimits() [16]Rlimit {
	var r [16]Rlimit
	for i := range r {
		r[i] = Rlimit{RlimInfinity, RlimInfinity}
	}
	r[unix.RLIMIT_STACK] = Rlimit{8 << 20, RlimInfinity}
	r[unix.RLIMIT_CORE] = Rlimit{0, RlimInfinity}
	r[unix.RLIMIT_NOFILE] = Rlimit{1024, 4096}
	r[unix.RLIMIT_NPROC] = Rlimit{4096, 4096}
	r[unix.RLIMIT_MEMLOCK] = Rlimit{8 << 20, 8 << 20}
	r[unix.RLIMIT_SIGPENDING] = Rlimit{4096, 4096}
	r[unix.RLIMIT_MSGQUEUE] = Rlimit{819200, 819200}
	r[13] = Rlimit{0, 0} // RLIMIT_NICE
	r[14] = Rlimit{0, 0} // RLIMIT_RTPRIO
	return r
}

// RobustList returns the set_robust_list head.
func (t *Task) RobustList() uint64 { return t.robustList.Load() }

// SetPdeathSignal records PR_SET_PDEATHSIG.
func (t *Task) SetPdeathSignal(sig int) { t.pdeathSig.Store(int32(sig)) }

// PdeathSignal returns PR_GET_PDEATHSIG.
func (t *Task) PdeathSignal() int { return int(t.pdeathSig.Load()) }

// SetNoNewPrivs sets PR_SET_NO_NEW_PRIVS (it can never be cleared).
func (t *Task) SetNoNewPrivs() { t.noNewPrivs.Store(true) }

// NoNewPrivs reports PR_GET_NO_NEW_PRIVS.
func (t *Task) NoNewPrivs() bool { return t.noNewPrivs.Load() }

// Dumpable returns PR_GET_DUMPABLE.
func (tg *ThreadGroup) Dumpable() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return 1 - tg.notDumpable
}

// SetDumpable sets PR_SET_DUMPABLE.
func (tg *ThreadGroup) SetDumpable(v int) {
	tg.mu.Lock()
	tg.notDumpable = 1 - v
	tg.mu.Unlock()
}

// SetRestartBlock records what restart_syscall runs if the syscall being
// handled returns ERESTART_RESTARTBLOCK and is restarted.
func (t *Task) SetRestartBlock(fn func(*Task) (uint64, error)) { t.restartBlock = fn }

// TakeRestartBlock returns and forgets the recorded restart (nil if none).
func (t *Task) TakeRestartBlock() func(*Task) (uint64, error) {
	fn := t.restartBlock
	t.restartBlock = nil
	return fn
}
