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

// Selector values user code runs with on x86-64 Linux: UserCS for 64-bit
// code, UserCS32 for code a program runs in compat mode (far-jumping to
// it, as Wine and some JITs do).
const (
	UserCS   = 0x33
	UserCS32 = 0x23
	UserDS   = 0x2b
)

// SyscallArgs returns the six syscall argument registers in ABI order.
func (r *Registers) SyscallArgs() [6]uint64 {
	return [6]uint64{r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9}
}

// State is everything a platform saves of a thread at a trap and restores
// when it resumes it.
//
// FP is the XSAVE image (legacy FXSAVE area, header, extended components) in
// standard format, with room for every component the host enabled. FPDirty
// is set by the kernel whenever it changes FP (signal delivery, sigreturn,
// exec, clone); a platform may skip writing FP back to the thread when
// FPDirty is false, and clears it once written.
//
// XFeatures is kernel bookkeeping the platform leaves alone: the dynamic
// XSAVE components (XFeatureMaskUserDynamic) the thread's FP state has
// grown to hold. Linux gives a thread state for AMX tile data only once its
// process has permission and the thread uses the tiles, and from then on
// (until exec) its signal frames carry them; 0 means the default set.
type State struct {
	Regs      Registers
	FP        []byte
	FPDirty   bool
	XFeatures uint64
	// FPLoad, when set, fetches the thread's FP state into FP, which is
	// stale until then: a platform that can leave the state where the
	// thread trapped (and put it back untouched) sets it at the trap, so
	// that a syscall that never looks at FP costs no copy. Whatever reads
	// FP calls SyncFP first; whatever replaces it whole calls ResetFP.
	FPLoad func(fp []byte)
}

// SyncFP makes FP current (see FPLoad).
func (s *State) SyncFP() {
	if load := s.FPLoad; load != nil {
		s.FPLoad = nil
		load(s.FP)
	}
}

// ResetFP replaces FP whole with fp, marked dirty for the platform to
// load.
func (s *State) ResetFP(fp []byte) {
	s.FP, s.FPLoad, s.FPDirty = fp, nil, true
}

// Clone returns a copy of s for a new thread (clone(2)), with FPDirty set
// so that the copy's FP state is loaded into whatever thread it is first
// switched to. Like Linux's fpu_clone it copies the FP state without the
// dynamic components, which the ABI makes caller-saved: the new thread
// starts with them in their init state and with the default FP state size.
func (s *State) Clone() State {
	s.SyncFP()
	c := State{Regs: s.Regs, FP: append([]byte(nil), s.FP...), FPDirty: true}
	if len(c.FP) >= xsaveMinSize {
		le.PutUint64(c.FP[xstateBVOffset:], le.Uint64(c.FP[xstateBVOffset:])&^XFeatureMaskUserDynamic)
	}
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
