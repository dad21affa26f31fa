package arch

import (
	"strconv"
	"strings"
)

// Renderers of syscall argument words for --strace, in strace's notation:
// known bits by name joined with '|', unknown leftover bits in hex at the
// end ("O_RDONLY|O_CLOEXEC|0x40000000"), and a named zero where Linux has
// one ("PROT_NONE").

type flagName struct {
	v    uint64
	name string
}

// renderFlags names the bits of v in table order (multi-bit entries first
// where they must win), then appends what is left in hex. zero is printed
// for v == 0.
func renderFlags(v uint64, table []flagName, zero string) string {
	if v == 0 {
		return zero
	}
	var parts []string
	for _, f := range table {
		if f.v != 0 && v&f.v == f.v {
			parts = append(parts, f.name)
			v &^= f.v
		}
	}
	if v != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(v, 16))
	}
	return strings.Join(parts, "|")
}

// Open flags (x86-64 values, octal as in the kernel headers).
const (
	O_RDONLY    = 0
	O_WRONLY    = 01
	O_RDWR      = 02
	O_ACCMODE   = 03
	O_CREAT     = 0100
	O_EXCL      = 0200
	O_NOCTTY    = 0400
	O_TRUNC     = 01000
	O_APPEND    = 02000
	O_NONBLOCK  = 04000
	O_DSYNC     = 010000
	O_ASYNC     = 020000
	O_DIRECT    = 040000
	O_LARGEFILE = 0100000
	O_DIRECTORY = 0200000
	O_NOFOLLOW  = 0400000
	O_NOATIME   = 01000000
	O_CLOEXEC   = 02000000
	O_SYNC      = 04010000 // __O_SYNC | O_DSYNC
	O_PATH      = 010000000
	O_TMPFILE   = 020200000 // __O_TMPFILE | O_DIRECTORY
)

var openFlagNames = []flagName{
	{O_SYNC, "O_SYNC"}, {O_TMPFILE, "O_TMPFILE"},
	{O_CREAT, "O_CREAT"}, {O_EXCL, "O_EXCL"}, {O_NOCTTY, "O_NOCTTY"}, {O_TRUNC, "O_TRUNC"},
	{O_APPEND, "O_APPEND"}, {O_NONBLOCK, "O_NONBLOCK"}, {O_DSYNC, "O_DSYNC"}, {O_ASYNC, "O_ASYNC"},
	{O_DIRECT, "O_DIRECT"}, {O_LARGEFILE, "O_LARGEFILE"}, {O_DIRECTORY, "O_DIRECTORY"},
	{O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"}, {O_CLOEXEC, "O_CLOEXEC"}, {O_PATH, "O_PATH"},
}

// OpenFlags renders open(2)/openat(2) flags: the access mode first, as
// strace prints it ("O_WRONLY|O_CREAT|O_TRUNC").
func OpenFlags(v uint64) string {
	mode := [...]string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}[v&O_ACCMODE]
	if rest := v &^ O_ACCMODE; rest != 0 {
		return mode + "|" + renderFlags(rest, openFlagNames, "")
	}
	return mode
}

// Memory protection bits for mmap(2)/mprotect(2).
const (
	PROT_NONE      = 0
	PROT_READ      = 0x1
	PROT_WRITE     = 0x2
	PROT_EXEC      = 0x4
	PROT_SEM       = 0x8
	PROT_GROWSDOWN = 0x01000000
	PROT_GROWSUP   = 0x02000000
)

var protNames = []flagName{
	{PROT_READ, "PROT_READ"}, {PROT_WRITE, "PROT_WRITE"}, {PROT_EXEC, "PROT_EXEC"}, {PROT_SEM, "PROT_SEM"},
	{PROT_GROWSDOWN, "PROT_GROWSDOWN"}, {PROT_GROWSUP, "PROT_GROWSUP"},
}

