package sigsys

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
	"uk/platform/internal/stubproc"
	"uk/platform/platformtest"
)

// onlyCPU returns the one CPU host thread tid may run on, or -1 if it may
// run on several.
func onlyCPU(t *testing.T, tid int) int {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(tid, &set); err != nil {
		t.Fatal(err)
	}
	if set.Count() != 1 {
		return -1
	}
	for i := 0; ; i++ {
		if set.IsSet(i) {
			return i
		}
	}
}

// checkPlacement checks where c's stub thread in as runs against uk's
// thread: on another CPU when split, on the same one otherwise.
func checkPlacement(t *testing.T, c *Context, as *AddressSpace, split bool) {
	t.Helper()
	if c.pl.split != split {
		t.Fatalf("split = %v, want %v (miss score %d)", c.pl.split, split, c.pl.misses)
	}
	home, stub := onlyCPU(t, 0), onlyCPU(t, c.threads[as].tid)
	if home < 0 || home != c.pl.home {
		t.Fatalf("uk's thread runs on CPU %d, its context's home is %d", home, c.pl.home)
	}
	if want := map[bool]int{false: home, true: c.p.h.PartnerCPU(home)}[split]; stub != want {
		t.Fatalf("stub thread on CPU %d, want %d (split %v)", stub, want, split)
	}
}

// switchGetpids runs n getpid round trips of c's thread in as.
func switchGetpids(t *testing.T, c *Context, as *AddressSpace, st *arch.State, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	}
}

// TestSplitPlacement: a thread making syscalls back to back gets a CPU
// of its own for its stub thread, with spinning hand-offs; the split
// token is free again at a trap that runs no mapping batch, so a second
// context splits while the first waits in uk; a thread that computes
// between its syscalls goes back to sharing uk's CPU; and on one CPU
// nothing splits.
func TestSplitPlacement(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	p := e.Plat
	if p.h.NumCPU() < 2 {
		as, c, st := e.Loop(t)
		switchGetpids(t, c, as, st, 100)
		if c.pl.split {
			t.Fatal("split on a machine with one CPU")
		}
		return
	}
	as, c, st := e.Loop(t)
	// A busy machine can make a split pair miss and give up for a while
	// (up to splitRetryMax resumes): allow it a few tries.
	for try := 0; try < 5 && (try == 0 || !c.pl.split); try++ {
		switchGetpids(t, c, as, st, splitRetryMax+100)
	}
	checkPlacement(t, c, as, true)
	if n := p.splitTokens.Load(); n != int32(p.h.NumCPU()/2) {
		t.Fatalf("%d split tokens free at a trap, want all %d", n, p.h.NumCPU()/2)
	}
	if c.held != nil {
		t.Fatal("spinning rounds granted at a getpid trap")
	}

	// A second context, while the first waits at its trap.
	c2 := e.Context(t)
	defer c2.Release()
	st2 := platformtest.InitState()
	st2.Regs.Rax = unix.SYS_GETPID
	platformtest.MustSwitch(t, c2, as, st2, platform.TrapSyscall)
	// The first context's stub thread still spins for a moment, and on a
	// busy 2-CPU machine a miss sends the pair back to pinned for a while:
	// more tries than the first (a fresh-clone CI run once needed them).
	for try := 0; try < 20 && (try == 0 || !c2.pl.split); try++ {
		switchGetpids(t, c2, as, st2, splitRetryMax+100)
	}
	if !c2.pl.split {
		t.Fatal("a second context did not split while the first waited in uk")
	}

	// About a millisecond of computing between syscalls.
	compute := []byte{
		0xb9, 0x00, 0x00, 0x10, 0x00, // mov ecx, 0x100000
		0xff, 0xc9, // dec ecx
		0x75, 0xfc, // jnz dec
		0xb8, 0x27, 0x00, 0x00, 0x00, // mov eax, SYS_getpid
		0x0f, 0x05, // syscall
		0xeb, 0xee, // jmp mov ecx
	}
	cas := e.AS(t, compute)
	c3 := e.Context(t)
	defer c3.Release()
	st3 := platformtest.InitState()
	switchGetpids(t, c3, cas, st3, 2*splitMisses/missCost+2)
	checkPlacement(t, c3, cas, false)
}

