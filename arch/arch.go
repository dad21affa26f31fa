// Package arch describes the x86-64 Linux user ABI that uk implements: the
// register file a platform saves and restores at every trap, the FPU/XSAVE
// area, syscall numbers and names, errno values and the auxiliary vector.
//
// Nothing here knows how a platform runs code or how the kernel implements a
// system call; both sides speak in these types.
package arch

// Registers is the general-purpose register file of one thread, laid out as
// Linux's struct user_regs_struct (the layout of PTRACE_GETREGS and of
// NT_PRSTATUS), so a platform can move it without reordering fields.
//
// At a syscall trap, Rax holds the syscall result slot and OrigRax the syscall
// number; the kernel reads arguments from Rdi, Rsi, Rdx, R10, R8, R9.
type Registers struct {
	R15, R14, R13, R12, Rbp, Rbx, R11, R10 uint64
	R9, R8, Rax, Rcx, Rdx, Rsi, Rdi        uint64
	OrigRax                                uint64
	Rip, Cs, Eflags, Rsp, Ss               uint64
	FsBase, GsBase                         uint64
	Ds, Es, Fs, Gs                         uint64
}

// Selector values user code runs with on x86-64 Linux.
const (
	UserCS = 0x33
	UserDS = 0x2b
)

// SyscallArgs returns the six syscall argument registers in ABI order.
func (r *Registers) SyscallArgs() [6]uint64 {
	return [6]uint64{r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9}
}

// State is everything a platform saves of a thread at a trap and restores
// when it resumes it.
//
// FP is the XSAVE image (legacy FXSAVE area, header, extended components) in
// standard format. FPDirty is set by the kernel whenever it changes FP (signal
// delivery, sigreturn, exec, clone); a platform may skip writing FP back to
// the thread when FPDirty is false, and clears it once written.
type State struct {
	Regs    Registers
	FP      []byte
	FPDirty bool
}

// Clone returns a deep copy of s, with FPDirty set so that the copy's FP
// state is loaded into whatever thread it is first switched to.
func (s *State) Clone() State {
	c := State{Regs: s.Regs, FP: append([]byte(nil), s.FP...), FPDirty: true}
	return c
}

// Page size and helpers for page arithmetic.
const (
	PageSize  = 4096
	PageShift = 12
	PageMask  = PageSize - 1
)

// PageRoundDown rounds addr down to a page boundary.
func PageRoundDown(addr uint64) uint64 { return addr &^ PageMask }

// PageRoundUp rounds addr up to a page boundary; ok is false on overflow.
func PageRoundUp(addr uint64) (uint64, bool) {
	r := (addr + PageMask) &^ PageMask
	return r, r >= addr
}
