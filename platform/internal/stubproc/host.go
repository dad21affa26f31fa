package stubproc

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"uk/platform"
)

// Fds of a stub. The master is exec'd with the memory file as MemFDInStub,
// the request file as fd 4 (closed once the master has mapped it) and a
// platform's Config.ExtraFDs from FirstExtraFD on; every stub keeps the
// memory file and the extra fds and, with Config.HostFiles, its end of a
// socket with uk (HostSockInStub) and the host files it maps (read-only,
// from HostFDBase on: hostfiles.go), and nothing else.
const (
	MemFDInStub  = 3
	reqFDInStub  = 4
	FirstExtraFD = 5
)

// Config is what differs between the platforms that run stubs.
type Config struct {
	// Name is the platform's name, the prefix of its errors ("ptrace").
	Name string
	// StubName names the stub image's memfd and, in ps and /proc, every
	// stub ("uk-stub").
	StubName string
	// Code is the stub's code: BaseCode, then the platform's own.
	Code []byte
	// MemFD is the memory file, which every stub maps from MemFDInStub.
	MemFD int
	// ExtraFDs are passed to the master, and kept by every stub, as fds
	// FirstExtraFD, FirstExtraFD+1, ... (sigsys: its slot file).
	ExtraFDs []int
	// FDs says, for Confinement, what the stubs hold: "the memory file
	// only".
	FDs string
	// Seccomp says, for Confinement, what the filters do beyond the
	// stub's own calls ("" for nothing more).
	Seccomp string
	// Filter builds the master's filter (master true) or the one each
	// address space's stub adds to it.
	Filter func(master bool) []Insn
	// MasterSteps, if set, returns more setup steps for the master, run
	// after it has emptied its address space and fd table and before it
	// confines itself (sigsys: its signal handler installs, which the
	// stubs it forks inherit).
	MasterSteps func(d *PageData) []Step
	// Reaped, if set, is called for every stub task Reap collects, with
	// the reap lock held: the task's memory is gone.
	Reaped func(tid int)
	// Modes, if set, replaces the confinement modes tried (for tests).
	Modes []Confinement
	// FollowCaller moves the factory thread to the CPU of the goroutine
	// that hands it work, and each stub thread it drives to the factory's
	// CPU (the threads a stub thread clones inherit that): a request is
	// then a hand-off on one CPU, the caller waiting while the factory and
	// the stub run, instead of wake-ups of other, maybe halted, CPUs (an
	// injection into an unpinned stub took 59 us here against 22 us on
	// one CPU). Only for a platform that places every thread it runs
	// application code on itself: the pins are inherited.
	FollowCaller bool
	// ServeSite, if set, is the address of the platform's serving loop
	// (serve.go): every stub then gets a serving thread there, through
	// which its mapping batches run instead of by ptrace. ServeFD is the
	// fd the completion pipe's write end gets in every stub, the only one
	// the platform's filter lets a stub thread write to.
	ServeSite uint64
	ServeFD   int
	// HostFiles makes every stub able to map host files itself
	// (hostfiles.go; Space.MapHostFile): the platform's filters admit
	// Prog.HostFileCalls and dup3 and close.
	HostFiles bool
	// MapAhead lets mappings made ahead of need wait in the queue
	// (platform.AheadMapper; ahead.go): the platform, at a fault, asks
	// Space.FlushAheadAt before it reports the fault to the kernel.
	MapAhead bool
}

// Host starts and confines the master stub, forks a stub for each address
// space from it, and reaps what it kills. It owns one factory goroutine
// locked to an OS thread for its life, which traces the master and the
// main thread of every stub.
type Host struct {
	cfg       Config
	fac       *factory
	reqs      *requestFile
	errClosed error

	// Set while the master starts and constant afterwards.
	master  int         // the master stub's host pid
	mode    Confinement // how far the stubs are confined
	stubUID int         // host uid of the stubs in ConfineFull
	// masterCPU is the CPU the master is pinned to (Config.FollowCaller),
	// or -1. Used only on the factory thread.
	masterCPU int

	cpus    []int // CPUs this process may run on, for round-robin pinning
	nextCPU atomic.Uint32

	// cmu orders the kills and request page returns of ReleaseThen, which
	// run in the background, before Close: a stub's pid stays its own
	// only until the stub is reaped, which after Close may be by someone
	// else. closed is set, under cmu, when Close begins.
	cmu    sync.RWMutex
	closed bool

	zmu     sync.Mutex
	zombies []int // killed stub threads not reaped yet; protected by zmu
	// pending are ReapThen calls waiting for some of their threads, and
	// polling is set while pollReaps runs. Protected by zmu.
	pending []pendingReap
	polling bool
}

