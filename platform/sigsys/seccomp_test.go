package sigsys

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"uk/platform"
	"uk/platform/internal/stubproc"
	"uk/platform/platformtest"
)

// runFilter runs prog over the seccomp_data of (arch, nr, ip, args).
func runFilter(t *testing.T, prog []stubproc.Insn, archID, nr uint32, ip uint64, args [6]uint64) uint32 {
	t.Helper()
	r, err := stubproc.Eval(prog, archID, nr, ip, args)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestThreadFilterTable: an application thread's only host syscalls are
// the handler's futex WAIT/WAKE, rt_sigreturn and exit, each from its own
// instruction; everything else, mmap of the memory file from any address
// included, traps.
func TestThreadFilterTable(t *testing.T) {
	prog := threadFilter()
	const x86, i386 = stubproc.AuditArchX86_64, 0x40000003
	memMap := [6]uint64{0x400000, 4096, 3, stubproc.MapFlags, stubproc.MemFDInStub, 0}
	for _, tc := range []struct {
		name string
		arch uint32
		nr   uint32
		ip   uint64
		args [6]uint64
		want uint32
	}{
		{"futex wait at the wait site", x86, unix.SYS_FUTEX, siteWaitRet, [6]uint64{0, futexOpWait}, retAllow},
		{"futex wake at the wake site", x86, unix.SYS_FUTEX, siteWakeRet, [6]uint64{0, futexOpWake}, retAllow},
		{"futex requeue at the wait site", x86, unix.SYS_FUTEX, siteWaitRet, [6]uint64{0, 4 /* FUTEX_CMP_REQUEUE */}, retTrap},
		{"private futex wait at the wait site", x86, unix.SYS_FUTEX, siteWaitRet, [6]uint64{0, futexOpWait | 128 /* FUTEX_PRIVATE_FLAG */}, retTrap},
		{"futex wait elsewhere", x86, unix.SYS_FUTEX, 0x401000, [6]uint64{0, futexOpWait}, retTrap},
		{"futex at the sigreturn site", x86, unix.SYS_FUTEX, siteSigreturnRet, [6]uint64{0, futexOpWait}, retTrap},
		{"rt_sigreturn at its site", x86, unix.SYS_RT_SIGRETURN, siteSigreturnRet, [6]uint64{}, retAllow},
		{"rt_sigreturn elsewhere", x86, unix.SYS_RT_SIGRETURN, 0x401000, [6]uint64{}, retTrap},
		{"rt_sigreturn 4 GiB off its site", x86, unix.SYS_RT_SIGRETURN, siteSigreturnRet - 1<<32, [6]uint64{}, retTrap},
		{"exit at its site", x86, unix.SYS_EXIT, siteExitRet, [6]uint64{}, retAllow},
		{"exit elsewhere", x86, unix.SYS_EXIT, 0x401000, [6]uint64{}, retTrap},
		{"exit_group at the exit site", x86, unix.SYS_EXIT_GROUP, siteExitRet, [6]uint64{}, retTrap},
		{"mmap of the memory file at the sigreturn site", x86, unix.SYS_MMAP, siteSigreturnRet, memMap, retTrap},
		{"mmap of the memory file at the wait site", x86, unix.SYS_MMAP, siteWaitRet, memMap, retTrap},
		{"mmap of the memory file elsewhere", x86, unix.SYS_MMAP, 0x401000, memMap, retTrap},
		{"munmap", x86, unix.SYS_MUNMAP, siteWaitRet, [6]uint64{0x400000, 4096}, retTrap},
		{"sigaltstack", x86, unix.SYS_SIGALTSTACK, siteSigreturnRet, [6]uint64{}, retTrap},
		{"seccomp", x86, unix.SYS_SECCOMP, siteSigreturnRet, [6]uint64{unix.SECCOMP_SET_MODE_FILTER}, retTrap},
		{"clone", x86, unix.SYS_CLONE, siteWakeRet, [6]uint64{stubproc.CloneFlags}, retTrap},
		// A forged completion of a mapping batch: the program jumps into
		// the serving thread's loop, at its write to the pipe.
		{"write to the serving thread's pipe in its loop", x86, unix.SYS_WRITE, siteServe + 0x83, [6]uint64{serveFDInStub, stubproc.ReqPage, 1}, retTrap},
		{"pipe2 in the serving loop", x86, unix.SYS_PIPE2, siteServe + 0x83, [6]uint64{}, retTrap},
		{"getpid", x86, unix.SYS_GETPID, 0x401000, [6]uint64{}, retTrap},
		{"ia32 rt_sigreturn at its site", i386, 173, siteSigreturnRet, [6]uint64{}, retTrap},
		{"ia32 futex at the wait site", i386, 240, siteWaitRet, [6]uint64{0, futexOpWait}, retTrap},
	} {
		if got := runFilter(t, prog, tc.arch, tc.nr, tc.ip, tc.args); got != tc.want {
			t.Errorf("%s: %#x, want %#x", tc.name, got, tc.want)
		}
	}
}

// TestStubFilterTable: the stubs' filters allow the edit thread's calls
// with their fixed arguments and trap (never kill: an application thread
// inherits them) everything else.
func TestStubFilterTable(t *testing.T) {
	prog := stubFilter(false)
	const x86 = stubproc.AuditArchX86_64
	for _, tc := range []struct {
		name string
		nr   uint32
		args [6]uint64
		want uint32
	}{
		{"mmap of the memory file", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, stubproc.MapFlags, stubproc.MemFDInStub, 0}, retAllow},
		{"unpopulated mmap of the memory file", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, stubproc.MapFlagsLazy, stubproc.MemFDInStub, 0}, retAllow},
		{"private mmap of the memory file", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, unix.MAP_PRIVATE | unix.MAP_FIXED, stubproc.MemFDInStub, 0}, retTrap},
		{"mmap with flags' high bits", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, 1<<32 | stubproc.MapFlags, stubproc.MemFDInStub, 0}, retTrap},
		{"mmap of the slot file", unix.SYS_MMAP, [6]uint64{threadBase, slotSize, 3, stubproc.MapFlags, slotFDInStub, 0}, retAllow},
		{"mmap of another fd", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, stubproc.MapFlags, 4, 0}, retTrap},
		{"mmap with other flags", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, unix.MAP_SHARED, stubproc.MemFDInStub, 0}, retTrap},
		{"mmap of an fd with high bits", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, stubproc.MapFlags, 1<<32 | stubproc.MemFDInStub, 0}, retTrap},
		{"thread clone", unix.SYS_CLONE, [6]uint64{stubproc.CloneFlags}, retAllow},
		{"fork", unix.SYS_CLONE, [6]uint64{stubproc.ForkFlags}, retTrap},
		{"mremap", unix.SYS_MREMAP, [6]uint64{0, 4096, 4096, stubproc.RemapFlags, stubproc.ReqPage}, retTrap},
		{"adding a filter", unix.SYS_SECCOMP, [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0}, retAllow},
		{"adding a filter with TSYNC", unix.SYS_SECCOMP, [6]uint64{unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC}, retTrap},
		{"getpid", unix.SYS_GETPID, [6]uint64{}, retTrap},
		{"execve", unix.SYS_EXECVE, [6]uint64{}, retTrap},
		{"write to the serving thread's pipe", unix.SYS_WRITE, [6]uint64{serveFDInStub, stubproc.ReqPage, 1}, retAllow},
		{"write to another fd", unix.SYS_WRITE, [6]uint64{1, stubproc.ReqPage, 1}, retTrap},
		{"write to the pipe's fd with high bits", unix.SYS_WRITE, [6]uint64{1<<32 | serveFDInStub, stubproc.ReqPage, 1}, retTrap},
		{"writev to the pipe", unix.SYS_WRITEV, [6]uint64{serveFDInStub, 0, 1}, retTrap},
	} {
		if got := runFilter(t, prog, x86, tc.nr, 0x401000, tc.args); got != tc.want {
			t.Errorf("%s: %#x, want %#x", tc.name, got, tc.want)
		}
	}
	if got := runFilter(t, stubFilter(true), x86, unix.SYS_CLONE, 0x401000, [6]uint64{stubproc.ForkFlags}); got != retAllow {
		t.Errorf("master fork: %#x, want allow", got)
	}
	for _, master := range []bool{false, true} {
		for _, tc := range platformtest.HostFileFilterCases() {
			want := uint32(retTrap)
			if tc.Allow {
				want = retAllow
			}
			if got := runFilter(t, stubFilter(master), x86, tc.Nr, 0x401000, tc.Args); got != want {
				t.Errorf("%s (master %v): %#x, want %#x", tc.Name, master, got, want)
			}
			// No application thread makes any of them.
			if got := runFilter(t, threadFilter(), x86, tc.Nr, siteServe+0x83, tc.Args); got != retTrap {
				t.Errorf("%s from an application thread: %#x, want trap", tc.Name, got)
			}
		}
	}
}

