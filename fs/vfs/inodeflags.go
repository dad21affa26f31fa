package vfs

import "golang.org/x/sys/unix"

// Inode flags: chattr's attributes, read and set through the
// FS_IOC_GETFLAGS and FS_IOC_SETFLAGS ioctls. Linux's tmpfs keeps four of
// them, and so does uk's. Two change what the VFS allows:
//
//   - immutable: no one writes, truncates, renames, links, removes or
//     changes the attributes of the file, nor creates or removes entries
//     in such a directory (Linux's IS_IMMUTABLE checks: inode_permission
//     refuses MAY_WRITE with EPERM, notify_change every attribute change,
//     may_delete the removal, vfs_link the link);
//   - append-only: the file opens for writing only with O_APPEND and never
//     with O_TRUNC, cannot be truncated, removed, renamed or linked, nor
//     have its mode, owner, explicit times or extended attributes changed;
//     entries can be added to such a directory but not removed.
//
// The checks ask InodeFlags, which costs no I/O, so that the common case
// (no flags, or a filesystem that keeps none, such as a host tree) stays
// free of extra stat calls.
const (
	FlagImmutable = 0x10 // FS_IMMUTABLE_FL
	FlagAppend    = 0x20 // FS_APPEND_FL
	FlagNodump    = 0x40 // FS_NODUMP_FL
	FlagNoatime   = 0x80 // FS_NOATIME_FL

	// FlagsTmpfs are the flags tmpfs keeps (SHMEM_FL_USER_MODIFIABLE).
	FlagsTmpfs = FlagImmutable | FlagAppend | FlagNodump | FlagNoatime
)

// capFowner (CAP_FOWNER) lets a caller set the flags of a file it does not
// own; capLinuxImmutable (CAP_LINUX_IMMUTABLE) change the immutable or
// append-only flag.
const (
	capFowner         = 3
	capLinuxImmutable = 9
)

// FlagsInode is implemented by the inodes of filesystems that keep inode
// flags.
type FlagsInode interface {
	Inode
	// InodeFlags returns the flags. It must be cheap: the permission
	// checks of every change ask it.
	InodeFlags() uint32
	// SetInodeFlags replaces the flags (the VFS has checked the caller
	// may) and stamps the change time; flags the filesystem does not
	// keep are EOPNOTSUPP.
	SetInodeFlags(flags uint32) error
}

// inodeFlags returns i's flags, none where its filesystem keeps none.
func inodeFlags(i Inode) uint32 {
	if f, ok := i.(FlagsInode); ok {
		return f.InodeFlags()
	}
	return 0
}

// immutableOrAppend reports whether i may not be changed, removed or
// linked (Linux's IS_IMMUTABLE || IS_APPEND tests).
func immutableOrAppend(i Inode) bool {
	return inodeFlags(i)&(FlagImmutable|FlagAppend) != 0
}

// InodeFlagsOf returns i's flags, none where its filesystem keeps none.
func InodeFlagsOf(i Inode) uint32 { return inodeFlags(i) }

// KeepsFlags reports whether p's filesystem keeps inode flags (statx then
// reports which of them it knows in stx_attributes_mask).
func KeepsFlags(p Path) bool {
	_, ok := p.Dentry.inode.(FlagsInode)
	return ok
}

// InodeFlags is FS_IOC_GETFLAGS on p: ENOTTY where its filesystem keeps
// none (Linux's -ENOIOCTLCMD).
func (v *VFS) InodeFlags(p Path) (uint32, error) {
	f, ok := p.Dentry.inode.(FlagsInode)
	if !ok {
		return 0, unix.ENOTTY
	}
	return f.InodeFlags(), nil
}

// SetInodeFlags is FS_IOC_SETFLAGS on p (Linux's ioctl_setflags and
// vfs_fileattr_set): ENOTTY where the filesystem keeps no flags, EROFS on
// a read-only mount, EPERM unless the caller owns the file (or holds
// CAP_FOWNER), and EPERM for a change of the immutable or append-only flag
// without CAP_LINUX_IMMUTABLE.
func (v *VFS) SetInodeFlags(ctx Context, p Path, flags uint32) error {
	f, ok := p.Dentry.inode.(FlagsInode)
	if !ok {
		return unix.ENOTTY
	}
	if p.Mount.readOnly() {
		return unix.EROFS
	}
	st, err := p.Dentry.inode.Stat(ctx)
	if err != nil {
		return err
	}
	c := ctx.Credentials()
	if c.FSUID != st.UID && !c.HasCap(capFowner) {
		return unix.EPERM
	}
	if (flags^f.InodeFlags())&(FlagImmutable|FlagAppend) != 0 && !c.HasCap(capLinuxImmutable) {
		return unix.EPERM
	}
	if err := f.SetInodeFlags(flags); err != nil {
		return err
	}
	pid, tid := ActorOf(ctx)
	v.notifyPath(p, InAttrib, pid, tid)
	return nil
}

// InodeFlags returns the flags of the file fd has open (none for an
// anonymous file, or where its filesystem keeps none): what the
// descriptor calls (ftruncate, fallocate, F_SETFL, the xattr calls) check.
func (fd *FileDescription) InodeFlags() uint32 {
	if fd.path.Dentry == nil {
		return 0
	}
	return inodeFlags(fd.path.Dentry.inode)
}