// NewHost starts the master stub of cfg. An error that says the host
// cannot run stubs at all wraps platform.ErrUnavailable.
func NewHost(cfg Config) (*Host, error) {
	h := &Host{cfg: cfg, errClosed: fmt.Errorf("%s: platform closed", cfg.Name), cpus: processCPUs, masterCPU: -1}
	if err := QuietStopNotifications(); err != nil {
		return nil, fmt.Errorf("%s: SIGCHLD disposition: %w", cfg.Name, err)
	}
	var err error
	if h.reqs, err = newRequestFile(); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	exe, err := h.writeImage()
	if err != nil {
		h.reqs.close()
		return nil, err
	}
	// The only exec is the master's.
	defer unix.Close(exe)
	h.fac = startFactory(h.errClosed, cfg.FollowCaller && len(processCPUs) > 1)
	// Probe: the master must start, or the host cannot run stubs
	// (seccomp, Yama, no CAP_SYS_PTRACE).
	if ferr := h.fac.do(func() {
		// The master, forked from this thread, starts where it is.
		h.masterCPU = h.fac.pinned()
		err = h.startMaster(exe)
	}); ferr != nil {
		err = ferr
	}
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("%w: %v", platform.ErrUnavailable, err)
	}
	return h, nil
}

// writeImage writes the stub image to a memfd and returns its fd.
func (h *Host) writeImage() (int, error) {
	exe, err := unix.MemfdCreate(h.cfg.StubName, unix.MFD_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("%s: memfd for the stub image: %w", h.cfg.Name, err)
	}
	// Keep the image's fd out of the range that ForkExec rearranges so
	// that /proc/self/fd/N still names the image in the child: the fds it
	// passes (0 to 4 and the extra fds), and as many again above the
	// highest fd passed, onto which the child moves its error pipe and any
	// fd it must get out of the way. Not at 64 or above without need:
	// growing the fd table of a process with threads waits for an RCU
	// grace period (4-16 ms here), and a table starts with 64 entries.
	passed := append([]int{h.cfg.MemFD, h.reqs.fd}, h.cfg.ExtraFDs...)
	lo := FirstExtraFD + len(h.cfg.ExtraFDs)
	for _, fd := range passed {
		lo = max(lo, fd)
	}
	lo += FirstExtraFD + len(h.cfg.ExtraFDs) + 2
	hi, err := unix.FcntlInt(uintptr(exe), unix.F_DUPFD_CLOEXEC, lo)
	unix.Close(exe)
	if err != nil {
		return -1, fmt.Errorf("%s: dup stub image fd: %w", h.cfg.Name, err)
	}
	img := Image(h.cfg.Code)
	if n, err := unix.Pwrite(hi, img, 0); err != nil || n != len(img) {
		unix.Close(hi)
		return -1, fmt.Errorf("%s: write stub image: %v", h.cfg.Name, err)
	}
	return hi, nil
}

// Close stops the factory, kills the master and reaps what is left. The
// caller has released (killed) every stub it made.
func (h *Host) Close() {
	h.cmu.Lock()
	h.closed = true
	h.cmu.Unlock()
	// A fork in flight on the factory thread completes first (its
	// address space, coming back to a closed platform, is released);
	// killing the master under it would leave the factory waiting for a
	// master that, as the init of the stubs' PID namespace, waits for
	// the new stub that only the factory can reap.
	h.fac.stop()
	if h.master > 0 {
		// In a PID namespace, every stub dies with it.
		unix.Kill(h.master, unix.SIGKILL)
		h.Reap(h.master)
		h.master = 0
	}
	// Killed stubs exit promptly; give them a moment to be reaped so
	// that none is left as a zombie of uk.
	for deadline := time.Now().Add(time.Second); h.Reap() > 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Microsecond)
	}
	h.reqs.close()
}

// Do runs fn on the factory thread, the tracer of the master and of every
// stub's main thread, and waits for it. It returns the platform's "closed"
// error, without running fn, once Close has begun.
func (h *Host) Do(fn func()) error { return h.fac.do(fn) }

// ErrClosed is the error of operations on a closed platform.
func (h *Host) ErrClosed() error { return h.errClosed }

// Master is the master stub's host pid.
func (h *Host) Master() int { return h.master }

// Mode is how far the stubs are confined.
func (h *Host) Mode() Confinement { return h.mode }

// PickCPU returns the CPU for a new context (its caller's thread is
// pinned there): the one the caller runs on, or round-robin where the CPU
// cannot say; -1 when not pin or when there is only one CPU to run on.
//
// Where the host already runs the thread is where it found room, and a
// pin there moves nothing. A pin elsewhere migrates the thread, which
// then waits for the other CPU: 35-180 us a spawn on the 2-CPU VM
// (sched_setaffinity traced), the shell loop of 100 /bin/true 225 -> 203
// ms with the current CPU (15 alternating runs); two busy processes still
// end up on both CPUs (two read loops side by side: 1046 / 1026 ms).
func (h *Host) PickCPU(pin bool) int {
	if !pin || len(h.cpus) < 2 {
		return -1
	}
	if cpu := currentCPU(); cpu >= 0 {
		return cpu
	}
	n := h.nextCPU.Add(1) - 1
	return h.cpus[int(n)%len(h.cpus)]
}

