package stubproc

import "uk/arch"

// rdtscpAux returns IA32_TSC_AUX as RDTSCP reads it (cpu_amd64.s).
func rdtscpAux() uint32

// hasRDTSCP reports whether the CPU has RDTSCP (CPUID 0x80000001, EDX
// bit 27); Linux then keeps the CPU number in TSC_AUX for user space.
var hasRDTSCP = func() bool {
	if max, _, _, _ := arch.CPUID(0x80000000, 0); max < 0x80000001 {
		return false
	}
	_, _, _, edx := arch.CPUID(0x80000001, 0)
	return edx&(1<<27) != 0
}()

// currentCPU returns the CPU the calling thread runs on, or -1 where the
// CPU cannot say. It reads what getcpu(2) would, without a system call
// (uk's own seccomp filter allows none it does not need, and this is
// cheaper): Linux keeps (node << 12) | cpu in TSC_AUX. The thread may move
// right after; callers use it as a placement hint.
func currentCPU() int {
	if !hasRDTSCP {
		return -1
	}
	cpu := int(rdtscpAux() & 0xfff)
	// A hypervisor that does not keep TSC_AUX as Linux set it would give
	// something else: trust only a CPU this process may run on.
	for _, c := range processCPUs {
		if c == cpu {
			return cpu
		}
	}
	return -1
}
