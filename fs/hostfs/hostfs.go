// Package hostfs serves a directory of the host to the sandbox, live: the
// root filesystem of `uk run --rootfs DIR` (read-only, under a private
// writable layer, see Overlay) and the directories of `--bind`.
//
// Host files are reached only through directory file descriptors: the
// root's is opened once, at start (before uk's seccomp filter), and every
// other one with openat(parent fd, one component, O_NOFOLLOW). No host path
// string is ever built from what the application asks: the VFS walks paths
// itself and gives a filesystem single components (never "." or ".."), and
// a symbolic link is read with readlinkat and resolved by the VFS inside
// the sandbox's namespace, so neither "..", a symlink, nor a rename race
// on the host can lead outside the served tree. This is gVisor's directfs
// mode (the Sentry opens host files relative to donated directory fds)
// without a separate gofer process; DESIGN.md says why.
//
// What may be cached is cached: each name is looked up on the host once
// (attributes kept in the inode), a directory is listed once, and names
// found missing are remembered. A read-only tree is taken as unchanging
// while the sandbox runs; a writable one (a bind mount) asks the host for
// attributes each time and lists a directory afresh at each rewind, so
// that what other host processes do there shows.
//
// Regular files are read and written with pread/pwrite on host fds. They
// are memmap.Mappables with a page cache in the memory file, filled from
// the host on fault, so mmap (private copy-on-write and shared) maps
// memory-file pages like any other object; the cache of a file is dropped
// when its last mapping goes, except on a read-only tree, where it stays
// for the next program that maps the file, within bounds and for as long
// as the sandbox does not need the memory (idle.go).
//
// Directory fds are a bounded cache (a tree has more directories than uk
// may hold fds): a directory whose fd was closed reopens it from its
// parent's, and checks that the host inode is still the one it knew.
//
// The host system calls this package makes after start, for uk's own
// seccomp filter: openat (always relative to a directory fd, always with
// O_NOFOLLOW), newfstatat and fchownat and utimensat (AT_SYMLINK_NOFOLLOW),
// fchmodat2 (AT_SYMLINK_NOFOLLOW), readlinkat, getdents64, mkdirat,
// mknodat (FIFOs and sockets only), symlinkat, linkat (no
// AT_SYMLINK_FOLLOW), unlinkat, renameat2, fstat, fstatfs, pread64,
// pwrite64, lseek (SEEK_DATA/SEEK_HOLE, and rewinding a directory fd to
// list it), ftruncate, fsync, close, and
// sendfile into the memory file (memfile.CopyFromFile). None takes a path
// with a slash, and none uses AT_FDCWD.
package hostfs

import (
	"container/list"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/internal/fdgrow"
	"uk/kernel/memfile"
)

// maxDirFDs is how many host directory fds a filesystem keeps open; more
// are opened on demand and closed least recently used first.
const maxDirFDs = 512

// Options configure a host filesystem.
type Options struct {
	// Writable lets the sandbox change the host tree (a read-write bind
	// mount). Without it every change is EROFS.
	Writable bool
	// MF holds the page cache of mapped files.
	MF *memfile.File
	// MapOwner shows files the host says uk's own user and group own as
	// owned by OwnerUID and OwnerGID (and chown to those back as uk's),
	// as an idmapped mount: a bind mount's files belong to the sandbox's
	// user although uk creates them on the host as itself.
	MapOwner           bool
	OwnerUID, OwnerGID uint32
}

// FS is one served host directory tree.
type FS struct {
	mf       *memfile.File
	writable bool
	root     *Dir
	uid, gid uint32 // uk's own host identity: what a writable tree may chown to
	mapOwner bool
	ownUID   uint32 // what uid shows as with mapOwner
	ownGID   uint32

	// nameMu guards every node's parent and name (a rename on a writable
	// tree changes them while others reopen files by them).
	nameMu sync.RWMutex

	devMu sync.Mutex
	devs  map[uint64]uint64 // host st_dev → index mixed into inode numbers; protected by devMu

	fdMu  sync.Mutex
	lru   list.List // *Dir with an open, unpinned-or-pinned fd, most recent first; protected by fdMu
	nOpen int       // directory fds open; protected by fdMu

	// idle is the files that keep their page cache with no mapping (a
	// read-only tree's; nil on a writable one).
	idle *idleCache

	// pf copies files' pages ahead of faults (prefetch.go).
	pf prefetcher

	// dirty are a writable tree's files whose cache a shared writable
	// mapping may have written (File.mayDirty): what Sync writes back.
	dirty fileSet
}

