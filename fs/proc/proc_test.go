package proc

import (
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/nsfs"
	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/kernel/memfile"
	"uk/net/netdev"
	"uk/net/socket"
	unixsock "uk/net/unix"
)

// fakeKernel has one process (pid 7) whose single thread is the caller.
type fakeKernel struct {
	fsc  *vfs.FSContext
	net  netdev.Table
	unix []unixsock.SocketInfo
	inet map[[2]int][]socket.InetInfo
	// oomAdj is the one task's oom_score_adj, which the kernel keeps.
	oomAdj int
}

func (k *fakeKernel) PIDs() []int32 { return []int32{7} }

func (k *fakeKernel) NamespaceNames() []string              { return nil }
func (k *fakeKernel) NamespacePath(nsfs.Namespace) vfs.Path { return vfs.Path{} }
func (k *fakeKernel) Uptime() time.Duration                 { return time.Second }
func (k *fakeKernel) KernelConfig() string                  { return "CONFIG_MMU=y\n" }
func (k *fakeKernel) Task(tid int32) Task {
	if tid == 7 {
		return &fakeTask{k: k}
	}
	return nil
}
func (k *fakeKernel) Hostname(vfs.Context) string         { return "host" }
func (k *fakeKernel) Domainname(vfs.Context) string       { return "(none)" }
func (k *fakeKernel) Release() string                     { return "6.1.0" }
func (k *fakeKernel) Version() string                     { return "#1" }
func (k *fakeKernel) Cmdline() string                     { return "quiet" }
func (k *fakeKernel) Boot() time.Time                     { return time.Now().Add(-time.Minute) }
func (k *fakeKernel) MemTotal() uint64                    { return 1 << 30 }
func (k *fakeKernel) MemFree() uint64                     { return 1 << 29 }
func (k *fakeKernel) NumCPU() int                         { return 2 }
func (k *fakeKernel) Interfaces(vfs.Context) netdev.Table { return k.net }
func (k *fakeKernel) UnixSockets(vfs.Context) []unixsock.SocketInfo {
	return k.unix
}
func (k *fakeKernel) InetSockets(_ vfs.Context, family, protocol int) []socket.InetInfo {
	return k.inet[[2]int{family, protocol}]
}

type fakeTask struct{ k *fakeKernel }

