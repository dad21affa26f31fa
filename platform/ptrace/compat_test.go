package ptrace

import (
	"encoding/binary"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memfile"
	"uk/platform"
)

// compatCode is at compatAddr: 64-bit code that runs one syscall of each
// entry (syscall, int $0x80, and syscall in compat mode), stopping at an
// int3 after each, so that one Switch reaches each.
const compatAddr = 0x400000

func compatProgram() []byte {
	var p []byte
	// 0x00: syscall; int3
	p = append(p, 0x0f, 0x05, 0xcc)
	// 0x03: int $0x80; int3
	p = append(p, 0xcd, 0x80, 0xcc)
	// 0x06: far return into compat mode at 0x20: push 0x23; push
	// compatAddr+0x20 (sign-extended imm32); retfq
	p = append(p, 0x6a, 0x23, 0x68)
	p = binary.LittleEndian.AppendUint32(p, compatAddr+0x20)
	p = append(p, 0x48, 0xcb)
	for len(p) < 0x20 {
		p = append(p, 0xcc)
	}
	// 0x20 (32-bit code): mov eax, 20 (ia32 getpid); syscall; then back
	// to 64-bit mode at 0x40: push 0x33; push compatAddr+0x40; retf.
	p = append(p, 0xb8, 20, 0, 0, 0, 0x0f, 0x05, 0x6a, 0x33, 0x68)
	p = binary.LittleEndian.AppendUint32(p, compatAddr+0x40)
	p = append(p, 0xcb)
	for len(p) < 0x40 {
		p = append(p, 0xcc)
	}
	// 0x40: int3
	return append(p, 0xcc)
}

// TestCompatEntries: a syscall through a 32-bit entry is marked Compat
// (int $0x80 on a host with IA-32 emulation, a #GP elsewhere; syscall in
// compat mode), a 64-bit syscall is not, and a thread in compat mode
// resumes there.
func TestCompatEntries(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	mf, err := memfile.New(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	p, err := New(mf.FD())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	offs, err := mf.Allocate(2)
	if err != nil {
		t.Fatal(err)
	}
	copy(mf.Bytes(offs[0], arch.PageSize), compatProgram())
	pas, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer pas.Release()
	if err := pas.MapFile(compatAddr, offs[0], arch.PageSize, platform.Read|platform.Exec); err != nil {
		t.Fatal(err)
	}
	// The stack, for the far returns.
	if err := pas.MapFile(compatAddr+arch.PageSize, offs[1], arch.PageSize, platform.Read|platform.Write); err != nil {
		t.Fatal(err)
	}
	ctx, err := p.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Release()
	st := &arch.State{FP: arch.NewFPState(), FPDirty: true}
	st.Regs = arch.Registers{Rip: compatAddr, Rsp: compatAddr + 2*arch.PageSize, Eflags: 0x202, Rax: unix.SYS_GETPID,
		Rcx: 0x1234, R11: 0x5678}
	sw := func(want platform.TrapKind) platform.Trap {
		t.Helper()
		trap, err := ctx.Switch(pas, st)
		if err != nil || trap.Kind != want {
			t.Fatalf("trap %+v err %v at rip %#x, want kind %d", trap, err, st.Regs.Rip, want)
		}
		return trap
	}
	if trap := sw(platform.TrapSyscall); trap.Compat || st.Regs.OrigRax != unix.SYS_GETPID {
		t.Errorf("syscall: trap %+v orig_rax %d, want a 64-bit getpid", trap, st.Regs.OrigRax)
	}
	sw(platform.TrapSignal) // the int3
	st.Regs.Rax = 20
	trap, err := ctx.Switch(pas, st)
	switch {
	case err != nil:
		t.Fatal(err)
	case trap.Kind == platform.TrapSignal && trap.Signo == int32(unix.SIGSEGV):
		// No IA-32 emulation on this host: int $0x80 is a #GP.
		st.Regs.Rip += 2
	case trap.Kind != platform.TrapSyscall || !trap.Compat || st.Regs.OrigRax != 20:
		t.Errorf("int $0x80: trap %+v orig_rax %d, want a compat syscall 20", trap, st.Regs.OrigRax)
	}
	sw(platform.TrapSignal) // the int3
	trap, err = ctx.Switch(pas, st)
	if err != nil {
		t.Fatal(err)
	}
	if trap.Kind == platform.TrapSignal {
		// A CPU whose syscall is #UD in compat mode (Intel).
		t.Logf("syscall in compat mode: %+v at rip %#x cs %#x", trap, st.Regs.Rip, st.Regs.Cs)
		return
	}
	if trap.Kind != platform.TrapSyscall || !trap.Compat || st.Regs.Cs != arch.UserCS32 || st.Regs.OrigRax != 20 {
		t.Fatalf("syscall in compat mode: trap %+v cs %#x orig_rax %d, want a compat syscall 20 from cs 0x23",
			trap, st.Regs.Cs, st.Regs.OrigRax)
	}
	// Resumed in compat mode, the 32-bit code goes on back to 64-bit mode
	// and the int3 there.
	st.Regs.Rax = ^uint64(37) // -ENOSYS
	sw(platform.TrapSignal)
	if st.Regs.Rip != compatAddr+0x41 || st.Regs.Cs != arch.UserCS {
		t.Errorf("after compat mode: rip %#x cs %#x, want %#x 0x33", st.Regs.Rip, st.Regs.Cs, compatAddr+0x41)
	}
}
