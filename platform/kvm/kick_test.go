package kvm

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// TestKickResume kicks a spinning thread out of user mode many times and
// resumes it each time: every resume goes back into supervisor mode from
// a user-mode stop.
func TestKickResume(t *testing.T) {
	locked(t)
	e := newEnv(t)
	c := e.newContext(t)
	defer c.Release()
	as := e.newAS(t, insJmpSelf)
	st := initState()
	for i := 0; i < 300; i++ {
		timer := time.AfterFunc(time.Duration(i%7)*50*time.Microsecond, c.Interrupt)
		trap, err := c.Switch(as, st)
		timer.Stop()
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if trap.Kind != platform.TrapInterrupt {
			t.Fatalf("round %d: trap %+v", i, trap)
		}
	}
}

// TestCompatSyscall: a syscall executed in compat mode (CS 0x23) is marked
// Compat, never taken for the 64-bit call its number names, and the thread
// stays in compat mode. Intel CPUs have no SYSCALL in compat mode: there
// it is an invalid opcode (SIGILL, ILL_ILLOPN) at the instruction, as
// natively on those CPUs.
func TestCompatSyscall(t *testing.T) {
	locked(t)
	e := newEnv(t)
	c := e.newContext(t)
	defer c.Release()
	// mov eax, 60; syscall: the same bytes in 32-bit code.
	as := e.newAS(t, cat([]byte{0xb8, 60, 0, 0, 0}, insSyscall, insJmpSelf))
	st := initState()
	st.Regs.Cs = selUser32CS
	// The CPU that runs the guest's code decides: in the QEMU guest of
	// scripts/kvm-in-qemu.sh it is the emulated EPYC, an AMD.
	if arch.CPUVendor() == "GenuineIntel" {
		trap := mustSwitch(t, c, as, st, platform.TrapSignal)
		if trap.Signo != int32(unix.SIGILL) || trap.Code != arch.ILL_ILLOPN || st.Regs.Rip != codeAddr+5 || st.Regs.Cs != selUser32CS {
			t.Fatalf("trap %+v at rip %#x cs %#x, want SIGILL code %d at %#x cs 0x23 (Intel)", trap, st.Regs.Rip, st.Regs.Cs, arch.ILL_ILLOPN, codeAddr+5)
		}
		return
	}
	trap := mustSwitch(t, c, as, st, platform.TrapSyscall)
	if !trap.Compat || st.Regs.OrigRax != 60 || st.Regs.Rip != codeAddr+7 || st.Regs.Cs != selUser32CS {
		t.Fatalf("trap %+v: syscall %d at rip %#x cs %#x, want a compat syscall 60 at %#x cs 0x23",
			trap, st.Regs.OrigRax, st.Regs.Rip, st.Regs.Cs, codeAddr+7)
	}
	// Resumed with -ENOSYS, it goes on in compat mode to the jmp $.
	st.Regs.Rax = uint64(0xffffffda)
	timer := time.AfterFunc(time.Millisecond, c.Interrupt)
	defer timer.Stop()
	mustSwitch(t, c, as, st, platform.TrapInterrupt)
	if st.Regs.Rip != codeAddr+7 || st.Regs.Cs != selUser32CS || st.Regs.Rax != 0xffffffda {
		t.Errorf("after the syscall: rip %#x cs %#x rax %#x, want %#x 0x23 0xffffffda", st.Regs.Rip, st.Regs.Cs, st.Regs.Rax, codeAddr+7)
	}
}

// TestKickDuringFault kicks a thread over and over while every run of it
// faults: a kick that lands after KVM queued the fault for the guest but
// before delivering it must not leave the fault queued for the next entry,
// where it would hit the enter code in supervisor mode (it did, under
// kvm_pvm: "exception 14 (error 0x4) in supervisor mode at the enter code").
func TestKickDuringFault(t *testing.T) {
	locked(t)
	e := newEnv(t)
	c := e.newContext(t)
	defer c.Release()
	const unmapped = dataAddr + 0x10000
	as := e.newAS(t, movRbxAbs(unmapped))
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			c.Interrupt()
			time.Sleep(20 * time.Microsecond)
		}
	}()
	faults, kicks := 0, 0
	for i := 0; i < 4000; i++ {
		st := initState()
		trap, err := c.Switch(as, st)
		if err != nil {
			t.Fatalf("round %d (%d faults, %d kicks): %v", i, faults, kicks, err)
		}
		switch {
		case trap.Kind == platform.TrapInterrupt:
			kicks++
		case trap.Kind == platform.TrapFault && trap.Addr == unmapped && st.Regs.Rip == codeAddr:
			faults++
		default:
			t.Fatalf("round %d: trap %+v at rip %#x", i, trap, st.Regs.Rip)
		}
	}
	t.Logf("%d faults, %d kicks", faults, kicks)
}
