// Package tmpfs is uk's in-memory filesystem: the root filesystem filled
// from the initramfs, /tmp, /dev/shm, and the base of devtmpfs. Regular
// file contents live in pages of the memory file (kernel/memfile), so the
// kernel's mm can map a tmpfs file by mapping the same pages (PageAt).
//
// Inodes are *Dir, *Regular, *Symlink and *Node (device, FIFO, socket);
// the VFS tells them apart by the interfaces they implement. Namespace
// changes arrive with the VFS namespace lock held; each inode also has its
// own lock for attributes and contents.
package tmpfs

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel/memfile"
)

// Options configure a filesystem instance (mount options size=, nr_inodes=,
// mode=, uid=, gid=).
type Options struct {
	MaxBytes  int64  // size limit; 0 = half the memory file
	MaxInodes uint64 // inode limit; 0 = unlimited (reported as 1<<20)
	RootMode  uint32 // permission bits of the root directory; 0 = 01777
	RootUID   uint32
	RootGID   uint32
}

// ParseOptions parses a mount(2) data string such as
// "size=64m,mode=755,nr_inodes=1k". Unknown options are EINVAL, as tmpfs.
func ParseOptions(data string) (Options, error) {
	var o Options
	for _, kv := range strings.Split(data, ",") {
		if kv == "" {
			continue
		}
		k, val, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "size":
			o.MaxBytes, err = parseSize(val)
		case "nr_inodes":
			var n int64
			n, err = parseSize(val)
			o.MaxInodes = uint64(n)
		case "mode":
			var m uint64
			m, err = strconv.ParseUint(val, 8, 32)
			o.RootMode = uint32(m) & 0o7777
		case "uid", "gid":
			var n uint64
			n, err = strconv.ParseUint(val, 10, 32)
			if k == "uid" {
				o.RootUID = uint32(n)
			} else {
				o.RootGID = uint32(n)
			}
		case "huge", "mpol", "inode64", "inode32", "noswap", "nr_blocks", "rw", "ro",
			"nosuid", "nodev", "noexec", "relatime", "noatime", "strictatime":
		default:
			return o, fmt.Errorf("tmpfs: unknown option %q: %w", k, unix.EINVAL)
		}
		if err != nil {
			return o, fmt.Errorf("tmpfs: option %q: %w", kv, unix.EINVAL)
		}
	}
	return o, nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		}
		if mult != 1 {
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, unix.EINVAL
	}
	return n * mult, nil
}

// FS is one tmpfs instance.
type FS struct {
	mf        *memfile.File
	maxPages  int64
	maxInodes uint64
	usedPages atomic.Int64
	inodes    atomic.Int64
	nextIno   atomic.Uint64
	root      *Dir
	// unmountable: made by mount(2) (Type), so that its last unmount
	// gives its files' pages back (Unmounted). The kernel's own tmpfs
	// instances (the root, devtmpfs, memfds) keep theirs.
	unmountable bool
	// charges are what the directory entries hold of the sandbox's
	// budget (entryCost); a cleanup gives back what is left when the
	// filesystem itself is collected.
	charges *entryCharges
}

// entryCharges is the budget charge of a filesystem's directory entries,
// apart from the FS so that the cleanup that returns it does not keep the
// FS alive.
type entryCharges struct {
	mf *memfile.File
	n  atomic.Int64
}

func (c *entryCharges) release() {
	if n := c.n.Swap(0); n > 0 {
		c.mf.Uncharge(n)
	}
}

// charge takes n bytes of the sandbox's budget for metadata the
// filesystem keeps; false when the budget cannot cover them.
func (fs *FS) charge(n int64) bool {
	if fs.charges == nil {
		return true
	}
	if !fs.mf.Charge(n) {
		return false
	}
	fs.charges.n.Add(n)
	return true
}

// uncharge gives back n bytes taken by charge.
func (fs *FS) uncharge(n int64) {
	if fs.charges == nil || n == 0 {
		return
	}
	fs.charges.n.Add(-n)
	fs.mf.Uncharge(n)
}

// New returns an empty tmpfs whose root directory is owned by
// opts.RootUID/RootGID with mode opts.RootMode.
func New(mf *memfile.File, opts Options) *FS {
	fs := &FS{mf: mf, maxInodes: opts.MaxInodes}
	if mf != nil {
		fs.charges = &entryCharges{mf: mf}
		runtime.AddCleanup(fs, (*entryCharges).release, fs.charges)
	}
	max := opts.MaxBytes
	if max == 0 {
		max = mf.Size() / 2
	}
	fs.maxPages = (max + arch.PageMask) >> arch.PageShift
	if fs.maxInodes == 0 {
		fs.maxInodes = 1 << 20
	}
	fs.nextIno.Store(1)
	mode := opts.RootMode
	if mode == 0 {
		mode = 0o1777
	}
	fs.root = fs.newDir(vfs.CreateOptions{Mode: unix.S_IFDIR | mode, UID: opts.RootUID, GID: opts.RootGID})
	return fs
}

// Root implements vfs.Filesystem.
func (fs *FS) Root() vfs.DirInode { return fs.root }

// Statfs implements vfs.Filesystem with Linux tmpfs's numbers.
func (fs *FS) Statfs(vfs.Context) (vfs.Statfs, error) {
	used := fs.usedPages.Load()
	free := fs.maxPages - used
	if free < 0 {
		free = 0
	}
	ifree := int64(fs.maxInodes) - fs.inodes.Load()
	if ifree < 0 {
		ifree = 0
	}
	return vfs.Statfs{Type: unix.TMPFS_MAGIC, Bsize: arch.PageSize, Frsize: arch.PageSize,
		Blocks: uint64(fs.maxPages), Bfree: uint64(free), Bavail: uint64(free),
		Files: fs.maxInodes, Ffree: uint64(ifree), Namelen: vfs.NameMax}, nil
}

