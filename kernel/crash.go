package kernel

import (
	"fmt"
	"io"

	"golang.org/x/arch/x86/x86asm"

	"uk/arch"
)

// crashReport describes a fatal fault: the signal, the address, the
// registers and the faulting instruction.
func crashReport(w io.Writer, sig, code int, addr uint64, r *arch.Registers, insn []byte) {
	name, meaning := arch.SiCodeName(sig, code)
	fmt.Fprintf(w, "%s (%s: %s) at address %#x\n", arch.SignalName(sig), name, meaning, addr)
	fmt.Fprintf(w, "  rip %016x  rsp %016x  rbp %016x  eflags %08x\n", r.Rip, r.Rsp, r.Rbp, r.Eflags)
	fmt.Fprintf(w, "  rax %016x  rbx %016x  rcx %016x  rdx %016x\n", r.Rax, r.Rbx, r.Rcx, r.Rdx)
	fmt.Fprintf(w, "  rsi %016x  rdi %016x  r8  %016x  r9  %016x\n", r.Rsi, r.Rdi, r.R8, r.R9)
	fmt.Fprintf(w, "  r10 %016x  r11 %016x  r12 %016x  r13 %016x\n", r.R10, r.R11, r.R12, r.R13)
	fmt.Fprintf(w, "  r14 %016x  r15 %016x  fs_base %016x\n", r.R14, r.R15, r.FsBase)
	if inst, err := x86asm.Decode(insn, 64); err == nil {
		fmt.Fprintf(w, "  faulting instruction: %016x: % x  %s\n", r.Rip, insn[:inst.Len], x86asm.GNUSyntax(inst, r.Rip, nil))
	} else {
		fmt.Fprintf(w, "  faulting instruction: %016x: (cannot decode % x)\n", r.Rip, insn)
	}
}
