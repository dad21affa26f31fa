package e2e

// Integration tests of `uk run`: real static programs run natively and under
// uk on every platform of the machine, and must print the same and exit the
// same. Also the command line's handling of bad input, --strace, --hostname,
// crash reports and `uk platforms`.

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"uk/internal/testenv"
)

// cCase is one run of a C test program from testdata/c.
type cCase struct {
	name     string // subtest name
	prog     string // testdata/c/PROG.c
	spec     runSpec
	wantCode int // exit status natively, hence also under uk
	// probe, when set, are arguments that make the program report (by
	// its exit status) whether native Linux here has what the comparison
	// needs; without it the case needs a machine that has it
	// (testenv.Need: a skip, or a failure under UK_REQUIRE_ENV).
	probe []string
}

var cCases = []cCase{
	{name: "hi", prog: "hi"},
	{name: "args/none", prog: "args"},
	{name: "args/some", prog: "args", spec: runSpec{
		Args: []string{"one", "two words", "", "ünïcødé", "--flag=x"},
		Env:  []string{"FOO=bar", "EMPTY="},
	}},
	{name: "args/env-override", prog: "args", spec: runSpec{Env: []string{"HOME=/root", "TERM=xterm"}}},
	{name: "stdio", prog: "stdio", spec: runSpec{Stdin: "line one\nline two\n"}},
	{name: "proc", prog: "proc"},
	{name: "random", prog: "random"},
	{name: "time", prog: "time"},
	{name: "signal", prog: "signal"},
	{name: "fd", prog: "fd"},
	{name: "mem", prog: "mem"},
	// Security: pages given up stay unreachable (1000 rounds each), the
	// KVM supervisor window is not the program's, a child's pages are not
	// its parent's, and memory another process freed comes back zeroed
	// (memfile keeps freed pages for reuse).
	{name: "stale", prog: "stale"},
	{name: "enosys", prog: "enosys"},
	{name: "sigframe", prog: "sigframe"},
	{name: "procs", prog: "procs"},
	{name: "threads", prog: "threads"},
	{name: "vdso", prog: "vdso"},
	{name: "unshare", prog: "unshare"},
	// Mount namespaces: LTP's unshare01, setns and pivot_root01 cases,
	// MS_MOVE, and a namespace's mounts going with its last task.
	{name: "mountns", prog: "mountns"},
	// IPC namespaces: System V objects, message queues, /proc/sysvipc and
	// mqueue mounts per namespace, setns.
	{name: "ipcns", prog: "ipcns"},
	{name: "cgroupns", prog: "cgroupns"},
	// Network namespaces: lo alone and down, ports of their own, setns,
	// and 100 used and dropped in turn.
	{name: "netns", prog: "netns"},
	// /proc/net/unix: each socket's flags, type, state and name, and
	// only the reader's network namespace's.
	{name: "procnet", prog: "procnet"},
	// Pseudo-terminals under uk run: /dev/ptmx, devpts, a session's
	// controlling terminal and /dev/tty, echo and ONLCR, EIO at hangup.
	{name: "pty", prog: "pty"},
	// NUMA policies on one node: set_mempolicy, get_mempolicy, mbind,
	// set_mempolicy_home_node, migrate_pages.
	{name: "mempolicy", prog: "mempolicy"},
	// move_pages on one node: each page's node or why it has none, the
	// target node checked, errors and partial answers as Linux's.
	{name: "movepages", prog: "movepages"},
	// /proc of a zombie (state Z, no memory, files or links) until
	// reaped, and of PID 1 (uk run's stand-in init).
	{name: "proczombie", prog: "proczombie"},
	// /proc/PID/io: bytes and calls of reads and writes, a thread's own,
	// an exited thread's and a waited-for child's in the process's.
	{name: "ioacct", prog: "ioacct"},
	// /proc/PID/auxv: exec's auxiliary vector, as getauxval sees it.
	{name: "procauxv", prog: "procauxv"},
	// uid_map, gid_map and setgroups of the one user namespace.
	{name: "procuserns", prog: "procuserns"},
	// /proc/PID/smaps and smaps_rollup of private and shared anonymous
	// memory, alone, forked, reaped and locked.
	{name: "procsmaps", prog: "procsmaps"},
	// /proc/PID/coredump_filter: read, written, kept by fork and exec.
	{name: "coredumpfilter", prog: "coredumpfilter"},
	{name: "splice", prog: "splice"},
	{name: "sigaltstack-top", prog: "sigaltstack_top"},
	{name: "sigstack", prog: "sigstack"},
	{name: "vsyscall", prog: "vsyscall"},
	// LTP's preadv/pwritev/preadv2/pwritev2 and priority/sched_* cases.
	{name: "rwvec", prog: "rwvec"},
	{name: "sched", prog: "sched"},
	// LTP's sched_setattr/sched_getattr and ioprio_get/ioprio_set cases.
	{name: "schedattr", prog: "schedattr"},
	{name: "ioprio", prog: "ioprio"},
	// LTP's capget/capset cases, setuid's and exec's rules for the sets.
	{name: "caps", prog: "caps"},
	// sethostname/setdomainname (in a UTS namespace of its own), UTS
	// namespaces, personality, mlock2.
	{name: "uts", prog: "uts"},
	// LTP's pidfd_open and pidfd_send_signal cases, waitid(P_PIDFD).
	{name: "pidfd", prog: "pidfd"},
	{name: "inotify", prog: "inotify"},
	{name: "cputime", prog: "cputime"},
	// LTP's times03 and getrusage01-02: system time and page faults.
	{name: "systime", prog: "systime"},
	{name: "seccomp", prog: "seccomp"},
	{name: "prctl", prog: "prctl"},
	{name: "wait", prog: "wait"},
	{name: "sigerrs", prog: "sigerrs"},
	{name: "mmerrs", prog: "mmerrs"},
	{name: "mlock", prog: "mlock"},
	{name: "seals", prog: "seals"},
	{name: "fsize", prog: "fsize"},
	{name: "locks", prog: "locks"},
	{name: "fserrs", prog: "fserrs"},
	{name: "idsched", prog: "idsched"},
	{name: "evfds", prog: "evfds"},
	{name: "ptrace", prog: "ptrace"},
	// gdb's hardware watchpoints and hbreak: DR7's checks, DR6, a write
	// watchpoint and an execution breakpoint firing.
	{name: "watchpoint", prog: "watchpoint"},
	{name: "mseal", prog: "mseal"},
	{name: "uffd", prog: "uffd"},
	// LTP's landlock01-10 cases: the three calls' checks, every file
	// right, reparenting, TCP ports and both scopes.
	{name: "landlock", prog: "landlock", probe: []string{"probe"}},
	// LTP's fanotify02, 04, 08, 11 and 12 cases: groups reporting
	// descriptors, their marks and events.
	{name: "fanotify", prog: "fanotify", probe: []string{"probe"}},
	// LTP's lsm_list_modules01 and the LSM attribute calls' checks.
	{name: "lsm", prog: "lsm", probe: []string{"probe"}},
	{name: "timens", prog: "timens", probe: []string{"probe"}},
	{name: "procvm", prog: "procvm"},
	{name: "ustat", prog: "ustat"},
	{name: "acct", prog: "acct", probe: []string{"probe"}},
	{name: "aio", prog: "aio"},
	{name: "fhandle", prog: "fhandle"},
	{name: "cachestat", prog: "cachestat"},
	{name: "sysfs", prog: "sysfs"},
	{name: "nsioctl", prog: "nsioctl", probe: []string{"probe"}},
	{name: "remap", prog: "remap"},
	{name: "rusage", prog: "rusage"},
	{name: "futexpi", prog: "futexpi"},
	{name: "execerrs", prog: "execerrs"},
	{name: "sockerrs", prog: "sockerrs"},
	{name: "fsperm", prog: "fsperm"},
	{name: "fileio", prog: "fileio"},
	{name: "orphans", prog: "orphans"},
	{name: "timersem", prog: "timersem"},
	{name: "sockmsg", prog: "sockmsg"},
	{name: "pipes", prog: "pipes"},
	{name: "fstimes", prog: "fstimes"},
	// LTP's fchmodat2_01, getdents02, statx12, utimensat01 and xattr
	// cases: O_PATH descriptors with AT_EMPTY_PATH, removed directories,
	// statx attributes, what uid 65534 may do to root's files.
	{name: "fsedges", prog: "fsedges"},
	// LTP's setreuid05, setregid02-04, waitpid with SIGCHLD ignored,
	// wait403, timer_settime02: saved ids, errnos, a wait that ends.
	{name: "procedges", prog: "procedges"},
	// LTP's mmap13/14/23/24, mincore03, mremap07, getcpu01: mappings
	// past a file's end, MAP_32BIT, MAP_LOCKED, MREMAP_DONTUNMAP.
	{name: "mmedges", prog: "mmedges"},
	// LTP's read02, readv02, splice07 and the offset checks: faulting
	// buffers, O_NONBLOCK pipes in splice and tee, the largest offsets.
	{name: "fdedges", prog: "fdedges"},
	// LTP's fcntl31: F_SETOWN(_EX), F_SETSIG and O_ASYNC's signals.
	{name: "sigio", prog: "sigio"},
	// LTP's waitpid05, kill11, waitid10: core files and WCOREDUMP.
	{name: "coredump", prog: "coredump", probe: []string{"probe"}},
	{name: "fsuid", prog: "fsuid"},
	{name: "rlimits", prog: "rlimits"},
	{name: "rlimit_cpu", prog: "rlimit_cpu"},
	{name: "settime", prog: "settime"},
	{name: "cputimers", prog: "cputimers"},
	{name: "cpusleep", prog: "cpusleep"},
	{name: "sockfilter", prog: "sockfilter"},
	// LTP's membarrier01 cases: QUERY, registration, inheritance.
	{name: "membarrier", prog: "membarrier"},
	// LTP's pidfd_getfd01/02 cases: the copy, its errors, ptrace access.
	{name: "pidfd_getfd", prog: "pidfd_getfd"},
	// LTP's kcmp01-03 cases: each type, order, KCMP_EPOLL_TFD, errors.
	{name: "kcmp", prog: "kcmp"},
	// POSIX message queues and the mqueue filesystem: priorities,
	// blocking and timeouts, signals, mq_notify (signal, none, thread),
	// poll, the status line, errors in Linux's order, permissions.
	{name: "mqueue", prog: "mqueue"},
	// System V semaphores and message queues: sleepers in children,
	// EINTR, EIDRM, SEM_UNDO at exit, another user's rights, errors.
	{name: "sysv_sem", prog: "sysv_sem"},
	{name: "sysv_msg", prog: "sysv_msg"},
	// Sites hot enough for sigsys to patch: what Linux guarantees at a
	// syscall still holds through the rewritten site.
	{name: "patched", prog: "patched", spec: runSpec{Flags: []string{"--patch-syscalls"}}},

	{name: "exit/exit-0", prog: "exit", spec: runSpec{Args: []string{"exit", "0"}}, wantCode: 0},
	{name: "exit/exit-1", prog: "exit", spec: runSpec{Args: []string{"exit", "1"}}, wantCode: 1},
	{name: "exit/exit-42", prog: "exit", spec: runSpec{Args: []string{"exit", "42"}}, wantCode: 42},
	{name: "exit/exit-255", prog: "exit", spec: runSpec{Args: []string{"exit", "255"}}, wantCode: 255},
	{name: "exit/exit-256", prog: "exit", spec: runSpec{Args: []string{"exit", "256"}}, wantCode: 0},
	{name: "exit/exit-minus-1", prog: "exit", spec: runSpec{Args: []string{"exit", "-1"}}, wantCode: 255},
	{name: "exit/return-9", prog: "exit", spec: runSpec{Args: []string{"return", "9"}}, wantCode: 9},
	{name: "exit/exit_group-3", prog: "exit", spec: runSpec{Args: []string{"exit_group", "3"}}, wantCode: 3},
	{name: "exit/sys_exit-7", prog: "exit", spec: runSpec{Args: []string{"sys_exit", "7"}}, wantCode: 7},

	{name: "sharedmap/ltp", prog: "sharedmap", spec: runSpec{Args: []string{"ltp"}}},
	{name: "sharedmap/truncate", prog: "sharedmap", spec: runSpec{Args: []string{"truncate"}}},
	{name: "sharedmap/punch", prog: "sharedmap", spec: runSpec{Args: []string{"punch"}}},
	{name: "sharedmap/rights", prog: "sharedmap", spec: runSpec{Args: []string{"rights"}}},
	{name: "sharedmap/ranges", prog: "sharedmap", spec: runSpec{Args: []string{"ranges"}}},
	// 300 rounds of 1 MiB of shared anonymous memory in a 128 MiB sandbox
	// (more than twice its size): each round's pages must go back at munmap.
	{name: "sharedmap/anonloop", prog: "sharedmap", spec: runSpec{Args: []string{"anonloop", "300"}, Flags: []string{"--mem", "128M"}}},

	{name: "crash/null", prog: "crash", spec: runSpec{Args: []string{"null"}}, wantCode: 128 + 11},
	{name: "crash/addr", prog: "crash", spec: runSpec{Args: []string{"addr"}}, wantCode: 128 + 11},
	{name: "crash/munmap", prog: "crash", spec: runSpec{Args: []string{"munmap"}}, wantCode: 128 + 11},
	{name: "crash/mprotect", prog: "crash", spec: runSpec{Args: []string{"mprotect"}}, wantCode: 128 + 11},
	{name: "crash/ud2", prog: "crash", spec: runSpec{Args: []string{"ud2"}}, wantCode: 128 + 4},
	{name: "crash/int3", prog: "crash", spec: runSpec{Args: []string{"int3"}}, wantCode: 128 + 5},
	{name: "crash/div0", prog: "crash", spec: runSpec{Args: []string{"div0"}}, wantCode: 128 + 8},
	{name: "crash/abort", prog: "crash", spec: runSpec{Args: []string{"abort"}}, wantCode: 128 + 6},
	{name: "keys1", prog: "keys1", probe: []string{"probe"}},
	{name: "keys2", prog: "keys2", probe: []string{"probe"}},
}

