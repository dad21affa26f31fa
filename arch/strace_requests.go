package arch

import "fmt"

// Names of the request words that select what an ioctl, prctl, arch_prctl
// or fcntl does, for --strace. A number without a name renders as strace
// renders it: an ioctl by its _IOC fields, anything else in hex (fcntl in
// decimal, as its commands are small numbers).

// ioctlNames are the ioctl requests programs commonly make: terminals,
// pseudo-terminals, descriptors, network interfaces, files and block
// devices.
var ioctlNames = map[uint64]string{
	0x5401: "TCGETS", 0x5402: "TCSETS", 0x5403: "TCSETSW", 0x5404: "TCSETSF",
	0x5405: "TCGETA", 0x5406: "TCSETA", 0x5407: "TCSETAW", 0x5408: "TCSETAF",
	0x5409: "TCSBRK", 0x540A: "TCXONC", 0x540B: "TCFLSH", 0x540C: "TIOCEXCL", 0x540D: "TIOCNXCL",
	0x540E: "TIOCSCTTY", 0x540F: "TIOCGPGRP", 0x5410: "TIOCSPGRP", 0x5411: "TIOCOUTQ",
	0x5412: "TIOCSTI", 0x5413: "TIOCGWINSZ", 0x5414: "TIOCSWINSZ", 0x5415: "TIOCMGET",
	0x5416: "TIOCMBIS", 0x5417: "TIOCMBIC", 0x5418: "TIOCMSET", 0x541B: "FIONREAD",
	0x541C: "TIOCLINUX", 0x541D: "TIOCCONS", 0x5420: "TIOCPKT", 0x5421: "FIONBIO",
	0x5422: "TIOCNOTTY", 0x5423: "TIOCSETD", 0x5424: "TIOCGETD", 0x5425: "TCSBRKP",
	0x5427: "TIOCSBRK", 0x5428: "TIOCCBRK", 0x5429: "TIOCGSID", 0x802c542a: "TCGETS2",
	0x402c542b: "TCSETS2", 0x402c542c: "TCSETSW2", 0x402c542d: "TCSETSF2",
	0x80045430: "TIOCGPTN", 0x40045431: "TIOCSPTLCK", 0x80045432: "TIOCGDEV",
	0x40045436: "TIOCSIG", 0x5437: "TIOCVHANGUP", 0x80045438: "TIOCGPKT", 0x80045439: "TIOCGPTLCK",
	0x80045440: "TIOCGEXCL", 0x5441: "TIOCGPTPEER",
	0x5450: "FIONCLEX", 0x5451: "FIOCLEX", 0x5452: "FIOASYNC", 0x5456: "TIOCGLCKTRMIOS",
	0x5457: "TIOCSLCKTRMIOS", 0x5460: "FIOQSIZE",
	0x8910: "SIOCGIFNAME", 0x8912: "SIOCGIFCONF", 0x8913: "SIOCGIFFLAGS", 0x8914: "SIOCSIFFLAGS",
	0x8915: "SIOCGIFADDR", 0x8916: "SIOCSIFADDR", 0x8919: "SIOCGIFBRDADDR", 0x891b: "SIOCGIFNETMASK",
	0x8921: "SIOCGIFMTU", 0x8922: "SIOCSIFMTU", 0x8927: "SIOCGIFHWADDR", 0x8933: "SIOCGIFINDEX",
	0x8904: "SIOCGPGRP", 0x8902: "SIOCSPGRP", 0x890B: "SIOCADDRT", 0x890C: "SIOCDELRT",
	0x80086601: "FS_IOC_GETFLAGS", 0x40086602: "FS_IOC_SETFLAGS", 0x40049409: "FICLONE",
	0x80045200: "RNDGETENTCNT", 0x80081272: "BLKGETSIZE64", 0x1260: "BLKGETSIZE",
	0x400454ca: "TUNSETIFF", 0x800454d2: "TUNGETIFF",
	0x4B33: "KDGKBTYPE", 0x5600: "VT_OPENQRY", 0x5603: "VT_GETSTATE",
}

// IoctlRequest renders an ioctl request: its name, or its _IOC fields
// (direction, type, number, size) as strace does.
func IoctlRequest(v uint64) string {
	if n, ok := ioctlNames[v]; ok {
		return n
	}
	const (
		nrBits, typeBits, sizeBits = 8, 8, 14
		typeShift                  = nrBits
		sizeShift                  = typeShift + typeBits
		dirShift                   = sizeShift + sizeBits
	)
	if v > 0xffffffff {
		return fmt.Sprintf("%#x", v)
	}
	dir := [...]string{"_IOC_NONE", "_IOC_WRITE", "_IOC_READ", "_IOC_READ|_IOC_WRITE"}[v>>dirShift&3]
	return fmt.Sprintf("_IOC(%s, %s, %s, %s)", dir, cHex(v>>typeShift&0xff), cHex(v&0xff), cHex(v>>sizeShift&(1<<sizeBits-1)))
}

// cHex is C's %#x: 0 without a prefix.
func cHex(v uint64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%#x", v)
}

