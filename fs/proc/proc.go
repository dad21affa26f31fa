// Package proc is uk's procfs: /proc/self and /proc/[pid] (stat, status,
// cmdline, environ, maps, fd/, fdinfo/, exe, cwd, root, mounts, mountinfo,
// comm, task/, oom_score_adj...), the system files (cpuinfo, meminfo,
// uptime, loadavg, stat, filesystems, cmdline, version, mounts),
// /proc/sys (kernel/hostname, osrelease, pid_max, random/boot_id,
// random/uuid, fs/pipe-max-size, ...) and /proc/sysvipc (shm, msg, sem).
//
// proc knows nothing of the kernel's types: the kernel hands it a Kernel
// (and Tasks through it), small interfaces that answer what the files
// show. File contents are generated when a read starts at offset 0, as
// Linux's seq_file does, so a reader that rewinds sees fresh values.
// Directories whose entries follow the tasks (the root, fd/, task/) are
// vfs.DynamicDir; everything else is built once.
package proc

import (
	"crypto/rand"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
	"uk/fs/nsfs"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/net/netdev"
	"uk/net/socket"
	unixsock "uk/net/unix"
)

// UTSSetter is implemented by kernels whose UTS names proc may change
// (/proc/sys/kernel/hostname and domainname): name for the caller's
// namespace, EPERM without the right to, truncated as sethostname would
// refuse past 64 bytes (sysctl strings keep what fits).
type UTSSetter interface {
	SetUTSName(ctx vfs.Context, name string, domain bool) error
}

// Kernel is what proc asks of the kernel.
type Kernel interface {
	// PIDs lists the live thread group ids, ascending.
	PIDs() []int32
	// Task returns the live task with thread id tid, or nil.
	Task(tid int32) Task
	// Hostname is the UTS nodename of the reader's namespace; Release
	// and Version what uname shows.
	Hostname(ctx vfs.Context) string
	// Domainname is the UTS domain name ("(none)" until set).
	Domainname(ctx vfs.Context) string
	Release() string
	Version() string
	// Cmdline is the kernel command line (/proc/cmdline, without newline).
	Cmdline() string
	// Boot is when the kernel started.
	Boot() time.Time
	// MemTotal and MemFree are the sandbox memory in bytes.
	MemTotal() uint64
	MemFree() uint64
	// NumCPU is the number of CPUs the sandbox shows.
	NumCPU() int
	// Interfaces is the network's interface table (nil when the sandbox
	// has no network).
	Interfaces(ctx vfs.Context) netdev.Table
	// UnixSockets are the AF_UNIX sockets of the reader's network
	// namespace, in inode order.
	UnixSockets(ctx vfs.Context) []unixsock.SocketInfo
	// InetSockets are the sockets of an Internet family and protocol
	// (IPPROTO_TCP, IPPROTO_UDP) in the reader's network namespace, in
	// inode order (none without a network).
	InetSockets(ctx vfs.Context, family, protocol int) []socket.InetInfo
	// NamespaceNames are the links of /proc/PID/ns; NamespacePath gives
	// a new path to a namespace's file, for such a link to resolve to.
	NamespaceNames() []string
	NamespacePath(ns nsfs.Namespace) vfs.Path
	// Uptime is the host's time since boot (CLOCK_BOOTTIME).
	Uptime() time.Duration
	// KernelConfig is the build configuration /proc/config.gz holds,
	// uncompressed.
	KernelConfig() string
}

