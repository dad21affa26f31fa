package arch

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// The x86-64 Linux signal frame, as arch/x86/kernel/signal_64.c builds it:
//
//	high addresses
//	  ... interrupted stack, then the 128-byte red zone (left alone)
//	  XSAVE image, 64-byte aligned, followed by FP_XSTATE_MAGIC2 (4 bytes)
//	  padding
//	  struct rt_sigframe {              <- frame address = handler's rsp
//	      char *pretcode;                  sa_restorer: the handler's "ret" goes there
//	      struct ucontext uc;              flags, link, stack, sigcontext, sigmask
//	      siginfo_t info;
//	  }
//	low addresses
//
// The frame address is 16-byte aligned minus 8, so that at handler entry
// (rsp+8) % 16 == 0, exactly as after a call instruction.

// Offsets in struct rt_sigframe and its parts (checked against the kernel
// headers by sigframe_test.go when gcc is present).
const (
	// RtSigframeSize is sizeof(struct rt_sigframe) on x86-64.
	RtSigframeSize = 440
	// UContextSize is sizeof(struct ucontext) (the kernel's, not glibc's).
	UContextSize = 304
	// SigcontextSize is sizeof(struct sigcontext) on x86-64.
	SigcontextSize = 256

	// FrameUContextOffset is where uc sits in the frame (after pretcode).
	FrameUContextOffset = 8
	// FrameInfoOffset is where siginfo sits in the frame.
	FrameInfoOffset = FrameUContextOffset + UContextSize

	ucFlags     = 0
	ucLink      = 8
	ucStack     = 16
	ucMcontext  = 40
	ucSigmask   = ucMcontext + SigcontextSize
	redZoneSize = 128
)

// sigcontext field offsets, in Linux's order (r8 first, not pt_regs order).
const (
	scR8      = 0
	scR9      = 8
	scR10     = 16
	scR11     = 24
	scR12     = 32
	scR13     = 40
	scR14     = 48
	scR15     = 56
	scRdi     = 64
	scRsi     = 72
	scRbp     = 80
	scRbx     = 88
	scRdx     = 96
	scRax     = 104
	scRcx     = 112
	scRsp     = 120
	scRip     = 128
	scEflags  = 136
	scCs      = 144
	scGs      = 146
	scFs      = 148
	scSs      = 150
	scErr     = 152
	scTrapno  = 160
	scOldmask = 168
	scCr2     = 176
	scFpstate = 184
)

// ucontext uc_flags bits.
const (
	UC_FP_XSTATE         = 0x1 // fpstate is an XSAVE image with fpx_sw_bytes
	UC_SIGCONTEXT_SS     = 0x2 // sigcontext's ss slot holds SS
	UC_STRICT_RESTORE_SS = 0x4 // sigreturn restores SS exactly as saved
)

// XSAVE signal-frame markers: MAGIC1 in fpx_sw_bytes (offset 464 of the
// FXSAVE area), MAGIC2 right after the XSAVE image.
const (
	FP_XSTATE_MAGIC1 = 0x46505853
	FP_XSTATE_MAGIC2 = 0x46505845
)

// RFLAGS bits.
const (
	EflagsCF = 1 << 0
	EflagsPF = 1 << 2
	EflagsAF = 1 << 4
	EflagsZF = 1 << 6
	EflagsSF = 1 << 7
	EflagsTF = 1 << 8
	EflagsIF = 1 << 9
	EflagsDF = 1 << 10
	EflagsOF = 1 << 11
	EflagsRF = 1 << 16
	EflagsAC = 1 << 18
)

// SigreturnEflags are the RFLAGS bits rt_sigreturn takes from the frame
// (Linux's FIX_EFLAGS); all others (IF, IOPL, NT, VM, ...) stay as they are,
// so an application cannot raise its I/O privilege or disable interrupts.
const SigreturnEflags = EflagsAC | EflagsOF | EflagsDF | EflagsTF | EflagsSF |
	EflagsZF | EflagsAF | EflagsPF | EflagsCF | EflagsRF