// otherCPrograms are the programs used by tests outside the cCases table.
var otherCPrograms = []string{"getpid_bench", "hostile_tasks", "hostile_oom", "hostile_work", "hostile_mem", "hostile_net", "hostile_pipes", "hostile_ns", "stracereq"}

// TestCPrograms runs each C program natively, checks that it does what it
// promises there, and then requires the same stdout and exit status under uk.
func TestCPrograms(t *testing.T) {
	for _, tc := range cCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prog := cProgram(t, tc.prog)
			if tc.probe != nil {
				if out, err := exec.Command(prog, tc.probe...).CombinedOutput(); err != nil {
					// A machine lacking the feature natively; CI
					// (UK_REQUIRE_ENV=1) makes this a failure.
					testenv.Need(t, "native support for what "+tc.prog+".c compares",
						fmt.Sprintf("%s %v: %v %s", tc.prog, tc.probe, err, out))
				}
			}
			native := runNativeSpec(t, prog, tc.spec)
			checkNative(t, native, tc.wantCode)
			forEachPlatform(t, func(t *testing.T, platform string) {
				uk := runUKSpec(t, platform, prog, tc.spec)
				sameAsNative(t, native, uk)
			})
		})
	}
}

// TestCProgramsAllUsed keeps the table honest: every program in testdata/c
// is run by some test.
func TestCProgramsAllUsed(t *testing.T) {
	used := map[string]bool{}
	for _, tc := range cCases {
		used[tc.prog] = true
	}
	for _, p := range otherCPrograms {
		used[p] = true
	}
	srcs, err := filepath.Glob(filepath.Join("testdata", "c", "*.c"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		name := strings.TrimSuffix(filepath.Base(s), ".c")
		if !used[name] {
			t.Errorf("testdata/c/%s.c is not run by any test; add it to cCases", name)
		}
		delete(used, name)
	}
	for name := range used {
		t.Errorf("test refers to testdata/c/%s.c, which does not exist", name)
	}
}

// TestPtraceInit checks that root may trace PID 1 (LTP's ptrace11), which
// under `uk run` is the stand-in init that runs no code: it stops for the
// attach's SIGSTOP, has no memory, and detaches. Only under uk: natively
// the test would stop the machine's own init.
func TestPtraceInit(t *testing.T) {
	prog := cProgram(t, "ptrace")
	want := strings.Join([]string{
		"ptrace(PTRACE_ATTACH, 1, 0, 0): ok",
		"ptrace(PTRACE_ATTACH, 1, 0, 0): -1 EPERM",
		"waitpid(1, &st, 0) == 1: ok",
		"init stopped 1 by 19",
		"ptrace(PTRACE_PEEKDATA, 1, 0x400000, 0): -1 EIO",
		"ptrace(PTRACE_GETREGS, 1, 0, &r): ok",
		"ptrace(PTRACE_DETACH, 1, 0, 0): ok",
		"ptrace(PTRACE_DETACH, 1, 0, 0): -1 ESRCH",
		"",
	}, "\n")
	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUK(t, platform, prog, []string{"init"})
		if r.Code != 0 || r.Stdout != want {
			t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", r.Code, r.Stdout, want, clip(r.Stderr))
		}
	})
}

