package sigsys

import (
	"testing"

	"golang.org/x/sys/unix"

	"uk/platform"
	"uk/platform/platformtest"
)

// TestReleaseThen: ReleaseThen returns without waiting for the stub, and
// calls back only once the stub process is gone (reaped: no /proc entry),
// edit thread and application thread included; a second release of the
// same space calls back too.
func TestReleaseThen(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as, c, st := e.Loop(t)
	defer c.Release()
	st.Regs.Rax = unix.SYS_GETPID
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	platformtest.CheckReleaseThen(t, as.ReleaseThen, as.Pid)
}

// TestSlotKeptWhileHeld: the slot of a stub thread a context still holds
// is not handed out again when its stub is killed and reaped (a context
// waiting on its state word would take the futex wakes of the slot's next
// thread), and comes back once the context lets go.
func TestSlotKeptWhileHeld(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as, c, st := e.Loop(t)
	st.Regs.Rax = unix.SYS_GETPID
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	p, slot := as.p, c.threads[as].ts.slot
	reaped := make(chan struct{})
	as.ReleaseThen(func() { close(reaped) })
	<-reaped

	// Everything the slot file hands out now, up to more than the stub
	// ever had, must leave the held slot alone.
	var taken []int
	for range 64 {
		s, err := p.slots.get()
		if err != nil {
			t.Fatal(err)
		}
		if s == slot {
			t.Fatalf("slot %d handed out again while a context holds its thread", slot)
		}
		taken = append(taken, s)
	}
	p.slots.put(taken...)

	c.Release()
	for range 64 {
		s, err := p.slots.get()
		if err != nil {
			t.Fatal(err)
		}
		if s == slot {
			return
		}
	}
	t.Fatalf("slot %d not given back after the context let go of its thread", slot)
}