// Task is one thread as proc shows it. Process-wide values (maps, fds,
// cwd, cmdline) are those of its thread group.
type Task interface {
	TID() int32
	// PID is the thread group id; PPID the parent's; PGID and SID the
	// process group and session.
	PID() int32
	PPID() int32
	// TracerPID is the process tracing this thread (ptrace), 0 if none.
	TracerPID() int32
	PGID() int32
	SID() int32
	Comm() string
	// State is the one-letter state /proc/PID/stat shows ('R', 'S', 'Z').
	State() byte
	// Threads lists the thread ids of the group, ascending.
	Threads() []int32
	// Cmdline and Environ are the argument and environment areas of the
	// process's memory (NUL-separated).
	Cmdline() []byte
	Environ() []byte
	// HasMemory reports whether the task has an address space (not a
	// zombie, not uk run's stand-in init).
	HasMemory() bool
	// Auxv is the auxiliary vector exec gave the program.
	Auxv() []byte
	Maps() []Mapping
	// Smaps is Maps with what each mapping holds in memory.
	Smaps() []MappingUsage
	// FDs lists the open descriptor numbers, ascending; FD returns one
	// with a reference the caller drops (DecRef), and its FD_CLOEXEC.
	FDs() []int32
	FD(n int32) (*vfs.FileDescription, bool, error)
	// FSContext is the root and cwd (nil without a filesystem).
	FSContext() *vfs.FSContext
	// Exe is the executable's absolute path inside the sandbox.
	Exe() string
	Credentials() *vfs.Credentials
	Umask() uint32
	Signals() Signals
	// CPUTime is the user and system time used by the thread group.
	CPUTime() (user, sys time.Duration)
	// ChildrenCPUTime is the user and system time of the children the
	// thread group waited for (and theirs).
	ChildrenCPUTime() (user, sys time.Duration)
	// Faults is the page faults of the thread group (minor: none needs
	// I/O that counts as major) and of the children it waited for.
	Faults() (minflt, cminflt int64)
	// VoluntarySwitches is the thread's waits in the kernel (status's
	// voluntary_ctxt_switches).
	VoluntarySwitches() int64
	// Memory reports the virtual size and the resident set in bytes:
	// private pages (RssAnon) and the pages of shared mappings their
	// objects hold (RssShmem).
	Memory() (vsize, anon, shmem uint64)
	// IO is /proc/PID/io's counters: the process's (its threads', live
	// and exited, and its waited-for children's), or with thread the
	// thread's own (/proc/PID/task/TID/io).
	IO(thread bool) IOCounters
	// OOMScoreAdj and SetOOMScoreAdj are the process's oom_score_adj
	// (SetOOMScoreAdj checks the range and the writer's privilege:
	// EINVAL, EACCES); OOMScore is its /proc/PID/oom_score.
	OOMScoreAdj() int
	SetOOMScoreAdj(v int, privileged bool) error
	OOMScore() int
	// Personality is the thread's execution domain (personality(2)).
	Personality() uint32
	// DumpFilter and SetDumpFilter are /proc/PID/coredump_filter.
	DumpFilter() uint32
	SetDumpFilter(v uint64)
	// Sched is the thread's nice value, scheduling policy and real-time
	// priority (0 unless SCHED_FIFO or SCHED_RR).
	Sched() (nice, policy, rtPriority int32)
	// Confinement is the thread's no_new_privs bit, seccomp mode and
	// number of seccomp filters.
	Confinement() (noNewPrivs bool, seccompMode, seccompFilters int)
	// TimerSlack and SetTimerSlack are the thread's PR_GET_TIMERSLACK
	// and PR_SET_TIMERSLACK.
	// LockedMemory is the size of its mlock'd mappings (VmLck).
	LockedMemory() uint64
	TimerSlack() uint64
	SetTimerSlack(ns uint64)
	// Namespace is the namespace the link /proc/PID/ns/name shows (nil:
	// no such link).
	Namespace(name string) nsfs.Namespace
	// TimensOffsets is /proc/PID/timens_offsets of the time namespace
	// for the task's children; SetTimensOffsets writes it (the writer's
	// privilege is checked by proc).
	TimensOffsets() string
	SetTimensOffsets(text string) error
	// Uptime is the time since boot the task sees (CLOCK_BOOTTIME in
	// its time namespace).
	Uptime() time.Duration
	// PeakRSS is the resident set's high-water mark in bytes (VmHWM).
	PeakRSS() uint64
	// Started is CLOCK_BOOTTIME (the host's) when the process was made:
	// /proc/PID/stat's starttime.
	Started() time.Duration
	// OpenMemory takes the process's memory for /proc/PID/mem, if ctx may
	// ptrace it (EACCES otherwise, ESRCH once it has exited).
	OpenMemory(ctx vfs.Context) (Memory, error)
}