// processCPUs are the CPUs uk may run on, read at start: later, the
// calling thread may be one a context pinned to a single CPU.
var processCPUs = func() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var cpus []int
	for i := 0; i < 1024; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus
}()

// processAffinity is the CPU set uk was started with, read before any of
// its threads was pinned: what a pinned thread goes back to.
var (
	processAffinity   unix.CPUSet
	processAffinityOK = unix.SchedGetaffinity(0, &processAffinity) == nil
)

// NumCPU is how many CPUs uk may run on.
func (h *Host) NumCPU() int { return len(h.cpus) }

// PartnerCPU returns the CPU after cpu in the round-robin order (another
// CPU for one side of a pair that spins across two), or -1 when there is
// only one.
func (h *Host) PartnerCPU(cpu int) int {
	if len(h.cpus) < 2 {
		return -1
	}
	for i, c := range h.cpus {
		if c == cpu {
			return h.cpus[(i+1)%len(h.cpus)]
		}
	}
	return h.cpus[0]
}

// PinThread restricts host thread tid (0: the caller) to cpu; cpu -1
// leaves it where it is.
func PinThread(tid, cpu int) error {
	if cpu < 0 {
		return nil
	}
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(tid, &set)
}

// Reap collects killed stub threads. Any thread of uk may wait for any
// tracee of any other uk thread, so this needs no particular OS thread. A
// traced thread group leader cannot be reaped before its other threads are,
// so what cannot be reaped yet is kept and retried on the next call. It
// returns how many are left.
func (h *Host) Reap(tids ...int) int {
	h.zmu.Lock()
	defer h.zmu.Unlock()
	h.zombies = append(h.zombies, tids...)
	// Threads first, leaders last: a leader becomes reapable only once its
	// threads are gone.
	for pass := 0; pass < 2; pass++ {
		keep := h.zombies[:0]
		for _, tid := range h.zombies {
			r, _, err := Wait4(tid, unix.WNOHANG)
			if r == tid || err == unix.ECHILD {
				if h.cfg.Reaped != nil {
					h.cfg.Reaped(tid)
				}
				continue
			}
			keep = append(keep, tid)
		}
		h.zombies = keep
	}
	if len(h.pending) > 0 {
		h.donePendingLocked()
	}
	return len(h.zombies)
}

// ReapThen reaps the killed stub threads tids (now or at later reaps)
// and calls done, from a goroutine of its own, once all of them have been
// reaped. Once a stub's main thread has been reaped every thread of it has
// exited, and with it left the stub's address space: done may free what
// the stub mapped. (Until then a thread of a stub killed a moment ago may
// still be running and touching those pages.) The caller does not wait for
// the host to tear the stub down: the reaps of later releases, or a
// background poll while some are pending, complete it.
func (h *Host) ReapThen(done func(), tids ...int) {
	h.zmu.Lock()
	// Not reaped here: killed a moment ago, they are still exiting.
	h.zombies = append(h.zombies, tids...)
	h.pending = append(h.pending, pendingReap{tids: tids, done: done})
	start := !h.polling
	h.polling = true
	h.zmu.Unlock()
	if start {
		go h.pollReaps()
	}
}

// killStub kills stub pid, unless Close has begun (false): Close kills
// every stub, and a pid of a stub reaped since may be another process's.
// The caller has not reaped pid.
func (h *Host) killStub(pid int) bool {
	h.cmu.RLock()
	defer h.cmu.RUnlock()
	if h.closed {
		return false
	}
	unix.Kill(pid, unix.SIGKILL)
	return true
}

// putRequestPage gives a reaped stub's request page back, unless Close
// has begun (the request file is unmapped then).
func (h *Host) putRequestPage(slot int) {
	h.cmu.RLock()
	defer h.cmu.RUnlock()
	if !h.closed {
		h.reqs.put(slot)
	}
}

// pendingReap is a ReapThen still waiting for some of its threads.
type pendingReap struct {
	tids []int
	done func()
}

// pollReaps reaps while ReapThen calls are pending: reapPollFirst after
// the last one completed, then at doubling intervals up to reapPollMax
// while none does. A stub takes a fraction of a millisecond to die;
// meanwhile its memory stays counted (and an allocation short of memory
// waits for it), so a poll a little late costs little.
func (h *Host) pollReaps() {
	d := reapPollFirst
	for {
		time.Sleep(d)
		h.zmu.Lock()
		before := len(h.pending)
		h.zmu.Unlock()
		h.Reap()
		h.zmu.Lock()
		after := len(h.pending)
		if after == 0 {
			h.polling = false
			h.zmu.Unlock()
			return
		}
		h.zmu.Unlock()
		if after < before {
			d = reapPollFirst
		} else {
			d = min(2*d, reapPollMax)
		}
	}
}

