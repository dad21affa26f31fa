package arch

import (
	"errors"
)

// What ptrace(2) exposes of a thread: struct user (PEEKUSER/POKEUSER), the
// register file as Linux's getreg and putreg check it, and the regsets of
// PTRACE_GETREGSET.

// Sizes and offsets in x86-64's struct user.
const (
	UserRegsSize       = 27 * 8 // struct user_regs_struct
	UserSize           = 928    // struct user
	UserDebugRegOffset = 848    // u_debugreg[0]
	UserFPRegsSize     = 512    // struct user_fpregs_struct: the FXSAVE area
)

// Indexes of Registers' words (struct user_regs_struct).
const (
	regCs     = 17
	regEflags = 18
	regSs     = 20
	regFsBase = 21
	regGsBase = 22
	regDs     = 23
	regGs     = 26
)

// Word returns the i'th word of the register file (0 <= i < 27), in
// struct user_regs_struct order.
func (r *Registers) Word(i int) *uint64 {
	return [...]*uint64{
		&r.R15, &r.R14, &r.R13, &r.R12, &r.Rbp, &r.Rbx, &r.R11, &r.R10,
		&r.R9, &r.R8, &r.Rax, &r.Rcx, &r.Rdx, &r.Rsi, &r.Rdi, &r.OrigRax,
		&r.Rip, &r.Cs, &r.Eflags, &r.Rsp, &r.Ss, &r.FsBase, &r.GsBase,
		&r.Ds, &r.Es, &r.Fs, &r.Gs,
	}[i]
}

// EncodeRegs returns the register file as struct user_regs_struct.
func EncodeRegs(r *Registers) []byte {
	b := make([]byte, UserRegsSize)
	for i := range UserRegsSize / 8 {
		le.PutUint64(b[i*8:], *r.Word(i))
	}
	return b
}

// ErrBadRegister is a value Linux's putreg refuses (ptrace answers EIO).
var ErrBadRegister = errors.New("register value refused")

// ptraceFlagMask is the EFLAGS bits a tracer may change (Linux's
// FLAG_MASK): the same as rt_sigreturn's.
const ptraceFlagMask = SigreturnEflags

// TaskSizeMax is Linux's TASK_SIZE_MAX: the end of the user half, less
// the guard page.
const TaskSizeMax = 1<<47 - PageSize

// PutReg sets word i of the register file as Linux's putreg does for a
// tracer: selectors must have RPL 3 (a data selector may be 0), the bases
// must be user addresses, and only the user-changeable EFLAGS bits change.
// The platforms run whatever user selectors they can; uk's own code
// segments stay as they check (see platform/ptrace's context.go).
func (r *Registers) PutReg(i int, v uint64) error {
	switch {
	case i == regCs || i == regSs:
		if v&3 != 3 || v > 0xffff {
			return ErrBadRegister
		}
	case i >= regDs && i <= regGs:
		if v != 0 && v&3 != 3 || v > 0xffff {
			return ErrBadRegister
		}
	case i == regFsBase || i == regGsBase:
		if v >= TaskSizeMax {
			return ErrBadRegister
		}
	case i == regEflags:
		v = r.Eflags&^ptraceFlagMask | v&ptraceFlagMask
	}
	*r.Word(i) = v
	return nil
}

// XstateRegset returns the thread's NT_X86_XSTATE regset as Linux's
// xstateregs_get: an XSAVE image in standard format of the largest size
// the host supports, whose FXSAVE software bytes start with the XCR0 of
// user features (where gdb looks for it; a signal frame has the
// fpx_sw_bytes there instead).
func XstateRegset(fp []byte) []byte {
	l := hostXSave()
	out := make([]byte, max(l.MaxSize(), len(fp)))
	copy(out, fp)
	sw := out[fxswOffset : fxswOffset+fxswSize]
	clear(sw)
	le.PutUint64(sw, l.Supported())
	return out
}

// ErrBadXstate is an XSAVE image Linux's ptrace refuses (EINVAL).
var ErrBadXstate = errors.New("bad XSAVE image")

// SetXstateRegset replaces the FP state with b, an NT_X86_XSTATE image (or
// its start), refusing what Linux's copy_uabi_from_kernel_to_xstate does:
// features the host lacks, a compacted header, set reserved header bytes
// or MXCSR bits.
func SetXstateRegset(st *State, b []byte) error {
	st.SyncFP()
	fp := st.FP
	if len(b) < xsaveMinSize || len(fp) < xsaveMinSize {
		return ErrBadXstate
	}
	hdr := b[xstateBVOffset:xsaveMinSize]
	if le.Uint64(hdr[0:])&^hostXSave().Supported() != 0 || le.Uint64(hdr[8:]) != 0 {
		return ErrBadXstate
	}
	for _, c := range hdr[16:] {
		if c != 0 {
			return ErrBadXstate
		}
	}
	if err := checkMXCSR(fp, b); err != nil {
		return err
	}
	copy(fp, b)
	clear(fp[fxswOffset : fxswOffset+fxswSize])
	st.FPDirty = true
	return nil
}

// SetFPRegs replaces the FXSAVE area (PTRACE_SETFPREGS, NT_PRFPREG): x87
// and SSE state, marked present in the XSAVE header.
func SetFPRegs(st *State, b []byte) error {
	st.SyncFP()
	fp := st.FP
	if len(b) < UserFPRegsSize || len(fp) < xsaveMinSize {
		return ErrBadXstate
	}
	if err := checkMXCSR(fp, b); err != nil {
		return err
	}
	copy(fp[:fxswOffset], b[:fxswOffset])
	le.PutUint64(fp[xstateBVOffset:], le.Uint64(fp[xstateBVOffset:])|xfeatureFPSSE)
	st.FPDirty = true
	return nil
}

// checkMXCSR refuses an image whose MXCSR sets bits the CPU does not have
// (its MXCSR_MASK, in cur).
func checkMXCSR(cur, b []byte) error {
	mask := le.Uint32(cur[mxcsrMaskOff:])
	if mask == 0 {
		mask = 0xffbf
	}
	if le.Uint32(b[mxcsrOffset:])&^mask != 0 {
		return ErrBadXstate
	}
	return nil
}