// Sync writes back to the host what shared writable mappings wrote into
// the caches of a writable tree's files. A cache is written back when its
// last mapping goes; uk calls Sync before it exits, as that may come first
// (the processes' memory is given back after their exit status is known,
// and processes left running are killed): natively the page cache keeps
// such writes, here they would be lost.
func (fs *FS) Sync() {
	for _, f := range fs.dirty.list() {
		f.cmu.Lock()
		f.writeBackLocked()
		f.cmu.Unlock()
	}
}

// New serves the host directory path. The directory is opened now, once;
// everything else is reached relative to it.
func New(path string, opts Options) (*FS, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	fs, err := NewFromFD(fd, opts)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fs, nil
}

// NewFromFD serves the host directory open at fd, which the filesystem
// then owns.
func NewFromFD(fd int, opts Options) (*FS, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, unix.ENOTDIR
	}
	fs := &FS{mf: opts.MF, writable: opts.Writable, devs: map[uint64]uint64{st.Dev: 0},
		uid: uint32(unix.Geteuid()), gid: uint32(unix.Getegid()),
		mapOwner: opts.MapOwner, ownUID: opts.OwnerUID, ownGID: opts.OwnerGID}
	if !fs.writable && fs.mf != nil {
		fs.idle = newIdleCache(fs.mf)
		fs.mf.AddReclaimer(fs.idle)
	}
	fs.root = &Dir{node: node{fs: fs, st: st}, fd: fd, pinned: 1}
	fs.root.init()
	fs.root.listedFD = fd // given to us: its position is not known to be 0
	fs.nOpen = 1
	return fs, nil
}

// Root implements vfs.Filesystem.
func (fs *FS) Root() vfs.DirInode { return fs.root }

// HostRoot returns the root directory with its concrete type.
func (fs *FS) HostRoot() *Dir { return fs.root }

// Writable reports whether the sandbox may change the tree.
func (fs *FS) Writable() bool { return fs.writable }

// Statfs implements vfs.Filesystem with the host filesystem's numbers.
func (fs *FS) Statfs(vfs.Context) (vfs.Statfs, error) {
	var s unix.Statfs_t
	if err := unix.Fstatfs(fs.root.fd, &s); err != nil {
		return vfs.Statfs{}, err
	}
	return vfs.Statfs{Type: s.Type, Bsize: s.Bsize, Blocks: s.Blocks, Bfree: s.Bfree, Bavail: s.Bavail,
		Files: s.Files, Ffree: s.Ffree, Namelen: s.Namelen, Frsize: s.Frsize}, nil
}

// Close closes every host fd the filesystem holds.
func (fs *FS) Close() {
	fs.fdMu.Lock()
	defer fs.fdMu.Unlock()
	for e := fs.lru.Front(); e != nil; e = e.Next() {
		d := e.Value.(*Dir)
		if d.fd >= 0 {
			unix.Close(d.fd)
			d.fd = -1
		}
	}
	fs.lru.Init()
	if fs.root.fd >= 0 {
		unix.Close(fs.root.fd)
		fs.root.fd = -1
	}
}

// inoOf is the inode number the sandbox sees for a host file: the host's,
// with a small index of its host device in the top byte when the tree
// spans several host filesystems (their numbers overlap: every ext4 root
// is inode 2, and find(1) would see a loop).
func (fs *FS) inoOf(dev, ino uint64) uint64 {
	fs.devMu.Lock()
	idx, ok := fs.devs[dev]
	if !ok {
		idx = uint64(len(fs.devs)) & 0x7f
		fs.devs[dev] = idx
	}
	fs.devMu.Unlock()
	return ino ^ idx<<56
}

// validName refuses what the VFS never passes but a host call must never
// see: an empty name, ".", "..", or one with a slash or NUL.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > vfs.NameMax {
		return unix.ENOENT
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return unix.ENOENT
		}
	}
	return nil
}

// node is what every host inode has: where it is on the host (its parent
// directory and its name there) and its attributes as last seen.
type node struct {
	fs     *FS
	parent *Dir    // nil at the root; protected by fs.nameMu
	name   string  // protected by fs.nameMu
	alts   []place // the file's other names (hard links made here); protected by fs.nameMu

	mu sync.Mutex
	st unix.Stat_t // protected by mu
}

