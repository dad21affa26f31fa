package arch

import (
	"os"
	"strings"
	"testing"

	"uk/internal/testenv"
)

// hostCPUInfo returns the first processor's fields of the host's
// /proc/cpuinfo, which the host kernel computed from the same CPUID.
func hostCPUInfo(t *testing.T) map[string]string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		testenv.Need(t, "the host's /proc/cpuinfo", err.Error())
	}
	return parseCPUInfo(string(b))
}

func parseCPUInfo(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if line == "" {
			break // first processor only
		}
		k, v, _ := strings.Cut(line, ":")
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m
}

func TestCPUInfoMatchesHost(t *testing.T) {
	host := hostCPUInfo(t)
	if host["vendor_id"] == "" {
		testenv.Need(t, "x86 fields in the host's /proc/cpuinfo", "uk's cpuinfo is compared with them")
	}
	ours := parseCPUInfo(CPUInfo(2, 0))
	for _, k := range []string{"vendor_id", "cpu family", "model", "stepping",
		"cpuid level", "clflush size", "cache_alignment", "address sizes", "cache size", "fpu", "wp"} {
		if ours[k] != host[k] {
			t.Errorf("%s: ours %q, host %q", k, ours[k], host[k])
		}
	}
	// The host kernel's model name and flags come from CPUID as it was when
	// the host booted. A VM restored from a snapshot on other hardware (as
	// the development machine is) answers CPUID differently now; uk reports
	// the CPU the application actually runs on, so these are only compared
	// loosely: most of our flags must be ones the host knows too.
	if ours["model name"] != host["model name"] {
		t.Logf("model name: ours %q, host %q", ours["model name"], host["model name"])
	}
	hostFlags := map[string]bool{}
	for _, f := range strings.Fields(host["flags"]) {
		hostFlags[f] = true
	}
	ourFlags := map[string]bool{}
	common := 0
	for _, f := range strings.Fields(ours["flags"]) {
		ourFlags[f] = true
		if hostFlags[f] {
			common++
		} else {
			t.Logf("flag %q reported by uk but not by the host kernel", f)
		}
	}
	if common*10 < len(ourFlags)*8 {
		t.Errorf("only %d of our %d flags are host flags", common, len(ourFlags))
	}
	hidden := map[string]bool{"vmx": true, "svm": true, "smx": true, "monitor": true, "fsgsbase": true}
	hc := hostCPU()
	for _, f := range hc.flags() {
		if hostFlags[f.name] && !ourFlags[f.name] {
			if hidden[f.name] {
				continue
			}
			t.Logf("host flag %q not reported by uk (CPUID now says no)", f.name)
		}
	}
	for _, must := range []string{"fpu", "sse2", "lm", "syscall", "cx8", "cmov", "fxsr"} {
		if !ourFlags[must] {
			t.Errorf("x86-64 baseline flag %q missing", must)
		}
	}
}

func TestCPUInfoFormat(t *testing.T) {
	s := CPUInfo(3, 1500)
	if n := strings.Count(s, "processor\t: "); n != 3 {
		t.Errorf("%d processors", n)
	}
	for _, want := range []string{"processor\t: 2\n", "cpu MHz\t\t: 1500.000\n", "bogomips\t: 3000.00\n",
		"siblings\t: 3\n", "power management:\n\n", "flags\t\t: fpu "} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
	if !strings.HasSuffix(s, "\n\n") {
		t.Error("processors must be separated by blank lines")
	}
}

// TestCPUFlagsConsistentWithHWCAP: each AT_HWCAP bit (CPUID 1 EDX) that
// has a cpuinfo name appears in flags exactly when set.
func TestCPUFlagsConsistentWithHWCAP(t *testing.T) {
	flags := map[string]bool{}
	for _, f := range strings.Fields(CPUFlags()) {
		flags[f] = true
	}
	hw := HWCAP()
	for bit, name := range map[uint]string{0: "fpu", 4: "tsc", 8: "cx8", 15: "cmov", 19: "clflush",
		23: "mmx", 24: "fxsr", 25: "sse", 26: "sse2", 28: "ht"} {
		if (hw&(1<<bit) != 0) != flags[name] {
			t.Errorf("HWCAP bit %d (%s) = %v, flags say %v", bit, name, hw&(1<<bit) != 0, flags[name])
		}
	}
}
