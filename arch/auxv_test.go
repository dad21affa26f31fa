package arch

import (
	"math/bits"
	"os"
	"testing"

	"uk/internal/testenv"
)

// hostAuxv reads this test process's own auxiliary vector, which the host
// kernel built: the reference for what Linux reports on this machine.
func hostAuxv(t *testing.T) map[uint64]uint64 {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		testenv.Need(t, "the host's /proc/self/auxv", err.Error())
	}
	m := map[uint64]uint64{}
	for i := 0; i+16 <= len(b); i += 16 {
		m[le.Uint64(b[i:])] = le.Uint64(b[i+8:])
	}
	return m
}

func TestHWCAPMatchesHost(t *testing.T) {
	aux := hostAuxv(t)
	// Linux reports CPUID 1 EDX minus the features the kernel turned off
	// at boot (on the development VM: MTRR), so the host's word must be a
	// subset of ours and differ in at most a few bits.
	got, host := HWCAP(), aux[AT_HWCAP]
	if host&^got != 0 || bits.OnesCount64(got^host) > 2 {
		t.Errorf("HWCAP() = %#x, host kernel reports %#x", got, host)
	} else if got != host {
		t.Logf("HWCAP() = %#x, host kernel reports %#x (kernel-cleared bits %#x)", got, host, got^host)
	}
	if HWCAP()&(1<<25|1<<26) != 1<<25|1<<26 {
		t.Error("x86-64 always has SSE and SSE2")
	}
	if HWCAP2() != 0 {
		t.Error("HWCAP2 must stay 0 (see its comment)")
	}
}

func TestMinSigStackSizeMatchesHost(t *testing.T) {
	aux := hostAuxv(t)
	want, ok := aux[AT_MINSIGSTKSZ]
	if !ok {
		testenv.Need(t, "AT_MINSIGSTKSZ in the host kernel's auxv (Linux 5.14+)", "uk's value is compared with it")
	}
	if got := MinSigStackSize(FPStateSize()); got != want {
		t.Errorf("MinSigStackSize(%d) = %d, host kernel reports %d", FPStateSize(), got, want)
	}
	if got := HostXSave().MinSigStackSize(); got != want {
		t.Errorf("HostXSave().MinSigStackSize() = %d, host kernel reports %d", got, want)
	}
	// A stack of that size must hold one of our frames.
	st := State{FP: newFP(0)}
	alt := StackT{Sp: 0x100000, Size: MinSigStackSize(len(st.FP))}
	if _, err := BuildSignalFrame(&st, &SignalDelivery{Action: SigAction{Flags: SA_ONSTACK}, AltStack: alt}); err != nil {
		t.Errorf("frame does not fit a MINSIGSTKSZ stack: %v", err)
	}
}

func TestAuxvConstantsMatchC(t *testing.T) {
	c := cValues(t, "auxv_consts")
	checkC(t, c, map[string]int64{
		"AT_NULL": AT_NULL, "AT_IGNORE": AT_IGNORE, "AT_EXECFD": AT_EXECFD, "AT_PHDR": AT_PHDR,
		"AT_PHENT": AT_PHENT, "AT_PHNUM": AT_PHNUM, "AT_PAGESZ": AT_PAGESZ, "AT_BASE": AT_BASE,
		"AT_FLAGS": AT_FLAGS, "AT_ENTRY": AT_ENTRY, "AT_NOTELF": AT_NOTELF, "AT_UID": AT_UID,
		"AT_EUID": AT_EUID, "AT_GID": AT_GID, "AT_EGID": AT_EGID, "AT_PLATFORM": AT_PLATFORM,
		"AT_HWCAP": AT_HWCAP, "AT_CLKTCK": AT_CLKTCK, "AT_SECURE": AT_SECURE,
		"AT_BASE_PLATFORM": AT_BASE_PLATFORM, "AT_RANDOM": AT_RANDOM, "AT_HWCAP2": AT_HWCAP2,
		"AT_EXECFN": AT_EXECFN, "AT_SYSINFO_EHDR": AT_SYSINFO_EHDR,
		"AT_MINSIGSTKSZ": AT_MINSIGSTKSZ,
	})
}

func TestAuxvHelpers(t *testing.T) {
	for ty, want := range map[uint64]string{AT_SYSINFO_EHDR: "AT_SYSINFO_EHDR", AT_RSEQ_ALIGN: "AT_RSEQ_ALIGN", 99: "AT_99"} {
		if got := AuxvName(ty); got != want {
			t.Errorf("AuxvName(%d) = %q", ty, got)
		}
	}
	b := EncodeAuxv([]AuxEntry{{AT_PAGESZ, 4096}, {AT_CLKTCK, UserHZ}})
	if len(b) != 48 || le.Uint64(b[0:]) != AT_PAGESZ || le.Uint64(b[8:]) != 4096 ||
		le.Uint64(b[16:]) != AT_CLKTCK || le.Uint64(b[24:]) != 100 || le.Uint64(b[32:]) != 0 || le.Uint64(b[40:]) != 0 {
		t.Errorf("EncodeAuxv = %x", b)
	}
}
