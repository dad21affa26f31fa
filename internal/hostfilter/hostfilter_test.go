package hostfilter

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func mustCompile(t *testing.T, o Options) []Insn {
	t.Helper()
	prog, err := Compile(Allowlist(o))
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

func run(t *testing.T, prog []Insn, nr int, args ...uint64) uint32 {
	t.Helper()
	var a [6]uint64
	copy(a[:], args)
	r, err := Run(prog, auditArchX86_64, uint32(nr), a)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEveryRuleAdmits: each rule's syscall passes with arguments of its
// first alternative (or any), through the search tree, for every option
// set.
func TestEveryRuleAdmits(t *testing.T) {
	for _, o := range []Options{{Platform: "ptrace"}, {Platform: "kvm"}, {Platform: "ptrace", HostFS: true}} {
		prog := mustCompile(t, o)
		for _, r := range Allowlist(o) {
			var args [6]uint64
			if len(r.Alts) > 0 {
				for _, c := range r.Alts[0] {
					if c.Ne {
						args[c.Index] = 3 // a directory fd
					} else {
						args[c.Index] = c.Value
					}
				}
			}
			if got := run(t, prog, r.Nr, args[:]...); got != retAllow {
				t.Errorf("%+v: %s%v = %#x, want allow", o, r.Name, args, got)
			}
		}
	}
}

// TestDenied: what a confined uk must never do.
func TestDenied(t *testing.T) {
	o := Options{Platform: "ptrace", HostFS: true}
	prog := mustCompile(t, o)
	for _, tc := range []struct {
		name string
		nr   int
		args []uint64
	}{
		{"open", unix.SYS_OPEN, nil},
		{"openat from the cwd", unix.SYS_OPENAT, []uint64{0xffffffffffffff9c, 0, unix.O_RDONLY | unix.O_NOFOLLOW}},
		{"openat following symlinks", unix.SYS_OPENAT, []uint64{3, 0, unix.O_RDONLY}},
		{"execve", unix.SYS_EXECVE, nil},
		{"execveat", unix.SYS_EXECVEAT, nil},
		{"fork", unix.SYS_FORK, nil},
		{"clone of a process", unix.SYS_CLONE, []uint64{uint64(unix.SIGCHLD)}},
		{"clone3", unix.SYS_CLONE3, nil},
		{"socket", unix.SYS_SOCKET, []uint64{unix.AF_INET, unix.SOCK_STREAM}},
		{"connect", unix.SYS_CONNECT, nil},
		{"mount", unix.SYS_MOUNT, nil},
		{"setuid", unix.SYS_SETUID, nil},
		{"unshare", unix.SYS_UNSHARE, nil},
		{"ptrace is allowed but process_vm_writev not", unix.SYS_PROCESS_VM_WRITEV, nil},
		{"executable mmap", unix.SYS_MMAP, []uint64{0, 4096, unix.PROT_READ | unix.PROT_EXEC, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS}},
		{"mprotect to executable", unix.SYS_MPROTECT, []uint64{0, 4096, unix.PROT_EXEC}},
		{"ioctl TIOCSTI", unix.SYS_IOCTL, []uint64{0, unix.TIOCSTI}},
		{"ioctl TIOCSWINSZ", unix.SYS_IOCTL, []uint64{0, unix.TIOCSWINSZ}},
		{"KVM_RUN on ptrace", unix.SYS_IOCTL, []uint64{5, kvmRun}},
		{"kill with another signal", unix.SYS_KILL, []uint64{1, uint64(unix.SIGTERM)}},
		{"mknodat of a device", unix.SYS_MKNODAT, []uint64{3, 0, unix.S_IFCHR | 0o600, 0x0101}},
		{"linkat following a symlink", unix.SYS_LINKAT, []uint64{3, 0, 3, 0, unix.AT_SYMLINK_FOLLOW}},
		{"fchownat through a symlink", unix.SYS_FCHOWNAT, []uint64{3, 0, 0, 0, 0}},
		{"bpf", unix.SYS_BPF, nil},
		{"a number past the table", 1000, nil},
		{"an x32 number", 0x40000000 | unix.SYS_OPENAT, nil},
	} {
		if got := run(t, prog, tc.nr, tc.args...); got != retTrap {
			t.Errorf("%s: %#x, want trap", tc.name, got)
		}
	}
	// Without host directories, no path call at all.
	plain := mustCompile(t, Options{Platform: "ptrace"})
	if got := run(t, plain, unix.SYS_OPENAT, 3, 0, unix.O_NOFOLLOW); got != retTrap {
		t.Errorf("openat without hostfs: %#x, want trap", got)
	}
	// Another architecture's syscall (int 0x80 from uk) kills.
	if r, _ := Run(prog, 0x40000003, unix.SYS_GETPID, [6]uint64{}); r != retKillProcess {
		t.Errorf("i386 syscall: %#x, want kill", r)
	}
}

// TestNoExec: on every platform, with host directories or without, no
// thread of a confined uk can exec anything, nor make a process or a user
// namespace that could. Confine leaves the capability bounding set full
// because of this: it only limits what an exec can give.
func TestNoExec(t *testing.T) {
	for _, platform := range []string{"ptrace", "sigsys", "kvm"} {
		for _, hostFS := range []bool{false, true} {
			prog := mustCompile(t, Options{Platform: platform, HostFS: hostFS})
			for _, tc := range []struct {
				name string
				nr   int
				args []uint64
			}{
				{"execve", unix.SYS_EXECVE, nil},
				{"execveat", unix.SYS_EXECVEAT, nil},
				{"fork", unix.SYS_FORK, nil},
				{"vfork", unix.SYS_VFORK, nil},
				{"clone of a process", unix.SYS_CLONE, []uint64{uint64(unix.SIGCHLD)}},
				{"clone3", unix.SYS_CLONE3, nil},
				{"unshare of a user namespace", unix.SYS_UNSHARE, []uint64{unix.CLONE_NEWUSER}},
				{"setns", unix.SYS_SETNS, nil},
			} {
				if got := run(t, prog, tc.nr, tc.args...); got != retTrap {
					t.Errorf("%s (host directories %v): %s: %#x, want trap", platform, hostFS, tc.name, got)
				}
			}
		}
	}
}

// TestHotPathIsCacheable: syscalls on uk's per-syscall path are admitted
// from the number alone, so the kernel's action cache skips the filter.
func TestHotPathIsCacheable(t *testing.T) {
	hot := map[int]bool{unix.SYS_PTRACE: true, unix.SYS_WAIT4: true, unix.SYS_FUTEX: true, unix.SYS_GETTID: true,
		unix.SYS_TGKILL: true, unix.SYS_PROCESS_VM_READV: true, unix.SYS_NANOSLEEP: true, unix.SYS_EPOLL_PWAIT: true}
	for _, r := range Allowlist(Options{Platform: "ptrace"}) {
		if hot[r.Nr] && len(r.Alts) > 0 {
			t.Errorf("%s is on the hot path but filters its arguments", r.Name)
		}
		delete(hot, r.Nr)
	}
	for nr := range hot {
		t.Errorf("hot syscall %d not on the list", nr)
	}
}

func TestDescribe(t *testing.T) {
	var b strings.Builder
	o := Options{Platform: "ptrace"}
	Describe(&b, Allowlist(o), 1)
	out := b.String()
	for _, w := range []string{"ptrace ", "clone", "arg0 == 0x", "Go runtime"} {
		if !strings.Contains(out, w) {
			t.Errorf("description lacks %q:\n%s", w, out)
		}
	}
	if n := strings.Count(out, "\n"); n != len(Allowlist(o))+1 {
		t.Errorf("%d lines for %d rules", n, len(Allowlist(o)))
	}
}

// TestMembarrier: the host's barrier commands uk uses, and no others;
// the expedited ones only under KVM, where uk's own threads run the
// program.
func TestMembarrier(t *testing.T) {
	for _, platform := range []string{"ptrace", "sigsys", "kvm"} {
		prog := mustCompile(t, Options{Platform: platform})
		for _, tc := range []struct {
			cmd, flags uint64
			allow      bool
		}{
			{0, 0, true},                   // QUERY
			{1, 0, true},                   // GLOBAL
			{1, 1, false},                  // GLOBAL with flags
			{1 << 1, 0, false},             // GLOBAL_EXPEDITED
			{1 << 2, 0, false},             // REGISTER_GLOBAL_EXPEDITED
			{1 << 3, 0, platform == "kvm"}, // PRIVATE_EXPEDITED
			{1 << 4, 0, platform == "kvm"}, // REGISTER_PRIVATE_EXPEDITED
			{1 << 5, 0, false},             // PRIVATE_EXPEDITED_SYNC_CORE
		} {
			want := uint32(retTrap)
			if tc.allow {
				want = retAllow
			}
			if got := run(t, prog, unix.SYS_MEMBARRIER, tc.cmd, tc.flags); got != want {
				t.Errorf("%s: membarrier(%#x, %d) = %#x, want %#x", platform, tc.cmd, tc.flags, got, want)
			}
		}
	}
}
