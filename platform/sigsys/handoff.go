package sigsys

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
	"uk/platform/internal/stubproc"
)

// How a context and its stub thread hand a trap back and forth: the
// placement policy (see the package doc, "Spinning and CPUs").
//
// A context starts pinned: uk's thread and its stub thread share one CPU
// and neither spins, so a hand-off is a futex wake and a futex wait on that
// CPU (about 10 µs a round trip on this kind of VM, and no worse when
// every CPU is busy). When the machine has a CPU to spare, the context
// takes a split token and the pair splits: the stub thread moves to
// another CPU and both sides spin on the state word, so a hand-off is a
// cache line crossing CPUs (a round trip then costs little more than the
// host's own SIGSYS delivery and rt_sigreturn). A split pair that keeps
// missing (uk's spin ends before the program traps again: the program
// computes between its syscalls, or the CPUs are busy and a spinner lost
// its CPU, or its task keeps waiting in the kernel for another to wake
// it) goes back to pinned and gives its token back; it tries again after
// a while.
//
// A context whose task waits in the kernel (Context.Unbind) unpins uk's
// thread and lets go of it; when the task runs again, the context's home
// becomes the CPU of whichever thread then runs it, and the stub thread
// moves there (rebind). Keeping a waiting task's thread would cost every
// wake-up of the task a second host wake-up (Go hands the woken
// goroutine's P to its locked thread through an idle one).
//
// Tokens are the spinning budget: one per two CPUs uk may run on, so that
// spinners never take every CPU from the program's other threads and
// uk's own goroutines.

// splitSpin is how long uk spins for a trap of a split pair before it
// sleeps: longer than a cheap syscall's round trip, so that a program
// making syscalls back to back never meets a sleeping uk, and short
// enough that a program computing between syscalls wastes little of
// uk's CPU before the pair gives up on splitting.
const splitSpin = 30 * time.Microsecond

// splitHandlerSpin is how many PAUSE iterations a split pair's handler
// spins for uk's answer before it sleeps: about 35 µs on the AMD EPYC VMs
// uk is measured on (35 ns a PAUSE; Intel's since Skylake take about as
// long), like splitSpin on uk's side, long enough for uk to handle a
// syscall that does not block.
const splitHandlerSpin = 1000

// splitHoldRounds is how many more rounds of splitHandlerSpin a split
// pair's handler spins at a trap that runs a mapping batch (atTrap),
// unless the task then waits in the kernel (Unbind takes the rounds
// back). Such a trap takes uk longer than one round: 15-60 µs here for
// mmap, mprotect, munmap and faults. A handler that sleeps meanwhile
// leaves its CPU to halt, and waking it costs more than the whole batch
// (a futex wake of a halted CPU: about 45 µs on the AMD EPYC VMs, against
// 6 µs for two processes handing off on one CPU); spinning on costs a CPU
// the split pair holds anyway. A spawn loop of a shell running true: 1,810
// wakes of sleeping split handlers in 200 spawns, 1,500 of them after
// mmap, mprotect and munmap, almost none with four rounds. Other traps
// keep the single round. Measured (25 alternating rounds, medians of the
// paired ratios): a bash loop of 50 spawns 0.94, gcc compiling hello 0.96,
// perl loading three modules 0.96, a gzip pipeline 0.99; holding at every
// trap instead gave 1.00, 0.95, 0.98 and 1.02.
const splitHoldRounds = 3

// A split pair keeps a miss score: a wait its spin did not cover adds
// missCost, one it covered takes one off (down to zero), and the pair
// goes back to pinned at splitMisses. So it leaves after four misses in a
// row, and stays while at least four waits in five are covered.
//
// A pinned pair then waits some resumes before it tries to split again
// (a try costs at most splitMisses spins and two moves of the stub
// thread): splitRetryMin after a split that lasted (splitProven covered
// waits: the program makes syscalls back to back, and a burst of misses
// was the host's or a stretch of computing), twice its last wait after a
// split that did not, up to splitRetryMax. A program that computes
// between its syscalls so soon tries rarely; one that mostly does not
// spends little time pinned after a burst (a pinned round trip costs
// three times a split one). splitBusyRetry is how many resumes a pair
// waits after finding no token free (another context spins), so that two
// busy contexts do not move their stub threads back and forth;
// splitFirstTry is how many a new context waits (see homeCPU).
const (
	missCost       = 4
	splitMisses    = 4 * missCost
	splitRetryMin  = 64
	splitRetryMax  = 4096
	splitProven    = 1024
	splitBusyRetry = 64
	splitFirstTry  = 16
)

