package arch

// rdtscpAux returns IA32_TSC_AUX as RDTSCP reads it (tscaux_amd64.s).
func rdtscpAux() uint32

// hasRDTSCP reports whether the CPU has RDTSCP (CPUID 0x80000001, EDX
// bit 27); Linux then keeps the CPU number in TSC_AUX for user space.
var hasRDTSCP = func() bool {
	if max, _, _, _ := CPUID(0x80000000, 0); max < 0x80000001 {
		return false
	}
	_, _, _, edx := CPUID(0x80000001, 0)
	return edx&(1<<27) != 0
}()

// TSCAux returns what Linux keeps in TSC_AUX for the CPU the calling
// thread runs on, (node << 12) | cpu, as getcpu(2) would say it without a
// system call; ok is false on a CPU without RDTSCP. The thread may move
// right after: callers use it as a hint, and check it against the CPUs
// they know (a hypervisor may not keep TSC_AUX as Linux set it).
func TSCAux() (aux uint32, ok bool) {
	if !hasRDTSCP {
		return 0, false
	}
	return rdtscpAux(), true
}

// HasRDTSCP reports whether the CPU has RDTSCP, which code of uk's own
// in a stub may then run to learn its CPU (TSCAux's value).
func HasRDTSCP() bool { return hasRDTSCP }