// prctlNames are prctl(2)'s options.
var prctlNames = map[uint64]string{
	1: "PR_SET_PDEATHSIG", 2: "PR_GET_PDEATHSIG", 3: "PR_GET_DUMPABLE", 4: "PR_SET_DUMPABLE",
	5: "PR_GET_UNALIGN", 6: "PR_SET_UNALIGN", 7: "PR_GET_KEEPCAPS", 8: "PR_SET_KEEPCAPS",
	9: "PR_GET_FPEMU", 10: "PR_SET_FPEMU", 11: "PR_GET_FPEXC", 12: "PR_SET_FPEXC",
	13: "PR_GET_TIMING", 14: "PR_SET_TIMING", 15: "PR_SET_NAME", 16: "PR_GET_NAME",
	19: "PR_GET_ENDIAN", 20: "PR_SET_ENDIAN", 21: "PR_GET_SECCOMP", 22: "PR_SET_SECCOMP",
	23: "PR_CAPBSET_READ", 24: "PR_CAPBSET_DROP", 25: "PR_GET_TSC", 26: "PR_SET_TSC",
	27: "PR_GET_SECUREBITS", 28: "PR_SET_SECUREBITS", 29: "PR_SET_TIMERSLACK", 30: "PR_GET_TIMERSLACK",
	31: "PR_TASK_PERF_EVENTS_DISABLE", 32: "PR_TASK_PERF_EVENTS_ENABLE", 33: "PR_MCE_KILL",
	34: "PR_MCE_KILL_GET", 35: "PR_SET_MM", 36: "PR_SET_CHILD_SUBREAPER", 37: "PR_GET_CHILD_SUBREAPER",
	38: "PR_SET_NO_NEW_PRIVS", 39: "PR_GET_NO_NEW_PRIVS", 40: "PR_GET_TID_ADDRESS",
	41: "PR_SET_THP_DISABLE", 42: "PR_GET_THP_DISABLE", 43: "PR_MPX_ENABLE_MANAGEMENT",
	44: "PR_MPX_DISABLE_MANAGEMENT", 45: "PR_SET_FP_MODE", 46: "PR_GET_FP_MODE", 47: "PR_CAP_AMBIENT",
	50: "PR_SVE_SET_VL", 51: "PR_SVE_GET_VL", 52: "PR_GET_SPECULATION_CTRL", 53: "PR_SET_SPECULATION_CTRL",
	54: "PR_PAC_RESET_KEYS", 55: "PR_SET_TAGGED_ADDR_CTRL", 56: "PR_GET_TAGGED_ADDR_CTRL",
	57: "PR_SET_IO_FLUSHER", 58: "PR_GET_IO_FLUSHER", 59: "PR_SET_SYSCALL_USER_DISPATCH",
	60: "PR_PAC_SET_ENABLED_KEYS", 61: "PR_PAC_GET_ENABLED_KEYS", 62: "PR_SCHED_CORE",
	63: "PR_SME_SET_VL", 64: "PR_SME_GET_VL", 65: "PR_SET_MDWE", 66: "PR_GET_MDWE",
	0x59616d61: "PR_SET_PTRACER", 0x53564d41: "PR_SET_VMA", 0x41555856: "PR_GET_AUXV",
}

// PrctlOption renders prctl(2)'s option.
func PrctlOption(v uint64) string { return nameOr(prctlNames, v, "%#x") }

// archPrctlNames are arch_prctl(2)'s codes on x86-64.
var archPrctlNames = map[uint64]string{
	0x1001: "ARCH_SET_GS", 0x1002: "ARCH_SET_FS", 0x1003: "ARCH_GET_FS", 0x1004: "ARCH_GET_GS",
	0x1011: "ARCH_GET_CPUID", 0x1012: "ARCH_SET_CPUID", 0x1021: "ARCH_GET_XCOMP_SUPP",
	0x1022: "ARCH_GET_XCOMP_PERM", 0x1023: "ARCH_REQ_XCOMP_PERM", 0x1024: "ARCH_GET_XCOMP_GUEST_PERM",
	0x1025: "ARCH_REQ_XCOMP_GUEST_PERM", 0x2001: "ARCH_MAP_VDSO_X32", 0x2002: "ARCH_MAP_VDSO_32",
	0x2003: "ARCH_MAP_VDSO_64", 0x4001: "ARCH_GET_UNTAG_MASK", 0x4002: "ARCH_ENABLE_TAGGED_ADDR",
	0x4003: "ARCH_GET_MAX_TAG_BITS", 0x4004: "ARCH_FORCE_TAGGED_SVA", 0x5001: "ARCH_SHSTK_ENABLE",
	0x5002: "ARCH_SHSTK_DISABLE", 0x5003: "ARCH_SHSTK_LOCK", 0x5004: "ARCH_SHSTK_UNLOCK",
	0x5005: "ARCH_SHSTK_STATUS",
}

// ArchPrctlCode renders arch_prctl(2)'s code.
func ArchPrctlCode(v uint64) string { return nameOr(archPrctlNames, v, "%#x") }

// fcntlNames are fcntl(2)'s commands.
var fcntlNames = map[uint64]string{
	0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL", 5: "F_GETLK",
	6: "F_SETLK", 7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN", 10: "F_SETSIG", 11: "F_GETSIG",
	15: "F_SETOWN_EX", 16: "F_GETOWN_EX", 17: "F_GETOWNER_UIDS", 36: "F_OFD_GETLK",
	37: "F_OFD_SETLK", 38: "F_OFD_SETLKW", 1024: "F_SETLEASE", 1025: "F_GETLEASE",
	1026: "F_NOTIFY", 1030: "F_DUPFD_CLOEXEC", 1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ",
	1033: "F_ADD_SEALS", 1034: "F_GET_SEALS", 1035: "F_GET_RW_HINT", 1036: "F_SET_RW_HINT",
	1037: "F_GET_FILE_RW_HINT", 1038: "F_SET_FILE_RW_HINT",
}

// FcntlCommand renders fcntl(2)'s command.
func FcntlCommand(v uint64) string { return nameOr(fcntlNames, v, "%d") }

// nameOr is v's name in names, or v in format.
func nameOr(names map[uint64]string, v uint64, format string) string {
	if n, ok := names[v]; ok {
		return n
	}
	return fmt.Sprintf(format, v)
}
