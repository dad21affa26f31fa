package arch

import (
	"strconv"
	"sync"
)

// Auxiliary vector entry types (AT_*), from Linux's include/uapi/linux/auxvec.h
// and arch/x86/include/uapi/asm/auxvec.h.
const (
	AT_NULL              = 0  // end of vector
	AT_IGNORE            = 1  // entry should be ignored
	AT_EXECFD            = 2  // file descriptor of program
	AT_PHDR              = 3  // program headers of the program
	AT_PHENT             = 4  // size of one program header
	AT_PHNUM             = 5  // number of program headers
	AT_PAGESZ            = 6  // system page size
	AT_BASE              = 7  // base address of the interpreter
	AT_FLAGS             = 8  // flags (always 0)
	AT_ENTRY             = 9  // entry point of the program
	AT_NOTELF            = 10 // program is not ELF
	AT_UID               = 11 // real uid
	AT_EUID              = 12 // effective uid
	AT_GID               = 13 // real gid
	AT_EGID              = 14 // effective gid
	AT_PLATFORM          = 15 // address of the platform string ("x86_64")
	AT_HWCAP             = 16 // CPU capabilities (HWCAP)
	AT_CLKTCK            = 17 // frequency of times() (USER_HZ)
	AT_SECURE            = 23 // secure mode (setuid exec)
	AT_BASE_PLATFORM     = 24 // address of the real platform string
	AT_RANDOM            = 25 // address of 16 random bytes
	AT_HWCAP2            = 26 // more CPU capabilities (HWCAP2)
	AT_RSEQ_FEATURE_SIZE = 27 // rseq supported feature size
	AT_RSEQ_ALIGN        = 28 // rseq allocation alignment
	AT_HWCAP3            = 29
	AT_HWCAP4            = 30
	AT_EXECFN            = 31 // address of the filename of the program
	AT_SYSINFO           = 32 // i386 only: vsyscall entry; never on x86-64
	AT_SYSINFO_EHDR      = 33 // address of the vDSO's ELF header
	AT_MINSIGSTKSZ       = 51 // minimal stack size for signal delivery
)

// UserHZ is the clock tick of times(2), clock_t values and /proc (AT_CLKTCK).
const UserHZ = 100

// Platform is the AT_PLATFORM string on x86-64.
const Platform = "x86_64"

var auxvNames = map[uint64]string{
	AT_NULL: "AT_NULL", AT_IGNORE: "AT_IGNORE", AT_EXECFD: "AT_EXECFD", AT_PHDR: "AT_PHDR",
	AT_PHENT: "AT_PHENT", AT_PHNUM: "AT_PHNUM", AT_PAGESZ: "AT_PAGESZ", AT_BASE: "AT_BASE",
	AT_FLAGS: "AT_FLAGS", AT_ENTRY: "AT_ENTRY", AT_NOTELF: "AT_NOTELF", AT_UID: "AT_UID",
	AT_EUID: "AT_EUID", AT_GID: "AT_GID", AT_EGID: "AT_EGID", AT_PLATFORM: "AT_PLATFORM",
	AT_HWCAP: "AT_HWCAP", AT_CLKTCK: "AT_CLKTCK", AT_SECURE: "AT_SECURE",
	AT_BASE_PLATFORM: "AT_BASE_PLATFORM", AT_RANDOM: "AT_RANDOM", AT_HWCAP2: "AT_HWCAP2",
	AT_RSEQ_FEATURE_SIZE: "AT_RSEQ_FEATURE_SIZE", AT_RSEQ_ALIGN: "AT_RSEQ_ALIGN",
	AT_HWCAP3: "AT_HWCAP3", AT_HWCAP4: "AT_HWCAP4", AT_EXECFN: "AT_EXECFN",
	AT_SYSINFO: "AT_SYSINFO", AT_SYSINFO_EHDR: "AT_SYSINFO_EHDR", AT_MINSIGSTKSZ: "AT_MINSIGSTKSZ",
}

// AuxvName returns the AT_* name of an auxiliary vector type, or "AT_NNN".
func AuxvName(t uint64) string {
	if n, ok := auxvNames[t]; ok {
		return n
	}
	return "AT_" + strconv.FormatUint(t, 10)
}

// AuxEntry is one (type, value) pair of the auxiliary vector.
type AuxEntry struct{ Type, Value uint64 }

// EncodeAuxv returns the auxiliary vector as it sits on the initial stack:
// 16 bytes per entry, terminated by one AT_NULL entry (added here; entries
// should not contain their own).
func EncodeAuxv(entries []AuxEntry) []byte {
	b := make([]byte, 16*(len(entries)+1))
	for i, e := range entries {
		le.PutUint64(b[16*i:], e.Type)
		le.PutUint64(b[16*i+8:], e.Value)
	}
	return b
}

// HWCAP returns AT_HWCAP as Linux reports it on x86-64: the CPUID leaf 1
// EDX feature word (FPU, TSC, CMOV, SSE, SSE2, ...), which is also what the
// CPU gives an application that executes CPUID itself.
//
// It executes one CPUID rather than gathering all of hostCPU's facts: every
// exec needs it, and each CPUID is a trap to the hypervisor in a VM.
func HWCAP() uint64 { return hwcap() }

var hwcap = sync.OnceValue(func() uint64 {
	_, _, _, edx := CPUID(1, 0)
	return uint64(edx)
})

// HWCAP2 returns AT_HWCAP2. Linux sets bit 0 (RING3MWAIT, Xeon Phi only)
// and bit 1 (FSGSBASE, when the kernel enabled CR4.FSGSBASE). uk reports
// neither: with FSGSBASE advertised, programs would change their FS base
// with WRFSBASE, which never traps, instead of arch_prctl(ARCH_SET_FS),
// and uk keeps FS/GS bases as part of the state it saves and restores
// itself (and must not depend on the host's CR4 on every platform). Reporting 0 is
// always correct: it only makes programs take the system-call path.
func HWCAP2() uint64 { return 0 }

// MinSigStackSize returns AT_MINSIGSTKSZ for an XSAVE image of fpSize
// bytes, computed as Linux does for kernels with 32-bit emulation (as
// distribution kernels are): the largest frame header (the ia32 sigframe,
// 736 bytes), 15 bytes of alignment, the XSAVE image with MAGIC2, the
// legacy fsave header (112) and 63 bytes of XSAVE alignment, rounded up to
// 16. It is more than the 64-bit frames BuildSignalFrame writes need, so
// a stack of this size always fits one frame.
func MinSigStackSize(fpSize int) uint64 {
	const ia32Sigframe, fregsState = 736, 112
	n := uint64(ia32Sigframe+15+fpSize+4+fregsState+63) + 15
	return n &^ 15
}