// IOCounters are /proc/PID/io's: bytes moved by read and write calls
// (and their kin) and the number of those calls.
type IOCounters struct {
	RChar, WChar, SysCR, SysCW uint64
}

// Signals are a task's signal masks as status shows them (bit n-1 is
// signal n).
type Signals struct {
	Pending, SharedPending, Blocked, Ignored, Caught uint64
}

// Mapping is one line of /proc/PID/maps.
type Mapping struct {
	Start, End                uint64
	Read, Write, Exec, Shared bool
	Offset                    uint64
	Dev, Ino                  uint64
	Name                      string
}

// MappingUsage is one mapping of /proc/PID/smaps: its maps line, its
// VmFlags, and its resident pages: private ones (the process's own
// copies, Anonymous; PrivateShared of them held by another process too)
// and a shared mapping's object's (ObjectShared: mapped by others too).
type MappingUsage struct {
	Mapping
	Flags  []string // VmFlags' names, in Linux's order
	Locked bool
	// Platform marks the platform's own pages in the address space (the
	// stub's code and slots): listed, but not the program's.
	Platform                       bool
	Private, PrivateShared, Object int
	ObjectShared                   bool
	// PSSPrivate and PSSObject are the proportional set sizes of the
	// two kinds of pages, bytes << PSSShift.
	PSSPrivate, PSSObject uint64
}

// PSSShift is MappingUsage's fixed-point shift (Linux's PSS_SHIFT).
const PSSShift = 12

// Options configure a proc filesystem.
type Options struct {
	// Filesystems lists the registered filesystem types for
	// /proc/filesystems (all shown as "nodev").
	Filesystems []string
}

// FS is a proc filesystem instance.
type FS struct {
	k      Kernel
	v      *vfs.VFS
	opts   Options
	bootID string
	ctime  unix.Timespec
	root   *dir

	mu   sync.Mutex
	pids map[int64]*dir // cached /proc/[pid] and task/[tid] dirs; protected by mu
}

// New returns a proc filesystem showing k's tasks; v is the namespace the
// magic links (exe, cwd, root, fd/N) resolve in.
func New(k Kernel, v *vfs.VFS, opts Options) *FS {
	t := time.Now()
	fs := &FS{k: k, v: v, opts: opts, bootID: uuid(), pids: map[int64]*dir{},
		ctime: unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}}
	fs.root = fs.newRoot()
	return fs
}

// Root implements vfs.Filesystem.
func (fs *FS) Root() vfs.DirInode { return fs.root }

// Statfs implements vfs.Filesystem.
func (fs *FS) Statfs(vfs.Context) (vfs.Statfs, error) {
	return vfs.Statfs{Type: unix.PROC_SUPER_MAGIC, Bsize: 4096, Frsize: 4096, Namelen: 255}, nil
}

// Type is the "proc" filesystem type. Every mount gets a new instance
// over the same kernel.
type Type struct {
	Kernel Kernel
	Opts   Options
}

// NewFilesystem implements vfs.FilesystemType.
func (t *Type) NewFilesystem(_ vfs.Context, v *vfs.VFS, _ string, _ uint64, _ string) (vfs.Filesystem, error) {
	return New(t.Kernel, v, t.Opts), nil
}

// uuid returns a random version-4 UUID string.
func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// inoOf gives a stable inode number for a path inside proc.
func inoOf(path string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(path))
	return h.Sum64()&(1<<40-1) | 1<<40
}

// caller returns the task making the request, or nil (kernel-internal
// contexts).
func (fs *FS) caller(ctx vfs.Context) Task {
	if c, ok := ctx.(interface{ TID() int32 }); ok {
		return fs.k.Task(c.TID())
	}
	return nil
}