// A pinned thread is the host scheduler's to move no more: two programs
// computing at once, their stub threads pinned to one CPU (both pairs
// made there, or one split to the other's), took turns on that CPU while
// the other idled (two static busy loops of 0.2 s each: 0.54-0.75 s under
// uk, 0.2 s natively). So a thread that runs longRun without a trap is let
// go of its pin (ranLong), for the host to balance the CPUs; at its trap,
// the pair's home becomes the CPU the host ran it on (rehome: the handler
// records it in the slot, hdrCPU, when asked), and uk's thread and the
// context's stub threads move there. Hand-offs stay as cheap as before; a long run costs
// three moves.
const longRun = 20 * time.Millisecond

// ranLong lets t go of its pin (see longRun); a failure leaves it pinned,
// slower, never wrong.
func (t *thread) ranLong() {
	if !t.free && hostAffinityOK && unix.SchedSetaffinity(t.tid, &hostAffinity) == nil {
		t.free = true
		binary.LittleEndian.PutUint32(t.mem[hdrCPU:], cpuAsked)
	}
}

// rehome makes the CPU t published its last trap on (t was let go of its
// pin, and waits in its handler) the context's home, and places the
// context's threads there again. A split pair goes back to pinned: a long
// run is a miss. The CPU is read from the slot, which the program may
// have written: it is a hint, checked to be one of uk's CPUs.
func (c *Context) rehome(t *thread) {
	t.free = false
	if c.pl.split {
		c.pl.leaveSplit()
	}
	aux := binary.LittleEndian.Uint32(t.mem[hdrCPU:])
	if cpu := stubproc.CPUOfAux(aux); arch.HasRDTSCP() && cpu >= 0 && cpu != c.pl.home && stubproc.PinThread(0, cpu) == nil {
		c.pl.home = cpu
	}
	for _, o := range c.threads {
		c.place(o)
	}
}

// placement is one context's side of the policy. Used only by the
// goroutine in Switch.
type placement struct {
	home    int  // the CPU uk's thread is pinned to; -1 when not pinned
	split   bool // the stub thread is on another CPU, and both sides spin
	holds   bool // holds a split token (from a resume to the next trap)
	misses  int  // a split pair's miss score
	covered int  // waits a split pair's spin covered since it split
	retry   int  // resumes the last pinned stretch after a split lasted
	untried int  // resumes left before a pinned pair tries to split again
}

// leaveSplit sends a split pair back to pinned for a while (see the
// constants above).
func (pl *placement) leaveSplit() {
	switch {
	case pl.covered >= splitProven || pl.retry == 0:
		pl.retry = splitRetryMin
	default:
		pl.retry = min(2*pl.retry, splitRetryMax)
	}
	pl.split, pl.untried = false, pl.retry
}

// waited counts a wait of the context's task in the kernel as a miss of
// a split pair. The task runs again only when something wakes it, and a
// split pair then pays a wake-up of the stub thread's CPU, which has gone
// idle, where a pinned pair's is a switch on uk's own CPU: two tasks that
// wake each other in turn (a pipe or futex ping-pong) do better pinned.
// Measured with pipe_pingpong on the 2-CPU VM, 3-4 alternating runs each:
// 65-72 us a round trip split, 55-59 with waits as misses (and with no
// splitting at all); getpid, fork_exit, pthread_cj, UDP round trips, the
// git and sort jobs unchanged within noise.
func (pl *placement) waited() {
	if pl.split {
		pl.misses += missCost
	}
}

