package proc

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
)

// newRoot builds /proc: the system files, /proc/sys, and the pid
// directories that follow the kernel's thread groups.
func (fs *FS) newRoot() *dir {
	f := func(name string, gen func(vfs.Context) ([]byte, error)) entry {
		return entry{name, func() vfs.Inode { return fs.newFile("/"+name, 0o444, gen) }}
	}
	link := func(name string, target func(vfs.Context) (string, error)) entry {
		return entry{name, func() vfs.Inode { return fs.newSymlink("/"+name, target) }}
	}
	fixed := []entry{
		link("self", func(ctx vfs.Context) (string, error) {
			if t := fs.caller(ctx); t != nil {
				return itoa(int64(t.PID())), nil
			}
			return "", unix.ENOENT
		}),
		link("thread-self", func(ctx vfs.Context) (string, error) {
			if t := fs.caller(ctx); t != nil {
				return fmt.Sprintf("%d/task/%d", t.PID(), t.TID()), nil
			}
			return "", unix.ENOENT
		}),
		link("mounts", func(vfs.Context) (string, error) { return "self/mounts", nil }),
		link("net", func(vfs.Context) (string, error) { return "self/net", nil }),
		f("cpuinfo", text(func(vfs.Context) string { return arch.CPUInfo(fs.k.NumCPU(), 0) })),
		f("meminfo", text(fs.meminfo)),
		f("uptime", text(fs.uptime)),
		f("loadavg", text(fs.loadavg)),
		f("stat", text(fs.stat)),
		f("filesystems", text(fs.filesystems)),
		f("cmdline", text(func(vfs.Context) string { return fs.k.Cmdline() + "\n" })),
		f("version", text(func(vfs.Context) string {
			return fmt.Sprintf("Linux version %s (uk@uk) (go) %s\n", fs.k.Release(), fs.k.Version())
		})),
		f("key-users", text(fs.keyUsers)),
		f("config.gz", func(vfs.Context) ([]byte, error) { return gzipped(fs.k.KernelConfig()), nil }),
		f("swaps", constant("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")),
		f("partitions", constant("major minor  #blocks  name\n\n")),
		f("devices", constant("Character devices:\n  1 mem\n  4 /dev/vc/0\n  4 tty\n  5 /dev/tty\n  5 /dev/console\n  5 /dev/ptmx\n136 pts\n\nBlock devices:\n")),
		f("kallsyms", constant("")),
		f("modules", constant("")),
		f("interrupts", constant("")),
		{"sys", func() vfs.Inode { return fs.newSys() }},
		{"sysvipc", func() vfs.Inode { return fs.newSysvipc() }},
	}
	d := fs.newDir("", 0o555, fixed)
	d.typ = unix.DT_DIR
	d.list = func(vfs.Context) []int32 { return fs.k.PIDs() }
	d.lookup = func(ctx vfs.Context, n int32) (vfs.Inode, error) {
		t := fs.k.Task(n)
		if t == nil {
			fs.forget(n)
			return nil, unix.ENOENT
		}
		// Thread ids that are not group leaders resolve too, as on Linux
		// (hidden from the listing).
		return fs.taskDir(n, false), nil
	}
	return d
}

// forget drops the cached directory of an exited task.
func (fs *FS) forget(tid int32) {
	fs.mu.Lock()
	delete(fs.pids, int64(tid)<<1)
	delete(fs.pids, int64(tid)<<1|1)
	fs.mu.Unlock()
}

func (fs *FS) meminfo(vfs.Context) string {
	total, free := fs.k.MemTotal()>>10, fs.k.MemFree()>>10
	var b strings.Builder
	line := func(name string, kb uint64) { fmt.Fprintf(&b, "%-16s%8d kB\n", name+":", kb) }
	line("MemTotal", total)
	line("MemFree", free)
	line("MemAvailable", free)
	for _, n := range []string{"Buffers", "Cached", "SwapCached", "Active", "Inactive", "Active(anon)",
		"Inactive(anon)", "Active(file)", "Inactive(file)", "Unevictable", "Mlocked"} {
		line(n, 0)
	}
	line("SwapTotal", 0)
	line("SwapFree", 0)
	for _, n := range []string{"Dirty", "Writeback", "AnonPages", "Mapped", "Shmem", "KReclaimable", "Slab",
		"SReclaimable", "SUnreclaim", "KernelStack", "PageTables", "NFS_Unstable", "Bounce", "WritebackTmp"} {
		line(n, 0)
	}
	line("CommitLimit", total)
	line("Committed_AS", total-free)
	line("VmallocTotal", 34359738367)
	line("VmallocUsed", 0)
	line("VmallocChunk", 0)
	fmt.Fprintf(&b, "HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\nHugePages_Surp:        0\n")
	line("Hugepagesize", 2048)
	return b.String()
}