// MmapProt renders a protection word ("PROT_READ|PROT_WRITE", "PROT_NONE").
func MmapProt(v uint64) string { return renderFlags(v, protNames, "PROT_NONE") }

// mmap(2) flags (x86-64).
const (
	MAP_SHARED          = 0x01
	MAP_PRIVATE         = 0x02
	MAP_SHARED_VALIDATE = 0x03
	MAP_DROPPABLE       = 0x08
	MAP_TYPE            = 0x0f
	MAP_FIXED           = 0x10
	MAP_ANONYMOUS       = 0x20
	MAP_32BIT           = 0x40
	MAP_GROWSDOWN       = 0x100
	MAP_DENYWRITE       = 0x800
	MAP_EXECUTABLE      = 0x1000
	MAP_LOCKED          = 0x2000
	MAP_NORESERVE       = 0x4000
	MAP_POPULATE        = 0x8000
	MAP_NONBLOCK        = 0x10000
	MAP_STACK           = 0x20000
	MAP_HUGETLB         = 0x40000
	MAP_SYNC            = 0x80000
	MAP_FIXED_NOREPLACE = 0x100000
	MAP_UNINITIALIZED   = 0x4000000
	MAP_HUGE_SHIFT      = 26
	MAP_HUGE_MASK       = 0x3f
)