// TestSplitsPauseEnds: while splits are paused (a split pair kept missing
// on a contended CPU), a new context stays pinned; a program that starts
// 25 ms after the contention passed splits as on an idle machine. With the
// pause at 200 ms the find job's second find, started a few milliseconds
// after a pipeline ended, ran all its 12,600 syscalls pinned.
func TestSplitsPauseEnds(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	p := e.Plat
	as, c, st := e.Loop(t)
	if p.h.NumCPU() < 2 {
		// One CPU: a pair never tries to split, pause or none.
		switchGetpids(t, c, as, st, splitFirstTry+splitBusyRetry+2)
		if c.pl.split || c.pl.retry != 0 {
			t.Fatal("a context tried to split on a machine with one CPU")
		}
		return
	}
	p.splitsPaused.start(splitsPausedFor)
	switchGetpids(t, c, as, st, splitFirstTry+splitBusyRetry/2)
	if c.pl.split || c.pl.retry != 0 {
		t.Fatal("a new context tried to split while splits were paused")
	}

	c2 := e.Context(t)
	defer c2.Release()
	st2 := platformtest.InitState()
	st2.Regs.Rax = unix.SYS_GETPID
	p.splitsPaused.start(splitsPausedFor)
	time.Sleep(25 * time.Millisecond)
	// A pair that tried and missed has left the split and set its retry.
	switchGetpids(t, c2, as, st2, splitFirstTry+2)
	if !c2.pl.split && c2.pl.retry == 0 {
		t.Fatal("a context that started 25 ms after splits were paused did not try to split")
	}
}

// TestServedBatches: a context's mapping batches run through its stub's
// serving thread (the guest sees each new mapping), which moves to the
// CPU of the thread that flushes; Release of the context leaves it be.
func TestServedBatches(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as := e.AS(t, platformtest.Cat(platformtest.MovRbxAbs(platformtest.DataAddr), platformtest.Syscall, []byte{0xeb, 0xf4}))
	c := e.Context(t)
	_, before, ok := as.Served()
	if !ok {
		t.Fatal("the stub has no serving thread")
	}
	remapRounds(t, e, c, as, platformtest.InitState(), 6)
	tid, after, _ := as.Served()
	if after-before < 6 {
		t.Fatalf("%d batches through the serving thread for 6 remaps", after-before)
	}
	if c.pl.home >= 0 {
		if cpu := onlyCPU(t, tid); cpu != c.pl.home {
			t.Errorf("serving thread on CPU %d, uk's thread on %d", cpu, c.pl.home)
		}
	}
	c.Release()
	if err := unix.Tgkill(as.Pid, tid, 0); err != nil {
		t.Fatalf("serving thread %d after the context's Release: %v", tid, err)
	}
	c2 := e.Context(t)
	defer c2.Release()
	remapRounds(t, e, c2, as, platformtest.InitState(), 2)
}

// TestServedBatchFailure: a request the host refuses fails the flush
// with the host's errno and the request's index (the serving thread's
// second packet), and the stub is killed: nothing runs in it again.
func TestServedBatchFailure(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as := e.AS(t, platformtest.SyscallLoop)
	c := e.Context(t)
	defer c.Release()
	st := platformtest.InitState()
	st.Regs.Rax = unix.SYS_GETPID
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	if err := as.MapFile(platformtest.DataAddr+arch.PageSize, e.Data, arch.PageSize, platform.Read); err != nil {
		t.Fatal(err)
	}
	// An offset past the largest a file may be mapped at: EOVERFLOW.
	if err := as.MapFile(platformtest.DataAddr+2*arch.PageSize, -arch.PageSize, arch.PageSize, platform.Read); err != nil {
		t.Fatal(err)
	}
	_, err := c.Switch(as, st)
	var be *stubproc.BatchError
	if !errors.As(err, &be) || be.Index != 1 || !errors.Is(err, unix.EOVERFLOW) {
		t.Fatalf("Switch after a refused mapping: %v, want the second request's EOVERFLOW", err)
	}
	if _, err := c.Switch(as, st); err == nil {
		t.Fatal("Switch into the stub of a failed batch succeeded")
	}
}