// uptime is /proc/uptime: CLOCK_BOOTTIME as the reader sees it (in its
// time namespace), and the idle time of the sandbox's CPUs since it
// started.
func (fs *FS) uptime(ctx vfs.Context) string {
	up := fs.k.Uptime()
	if c := fs.caller(ctx); c != nil {
		up = c.Uptime()
	}
	idle := time.Since(fs.k.Boot()).Seconds() * float64(fs.k.NumCPU())
	return fmt.Sprintf("%d.%02d %.2f\n", up/time.Second, up%time.Second/(10*time.Millisecond), idle)
}

func (fs *FS) loadavg(vfs.Context) string {
	pids := fs.k.PIDs()
	last := int32(0)
	if len(pids) > 0 {
		last = pids[len(pids)-1]
	}
	return fmt.Sprintf("0.00 0.00 0.00 1/%d %d\n", len(pids), last)
}

// clockTicks is USER_HZ: the unit of CPU times in stat files.
const clockTicks = 100

func ticks(d time.Duration) int64 { return int64(d / (time.Second / clockTicks)) }

func (fs *FS) stat(vfs.Context) string {
	var user, sys time.Duration
	pids := fs.k.PIDs()
	for _, p := range pids {
		if t := fs.k.Task(p); t != nil {
			u, s := t.CPUTime()
			user += u
			sys += s
		}
	}
	n := fs.k.NumCPU()
	idle := time.Since(fs.k.Boot())*time.Duration(n) - user - sys
	var b strings.Builder
	fmt.Fprintf(&b, "cpu  %d 0 %d %d 0 0 0 0 0 0\n", ticks(user), ticks(sys), max(ticks(idle), 0))
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "cpu%d %d 0 %d %d 0 0 0 0 0 0\n", i, ticks(user)/int64(n), ticks(sys)/int64(n), max(ticks(idle), 0)/int64(n))
	}
	fmt.Fprintf(&b, "intr 0\nctxt 0\nbtime %d\nprocesses %d\nprocs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
		time.Now().Add(-fs.k.Uptime()).Unix(), len(pids))
	return b.String()
}

func (fs *FS) filesystems(vfs.Context) string {
	var b strings.Builder
	for _, t := range fs.opts.Filesystems {
		fmt.Fprintf(&b, "nodev\t%s\n", t)
	}
	return b.String()
}

