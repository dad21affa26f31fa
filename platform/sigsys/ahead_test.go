package sigsys

import (
	"encoding/binary"
	"testing"

	"uk/arch"
	"uk/platform"
	"uk/platform/platformtest"
)

// TestMapAhead: a mapping made ahead of need waits in the queue through a
// switch (no batch runs for it), and the program's first touch of it
// installs the queue and goes on without a fault reaching uk; a mapping
// that must be in place (one not marked) still goes out at the switch,
// taking the waiting one with it.
func TestMapAhead(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	// syscall; mov rax, [hole+8]; syscall; mov rax, [hole+page+8]; syscall
	page := uint32(arch.PageSize)
	as := e.AS(t, platformtest.Cat(platformtest.Syscall,
		platformtest.MovRaxAbs(platformtest.HoleAddr+8), platformtest.Syscall,
		platformtest.MovRaxAbs(platformtest.HoleAddr+page+8), platformtest.Syscall))
	c := e.Context(t)
	defer c.Release()
	st := platformtest.InitState()
	st.Regs.Rax = 39
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)

	offs, err := e.MF.Allocate(2)
	if err != nil {
		t.Fatal(err)
	}
	mem := e.MF.Bytes(offs[0], 2*arch.PageSize)
	binary.LittleEndian.PutUint64(mem[8:], 0x4242)
	binary.LittleEndian.PutUint64(mem[arch.PageSize+8:], 0x4343)
	batches := func() uint32 {
		_, n, ok := as.Served()
		if !ok {
			t.Fatal("the stub has no serving thread")
		}
		return n
	}

	as.MapNextAhead()
	if err := as.MapFile(platformtest.HoleAddr, offs[0], arch.PageSize, platform.Read); err != nil {
		t.Fatal(err)
	}
	before := batches()
	st.Regs.Rip, st.Regs.Rax = platformtest.CodeAddr, 39
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall) // the first syscall again: nothing touched
	if n := batches(); n != before {
		t.Fatalf("%d batches ran at a switch with only a mapping made ahead queued", n-before)
	}
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	if st.Regs.OrigRax != 0x4242 {
		t.Fatalf("the load read %#x, want 0x4242", st.Regs.OrigRax)
	}
	if n := batches(); n != before+1 {
		t.Fatalf("%d batches for the touch of a mapping made ahead, want 1", n-before)
	}

	// A must-mapping behind a waiting one: both go out at the switch.
	as.MapNextAhead()
	if err := as.MapFile(platformtest.HoleAddr+uint64(page), offs[1], arch.PageSize, platform.Read); err != nil {
		t.Fatal(err)
	}
	if err := as.MapFile(platformtest.HoleAddr, offs[1], arch.PageSize, platform.Read); err != nil {
		t.Fatal(err)
	}
	before = batches()
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	if st.Regs.OrigRax != 0x4343 {
		t.Fatalf("the second load read %#x, want 0x4343", st.Regs.OrigRax)
	}
	if n := batches(); n != before+1 {
		t.Fatalf("%d batches for a switch with a mapping that must go out, want 1", n-before)
	}
}