func (t *fakeTask) TID() int32                             { return 7 }
func (t *fakeTask) PID() int32                             { return 7 }
func (t *fakeTask) PPID() int32                            { return 1 }
func (t *fakeTask) PGID() int32                            { return 7 }
func (t *fakeTask) SID() int32                             { return 7 }
func (t *fakeTask) Confinement() (bool, int, int)          { return false, 0, 0 }
func (t *fakeTask) LockedMemory() uint64                   { return 0 }
func (t *fakeTask) TimerSlack() uint64                     { return 50000 }
func (t *fakeTask) SetTimerSlack(uint64)                   {}
func (t *fakeTask) Namespace(string) nsfs.Namespace        { return nil }
func (t *fakeTask) TimensOffsets() string                  { return "" }
func (t *fakeTask) SetTimensOffsets(string) error          { return nil }
func (t *fakeTask) PeakRSS() uint64                        { return 0 }
func (t *fakeTask) Started() time.Duration                 { return time.Second / 2 }
func (t *fakeTask) Uptime() time.Duration                  { return time.Second }
func (t *fakeTask) Comm() string                           { return "prog" }
func (t *fakeTask) State() byte                            { return 'R' }
func (t *fakeTask) TracerPID() int32                       { return 0 }
func (t *fakeTask) OpenMemory(vfs.Context) (Memory, error) { return nil, unix.EACCES }
func (t *fakeTask) Threads() []int32                       { return []int32{7} }
func (t *fakeTask) Cmdline() []byte                        { return []byte("prog\x00arg\x00") }
func (t *fakeTask) Environ() []byte                        { return []byte("A=1\x00") }
func (t *fakeTask) FDs() []int32                           { return nil }
func (t *fakeTask) FSContext() *vfs.FSContext              { return t.k.fsc }
func (t *fakeTask) Exe() string                            { return "/prog" }
func (t *fakeTask) Umask() uint32                          { return 0o22 }
func (t *fakeTask) Signals() Signals                       { return Signals{Blocked: 1} }
func (t *fakeTask) Credentials() *vfs.Credentials {
	return vfs.RootCredentials()
}
func (t *fakeTask) CPUTime() (time.Duration, time.Duration)         { return time.Second, 0 }
func (t *fakeTask) ChildrenCPUTime() (time.Duration, time.Duration) { return 0, 0 }
func (t *fakeTask) Faults() (int64, int64)                          { return 0, 0 }
func (t *fakeTask) VoluntarySwitches() int64                        { return 0 }
func (t *fakeTask) Memory() (uint64, uint64, uint64)                { return 1 << 20, 0, 0 }
func (t *fakeTask) OOMScoreAdj() int                                { return t.k.oomAdj }
func (t *fakeTask) HasMemory() bool                                 { return true }
func (t *fakeTask) Auxv() []byte                                    { return nil }
func (t *fakeTask) IO(bool) IOCounters                              { return IOCounters{RChar: 5} }
func (t *fakeTask) OOMScore() int                                   { return 0 }
func (t *fakeTask) SetOOMScoreAdj(v int, _ bool) error {
	t.k.oomAdj = v
	return nil
}
func (t *fakeTask) Sched() (int32, int32, int32) { return 0, 0, 0 }
func (t *fakeTask) FD(int32) (*vfs.FileDescription, bool, error) {
	return nil, false, unix.EBADF
}
func (t *fakeTask) Maps() []Mapping {
	return []Mapping{{Start: 0x400000, End: 0x401000, Read: true, Exec: true, Name: "/prog"},
		{Start: 0x7000, End: 0x8000, Read: true, Write: true}}
}

func (t *fakeTask) Personality() uint32 { return 0x40000 }

func (t *fakeTask) DumpFilter() uint32 { return 0x33 }

func (t *fakeTask) SetDumpFilter(uint64) {}

func (t *fakeTask) Smaps() []MappingUsage {
	return []MappingUsage{{Mapping: Mapping{Start: 0x7000, End: 0x10000, Read: true, Write: true},
		Flags: []string{"rd", "wr", "mr", "mw", "me", "ac"}, Private: 5, PrivateShared: 2,
		PSSPrivate: 3<<(12+PSSShift) + 2<<(12+PSSShift)/3}, // three pages alone, two shared by three
		{Mapping: Mapping{Start: 0x20000, End: 0x22000, Read: true, Shared: true}, Flags: []string{"rd", "mr", "ms"},
			Object: 2, ObjectShared: true, Locked: true, PSSObject: 2 << (12 + PSSShift) / 2}}
}

// TestSmaps checks smaps' and smaps_rollup's format and arithmetic: Rss,
// Pss rounded down from its fixed point, pages shared and not, Locked as
// the locked mapping's Pss.
func TestSmaps(t *testing.T) {
	v, at := setup(t)
	got, err := read(t, v, at, "/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"00007000-00010000 rw-p 00000000 00:00 0 \nSize:                 36 kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\n" +
			"Rss:                  20 kB\nPss:                  14 kB\nPss_Dirty:            14 kB\nShared_Clean:          0 kB\n" +
			"Shared_Dirty:          8 kB\nPrivate_Clean:         0 kB\nPrivate_Dirty:        12 kB\nReferenced:           20 kB\n" +
			"Anonymous:            20 kB\nKSM:                   0 kB\n",
		"Locked:                0 kB\nTHPeligible:           0\nVmFlags: rd wr mr mw me ac \n00020000-00022000 r--s ",
		"Rss:                   8 kB\nPss:                   4 kB\n",
		"Shared_Dirty:          8 kB\nPrivate_Clean:         0 kB\nPrivate_Dirty:         0 kB\n",
		"Anonymous:             0 kB\n",
		"Locked:                4 kB\nTHPeligible:           0\nVmFlags: rd mr ms \n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("smaps lacks %q:\n%s", want, got)
		}
	}
	got, err = read(t, v, at, "/proc/self/smaps_rollup")
	want := "00007000-00022000 ---p 00000000 00:00 0                                  [rollup]\n" +
		"Rss:                  28 kB\nPss:                  18 kB\nPss_Dirty:            18 kB\nPss_Anon:             14 kB\n" +
		"Pss_File:              0 kB\nPss_Shmem:             4 kB\nShared_Clean:          0 kB\nShared_Dirty:         16 kB\n" +
		"Private_Clean:         0 kB\nPrivate_Dirty:        12 kB\nReferenced:           28 kB\nAnonymous:            20 kB\n"
	if err != nil || !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "Locked:                4 kB\n") {
		t.Errorf("smaps_rollup: %q, %v; want prefix %q and Locked 4 kB", got, err, want)
	}
}

