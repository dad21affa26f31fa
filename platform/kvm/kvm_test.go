package kvm

import (
	"sort"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// TestWindowFaultFirstSwitch: a read of the supervisor window (the
// trampoline's IDT) faults at the address even as a context's first Switch.
func TestWindowFaultFirstSwitch(t *testing.T) {
	locked(t)
	e := newEnv(t)
	c := e.newContext(t)
	defer c.Release()
	as := e.newAS(t, []byte{0x48, 0x8b, 0x03}) // mov rax, [rbx]
	st := initState()
	st.Regs.Rbx = windowBase + offIDT
	trap := mustSwitch(t, c, as, st, platform.TrapFault)
	if trap.Addr != st.Regs.Rbx || trap.Access != platform.Read || trap.Signo != int32(unix.SIGSEGV) || st.Regs.Rip != codeAddr {
		t.Errorf("trap %+v rip %#x, want a read fault at %#x from %#x", trap, st.Regs.Rip, st.Regs.Rbx, codeAddr)
	}
}

// TestInt80: there is no 32-bit syscall entry; int 0x80 is a #GP
// (SIGSEGV, SI_KERNEL), or the #UD kvm_pvm raises for it.
func TestInt80(t *testing.T) {
	locked(t)
	e := newEnv(t)
	c := e.newContext(t)
	defer c.Release()
	as := e.newAS(t, []byte{0xcd, 0x80})
	st := initState()
	trap := mustSwitch(t, c, as, st, platform.TrapSignal)
	if trap.Signo == int32(unix.SIGILL) {
		return
	}
	if trap.Signo != int32(unix.SIGSEGV) || trap.Code != 0x80 || trap.Addr != 0 {
		t.Errorf("trap %+v, want SIGSEGV code 0x80 addr 0", trap)
	}
}

// TestReleasedTablesReused releases many address spaces whose tables map
// a page; none of the pages may stay reachable from a later one that
// reuses their page-table pages.
func TestReleasedTablesReused(t *testing.T) {
	locked(t)
	e := newEnv(t)
	c := e.newContext(t)
	defer c.Release()
	prog := cat(movRbxAbs(dataAddr), insSyscall)
	for i := 0; i < 200; i++ {
		as := e.newAS(t, prog)
		st := initState()
		if i%2 == 1 {
			if err := as.Unmap(dataAddr, arch.PageSize); err != nil {
				t.Fatal(err)
			}
			trap := mustSwitch(t, c, as, st, platform.TrapFault)
			if trap.Addr != dataAddr {
				t.Fatalf("round %d: trap %+v", i, trap)
			}
		} else {
			mustSwitch(t, c, as, st, platform.TrapSyscall)
		}
		as.Release()
	}
}

// TestRoundTrip reports the median syscall round trip.
func TestRoundTrip(t *testing.T) {
	locked(t)
	e := newEnv(t)
	as := e.newAS(t, cat([]byte{0xb8, 39, 0, 0, 0}, insSyscall, []byte{0xeb, 0xf7}))
	c := e.newContext(t)
	defer c.Release()
	st := initState()
	times := make([]time.Duration, 0, 500)
	for i := 0; i < 510; i++ {
		start := time.Now()
		mustSwitch(t, c, as, st, platform.TrapSyscall)
		if i >= 10 {
			times = append(times, time.Since(start))
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("syscall round trip: median %v, p10 %v, p90 %v (pvm %v)", times[len(times)/2], times[len(times)/10], times[len(times)*9/10], e.p.PVM())
}

// TestWindowUnreachable reads, writes and jumps into the supervisor window
// (trampoline, IDT, the shared window tables, the address space's own root
// page table, the vCPU block): every access must fault.
func TestWindowUnreachable(t *testing.T) {
	locked(t)
	e := newEnv(t)
	read := []byte{0x48, 0x8b, 0x03}  // mov rax, [rbx]
	write := []byte{0x48, 0x89, 0x03} // mov [rbx], rax
	jump := []byte{0xff, 0xe3}        // jmp rbx
	c := e.newContext(t)
	defer c.Release()
	for _, ins := range [][]byte{read, write, jump} {
		as := e.newAS(t, ins)
		st := initState()
		mustSwitch(t, c, as, st, platform.TrapFault) // warm up: the vCPU exists now
		targets := []uint64{windowBase + offCode, windowBase + offCode + codeEnter, windowBase + offIDT,
			windowBase + offWinPDPT, windowBase + as.root, windowBase + sysSize - 8}
		for _, target := range targets {
			st := initState()
			st.Regs.Rbx = target
			if target == addrLSTAR && ins[0] == jump[0] {
				// A jump to LSTAR is how kvm_pvm reports a syscall:
				// it is one, with RCX as the return address (no more
				// than the syscall instruction would do).
				st.Regs.Rcx = codeAddr
				mustSwitch(t, c, as, st, platform.TrapSyscall)
				continue
			}
			trap := mustSwitch(t, c, as, st, platform.TrapFault)
			if trap.Addr != target {
				t.Errorf("access to %#x: trap %+v", target, trap)
			}
		}
	}
}
