package proc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"uk/fs/nsfs"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// taskDir returns the (cached) directory of /proc/TID, or of
// /proc/PID/task/TID when thread is set (the same files without task/).
func (fs *FS) taskDir(tid int32, thread bool) *dir {
	key := int64(tid) << 1
	if thread {
		key |= 1
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if d, ok := fs.pids[key]; ok {
		return d
	}
	d := fs.buildTaskDir(tid, thread)
	fs.pids[key] = d
	return d
}

// get returns the live task or ESRCH.
func (fs *FS) get(tid int32) (Task, error) {
	if t := fs.k.Task(tid); t != nil {
		return t, nil
	}
	return nil, unix.ESRCH
}

func (fs *FS) buildTaskDir(tid int32, thread bool) *dir {
	path := "/" + itoa(int64(tid))
	if thread {
		path = "/task/" + itoa(int64(tid))
	}
	owner := func() (uint32, uint32) {
		if t := fs.k.Task(tid); t != nil {
			c := t.Credentials()
			return c.EUID, c.EGID
		}
		return 0, 0
	}
	gen := func(g func(ctx vfs.Context, t Task) ([]byte, error)) func(vfs.Context) ([]byte, error) {
		return func(ctx vfs.Context) ([]byte, error) {
			t, err := fs.get(tid)
			if err != nil {
				return nil, err
			}
			return g(ctx, t)
		}
	}
	gs := func(g func(ctx vfs.Context, t Task) string) func(vfs.Context) ([]byte, error) {
		return gen(func(ctx vfs.Context, t Task) ([]byte, error) { return []byte(g(ctx, t)), nil })
	}
	file := func(name string, mode uint32, g func(vfs.Context) ([]byte, error)) entry {
		return entry{name, func() vfs.Inode {
			f := fs.newFile(path+"/"+name, mode, g)
			f.owner = owner
			return f
		}}
	}
	// checked is file with a check at open: Linux refuses some files of
	// a process without memory or namespaces (a zombie) at open, not
	// with empty contents.
	checked := func(name string, mode uint32, g func(vfs.Context) ([]byte, error), check func(t Task) error) entry {
		return entry{name, func() vfs.Inode {
			f := fs.newFile(path+"/"+name, mode, g)
			f.owner = owner
			f.check = func(vfs.Context) error {
				t, err := fs.get(tid)
				if err != nil {
					return err
				}
				return check(t)
			}
			return f
		}}
	}
	noMemory := func(t Task) error {
		if !t.HasMemory() {
			return unix.ESRCH
		}
		return nil
	}
	noMounts := func(t Task) error {
		if t.FSContext() == nil {
			return unix.EINVAL
		}
		return nil
	}
	mlink := func(name string, target func(ctx vfs.Context, t Task, withName bool) (vfs.Path, string, error)) entry {
		return entry{name, func() vfs.Inode { return fs.newMagic(path+"/"+name, tid, owner, target) }}
	}
	es := []entry{
		file("stat", 0o444, gs(fs.pidStat)),
		file("statm", 0o444, gs(func(_ vfs.Context, t Task) string {
			vs, anon, shmem := t.Memory()
			return fmt.Sprintf("%d %d %d 0 0 0 0\n", vs>>12, (anon+shmem)>>12, shmem>>12)
		})),
		file("status", 0o444, gs(fs.pidStatus)),
		file("cmdline", 0o444, gen(func(_ vfs.Context, t Task) ([]byte, error) { return t.Cmdline(), nil })),
		checked("environ", 0o400, gen(func(_ vfs.Context, t Task) ([]byte, error) { return t.Environ(), nil }), noMemory),
		checked("auxv", 0o400, gen(func(_ vfs.Context, t Task) ([]byte, error) { return t.Auxv(), nil }), noMemory),
		file("comm", 0o644, gs(func(_ vfs.Context, t Task) string { return t.Comm() + "\n" })),
		file("maps", 0o444, gs(fs.pidMaps)),
		file("smaps", 0o444, gen(pidSmaps)),
		file("smaps_rollup", 0o444, gen(pidSmapsRollup)),
		checked("mounts", 0o444, gs(func(_ vfs.Context, t Task) string { return fs.mounts(t, false) }), noMounts),
		checked("mountinfo", 0o444, gs(func(_ vfs.Context, t Task) string { return fs.mounts(t, true) }), noMounts),
		file("cgroup", 0o444, constant("0::/\n")),
		file("wchan", 0o444, constant("0")),
		file("io", 0o400, gs(func(_ vfs.Context, t Task) string {
			c := t.IO(thread)
			return fmt.Sprintf("rchar: %d\nwchar: %d\nsyscr: %d\nsyscw: %d\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n",
				c.RChar, c.WChar, c.SysCR, c.SysCW)
		})),
		file("loginuid", 0o644, constant("4294967295")),
		file("sessionid", 0o444, constant("4294967295")),
		file("oom_score", 0o444, gs(func(_ vfs.Context, t Task) string { return itoa(int64(t.OOMScore())) + "\n" })),
		file("limits", 0o444, constant(limitsText)),
		file("personality", 0o400, gs(func(_ vfs.Context, t Task) string { return fmt.Sprintf("%08x\n", t.Personality()) })),
		mlink("exe", func(ctx vfs.Context, t Task, withName bool) (vfs.Path, string, error) {
			exe := t.Exe()
			fsc := t.FSContext()
			if withName || fsc == nil || exe == "" {
				// readlink shows the name exec recorded, without the
				// walk (and the namespace lock) resolving it takes.
				return vfs.Path{}, exe, unix.ENOENT
			}
			// The walk that follows this link holds the namespace
			// lock: walk the name without taking it again.
			root := fsc.Root()
			p, err := fs.v.ResolveInWalk(ctx, vfs.At{Root: root, Dir: root}, exe, 0)
			return p, exe, err
		}),
		mlink("cwd", func(ctx vfs.Context, t Task, withName bool) (vfs.Path, string, error) {
			if fsc := t.FSContext(); fsc != nil {
				p := fsc.Cwd()
				return p, fs.pathName(ctx, t, p, withName), nil
			}
			return vfs.Path{}, "", unix.ENOENT
		}),
		mlink("root", func(ctx vfs.Context, t Task, withName bool) (vfs.Path, string, error) {
			if fsc := t.FSContext(); fsc != nil {
				p := fsc.Root()
				return p, fs.pathName(ctx, t, p, withName), nil
			}
			return vfs.Path{}, "", unix.ENOENT
		}),
		{"fd", func() vfs.Inode { return fs.fdDir(path, tid, owner, false) }},
		{"net", func() vfs.Inode { return fs.netDir(path+"/net", owner) }},
		{"fdinfo", func() vfs.Inode { return fs.fdDir(path, tid, owner, true) }},
		{"oom_score_adj", func() vfs.Inode { return fs.oomFile(path+"/oom_score_adj", tid, owner, false) }},
		{"oom_adj", func() vfs.Inode { return fs.oomFile(path+"/oom_adj", tid, owner, true) }},
		{"timerslack_ns", func() vfs.Inode { return fs.timerSlackFile(path+"/timerslack_ns", tid, owner) }},
		{"coredump_filter", func() vfs.Inode { return fs.dumpFilterFile(path+"/coredump_filter", tid, owner) }},
		{"uid_map", func() vfs.Inode { return fs.idMapFile(path+"/uid_map", owner) }},
		{"gid_map", func() vfs.Inode { return fs.idMapFile(path+"/gid_map", owner) }},
		{"setgroups", func() vfs.Inode { return fs.setgroupsFile(path+"/setgroups", owner) }},
		{"mem", func() vfs.Inode { return fs.newMemFile(path+"/mem", tid, owner) }},
		{"pagemap", func() vfs.Inode { return fs.newPagemapFile(path+"/pagemap", tid, owner) }},
		{"ns", func() vfs.Inode { return fs.nsDir(path+"/ns", tid, owner) }},
		{"timens_offsets", func() vfs.Inode { return fs.timensOffsetsFile(path+"/timens_offsets", tid, owner) }},
	}
	if !thread {
		es = append(es, entry{"task", func() vfs.Inode {
			d := fs.newDir(path+"/task", 0o555, nil)
			d.owner = owner
			d.typ = unix.DT_DIR
			d.list = func(vfs.Context) []int32 {
				if t := fs.k.Task(tid); t != nil {
					return t.Threads()
				}
				return nil
			}
			d.lookup = func(_ vfs.Context, n int32) (vfs.Inode, error) {
				if t := fs.k.Task(tid); t != nil {
					for _, x := range t.Threads() {
						if x == n {
							return fs.taskDir(n, true), nil
						}
					}
				}
				return nil, unix.ENOENT
			}
			return d
		}})
	}
	d := fs.newDir(path, 0o555, es)
	d.owner = owner
	d.alive = func() bool { return fs.k.Task(tid) != nil }
	return d
}

const limitsText = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max data size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max resident set          unlimited            unlimited            bytes     
Max processes             4096                 4096                 processes 
Max open files            1024                 4096                 files     
Max locked memory         8388608              8388608              bytes     
Max address space         unlimited            unlimited            bytes     
Max file locks            unlimited            unlimited            locks     
Max pending signals       4096                 4096                 signals   
Max msgqueue size         819200               819200               bytes     
Max nice priority         0                    0                    
Max realtime priority     0                    0                    
Max realtime timeout      unlimited            unlimited            us        
`

// pathName names p as the reader sees it (relative to its root).
//
// Without withName it returns "" at once: resolving a magic link must not
// name its target, since naming takes the namespace lock and the walk that
// follows the link may hold it (an O_CREAT open holds it for writing, and
// even a second read lock waits behind a queued writer).
func (fs *FS) pathName(ctx vfs.Context, t Task, p vfs.Path, withName bool) string {
	if !withName {
		return ""
	}
	root := vfs.Path{}
	if c := fs.caller(ctx); c != nil && c.FSContext() != nil {
		root = c.FSContext().Root()
	} else if t.FSContext() != nil {
		root = t.FSContext().Root()
	}
	name, _ := fs.v.PathName(root, p)
	if p.Dentry != nil && p.Dentry.IsDeleted() {
		name += " (deleted)"
	}
	return name
}

// newMagic makes a magic link of task tid; target gives the Path, or with
// withName the text readlink shows (and then need not give the Path).
func (fs *FS) newMagic(path string, tid int32, owner func() (uint32, uint32),
	target func(ctx vfs.Context, t Task, withName bool) (vfs.Path, string, error)) *magic {
	m := &magic{}
	m.attrs = attrs{fs: fs, ino: inoOf(path), mode: unix.S_IFLNK | 0o777, owner: owner}
	m.target = func(ctx vfs.Context) (string, error) {
		t, err := fs.get(tid)
		if err != nil {
			return "", unix.ENOENT
		}
		_, s, err := target(ctx, t, true)
		if s == "" && err != nil {
			return "", err
		}
		return s, nil
	}
	m.resolve = func(ctx vfs.Context) (vfs.Path, error) {
		t, err := fs.get(tid)
		if err != nil {
			return vfs.Path{}, unix.ENOENT
		}
		p, _, err := target(ctx, t, false)
		return p, err
	}
	return m
}

// fdDir is /proc/PID/fd (links) or /proc/PID/fdinfo (files).
func (fs *FS) fdDir(path string, tid int32, owner func() (uint32, uint32), info bool) *dir {
	name := "/fd"
	if info {
		name = "/fdinfo"
	}
	d := fs.newDir(path+name, 0o500, nil)
	d.owner = owner
	d.typ = unix.DT_LNK
	if info {
		d.mode = unix.S_IFDIR | 0o555
		d.typ = unix.DT_REG
	}
	d.list = func(vfs.Context) []int32 {
		if t := fs.k.Task(tid); t != nil {
			return t.FDs()
		}
		return nil
	}
	d.lookup = func(ctx vfs.Context, n int32) (vfs.Inode, error) {
		t, err := fs.get(tid)
		if err != nil {
			return nil, unix.ENOENT
		}
		desc, _, err := t.FD(n)
		if err != nil {
			return nil, unix.ENOENT
		}
		desc.DecRef()
		p := path + name + "/" + itoa(int64(n))
		if info {
			f := fs.newFile(p, 0o444, func(ctx vfs.Context) ([]byte, error) {
				t, err := fs.get(tid)
				if err != nil {
					return nil, err
				}
				desc, cloexec, err := t.FD(n)
				if err != nil {
					return nil, unix.ENOENT
				}
				defer desc.DecRef()
				flags := desc.StatusFlags()
				if cloexec {
					flags |= unix.O_CLOEXEC
				}
				var ino uint64
				if st, err := desc.Stat(ctx); err == nil {
					ino = st.Ino
				}
				mnt := 0
				if dp := desc.Path(); dp.Mount != nil {
					mnt = dp.Mount.ID()
				}
				return []byte(fmt.Sprintf("pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n", desc.Offset(), flags, mnt, ino)), nil
			})
			f.owner = owner
			return f, nil
		}
		return fs.newMagic(p, tid, owner, func(ctx vfs.Context, t Task, withName bool) (vfs.Path, string, error) {
			desc, _, err := t.FD(n)
			if err != nil {
				return vfs.Path{}, "", unix.ENOENT
			}
			defer desc.DecRef()
			dp := desc.Path()
			if ns, ok := nsfs.Of(desc); ok {
				// Namespace files live in no tree: Linux names them
				// by kind and number.
				return dp, nsfs.LinkText(ns), nil
			}
			if dp.IsZero() {
				// Anonymous files (pipes, sockets, eventfds) cannot be
				// reopened through the link yet.
				return vfs.Path{}, anonName(ctx, desc), unix.ENXIO
			}
			return dp, fs.pathName(ctx, t, dp, withName), nil
		}), nil
	}
	return d
}

// anonName is what readlink shows for a file outside the tree.
func anonName(ctx vfs.Context, d *vfs.FileDescription) string {
	if n, ok := d.Impl().(interface{ Name() string }); ok {
		return n.Name()
	}
	if st, err := d.Stat(ctx); err == nil {
		switch st.Type() {
		case unix.S_IFIFO:
			return fmt.Sprintf("pipe:[%d]", st.Ino)
		case unix.S_IFSOCK:
			return fmt.Sprintf("socket:[%d]", st.Ino)
		}
	}
	return "anon_inode:[unknown]"
}

// oomFile is oom_score_adj (or the legacy oom_adj, in -17..15): the
// process's weight in the OOM killer's choice, kept by the kernel.
func (fs *FS) oomFile(path string, tid int32, owner func() (uint32, uint32), legacy bool) *file {
	f := fs.newFile(path, 0o644, func(vfs.Context) ([]byte, error) {
		t, err := fs.get(tid)
		if err != nil {
			return nil, err
		}
		v := int64(t.OOMScoreAdj())
		if legacy {
			// Linux's oom_adj read: OOM_SCORE_ADJ_MAX shows as 15.
			if v == 1000 {
				v = 15
			} else {
				v = v * 17 / 1000
			}
		}
		return []byte(itoa(v) + "\n"), nil
	})
	f.owner = owner
	f.write = func(ctx vfs.Context, data []byte) error {
		t, err := fs.get(tid)
		if err != nil {
			return err
		}
		v, err := parseInt(data)
		if err != nil {
			return err
		}
		if legacy {
			if v < -17 || v > 15 {
				return unix.EINVAL
			}
			// Linux's oom_adj write: 15 is OOM_SCORE_ADJ_MAX.
			if v == 15 {
				v = 1000
			} else {
				v = v * 1000 / 17
			}
		}
		if v < -1000 || v > 1000 {
			return unix.EINVAL
		}
		return t.SetOOMScoreAdj(int(v), ctx.Credentials().Privileged)
	}
	return f
}

// idMapFile is uid_map or gid_map of the sandbox's one user namespace,
// the initial one: every id maps to itself. It is written already, so a
// write is EPERM, as Linux's for a namespace with a map.
func (fs *FS) idMapFile(path string, owner func() (uint32, uint32)) *file {
	f := fs.newFile(path, 0o644, constant(fmt.Sprintf("%10d %10d %10d\n", 0, 0, uint32(0xffffffff))))
	f.owner = owner
	f.write = func(vfs.Context, []byte) error { return unix.EPERM }
	return f
}

// setgroupsFile is /proc/PID/setgroups of the initial user namespace:
// "allow", which may be written again; "deny" is EPERM there (Linux's
// proc_setgroups_write: setgroups stays allowed once a map exists).
func (fs *FS) setgroupsFile(path string, owner func() (uint32, uint32)) *file {
	f := fs.newFile(path, 0o644, constant("allow\n"))
	f.owner = owner
	f.write = func(_ vfs.Context, data []byte) error {
		switch strings.TrimRight(string(data), "\n") {
		case "allow":
			return nil
		case "deny":
			return unix.EPERM
		}
		return unix.EINVAL
	}
	return f
}

// timerSlackFile is /proc/PID/timerslack_ns: the thread's current timer
// slack (PR_GET_TIMERSLACK); writing sets it, 0 restoring its default.
// Another process's needs CAP_SYS_NICE, as in Linux.
func (fs *FS) timerSlackFile(path string, tid int32, owner func() (uint32, uint32)) *file {
	f := fs.newFile(path, 0o666, func(vfs.Context) ([]byte, error) {
		t, err := fs.get(tid)
		if err != nil {
			return nil, err
		}
		return []byte(strconv.FormatUint(t.TimerSlack(), 10) + "\n"), nil
	})
	f.owner = owner
	f.write = func(ctx vfs.Context, data []byte) error {
		t, err := fs.get(tid)
		if err != nil {
			return err
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
		if err != nil {
			return unix.EINVAL
		}
		if self, ok := ctx.(interface{ PID() int32 }); (!ok || self.PID() != t.PID()) && !ctx.Credentials().HasCap(capSysNice) {
			return unix.EPERM
		}
		t.SetTimerSlack(v)
		return nil
	}
	return f
}

// dumpFilterFile is /proc/PID/coredump_filter: the process's core dump
// filter in hex; a write takes a number as C's strtoul with base 0 reads
// it (0x for hex, a leading 0 for octal), EINVAL for anything else. Like
// Linux's, it reads empty and ignores writes once the process has no
// memory (a zombie).
func (fs *FS) dumpFilterFile(path string, tid int32, owner func() (uint32, uint32)) *file {
	f := fs.newFile(path, 0o644, func(vfs.Context) ([]byte, error) {
		t, err := fs.get(tid)
		if err != nil || !t.HasMemory() {
			return nil, err
		}
		return fmt.Appendf(nil, "%08x\n", t.DumpFilter()), nil
	})
	f.owner = owner
	f.write = func(_ vfs.Context, data []byte) error {
		v, err := parseCUint(strings.TrimSuffix(string(data), "\n"))
		if err != nil {
			return err
		}
		t, err := fs.get(tid)
		if err != nil {
			return err
		}
		if t.HasMemory() {
			t.SetDumpFilter(v)
		}
		return nil
	}
	return f
}

// parseCUint reads an unsigned 32-bit number as Linux's kstrtouint with
// base 0: hex after 0x, octal after a leading 0, else decimal; EINVAL for
// anything else, ERANGE past 32 bits.
func parseCUint(s string) (uint64, error) {
	base := 10
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')) {
			return 0, unix.EINVAL
		}
	}
	v, err := strconv.ParseUint(s, base, 32)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, unix.ERANGE
	case err != nil:
		return 0, unix.EINVAL
	}
	return v, nil
}

// capSysNice is CAP_SYS_NICE.
const capSysNice = 23

func sigHex(m uint64) string { return fmt.Sprintf("%016x", m) }

var stateNames = map[byte]string{'R': "running", 'S': "sleeping", 'D': "disk sleep", 'T': "stopped",
	't': "tracing stop", 'Z': "zombie", 'X': "dead"}

func (fs *FS) pidStat(_ vfs.Context, t Task) string {
	u, s := t.CPUTime()
	cu, cs := t.ChildrenCPUTime()
	minflt, cminflt := t.Faults()
	vs, anon, shmem := t.Memory()
	rss := anon + shmem
	sg := t.Signals()
	comm := t.Comm()
	nice, policy, rtPrio := t.Sched()
	prio := 20 + nice // task_prio: 20 + nice, or -1 - rt_priority for a real-time thread
	switch {
	case rtPrio > 0:
		prio = -1 - rtPrio
	case policy == 6: // SCHED_DEADLINE, above every real-time priority
		prio = -101
	}
	return fmt.Sprintf("%d (%s) %c %d %d %d 0 -1 4194560 %d %d 0 0 %d %d %d %d %d %d %d 0 %d %d %d "+
		"18446744073709551615 0 0 0 0 0 %d %d %d %d 0 0 0 17 0 %d %d 0 0 0 0 0 0 0 0 0 0 0\n",
		t.TID(), comm, t.State(), t.PPID(), t.PGID(), t.SID(), minflt, cminflt, ticks(u), ticks(s), ticks(cu), ticks(cs),
		prio, nice, len(t.Threads()),
		ticks(t.Started()), vs, rss>>12, sg.Pending|sg.SharedPending, sg.Blocked, sg.Ignored, sg.Caught, rtPrio, policy)
}

func (fs *FS) pidStatus(_ vfs.Context, t Task) string {
	c := t.Credentials()
	vs, anon, shmem := t.Memory()
	rss := anon + shmem
	sg := t.Signals()
	var groups strings.Builder
	for _, g := range c.Groups {
		fmt.Fprintf(&groups, "%d ", g)
	}
	st := t.State()
	var b strings.Builder
	fmt.Fprintf(&b, "Name:\t%s\nUmask:\t%04o\nState:\t%c (%s)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t%d\n",
		t.Comm(), t.Umask(), st, stateNames[st], t.PID(), t.TID(), t.PPID(), t.TracerPID())
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nFDSize:\t64\nGroups:\t%s\n",
		c.UID, c.EUID, c.SUID, c.FSUID, c.GID, c.EGID, c.SGID, c.FSGID, groups.String())
	fmt.Fprintf(&b, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", t.PID(), t.TID(), t.PGID(), t.SID())
	kb := func(name string, v uint64) { fmt.Fprintf(&b, "%s:\t%8d kB\n", name, v>>10) }
	// A process without memory (a zombie, uk run's stand-in init) has
	// no memory lines, as Linux's task_mem is skipped without an mm.
	if vs != 0 {
		kb("VmPeak", vs)
		kb("VmSize", vs)
		kb("VmLck", t.LockedMemory())
		kb("VmPin", 0)
		kb("VmHWM", max(t.PeakRSS(), rss))
		kb("VmRSS", rss)
		kb("RssAnon", anon)
		kb("RssFile", 0)
		kb("RssShmem", shmem)
		kb("VmData", 0)
		kb("VmStk", 132<<10)
		kb("VmExe", 0)
		kb("VmLib", 0)
		kb("VmPTE", 0)
		kb("VmSwap", 0)
	}
	fmt.Fprintf(&b, "Threads:\t%d\nSigQ:\t0/4096\nSigPnd:\t%s\nShdPnd:\t%s\nSigBlk:\t%s\nSigIgn:\t%s\nSigCgt:\t%s\n",
		len(t.Threads()), sigHex(sg.Pending), sigHex(sg.SharedPending), sigHex(sg.Blocked), sigHex(sg.Ignored), sigHex(sg.Caught))
	fmt.Fprintf(&b, "CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x\n",
		c.Inheritable, c.Permitted, c.Effective, c.Bounding, c.Ambient)
	nnp, mode, filters := t.Confinement()
	nnpBit := 0
	if nnp {
		nnpBit = 1
	}
	fmt.Fprintf(&b, "NoNewPrivs:\t%d\nSeccomp:\t%d\nSeccomp_filters:\t%d\nSpeculation_Store_Bypass:\tthread vulnerable\n", nnpBit, mode, filters)
	n := fs.k.NumCPU()
	fmt.Fprintf(&b, "Cpus_allowed:\t%x\nCpus_allowed_list:\t0-%d\nMems_allowed:\t1\nMems_allowed_list:\t0\n", uint64(1)<<n-1, n-1)
	fmt.Fprintf(&b, "voluntary_ctxt_switches:\t%d\nnonvoluntary_ctxt_switches:\t0\n", t.VoluntarySwitches())
	return b.String()
}

func (fs *FS) pidMaps(_ vfs.Context, t Task) string {
	var b strings.Builder
	for _, m := range t.Maps() {
		writeMapsLine(&b, m)
	}
	return b.String()
}

// writeMapsLine writes m's line of /proc/PID/maps.
func writeMapsLine(b *strings.Builder, m Mapping) {
	perm := []byte("---p")
	if m.Read {
		perm[0] = 'r'
	}
	if m.Write {
		perm[1] = 'w'
	}
	if m.Exec {
		perm[2] = 'x'
	}
	if m.Shared {
		perm[3] = 's'
	}
	line := fmt.Sprintf("%08x-%08x %s %08x %02x:%02x %d ", m.Start, m.End, perm, m.Offset,
		unix.Major(m.Dev), unix.Minor(m.Dev), m.Ino)
	if m.Name != "" {
		if len(line) < 73 {
			line += strings.Repeat(" ", 73-len(line))
		}
		line += m.Name
	}
	b.WriteString(line)
	b.WriteByte('\n')
}

// mountOpts renders per-mount flags as /proc/mounts shows them.
func mountOpts(flags uint64) string {
	o := "rw"
	if flags&unix.MS_RDONLY != 0 {
		o = "ro"
	}
	for _, f := range []struct {
		bit  uint64
		name string
	}{{unix.MS_NOSUID, "nosuid"}, {unix.MS_NODEV, "nodev"}, {unix.MS_NOEXEC, "noexec"},
		{unix.MS_NOATIME, "noatime"}, {unix.MS_NODIRATIME, "nodiratime"}} {
		if flags&f.bit != 0 {
			o += "," + f.name
		}
	}
	if flags&(unix.MS_NOATIME|unix.MS_STRICTATIME) == 0 {
		o += ",relatime"
	}
	return o
}

// mounts renders /proc/PID/mounts or mountinfo as seen from t's root.
func (fs *FS) mounts(t Task, info bool) string {
	fsc := t.FSContext()
	if fsc == nil {
		return ""
	}
	var b strings.Builder
	for _, m := range fs.v.Mounts(fsc.Root()) {
		src := m.Source
		if src == "" {
			src = "none"
		}
		if info {
			fmt.Fprintf(&b, "%d %d %d:%d %s %s %s - %s %s rw\n", m.ID, m.ParentID, unix.Major(m.Dev), unix.Minor(m.Dev),
				escape(m.Root), escape(m.MountPoint), mountOpts(m.Flags), m.Type, escape(src))
		} else {
			fmt.Fprintf(&b, "%s %s %s %s 0 0\n", escape(src), escape(m.MountPoint), m.Type, mountOpts(m.Flags))
		}
	}
	return b.String()
}

// escape octal-escapes the characters the mount tables cannot hold.
func escape(s string) string {
	if !strings.ContainsAny(s, " \t\n\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
