package arch

import (
	"math/bits"
	"sync"
)

// XSAVE state components (bit numbers of XCR0 and XSTATE_BV) that uk
// names; Linux's enum xfeature.
const (
	XFeatureFP        = 0
	XFeatureSSE       = 1
	XFeatureYMM       = 2
	XFeatureOpmask    = 5
	XFeatureZMMHi256  = 6
	XFeatureHi16ZMM   = 7
	XFeaturePKRU      = 9
	XFeatureXTileCfg  = 17 // AMX tile configuration (64 bytes)
	XFeatureXTileData = 18 // AMX tile registers (8 KiB on Sapphire Rapids)
	// XFeatureMax is Linux's XFEATURE_MAX on kernels that know APX
	// (component 19), as the development host's 6.18 (older ones have
	// 19): arch_prctl(ARCH_REQ_XCOMP_PERM) fails with EINVAL for feature
	// numbers at or above it and with EOPNOTSUPP for the others it has no
	// facility for.
	XFeatureMax = 20
)

// XFeatureMaskUserDynamic is the set of components Linux leaves out of a
// process's FP state and signal frames until the process asks for them with
// arch_prctl(ARCH_REQ_XCOMP_PERM) (XFEATURE_MASK_USER_DYNAMIC): AMX tile
// data. Their state is too large for the 2 KiB and 8 KiB alternate stacks
// (MINSIGSTKSZ, SIGSTKSZ) programs have always used.
const XFeatureMaskUserDynamic = 1 << XFeatureXTileData

// arch_prctl codes of the XSAVE permission interface
// (arch/x86/include/uapi/asm/prctl.h).
const (
	ARCH_GET_XCOMP_SUPP       = 0x1021
	ARCH_GET_XCOMP_PERM       = 0x1022
	ARCH_REQ_XCOMP_PERM       = 0x1023
	ARCH_GET_XCOMP_GUEST_PERM = 0x1024
	ARCH_REQ_XCOMP_GUEST_PERM = 0x1025
)

// XCompRequest returns the components arch_prctl(ARCH_REQ_XCOMP_PERM,
// feature) asks for: the facility whose highest component is feature
// (Linux's xstate_prctl_req; only AMX, named by XTILEDATA, has one). It is
// 0 for a feature with no facility.
func XCompRequest(feature uint64) uint64 {
	if feature == XFeatureXTileData {
		return XFeatureMaskUserDynamic
	}
	return 0
}

// Signal-frame size parts that Linux adds up for AT_MINSIGSTKSZ
// (init_sigframe_size) on kernels with 32-bit emulation, as distribution
// kernels are: the largest frame header (the ia32 sigframe), its alignment,
// the fsave header of ia32 frames and the XSAVE area's alignment.
const (
	ia32SigframeSize = 736
	frameAlignPad    = 15
	fregsStateSize   = 112
	xsaveAlignPad    = 63
	magic2Size       = 4
)

// XSaveLayout is the standard-format (non-compacted) XSAVE area of one CPU
// with one XCR0: where each enabled user component lives and how large it
// is, as CPUID leaf 0xD reports. Everything uk derives from it (signal-frame
// sizes, AT_MINSIGSTKSZ, the arch_prctl answers) is a pure function of those
// CPUID values and a feature mask, so layouts of CPUs other than the host's
// can be checked in tests.
type XSaveLayout struct {
	// XCR0 is the set of user components the OS enabled (always at least
	// x87 and SSE).
	XCR0 uint64
	// offset and size of each component in XCR0 (sub-leaf i of leaf 0xD:
	// EBX and EAX). Components 0 and 1 live in the legacy FXSAVE area.
	offset, size [64]uint32
}

// NewXSaveLayout describes the XSAVE area for the enabled mask xcr0 from
// leafD, which returns CPUID leaf 0xD for a sub-leaf.
func NewXSaveLayout(xcr0 uint64, leafD func(subleaf uint32) (eax, ebx, ecx, edx uint32)) *XSaveLayout {
	l := &XSaveLayout{XCR0: xcr0 | 1<<XFeatureFP | 1<<XFeatureSSE}
	for m := l.XCR0 &^ (1<<XFeatureFP | 1<<XFeatureSSE); m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		l.size[i], l.offset[i], _, _ = leafD(uint32(i))
	}
	return l
}

// Size returns the size of a standard-format XSAVE image holding the
// components in features (limited to XCR0): the end of the highest one,
// never less than the legacy area plus the XSAVE header (Linux's
// xstate_calculate_size).
func (l *XSaveLayout) Size(features uint64) int {
	n := xsaveMinSize
	for m := features & l.XCR0 &^ (1<<XFeatureFP | 1<<XFeatureSSE); m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		n = max(n, int(l.offset[i]+l.size[i]))
	}
	return n
}