// TestParkNextThread: once a space has handed out two threads, the next
// is parked in the background, and the third context gets that one.
func TestParkNextThread(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as := e.AS(t, platformtest.SyscallLoop)
	var cs [3]*Context
	for i := range cs {
		cs[i] = e.Context(t)
		defer cs[i].Release()
	}
	for _, c := range cs[:2] {
		if err := c.Prepare(as); err != nil {
			t.Fatal(err)
		}
	}
	as.Mu.Lock()
	wait := as.refill
	as.Mu.Unlock()
	if wait == nil {
		t.Fatal("no thread being parked after the second")
	}
	<-wait
	as.Mu.Lock()
	if len(as.parked) != 1 {
		as.Mu.Unlock()
		t.Fatalf("%d threads parked, want 1", len(as.parked))
	}
	next := as.parked[0]
	as.Mu.Unlock()
	if err := cs[2].Prepare(as); err != nil {
		t.Fatal(err)
	}
	if cs[2].threads[as] != next {
		t.Fatal("the third context did not get the parked thread")
	}
	for _, c := range cs {
		st := platformtest.InitState()
		st.Regs.Rax = unix.SYS_GETPID
		platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	}
}

// remapRounds maps the data page to one of two pages in turn, n times,
// and checks after each switch that the guest read the new one.
func remapRounds(t *testing.T, e *env, c *Context, as *AddressSpace, st *arch.State, n int) {
	t.Helper()
	offs, err := e.MF.Allocate(1)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(e.MF.Bytes(e.Data, 8), 111)
	binary.LittleEndian.PutUint64(e.MF.Bytes(offs[0], 8), 222)
	for i := 0; i < n; i++ {
		off, want := e.Data, uint64(111)
		if i%2 == 1 {
			off, want = offs[0], 222
		}
		if err := as.MapFile(platformtest.DataAddr, off, arch.PageSize, platform.Read); err != nil {
			t.Fatal(err)
		}
		platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
		if st.Regs.Rbx != want {
			t.Fatalf("round %d: read %d, want %d", i, st.Regs.Rbx, want)
		}
	}
}

// TestUnbind: a context lets go of its OS thread at a wait, right after
// mapping batches too: the thread is unpinned; a Switch from another OS
// thread rebinds it there (its home is that thread's CPU, the stub thread
// follows), and batches still reach the guest.
func TestUnbind(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as := e.AS(t, platformtest.Cat(platformtest.MovRbxAbs(platformtest.DataAddr), platformtest.Syscall, []byte{0xeb, 0xf4}))
	c := e.Context(t)
	st := platformtest.InitState()
	remapRounds(t, e, c, as, st, 2)
	if !c.Unbind() {
		t.Fatal("kept its thread at a wait after mapping batches")
	}
	if c.pl.home >= 0 && e.Plat.h.NumCPU() > 1 && onlyCPU(t, 0) >= 0 {
		t.Fatal("the let-go thread is still pinned")
	}

	// The next use comes from another OS thread.
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
		if tid := unix.Gettid(); c.tid != tid {
			t.Errorf("context's thread %d, want %d (the caller)", c.tid, tid)
		}
		if c.pl.home >= 0 {
			home := onlyCPU(t, 0)
			if home != c.pl.home {
				t.Errorf("uk's thread pinned to %d, context's home %d", home, c.pl.home)
			}
			want := home
			if c.pl.split {
				want = c.p.h.PartnerCPU(home)
			}
			if stub := onlyCPU(t, c.threads[as].tid); stub != want {
				t.Errorf("stub thread on CPU %d, want %d", stub, want)
			}
		}
		remapRounds(t, e, c, as, st, 2)
		c.Release()
		unix.SchedSetaffinity(0, &hostAffinity) // the thread goes back to the pool
	}()
	<-done
}