// TestThreadNotTraced: a stub thread running application code is not
// traced (every signal to a tracee would be a ptrace stop) and carries the
// thread filter on top of the stubs' two; the edit thread stays traced.
func TestThreadNotTraced(t *testing.T) {
	platformtest.Locked(t)
	e := newEnv(t, Options{})
	as := e.AS(t, platformtest.Cat(platformtest.Syscall, platformtest.Int3))
	c := e.Context(t)
	defer c.Release()
	st := platformtest.InitState()
	st.Regs.Rax = unix.SYS_GETPID
	platformtest.MustSwitch(t, c, as, st, platform.TrapSyscall)
	status := func(tid int) (tracer, filters string) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", as.Pid, tid))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "TracerPid:"); ok {
				tracer = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(l, "Seccomp_filters:"); ok {
				filters = strings.TrimSpace(v)
			}
		}
		return tracer, filters
	}
	th := c.threads[as]
	if tracer, filters := status(th.tid); tracer != "0" || filters != "3" {
		t.Errorf("application thread: TracerPid %s, Seccomp_filters %s; want 0 and 3", tracer, filters)
	}
	if tracer, filters := status(as.Pid); tracer == "0" || filters != "2" {
		t.Errorf("edit thread: TracerPid %s, Seccomp_filters %s; want traced, 2", tracer, filters)
	}
}
