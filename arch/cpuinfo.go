package arch

import (
	"fmt"
	"strings"
	"sync"
)

// cpuFacts is what uk reports about the host CPU, read once: CPUID is a
// trap to the hypervisor in a VM (about 40 µs each on the development
// machine), too slow to execute per request.
type cpuFacts struct {
	maxLeaf, maxExtLeaf uint32
	vendor, brand       string
	leaf1EAX, leaf1EBX  uint32
	leaf1ECX, leaf1EDX  uint32
	leaf6EAX            uint32
	leaf7EBX, leaf7ECX  uint32
	leaf7EDX, leaf71EAX uint32
	leafD1EAX           uint32
	ext1ECX, ext1EDX    uint32
	ext6ECX             uint32 // AMD L2 cache descriptor
	ext8EAX, ext8EBX    uint32
	cacheKB             uint32
	freqMHz             uint32 // CPUID 0x16 base frequency, 0 if unknown
	xcr0                uint64
}

var hostCPU = sync.OnceValue(func() cpuFacts {
	var c cpuFacts
	var b, cx, d uint32
	c.maxLeaf, b, cx, d = CPUID(0, 0)
	c.vendor = string(le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, b), d), cx))
	if c.maxLeaf >= 1 {
		c.leaf1EAX, c.leaf1EBX, c.leaf1ECX, c.leaf1EDX = CPUID(1, 0)
	}
	if c.maxLeaf >= 6 {
		c.leaf6EAX, _, _, _ = CPUID(6, 0)
	}
	if c.maxLeaf >= 7 {
		var max7 uint32
		max7, c.leaf7EBX, c.leaf7ECX, c.leaf7EDX = CPUID(7, 0)
		if max7 >= 1 {
			c.leaf71EAX, _, _, _ = CPUID(7, 1)
		}
	}
	if c.maxLeaf >= 0xd && c.leaf1ECX&(1<<27) != 0 { // OSXSAVE: XGETBV is allowed
		c.leafD1EAX, _, _, _ = CPUID(0xd, 1)
		c.xcr0 = XCR0()
	}
	if c.maxLeaf >= 0x16 {
		a, _, _, _ := CPUID(0x16, 0)
		c.freqMHz = a & 0xffff
	}
	c.maxExtLeaf, _, _, _ = CPUID(0x80000000, 0)
	if c.maxExtLeaf >= 0x80000001 {
		_, _, c.ext1ECX, c.ext1EDX = CPUID(0x80000001, 0)
	}
	if c.maxExtLeaf >= 0x80000004 {
		var brand []byte
		for leaf := uint32(0x80000002); leaf <= 0x80000004; leaf++ {
			a, b, cx, d := CPUID(leaf, 0)
			for _, r := range []uint32{a, b, cx, d} {
				brand = le.AppendUint32(brand, r)
			}
		}
		c.brand = strings.TrimSpace(strings.TrimRight(string(brand), "\x00"))
	}
	if c.maxExtLeaf >= 0x80000006 {
		_, _, c.ext6ECX, _ = CPUID(0x80000006, 0)
	}
	if c.maxExtLeaf >= 0x80000008 {
		c.ext8EAX, c.ext8EBX, _, _ = CPUID(0x80000008, 0)
	}
	c.cacheKB = cacheSizeKB(&c)
	return c
})

// cacheSizeKB is the "cache size" line: on AMD the L2 size (leaf
// 0x80000006), elsewhere the largest cache of CPUID leaf 4, as Linux does.
func cacheSizeKB(c *cpuFacts) uint32 {
	if c.vendor == "AuthenticAMD" || c.vendor == "HygonGenuine" {
		return c.ext6ECX >> 16
	}
	if c.maxLeaf < 4 {
		return 0
	}
	var best uint32
	for i := uint32(0); i < 16; i++ {
		a, b, cx, _ := CPUID(4, i)
		if a&0x1f == 0 {
			break
		}
		ways := b>>22 + 1
		parts := (b>>12)&0x3ff + 1
		line := b&0xfff + 1
		size := ways * parts * line * (cx + 1) / 1024
		best = max(best, size)
	}
	return best
}

// cpuFlag names one CPUID feature bit as Linux's cpufeatures.h does.
type cpuFlag struct {
	word *uint32
	bit  uint
	name string
}