// XSAVE image layout facts used here.
const (
	fxswOffset     = 464 // fpx_sw_bytes in the FXSAVE area's software-reserved bytes
	fxswSize       = 48
	xstateBVOffset = 512 // XSAVE header: XSTATE_BV
	xsaveMinSize   = 576 // FXSAVE area + XSAVE header
	mxcsrOffset    = 24
	mxcsrMaskOff   = 28
	xfeatureFPSSE  = 0x3
)

// SignalDelivery is everything BuildSignalFrame needs besides the thread's
// state: the signal, the handler's sigaction, the alternate stack, the mask
// to restore on return and the hardware fault details.
type SignalDelivery struct {
	Info     SignalInfo
	Action   SigAction // Handler, Flags (SA_ONSTACK matters here), Restorer
	AltStack StackT    // the thread's sigaltstack settings, as stored
	// Mask is the blocked set before delivery; rt_sigreturn restores it.
	Mask SigSet
	// Trapno, ErrorCode and CR2 describe the last hardware exception of the
	// thread (14, the page-fault error code and the address for a page
	// fault); they go into sigcontext as Linux's thread.trap_nr/error_code/cr2.
	Trapno, ErrorCode, CR2 uint64
	// XPerm is the set of XSAVE components the process may use
	// (ARCH_GET_XCOMP_PERM); only its dynamic components matter, and 0
	// stands for the default set. A permitted dynamic component the
	// thread has in use goes into the frame from now on (see
	// State.XFeatures).
	XPerm uint64
}

// SignalFrame is a built frame: Bytes go to application memory at Addr.
type SignalFrame struct {
	Addr         uint64 // frame start; the handler's rsp
	Bytes        []byte // from Addr through the end of the FP image and MAGIC2
	InfoAddr     uint64 // &frame->info, the handler's rsi
	UContextAddr uint64 // &frame->uc, the handler's rdx
	FPStateAddr  uint64 // the XSAVE image, 64-byte aligned
	// XFeatures is what EnterHandler stores as the thread's
	// State.XFeatures: the dynamic components its frames hold from now on.
	XFeatures uint64
	// DisarmAltStack is set when the alternate stack had SS_AUTODISARM: once
	// the frame is written, the caller must reset the thread's altstack to
	// disabled, as Linux does on delivery.
	DisarmAltStack bool
}

// ErrSignalStackOverflow means the frame would not fit on the alternate
// stack the thread is (or is about to be) running on. Linux then forces
// SIGSEGV rather than writing below the stack.
var ErrSignalStackOverflow = errors.New("signal frame would overflow the alternate signal stack")

// BuildSignalFrame lays out the rt_sigframe for delivering d to the thread
// in st, without touching st or any memory. The caller copies f.Bytes to
// f.Addr in the application's address space (a failure there means SIGSEGV,
// as in Linux) and then calls f.EnterHandler.
//
// The stack chosen is the interrupted rsp less the red zone, or the top of
// the alternate stack when the action has SA_ONSTACK, the stack is enabled
// and the thread is not already on it.
//
// The FP part holds the components Linux's fpstate of the thread holds
// (XSaveLayout.FrameFeatures): all the host enabled except the dynamic
// ones (AMX tile data), which only a thread of a process that asked for
// them with ARCH_REQ_XCOMP_PERM and has used them carries. So a frame is
// as small as Linux's and fits the 8 KiB SIGSTKSZ alternate stacks
// programs use, even on CPUs whose full XSAVE area is larger.
func BuildSignalFrame(st *State, d *SignalDelivery) (SignalFrame, error) {
	st.SyncFP()
	return buildSignalFrame(HostXSave(), st, d)
}