// TestHostnameFlag checks that --hostname sets what uname(2) reports.
func TestHostnameFlag(t *testing.T) {
	prog := cProgram(t, "proc")
	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUK(t, platform, prog, []string{"nodename"}, "--hostname", "uk-test-host")
		if r.Code != 0 || r.Stdout != "uk-test-host\n" {
			t.Errorf("with --hostname uk-test-host: exit %d, stdout %q; want 0, %q\nstderr:\n%s",
				r.Code, r.Stdout, "uk-test-host\n", clip(r.Stderr))
		}
		r = runUK(t, platform, prog, []string{"nodename"})
		if name := strings.TrimSuffix(r.Stdout, "\n"); r.Code != 0 || name == "" || strings.ContainsAny(name, " \n") {
			t.Errorf("default hostname: exit %d, stdout %q; want one non-empty word", r.Code, r.Stdout)
		}
	})
}

const busybox = "/bin/busybox"

// needBusybox skips, through testenv.Need, when the host has no static
// busybox (uk runs only static programs, and the busybox tests compare with
// it run natively).
func needBusybox(tb testing.TB) {
	tb.Helper()
	const why = "the busybox tests run it natively and under uk; Debian: busybox-static"
	f, err := elf.Open(busybox)
	if err != nil {
		testenv.Need(tb, "a static "+busybox, fmt.Sprintf("%v; %s", err, why))
		return
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			testenv.Need(tb, "a static "+busybox, busybox+" is dynamically linked; "+why)
		}
	}
}