// keepsMissing reports whether a split pair has missed enough to go back
// to pinned.
func (pl *placement) keepsMissing() bool { return pl.split && pl.misses >= splitMisses }

// splitting reports whether the platform may split pairs at all: not when
// told not to pin or not to split, and not on one CPU.
func (p *Platform) splitting() bool {
	return !p.opts.NoPin && !p.opts.NoSplit && p.spin > 0 && p.h.PartnerCPU(0) >= 0
}

// takeToken takes a split token if one is free.
func (p *Platform) takeToken() bool {
	for {
		n := p.splitTokens.Load()
		if n <= 0 {
			return false
		}
		if p.splitTokens.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// place moves t to where the context's placement wants it: beside uk's
// thread, or on the partner CPU of a split pair.
func (c *Context) place(t *thread) {
	if c.pl.home < 0 {
		return
	}
	cpu := c.pl.home
	if c.pl.split {
		cpu = c.p.h.PartnerCPU(c.pl.home)
	}
	// A failed move leaves the thread where it was: slower, never wrong.
	stubproc.PinThread(t.tid, cpu)
}

// adapt applies the policy before t is resumed (t waits in its handler,
// so it may move) and tells the handler how long to spin. A split pair
// holds its token only from here until its next trap (atTrap), or while uk
// works on a trap that runs a mapping batch, so a context whose task then
// blocks in uk (a shell in wait4) leaves the token to whichever program
// runs meanwhile: the token is taken again at every resume, and the stub
// thread moves only when that changes the placement.
func (c *Context) adapt(t *thread) {
	c.unhold()
	pl := &c.pl
	if t.free {
		c.rehome(t)
	}
	switch {
	case pl.home < 0 || !c.p.splitting():
	case pl.keepsMissing():
		// The spins keep missing: stop splitting for a while. If a
		// spinner also found a CPU contended, the machine is busy
		// with other work: no pair splits for a while.
		pl.leaveSplit()
		c.place(t)
		if c.p.yieldsPaused.active() {
			c.p.splitsPaused.start(splitsPausedFor)
		}
	case pl.untried > 0:
		pl.untried--
	case !pl.split && pl.retry == 0 && c.p.splitsPaused.active():
		// A context that never split (a new process) does not try
		// while the machine is busy: under two busy loops, spawns
		// that each tried paid for it 8 times over. One that split
		// before keeps its own retry schedule.
		pl.untried = splitBusyRetry
	case c.p.takeToken():
		pl.holds = true
		if !pl.split {
			pl.split, pl.misses, pl.covered = true, 0, 0
			c.place(t)
		}
	case pl.split:
		// Another context spins now: share uk's CPU, and try again
		// after a while.
		pl.split, pl.untried = false, splitBusyRetry
		c.place(t)
	default:
		pl.untried = splitBusyRetry
	}
	setSpin(t.mem, c.handlerSpin())
}

// atTrap applies the policy to the trap t published, now known: a split
// pair's handler spins on while uk works on a trap that runs a mapping
// batch (hdrHold), keeping the CPU and the split token until the next
// resume or a wait in the kernel, if no other program runs (one that does
// may need that CPU: tar and gzip taking turns); at any other trap the
// token goes back, and the handler sleeps after its usual spin if uk
// takes longer.
func (c *Context) atTrap(t *thread, trap platform.Trap, err error, r *arch.Registers) {
	if err == nil && c.pl.holds && c.p.running.Load() == 0 && (trap.Kind == platform.TrapFault || trap.Kind == platform.TrapSyscall && !trap.Compat && remaps(r.OrigRax)) {
		setHold(t.mem, splitHoldRounds)
		c.held = t
		return
	}
	c.release()
}

// remaps reports whether syscall nr changes mappings, which then run in a
// mapping batch in the stub before the thread goes on.
func remaps(nr uint64) bool {
	switch nr {
	case unix.SYS_MMAP, unix.SYS_MPROTECT, unix.SYS_MUNMAP, unix.SYS_BRK, unix.SYS_MREMAP, unix.SYS_MADVISE,
		unix.SYS_PKEY_MPROTECT, unix.SYS_SHMAT, unix.SYS_SHMDT:
		return true
	}
	return false
}

// unhold takes back the rounds of spinning atTrap granted the handler of
// the last trap, and gives the split token back.
func (c *Context) unhold() {
	if c.held != nil {
		setHold(c.held.mem, 0)
		c.held = nil
	}
	c.release()
}

// release gives the split token back, if the context holds it.
func (c *Context) release() {
	if c.pl.holds {
		c.pl.holds = false
		c.p.splitTokens.Add(1)
	}
}

// handlerSpin is the spin count for t's handler: a split pair's, the
// unpinned mode's short spin, or none when the stub thread shares uk's CPU
// (spinning there only delays uk's answer).
func (c *Context) handlerSpin() uint32 {
	switch {
	case c.p.spin < 0:
		return 0
	case c.pl.split:
		return splitHandlerSpin
	case c.p.opts.NoPin:
		return handlerSpin
	}
	return 0
}

// spinFor is how long uk spins for t's next trap before it sleeps: zero
// for a pinned pair.
func (c *Context) spinFor(t *thread) time.Duration {
	switch {
	case c.p.spin < 0:
		return 0
	case c.pl.split:
		return splitSpin
	case !c.p.opts.NoPin:
		return 0
	case t.noSpin > 0:
		t.noSpin--
		return 0
	}
	return c.p.spin
}

// spinWait spins up to d for t to publish a trap and reports whether it
// did. A miss is counted against the placement: a split pair that keeps
// missing stops splitting (adapt); an unpinned thread that keeps missing
// skips its next spins.
//
// A look at the word takes a nanosecond or two and a clock read thirty to
// sixty, and a trap that arrives during a read waits for it: so the clock
// is read every spinClockEvery looks (half a microsecond), first after
// the first of them (the spin lasts that much longer than d).
func (c *Context) spinWait(t *thread, d time.Duration) bool {
	var deadline, yieldAt time.Time
	for i := 1; ; i++ {
		if trapped(t.word.Load()) {
			t.misses = 0
			if c.pl.misses > 0 {
				c.pl.misses--
			}
			c.pl.covered++
			return true
		}
		if i%spinClockEvery != 0 {
			continue
		}
		now := time.Now()
		switch {
		case deadline.IsZero():
			deadline, yieldAt = now.Add(d), now.Add(spinYieldEvery)
		case now.After(deadline):
			c.missed(t)
			return false
		case now.After(yieldAt) && !c.p.yieldsPaused.active():
			// Let a thread of uk's own that woke on this CPU run (a
			// netstack goroutine delivering the packet the program
			// polls for): a spinning pair holds both CPUs of a small
			// machine, and the host would let it wait for a tick.
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
			if time.Since(now) > yieldContended {
				// Something else ran for a long while: another busy
				// process shares the CPU, and each yield hands it a
				// whole slice (a spawn under two busy loops took 50
				// ms instead of 2). Sleep now, and spin without
				// yielding for a while.
				c.p.yieldsPaused.start(contendedFor)
				c.missed(t)
				return false
			}
			yieldAt = now.Add(spinYieldEvery)
		}
	}
}

// missed counts a spin that ended without a trap: against a split pair's
// placement, or, unpinned, against the thread's next spins.
func (c *Context) missed(t *thread) {
	if c.pl.split {
		c.pl.misses += missCost
	} else if t.misses++; t.misses >= 4 {
		t.misses, t.noSpin = 0, 64
	}
}

// yieldContended is how long a yield in spinWait may keep the CPU from us
// before it counts as contention: far longer than a goroutine of uk's own
// takes to hand over a packet, far shorter than the milliseconds a busy
// process's slice lasts. Measured with two busy loops beside 30 dash spawns of
// /bin/true on the 2-CPU VM: 1.5-1.8 s with the yields, 0.29-0.31 s
// without them, 0.19-0.26 s with no spinning at all.
const yieldContended = 200 * time.Microsecond

// contendedFor is how long spinners stop yielding after a yield found its
// CPU contended; then they yield again.
const contendedFor = 200 * time.Millisecond

// splitsPausedFor is how long new contexts do not split after a split
// pair kept missing while a CPU was contended. It bounds what trying
// costs under lasting contention: a try that fails costs at most
// splitMisses/missCost spins of splitSpin (120 us) and two moves of the
// stub thread (sched_setaffinity, 35-180 us each as traced in session
// 20): under half a millisecond, a few percent of the pause at most. A longer
// pause outlasts contention that has passed: at 200 ms, the find job's
// `sort list | sha256sum` (two programs beside the shell, for a few
// milliseconds) kept the next find, 12,600 syscalls, pinned at 10 us a
// round trip instead of 3; the job took 284 ms against 164 at 20 ms
// (11 alternating rounds). Under two busy loops, 30 spawns of /bin/true
// took 143.7 / 142.2 ms and the find job 458 / 348.
const splitsPausedFor = 20 * time.Millisecond

// pause is a platform-wide deadline one context sets and every context
// reads. Zero until first set, so that reading it costs no clock read
// (a tenth of a patched syscall) on a machine never found busy.
type pause struct{ until atomic.Int64 }

// start pauses for d from now.
func (p *pause) start(d time.Duration) { p.until.Store(time.Now().Add(d).UnixNano()) }

// active reports whether the pause has not run out yet.
func (p *pause) active() bool {
	u := p.until.Load()
	return u != 0 && time.Now().UnixNano() < u
}

// spinClockEvery is how many looks at the state word spinWait makes
// between clock reads; spinYieldEvery how long it spins between yields of
// its CPU. A cheap syscall's trap comes back within one yield period.
const (
	spinClockEvery = 256
	spinYieldEvery = 5 * time.Microsecond
)

// trapped reports whether state word value v says the thread waits in its
// handler with a trap for uk.
func trapped(v uint32) bool {
	return v == stateTrapped || v == stateStubWait || fastTrapped(v)
}

// fastTrapped reports whether state word v says a trampoline published a
// fast trap (fastcall.go).
func fastTrapped(v uint32) bool { return v == stateFastTrapped || v == stateFastStubWait }

// run lets t run until its next trap, placed and spinning as the policy
// says.
func (c *Context) run(t *thread, next uint32) error {
	c.adapt(t)
	c.p.running.Add(1)
	resumeWith(t, next)
	// The token goes back once Switch knows what the trap is (atTrap).
	err := c.wait(t)
	c.p.running.Add(-1)
	return err
}

// resume lets t run: it swaps the state word to running and wakes the
// handler if it sleeps.
func resume(t *thread) { resumeWith(t, stateRunning) }

// resumeWith answers t's trap with state word value next: stateRunning
// for a thread waiting in the handler, stateFastResume for one waiting in
// the trampoline.
func resumeWith(t *thread, next uint32) {
	t.resumes++
	if old := t.word.Swap(next); old == stateStubWait || old == stateFastStubWait {
		futexWake(t.word, 1)
	}
}

// homeCPU pins the calling thread (uk's side of the context) to the CPU
// Host.PickCPU gives (the one it runs on), unless the platform does not
// pin.
func (c *Context) homeCPU() error {
	c.pl.home = c.p.h.PickCPU(!c.p.opts.NoPin)
	// A new thread starts pinned and tries to split only once it has
	// made some syscalls: a shell's child running true ends before a
	// split would pay for moving the stub thread, while a short program
	// of a few hundred traps (perl, git's subcommands) pays 8 µs more for
	// each it makes pinned. 16 rather than 64: the perl job 137 -> 128
	// ms, a fork+exec+wait of a static true unchanged (2367 / 2383 µs).
	c.pl.untried = splitFirstTry
	return stubproc.PinThread(0, c.pl.home)
}
