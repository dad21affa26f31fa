package vdso

import (
	"errors"
	"math/bits"
	"time"

	"uk/arch"
)

// rdtsc reads the time-stamp counter after an LFENCE (tsc_amd64.s).
func rdtsc() uint64

// TSCSource says where a TSC frequency came from.
type TSCSource string

// Sources of the TSC frequency.
const (
	TSCFromCPUID15    TSCSource = "cpuid 0x15"       // Intel crystal clock ratio
	TSCFromHypervisor TSCSource = "cpuid 0x40000010" // hypervisor timing leaf (KVM, VMware)
	TSCMeasured       TSCSource = "measured"         // against CLOCK_MONOTONIC
)

// ErrTSCUnusable is returned when the CPU has no invariant TSC: its rate may
// change with power states or differ between CPUs, so clocks cannot be
// computed from it and every vDSO call takes the syscall instead.
var ErrTSCUnusable = errors.New("vdso: TSC is not invariant")

// tscInvariant reports CPUID 0x80000007 EDX bit 8 (invariant TSC: constant
// rate in all P-, C- and T-states).
func tscInvariant() bool {
	if max, _, _, _ := arch.CPUID(0x80000000, 0); max < 0x80000007 {
		return false
	}
	_, _, _, edx := arch.CPUID(0x80000007, 0)
	return edx&(1<<8) != 0
}

// cpuidTSCHz returns the TSC frequency the CPU or hypervisor announces, or
// 0 if it announces none.
func cpuidTSCHz() (uint64, TSCSource) {
	if max, _, _, _ := arch.CPUID(0, 0); max >= 0x15 {
		den, num, crystal, _ := arch.CPUID(0x15, 0)
		if den != 0 && num != 0 && crystal != 0 {
			return uint64(crystal) * uint64(num) / uint64(den), TSCFromCPUID15
		}
	}
	if _, _, ecx, _ := arch.CPUID(1, 0); ecx&(1<<31) != 0 { // running under a hypervisor
		if max, _, _, _ := arch.CPUID(0x40000000, 0); max >= 0x40000010 {
			if khz, _, _, _ := arch.CPUID(0x40000010, 0); khz != 0 {
				return uint64(khz) * 1000, TSCFromHypervisor
			}
		}
	}
	return 0, ""
}

// monoSample pairs a TSC value with time since ref (Go's monotonic clock,
// which is CLOCK_MONOTONIC read through the host vDSO, so cheap and
// precise). It takes the tightest of a few tries so that the pair is
// accurate to tens of nanoseconds.
func monoSample(ref time.Time) (tsc uint64, ns int64) {
	best := uint64(1<<64 - 1)
	for range 5 {
		t1 := rdtsc()
		d := time.Since(ref)
		t2 := rdtsc()
		if t2-t1 < best {
			best, tsc, ns = t2-t1, t1+(t2-t1)/2, int64(d)
		}
	}
	return tsc, ns
}

// CalibrateTSC returns the TSC frequency in Hz and where it came from. It
// uses the CPUID leaves that announce it (0x15, or the hypervisor leaf
// 0x40000010) and otherwise measures the TSC against CLOCK_MONOTONIC for
// about d (10-20 ms give a few ppm; Timekeeper refines the value later
// against a longer baseline, so a few ms suffice at startup). It fails with
// ErrTSCUnusable if the TSC is not invariant.
func CalibrateTSC(d time.Duration) (freqHz uint64, src TSCSource, err error) {
	if !tscInvariant() {
		return 0, "", ErrTSCUnusable
	}
	if hz, src := cpuidTSCHz(); hz != 0 {
		return hz, src, nil
	}
	ref := time.Now()
	t0, n0 := monoSample(ref)
	time.Sleep(d)
	t1, n1 := monoSample(ref)
	if t1 <= t0 || n1 <= n0 {
		return 0, "", errors.New("vdso: TSC did not advance during calibration")
	}
	return ticksPerSecond(t1-t0, uint64(n1-n0)), TSCMeasured, nil
}

// ticksPerSecond returns ticks*1e9/ns without overflow.
func ticksPerSecond(ticks, ns uint64) uint64 {
	hi, lo := bits.Mul64(ticks, 1e9)
	if hi >= ns {
		return 1<<64 - 1
	}
	q, _ := bits.Div64(hi, lo, ns)
	return q
}