// The background poll's intervals (pollReaps).
const (
	reapPollFirst = 500 * time.Microsecond
	reapPollMax   = 8 * time.Millisecond
)

// donePendingLocked starts the done of every pending ReapThen whose
// threads have all been reaped.
//
// Preconditions: zmu is held.
func (h *Host) donePendingLocked() {
	keep := h.pending[:0]
	for _, p := range h.pending {
		if slices.ContainsFunc(p.tids, func(tid int) bool { return slices.Contains(h.zombies, tid) }) {
			keep = append(keep, p)
			continue
		}
		// Never under the caller's locks (Reap runs inside releases).
		go p.done()
	}
	clear(h.pending[len(keep):])
	h.pending = keep
}

// factory is a goroutine locked to one OS thread for the platform's life.
// That thread creates stub processes (so Pdeathsig ties them to a thread
// that stays alive) and traces their main threads.
type factory struct {
	reqs      chan func()
	done      chan struct{}
	errClosed error

	// With follow (Config.FollowCaller), do pins the factory thread (tid)
	// to its caller's CPU; cpu is where it is pinned, or -1 (written
	// under mu, read by the factory thread too).
	follow bool
	tid    int
	cpu    atomic.Int32

	mu      sync.Mutex
	stopped bool // protected by mu; reqs is closed once set
}

func startFactory(errClosed error, follow bool) *factory {
	f := &factory{reqs: make(chan func()), done: make(chan struct{}), errClosed: errClosed, follow: follow}
	f.cpu.Store(-1)
	started := make(chan struct{})
	go func() {
		// Never unlocked: when this goroutine returns, its thread exits,
		// and PTRACE_O_EXITKILL and Pdeathsig kill every stub it made.
		runtime.LockOSThread()
		f.tid = unix.Gettid()
		close(started)
		defer close(f.done)
		for fn := range f.reqs {
			fn()
		}
	}()
	<-started
	return f
}

// pinned returns the CPU the factory thread is pinned to, or -1.
func (f *factory) pinned() int { return int(f.cpu.Load()) }

// followCaller pins the factory thread to the calling thread's CPU, if it
// follows its callers and is not there already.
//
// Preconditions: mu is held.
func (f *factory) followCaller() {
	if !f.follow {
		return
	}
	if cpu := currentCPU(); cpu >= 0 && f.cpu.Swap(int32(cpu)) != int32(cpu) {
		PinThread(f.tid, cpu)
	}
}

// Background readies the calling goroutine to hand the factory work in
// the background (a spare stub, a parked thread) on behalf of a caller
// that was on CPU callerCPU (CurrentCPU): when the factory follows its
// callers, it locks the goroutine to its OS thread and pins it to another
// CPU, so that the factory and the stubs it drives follow it there,
// beside the foreground work rather than on its CPU, where the program
// the spare is for runs next. Otherwise it does nothing. The goroutine
// calls the function it returns when its work is done: the thread goes
// back to Go's pool unpinned (it traces nothing: the factory drives the
// stubs), or, if it cannot be unpinned, ends with the goroutine. Left to
// end, it would cost the next goroutine that locks a thread (a task's) a
// new one.
func (h *Host) Background(callerCPU int) (done func()) {
	if !h.fac.follow || callerCPU < 0 {
		return func() {}
	}
	runtime.LockOSThread()
	PinThread(0, h.PartnerCPU(callerCPU))
	return func() {
		if processAffinityOK && unix.SchedSetaffinity(0, &processAffinity) == nil {
			runtime.UnlockOSThread()
		}
	}
}

// CurrentCPU returns the CPU the calling thread runs on, or -1 where the
// CPU cannot say (see currentCPU).
func CurrentCPU() int { return currentCPU() }

// follow pins tid, a stub thread the factory is about to drive, whose pin
// *at records, to the factory's CPU (Config.FollowCaller).
//
// Preconditions: runs on the factory thread.
func (h *Host) follow(tid int, at *int) {
	if cpu := h.fac.pinned(); cpu >= 0 && *at != cpu {
		PinThread(tid, cpu)
		*at = cpu
	}
}

// do runs fn on the factory thread and waits for it. It returns errClosed,
// without running fn, once the factory is stopped.
func (f *factory) do(fn func()) error {
	ch := make(chan struct{})
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return f.errClosed
	}
	// Under mu, so that the pin and its record agree.
	f.followCaller()
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
