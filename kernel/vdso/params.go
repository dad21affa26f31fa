package vdso

import (
	"fmt"
	"math/bits"
)

// Params is the Go mirror of struct uk_vdso_params in vdso.h: the contents
// of the parameter page. Field order, sizes and offsets match the C struct
// (TestParamsLayoutMatchesC); it occupies the first ParamsSize bytes of the
// page.
//
// All times are nanoseconds. With d = tsc - TSCBase (0 if the TSC reads
// below TSCBase, as it may briefly on another CPU):
//
//	mono     = MonoBase + (d*Mult >> Shift) - (min(d, SlewTicks)*SlewMult >> Shift)
//	boottime = mono + BootOffset
//	realtime = mono + RealOffset   (REALTIME and REALTIME_COARSE)
//	tai      = realtime + TAIOffset
//
// Invariants kept by Timekeeper: Shift < 64; SlewMult < Mult, so mono never
// decreases as the TSC advances.
type Params struct {
	Seq        uint32 // seqcount; odd while an update is in progress (set by Update, ignored on input)
	Flags      uint32 // Flag* bits
	TSCBase    uint64
	Mult       uint64
	Shift      uint32
	_          uint32
	MonoBase   int64
	SlewTicks  uint64
	SlewMult   uint64
	RealOffset int64
	BootOffset int64
	TAIOffset  int64
}

// ParamsSize is the size of Params (and of struct uk_vdso_params).
const ParamsSize = 80

// Flags of Params.Flags (UK_VDSO_* in vdso.h).
const (
	// FlagTSC: the time fields are valid and the vDSO serves clocks from
	// the TSC. Without it every call takes the syscall.
	FlagTSC = 1
	// FlagGetCPURDPID: getcpu reads the CPU with RDPID (host TSC_AUX).
	FlagGetCPURDPID = 2
	// FlagGetCPULSL: getcpu reads the CPU with LSL on Linux's per-CPU GDT
	// entry; valid only where application code runs under the host's GDT
	// (the ptrace platform).
	FlagGetCPULSL = 4
)

// Clock ids the vDSO serves.
const (
	ClockRealtime        = 0
	ClockMonotonic       = 1
	ClockRealtimeCoarse  = 5
	ClockMonotonicCoarse = 6
	ClockBoottime        = 7
	ClockTAI             = 11
)

// scale returns d*m >> s with a 128-bit intermediate, as the C code does.
func scale(d, m uint64, s uint32) uint64 {
	hi, lo := bits.Mul64(d, m)
	switch {
	case s == 0:
		return lo
	case s >= 64:
		return hi >> (s - 64)
	}
	return hi<<(64-s) | lo>>s
}

// Mono returns CLOCK_MONOTONIC in ns at TSC value tsc, exactly as the vDSO
// computes it.
func (p *Params) Mono(tsc uint64) int64 {
	var d uint64
	if tsc > p.TSCBase {
		d = tsc - p.TSCBase
	}
	slew := min(d, p.SlewTicks)
	return p.MonoBase + int64(scale(d, p.Mult, p.Shift)-scale(slew, p.SlewMult, p.Shift))
}

// Clock returns clock id's time in ns at TSC value tsc, exactly as the vDSO
// computes it; ok is false for clocks the vDSO does not serve or when
// FlagTSC is clear.
func (p *Params) Clock(id int32, tsc uint64) (ns int64, ok bool) {
	if p.Flags&FlagTSC == 0 {
		return 0, false
	}
	m := p.Mono(tsc)
	switch id {
	case ClockMonotonic, ClockMonotonicCoarse:
		return m, true
	case ClockRealtime, ClockRealtimeCoarse:
		return m + p.RealOffset, true
	case ClockBoottime:
		return m + p.BootOffset, true
	case ClockTAI:
		return m + p.RealOffset + p.TAIOffset, true
	}
	return 0, false
}

// checkPage reports whether page can hold the parameters: at least
// ParamsSize bytes, 8-byte aligned (the vDSO reads 64-bit fields with
// single loads).
func checkPage(page []byte) error {
	if len(page) < ParamsSize {
		return fmt.Errorf("vdso: parameter page of %d bytes, need %d", len(page), ParamsSize)
	}
	if !aligned8(page) {
		return fmt.Errorf("vdso: parameter page not 8-byte aligned")
	}
	return nil
}

// Update writes p into the parameter page with the seqcount protocol the
// vDSO reader relies on: the sequence number goes odd, the fields are
// stored, the sequence number goes even (each store atomic, so ordered
// before the next on x86's TSO and by the Go memory model). p.Seq is
// ignored. page must satisfy the size and alignment checked by
// NewTimekeeper; only one writer may update a page at a time.
func (p *Params) Update(page []byte) {
	writeParams(page, p)
}

// ReadParams returns a consistent copy of the parameters in page, retrying
// while an update is in progress.
func ReadParams(page []byte) Params {
	return readParams(page)
}
