package kernel

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// uk implements the x86-64 syscall ABI only. A program can still reach the
// 32-bit entries: int $0x80 and (Intel) sysenter from 64-bit code, and any
// syscall instruction after a far jump into compat mode (code segment
// 0x23). The platform marks such a trap (platform.Trap.Compat), and uk
// answers as Linux built without IA32 emulation does, never running the
// 64-bit call that the 32-bit number would name:
//
//   - int $0x80: there is no user gate for vector 0x80, so the
//     instruction raises #GP: SIGSEGV (SI_KERNEL, address 0) with RIP on
//     the instruction;
//   - syscall in compat mode: returns -ENOSYS (the CSTAR target is
//     ignore_sysret) to the next instruction.
//
// On a host with IA32 emulation the host's fast 32-bit syscall path
// replaces the return address of a compat-mode syscall with its 32-bit
// vDSO's landing pad before uk sees it, so the next instruction is not
// known: that one gets the SIGSEGV too. So does sysenter from 64-bit
// code on Intel (on AMD it is an invalid opcode, SIGILL, and never
// reaches uk as a syscall): the host's entry also replaces RSP with EBP,
// and the program usually dies of the SIGSEGV, its frame unwritable.

// int80Fault returns the signal for a TrapSignal. A platform whose
// hypervisor makes int $0x80 an invalid opcode (kvm_pvm raises #UD) would
// give SIGILL where Linux without IA32 emulation gives the #GP's SIGSEGV
// (SI_KERNEL, address 0): that one is turned into the SIGSEGV. Only a
// SIGILL pays for the look at the instruction.
func (t *Task) int80Fault(trap platform.Trap) (sig, code int, addr uint64) {
	sig, code, addr = int(trap.Signo), int(trap.Code), trap.Addr
	if sig != int(unix.SIGILL) {
		return sig, code, addr
	}
	var insn [2]byte
	if t.CopyIn(t.State.Regs.Rip, insn[:]) == nil && insn == [2]byte{0xcd, 0x80} {
		return int(unix.SIGSEGV), arch.SI_KERNEL, 0
	}
	return sig, code, addr
}

// compatOnce reports the first 32-bit syscall of the sandbox under --debug.
var compatOnce sync.Once

// refuseCompatSyscall answers a syscall that came through a 32-bit entry.
func (t *Task) refuseCompatSyscall() {
	r := &t.State.Regs
	var insn [2]byte
	err := t.CopyIn(r.Rip-2, insn[:])
	compatOnce.Do(func() {
		fmt.Fprintf(t.k.Debug, "uk: [%d] a 32-bit syscall (%d) at %#x: refused, as without IA32 emulation\n", t.tid, r.OrigRax, r.Rip-2)
	})
	switch {
	case err == nil && r.Cs == arch.UserCS32 && insn == [2]byte{0x0f, 0x05}:
		// eax = -ENOSYS, as sysretl leaves it (the upper half zero).
		enosys := int32(unix.ENOSYS)
		r.Rax = uint64(uint32(-enosys))
	case err == nil && insn == [2]byte{0xcd, 0x80}:
		r.Rip -= 2
		t.forceSignal(int(unix.SIGSEGV), arch.SI_KERNEL, 0)
	default:
		t.forceSignal(int(unix.SIGSEGV), arch.SI_KERNEL, 0)
	}
}
