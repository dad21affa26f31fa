package ptrace

import (
	"testing"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform/internal/stubproc"
	"uk/platform/platformtest"
)

// runFilter runs prog over an x86-64 seccomp_data for (nr, args).
func runFilter(t *testing.T, prog []stubproc.Insn, nr uint32, args [6]uint64) uint32 {
	t.Helper()
	r, err := stubproc.Eval(prog, stubproc.AuditArchX86_64, nr, 0, args)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStubFilterTable(t *testing.T) {
	prog := stubFilter(false)
	const shared = stubproc.MapFlags
	for _, tc := range []struct {
		name string
		nr   uint32
		args [6]uint64
		want uint32
	}{
		{"mmap of memory file", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, shared, 3, 0}, retAllow},
		{"mmap without MAP_POPULATE", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, stubproc.MapFlagsLazy, 3, 0}, retAllow},
		{"private mmap", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, unix.MAP_PRIVATE | unix.MAP_FIXED, 3, 0}, retKill},
		{"mmap not fixed", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, unix.MAP_SHARED | unix.MAP_POPULATE, 3, 0}, retKill},
		{"mmap with more flags", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, shared | unix.MAP_GROWSDOWN, 3, 0}, retKill},
		{"mmap flags with high bits", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, 1<<32 | shared, 3, 0}, retKill},
		{"mmap of another fd", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, shared, 4, 0}, retKill},
		{"anonymous mmap", unix.SYS_MMAP, [6]uint64{0, 4096, 3, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, ^uint64(0), 0}, retKill},
		{"fd with high bits", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, shared, 1<<32 | 3, 0}, retKill},
		{"munmap", unix.SYS_MUNMAP, [6]uint64{0x400000, 4096}, retAllow},
		{"mprotect", unix.SYS_MPROTECT, [6]uint64{0x400000, 4096, 1}, retAllow},
		{"thread clone", unix.SYS_CLONE, [6]uint64{stubproc.CloneFlags}, retAllow},
		{"fork-like clone", unix.SYS_CLONE, [6]uint64{uint64(unix.SIGCHLD)}, retKill},
		{"clone sharing less", unix.SYS_CLONE, [6]uint64{stubproc.CloneFlags &^ unix.CLONE_FILES}, retKill},
		{"pause", unix.SYS_PAUSE, [6]uint64{}, retAllow},
		{"exit", unix.SYS_EXIT, [6]uint64{}, retAllow},
		{"exit_group", unix.SYS_EXIT_GROUP, [6]uint64{}, retKill},
		{"vsyscall gettimeofday", unix.SYS_GETTIMEOFDAY, [6]uint64{}, retTrap},
		{"vsyscall time", unix.SYS_TIME, [6]uint64{}, retTrap},
		{"vsyscall getcpu", unix.SYS_GETCPU, [6]uint64{}, retTrap},
		{"open", unix.SYS_OPEN, [6]uint64{}, retKill},
		{"execve", unix.SYS_EXECVE, [6]uint64{}, retKill},
		{"ptrace", unix.SYS_PTRACE, [6]uint64{}, retKill},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runFilter(t, prog, tc.nr, tc.args); got != tc.want {
				t.Errorf("filter(%d, %#x) = %#x, want %#x", tc.nr, tc.args, got, tc.want)
			}
		})
	}
	for _, master := range []bool{false, true} {
		for _, tc := range platformtest.HostFileFilterCases() {
			want := uint32(retKill)
			if tc.Allow {
				want = retAllow
			}
			if got := runFilter(t, stubFilter(master), tc.Nr, tc.Args); got != want {
				t.Errorf("%s (master %v): %#x, want %#x", tc.Name, master, got, want)
			}
		}
	}
}

// TestMasterFilterTable: the master's filter admits what forking and
// setting up a stub needs, and the stub filter stacked on it takes that
// away again (TestStubFilterTable: fork-like clone, and below).
func TestMasterFilterTable(t *testing.T) {
	master, stub := stubFilter(true), stubFilter(false)
	page := uint64(arch.PageSize)
	for _, tc := range []struct {
		name       string
		nr         uint32
		args       [6]uint64
		wantMaster uint32
	}{
		{"fork", unix.SYS_CLONE, [6]uint64{stubproc.ForkFlags}, retAllow},
		{"thread clone", unix.SYS_CLONE, [6]uint64{stubproc.CloneFlags}, retAllow},
		{"fork sharing memory", unix.SYS_CLONE, [6]uint64{stubproc.ForkFlags | unix.CLONE_VM}, retKill},
		{"request page to ReqPage", unix.SYS_MREMAP, [6]uint64{stubproc.ReqRegion, page, page, stubproc.RemapFlags, stubproc.ReqPage}, retAllow},
		{"request page elsewhere", unix.SYS_MREMAP, [6]uint64{stubproc.ReqRegion, page, page, stubproc.RemapFlags, 0x400000}, retKill},
		{"mremap growing", unix.SYS_MREMAP, [6]uint64{stubproc.ReqRegion, page, 2 * page, stubproc.RemapFlags, stubproc.ReqPage}, retKill},
		{"mremap in place", unix.SYS_MREMAP, [6]uint64{stubproc.ReqRegion, page, page, unix.MREMAP_MAYMOVE, stubproc.ReqPage}, retKill},
		{"another filter", unix.SYS_SECCOMP, [6]uint64{unix.SECCOMP_SET_MODE_FILTER, 0, stubproc.ReqPage}, retAllow},
		{"filter with TSYNC", unix.SYS_SECCOMP, [6]uint64{unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, stubproc.ReqPage}, retKill},
		{"seccomp get action", unix.SYS_SECCOMP, [6]uint64{unix.SECCOMP_GET_ACTION_AVAIL}, retKill},
		{"mmap of memory file", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 3, stubproc.MapFlags, 3, 0}, retAllow},
		{"mmap of the request file", unix.SYS_MMAP, [6]uint64{0x400000, 4096, 1, unix.MAP_SHARED | unix.MAP_FIXED, 4, 0}, retKill},
		{"open", unix.SYS_OPEN, [6]uint64{}, retKill},
		{"kill", unix.SYS_KILL, [6]uint64{1, 9}, retKill},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runFilter(t, master, tc.nr, tc.args); got != tc.wantMaster {
				t.Errorf("master filter(%d, %#x) = %#x, want %#x", tc.nr, tc.args, got, tc.wantMaster)
			}
			if tc.nr == unix.SYS_MREMAP || tc.nr == unix.SYS_SECCOMP || tc.args[0] == stubproc.ForkFlags {
				if got := runFilter(t, stub, tc.nr, tc.args); got != retKill {
					t.Errorf("stub filter(%d, %#x) = %#x, want kill", tc.nr, tc.args, got)
				}
			}
		})
	}
}
