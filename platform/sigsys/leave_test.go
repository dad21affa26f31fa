package sigsys

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/platform"
	"uk/platform/platformtest"
)

// incLoop is `loop: inc rbx; syscall; jmp loop`: every trap shows, in
// RBX, how many times the thread ran the loop with the state it was given.
var incLoop = platformtest.Cat(platformtest.IncRbx, platformtest.Syscall, []byte{0xeb, 0xf9})

// TestLeaveReparks: a context that leaves an address space (a vfork
// child's execve) gives its stub thread back to the space's parked ones;
// the next context there runs its own state on that thread, and the
// context that left gets a thread of its own when it comes back.
func TestLeaveReparks(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as := e.AS(t, incLoop)
	c1, c2 := e.Context(t), e.Context(t)
	defer c1.Release()
	defer c2.Release()

	st1 := platformtest.InitState()
	st1.Regs.Rax = unix.SYS_GETPID
	platformtest.MustSwitch(t, c1, as, st1, platform.TrapSyscall)
	left := c1.threads[as]
	c1.Leave(as)
	if _, ok := c1.threads[as]; ok {
		t.Fatal("the context still holds its thread after Leave")
	}
	as.Mu.Lock()
	parked := len(as.parked) == 1 && as.parked[0] == left
	as.Mu.Unlock()
	if !parked {
		t.Fatal("the thread left behind is not parked")
	}

	st2 := platformtest.InitState()
	st2.Regs.Rax, st2.Regs.Rbx = unix.SYS_GETPID, 100
	platformtest.MustSwitch(t, c2, as, st2, platform.TrapSyscall)
	if c2.threads[as] != left {
		t.Fatal("the next context did not get the thread left behind")
	}
	if st2.Regs.Rbx != 101 || st2.Regs.Rip != platformtest.CodeAddr+5 {
		t.Fatalf("on the reused thread: rbx %d rip %#x, want 101 and %#x", st2.Regs.Rbx, st2.Regs.Rip, platformtest.CodeAddr+5)
	}
	platformtest.MustSwitch(t, c2, as, st2, platform.TrapSyscall)
	if st2.Regs.Rbx != 102 {
		t.Fatalf("second trap on the reused thread: rbx %d, want 102", st2.Regs.Rbx)
	}

	// The context that left comes back with a thread of its own, its
	// state where it was.
	platformtest.MustSwitch(t, c1, as, st1, platform.TrapSyscall)
	if c1.threads[as] == left || st1.Regs.Rbx != 2 {
		t.Fatalf("back in the space: same thread %v, rbx %d (want a new thread, 2)", c1.threads[as] == left, st1.Regs.Rbx)
	}
}

// TestLeaveEndsBeyondParked: a space keeps at most maxParked threads
// parked; a thread left behind beyond that exits.
func TestLeaveEndsBeyondParked(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as := e.AS(t, incLoop)
	var cs []*Context
	for i := 0; i < maxParked+1; i++ {
		c := e.Context(t)
		defer c.Release()
		st := platformtest.InitState()
		st.Regs.Rax = unix.SYS_GETPID
		platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
		cs = append(cs, c)
	}
	// Let the thread parked ahead of need (if any) arrive first.
	as.Mu.Lock()
	if wait := as.refill; wait != nil {
		as.Mu.Unlock()
		<-wait
		as.Mu.Lock()
	}
	room := maxParked - len(as.parked)
	as.Mu.Unlock()
	for _, c := range cs[:room] {
		c.Leave(as)
	}
	last := cs[room].threads[as]
	cs[room].Leave(as)
	as.Mu.Lock()
	n := len(as.parked)
	as.Mu.Unlock()
	if n != maxParked {
		t.Fatalf("%d threads parked, want %d", n, maxParked)
	}
	for i := 0; unix.Tgkill(as.Pid, last.tid, 0) != unix.ESRCH; i++ {
		if i == 1000 {
			t.Fatalf("the thread left beyond %d parked (tid %d) did not exit", maxParked, last.tid)
		}
		time.Sleep(time.Millisecond)
	}
}