// TestWaitsAreMisses: a split pair whose task waits in the kernel at
// every other trap (a pipe ping-pong) reaches the miss score that sends it
// back to pinned; one that only makes covered traps never does.
func TestWaitsAreMisses(t *testing.T) {
	for _, tc := range []struct {
		name      string
		waitEvery int // a wait after every n-th covered trap; 0: none
		leave     bool
	}{
		{"ping-pong", 2, true},
		{"no waits", 0, false},
	} {
		pl := placement{split: true}
		left := false
		for i := 1; i <= 100 && !left; i++ {
			if pl.misses > 0 { // a covered trap (spinWait)
				pl.misses--
			}
			if tc.waitEvery > 0 && i%tc.waitEvery == 0 {
				pl.waited()
			}
			left = pl.keepsMissing()
		}
		if left != tc.leave {
			t.Errorf("%s: left split %v, want %v (score %d)", tc.name, left, tc.leave, pl.misses)
		}
	}
}

// TestUnbindAfterRelease: a released context lets go of its thread even
// if it had batches (the task goroutine then ends without taking the OS
// thread with it).
func TestUnbindAfterRelease(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as := e.AS(t, platformtest.Cat(platformtest.MovRbxAbs(platformtest.DataAddr), platformtest.Syscall, []byte{0xeb, 0xf4}))
	c := e.Context(t)
	remapRounds(t, e, c, as, platformtest.InitState(), 2)
	c.Release()
	if !c.Unbind() {
		t.Fatal("a released context kept its thread")
	}
	unix.SchedSetaffinity(0, &hostAffinity)
}

// TestHeldHandlerSpins: at a split pair's trap that runs a mapping batch
// (mprotect here), uk grants the handler rounds of spinning (hdrHold) and
// keeps the split token; they keep it spinning past its own count, and
// once the task waits in uk (Unbind) the token is free and the handler
// sleeps on the state word after the round it is in. The rounds are set
// here far beyond what uk grants, so that the check does not depend on
// how long a PAUSE takes on this CPU.
func TestHeldHandlerSpins(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	p := e.Plat
	as, c, st := e.Loop(t)
	if p.h.NumCPU() < 2 {
		// One CPU: no pair splits, so no handler is ever held.
		for i := 0; i < splitFirstTry+splitBusyRetry+2; i++ {
			st.Regs.Rax = unix.SYS_MPROTECT
			platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
			if c.pl.split || c.held != nil {
				t.Fatal("a handler held or a pair split on a machine with one CPU")
			}
		}
		return
	}
	for i := 0; i < 5*(splitRetryMax+100) && !c.pl.split; i++ {
		st.Regs.Rax = unix.SYS_MPROTECT
		platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	}
	if !c.pl.split {
		t.Fatal("the pair did not split")
	}
	th := c.threads[as]
	if c.held != th {
		t.Fatal("no spinning rounds granted at a split pair's mprotect trap")
	}
	if n := p.splitTokens.Load(); n != int32(p.h.NumCPU()/2)-1 {
		t.Fatalf("%d split tokens free while a held handler spins, want %d", n, p.h.NumCPU()/2-1)
	}
	// The rounds atTrap granted may run out before the test raises them
	// (a preempted test thread): then try at the next trap.
	spinning := func(v uint32) bool { return trapped(v) && v != stateStubWait && v != stateFastStubWait }
	held := false
	for try := 0; try < 10 && !held; try++ {
		setHold(th.mem, 1<<30)
		if spinning(th.word.Load()) {
			time.Sleep(20 * time.Millisecond) // hundreds of the handler's own rounds
			held = spinning(th.word.Load())
		}
		if !held {
			st.Regs.Rax = unix.SYS_MPROTECT
			platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
		}
	}
	if !held {
		t.Fatal("a held handler slept within 20 ms at each of 10 traps, want it spinning at its trap")
	}
	c.Unbind()
	if n := p.splitTokens.Load(); n != int32(p.h.NumCPU()/2) {
		t.Fatalf("%d split tokens free while the task waits, want all %d", n, p.h.NumCPU()/2)
	}
	deadline := time.Now().Add(5 * time.Second)
	for v := th.word.Load(); v != stateStubWait && v != stateFastStubWait; v = th.word.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("state word %#x 5 s after the hold was taken back, want the handler asleep", v)
		}
		time.Sleep(time.Millisecond)
	}
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall) // and it still answers
}