func buildSignalFrame(l *XSaveLayout, st *State, d *SignalDelivery) (SignalFrame, error) {
	r := &st.Regs
	alt := d.AltStack
	enabled := alt.Size != 0 && alt.Flags&SS_DISABLE == 0
	nested := enabled && alt.OnStack(r.Rsp)

	sp := r.Rsp - redZoneSize
	entering := false
	if d.Action.Flags&SA_ONSTACK != 0 && enabled && !alt.OnStack(sp) {
		sp = alt.Sp + alt.Size
		entering = true
	}

	fp := st.FP
	if len(fp) < xsaveMinSize {
		fp = hostFP().init
	}
	bv := le.Uint64(fp[xstateBVOffset:])
	// Linux grows a thread's FP state the first time it uses a permitted
	// dynamic component; uk sees that use as the component in XSTATE_BV.
	used := (st.XFeatures | bv&d.XPerm) & XFeatureMaskUserDynamic
	features := l.FrameFeatures(used)
	xsize := l.Size(features)
	fpAreaSize := uint64(xsize) + 4 // image + MAGIC2
	if sp < fpAreaSize+RtSigframeSize+64+16 {
		return SignalFrame{}, fmt.Errorf("signal frame: stack pointer %#x too low", sp)
	}
	fpAddr := (sp - fpAreaSize) &^ 63
	frame := ((fpAddr - RtSigframeSize) &^ 15) - 8

	if nested || entering {
		// Linux's raw __on_sig_stack test, regardless of SS_AUTODISARM.
		if !(frame > alt.Sp && frame-alt.Sp <= alt.Size) {
			return SignalFrame{}, ErrSignalStackOverflow
		}
	}

	b := make([]byte, fpAddr+fpAreaSize-frame)
	le.PutUint64(b[0:], d.Action.Restorer)

	uc := b[FrameUContextOffset : FrameUContextOffset+UContextSize]
	le.PutUint64(uc[ucFlags:], UC_FP_XSTATE|UC_SIGCONTEXT_SS|UC_STRICT_RESTORE_SS)
	le.PutUint64(uc[ucLink:], 0)
	alt.Encode(uc[ucStack:])

	sc := uc[ucMcontext : ucMcontext+SigcontextSize]
	for _, f := range []struct {
		off int
		v   uint64
	}{
		{scR8, r.R8}, {scR9, r.R9}, {scR10, r.R10}, {scR11, r.R11},
		{scR12, r.R12}, {scR13, r.R13}, {scR14, r.R14}, {scR15, r.R15},
		{scRdi, r.Rdi}, {scRsi, r.Rsi}, {scRbp, r.Rbp}, {scRbx, r.Rbx},
		{scRdx, r.Rdx}, {scRax, r.Rax}, {scRcx, r.Rcx}, {scRsp, r.Rsp},
		{scRip, r.Rip}, {scEflags, r.Eflags},
		{scErr, d.ErrorCode}, {scTrapno, d.Trapno}, {scOldmask, uint64(d.Mask)},
		{scCr2, d.CR2}, {scFpstate, fpAddr},
	} {
		le.PutUint64(sc[f.off:], f.v)
	}
	// Linux stores zero in the legacy fs/gs slots; see asm/sigcontext.h.
	le.PutUint16(sc[scCs:], uint16(r.Cs))
	le.PutUint16(sc[scSs:], uint16(r.Ss))
	le.PutUint64(uc[ucSigmask:], uint64(d.Mask))

	d.Info.Encode(b[FrameInfoOffset : FrameInfoOffset+SignalInfoSize])

	img := b[fpAddr-frame:]
	copy(img[:xsize], fp)
	// XSAVE with the frame's components as the requested-feature mask:
	// others are not written and their XSTATE_BV bits stay clear, as do
	// those of components an FP state shorter than the image lacks.
	bv &= features
	if len(fp) < xsize {
		for m := bv &^ xfeatureFPSSE; m != 0; m &= m - 1 {
			if off, size, _ := l.Component(bits.TrailingZeros64(m)); off+size > len(fp) {
				bv &^= m & -m
			}
		}
	}
	sw := img[fxswOffset : fxswOffset+fxswSize]
	clear(sw)
	le.PutUint32(sw[0:], FP_XSTATE_MAGIC1)
	le.PutUint32(sw[4:], uint32(fpAreaSize))
	le.PutUint64(sw[8:], features)
	le.PutUint32(sw[16:], uint32(xsize))
	// Linux always marks x87 and SSE present so that legacy programs that
	// edit the FXSAVE area without touching XSTATE_BV see their edits
	// restored.
	le.PutUint64(img[xstateBVOffset:], bv|xfeatureFPSSE)
	le.PutUint32(img[xsize:], FP_XSTATE_MAGIC2)

	return SignalFrame{
		Addr:           frame,
		Bytes:          b,
		InfoAddr:       frame + FrameInfoOffset,
		UContextAddr:   frame + FrameUContextOffset,
		FPStateAddr:    fpAddr,
		XFeatures:      used,
		DisarmAltStack: alt.Flags&SS_AUTODISARM != 0,
	}, nil
}

