package vfs

import "golang.org/x/sys/unix"

// Inode is one file of a filesystem, as the filesystem implements it. The
// VFS does path walking, permission checks, mounts, the dentry cache and
// the Linux error rules; an Inode only stores and reports.
//
// Namespace changes (Create, Link, Unlink, Rmdir, Rename) are called with
// the VFS namespace lock held for writing, Lookup with it held for reading,
// so a filesystem sees no concurrent namespace change; file contents and
// attributes need the filesystem's own locking.
type Inode interface {
	// Stat reports the attributes. The VFS overwrites Dev with the
	// filesystem's device number.
	Stat(ctx Context) (Stat, error)
	// SetStat changes the attributes named by req.Mask; permission checks
	// are done. A filesystem updates ctime itself.
	SetStat(ctx Context, req SetStat) error
	// Open returns the implementation of a new open file description for a
	// regular file (or any type the filesystem opens itself; directories,
	// devices and FIFOs are opened by the VFS). flags are the open flags;
	// O_TRUNC has already been applied with SetStat.
	Open(ctx Context, flags uint32) (FileImpl, FileOptions, error)
}

// SetStat asks for an attribute change; Mask holds unix.STATX_MODE,
// STATX_UID, STATX_GID, STATX_SIZE, STATX_ATIME, STATX_MTIME. Times are
// final values (the VFS resolves UTIME_NOW).
type SetStat struct {
	Mask         uint32
	Mode         uint32 // permission bits only (07777)
	UID, GID     uint32
	Size         int64
	Atime, Mtime unix.Timespec
}

// CreateOptions describe a new inode: Mode has the file type and the
// permission bits (umask already applied), UID/GID its owner, Rdev the
// device number of a device node, Target the contents of a symlink.
type CreateOptions struct {
	Mode     uint32
	UID, GID uint32
	Rdev     uint64
	Target   string
}

// DirInode is implemented by directories.
type DirInode interface {
	Inode
	// Lookup returns the child called name (never "." or ".."), or ENOENT.
	Lookup(ctx Context, name string) (Inode, error)
	// Create makes a child of any type (regular, dir, symlink, char, block,
	// FIFO, socket); EEXIST if name exists.
	Create(ctx Context, name string, opts CreateOptions) (Inode, error)
	// Link adds name as a new hard link to target (not a directory). The
	// target may have no link at all: an O_TMPFILE file being named.
	Link(ctx Context, name string, target Inode) error
	// Unlink removes the non-directory child name, which is child.
	Unlink(ctx Context, name string, child Inode) error
	// Rmdir removes the directory child name, which is child; ENOTEMPTY
	// unless it is empty.
	Rmdir(ctx Context, name string, child Inode) error
	// Rename moves oldName to newParent/newName within the filesystem.
	// flags are RENAME_NOREPLACE / RENAME_EXCHANGE; the VFS has checked
	// every Linux rule except emptiness of a replaced directory (ENOTEMPTY).
	Rename(ctx Context, oldName string, newParent DirInode, newName string, flags uint32) error
	// IterDirents emits the entries (without "." and "..") whose offset is
	// at least off, in offset order; offsets start at FirstDirentOffset and
	// stay valid while the directory changes, so a listing interleaved with
	// unlinks neither repeats nor skips surviving entries.
	IterDirents(ctx Context, off int64, emit func(Dirent) bool) error
}

// TmpfileDir is implemented by directories of filesystems that can make
// an unnamed regular file, for open(2) with O_TMPFILE. Without it such an
// open fails with EOPNOTSUPP, as on Linux.
type TmpfileDir interface {
	DirInode
	// Tmpfile makes a regular file with no name and a link count of 0;
	// opts as for Create. The file lives while it is open, and for good
	// once Link gives it a name; freeing it at its last close otherwise is
	// the filesystem's job, as for any open file that lost its last link.
	Tmpfile(ctx Context, opts CreateOptions) (Inode, error)
}

// FirstDirentOffset is the smallest offset IterDirents uses; 0 and 1 are
// "." and "..".
const FirstDirentOffset = 2

// SymlinkInode is implemented by symbolic links.
type SymlinkInode interface {
	Inode
	Readlink(ctx Context) (string, error)
}

// MagicLink is implemented by proc-style links (/proc/self/fd/N,
// /proc/self/exe) that resolve to a Path rather than to text. Readlink
// still gives the text readlink(2) shows. Resolve runs inside a walk that
// holds the namespace lock: it must not call VFS methods that take it
// (a link that walks a path uses VFS.ResolveInWalk).
type MagicLink interface {
	SymlinkInode
	Resolve(ctx Context) (Path, error)
}

// DynamicDir is implemented by directories whose children change behind
// the VFS's back (proc): the VFS then asks Lookup on every walk instead of
// trusting its dentry cache.
type DynamicDir interface {
	DirInode
	Dynamic() bool
}

// Filesystem is one mounted instance (a superblock).
type Filesystem interface {
	// Root is the root directory.
	Root() DirInode
	// Statfs reports statfs numbers; the VFS fills Flags from the mount.
	Statfs(ctx Context) (Statfs, error)
}

// FilesystemType makes filesystems for mount(2) and for the kernel's own
// mounts. Register it with VFS.RegisterType.
type FilesystemType interface {
	// NewFilesystem creates (or, for single-instance types such as
	// devtmpfs, returns) a filesystem. data is mount(2)'s option string.
	NewFilesystem(ctx Context, v *VFS, source string, flags uint64, data string) (Filesystem, error)
}