// flags lists, in Linux's /proc/cpuinfo order, the CPUID bits uk reports.
// Deliberately left out: vmx, svm, smx and monitor (nothing in the sandbox
// can use them), fsgsbase (see HWCAP2), and Linux's synthetic flags
// (constant_tsc, rep_good, ...) that describe kernel decisions, not CPUID.
func (c *cpuFacts) flags() []cpuFlag {
	var fl []cpuFlag
	add := func(word *uint32, names map[uint]string) {
		for bit := uint(0); bit < 32; bit++ {
			if n, ok := names[bit]; ok {
				fl = append(fl, cpuFlag{word, bit, n})
			}
		}
	}
	add(&c.leaf1EDX, map[uint]string{0: "fpu", 1: "vme", 2: "de", 3: "pse", 4: "tsc", 5: "msr", 6: "pae",
		7: "mce", 8: "cx8", 9: "apic", 11: "sep", 12: "mtrr", 13: "pge", 14: "mca", 15: "cmov", 16: "pat",
		17: "pse36", 18: "pn", 19: "clflush", 21: "dts", 22: "acpi", 23: "mmx", 24: "fxsr", 25: "sse",
		26: "sse2", 27: "ss", 28: "ht", 29: "tm", 30: "ia64", 31: "pbe"})
	add(&c.ext1EDX, map[uint]string{11: "syscall", 19: "mp", 20: "nx", 22: "mmxext", 25: "fxsr_opt",
		26: "pdpe1gb", 27: "rdtscp", 29: "lm", 30: "3dnowext", 31: "3dnow"})
	add(&c.leaf1ECX, map[uint]string{0: "pni", 1: "pclmulqdq", 2: "dtes64", 4: "ds_cpl", 7: "est",
		8: "tm2", 9: "ssse3", 10: "cid", 11: "sdbg", 12: "fma", 13: "cx16", 14: "xtpr", 15: "pdcm",
		17: "pcid", 18: "dca", 19: "sse4_1", 20: "sse4_2", 21: "x2apic", 22: "movbe", 23: "popcnt",
		24: "tsc_deadline_timer", 25: "aes", 26: "xsave", 28: "avx", 29: "f16c", 30: "rdrand", 31: "hypervisor"})
	add(&c.ext1ECX, map[uint]string{0: "lahf_lm", 1: "cmp_legacy", 3: "extapic", 4: "cr8_legacy",
		5: "abm", 6: "sse4a", 7: "misalignsse", 8: "3dnowprefetch", 9: "osvw", 10: "ibs", 11: "xop",
		12: "skinit", 13: "wdt", 15: "lwp", 16: "fma4", 17: "tce", 19: "nodeid_msr", 21: "tbm",
		22: "topoext", 23: "perfctr_core", 24: "perfctr_nb", 26: "bpext", 27: "ptsc", 28: "perfctr_llc",
		29: "mwaitx"})
	add(&c.leaf7EBX, map[uint]string{1: "tsc_adjust", 2: "sgx", 3: "bmi1", 4: "hle", 5: "avx2",
		7: "smep", 8: "bmi2", 9: "erms", 10: "invpcid", 11: "rtm", 12: "cqm", 14: "mpx", 15: "rdt_a",
		16: "avx512f", 17: "avx512dq", 18: "rdseed", 19: "adx", 20: "smap", 21: "avx512ifma",
		23: "clflushopt", 24: "clwb", 25: "intel_pt", 26: "avx512pf", 27: "avx512er", 28: "avx512cd",
		29: "sha_ni", 30: "avx512bw", 31: "avx512vl"})
	add(&c.leafD1EAX, map[uint]string{0: "xsaveopt", 1: "xsavec", 2: "xgetbv1", 3: "xsaves"})
	add(&c.leaf71EAX, map[uint]string{4: "avx_vnni", 5: "avx512_bf16"})
	add(&c.ext8EBX, map[uint]string{0: "clzero", 1: "irperf", 2: "xsaveerptr", 4: "rdpru", 9: "wbnoinvd"})
	add(&c.leaf6EAX, map[uint]string{0: "dtherm", 1: "ida", 2: "arat", 4: "pln", 6: "pts"})
	add(&c.leaf7ECX, map[uint]string{1: "avx512vbmi", 2: "umip", 3: "pku", 4: "ospke", 5: "waitpkg",
		6: "avx512_vbmi2", 8: "gfni", 9: "vaes", 10: "vpclmulqdq", 11: "avx512_vnni", 12: "avx512_bitalg",
		13: "tme", 14: "avx512_vpopcntdq", 16: "la57", 22: "rdpid", 24: "bus_lock_detect", 25: "cldemote",
		27: "movdiri", 28: "movdir64b", 29: "enqcmd", 30: "sgx_lc"})
	add(&c.leaf7EDX, map[uint]string{2: "avx512_4vnniw", 3: "avx512_4fmaps", 4: "fsrm",
		8: "avx512_vp2intersect", 10: "md_clear", 14: "serialize", 16: "tsxldtrk", 18: "pconfig",
		19: "arch_lbr", 20: "ibt", 22: "amx_bf16", 23: "avx512_fp16", 24: "amx_tile", 25: "amx_int8",
		28: "flush_l1d", 29: "arch_capabilities"})
	return fl
}

