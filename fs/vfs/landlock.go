package vfs

import (
	"iter"

	"golang.org/x/sys/unix"
)

// Landlock's file-system access rights (LANDLOCK_ACCESS_FS_*): what a
// Landlock domain (kernel/landlock) may deny a task on a file beyond its
// permissions. The VFS asks the task's Credentials.Landlock for them at
// the points Linux's security/landlock/fs.c hooks.
const (
	AccessExecute    uint64 = 1 << 0
	AccessWriteFile  uint64 = 1 << 1
	AccessReadFile   uint64 = 1 << 2
	AccessReadDir    uint64 = 1 << 3
	AccessRemoveDir  uint64 = 1 << 4
	AccessRemoveFile uint64 = 1 << 5
	AccessMakeChar   uint64 = 1 << 6
	AccessMakeDir    uint64 = 1 << 7
	AccessMakeReg    uint64 = 1 << 8
	AccessMakeSock   uint64 = 1 << 9
	AccessMakeFifo   uint64 = 1 << 10
	AccessMakeBlock  uint64 = 1 << 11
	AccessMakeSym    uint64 = 1 << 12
	AccessRefer      uint64 = 1 << 13
	AccessTruncate   uint64 = 1 << 14
	AccessIoctlDev   uint64 = 1 << 15

	// AccessFSMask is every file-system right.
	AccessFSMask uint64 = 1<<16 - 1
	// AccessFile are the rights that make sense on a file that is not a
	// directory: only these may be granted by a rule on one.
	AccessFile = AccessExecute | AccessWriteFile | AccessReadFile | AccessTruncate | AccessIoctlDev
)

// Landlock is a task's Landlock domain as the VFS sees it: rules that
// limit access to files by where they are in the tree. It is immutable,
// like the Credentials that hold it (restricting installs new ones).
type Landlock interface {
	// HandlesFS reports whether the domain limits any file access; the
	// VFS asks nothing of one that does not.
	HandlesFS() bool
	// Denied returns the rights of access the domain denies on the file
	// whose inodes up yields, from the file itself up to the root of the
	// namespace.
	Denied(access uint64, up iter.Seq[Inode]) uint64
	// ReferDenied reports whether moving (or linking) the file child from
	// under the directory src to under the directory dst, both given as
	// their inodes up to the root, is refused: the domain does not grant
	// AccessRefer on both sides, or the file would gain rights there.
	ReferDenied(child Inode, childIsDir bool, src, dst iter.Seq[Inode]) bool
}

// restrictedBy returns the caller's Landlock domain if it limits file
// access, else nil.
func restrictedBy(ctx Context) Landlock {
	if l := ctx.Credentials().Landlock; l != nil && l.HandlesFS() {
		return l
	}
	return nil
}

// landlockOf is the Landlock domain that limits the caller in v: none in
// an internal VFS.
func (v *VFS) landlockOf(ctx Context) Landlock {
	if v.Internal {
		return nil
	}
	return restrictedBy(ctx)
}

// LandlockRestricted reports whether the caller's Landlock domain limits
// file access (mount and the like are then refused).
func LandlockRestricted(ctx Context) bool { return restrictedBy(ctx) != nil }

// upFrom yields the inodes from p up to the top of the mount tree,
// crossing each mount's root to the directory it is mounted on, as
// Landlock's walk does (it is not bound by a chroot).
//
// Preconditions: v.ns is held.
func upFrom(p Path) iter.Seq[Inode] {
	return func(yield func(Inode) bool) {
		m, d := p.Mount, p.Dentry
		for d != nil {
			if !yield(d.inode) {
				return
			}
			if m != nil && d == m.root {
				if m.parent == nil {
					return
				}
				m, d = m.parent, m.point
				continue
			}
			d = d.parent
		}
	}
}

// landlockCheck fails with EACCES when the caller's Landlock domain denies
// any right of access on p.
//
// Preconditions: v.ns is held.
func (v *VFS) landlockCheck(ctx Context, p Path, access uint64) error {
	if l := v.landlockOf(ctx); l != nil && l.Denied(access, upFrom(p)) != 0 {
		return unix.EACCES
	}
	return nil
}

// makeAccess is the right that creating a file of type typ (S_IF*)
// needs in its directory.
func makeAccess(typ uint32) uint64 {
	switch typ {
	case unix.S_IFDIR:
		return AccessMakeDir
	case unix.S_IFCHR:
		return AccessMakeChar
	case unix.S_IFBLK:
		return AccessMakeBlock
	case unix.S_IFIFO:
		return AccessMakeFifo
	case unix.S_IFSOCK:
		return AccessMakeSock
	case unix.S_IFLNK:
		return AccessMakeSym
	}
	return AccessMakeReg
}