// EnterHandler sets st up to run the handler once f has been written:
// rdi = signal number, rsi = &info, rdx = &uc, rax = 0 (for handlers
// declared without a prototype, as varargs callers expect), rsp = frame,
// rip = handler, user CS/SS, DF/RF/TF cleared, and a fresh FP state, all as
// Linux's handle_signal does.
func (f *SignalFrame) EnterHandler(st *State, sig int, handler uint64) {
	r := &st.Regs
	r.Rdi = uint64(sig)
	r.Rsi = f.InfoAddr
	r.Rdx = f.UContextAddr
	r.Rax = 0
	r.Rsp = f.Addr
	r.Rip = handler
	r.Cs = UserCS
	r.Ss = UserDS
	r.Eflags &^= EflagsDF | EflagsRF | EflagsTF
	initFPState(st)
	st.XFeatures = f.XFeatures
}

// initFPState resets st.FP in place to the state of a fresh thread.
func initFPState(st *State) {
	st.FPLoad = nil
	if len(st.FP) < xsaveMinSize {
		st.FP = newFP(0)
	} else {
		clear(st.FP)
		copy(st.FP, hostFP().init[:xsaveMinSize])
	}
	st.FPDirty = true
}

// hostFPInfo caches what NewFPState and XCR0 report: CPUID and XGETBV trap
// to the hypervisor in a VM (about 40 µs each on the development machine),
// far too slow for every signal.
type hostFPInfo struct {
	init      []byte // NewFPState(), never modified
	xfeatures uint64 // XCR0: the user XSAVE components
}

var hostFP = sync.OnceValue(func() hostFPInfo {
	h := hostFPInfo{init: NewFPState(), xfeatures: XCR0()}
	if h.xfeatures == 0 {
		h.xfeatures = xfeatureFPSSE
	}
	return h
})

// newFP returns a fresh init FP image of at least n bytes (the host's XSAVE
// size if larger).
func newFP(n int) []byte {
	init := hostFP().init
	fp := make([]byte, max(n, len(init)))
	copy(fp, init)
	return fp
}

// SigreturnFrameAddr returns where rt_sigreturn finds the frame: the
// handler's ret popped pretcode, so the frame starts 8 below rsp.
func SigreturnFrameAddr(rsp uint64) uint64 { return rsp - 8 }

// SigreturnReadSize is how many bytes from the frame address a caller
// should copy in for RestoreSignalFrame so that the FP image BuildSignalFrame
// placed above the frame is included: the frame, up to 64+15 bytes of
// alignment, the XSAVE image of fpSize bytes and MAGIC2. Reading less is
// fine when the application's memory ends sooner; RestoreSignalFrame then
// asks readMem for the FP image.
func SigreturnReadSize(fpSize int) int {
	return RtSigframeSize + 8 + 15 + 63 + fpSize + 4
}

// ErrBadSignalFrame means rt_sigreturn found a frame it cannot restore; like
// Linux, the caller should force SIGSEGV.
var ErrBadSignalFrame = errors.New("bad signal frame")