// UsedBytes reports the bytes of file contents held.
func (fs *FS) UsedBytes() int64 { return fs.usedPages.Load() << arch.PageShift }

// reservePages accounts n new pages against the size limit.
func (fs *FS) reservePages(n int64) error {
	for {
		u := fs.usedPages.Load()
		if u+n > fs.maxPages {
			return unix.ENOSPC
		}
		if fs.usedPages.CompareAndSwap(u, u+n) {
			return nil
		}
	}
}

// Type is the "tmpfs" filesystem type for vfs.RegisterType.
type Type struct{ MF *memfile.File }

// NewFilesystem implements vfs.FilesystemType: a new instance per mount.
func (t Type) NewFilesystem(_ vfs.Context, _ *vfs.VFS, _ string, _ uint64, data string) (vfs.Filesystem, error) {
	o, err := ParseOptions(data)
	if err != nil {
		return nil, unix.EINVAL
	}
	fs := New(t.MF, o)
	fs.unmountable = true
	return fs, nil
}

func now() unix.Timespec {
	t := time.Now()
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// attrs are the attributes every inode has; mu guards them and, in
// the concrete types, their contents.
type attrs struct {
	fs    *FS
	mu    sync.Mutex
	ino   uint64
	mode  uint32
	uid   uint32
	gid   uint32
	nlink uint64
	rdev  uint64
	atime unix.Timespec
	mtime unix.Timespec
	ctime unix.Timespec
	btime unix.Timespec
	// xattrs are the extended attributes (xattr.go); nil until one is
	// set. Protected by mu.
	xattrs *xattrSet
	// flags are the inode flags (vfs.FlagsTmpfs); changed under mu, read
	// without it by the VFS's checks.
	flags atomic.Uint32
}

// InodeFlags implements vfs.FlagsInode.
func (a *attrs) InodeFlags() uint32 { return a.flags.Load() }

// SetInodeFlags implements vfs.FlagsInode: tmpfs keeps vfs.FlagsTmpfs
// (Linux's SHMEM_FL_USER_MODIFIABLE) and refuses any other.
func (a *attrs) SetInodeFlags(flags uint32) error {
	if flags&^vfs.FlagsTmpfs != 0 {
		return unix.EOPNOTSUPP
	}
	a.mu.Lock()
	a.flags.Store(flags)
	a.ctime = now()
	a.mu.Unlock()
	return nil
}

func (fs *FS) initAttrs(a *attrs, o vfs.CreateOptions, nlink uint64) {
	t := now()
	*a = attrs{fs: fs, ino: fs.nextIno.Add(1), mode: o.Mode, uid: o.UID, gid: o.GID, nlink: nlink,
		rdev: o.Rdev, atime: t, mtime: t, ctime: t, btime: t}
	fs.inodes.Add(1)
}

func (a *attrs) statLocked() vfs.Stat {
	return vfs.Stat{Mask: unix.STATX_BASIC_STATS | unix.STATX_BTIME, Ino: a.ino, Mode: a.mode, Nlink: a.nlink,
		UID: a.uid, GID: a.gid, Rdev: a.rdev, Blksize: arch.PageSize,
		Atime: a.atime, Mtime: a.mtime, Ctime: a.ctime, Btime: a.btime, Flags: a.flags.Load()}
}

// setAttrsLocked applies everything but the size.
func (a *attrs) setAttrsLocked(req vfs.SetStat) {
	if req.Mask&unix.STATX_MODE != 0 {
		a.mode = a.mode&unix.S_IFMT | req.Mode&0o7777
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
	a.ctime = now()
}

func (a *attrs) touchCtime() {
	a.mu.Lock()
	a.ctime = now()
	a.mu.Unlock()
}

// changeLink adjusts the link count; it returns the new count.
func (a *attrs) changeLink(delta int) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.nlink = uint64(int64(a.nlink) + int64(delta))
	a.ctime = now()
	return a.nlink
}

// inode is what every tmpfs inode type implements.
type inode interface {
	vfs.Inode
	base() *attrs
	// dropped is called when the last link goes.
	dropped()
}

func (a *attrs) base() *attrs { return a }

// Ino returns the inode number.
func (a *attrs) Ino() uint64 { return a.ino }

// Unmounted implements vfs.Unmounter: the last mount of a filesystem made
// by mount(2) is gone, so no path reaches its files any more (Linux's
// kill_sb of a tmpfs): the pages of each go now, or at its last close or
// unmapping.
func (fs *FS) Unmounted() {
	if !fs.unmountable {
		return
	}
	fs.eachRegular(func(r *Regular) {
		r.mu.Lock()
		r.orphaned = true
		r.mu.Unlock()
		r.freeIfUnreferenced()
	})
}

// Release gives back the pages of every file still linked in the tree
// (when the filesystem is torn down: after its last unmount, or at exit).
// Files unlinked but still open free their pages at their last close.
func (fs *FS) Release() {
	fs.eachRegular(func(r *Regular) {
		r.mu.Lock()
		r.truncateLocked(0)
		r.mu.Unlock()
	})
}

// eachRegular calls f for every regular file linked in the tree, with no
// directory locked.
func (fs *FS) eachRegular(f func(*Regular)) {
	var walk func(d *Dir)
	walk = func(d *Dir) {
		d.mu.Lock()
		kids := make([]inode, 0, len(d.entries))
		for _, e := range d.entries {
			kids = append(kids, e.ino)
		}
		d.mu.Unlock()
		for _, k := range kids {
			switch k := k.(type) {
			case *Dir:
				walk(k)
			case *Regular:
				f(k)
			}
		}
	}
	walk(fs.root)
}