// TestBusybox runs busybox applets natively and under uk and compares.
func TestBusybox(t *testing.T) {
	needBusybox(t)
	cases := []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"echo", []string{"echo", "hello", "world"}, 0},
		{"true", []string{"true"}, 0},
		{"false", []string{"false"}, 1},
		{"sh-exit-7", []string{"sh", "-c", "exit 7"}, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			native := runNative(t, busybox, tc.args...)
			if native.Code != tc.wantCode {
				t.Fatalf("natively busybox %q exits %d, want %d", tc.args, native.Code, tc.wantCode)
			}
			forEachPlatform(t, func(t *testing.T, platform string) {
				sameAsNative(t, native, runUK(t, platform, busybox, tc.args))
			})
		})
	}
}

// TestBusyboxUname compares the fields of `uname -a` that must agree with the
// host: the system name first, machine and operating system last. Node name,
// release and version are uk's own.
func TestBusyboxUname(t *testing.T) {
	needBusybox(t)
	native := runNative(t, busybox, "uname", "-a")
	nf := strings.Fields(native.Stdout)
	if native.Code != 0 || len(nf) < 5 {
		t.Fatalf("native busybox uname -a: exit %d, %q", native.Code, native.Stdout)
	}
	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUK(t, platform, busybox, []string{"uname", "-a"})
		uf := strings.Fields(r.Stdout)
		if r.Code != 0 || len(uf) < 5 {
			t.Fatalf("busybox uname -a under uk: exit %d, stdout %q\nstderr:\n%s", r.Code, r.Stdout, clip(r.Stderr))
		}
		if uf[0] != nf[0] || uf[len(uf)-2] != nf[len(nf)-2] || uf[len(uf)-1] != nf[len(nf)-1] {
			t.Errorf("uname -a: uk %q, native %q: sysname, machine and OS fields differ", r.Stdout, native.Stdout)
		}
		if !strings.HasSuffix(r.Stdout, "\n") || strings.Count(r.Stdout, "\n") != 1 {
			t.Errorf("uname -a under uk is not one line: %q", r.Stdout)
		}
	})
}