// newSys builds /proc/sys with the entries programs commonly read.
func (fs *FS) newSys() vfs.Inode {
	type sysFile struct {
		path string
		gen  func(vfs.Context) ([]byte, error)
	}
	files := []sysFile{
		{"kernel/hostname", text(func(ctx vfs.Context) string { return fs.k.Hostname(ctx) + "\n" })},
		{"kernel/domainname", text(func(ctx vfs.Context) string { return fs.k.Domainname(ctx) + "\n" })},
		{"kernel/osrelease", text(func(vfs.Context) string { return fs.k.Release() + "\n" })},
		{"kernel/ostype", constant("Linux\n")},
		{"kernel/version", text(func(vfs.Context) string { return fs.k.Version() + "\n" })},
		{"kernel/pid_max", constant("4194304\n")},
		{"kernel/threads-max", constant("65536\n")},
		{"kernel/ngroups_max", constant("65536\n")},
		{"kernel/cap_last_cap", constant("40\n")},
		{"kernel/overflowuid", constant("65534\n")},
		{"kernel/overflowgid", constant("65534\n")},
		{"kernel/random/boot_id", text(func(vfs.Context) string { return fs.bootID + "\n" })},
		{"kernel/random/uuid", text(func(vfs.Context) string { return uuid() + "\n" })},
		{"kernel/random/entropy_avail", constant("256\n")},
		{"kernel/random/poolsize", constant("256\n")},
		{"kernel/shmmax", constant("18446744073692774399\n")},
		{"kernel/shmall", constant("18446744073692774399\n")},
		{"kernel/shmmni", constant("4096\n")},
		{"kernel/msgmax", constant("8192\n")},
		{"kernel/msgmnb", constant("16384\n")},
		{"kernel/msgmni", constant("32000\n")},
		{"kernel/sem", constant("32000\t1024000000\t500\t32000\n")},
		{"kernel/tainted", constant("0\n")},
		{"kernel/core_pattern", constant("core\n")},
		{"kernel/perf_event_paranoid", constant("2\n")},
		{"kernel/sched_child_runs_first", constant("0\n")},
		{"kernel/randomize_va_space", constant("2\n")},
		{"kernel/unprivileged_userns_clone", constant("1\n")},
		{"fs/pipe-max-size", constant("1048576\n")},
		{"fs/pipe-user-pages-hard", constant("0\n")},
		{"fs/pipe-user-pages-soft", constant("16384\n")},
		{"fs/file-max", constant("9223372036854775807\n")},
		{"fs/file-nr", constant("0\t0\t9223372036854775807\n")},
		{"fs/nr_open", constant("1048576\n")},
		{"fs/inotify/max_user_watches", constant("8192\n")},
		{"fs/inotify/max_user_instances", constant("128\n")},
		{"fs/inotify/max_queued_events", constant("16384\n")},
		{"fs/fanotify/max_queued_events", constant("16384\n")},
		{"fs/fanotify/max_user_groups", constant("128\n")},
		{"fs/fanotify/max_user_marks", constant("8192\n")},
		{"fs/protected_symlinks", constant("0\n")},
		{"fs/protected_hardlinks", constant("0\n")},
		{"fs/aio-max-nr", constant("65536\n")},
		{"vm/overcommit_memory", constant("0\n")},
		{"vm/overcommit_ratio", constant("50\n")},
		{"vm/max_map_count", constant("65530\n")},
		{"vm/mmap_min_addr", constant("65536\n")},
		{"vm/swappiness", constant("60\n")},
		{"vm/drop_caches", constant("0\n")},
		{"net/core/somaxconn", constant("4096\n")},
		{"net/ipv4/ip_local_port_range", constant("32768\t60999\n")},
		{"net/ipv4/tcp_syncookies", constant("1\n")},
	}
	sets := fs.tunableSets()
	for _, s := range sets {
		for _, name := range s.names {
			files = append(files, sysFile{s.dir + "/" + name, s.gen(name)})
		}
	}
	// Build the tree from the paths.
	type node struct {
		kids  map[string]*node
		order []string
		gen   func(vfs.Context) ([]byte, error)
	}
	top := &node{kids: map[string]*node{}}
	for _, sf := range files {
		cur := top
		parts := strings.Split(sf.path, "/")
		for i, p := range parts {
			next := cur.kids[p]
			if next == nil {
				next = &node{kids: map[string]*node{}}
				cur.kids[p] = next
				cur.order = append(cur.order, p)
			}
			if i == len(parts)-1 {
				next.gen = sf.gen
			}
			cur = next
		}
	}
	var build func(path string, n *node) vfs.Inode
	build = func(path string, n *node) vfs.Inode {
		if n.gen != nil {
			f := fs.newFile(path, 0o444, n.gen)
			switch path {
			case "/sys/vm/drop_caches":
				// Writable as on Linux; uk has no caches to drop
				// that it would not drop under pressure anyway.
				f.mode = unix.S_IFREG | 0o644
				f.write = func(vfs.Context, []byte) error { return nil }
			case "/sys/kernel/hostname", "/sys/kernel/domainname":
				// The writer's UTS namespace's names, as
				// sethostname and setdomainname set them.
				if u, ok := fs.k.(UTSSetter); ok {
					domain := path == "/sys/kernel/domainname"
					f.mode = unix.S_IFREG | 0o644
					f.write = func(ctx vfs.Context, data []byte) error {
						name, _, _ := strings.Cut(string(data), "\n")
						return u.SetUTSName(ctx, name, domain)
					}
				}
			}
			for _, s := range sets {
				if name, ok := strings.CutPrefix(path, "/sys/"+s.dir+"/"); ok && slices.Contains(s.names, name) {
					s.makeWritable(f, name)
				}
			}
			return f
		}
		var es []entry
		for _, name := range n.order {
			c := n.kids[name]
			p := path + "/" + name
			es = append(es, entry{name, func() vfs.Inode { return build(p, c) }})
		}
		return fs.newDir(path, 0o555, es)
	}
	return build("/sys", top)
}

// parseInt parses a decimal integer written to a proc file (trailing
// newline allowed).
func parseInt(data []byte) (int64, error) {
	s := strings.TrimSpace(string(data))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, unix.EINVAL
	}
	return n, nil
}

// gzipped compresses s as gzip does, for /proc/config.gz.
func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s)) // writes to memory cannot fail
	w.Close()
	return b.Bytes()
}
