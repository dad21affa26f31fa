package tty

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// devptsMagic is DEVPTS_SUPER_MAGIC (statfs f_type).
const devptsMagic = 0x1cd1

// ptyMaxLimit is NR_UNIX98_PTY_MAX, the largest max= option.
const ptyMaxLimit = 1 << 20

// devptsOptions are the mount options of devpts.
type devptsOptions struct {
	setUID, setGID bool
	uid, gid       uint32
	mode           uint32 // permissions of new /dev/pts/N (default 0600)
	ptmxMode       uint32 // permissions of /dev/pts/ptmx (default 0000)
	max            int
	newInstance    bool
}

func defaultDevptsOptions() devptsOptions {
	return devptsOptions{mode: 0o600, ptmxMode: 0, max: ptyMaxDef}
}

// sbFlagOptions are the generic mount options Linux's VFS consumes before
// a filesystem sees its data string.
var sbFlagOptions = map[string]bool{
	"ro": true, "rw": true, "nosuid": true, "suid": true, "nodev": true, "dev": true,
	"noexec": true, "exec": true, "sync": true, "async": true, "dirsync": true,
	"relatime": true, "norelatime": true, "strictatime": true, "nostrictatime": true,
	"noatime": true, "atime": true, "nodiratime": true, "diratime": true,
	"lazytime": true, "nolazytime": true, "silent": true, "loud": true,
	"mand": true, "nomand": true, "defaults": true,
}

// parseDevptsOptions parses mount(2)'s data for devpts:
// "newinstance,ptmxmode=666,gid=5,mode=620" and uid=, max=. Unknown
// options are EINVAL, as on Linux.
func parseDevptsOptions(data string) (devptsOptions, error) {
	o := defaultDevptsOptions()
	for _, opt := range strings.Split(data, ",") {
		if opt == "" || sbFlagOptions[opt] {
			continue
		}
		key, val, hasVal := strings.Cut(opt, "=")
		switch key {
		case "newinstance":
			if hasVal {
				return o, unix.EINVAL
			}
			o.newInstance = true
		case "uid", "gid":
			n, err := strconv.ParseUint(val, 10, 32)
			if !hasVal || err != nil {
				return o, unix.EINVAL
			}
			if key == "uid" {
				o.setUID, o.uid = true, uint32(n)
			} else {
				o.setGID, o.gid = true, uint32(n)
			}
		case "mode", "ptmxmode":
			n, err := strconv.ParseUint(val, 8, 32)
			if !hasVal || err != nil {
				return o, unix.EINVAL
			}
			if key == "mode" {
				o.mode = uint32(n) & 0o7777
			} else {
				o.ptmxMode = uint32(n) & 0o7777
			}
		case "max":
			n, err := strconv.ParseUint(val, 10, 32)
			if !hasVal || err != nil || n > ptyMaxLimit {
				return o, unix.EINVAL
			}
			o.max = int(n)
		default:
			return o, unix.EINVAL
		}
	}
	return o, nil
}

// NewFilesystem implements vfs.FilesystemType ("devpts"): every mount
// shows the one instance; its options apply from now on.
func (d *Devices) NewFilesystem(_ vfs.Context, _ *vfs.VFS, _ string, _ uint64, data string) (vfs.Filesystem, error) {
	o, err := parseDevptsOptions(data)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.opts = o
	d.mu.Unlock()
	d.fs.ptmx.setMode(o.ptmxMode)
	return d.fs, nil
}

// attrs are the changeable attributes of a devpts node.
type attrs struct {
	mu                  sync.Mutex
	mode                uint32 // permission bits
	uid, gid            uint32
	atime, mtime, ctime unix.Timespec
}