// budgetCtx is ctx with a sandbox memory budget.
type budgetCtx struct {
	ctx
	b *vfstest.Budget
}

func (c budgetCtx) MemoryBudget() vfs.Charger { return c.b }

// TestGeneratedCharged: what an open proc file keeps of its last
// generation is charged to the reader's sandbox until it is regenerated
// or the file is closed, and a generation the budget cannot cover fails
// with ENOMEM.
func TestGeneratedCharged(t *testing.T) {
	v, at := setup(t)
	b := &vfstest.Budget{Limit: 1 << 20}
	c := budgetCtx{b: b}
	d, err := v.OpenAt(c, at, "/proc/self/smaps", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := d.Read(c, buf); err != nil {
		t.Fatal(err)
	}
	size := b.Used()
	if size < 500 {
		t.Fatalf("%d bytes charged after a read of smaps, want its whole contents", size)
	}
	if _, err := d.PRead(c, buf, 0); err != nil || b.Used() != size {
		t.Errorf("after a second generation: %v, %d bytes charged, want %d", err, b.Used(), size)
	}
	b.Limit = size - 1
	if _, err := d.PRead(c, buf, 0); err != unix.ENOMEM || b.Used() != 0 {
		t.Errorf("a generation beyond the budget: %v, %d bytes charged; want ENOMEM, 0", err, b.Used())
	}
	b.Limit = 1 << 20
	if _, err := d.PRead(c, buf, 0); err != nil || b.Used() != size {
		t.Errorf("again within the budget: %v, %d bytes charged, want %d", err, b.Used(), size)
	}
	d.DecRef()
	if b.Used() != 0 {
		t.Errorf("%d bytes still charged once the file is closed", b.Used())
	}
}

// TestParseCUint: numbers as kstrtouint with base 0 reads them.
func TestParseCUint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		err  error
	}{
		{"51", 51, nil}, {"0x33", 0x33, nil}, {"0X1fF", 0x1ff, nil}, {"017", 15, nil}, {"0", 0, nil},
		{"", 0, unix.EINVAL}, {"0x", 0, unix.EINVAL}, {"08", 0, unix.EINVAL}, {"1_0", 0, unix.EINVAL},
		{"0b1", 0, unix.EINVAL}, {"-1", 0, unix.EINVAL}, {"12a", 0, unix.EINVAL}, {" 1", 0, unix.EINVAL},
		{"4294967295", 1<<32 - 1, nil}, {"4294967296", 0, unix.ERANGE}, {"0x100000000", 0, unix.ERANGE},
	} {
		if v, err := parseCUint(tc.in); v != tc.want || err != tc.err {
			t.Errorf("parseCUint(%q) = %d, %v; want %d, %v", tc.in, v, err, tc.want, tc.err)
		}
	}
}

// ctx is the calling task (tid 7) as a vfs.Context.
type ctx struct{}

