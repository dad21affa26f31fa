package kernel

import (
	"runtime"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/nsfs"
	"uk/fs/proc"
	"uk/fs/vfs"
	"uk/kernel/mm"
	"uk/net/netdev"
	"uk/net/socket"
	unixsock "uk/net/unix"
	"uk/platform"
)

// ProcSource returns the view of k that /proc shows (proc.Kernel).
func (k *Kernel) ProcSource() proc.Kernel { return procKernel{k} }

// procKernel adapts a Kernel to proc.Kernel.
type procKernel struct{ k *Kernel }

func (p procKernel) PIDs() []int32 {
	tgs := p.k.processes()
	out := make([]int32, 0, len(tgs))
	for _, tg := range tgs {
		out = append(out, tg.pid)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Task implements proc.Task: a live thread; else a process whose leader
// has gone, shown through another of its threads, or a zombie, through
// its last thread; else uk run's stand-in PID 1.
func (p procKernel) Task(tid int32) proc.Task {
	if t := p.k.TaskByTID(tid); t != nil {
		return procTask{t: t}
	}
	tg := p.k.ProcessByPID(tid)
	if tg == nil {
		return nil
	}
	tg.mu.Lock()
	last := tg.lastTask
	tg.mu.Unlock()
	if t := anyTask(tg); t != nil {
		// A process whose leader thread has exited before the others
		// is still /proc/PID: the leader's name, the others' memory.
		return procTask{t: t, leaderGone: true, leader: last}
	}
	if tg.isKernelInit {
		return procTask{t: p.k.kernelInit(), hollow: true}
	}
	if last == nil {
		return nil // a process being made
	}
	return procTask{t: last, leaderGone: true, hollow: true}
}

// kernelInit is the stand-in PID 1's thread.
func (k *Kernel) kernelInit() *Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.initTask
}

// anyTask returns a live task of tg, or nil.
func anyTask(tg *ThreadGroup) *Task {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if len(tg.tasks) == 0 {
		return nil
	}
	return tg.tasks[0]
}

// utsOf is the UTS namespace of the task reading a file (the sandbox's
// first for a reader that is not a task).
func (p procKernel) utsOf(ctx vfs.Context) *UTSNamespace {
	if t, ok := ctx.(*Task); ok {
		return t.UTSNamespace()
	}
	return p.k.rootUTS()
}

func (p procKernel) Hostname(ctx vfs.Context) string {
	host, _ := p.utsOf(ctx).Names()
	return host
}

// SetUTSName implements proc.UTSSetter: CAP_SYS_ADMIN, as sethostname;
// the name is cut to what the field holds (64 bytes), as a sysctl string.
func (p procKernel) SetUTSName(ctx vfs.Context, name string, domain bool) error {
	if !ctx.Credentials().HasCap(capSysAdmin) {
		return unix.EPERM
	}
	if len(name) > 64 {
		name = name[:64]
	}
	p.utsOf(ctx).SetName(name, domain)
	return nil
}

func (p procKernel) Domainname(ctx vfs.Context) string {
	_, domain := p.utsOf(ctx).Names()
	return domain
}
func (p procKernel) Release() string { return Release }
func (p procKernel) Version() string { return Version }
func (p procKernel) Cmdline() string { return p.k.Cmdline }
func (p procKernel) Boot() time.Time { return p.k.Boot }
func (p procKernel) NumCPU() int     { return runtime.NumCPU() }

// netOf is the network namespace of the task reading a file: the
// sandbox's first for a reader that is not a task (nil without a
// network).
func (p procKernel) netOf(ctx vfs.Context) *NetNamespace {
	if t, ok := ctx.(*Task); ok {
		return t.NetNamespace()
	}
	return p.k.rootNet()
}

// Interfaces implements proc.Kernel: the reader's network namespace's.
func (p procKernel) Interfaces(ctx vfs.Context) netdev.Table {
	ns := p.netOf(ctx)
	if ns == nil {
		return nil
	}
	net := ns.net
	t, err := net.Interfaces()
	if err != nil {
		return nil
	}
	return t
}

// UnixSockets implements proc.Kernel: the AF_UNIX sockets of the
// reader's network namespace (the sandbox's first for a reader that is
// not a task).
func (p procKernel) UnixSockets(ctx vfs.Context) []unixsock.SocketInfo {
	return p.k.UnixNamespace().Sockets(p.netOf(ctx))
}

// InetSockets implements proc.Kernel: the reader's network namespace's.
func (p procKernel) InetSockets(ctx vfs.Context, family, protocol int) []socket.InetInfo {
	ns := p.netOf(ctx)
	if ns == nil {
		return nil
	}
	return ns.net.InetSockets(family, protocol)
}

func (p procKernel) MemTotal() uint64 {
	if p.k.MemFile == nil {
		return 0
	}
	return uint64(p.k.MemFile.Size())
}

// MemFree is the budget less the pages in use and the kernel buffers
// charged to it (what /proc/meminfo and sysinfo report as free).
func (p procKernel) MemFree() uint64 {
	mf := p.k.MemFile
	if mf == nil {
		return 0
	}
	used := uint64(mf.UsedPages())<<arch.PageShift + uint64(mf.Charged())
	if total := p.MemTotal(); used < total {
		return total - used
	}
	return 0
}

// procTask is a task as /proc shows it. leaderGone marks /proc/PID of a
// process whose leader thread has exited: Linux shows that leader, a
// zombie ('Z') with its name, and the process's other threads' memory
// and files while any runs. hollow marks a process with no memory, descriptors or
// filesystem left to show, as a Linux kernel thread: a zombie, or uk
// run's stand-in PID 1.
type procTask struct {
	t          *Task
	leaderGone bool
	hollow     bool
	// leader is the exited leader of a leaderGone process, if known:
	// its name is the process's.
	leader *Task
}

func (p procTask) TID() int32 {
	if p.leaderGone {
		return p.t.tg.pid
	}
	return p.t.TID()
}
func (p procTask) PID() int32  { return p.t.PID() }
func (p procTask) PPID() int32 { return p.t.PPID() }
func (p procTask) TracerPID() int32 {
	if p.leaderGone {
		return 0
	}
	return p.t.TracerPID()
}
func (p procTask) PGID() int32 { return p.t.tg.ProcessGroup() }
func (p procTask) SID() int32  { return p.t.tg.Session() }
func (p procTask) Comm() string {
	if p.leader != nil {
		return p.leader.Comm()
	}
	return p.t.Comm()
}
func (p procTask) State() byte {
	switch st := p.t.ProcState(); {
	case p.leaderGone:
		return 'Z'
	case p.hollow && st == 'R':
		return 'S' // the stand-in init, which only waits
	default:
		return st
	}
}

func (p procTask) Threads() []int32 {
	tg := p.t.tg
	if p.hollow {
		return []int32{tg.pid} // its leader, as Linux lists a zombie's
	}
	tg.mu.Lock()
	out := make([]int32, 0, len(tg.tasks))
	for _, t := range tg.tasks {
		out = append(out, t.tid)
	}
	tg.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// mm is the address space /proc shows: none for a hollow process (a
// zombie's thread still points at the one it released).
func (p procTask) mm() *mm.MM {
	if p.hollow {
		return nil
	}
	return p.t.MM
}

// files is the descriptor table /proc shows: none for a hollow process.
func (p procTask) files() *FDTable {
	if p.hollow {
		return nil
	}
	return p.t.Files
}

// memRange reads [start, end) of the task's memory (argv, envp areas).
func (p procTask) memRange(start, end uint64) []byte {
	m := p.mm()
	if m == nil || end <= start || end-start > 1<<20 {
		return nil
	}
	b := make([]byte, end-start)
	if m.CopyIn(start, b) != nil {
		return nil
	}
	return b
}

func (p procTask) Cmdline() []byte {
	if p.mm() == nil {
		return nil
	}
	return p.memRange(p.mm().ArgStart, p.mm().ArgEnd)
}

// HasMemory implements proc.Task.
func (p procTask) HasMemory() bool { return p.mm() != nil }

// Auxv implements proc.Task.
func (p procTask) Auxv() []byte {
	if p.mm() == nil {
		return nil
	}
	return p.mm().Auxv
}

func (p procTask) Environ() []byte {
	if p.mm() == nil {
		return nil
	}
	return p.memRange(p.mm().EnvStart, p.mm().EnvEnd)
}

func (p procTask) Maps() []proc.Mapping {
	if p.mm() == nil {
		return nil
	}
	vmas := p.mm().VMAs()
	out := make([]proc.Mapping, 0, len(vmas))
	for i := range vmas {
		out = append(out, mappingOf(&vmas[i]))
	}
	return append(out, p.specialMappings()...)
}

// mappingOf is v's line of /proc/PID/maps.
func mappingOf(v *mm.VMA) proc.Mapping {
	m := proc.Mapping{Start: v.Start, End: v.End, Read: v.Prot&platform.Read != 0,
		Write: v.Prot&platform.Write != 0, Exec: v.Prot&platform.Exec != 0, Shared: v.Shared,
		Dev: v.Dev, Ino: v.Ino, Name: v.Name}
	if v.Ino != 0 {
		m.Offset = v.Pgoff << arch.PageShift
	}
	return m
}

// specialMappings are what the platform keeps in every address space (the
// ptrace stub's pages), shown after the application's own mappings, below
// which they lie.
func (p procTask) specialMappings() []proc.Mapping {
	sm, ok := p.t.k.Platform.(platform.SpecialMapper)
	if !ok {
		return nil
	}
	var out []proc.Mapping
	for _, s := range sm.SpecialMappings() {
		out = append(out, proc.Mapping{Start: s.Start, End: s.End, Read: s.Access&platform.Read != 0,
			Write: s.Access&platform.Write != 0, Exec: s.Access&platform.Exec != 0, Name: s.Name})
	}
	return out
}

// proc and mm keep PSS in the same fixed point: both array lengths are
// valid only when the shifts are equal.
var (
	_ [proc.PSSShift - mm.PSSShift]struct{}
	_ [mm.PSSShift - proc.PSSShift]struct{}
)

// Smaps implements proc.Task.
func (p procTask) Smaps() []proc.MappingUsage {
	if p.mm() == nil {
		return nil
	}
	us := p.mm().Usage()
	out := make([]proc.MappingUsage, 0, len(us))
	for i := range us {
		u := &us[i]
		out = append(out, proc.MappingUsage{Mapping: mappingOf(&u.VMA), Flags: vmFlags(&u.VMA),
			Locked: u.VMA.Flags&mm.Locked != 0, Private: u.Private, PrivateShared: u.PrivateShared,
			Object: u.Object, ObjectShared: u.ObjectShared, PSSPrivate: u.PSSPrivate, PSSObject: u.PSSObject})
	}
	for _, m := range p.specialMappings() {
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{m.Read, "rd"}, {m.Write, "wr"}, {m.Exec, "ex"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		out = append(out, proc.MappingUsage{Mapping: m, Flags: flags, Platform: true})
	}
	return out
}

// vmFlags are v's VmFlags names in Linux's order (its flag bits'): the
// rights, the rights mprotect may give (mr, mw, me), a shared mapping
// (sh when it may write its object, ms always), a stack that grows down,
// mlock, MADV_DONTFORK, MLOCK_ONFAULT, accounted private writable memory
// (ac), MADV_WIPEONFORK, and mseal.
func vmFlags(v *mm.VMA) []string {
	var out []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{v.Prot&platform.Read != 0, "rd"},
		{v.Prot&platform.Write != 0, "wr"},
		{v.Prot&platform.Exec != 0, "ex"},
		{v.Shared && v.MaxProt&platform.Write != 0, "sh"},
		{v.MaxProt&platform.Read != 0, "mr"},
		{v.MaxProt&platform.Write != 0, "mw"},
		{v.MaxProt&platform.Exec != 0, "me"},
		{v.Shared, "ms"},
		{v.GrowsDown, "gd"},
		{v.Flags&mm.Locked != 0, "lo"},
		{v.Flags&mm.DontFork != 0, "dc"},
		{v.Flags&mm.LockOnFault != 0, "lf"},
		{!v.Shared && v.Prot&platform.Write != 0, "ac"},
		{v.Flags&mm.WipeOnFork != 0, "wf"},
		{v.Flags&mm.Sealed != 0, "sl"},
	} {
		if f.on {
			out = append(out, f.name)
		}
	}
	return out
}

func (p procTask) FDs() []int32 {
	if p.files() == nil {
		return nil
	}
	var out []int32
	p.files().ForEach(func(n int32, _ *vfs.FileDescription, _ bool) { out = append(out, n) })
	return out
}

func (p procTask) FD(n int32) (*vfs.FileDescription, bool, error) {
	if p.files() == nil {
		return nil, false, errNoFiles
	}
	return p.files().Get(n)
}

func (p procTask) FSContext() *vfs.FSContext {
	if p.hollow {
		return nil
	}
	return p.t.FS
}

func (p procTask) Exe() string {
	if p.mm() == nil {
		return ""
	}
	return p.mm().Exe
}

func (p procTask) Credentials() *vfs.Credentials { return p.t.Credentials() }
func (p procTask) Umask() uint32                 { return p.t.Umask() }

func (p procTask) Confinement() (noNewPrivs bool, seccompMode, seccompFilters int) {
	return p.t.NoNewPrivs(), p.t.SeccompMode(), p.t.SeccompFilters()
}

func (p procTask) Sched() (nice, policy, rtPriority int32) {
	a := p.t.Sched()
	return a.Nice, a.Policy, a.RTPriority
}

func (p procTask) Signals() proc.Signals {
	s := proc.Signals{Pending: uint64(p.t.PendingSignals()), Blocked: uint64(p.t.SigMask())}
	for sig := 1; sig <= 64; sig++ {
		a := p.t.tg.SigAction(sig)
		switch a.Handler {
		case 0: // SIG_DFL
		case arch.SIG_IGN:
			s.Ignored |= 1 << (sig - 1)
		default:
			s.Caught |= 1 << (sig - 1)
		}
	}
	return s
}

func (p procTask) CPUTime() (user, sys time.Duration) {
	cpu, s := p.t.tg.CPUTime(), p.t.tg.SysTime()
	return time.Duration(max(cpu-s, 0)), time.Duration(s)
}

func (p procTask) ChildrenCPUTime() (user, sys time.Duration) {
	cpu, s := p.t.tg.ChildrenCPU(), p.t.tg.ChildrenSys()
	return time.Duration(max(cpu-s, 0)), time.Duration(s)
}

func (p procTask) VoluntarySwitches() int64 { return p.t.VoluntarySwitches() }

func (p procTask) Faults() (minflt, cminflt int64) {
	return p.t.tg.MinorFaults(), p.t.tg.ChildrenMinorFaults()
}

// Memory is the address space's size and its resident set: the private
// pages the MM holds, every one of them mapped (a fault window's pages
// too, which the program has not touched yet but are there all the
// same), and the pages its shared mappings' objects (tmpfs files, shared
// memory) hold within them.
func (p procTask) Memory() (vsize, anon, shmem uint64) {
	if p.mm() == nil {
		return 0, 0, 0
	}
	for _, v := range p.mm().VMAs() {
		vsize += v.End - v.Start
	}
	return vsize, uint64(p.mm().PrivatePages()) << arch.PageShift, uint64(p.mm().SharedResidentPages()) << arch.PageShift
}

// IO implements proc.Task.
func (p procTask) IO(thread bool) proc.IOCounters {
	c := p.t.tg.IO()
	if thread && !p.leaderGone {
		c = p.t.IO()
	}
	return proc.IOCounters{RChar: c.RChar, WChar: c.WChar, SysCR: c.SysCR, SysCW: c.SysCW}
}

func (p procTask) OOMScoreAdj() int { return p.t.tg.OOMScoreAdj() }

func (p procTask) SetOOMScoreAdj(v int, privileged bool) error {
	return p.t.tg.SetOOMScoreAdj(v, privileged)
}

func (p procTask) OOMScore() int { return p.t.tg.OOMScore() }

func (p procTask) Personality() uint32 { return p.t.Personality() }

func (p procTask) DumpFilter() uint32 { return p.t.tg.DumpFilter() }

func (p procTask) SetDumpFilter(v uint64) { p.t.tg.SetDumpFilter(v) }

// errNoFiles is returned for a task whose descriptor table is gone.
var errNoFiles error = unix.EBADF

func (p procTask) TimerSlack() uint64 { return p.t.TimerSlack() }

func (p procTask) SetTimerSlack(ns uint64) { p.t.SetTimerSlack(ns) }

func (p procTask) LockedMemory() uint64 {
	if p.mm() == nil {
		return 0
	}
	return p.mm().LockedBytes()
}

// Namespace implements proc.Task. A zombie has left its namespaces (no
// links, as Linux's), the stand-in init is in the sandbox's first ones.
func (p procTask) Namespace(name string) nsfs.Namespace {
	if p.hollow && !p.t.tg.isKernelInit {
		return nil
	}
	return p.t.Namespace(name)
}

// TimensOffsets implements proc.Task.
func (p procTask) TimensOffsets() string { return p.t.TimeNSForChildren().OffsetsText() }

// SetTimensOffsets implements proc.Task.
func (p procTask) SetTimensOffsets(text string) error {
	return p.t.TimeNSForChildren().SetOffsets(p.t.k, text)
}

// Uptime implements proc.Task.
func (p procTask) Uptime() time.Duration { return p.t.k.Uptime(p.t) }

// NamespaceNames implements proc.Kernel.
func (p procKernel) NamespaceNames() []string { return NamespaceNames }

// NamespacePath implements proc.Kernel.
func (p procKernel) NamespacePath(ns nsfs.Namespace) vfs.Path { return p.k.NamespacePath(ns) }

// Uptime implements proc.Kernel.
func (p procKernel) Uptime() time.Duration { return p.k.Uptime(nil) }

// KernelConfig implements proc.Kernel.
func (p procKernel) KernelConfig() string { return KernelConfig }

// Started implements proc.Task.
func (p procTask) Started() time.Duration { return p.t.tg.startBoot }

// PeakRSS implements proc.Task: the high-water mark of the memory the
// process runs in now, as Linux's VmHWM.
func (p procTask) PeakRSS() uint64 {
	if p.mm() == nil {
		return 0
	}
	return uint64(p.mm().PeakPages()) << arch.PageShift
}

// OpenMemory implements proc.Task: /proc/PID/mem opens if the opener may
// ptrace the process (PTRACE_MODE_ATTACH; EACCES, as Linux's mm_access,
// otherwise).
func (p procTask) OpenMemory(ctx vfs.Context) (proc.Memory, error) {
	opener, ok := ctx.(*Task)
	if !ok {
		return nil, unix.EACCES
	}
	m, err := opener.RemoteMM(p.t.tid)
	if err == unix.EPERM {
		err = unix.EACCES
	}
	if err != nil {
		return nil, err
	}
	return remoteMemory{m}, nil
}

// remoteMemory is a process's memory held for /proc/PID/mem.
type remoteMemory struct{ m *mm.MM }

func (r remoteMemory) Access(addr uint64, buf []byte, write bool) (int, error) {
	done := 0
	for done < len(buf) {
		at := addr + uint64(done)
		n := min(len(buf)-done, arch.PageSize-int(at%arch.PageSize))
		if r.m.AccessForced(at, buf[done:done+n], write) != nil {
			break
		}
		done += n
	}
	if done == 0 && len(buf) > 0 {
		return 0, unix.EIO
	}
	return done, nil
}

func (r remoteMemory) Release() { r.m.DecUsers() }

// PageMap implements proc.Memory.
func (r remoteMemory) PageMap(start uint64, out []uint64) { r.m.PageMap(start, out) }

// UserEnd implements proc.Memory.
func (r remoteMemory) UserEnd() uint64 { return r.m.Layout().MaxAddr }
