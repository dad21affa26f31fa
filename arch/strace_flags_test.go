package arch

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestFlagConstantsMatchUnix(t *testing.T) {
	for _, c := range []struct {
		name      string
		ours, sys uint64
	}{
		{"O_WRONLY", O_WRONLY, unix.O_WRONLY}, {"O_RDWR", O_RDWR, unix.O_RDWR}, {"O_CREAT", O_CREAT, unix.O_CREAT},
		{"O_EXCL", O_EXCL, unix.O_EXCL}, {"O_NOCTTY", O_NOCTTY, unix.O_NOCTTY}, {"O_TRUNC", O_TRUNC, unix.O_TRUNC},
		{"O_APPEND", O_APPEND, unix.O_APPEND}, {"O_NONBLOCK", O_NONBLOCK, unix.O_NONBLOCK},
		{"O_DSYNC", O_DSYNC, unix.O_DSYNC}, {"O_ASYNC", O_ASYNC, unix.O_ASYNC}, {"O_DIRECT", O_DIRECT, unix.O_DIRECT},
		// O_LARGEFILE is left out: x/sys has libc's 0 for 64-bit, the
		// kernel's bit is 0100000 (asm-generic/fcntl.h), which apps may pass.
		{"O_DIRECTORY", O_DIRECTORY, unix.O_DIRECTORY},
		{"O_NOFOLLOW", O_NOFOLLOW, unix.O_NOFOLLOW}, {"O_NOATIME", O_NOATIME, unix.O_NOATIME},
		{"O_CLOEXEC", O_CLOEXEC, unix.O_CLOEXEC}, {"O_SYNC", O_SYNC, unix.O_SYNC}, {"O_PATH", O_PATH, unix.O_PATH},
		{"O_TMPFILE", O_TMPFILE, unix.O_TMPFILE},
		{"PROT_READ", PROT_READ, unix.PROT_READ}, {"PROT_WRITE", PROT_WRITE, unix.PROT_WRITE},
		{"PROT_EXEC", PROT_EXEC, unix.PROT_EXEC}, {"PROT_GROWSDOWN", PROT_GROWSDOWN, unix.PROT_GROWSDOWN},
		{"PROT_GROWSUP", PROT_GROWSUP, unix.PROT_GROWSUP},
		{"MAP_SHARED", MAP_SHARED, unix.MAP_SHARED}, {"MAP_PRIVATE", MAP_PRIVATE, unix.MAP_PRIVATE},
		{"MAP_SHARED_VALIDATE", MAP_SHARED_VALIDATE, unix.MAP_SHARED_VALIDATE}, {"MAP_FIXED", MAP_FIXED, unix.MAP_FIXED},
		{"MAP_ANONYMOUS", MAP_ANONYMOUS, unix.MAP_ANONYMOUS}, {"MAP_32BIT", MAP_32BIT, unix.MAP_32BIT},
		{"MAP_GROWSDOWN", MAP_GROWSDOWN, unix.MAP_GROWSDOWN}, {"MAP_DENYWRITE", MAP_DENYWRITE, unix.MAP_DENYWRITE},
		{"MAP_EXECUTABLE", MAP_EXECUTABLE, unix.MAP_EXECUTABLE}, {"MAP_LOCKED", MAP_LOCKED, unix.MAP_LOCKED},
		{"MAP_NORESERVE", MAP_NORESERVE, unix.MAP_NORESERVE}, {"MAP_POPULATE", MAP_POPULATE, unix.MAP_POPULATE},
		{"MAP_NONBLOCK", MAP_NONBLOCK, unix.MAP_NONBLOCK}, {"MAP_STACK", MAP_STACK, unix.MAP_STACK},
		{"MAP_HUGETLB", MAP_HUGETLB, unix.MAP_HUGETLB}, {"MAP_SYNC", MAP_SYNC, unix.MAP_SYNC},
		{"MAP_FIXED_NOREPLACE", MAP_FIXED_NOREPLACE, unix.MAP_FIXED_NOREPLACE},
		{"MAP_HUGE_SHIFT", MAP_HUGE_SHIFT, unix.MAP_HUGE_SHIFT}, {"MAP_HUGE_MASK", MAP_HUGE_MASK, unix.MAP_HUGE_MASK},
		{"CLONE_VM", CLONE_VM, unix.CLONE_VM}, {"CLONE_FS", CLONE_FS, unix.CLONE_FS},
		{"CLONE_FILES", CLONE_FILES, unix.CLONE_FILES}, {"CLONE_SIGHAND", CLONE_SIGHAND, unix.CLONE_SIGHAND},
		{"CLONE_PIDFD", CLONE_PIDFD, unix.CLONE_PIDFD}, {"CLONE_PTRACE", CLONE_PTRACE, unix.CLONE_PTRACE},
		{"CLONE_VFORK", CLONE_VFORK, unix.CLONE_VFORK}, {"CLONE_PARENT", CLONE_PARENT, unix.CLONE_PARENT},
		{"CLONE_THREAD", CLONE_THREAD, unix.CLONE_THREAD}, {"CLONE_NEWNS", CLONE_NEWNS, unix.CLONE_NEWNS},
		{"CLONE_SYSVSEM", CLONE_SYSVSEM, unix.CLONE_SYSVSEM}, {"CLONE_SETTLS", CLONE_SETTLS, unix.CLONE_SETTLS},
		{"CLONE_PARENT_SETTID", CLONE_PARENT_SETTID, unix.CLONE_PARENT_SETTID},
		{"CLONE_CHILD_CLEARTID", CLONE_CHILD_CLEARTID, unix.CLONE_CHILD_CLEARTID},
		{"CLONE_DETACHED", CLONE_DETACHED, unix.CLONE_DETACHED}, {"CLONE_UNTRACED", CLONE_UNTRACED, unix.CLONE_UNTRACED},
		{"CLONE_CHILD_SETTID", CLONE_CHILD_SETTID, unix.CLONE_CHILD_SETTID},
		{"CLONE_NEWCGROUP", CLONE_NEWCGROUP, unix.CLONE_NEWCGROUP}, {"CLONE_NEWUTS", CLONE_NEWUTS, unix.CLONE_NEWUTS},
		{"CLONE_NEWIPC", CLONE_NEWIPC, unix.CLONE_NEWIPC}, {"CLONE_NEWUSER", CLONE_NEWUSER, unix.CLONE_NEWUSER},
		{"CLONE_NEWPID", CLONE_NEWPID, unix.CLONE_NEWPID}, {"CLONE_NEWNET", CLONE_NEWNET, unix.CLONE_NEWNET},
		{"CLONE_IO", CLONE_IO, unix.CLONE_IO}, {"CLONE_CLEAR_SIGHAND", CLONE_CLEAR_SIGHAND, unix.CLONE_CLEAR_SIGHAND},
		{"CLONE_INTO_CGROUP", CLONE_INTO_CGROUP, unix.CLONE_INTO_CGROUP}, {"CLONE_NEWTIME", CLONE_NEWTIME, unix.CLONE_NEWTIME},
		{"AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW, unix.AT_SYMLINK_NOFOLLOW},
		{"AT_REMOVEDIR", AT_REMOVEDIR, unix.AT_REMOVEDIR}, {"AT_EACCESS", AT_EACCESS, unix.AT_EACCESS},
		{"AT_SYMLINK_FOLLOW", AT_SYMLINK_FOLLOW, unix.AT_SYMLINK_FOLLOW},
		{"AT_NO_AUTOMOUNT", AT_NO_AUTOMOUNT, unix.AT_NO_AUTOMOUNT}, {"AT_EMPTY_PATH", AT_EMPTY_PATH, unix.AT_EMPTY_PATH},
		{"AT_STATX_FORCE_SYNC", AT_STATX_FORCE_SYNC, unix.AT_STATX_FORCE_SYNC},
		{"AT_STATX_DONT_SYNC", AT_STATX_DONT_SYNC, unix.AT_STATX_DONT_SYNC}, {"AT_RECURSIVE", AT_RECURSIVE, unix.AT_RECURSIVE},
	} {
		if c.ours != c.sys {
			t.Errorf("%s = %#x, x/sys %#x", c.name, c.ours, c.sys)
		}
	}
	if AT_FDCWD != unix.AT_FDCWD {
		t.Error("AT_FDCWD")
	}
}

func TestFlagRendering(t *testing.T) {
	for _, tc := range []struct {
		f    func(uint64) string
		fn   string
		v    uint64
		want string
	}{
		{OpenFlags, "OpenFlags", 0, "O_RDONLY"},
		{OpenFlags, "OpenFlags", O_RDONLY | O_CLOEXEC, "O_RDONLY|O_CLOEXEC"},
		{OpenFlags, "OpenFlags", O_WRONLY | O_CREAT | O_TRUNC, "O_WRONLY|O_CREAT|O_TRUNC"},
		{OpenFlags, "OpenFlags", O_RDWR | O_SYNC, "O_RDWR|O_SYNC"},
		{OpenFlags, "OpenFlags", O_RDWR | O_DSYNC, "O_RDWR|O_DSYNC"},
		{OpenFlags, "OpenFlags", O_RDWR | O_TMPFILE, "O_RDWR|O_TMPFILE"},
		{OpenFlags, "OpenFlags", O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC, "O_RDONLY|O_NONBLOCK|O_DIRECTORY|O_CLOEXEC"},
		{OpenFlags, "OpenFlags", O_ACCMODE, "O_ACCMODE"},
		{OpenFlags, "OpenFlags", O_WRONLY | 0x80000000, "O_WRONLY|0x80000000"},
		{MmapProt, "MmapProt", 0, "PROT_NONE"},
		{MmapProt, "MmapProt", PROT_READ | PROT_WRITE, "PROT_READ|PROT_WRITE"},
		{MmapProt, "MmapProt", PROT_READ | PROT_EXEC, "PROT_READ|PROT_EXEC"},
		{MmapProt, "MmapProt", 0x10, "0x10"},
		{MmapFlags, "MmapFlags", MAP_PRIVATE | MAP_ANONYMOUS, "MAP_PRIVATE|MAP_ANONYMOUS"},
		{MmapFlags, "MmapFlags", MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE"},
		{MmapFlags, "MmapFlags", MAP_SHARED, "MAP_SHARED"},
		{MmapFlags, "MmapFlags", 0, "0"},
		{MmapFlags, "MmapFlags", MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | 21<<MAP_HUGE_SHIFT, "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_2MB"},
		{MmapFlags, "MmapFlags", MAP_PRIVATE | MAP_HUGETLB | 30<<MAP_HUGE_SHIFT, "MAP_PRIVATE|MAP_HUGETLB|MAP_HUGE_1GB"},
		{MmapFlags, "MmapFlags", MAP_PRIVATE | MAP_UNINITIALIZED, "MAP_PRIVATE|MAP_UNINITIALIZED"},
		{MmapFlags, "MmapFlags", MAP_PRIVATE | 0x200, "MAP_PRIVATE|0x200"},
		{MmapFlags, "MmapFlags", 0x7, "0x7"},
		{CloneFlags, "CloneFlags", CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD, "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"},
		{CloneFlags, "CloneFlags", CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
			CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
			"CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID"},
		{CloneFlags, "CloneFlags", CLONE_VM | CLONE_VFORK | SIGCHLD, "CLONE_VM|CLONE_VFORK|SIGCHLD"},
		{CloneFlags, "CloneFlags", 0, "0"},
		{CloneFlags, "CloneFlags", SIGRTMIN, "SIGRTMIN"},
		{Clone3Flags, "Clone3Flags", CLONE_NEWTIME | CLONE_INTO_CGROUP, "CLONE_NEWTIME|CLONE_INTO_CGROUP"},
		{AtFlags, "AtFlags", 0, "0"},
		{AtFlags, "AtFlags", AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"},
		{AtFlags, "AtFlags", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH"},
		{AtFlags, "AtFlags", AT_REMOVEDIR, "AT_REMOVEDIR"},
		{AtFlags, "AtFlags", 0x10000, "0x10000"},
		{AccessAtFlags, "AccessAtFlags", AT_EACCESS, "AT_EACCESS"},
	} {
		if got := tc.f(tc.v); got != tc.want {
			t.Errorf("%s(%#x) = %q, want %q", tc.fn, tc.v, got, tc.want)
		}
	}
}

func TestDirFD(t *testing.T) {
	for reg, want := range map[uint64]string{0xffffff9c: "AT_FDCWD", ^uint64(99): "AT_FDCWD", 3: "3", 0xffffffff: "-1"} {
		if got := DirFD(reg); got != want {
			t.Errorf("DirFD(%#x) = %q, want %q", reg, got, want)
		}
	}
}

func TestQuoteBuffer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"hello\n", 32, `"hello\n"`},
		{"", 32, `""`},
		{"tab\there \"q\" back\\", -1, `"tab\there \"q\" back\\"`},
		{"\x1b[0m", 32, `"\33[0m"`},
		{"\x001", 32, `"\0001"`},
		{"\x00a", 32, `"\0a"`},
		{"\x009", 32, `"\09"`},
		{"\x7f\xff\xc3\xa9", 32, `"\177\377\303\251"`},
		{"\v\f\r", 32, `"\v\f\r"`},
		{"abcdefgh", 4, `"abcd"...`},
		{"abcd", 4, `"abcd"`},
		{"abc", 0, `""...`},
	} {
		if got := QuoteBuffer([]byte(tc.in), tc.max); got != tc.want {
			t.Errorf("QuoteBuffer(%q, %d) = %s, want %s", tc.in, tc.max, got, tc.want)
		}
	}
}