// usable drops features whose register state the OS did not enable in
// XCR0, as Linux clears them: without YMM state no AVX at all, without the
// three AVX-512 components no AVX-512, without tile state no AMX.
func (c *cpuFacts) usable(name string) bool {
	const ymm, avx512, amx = 0x4, 0xe0, 0x60000
	switch {
	case strings.HasPrefix(name, "avx512"):
		return c.xcr0&(ymm|avx512) == ymm|avx512
	case strings.HasPrefix(name, "amx_"):
		return c.xcr0&amx == amx
	case strings.HasPrefix(name, "avx") || name == "fma" || name == "f16c" || name == "vaes" || name == "vpclmulqdq":
		return c.xcr0&ymm != 0
	}
	return true
}

// CPUVendor returns the host CPU's vendor string (CPUID leaf 0:
// "GenuineIntel", "AuthenticAMD"), /proc/cpuinfo's vendor_id. Some
// instructions behave differently per vendor (syscall in compat mode,
// sysenter in 64-bit mode).
func CPUVendor() string { return hostCPU().vendor }

// CPUFlags returns the /proc/cpuinfo "flags" of the host CPU as uk
// reports them, space-separated in Linux's order.
func CPUFlags() string {
	c := hostCPU()
	var names []string
	for _, f := range c.flags() {
		if *f.word&(1<<f.bit) != 0 && c.usable(f.name) {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, " ")
}

// CPUInfo returns the text of /proc/cpuinfo for a sandbox with numCPU
// processors, all described as the host's CPU on one socket. mhz is the
// clock to report; if 0, CPUID leaf 0x16's base frequency is used, and the
// "cpu MHz" and "bogomips" lines are left out when that is unknown too.
func CPUInfo(numCPU int, mhz float64) string {
	c := hostCPU()
	if mhz <= 0 {
		mhz = float64(c.freqMHz)
	}
	sig := c.leaf1EAX
	family := (sig >> 8) & 0xf
	if family == 0xf {
		family += (sig >> 20) & 0xff
	}
	model := (sig >> 4) & 0xf
	if family >= 6 {
		model += ((sig >> 16) & 0xf) << 4
	}
	brand := c.brand
	if brand == "" {
		brand = "unknown"
	}
	flags := CPUFlags()
	var b strings.Builder
	for i := range max(numCPU, 1) {
		fmt.Fprintf(&b, "processor\t: %d\n", i)
		fmt.Fprintf(&b, "vendor_id\t: %s\n", c.vendor)
		fmt.Fprintf(&b, "cpu family\t: %d\n", family)
		fmt.Fprintf(&b, "model\t\t: %d\n", model)
		fmt.Fprintf(&b, "model name\t: %s\n", brand)
		fmt.Fprintf(&b, "stepping\t: %d\n", sig&0xf)
		if mhz > 0 {
			fmt.Fprintf(&b, "cpu MHz\t\t: %.3f\n", mhz)
		}
		if c.cacheKB != 0 {
			fmt.Fprintf(&b, "cache size\t: %d KB\n", c.cacheKB)
		}
		fmt.Fprintf(&b, "physical id\t: 0\n")
		fmt.Fprintf(&b, "siblings\t: %d\n", max(numCPU, 1))
		fmt.Fprintf(&b, "core id\t\t: %d\n", i)
		fmt.Fprintf(&b, "cpu cores\t: %d\n", max(numCPU, 1))
		fmt.Fprintf(&b, "apicid\t\t: %d\n", i)
		fmt.Fprintf(&b, "initial apicid\t: %d\n", i)
		fmt.Fprintf(&b, "fpu\t\t: yes\n")
		fmt.Fprintf(&b, "fpu_exception\t: yes\n")
		fmt.Fprintf(&b, "cpuid level\t: %d\n", c.maxLeaf)
		fmt.Fprintf(&b, "wp\t\t: yes\n")
		fmt.Fprintf(&b, "flags\t\t: %s\n", flags)
		fmt.Fprintf(&b, "bugs\t\t:\n")
		if mhz > 0 {
			fmt.Fprintf(&b, "bogomips\t: %.2f\n", 2*mhz)
		}
		fmt.Fprintf(&b, "clflush size\t: %d\n", (c.leaf1EBX>>8&0xff)*8)
		fmt.Fprintf(&b, "cache_alignment\t: %d\n", 64)
		if c.ext8EAX != 0 {
			fmt.Fprintf(&b, "address sizes\t: %d bits physical, %d bits virtual\n", c.ext8EAX&0xff, c.ext8EAX>>8&0xff)
		}
		fmt.Fprintf(&b, "power management:\n\n")
	}
	return b.String()
}
