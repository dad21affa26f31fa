package stubproc

import "uk/arch"

// currentCPU returns the CPU the calling thread runs on, or -1 where the
// CPU cannot say. It reads what getcpu(2) would, without a system call
// (uk's own seccomp filter allows none it does not need, and this is
// cheaper): Linux keeps (node << 12) | cpu in TSC_AUX. The thread may move
// right after; callers use it as a placement hint.
func currentCPU() int {
	aux, ok := arch.TSCAux()
	if !ok {
		return -1
	}
	return CPUOfAux(aux)
}

// CPUOfAux returns the CPU a TSC_AUX value read on it names (what RDTSCP
// leaves in ECX), or -1 if it names none this process may run on: a
// hypervisor that does not keep TSC_AUX as Linux set it would give
// something else, and a value read from a stub's slot may be the
// program's.
func CPUOfAux(aux uint32) int {
	cpu := int(aux & 0xfff)
	for _, c := range processCPUs {
		if c == cpu {
			return cpu
		}
	}
	return -1
}