// RestoreSignalFrame implements rt_sigreturn's register and FP restore. frame
// holds the application's bytes from frameAddr (see SigreturnFrameAddr and
// SigreturnReadSize). The FP image is taken from frame when the sigcontext's
// fpstate pointer lies inside it, otherwise through readMem (which may be
// nil if the caller cannot read more; then the frame is bad).
//
// It returns the signal mask and alternate stack stored in the frame; the
// caller sets the blocked mask (without SIGKILL/SIGSTOP) and applies the
// stack as sigaltstack(2) would, ignoring errors other than faults, as
// Linux does. On success st holds the interrupted context: all general
// registers from sigcontext, CS/SS forced to the user selectors, only the
// SigreturnEflags bits taken from the frame, OrigRax = -1 so no syscall
// restart applies, and the FP state validated as XRSTOR would (or reset,
// when fpstate is NULL; or the legacy FXSAVE part only, when the XSAVE
// markers are absent). rt_sigreturn's return value is st.Regs.Rax, which the
// caller must leave alone. On error st is unchanged.
//
// The XSAVE image is taken to hold the components of the thread's frames
// (XSaveLayout.FrameFeatures of st.XFeatures), as Linux reads it with the
// size of the thread's current FP state, whatever the frame's own
// fpx_sw_bytes say.
func RestoreSignalFrame(st *State, frameAddr uint64, frame []byte, readMem func(addr uint64, dst []byte) error) (mask SigSet, stack StackT, err error) {
	st.SyncFP()
	return restoreSignalFrame(HostXSave(), st, frameAddr, frame, readMem)
}

func restoreSignalFrame(l *XSaveLayout, st *State, frameAddr uint64, frame []byte, readMem func(addr uint64, dst []byte) error) (mask SigSet, stack StackT, err error) {
	if len(frame) < RtSigframeSize {
		return 0, StackT{}, fmt.Errorf("%w: %d bytes, need %d", ErrBadSignalFrame, len(frame), RtSigframeSize)
	}
	uc := frame[FrameUContextOffset : FrameUContextOffset+UContextSize]
	sc := uc[ucMcontext : ucMcontext+SigcontextSize]
	mask = SigSet(le.Uint64(uc[ucSigmask:]))
	stack.Decode(uc[ucStack:])

	r := st.Regs
	r.R8, r.R9, r.R10, r.R11 = le.Uint64(sc[scR8:]), le.Uint64(sc[scR9:]), le.Uint64(sc[scR10:]), le.Uint64(sc[scR11:])
	r.R12, r.R13, r.R14, r.R15 = le.Uint64(sc[scR12:]), le.Uint64(sc[scR13:]), le.Uint64(sc[scR14:]), le.Uint64(sc[scR15:])
	r.Rdi, r.Rsi, r.Rbp, r.Rbx = le.Uint64(sc[scRdi:]), le.Uint64(sc[scRsi:]), le.Uint64(sc[scRbp:]), le.Uint64(sc[scRbx:])
	r.Rdx, r.Rax, r.Rcx, r.Rsp = le.Uint64(sc[scRdx:]), le.Uint64(sc[scRax:]), le.Uint64(sc[scRcx:]), le.Uint64(sc[scRsp:])
	r.Rip = le.Uint64(sc[scRip:])
	r.Eflags = r.Eflags&^SigreturnEflags | le.Uint64(sc[scEflags:])&SigreturnEflags
	// uk runs only 64-bit user code: whatever selectors the frame holds,
	// return with the 64-bit user CS and the user SS (Linux ORs in RPL 3
	// and, without UC_STRICT_RESTORE_SS, repairs SS; both end here for any
	// well-formed 64-bit frame).
	r.Cs = UserCS
	r.Ss = UserDS
	r.OrigRax = ^uint64(0)

	fpAddr := le.Uint64(sc[scFpstate:])
	fp, err := restoreFP(l, st.FP, l.FrameFeatures(st.XFeatures), frameAddr, frame, fpAddr, readMem)
	if err != nil {
		return 0, StackT{}, err
	}
	st.Regs = r
	st.FP = fp
	st.FPDirty = true
	return mask, stack, nil
}