// elfHeader builds a minimal ELF file with one PT_LOAD program header for the
// given class and machine, carrying code at the entry point.
func elfHeader(t *testing.T, class elf.Class, machine elf.Machine, code []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	const base = 0x400000
	switch class {
	case elf.ELFCLASS32:
		hdr := elf.Header32{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(machine),
			Version: uint32(elf.EV_CURRENT), Entry: base + 52 + 32, Phoff: 52,
			Ehsize: 52, Phentsize: 32, Phnum: 1}
		size := uint32(52 + 32 + len(code))
		ph := elf.Prog32{Type: uint32(elf.PT_LOAD), Vaddr: base, Paddr: base, Filesz: size, Memsz: size,
			Flags: uint32(elf.PF_R | elf.PF_X), Align: 0x1000}
		binary.Write(&b, binary.LittleEndian, hdr)
		binary.Write(&b, binary.LittleEndian, ph)
	case elf.ELFCLASS64:
		hdr := elf.Header64{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(machine),
			Version: uint32(elf.EV_CURRENT), Entry: base + 64 + 56, Phoff: 64,
			Ehsize: 64, Phentsize: 56, Phnum: 1}
		size := uint64(64 + 56 + len(code))
		ph := elf.Prog64{Type: uint32(elf.PT_LOAD), Vaddr: base, Paddr: base, Filesz: size, Memsz: size,
			Flags: uint32(elf.PF_R | elf.PF_X), Align: 0x1000}
		binary.Write(&b, binary.LittleEndian, hdr)
		binary.Write(&b, binary.LittleEndian, ph)
	}
	b.Write(code)
	return b.Bytes()
}