// set places a new node at name in parent with attributes st.
func (n *node) set(parent *Dir, name string, st *unix.Stat_t) {
	n.fs, n.parent, n.name, n.st = parent.fs, parent, name, *st
}

// place is one name of a host file: a directory and a name in it.
type place struct {
	dir  *Dir
	name string
}

// addPlace records one more name of the file (a hard link made here).
func (n *node) addPlace(d *Dir, name string) {
	n.fs.nameMu.Lock()
	n.alts = append(n.alts, place{d, name})
	n.fs.nameMu.Unlock()
}

// renamePlace changes the name (d, name) of the file to (nd, nname).
func (n *node) renamePlace(d *Dir, name string, nd *Dir, nname string) {
	n.fs.nameMu.Lock()
	defer n.fs.nameMu.Unlock()
	if n.parent == d && n.name == name {
		n.parent, n.name = nd, nname
		return
	}
	for i, p := range n.alts {
		if p.dir == d && p.name == name {
			n.alts[i] = place{nd, nname}
			return
		}
	}
}

// dropPlace forgets the name (d, name) of the file, unlinked. When the
// name the file is reached by goes, another of its names takes over, so
// a file linked and then unlinked under its first name (git's objects,
// every atomic link-then-unlink) stays reachable.
func (n *node) dropPlace(d *Dir, name string) {
	n.fs.nameMu.Lock()
	defer n.fs.nameMu.Unlock()
	if n.parent == d && n.name == name {
		if len(n.alts) > 0 {
			n.parent, n.name = n.alts[0].dir, n.alts[0].name
			n.alts = n.alts[1:]
		}
		return
	}
	for i, p := range n.alts {
		if p.dir == d && p.name == name {
			n.alts = append(n.alts[:i], n.alts[i+1:]...)
			return
		}
	}
}

// where returns the node's parent and name.
func (n *node) where() (*Dir, string) {
	n.fs.nameMu.RLock()
	defer n.fs.nameMu.RUnlock()
	return n.parent, n.name
}

// hostStat returns the attributes: the cached ones on a read-only tree,
// fresh ones (fstatat from the parent) on a writable one.
func (n *node) hostStat() (unix.Stat_t, error) {
	if !n.fs.writable {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.st, nil
	}
	parent, name := n.where()
	var st unix.Stat_t
	var err error
	if parent == nil {
		err = unix.Fstat(n.fs.root.fd, &st)
	} else {
		err = parent.withFD(func(fd int) error {
			return unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		})
	}
	if err != nil {
		return st, err
	}
	n.mu.Lock()
	n.st = st
	n.mu.Unlock()
	return st, nil
}

// Stat implements vfs.Inode.
func (n *node) Stat(vfs.Context) (vfs.Stat, error) {
	st, err := n.hostStat()
	if err != nil {
		return vfs.Stat{}, err
	}
	return n.fs.convert(&st), nil
}

// ioBlksize is the least st_blksize a host regular file reports: the
// preferred I/O size, which glibc's stdio takes as its buffer size (and
// diff, cat and cp size theirs from). A system call costs uk a trap round
// trip, several microseconds against a fraction of one natively, so 4 KiB
// writes through stdio (GNU sort's output: 2,561 writes for 10 MB) cost
// it 16 times the traps 64 KiB ones do. Linux filesystems report such
// sizes too (NFS and CIFS their transfer size, ZFS its record size); 64
// KiB is also the size of uk's pooled copy buffers below the largest
// (bigBuf in kernel/task_kbuf.go).
const ioBlksize = 64 << 10

// convert turns host attributes into the sandbox's.
func (fs *FS) convert(st *unix.Stat_t) vfs.Stat {
	s := vfs.Stat{Mask: unix.STATX_BASIC_STATS, Ino: fs.inoOf(st.Dev, st.Ino), Mode: st.Mode,
		Nlink: st.Nlink, UID: st.Uid, GID: st.Gid, Rdev: st.Rdev, Size: st.Size,
		Blksize: st.Blksize, Blocks: st.Blocks, Atime: st.Atim, Mtime: st.Mtim, Ctime: st.Ctim}
	if st.Mode&unix.S_IFMT == unix.S_IFREG && s.Blksize < ioBlksize {
		s.Blksize = ioBlksize
	}
	if fs.mapOwner {
		if s.UID == fs.uid {
			s.UID = fs.ownUID
		}
		if s.GID == fs.gid {
			s.GID = fs.ownGID
		}
	}
	return s
}