// TestLongRunLetsGo: a thread that runs longRun without a trap is let go
// of its pin while it runs (two programs computing at once, pinned to one
// CPU, took turns on it while the other CPU idled), and at its next
// resume the pair is pinned again, on the CPU the thread published its
// trap from.
func TestLongRunLetsGo(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	// getpid, about 60-300 ms of computing (2^28 iterations), getpid,
	// getpid, and again.
	compute := []byte{
		0xb8, 0x27, 0x00, 0x00, 0x00, // mov eax, SYS_getpid
		0x0f, 0x05, // syscall
		0xb9, 0x00, 0x00, 0x00, 0x10, // mov ecx, 0x10000000
		0xff, 0xc9, // dec ecx
		0x75, 0xfc, // jnz dec
		0xb8, 0x27, 0x00, 0x00, 0x00, // mov eax, SYS_getpid
		0x0f, 0x05, // syscall
		0xb8, 0x27, 0x00, 0x00, 0x00, // mov eax, SYS_getpid
		0x0f, 0x05, // syscall
		0xeb, 0xe0, // jmp 0
	}
	as := e.AS(t, compute)
	c := e.Context(t)
	defer c.Release()
	st := platformtest.InitState()
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall) // the first getpid: a short run
	tid := c.threads[as].tid
	if e.Plat.h.NumCPU() < 2 {
		// One CPU: nothing to balance, and nothing is let go.
		platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
		if c.threads[as].free {
			t.Fatal("a thread let go of its pin on a machine with one CPU")
		}
		return
	}
	if onlyCPU(t, tid) < 0 {
		t.Fatal("the stub thread is not pinned after a short run")
	}
	// Watch the thread's affinity during the long run.
	stop, seen := make(chan struct{}), make(chan bool, 1)
	go func() {
		free := false
		for {
			select {
			case <-stop:
				seen <- free
				return
			case <-time.After(time.Millisecond):
			}
			var set unix.CPUSet
			if unix.SchedGetaffinity(tid, &set) == nil && set.Count() > 1 {
				free = true
			}
		}
	}()
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall) // the long run, then getpid
	close(stop)
	if !<-seen {
		t.Fatalf("the stub thread stayed pinned through a run of more than %v", longRun)
	}
	if !c.threads[as].free {
		t.Fatal("the thread is not marked let go after its long run")
	}
	aux := binary.LittleEndian.Uint32(c.threads[as].mem[hdrCPU:])
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall) // resumed (placed again), and a short run
	if c.threads[as].free {
		t.Fatal("the thread is still let go after its next resume")
	}
	checkPlacement(t, c, as, false)
	if cpu := stubproc.CPUOfAux(aux); arch.HasRDTSCP() && cpu >= 0 && c.pl.home != cpu {
		t.Fatalf("the pair's home is CPU %d, the thread published its trap on CPU %d", c.pl.home, cpu)
	}
}