// Component returns where component i sits in the image and how large it
// is; ok is false for a component outside XCR0 or in the legacy area.
func (l *XSaveLayout) Component(i int) (offset, size int, ok bool) {
	if i < 2 || i > 63 || l.XCR0&(1<<i) == 0 {
		return 0, 0, false
	}
	return int(l.offset[i]), int(l.size[i]), true
}

// MaxSize is the size of an image with every enabled component: what
// PTRACE_GETREGSET/SETREGSET(NT_X86_XSTATE) move (Linux's
// fpu_user_cfg.max_size).
func (l *XSaveLayout) MaxSize() int { return l.Size(l.XCR0) }

// DefaultFeatures are the components every process's FP state and signal
// frames hold: all of XCR0 except the dynamic ones (Linux's
// fpu_user_cfg.default_features). ARCH_GET_XCOMP_PERM reports them for a
// process that asked for nothing.
func (l *XSaveLayout) DefaultFeatures() uint64 { return l.XCR0 &^ XFeatureMaskUserDynamic }

// Supported is what ARCH_GET_XCOMP_SUPP reports: every user component the
// OS enabled, dynamic ones included.
func (l *XSaveLayout) Supported() uint64 { return l.XCR0 }

// Dynamic reports whether the layout has dynamically enabled components,
// which turns on the alternate-stack size checks of sigaltstack(2) and
// ARCH_REQ_XCOMP_PERM (Linux's fpu_state_size_dynamic).
func (l *XSaveLayout) Dynamic() bool { return l.XCR0&XFeatureMaskUserDynamic != 0 }

// FrameFeatures returns the components a thread's signal frames hold:
// the default set, plus the dynamic ones among used, the dynamic
// components the thread's FP state has grown to hold (see State.XFeatures).
func (l *XSaveLayout) FrameFeatures(used uint64) uint64 {
	return l.DefaultFeatures() | used&l.XCR0&XFeatureMaskUserDynamic
}

// maxFrameSize is Linux's max_frame_size: the worst-case signal frame for
// an XSAVE image of MaxSize bytes, rounded to 16. It is AT_MINSIGSTKSZ.
func (l *XSaveLayout) maxFrameSize() uint64 { return MinSigStackSize(l.MaxSize()) }

// MinSigStackSize returns AT_MINSIGSTKSZ as Linux reports it on this
// layout: the worst-case frame with every enabled component, dynamic ones
// included (Linux sizes it from fpu_user_cfg.max_size at boot, before any
// process could ask for them).
func (l *XSaveLayout) MinSigStackSize() uint64 { return l.maxFrameSize() }

// PermStackSize is the smallest alternate stack ARCH_REQ_XCOMP_PERM
// accepts in a process whose permitted components become perm: any thread
// with a smaller stack installed makes the request fail with ENOSPC
// (Linux's validate_sigaltstack).
func (l *XSaveLayout) PermStackSize(perm uint64) uint64 {
	return l.maxFrameSize() - uint64(l.MaxSize()) + uint64(l.Size(perm))
}

// SigAltStackSizeValid reports whether sigaltstack(2) accepts a stack of
// size bytes (beyond the MINSIGSTKSZ floor) in a process permitted perm;
// false means ENOMEM. Only with a dynamic component permitted must the
// stack hold a frame with it (Linux's sigaltstack_size_valid, without the
// strict_sas_size boot option).
func (l *XSaveLayout) SigAltStackSizeValid(size, perm uint64) bool {
	if !l.Dynamic() || perm&XFeatureMaskUserDynamic == 0 {
		return true
	}
	// Linux: max_frame_size - fpu_default_state_size + the permitted
	// user state size, where fpu_default_state_size is the largest
	// image plus MAGIC2 and the ia32 fsave header.
	fsize := l.maxFrameSize() - uint64(l.MaxSize()+magic2Size+fregsStateSize) + uint64(l.Size(perm))
	return size > fsize
}

// HostXSave returns the host CPU's layout (read once: CPUID and XGETBV are
// traps to the hypervisor in a VM).
func HostXSave() *XSaveLayout { return hostXSave() }

var hostXSave = sync.OnceValue(func() *XSaveLayout {
	return NewXSaveLayout(hostFP().xfeatures, func(sub uint32) (uint32, uint32, uint32, uint32) {
		return cpuid(0xd, sub)
	})
})