func nowTS() unix.Timespec {
	t := time.Now()
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

func newAttrs(mode, uid, gid uint32) *attrs {
	now := nowTS()
	return &attrs{mode: mode, uid: uid, gid: gid, atime: now, mtime: now, ctime: now}
}

func (a *attrs) stat(ino uint64, typ uint32, rdev uint64) vfs.Stat {
	a.mu.Lock()
	defer a.mu.Unlock()
	nlink := uint64(1)
	if typ == unix.S_IFDIR {
		nlink = 2
	}
	return vfs.Stat{Mask: unix.STATX_BASIC_STATS, Ino: ino, Mode: typ | a.mode, Nlink: nlink,
		UID: a.uid, GID: a.gid, Rdev: rdev, Blksize: 1024,
		Atime: a.atime, Mtime: a.mtime, Ctime: a.ctime}
}

func (a *attrs) set(req vfs.SetStat) error {
	if req.Mask&unix.STATX_SIZE != 0 {
		return unix.EINVAL
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if req.Mask&unix.STATX_MODE != 0 {
		a.mode = req.Mode & 0o7777
	}
	if req.Mask&unix.STATX_UID != 0 {
		a.uid = req.UID
	}
	if req.Mask&unix.STATX_GID != 0 {
		a.gid = req.GID
	}
	if req.Mask&unix.STATX_ATIME != 0 {
		a.atime = req.Atime
	}
	if req.Mask&unix.STATX_MTIME != 0 {
		a.mtime = req.Mtime
	}
	a.ctime = nowTS()
	return nil
}

func (a *attrs) setMode(m uint32) {
	a.mu.Lock()
	a.mode = m
	a.mu.Unlock()
}

// devptsFS is the devpts filesystem: a root directory with "ptmx" and one
// node per live pty.
type devptsFS struct {
	d    *Devices
	root *devptsRoot
	ptmx *ptmxNode
}

func newDevptsFS(d *Devices) *devptsFS {
	fs := &devptsFS{d: d, root: &devptsRoot{d: d, attrs: newAttrs(0o755, 0, 0)}, ptmx: &d.ptmxIno}
	fs.ptmx.attrs = newAttrs(0, 0, 0)
	return fs
}

// Root implements vfs.Filesystem.
func (fs *devptsFS) Root() vfs.DirInode { return fs.root }

// Statfs implements vfs.Filesystem.
func (fs *devptsFS) Statfs(vfs.Context) (vfs.Statfs, error) {
	return vfs.Statfs{Type: devptsMagic, Bsize: 4096, Namelen: 255, Frsize: 4096}, nil
}

// devptsRoot is /dev/pts. Its children come and go with ptys, so it is a
// DynamicDir: the VFS asks Lookup on every walk.
type devptsRoot struct {
	d *Devices
	*attrs
}

func (r *devptsRoot) Stat(vfs.Context) (vfs.Stat, error) {
	return r.attrs.stat(1, unix.S_IFDIR, 0), nil
}

func (r *devptsRoot) SetStat(_ vfs.Context, req vfs.SetStat) error { return r.attrs.set(req) }

func (r *devptsRoot) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.EISDIR
}

func (r *devptsRoot) Dynamic() bool { return true }

// Lookup finds "ptmx" or a pty's decimal index.
func (r *devptsRoot) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	if name == "ptmx" {
		return &r.d.ptmxIno, nil
	}
	n, err := strconv.Atoi(name)
	if err != nil || n < 0 || strconv.Itoa(n) != name {
		return nil, unix.ENOENT
	}
	if p := r.d.lookupPty(n); p != nil {
		return p.node, nil
	}
	return nil, unix.ENOENT
}

func (r *devptsRoot) Create(vfs.Context, string, vfs.CreateOptions) (vfs.Inode, error) {
	return nil, unix.EPERM
}

func (r *devptsRoot) Link(vfs.Context, string, vfs.Inode) error { return unix.EPERM }

func (r *devptsRoot) Unlink(vfs.Context, string, vfs.Inode) error { return unix.EPERM }

func (r *devptsRoot) Rmdir(vfs.Context, string, vfs.Inode) error { return unix.EPERM }

func (r *devptsRoot) Rename(vfs.Context, string, vfs.DirInode, string, uint32) error {
	return unix.EPERM
}

// IterDirents lists ptmx (offset 2) and each pty N (offset N+3).
func (r *devptsRoot) IterDirents(_ vfs.Context, off int64, emit func(vfs.Dirent) bool) error {
	if off <= 2 {
		if !emit(vfs.Dirent{Name: "ptmx", Ino: 2, Type: unix.DT_CHR, Next: 3}) {
			return nil
		}
	}
	r.d.mu.Lock()
	idx := make([]int, 0, len(r.d.ptys))
	for i := range r.d.ptys {
		if int64(i)+3 >= off {
			idx = append(idx, i)
		}
	}
	r.d.mu.Unlock()
	sort.Ints(idx)
	for _, i := range idx {
		if !emit(vfs.Dirent{Name: strconv.Itoa(i), Ino: uint64(i) + 3, Type: unix.DT_CHR, Next: int64(i) + 4}) {
			return nil
		}
	}
	return nil
}

// ptmxNode is /dev/pts/ptmx (5:2).
type ptmxNode struct {
	d *Devices
	*attrs
}

func (n *ptmxNode) Stat(vfs.Context) (vfs.Stat, error) {
	return n.attrs.stat(2, unix.S_IFCHR, unix.Mkdev(ttyMajor, 2)), nil
}

func (n *ptmxNode) SetStat(_ vfs.Context, req vfs.SetStat) error { return n.attrs.set(req) }

func (n *ptmxNode) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return n.d.openPtmx(ctx, vfs.Path{}, flags)
}

// ptsNode is /dev/pts/N (136:N).
type ptsNode struct {
	p *pty
	*attrs
}

func newPtsNode(p *pty, mode, uid, gid uint32) *ptsNode {
	return &ptsNode{p: p, attrs: newAttrs(mode, uid, gid)}
}

func (n *ptsNode) Stat(vfs.Context) (vfs.Stat, error) {
	return n.attrs.stat(uint64(n.p.index)+3, unix.S_IFCHR, unix.Mkdev(ptsMajor, uint32(n.p.index))), nil
}

func (n *ptsNode) SetStat(_ vfs.Context, req vfs.SetStat) error { return n.attrs.set(req) }

func (n *ptsNode) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return n.p.openSlave(ctx, flags)
}