var mmapFlagNames = []flagName{
	{MAP_FIXED, "MAP_FIXED"}, {MAP_ANONYMOUS, "MAP_ANONYMOUS"}, {MAP_32BIT, "MAP_32BIT"},
	{MAP_GROWSDOWN, "MAP_GROWSDOWN"}, {MAP_DENYWRITE, "MAP_DENYWRITE"}, {MAP_EXECUTABLE, "MAP_EXECUTABLE"},
	{MAP_LOCKED, "MAP_LOCKED"}, {MAP_NORESERVE, "MAP_NORESERVE"}, {MAP_POPULATE, "MAP_POPULATE"},
	{MAP_NONBLOCK, "MAP_NONBLOCK"}, {MAP_STACK, "MAP_STACK"}, {MAP_HUGETLB, "MAP_HUGETLB"},
	{MAP_SYNC, "MAP_SYNC"}, {MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"},
}

// MmapFlags renders mmap(2) flags: the mapping type first
// ("MAP_PRIVATE|MAP_ANONYMOUS"), and with MAP_HUGETLB the page size encoded
// in bits 26-31 ("MAP_HUGE_2MB"); without it bit 26 is MAP_UNINITIALIZED.
func MmapFlags(v uint64) string {
	var parts []string
	switch v & MAP_TYPE {
	case 0:
	case MAP_SHARED:
		parts = append(parts, "MAP_SHARED")
	case MAP_PRIVATE:
		parts = append(parts, "MAP_PRIVATE")
	case MAP_SHARED_VALIDATE:
		parts = append(parts, "MAP_SHARED_VALIDATE")
	case MAP_DROPPABLE:
		parts = append(parts, "MAP_DROPPABLE")
	default:
		parts = append(parts, "0x"+strconv.FormatUint(v&MAP_TYPE, 16))
	}
	rest := v &^ MAP_TYPE
	huge := ""
	if rest&MAP_HUGETLB != 0 {
		if shift := rest >> MAP_HUGE_SHIFT & MAP_HUGE_MASK; shift != 0 {
			huge = "MAP_HUGE_" + hugeSize(shift)
			rest &^= MAP_HUGE_MASK << MAP_HUGE_SHIFT
		}
	} else if rest&MAP_UNINITIALIZED != 0 {
		huge = "MAP_UNINITIALIZED"
		rest &^= MAP_UNINITIALIZED
	}
	if rest != 0 {
		parts = append(parts, renderFlags(rest, mmapFlagNames, ""))
	}
	if huge != "" {
		parts = append(parts, huge)
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

func hugeSize(shift uint64) string {
	switch {
	case shift >= 30:
		return strconv.FormatUint(1<<(shift-30), 10) + "GB"
	case shift >= 20:
		return strconv.FormatUint(1<<(shift-20), 10) + "MB"
	case shift >= 10:
		return strconv.FormatUint(1<<(shift-10), 10) + "KB"
	}
	return strconv.FormatUint(1<<shift, 10) + "B"
}

// clone(2)/clone3(2) flags.
const (
	CSIGNAL              = 0xff
	CLONE_NEWTIME        = 0x80 // clone3 only; overlaps CSIGNAL for clone(2)
	CLONE_VM             = 0x100
	CLONE_FS             = 0x200
	CLONE_FILES          = 0x400
	CLONE_SIGHAND        = 0x800
	CLONE_PIDFD          = 0x1000
	CLONE_PTRACE         = 0x2000
	CLONE_VFORK          = 0x4000
	CLONE_PARENT         = 0x8000
	CLONE_THREAD         = 0x10000
	CLONE_NEWNS          = 0x20000
	CLONE_SYSVSEM        = 0x40000
	CLONE_SETTLS         = 0x80000
	CLONE_PARENT_SETTID  = 0x100000
	CLONE_CHILD_CLEARTID = 0x200000
	CLONE_DETACHED       = 0x400000
	CLONE_UNTRACED       = 0x800000
	CLONE_CHILD_SETTID   = 0x1000000
	CLONE_NEWCGROUP      = 0x2000000
	CLONE_NEWUTS         = 0x4000000
	CLONE_NEWIPC         = 0x8000000
	CLONE_NEWUSER        = 0x10000000
	CLONE_NEWPID         = 0x20000000
	CLONE_NEWNET         = 0x40000000
	CLONE_IO             = 0x80000000
	CLONE_CLEAR_SIGHAND  = 0x100000000 // clone3 only
	CLONE_INTO_CGROUP    = 0x200000000 // clone3 only
)

var cloneFlagNames = []flagName{
	{CLONE_VM, "CLONE_VM"}, {CLONE_FS, "CLONE_FS"}, {CLONE_FILES, "CLONE_FILES"},
	{CLONE_SIGHAND, "CLONE_SIGHAND"}, {CLONE_PIDFD, "CLONE_PIDFD"}, {CLONE_PTRACE, "CLONE_PTRACE"},
	{CLONE_VFORK, "CLONE_VFORK"}, {CLONE_PARENT, "CLONE_PARENT"}, {CLONE_THREAD, "CLONE_THREAD"},
	{CLONE_NEWNS, "CLONE_NEWNS"}, {CLONE_SYSVSEM, "CLONE_SYSVSEM"}, {CLONE_SETTLS, "CLONE_SETTLS"},
	{CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"}, {CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"},
	{CLONE_DETACHED, "CLONE_DETACHED"}, {CLONE_UNTRACED, "CLONE_UNTRACED"},
	{CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"}, {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
	{CLONE_NEWUTS, "CLONE_NEWUTS"}, {CLONE_NEWIPC, "CLONE_NEWIPC"}, {CLONE_NEWUSER, "CLONE_NEWUSER"},
	{CLONE_NEWPID, "CLONE_NEWPID"}, {CLONE_NEWNET, "CLONE_NEWNET"}, {CLONE_IO, "CLONE_IO"},
	{CLONE_CLEAR_SIGHAND, "CLONE_CLEAR_SIGHAND"}, {CLONE_INTO_CGROUP, "CLONE_INTO_CGROUP"},
}

// CloneFlags renders clone(2) flags as strace does: the flags, then the
// exit signal from the low byte by name
// ("CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD").
func CloneFlags(v uint64) string {
	var parts []string
	if rest := v &^ CSIGNAL; rest != 0 {
		parts = append(parts, renderFlags(rest, cloneFlagNames, ""))
	}
	if sig := int(v & CSIGNAL); sig != 0 {
		parts = append(parts, SignalName(sig))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// Clone3Flags renders clone3(2)'s flags field, where the low byte holds
// flags (CLONE_NEWTIME) rather than the exit signal.
func Clone3Flags(v uint64) string {
	return renderFlags(v, append([]flagName{{CLONE_NEWTIME, "CLONE_NEWTIME"}}, cloneFlagNames...), "0")
}

// *at(2) flags and the special directory descriptor.
const (
	AT_FDCWD            = -100
	AT_SYMLINK_NOFOLLOW = 0x100
	AT_REMOVEDIR        = 0x200 // unlinkat
	AT_EACCESS          = 0x200 // faccessat2: same bit as AT_REMOVEDIR
	AT_SYMLINK_FOLLOW   = 0x400
	AT_NO_AUTOMOUNT     = 0x800
	AT_EMPTY_PATH       = 0x1000
	AT_STATX_FORCE_SYNC = 0x2000
	AT_STATX_DONT_SYNC  = 0x4000
	AT_RECURSIVE        = 0x8000
)

func atFlagNames(bit200 string) []flagName {
	return []flagName{
		{AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"}, {0x200, bit200},
		{AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"}, {AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"},
		{AT_EMPTY_PATH, "AT_EMPTY_PATH"}, {AT_STATX_FORCE_SYNC, "AT_STATX_FORCE_SYNC"},
		{AT_STATX_DONT_SYNC, "AT_STATX_DONT_SYNC"}, {AT_RECURSIVE, "AT_RECURSIVE"},
	}
}

var (
	atFlagsRemovedir = atFlagNames("AT_REMOVEDIR")
	atFlagsEaccess   = atFlagNames("AT_EACCESS")
)

// AtFlags renders the flags of the *at syscalls (fstatat, linkat, statx,
// unlinkat, ...); bit 0x200 is shown as AT_REMOVEDIR. Use AccessAtFlags for
// faccessat2, where that bit means AT_EACCESS.
func AtFlags(v uint64) string { return renderFlags(v, atFlagsRemovedir, "0") }

// AccessAtFlags renders faccessat2(2) flags (0x200 = AT_EACCESS).
func AccessAtFlags(v uint64) string { return renderFlags(v, atFlagsEaccess, "0") }

// DirFD renders a directory descriptor argument: "AT_FDCWD" or the number.
// The argument is the raw register; only its low 32 bits are the int.
func DirFD(reg uint64) string {
	fd := int32(reg)
	if fd == AT_FDCWD {
		return "AT_FDCWD"
	}
	return strconv.Itoa(int(fd))
}

// QuoteBuffer renders b as strace shows buffers and paths: in double
// quotes, with C escapes (\t \n \v \f \r \\ \") and octal escapes for every
// other byte outside printable ASCII, using the shortest octal form unless
// a digit follows. If b is longer than max bytes, only the first max are
// shown and "..." follows the closing quote. max < 0 means no limit.
func QuoteBuffer(b []byte, max int) string {
	trunc := false
	if max >= 0 && len(b) > max {
		b, trunc = b[:max], true
	}
	var s strings.Builder
	s.Grow(len(b) + 2)
	s.WriteByte('"')
	for i, c := range b {
		switch c {
		case '"':
			s.WriteString(`\"`)
		case '\\':
			s.WriteString(`\\`)
		case '\t':
			s.WriteString(`\t`)
		case '\n':
			s.WriteString(`\n`)
		case '\v':
			s.WriteString(`\v`)
		case '\f':
			s.WriteString(`\f`)
		case '\r':
			s.WriteString(`\r`)
		default:
			if c >= 0x20 && c < 0x7f {
				s.WriteByte(c)
				continue
			}
			s.WriteByte('\\')
			nextDigit := i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7'
			o := strconv.FormatUint(uint64(c), 8)
			if nextDigit {
				o = strings.Repeat("0", 3-len(o)) + o
			}
			s.WriteString(o)
		}
	}
	s.WriteByte('"')
	if trunc {
		s.WriteString("...")
	}
	return s.String()
}
