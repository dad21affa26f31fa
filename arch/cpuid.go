package arch

import (
	"encoding/binary"
	"sync"
)

func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)
func xgetbv0() (eax, edx uint32)

// CPUID executes the CPUID instruction on the host CPU.
func CPUID(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32) { return cpuid(leaf, subleaf) }

// XCR0 returns the host's enabled XSAVE feature mask.
func XCR0() uint64 {
	a, d := xgetbv0()
	return uint64(d)<<32 | uint64(a)
}

// FPStateSize is the size in bytes of the XSAVE image for the host's enabled
// features (CPUID leaf 0xD, sub-leaf 0, EBX), never less than the 512-byte
// FXSAVE area plus the 64-byte XSAVE header.
//
// CPUID traps to the hypervisor on these VMs (tens of µs), so the answer is
// computed once.
func FPStateSize() int {
	fpSizeOnce.Do(func() {
		_, ebx, _, _ := cpuid(0xd, 0)
		fpSize = max(int(ebx), 576)
	})
	return fpSize
}

var (
	fpSizeOnce sync.Once
	fpSize     int
	fpInitOnce sync.Once
	fpInit     []byte
)

// NewFPState returns the FP state of a freshly exec'd thread: x87 control
// word 0x37f, MXCSR 0x1f80 (all exceptions masked, round to nearest), and an
// XSAVE header that marks only x87 and SSE state as present.
func NewFPState() []byte {
	fpInitOnce.Do(func() { fpInit = newFPState() })
	return append([]byte(nil), fpInit...)
}

func newFPState() []byte {
	fp := make([]byte, FPStateSize())
	binary.LittleEndian.PutUint16(fp[0:], 0x37f)   // FCW
	binary.LittleEndian.PutUint32(fp[24:], 0x1f80) // MXCSR
	binary.LittleEndian.PutUint32(fp[28:], 0xffff) // MXCSR_MASK
	binary.LittleEndian.PutUint64(fp[512:], 0x3)   // XSTATE_BV: x87|SSE
	return fp
}