func (ctx) Credentials() *vfs.Credentials { return vfs.RootCredentials() }
func (ctx) Umask() uint32                 { return 0 }
func (ctx) Block(<-chan struct{}) error   { return unix.EINTR }
func (ctx) CopyIn(uint64, []byte) error   { return unix.EFAULT }
func (ctx) CopyOut(uint64, []byte) error  { return unix.EFAULT }
func (ctx) TID() int32                    { return 7 }

func setup(t *testing.T) (*vfs.VFS, vfs.At) {
	mf, err := memfile.New(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	v := vfs.New()
	root := v.MountRoot(tmpfs.New(mf, tmpfs.Options{}), "tmpfs", "root", 0)
	at := vfs.At{Root: root, Dir: root}
	for _, d := range []string{"proc", "prog"} {
		if err := v.MkdirAt(ctx{}, at, d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	k := &fakeKernel{fsc: vfs.NewFSContext(root), net: fakeTable{}, unix: fakeUnixSockets, inet: fakeInetSockets}
	v.RegisterType("proc", &Type{Kernel: k, Opts: Options{Filesystems: []string{"proc", "tmpfs"}}})
	if err := v.Mount(ctx{}, nil, at, "proc", "/proc", "proc", 0, ""); err != nil {
		t.Fatal(err)
	}
	return v, at
}

func read(t *testing.T, v *vfs.VFS, at vfs.At, path string) (string, error) {
	d, err := v.OpenAt(ctx{}, at, path, unix.O_RDONLY, 0)
	if err != nil {
		return "", err
	}
	defer d.DecRef()
	var b strings.Builder
	buf := make([]byte, 7) // small reads exercise offsets
	for {
		n, err := d.Read(ctx{}, buf)
		b.Write(buf[:n])
		if err == io.EOF || (err == nil && n == 0) {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
	}
}

func TestFiles(t *testing.T) {
	v, at := setup(t)
	for _, tc := range []struct{ path, want string }{
		{"/proc/self/comm", "prog\n"},
		{"/proc/7/cmdline", "prog\x00arg\x00"},
		{"/proc/self/stat", "7 (prog) R 1 7 7 0 -1 "},
		{"/proc/self/status", "Name:\tprog\nUmask:\t0022\nState:\tR (running)\nTgid:\t7\n"},
		{"/proc/self/maps", "00400000-00401000 r-xp 00000000 00:00 0                                  /prog\n00007000-00008000 rw-p 00000000 00:00 0 \n"},
		{"/proc/self/mounts", "root / tmpfs rw,relatime 0 0\nproc /proc proc rw,relatime 0 0\n"},
		{"/proc/cmdline", "quiet\n"},
		{"/proc/filesystems", "nodev\tproc\nnodev\ttmpfs\n"},
		{"/proc/sys/kernel/hostname", "host\n"},
		{"/proc/sys/kernel/osrelease", "6.1.0\n"},
		{"/proc/self/task/7/comm", "prog\n"},
		{"/proc/7/oom_score_adj", "0\n"},
		{"/proc/self/personality", "00040000\n"},
	} {
		got, err := read(t, v, at, tc.path)
		if err != nil || !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, %v; want prefix %q", tc.path, got, err, tc.want)
		}
	}
	for _, p := range []string{"/proc/8/stat", "/proc/self/nope", "/proc/007/stat", "/proc/sys/nope", "/proc/self/task/8"} {
		if _, err := read(t, v, at, p); err != unix.ENOENT {
			t.Errorf("%s: %v, want ENOENT", p, err)
		}
	}
	if l, err := v.ReadlinkAt(ctx{}, at, "/proc/self"); err != nil || l != "7" {
		t.Errorf("readlink /proc/self: %q, %v", l, err)
	}
	if l, err := v.ReadlinkAt(ctx{}, at, "/proc/self/exe"); err != nil || l != "/prog" {
		t.Errorf("readlink /proc/self/exe: %q, %v", l, err)
	}
	// exe is a magic link: it resolves to the file itself.
	if st, err := v.StatAt(ctx{}, at, "/proc/self/exe", 0); err != nil || !st.IsDir() {
		t.Errorf("stat /proc/self/exe: %v %v (want the /prog directory)", st.Mode, err)
	}
	if err := v.MkdirAt(ctx{}, at, "/proc/x", 0o755); err != unix.EPERM {
		t.Errorf("mkdir in /proc: %v, want EPERM", err)
	}
	if _, err := v.OpenAt(ctx{}, at, "/proc/cpuinfo", unix.O_WRONLY, 0); err != unix.EACCES {
		t.Errorf("open /proc/cpuinfo for writing: %v, want EACCES", err)
	}
}

func TestOOMScoreAdj(t *testing.T) {
	v, at := setup(t)
	d, err := v.OpenAt(ctx{}, at, "/proc/self/oom_score_adj", unix.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write(ctx{}, []byte("-500\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write(ctx{}, []byte("2000")); err != unix.EINVAL {
		t.Errorf("write 2000: %v, want EINVAL", err)
	}
	d.DecRef()
	if got, _ := read(t, v, at, "/proc/7/oom_score_adj"); got != "-500\n" {
		t.Errorf("oom_score_adj = %q", got)
	}
}

func TestListing(t *testing.T) {
	v, at := setup(t)
	d, err := v.OpenAt(ctx{}, at, "/proc", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer d.DecRef()
	var names []string
	if err := d.Getdents(ctx{}, func(e vfs.Dirent) bool { names = append(names, e.Name); return true }); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(names, " ")
	for _, want := range []string{". ", ".. ", "self", "cpuinfo", "sys", " 7"} {
		if !strings.Contains(all, want) {
			t.Errorf("/proc listing %q lacks %q", all, want)
		}
	}
}

func TestParseNum(t *testing.T) {
	for _, tc := range []struct {
		in string
		n  int32
		ok bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"2147483647", 2147483647, true},
		{"", 0, false}, {"07", 0, false}, {"-1", 0, false}, {"1a", 0, false}, {"2147483648", 0, false}, {"99999999999", 0, false},
	} {
		n, ok := parseNum(tc.in)
		if n != tc.n || ok != tc.ok {
			t.Errorf("parseNum(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.n, tc.ok)
		}
	}
}

func TestMountOptsEscape(t *testing.T) {
	if got := mountOpts(unix.MS_RDONLY | unix.MS_NOSUID); got != "ro,nosuid,relatime" {
		t.Errorf("mountOpts = %q", got)
	}
	if got := escape("a b\\c"); got != `a\040b\134c` {
		t.Errorf("escape = %q", got)
	}
}

// TestExeRacesRename follows /proc/self/exe (a magic link that walks the
// recorded name) while renames queue for the namespace lock: the walk
// already holds the lock for reading, and taking it again behind a
// waiting renamer deadlocked (TestBindEscapes hung in ~2 of 10 runs as
// busybox re-executed itself through /proc/self/exe beside mv).
func TestExeRacesRename(t *testing.T) {
	v, at := setup(t)
	for _, d := range []string{"/a", "/a/b"} {
		if err := v.MkdirAt(ctx{}, at, d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := v.StatAt(ctx{}, at, "/proc/self/exe", 0); err != nil {
				t.Errorf("stat /proc/self/exe: %v", err)
				return
			}
		}
	}()
	renames := make(chan struct{})
	go func() {
		defer close(renames)
		for {
			select {
			case <-done:
				return
			default:
			}
			_ = v.RenameAt2(ctx{}, at, "/a/b", at, "/x", 0)
			_ = v.RenameAt2(ctx{}, at, "/x", at, "/a/b", 0)
		}
	}()
	select {
	case <-done:
		<-renames
	case <-time.After(20 * time.Second):
		close(stop)
		t.Fatal("following /proc/self/exe beside renames did not finish in 20s: deadlocked on the namespace lock")
	}
}