// SetStat implements vfs.Inode: on a writable tree the change is made on
// the host, through calls that never follow a symlink; set-id bits are
// never given to host files, and files are only chowned to uk's own host
// identity (the sandbox's root must not make a set-uid root program, or
// hand files to other users, on the host).
func (n *node) SetStat(_ vfs.Context, req vfs.SetStat) error {
	if !n.fs.writable {
		return unix.EROFS
	}
	parent, name := n.where()
	if parent == nil {
		parent, name = n.fs.root, "."
	}
	return parent.withFD(func(dfd int) error {
		if req.Mask&(unix.STATX_UID|unix.STATX_GID) != 0 {
			st, err := n.hostStat()
			if err != nil {
				return err
			}
			uid, gid := int(st.Uid), int(st.Gid)
			if req.Mask&unix.STATX_UID != 0 {
				uid = int(req.UID)
				if n.fs.mapOwner && req.UID == n.fs.ownUID {
					uid = int(n.fs.uid)
				}
			}
			if req.Mask&unix.STATX_GID != 0 {
				gid = int(req.GID)
				if n.fs.mapOwner && req.GID == n.fs.ownGID {
					gid = int(n.fs.gid)
				}
			}
			if (uid != int(st.Uid) && uint32(uid) != n.fs.uid) || (gid != int(st.Gid) && uint32(gid) != n.fs.gid) {
				return unix.EPERM
			}
			if err := unix.Fchownat(dfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
		}
		if req.Mask&unix.STATX_MODE != 0 {
			if err := unix.Fchmodat(dfd, name, req.Mode&0o1777, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
		}
		if req.Mask&(unix.STATX_ATIME|unix.STATX_MTIME) != 0 {
			ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
			if req.Mask&unix.STATX_ATIME != 0 {
				ts[0] = req.Atime
			}
			if req.Mask&unix.STATX_MTIME != 0 {
				ts[1] = req.Mtime
			}
			if err := unix.UtimesNanoAt(dfd, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
		}
		if req.Mask&unix.STATX_SIZE != 0 {
			var st unix.Stat_t
			fd, err := openChild(dfd, name, unix.O_WRONLY, &st)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			if err := unix.Ftruncate(fd, req.Size); err != nil {
				return err
			}
		}
		return nil
	})
}

// openChild opens the regular file name in the directory dfd: one
// component, never following a symlink, never blocking on a FIFO a race
// put there, and refusing anything but a regular file. st is what it
// opened (the caller checks it is the file it looked up with it, and
// needs no fstat of its own).
func openChild(dfd int, name string, flags int, st *unix.Stat_t) (int, error) {
	if err := validName(name); err != nil && name != "." {
		return -1, err
	}
	fd, err := unix.Openat(dfd, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return -1, err
	}
	fdgrow.Note(fd)
	if fdgrow.Scarce(fd) {
		unix.Close(fd)
		return -1, unix.ENFILE
	}
	if err := unix.Fstat(fd, st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		if err == nil {
			err = unix.ESTALE
		}
		return -1, err
	}
	return fd, nil
}

// Symlink is a host symbolic link. Its text is read with readlinkat once
// (every time on a writable tree) and resolved by the VFS, never by the
// host.
type Symlink struct {
	node
	target string // protected by mu
	read   bool   // protected by mu
}

// Open implements vfs.Inode (the VFS never opens a link).
func (s *Symlink) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ELOOP
}

// Readlink implements vfs.SymlinkInode.
func (s *Symlink) Readlink(vfs.Context) (string, error) {
	s.mu.Lock()
	if s.read && !s.fs.writable {
		t := s.target
		s.mu.Unlock()
		return t, nil
	}
	s.mu.Unlock()
	parent, name := s.where()
	buf := make([]byte, vfs.PathMax)
	var n int
	err := parent.withFD(func(fd int) error {
		var err error
		n, err = unix.Readlinkat(fd, name, buf)
		return err
	})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.target, s.read = string(buf[:n]), true
	s.mu.Unlock()
	return string(buf[:n]), nil
}

// Node is a host device node, FIFO or socket. Only its attributes come
// from the host: the VFS opens devices from its own registry and FIFOs
// and sockets as its own objects, so no host device is ever opened.
type Node struct {
	node
}

// Open implements vfs.Inode.
func (n *Node) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ENXIO
}