func writeExecutable(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBadInput checks that uk refuses what it cannot run with one line on
// stderr starting "uk: " and a non-zero exit, and never a Go panic.
func TestBadInput(t *testing.T) {
	needUK(t)
	// exit(0) through int 0x80 and through syscall, for the crafted ELFs.
	code32 := []byte{0xb8, 0x01, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x80}
	codeArm := []byte{0x00, 0x00, 0x80, 0xd2, 0xa8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4}

	cases := []struct {
		name string
		argv func(t *testing.T) []string
	}{
		{"no program", func(t *testing.T) []string { return []string{"run", "--"} }},
		{"no program no dashes", func(t *testing.T) []string { return []string{"run"} }},
		{"missing file", func(t *testing.T) []string {
			return []string{"run", "--", filepath.Join(t.TempDir(), "does-not-exist")}
		}},
		{"directory", func(t *testing.T) []string { return []string{"run", "--", t.TempDir()} }},
		{"empty file", func(t *testing.T) []string {
			return []string{"run", "--", writeExecutable(t, "empty", nil)}
		}},
		{"text file", func(t *testing.T) []string {
			return []string{"run", "--", writeExecutable(t, "text", []byte("this is not a program\n"))}
		}},
		{"32-bit ELF", func(t *testing.T) []string {
			return []string{"run", "--", writeExecutable(t, "elf32", elfHeader(t, elf.ELFCLASS32, elf.EM_386, code32))}
		}},
		{"aarch64 ELF", func(t *testing.T) []string {
			return []string{"run", "--", writeExecutable(t, "arm64", elfHeader(t, elf.ELFCLASS64, elf.EM_AARCH64, codeArm))}
		}},
		{"truncated ELF", func(t *testing.T) []string {
			data, err := os.ReadFile(cProgram(t, "hi"))
			if err != nil {
				t.Fatal(err)
			}
			return []string{"run", "--", writeExecutable(t, "truncated", data[:100])}
		}},
		// The current CLI contract: `uk run` takes static programs only.
		{"dynamic ELF", func(t *testing.T) []string { return []string{"run", "--", cProgramDynamic(t, "hi")} }},
		{"unknown flag", func(t *testing.T) []string {
			return []string{"run", "--no-such-flag", "--", cProgram(t, "hi")}
		}},
		{"unknown platform", func(t *testing.T) []string {
			return []string{"run", "--platform=no-such-platform", "--", cProgram(t, "hi")}
		}},
		{"malformed --env", func(t *testing.T) []string {
			return []string{"run", "--env", "NOEQUALS", "--", cProgram(t, "hi")}
		}},
		{"unknown command", func(t *testing.T) []string { return []string{"no-such-command"} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			argv := tc.argv(t)
			r := runUKCommand(t, argv, "")
			if r.Code == 0 {
				t.Errorf("uk %q exited 0; want a non-zero status", argv)
			}
			if r.Signaled {
				t.Errorf("uk %q was killed by a signal (status %d)", argv, r.Code)
			}
			if hasGoPanic(r.Stderr) {
				t.Errorf("uk %q panicked:\n%s", argv, clip(r.Stderr))
			}
			if !strings.HasPrefix(r.Stderr, "uk: ") || !strings.HasSuffix(r.Stderr, "\n") || strings.Count(r.Stderr, "\n") != 1 {
				t.Errorf("uk %q: stderr must be one line starting \"uk: \"; got %q", argv, r.Stderr)
			}
		})
	}
}

// TestStrace checks --strace's format on the smallest program, and that
// tracing does not change what the program prints.
func TestStrace(t *testing.T) {
	hi := cProgram(t, "hi")
	stdio := cProgram(t, "stdio")
	enosys := cProgram(t, "enosys")
	stdin := "line one\nline two\n"
	nativeStdio := runNativeSpec(t, stdio, runSpec{Stdin: stdin})
	checkNative(t, nativeStdio, 0)

	writeHi := regexp.MustCompile(`(?m)^\[\d+\] write\(1, "hi\\n", 3\) = 3$`)
	exitGroup := regexp.MustCompile(`(?m)^\[\d+\] exit_group\(0\)`)
	ebadf := regexp.MustCompile(`(?m)^\[\d+\] write\(99, "x", 1\) = -1 EBADF$`)
	enosysLine := regexp.MustCompile(`(?m)^\[\d+\] \S+\(.*\) = -1 ENOSYS$`)
	stracereq := cProgram(t, "stracereq")
	requests := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\[\d+\] ioctl\(1, TCGETS, 0x[0-9a-f]+\) = `),
		regexp.MustCompile(`(?m)^\[\d+\] ioctl\(1, _IOC\(_IOC_READ\|_IOC_WRITE, 0x62, 0x1, 0x30\), 0x0\) = `),
		regexp.MustCompile(`(?m)^\[\d+\] prctl\(PR_SET_NAME, 0x[0-9a-f]+, `),
		regexp.MustCompile(`(?m)^\[\d+\] fcntl\(1, F_GETFD, 0x[0-9a-f]+\) = 0$`),
		regexp.MustCompile(`(?m)^\[\d+\] arch_prctl\(ARCH_GET_FS, 0x[0-9a-f]+\) = 0$`),
	}

	forEachPlatform(t, func(t *testing.T, platform string) {
		r := runUK(t, platform, hi, nil, "--strace")
		if r.Stdout != "hi\n" || r.Code != 0 {
			t.Errorf("hi under --strace: exit %d, stdout %q; want 0, \"hi\\n\"", r.Code, r.Stdout)
		}
		if !writeHi.MatchString(r.Stderr) {
			t.Errorf("--strace output lacks the line `[N] write(1, \"hi\\n\", 3) = 3`:\n%s", clip(r.Stderr))
		}
		if !exitGroup.MatchString(r.Stderr) {
			t.Errorf("--strace output lacks `[N] exit_group(0`:\n%s", clip(r.Stderr))
		}
		if i, j := strings.Index(r.Stderr, `write(1, "hi`), strings.Index(r.Stderr, "exit_group(0"); i > j {
			t.Errorf("--strace: write after exit_group:\n%s", clip(r.Stderr))
		}

		r = runUKSpec(t, platform, stdio, runSpec{Stdin: stdin, Flags: []string{"--strace"}})
		sameAsNative(t, nativeStdio, r)
		if !ebadf.MatchString(r.Stderr) {
			t.Errorf("--strace output lacks `[N] write(99, \"x\", 1) = -1 EBADF`:\n%s", clip(r.Stderr))
		}

		// Request words are named, as strace names them.
		r = runUK(t, platform, stracereq, nil, "--strace")
		for _, re := range requests {
			if !re.MatchString(r.Stderr) {
				t.Errorf("--strace output lacks a line matching %s:\n%s", re, clip(r.Stderr))
			}
		}

		r = runUK(t, platform, enosys, nil, "--strace")
		if r.Code != 0 {
			t.Errorf("enosys under --strace exits %d", r.Code)
		}
		if n := len(enosysLine.FindAllString(r.Stderr, -1)); n < 4 {
			t.Errorf("--strace shows %d calls ending `= -1 ENOSYS`, want at least 4:\n%s", n, clip(r.Stderr))
		}
	})
}

