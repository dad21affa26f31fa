package vfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Dentry is a name in the VFS tree: a cached (parent, name) → inode edge of
// one filesystem. Dentries of a filesystem form a tree rooted at the
// filesystem's root dentry; mounts glue trees together. A Dentry is kept
// while it is cached or referenced (Go's collector frees it); an unlinked
// dentry is marked dead and leaves the cache but stays usable by open files.
type Dentry struct {
	sb     *Superblock
	inode  Inode
	isDir  bool
	name   string  // protected by VFS.ns
	parent *Dentry // nil at a filesystem root; protected by VFS.ns
	dead   atomic.Bool
	// linkable marks the dentry of an O_TMPFILE file opened without
	// O_EXCL and not yet linked: linkat may give a name to its inode
	// although the link count is 0 (Linux's I_LINKABLE). Only this dentry
	// reaches an unnamed inode, so the mark can live here.
	linkable atomic.Bool

	mu       sync.Mutex
	children map[string]*Dentry // protected by mu

	mounts int // mounts stacked on this dentry; protected by VFS.ns

	// opens counts the descriptions opened at this dentry; gonePending
	// marks a file that lost its last name while open: its watches hear
	// of its deletion at the last close (notify.go).
	opens       atomic.Int32
	gonePending atomic.Bool
}

// Inode returns the dentry's inode.
func (d *Dentry) Inode() Inode { return d.inode }

// IsDeleted reports whether the dentry was unlinked (or replaced by a
// rename): readlink of /proc/self/fd then appends " (deleted)".
func (d *Dentry) IsDeleted() bool { return d.dead.Load() }

// Superblock returns the filesystem instance the dentry belongs to.
func (d *Dentry) Superblock() *Superblock { return d.sb }

// IsDir reports whether the dentry is a directory.
func (d *Dentry) IsDir() bool { return d.isDir }

func newDentry(sb *Superblock, parent *Dentry, name string, ino Inode) *Dentry {
	_, dir := ino.(DirInode)
	return &Dentry{sb: sb, inode: ino, isDir: dir, name: name, parent: parent}
}

// stat reports the inode's attributes with the filesystem's device number.
func (d *Dentry) stat(ctx Context) (Stat, error) {
	s, err := d.inode.Stat(ctx)
	if err != nil {
		return s, err
	}
	s.Dev = d.sb.dev
	return s, nil
}

func (d *Dentry) cached(name string) *Dentry {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.children[name]
}

func (d *Dentry) cache(name string, c *Dentry) {
	d.mu.Lock()
	if d.children == nil {
		d.children = make(map[string]*Dentry)
	}
	d.children[name] = c
	d.mu.Unlock()
}

func (d *Dentry) uncache(name string) {
	d.mu.Lock()
	delete(d.children, name)
	d.mu.Unlock()
}

// Superblock is one filesystem instance as the VFS knows it.
type Superblock struct {
	v      *VFS // the VFS that mounted it: file events reach its watches
	fs     Filesystem
	typ    string
	source string
	dev    uint64
	root   *Dentry
	mounts int // mounts showing it, in every namespace; protected by v.ns
}

// FS returns the filesystem implementation.
func (sb *Superblock) FS() Filesystem { return sb.fs }

// Type returns the filesystem type name ("tmpfs").
func (sb *Superblock) Type() string { return sb.typ }

// Source returns the mount source string.
func (sb *Superblock) Source() string { return sb.source }

// Dev returns the device number st_dev reports for the filesystem.
func (sb *Superblock) Dev() uint64 { return sb.dev }

// Root returns the filesystem's root dentry.
func (sb *Superblock) Root() *Dentry { return sb.root }

// dtype maps a mode to a DT_* value.
func dtype(mode uint32) uint8 {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return unix.DT_REG
	case unix.S_IFDIR:
		return unix.DT_DIR
	case unix.S_IFLNK:
		return unix.DT_LNK
	case unix.S_IFCHR:
		return unix.DT_CHR
	case unix.S_IFBLK:
		return unix.DT_BLK
	case unix.S_IFIFO:
		return unix.DT_FIFO
	case unix.S_IFSOCK:
		return unix.DT_SOCK
	}
	return unix.DT_UNKNOWN
}

// DirentType maps a file mode to the DT_* value getdents reports.
func DirentType(mode uint32) uint8 { return dtype(mode) }

// Detached returns a path to inode ino named name in directory dir that no
// walk finds: dir's dentry cache does not hold it, so it lives as long as
// what uses it. It is for files opened through a magic link that belong to
// no tree (namespace files).
func Detached(dir Path, name string, ino Inode) Path {
	return Path{Mount: dir.Mount, Dentry: newDentry(dir.Dentry.sb, dir.Dentry, name, ino)}
}