// restoreFP returns the FP state rt_sigreturn loads from the user image at
// fpAddr, an image of the components in features, validated the way
// XRSTOR/FXRSTOR would fault on it. It reuses cur's storage, which it
// touches only once every check has passed.
func restoreFP(l *XSaveLayout, cur []byte, features uint64, frameAddr uint64, frame []byte, fpAddr uint64, readMem func(uint64, []byte) error) ([]byte, error) {
	size := len(cur)
	if size < xsaveMinSize {
		size = len(hostFP().init)
	}
	// dest returns the result buffer set to the init state.
	dest := func() []byte {
		if len(cur) < xsaveMinSize {
			return newFP(size)[:size]
		}
		clear(cur)
		copy(cur, hostFP().init[:xsaveMinSize])
		return cur
	}
	if fpAddr == 0 {
		return dest(), nil // Linux: no FP context means the init state
	}
	if fpAddr%16 != 0 {
		return nil, fmt.Errorf("%w: fpstate %#x not 16-byte aligned", ErrBadSignalFrame, fpAddr)
	}
	read := func(addr uint64, n int) ([]byte, error) {
		if off := addr - frameAddr; addr >= frameAddr && off < uint64(len(frame)) && uint64(len(frame))-off >= uint64(n) {
			return frame[off : off+uint64(n)], nil
		}
		if readMem == nil {
			return nil, fmt.Errorf("%w: fpstate %#x outside the frame", ErrBadSignalFrame, addr)
		}
		buf := make([]byte, n)
		if err := readMem(addr, buf); err != nil {
			return nil, fmt.Errorf("%w: reading fpstate at %#x: %v", ErrBadSignalFrame, addr, err)
		}
		return buf, nil
	}
	legacy, err := read(fpAddr, 512)
	if err != nil {
		return nil, err
	}
	var mxcsrMask uint32
	if len(cur) >= xsaveMinSize {
		mxcsrMask = le.Uint32(cur[mxcsrMaskOff:])
	}
	if mxcsrMask == 0 {
		mxcsrMask = 0xffbf // the architectural default when FXSAVE reports 0
	}
	if le.Uint32(legacy[mxcsrOffset:])&^mxcsrMask != 0 {
		return nil, fmt.Errorf("%w: reserved MXCSR bits set", ErrBadSignalFrame)
	}

	// Linux's check_xstate_in_sigframe: trust the XSAVE layout only with
	// MAGIC1 and MAGIC2 right after an image of the thread's size (an
	// unreadable MAGIC2 is a bad frame, as there).
	sw := legacy[fxswOffset : fxswOffset+fxswSize]
	xsSize := l.Size(features)
	xsave := le.Uint32(sw[0:]) == FP_XSTATE_MAGIC1
	var img []byte
	if xsave {
		if img, err = read(fpAddr, xsSize+4); err != nil {
			return nil, err
		}
		xsave = le.Uint32(img[xsSize:]) == FP_XSTATE_MAGIC2
	}
	if !xsave {
		// FXSAVE-only frame: x87 and SSE from the legacy area, the rest init.
		out := dest()
		copy(out[:fxswOffset], legacy[:fxswOffset])
		le.PutUint32(out[mxcsrMaskOff:], mxcsrMask)
		return out, nil
	}
	if fpAddr%64 != 0 {
		return nil, fmt.Errorf("%w: XSAVE fpstate %#x not 64-byte aligned", ErrBadSignalFrame, fpAddr)
	}
	hdr := img[xstateBVOffset : xstateBVOffset+64]
	bv := le.Uint64(hdr[0:])
	if bv&^l.XCR0 != 0 {
		return nil, fmt.Errorf("%w: XSTATE_BV %#x has components not enabled (XCR0 %#x)", ErrBadSignalFrame, bv, l.XCR0)
	}
	if le.Uint64(hdr[8:]) != 0 || le.Uint64(hdr[16:]) != 0 {
		return nil, fmt.Errorf("%w: compacted or reserved XSAVE header", ErrBadSignalFrame)
	}
	// XRSTOR of the components the frame claims (sw xfeatures) among the
	// thread's; the others are initialized. (Linux leaves components
	// outside the thread's set as they are; a thread has none in use.)
	restore := le.Uint64(sw[8:]) & features
	out := dest()
	copy(out, img[:min(xsSize, len(out))])
	clear(out[fxswOffset : fxswOffset+fxswSize])
	le.PutUint32(out[mxcsrMaskOff:], mxcsrMask)
	le.PutUint64(out[xstateBVOffset:], bv&restore)
	return out, nil
}