// TestCrashReport checks what uk prints when its program dies of a fault.
func TestCrashReport(t *testing.T) {
	crash := cProgram(t, "crash")
	cases := []struct {
		mode     string
		code     int
		contains []string // case-insensitive
	}{
		{"null", 139, []string{"SIGSEGV", "rip"}},
		{"addr", 139, []string{"SIGSEGV", "rip", "dead0000", "mov"}},
		{"ud2", 132, []string{"SIGILL", "rip", "ud2"}},
	}
	forEachPlatform(t, func(t *testing.T, platform string) {
		for _, tc := range cases {
			r := runUK(t, platform, crash, []string{tc.mode})
			if r.Code != tc.code {
				t.Errorf("crash %s: exit %d, want %d", tc.mode, r.Code, tc.code)
			}
			if r.Stdout != "before "+tc.mode+"\n" {
				t.Errorf("crash %s: stdout %q, want the line printed before the crash", tc.mode, r.Stdout)
			}
			lower := strings.ToLower(r.Stderr)
			for _, s := range tc.contains {
				if !strings.Contains(lower, strings.ToLower(s)) {
					t.Errorf("crash %s: the report lacks %q:\n%s", tc.mode, s, clip(r.Stderr))
				}
			}
		}
	})
}

// TestPlatformsCommand checks the format of `uk platforms` and that it agrees
// with what the machine has.
func TestPlatformsCommand(t *testing.T) {
	r := runUKCommand(t, []string{"platforms"}, "")
	if r.Code != 0 {
		t.Fatalf("uk platforms: exit %d\nstderr:\n%s", r.Code, clip(r.Stderr))
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n") {
		m := platformLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("uk platforms: line %q is neither `NAME: ok, ...` nor `NAME: unavailable: REASON`", line)
			continue
		}
		got[m[1]] = m[2]
	}
	if s, ok := got["ptrace"]; !ok || !strings.HasPrefix(s, "ok, ") {
		t.Errorf("uk platforms: ptrace is %q, want ok (ptrace works on every test machine)", s)
	}
	s, ok := got["kvm"]
	if !ok {
		t.Errorf("uk platforms does not list kvm")
	}
	if _, err := os.Stat("/dev/kvm"); err != nil && !strings.HasPrefix(s, "unavailable: ") {
		t.Errorf("uk platforms: kvm is %q, but this machine has no /dev/kvm", s)
	}
}
