package syscalls

import (
	"strings"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
)

// Extended attributes (getxattr, setxattr, listxattr, removexattr and
// their l- and f- forms), with Linux's checks in its order (fs/xattr.c):
// the arguments first (flags EINVAL, a name empty or past 255 bytes
// ERANGE, a value past 64 KiB E2BIG, EFAULT), then the file, then
// xattr_permission: trusted.* needs CAP_SYS_ADMIN, user.* exists only
// on regular files and directories (and a sticky directory's only for
// its owner), every write needs write access and a writable mount.
// Files whose filesystem keeps no attributes (vfs.XattrInode) answer
// EOPNOTSUPP, and list nothing.

const (
	xattrNameMax = 255     // XATTR_NAME_MAX
	xattrSizeMax = 1 << 16 // XATTR_SIZE_MAX
	xattrListMax = 1 << 16 // XATTR_LIST_MAX
	capSysAdmin  = 21      // CAP_SYS_ADMIN
)

// xattrFile is the file an xattr call acts on.
type xattrFile struct {
	ino      vfs.Inode
	st       vfs.Stat
	readOnly bool // the mount is read-only
}

func xattrAtPath(t *kernel.Task, pathAddr uint64, follow bool) (xattrFile, error) {
	p, err := copyPath(t, pathAddr)
	if err != nil {
		return xattrFile{}, err
	}
	flags := 0
	if !follow {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	q, err := t.ResolveAt(kernel.AtFDCWD, p, flags)
	if err != nil {
		return xattrFile{}, err
	}
	st, err := q.Dentry.Inode().Stat(t)
	if err != nil {
		return xattrFile{}, err
	}
	return xattrFile{ino: q.Dentry.Inode(), st: st, readOnly: q.Mount.Flags()&unix.MS_RDONLY != 0}, nil
}

func xattrAtFD(t *kernel.Task, fd int32) (xattrFile, error) {
	d, err := t.FileFD(fd, kernel.FDNotPath)
	if err != nil {
		return xattrFile{}, err
	}
	defer d.DecRef()
	p := d.Path()
	if p.IsZero() {
		return xattrFile{}, unix.EOPNOTSUPP // a pipe or socket: no attributes
	}
	st, err := d.Stat(t)
	if err != nil {
		return xattrFile{}, err
	}
	return xattrFile{ino: p.Dentry.Inode(), st: st, readOnly: p.Mount.Flags()&unix.MS_RDONLY != 0}, nil
}

// xattrName reads an attribute's name: ERANGE when empty or too long.
func xattrName(t *kernel.Task, addr uint64) (string, error) {
	name, err := t.CopyInString(addr, xattrNameMax+1)
	if err == unix.ENAMETOOLONG || err == nil && (name == "" || len(name) > xattrNameMax) {
		return "", unix.ERANGE
	}
	return name, err
}

// xattrPrefixes are the namespaces Linux's tmpfs keeps.
var xattrPrefixes = []string{"user.", "trusted.", "security."}

// xattrKnown reports whether name is in a namespace Linux's tmpfs has.
func xattrKnown(name string) bool {
	for _, p := range xattrPrefixes {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

// xattrPrefixOnly reports whether name is a namespace's prefix and no
// more ("user."), which Linux's xattr_resolve_name refuses with EINVAL.
func xattrPrefixOnly(name string) bool {
	for _, p := range xattrPrefixes {
		if name == p {
			return true
		}
	}
	return false
}

// xattrPermission is Linux's xattr_permission for name on f: write asks
// to change it.
func xattrPermission(t *kernel.Task, f xattrFile, name string, write bool) error {
	c := t.Credentials()
	if write && f.readOnly {
		return unix.EROFS
	}
	if write && vfs.InodeFlagsOf(f.ino)&(vfs.FlagImmutable|vfs.FlagAppend) != 0 {
		return unix.EPERM
	}
	switch {
	case strings.HasPrefix(name, "security."):
		// The VFS leaves security.* to the security module: reading
		// needs nothing, a change CAP_SYS_ADMIN (commoncap's
		// cap_inode_setxattr and cap_inode_removexattr), whatever the
		// file's mode.
		if write && !c.HasCap(capSysAdmin) {
			return unix.EPERM
		}
		return nil
	case strings.HasPrefix(name, "trusted."):
		if !c.HasCap(capSysAdmin) {
			if write {
				return unix.EPERM
			}
			return unix.ENODATA
		}
		return nil
	case strings.HasPrefix(name, "user."):
		typ := f.st.Type()
		if typ != unix.S_IFREG && typ != unix.S_IFDIR {
			if write {
				return unix.EPERM
			}
			return unix.ENODATA
		}
		if typ == unix.S_IFDIR && f.st.Mode&unix.S_ISVTX != 0 && write && c.FSUID != f.st.UID && !c.Privileged {
			return unix.EPERM
		}
	}
	want := uint32(vfs.MayRead)
	if write {
		want = vfs.MayWrite
	}
	return vfs.MayAccess(c, &f.st, want)
}

// xattrOp is one of the xattr calls, whatever names its file: args reads
// the arguments (before the file is looked up, as Linux), run does the
// call on the file.
type xattrOp struct {
	args func(t *kernel.Task, a [6]uint64) (xattrArgs, error)
	run  func(t *kernel.Task, f xattrFile, x xattrArgs, a [6]uint64) (uint64, error)
}

// xattrArgs are what an xattr call read before its file.
type xattrArgs struct {
	name  string
	value []byte
}

// path is the call's path form (getxattr, or lgetxattr without follow).
func (op xattrOp) path(follow bool) kernel.SyscallFn {
	return func(t *kernel.Task, a [6]uint64) (uint64, error) {
		x, err := op.args(t, a)
		if err != nil {
			return 0, err
		}
		f, err := xattrAtPath(t, a[0], follow)
		if err != nil {
			return 0, err
		}
		return op.run(t, f, x, a)
	}
}

// fd is the call's descriptor form (fgetxattr).
func (op xattrOp) fd(t *kernel.Task, a [6]uint64) (uint64, error) {
	x, err := op.args(t, a)
	if err != nil {
		return 0, err
	}
	f, err := xattrAtFD(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	return op.run(t, f, x, a)
}

// nameArg reads the name of getxattr and removexattr.
func nameArg(t *kernel.Task, a [6]uint64) (xattrArgs, error) {
	name, err := xattrName(t, a[1])
	return xattrArgs{name: name}, err
}

// copyOutSized is the answer of getxattr and listxattr: the size with a
// zero-sized buffer, ERANGE when b does not fit, else b copied out.
func copyOutSized(t *kernel.Task, addr, size, max uint64, b []byte) (uint64, error) {
	if size == 0 {
		return uint64(len(b)), nil
	}
	if uint64(len(b)) > min(size, max) {
		return 0, unix.ERANGE
	}
	return uint64(len(b)), t.CopyOut(addr, b)
}

// xattrInode returns f's attributes, EOPNOTSUPP when its filesystem has
// none or the name is in no namespace it keeps.
func xattrInode(f xattrFile, name string) (vfs.XattrInode, error) {
	x, ok := f.ino.(vfs.XattrInode)
	switch {
	case !ok:
		return nil, unix.EOPNOTSUPP
	case xattrPrefixOnly(name):
		return nil, unix.EINVAL
	case !xattrKnown(name):
		return nil, unix.EOPNOTSUPP
	}
	return x, nil
}

var getxattrOp = xattrOp{args: nameArg, run: func(t *kernel.Task, f xattrFile, x xattrArgs, a [6]uint64) (uint64, error) {
	if err := xattrPermission(t, f, x.name, false); err != nil {
		return 0, err
	}
	xi, err := xattrInode(f, x.name)
	if err != nil {
		return 0, err
	}
	v, err := xi.GetXattr(x.name)
	if err != nil {
		return 0, err
	}
	return copyOutSized(t, a[2], a[3], xattrSizeMax, v)
}}

var setxattrOp = xattrOp{
	args: func(t *kernel.Task, a [6]uint64) (xattrArgs, error) {
		if a[4]&^(vfs.XattrCreate|vfs.XattrReplace) != 0 {
			return xattrArgs{}, unix.EINVAL
		}
		name, err := xattrName(t, a[1])
		if err != nil {
			return xattrArgs{}, err
		}
		if a[3] > xattrSizeMax {
			return xattrArgs{}, unix.E2BIG
		}
		v := make([]byte, a[3])
		if err := t.CopyIn(a[2], v); err != nil {
			return xattrArgs{}, err
		}
		return xattrArgs{name: name, value: v}, nil
	},
	run: func(t *kernel.Task, f xattrFile, x xattrArgs, a [6]uint64) (uint64, error) {
		if err := xattrPermission(t, f, x.name, true); err != nil {
			return 0, err
		}
		xi, err := xattrInode(f, x.name)
		if err != nil {
			return 0, err
		}
		return 0, xi.SetXattr(t, x.name, x.value, int(a[4]))
	},
}

var removexattrOp = xattrOp{args: nameArg, run: func(t *kernel.Task, f xattrFile, x xattrArgs, a [6]uint64) (uint64, error) {
	if err := xattrPermission(t, f, x.name, true); err != nil {
		return 0, err
	}
	xi, err := xattrInode(f, x.name)
	if err != nil {
		return 0, err
	}
	return 0, xi.RemoveXattr(x.name)
}}

// listxattrOp writes the names the caller may see, each NUL-terminated:
// trusted.* only to CAP_SYS_ADMIN, as Linux. A file whose filesystem
// keeps no attributes lists none (cp -a and tar then have nothing to do).
var listxattrOp = xattrOp{
	args: func(*kernel.Task, [6]uint64) (xattrArgs, error) { return xattrArgs{}, nil },
	run: func(t *kernel.Task, f xattrFile, _ xattrArgs, a [6]uint64) (uint64, error) {
		xi, ok := f.ino.(vfs.XattrInode)
		if !ok {
			return 0, nil
		}
		var b []byte
		admin := t.Credentials().HasCap(capSysAdmin)
		for _, n := range xi.ListXattr() {
			if strings.HasPrefix(n, "trusted.") && !admin {
				continue
			}
			b = append(append(b, n...), 0)
		}
		return copyOutSized(t, a[1], a[2], xattrListMax, b)
	},
}

// sysFlistxattr is flistxattr: a pipe or socket lists nothing.
func sysFlistxattr(t *kernel.Task, a [6]uint64) (uint64, error) {
	n, err := listxattrOp.fd(t, a)
	if err == unix.EOPNOTSUPP {
		return 0, nil
	}
	return n, err
}
