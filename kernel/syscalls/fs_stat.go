package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/fs/eventfd"
	"uk/fs/vfs"
	"uk/kernel"
)

// statAt is what stat, lstat, newfstatat and statx share: the attributes
// of the file path names relative to dirfd, and where it is (statx's
// mount fields and attributes). An empty path with AT_EMPTY_PATH and a
// descriptor stats the descriptor itself, which may be an anonymous file
// (a pipe) the namespace does not know; a NULL path with AT_EMPTY_PATH is
// the empty path, as since Linux 6.11.
func statAt(t *kernel.Task, dirfd int32, pathAddr uint64, flags int) (vfs.Stat, statWhere, error) {
	var p string
	if pathAddr != 0 || flags&unix.AT_EMPTY_PATH == 0 {
		var err error
		if p, err = copyPath(t, pathAddr); err != nil {
			return vfs.Stat{}, statWhere{}, err
		}
	}
	if p == "" && flags&unix.AT_EMPTY_PATH != 0 && dirfd != kernel.AtFDCWD {
		d, err := t.FD(dirfd)
		if err != nil {
			return vfs.Stat{}, statWhere{}, err
		}
		defer d.DecRef()
		st, err := d.Stat(t)
		return st, whereOf(d.Path()), err
	}
	v, at, err := t.At(dirfd, p)
	if err != nil {
		return vfs.Stat{}, statWhere{}, err
	}
	q, err := v.Resolve(t, at, p, flags)
	if err != nil {
		return vfs.Stat{}, statWhere{}, err
	}
	st, err := v.StatPath(t, q)
	return st, whereOf(q), err
}

// statWhere is where a stat's file is, for statx: its mount's ID, whether
// it is that mount's root, whether its filesystem keeps inode flags.
type statWhere struct {
	mntID                 int
	mountRoot, keepsFlags bool
}

func whereOf(p vfs.Path) statWhere {
	if p.Mount == nil || p.Dentry == nil {
		return statWhere{}
	}
	return statWhere{mntID: p.Mount.ID(), mountRoot: p.Mount.Root() == p.Dentry, keepsFlags: vfs.KeepsFlags(p)}
}

func sysStat(t *kernel.Task, a [6]uint64) (uint64, error) {
	st, _, err := statAt(t, kernel.AtFDCWD, a[0], 0)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a[1], marshalStat(&st))
}

func sysLstat(t *kernel.Task, a [6]uint64) (uint64, error) {
	st, _, err := statAt(t, kernel.AtFDCWD, a[0], unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a[1], marshalStat(&st))
}

func sysNewfstatat(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := int(a[3])
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT) != 0 {
		return 0, unix.EINVAL
	}
	st, _, err := statAt(t, int32(a[0]), a[1], flags)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a[2], marshalStat(&st))
}

// statx flags and mask bits not in every x/sys/unix version.
const (
	statxMntID     = 0x1000
	statxReserved  = 0x80000000
	atStatxSyncAll = 0x6000
)

func sysStatx(t *kernel.Task, a [6]uint64) (uint64, error) {
	dirfd, flags, mask, buf := int32(a[0]), int(a[2]), uint32(a[3]), a[4]
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT|atStatxSyncAll) != 0 ||
		flags&atStatxSyncAll == atStatxSyncAll || mask&statxReserved != 0 {
		return 0, unix.EINVAL
	}
	st, where, err := statAt(t, dirfd, a[1], flags&^atStatxSyncAll)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(buf, marshalStatx(&st, mask, where))
}

// statxAttrsKnown are the stx_attributes bits every file's
// stx_attributes_mask reports (Linux's vfs_getattr_nosec and vfs_statx
// add them whatever the filesystem): automount, mount root, DAX.
const statxAttrsKnown = statxAttrAutomount | statxAttrMountRoot | statxAttrDAX

// statx attribute bits not in every x/sys/unix version.
const (
	statxAttrAutomount = 0x1000
	statxAttrMountRoot = 0x2000
	statxAttrDAX       = 0x200000
)

// statxAttrsFlags are the stx_attributes bits that are inode flags of the
// same value (immutable, append-only, nodump), which a filesystem keeping
// inode flags reports (tmpfs, as Linux's shmem_getattr).
const statxAttrsFlags = vfs.FlagImmutable | vfs.FlagAppend | vfs.FlagNodump