// removeAccess is the right that removing child needs in its directory.
func removeAccess(child *Dentry) uint64 {
	if child.isDir {
		return AccessRemoveDir
	}
	return AccessRemoveFile
}

// dentryType is the file type (S_IF*) of d's inode, or 0 if its
// attributes cannot be read.
func dentryType(ctx Context, d *Dentry) uint32 {
	if d.isDir {
		return unix.S_IFDIR
	}
	st, err := d.inode.Stat(ctx)
	if err != nil {
		return 0
	}
	return st.Mode & unix.S_IFMT
}

// landlockRefer checks a link or rename of child (from under src to under
// dst, with the target replaced, if any, and both ways for an exchange)
// as Linux's current_check_refer_path: the rights to remove and make the
// files in their directories first (EACCES), then, between two
// directories, the right to reparent them without gaining access (EXDEV).
//
// Preconditions: v.ns is held.
func (v *VFS) landlockRefer(ctx Context, src Path, child *Dentry, dst Path, target *Dentry, rename, exchange bool) error {
	l := v.landlockOf(ctx)
	if l == nil {
		return nil
	}
	need := func(p Path, access uint64) error {
		if l.Denied(access, upFrom(p)) != 0 {
			return unix.EACCES
		}
		return nil
	}
	if err := need(dst, makeAccess(dentryType(ctx, child))); err != nil {
		return err
	}
	if rename {
		if err := need(src, removeAccess(child)); err != nil {
			return err
		}
	}
	if target != nil {
		if err := need(dst, removeAccess(target)); err != nil {
			return err
		}
	}
	if exchange {
		if err := need(src, makeAccess(dentryType(ctx, target))); err != nil {
			return err
		}
	}
	if src.Dentry == dst.Dentry {
		return nil
	}
	if l.ReferDenied(child.inode, child.isDir, upFrom(src), upFrom(dst)) {
		return unix.EXDEV
	}
	if exchange && l.ReferDenied(target.inode, target.isDir, upFrom(dst), upFrom(src)) {
		return unix.EXDEV
	}
	return nil
}

// openAccess is what opening a file of type typ with flags asks of
// Landlock: reading a directory, or reading, writing and truncating a
// file; a device's ioctls are granted or not at the open, like truncation,
// and kept with the description.
func openAccess(typ, flags uint32) (request, optional uint64) {
	if typ == unix.S_IFDIR {
		return AccessReadDir, 0
	}
	acc := flags & unix.O_ACCMODE
	if acc == unix.O_RDONLY || acc == unix.O_RDWR {
		request |= AccessReadFile
	}
	if acc == unix.O_WRONLY || acc == unix.O_RDWR {
		request |= AccessWriteFile
	}
	if flags&unix.O_TRUNC != 0 {
		request |= AccessTruncate
	} else {
		optional |= AccessTruncate
	}
	if typ == unix.S_IFCHR || typ == unix.S_IFBLK {
		optional |= AccessIoctlDev
	}
	return request, optional
}

// CheckLandlock fails with EACCES when the caller's Landlock domain denies
// any right of access on p (execve asks AccessExecute|AccessReadFile of
// the program and its interpreter).
func (v *VFS) CheckLandlock(ctx Context, p Path, access uint64) error {
	if v.landlockDenied(ctx, p, access) != 0 {
		return unix.EACCES
	}
	return nil
}

// landlockDenied returns the rights of access the caller's Landlock
// domain denies on p, for callers that do not hold v.ns.
func (v *VFS) landlockDenied(ctx Context, p Path, access uint64) uint64 {
	l := v.landlockOf(ctx)
	if l == nil {
		return 0
	}
	v.ns.RLock()
	defer v.ns.RUnlock()
	return l.Denied(access, upFrom(p))
}

// landlockIoctlFree reports whether cmd is one of the ioctls Landlock
// never limits on a device (fs.c's is_masked_device_ioctl): they act on
// the description or the filesystem, not the device.
func landlockIoctlFree(cmd uint32) bool {
	switch cmd {
	case 0x5451, 0x5450, // FIOCLEX, FIONCLEX
		0x5421, 0x5452, // FIONBIO, FIOASYNC
		0x5460,                 // FIOQSIZE
		0xc0045877, 0xc0045878, // FIFREEZE, FITHAW
		2,                      // FIGETBSZ
		0x80111500, 0x80811501, // FS_IOC_GETFSUUID, FS_IOC_GETFSSYSFSPATH
		0xc020660b,             // FS_IOC_FIEMAP
		0x40049409, 0x4020940d, // FICLONE, FICLONERANGE
		0xc0189436: // FIDEDUPERANGE
		return true
	}
	return false
}