// marshalStatx encodes struct statx (256 bytes) for a call that asked for
// want: the birth time only when asked, as Linux's filesystems report it.
func marshalStatx(s *vfs.Stat, want uint32, where statWhere) []byte {
	b := make([]byte, 256)
	le := binary.LittleEndian
	mask := s.Mask
	if mask == 0 {
		mask = unix.STATX_BASIC_STATS
	}
	if want&unix.STATX_BTIME == 0 {
		mask &^= unix.STATX_BTIME
	}
	le.PutUint32(b[0:], mask|statxMntID)
	le.PutUint32(b[4:], uint32(s.Blksize))
	attrs, known := uint64(s.Flags&statxAttrsFlags), uint64(statxAttrsKnown)
	if where.keepsFlags {
		known |= statxAttrsFlags
	}
	if where.mountRoot {
		attrs |= statxAttrMountRoot
	}
	le.PutUint64(b[8:], attrs)
	le.PutUint64(b[56:], known)
	le.PutUint32(b[16:], uint32(s.Nlink))
	le.PutUint32(b[20:], s.UID)
	le.PutUint32(b[24:], s.GID)
	le.PutUint16(b[28:], uint16(s.Mode))
	le.PutUint64(b[32:], s.Ino)
	le.PutUint64(b[40:], uint64(s.Size))
	le.PutUint64(b[48:], uint64(s.Blocks))
	ts := func(off int, t unix.Timespec) {
		le.PutUint64(b[off:], uint64(t.Sec))
		le.PutUint32(b[off+8:], uint32(t.Nsec))
	}
	ts(64, s.Atime)
	if mask&unix.STATX_BTIME != 0 {
		ts(80, s.Btime)
	}
	ts(96, s.Ctime)
	ts(112, s.Mtime)
	le.PutUint32(b[128:], unix.Major(s.Rdev))
	le.PutUint32(b[132:], unix.Minor(s.Rdev))
	le.PutUint32(b[136:], unix.Major(s.Dev))
	le.PutUint32(b[140:], unix.Minor(s.Dev))
	le.PutUint64(b[144:], uint64(where.mntID))
	return b
}

// The magic numbers fstatfs reports for files outside the tree: pipes',
// sockets' and anonymous inodes' (eventfd, epoll, ...) internal
// filesystems.
const (
	pipefsMagic    = 0x50495045
	sockfsMagic    = 0x534f434b
	anonInodeMagic = 0x09041934
)

// marshalStatfs encodes struct statfs for x86-64 (120 bytes).
func marshalStatfs(s *vfs.Statfs, dev uint64) []byte {
	b := make([]byte, 120)
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(s.Type))
	le.PutUint64(b[8:], uint64(s.Bsize))
	le.PutUint64(b[16:], s.Blocks)
	le.PutUint64(b[24:], s.Bfree)
	le.PutUint64(b[32:], s.Bavail)
	le.PutUint64(b[40:], s.Files)
	le.PutUint64(b[48:], s.Ffree)
	le.PutUint32(b[56:], uint32(dev))
	le.PutUint32(b[60:], uint32(dev>>32))
	le.PutUint64(b[64:], uint64(s.Namelen))
	le.PutUint64(b[72:], uint64(s.Frsize))
	le.PutUint64(b[80:], uint64(s.Flags))
	return b
}

func sysStatfs(t *kernel.Task, a [6]uint64) (uint64, error) {
	v, q, err := resolvePath(t, kernel.AtFDCWD, a[0])
	if err != nil {
		return 0, err
	}
	s, err := v.StatfsPath(t, q)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a[1], marshalStatfs(&s, q.Dentry.Superblock().Dev()))
}

func sysFstatfs(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	p := d.Path()
	if p.IsZero() {
		s := vfs.Statfs{Type: pipefsMagic, Bsize: 4096, Frsize: 4096, Namelen: 255, Flags: 0x20}
		if st, err := d.Stat(t); err == nil {
			switch {
			case st.Type() == unix.S_IFSOCK:
				s.Type = sockfsMagic
			case st.Dev == eventfd.AnonDev:
				s.Type = anonInodeMagic
			}
		}
		return 0, t.CopyOut(a[1], marshalStatfs(&s, 0))
	}
	v, _, err := t.VFS()
	if err != nil {
		return 0, err
	}
	s, err := v.StatfsPath(t, p)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a[1], marshalStatfs(&s, p.Dentry.Superblock().Dev()))
}

func sysFstat(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	st, err := d.Stat(t)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOut(a[1], marshalStat(&st))
}

// marshalStat encodes struct stat for x86-64.
func marshalStat(s *vfs.Stat) []byte {
	b := make([]byte, 144)
	le := binary.LittleEndian
	le.PutUint64(b[0:], s.Dev)
	le.PutUint64(b[8:], s.Ino)
	le.PutUint64(b[16:], uint64(s.Nlink))
	le.PutUint32(b[24:], s.Mode)
	le.PutUint32(b[28:], s.UID)
	le.PutUint32(b[32:], s.GID)
	le.PutUint64(b[40:], s.Rdev)
	le.PutUint64(b[48:], uint64(s.Size))
	le.PutUint64(b[56:], uint64(s.Blksize))
	le.PutUint64(b[64:], uint64(s.Blocks))
	le.PutUint64(b[72:], uint64(s.Atime.Sec))
	le.PutUint64(b[80:], uint64(s.Atime.Nsec))
	le.PutUint64(b[88:], uint64(s.Mtime.Sec))
	le.PutUint64(b[96:], uint64(s.Mtime.Nsec))
	le.PutUint64(b[104:], uint64(s.Ctime.Sec))
	le.PutUint64(b[112:], uint64(s.Ctime.Nsec))
	return b
}
