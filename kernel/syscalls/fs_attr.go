package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
)

// fdAt returns the walk start naming the file behind fd itself (the f*
// syscalls as *at with AT_EMPTY_PATH). Anonymous files have no Path: ok
// is false and the caller decides what Linux does for them. An O_PATH
// descriptor is EBADF for the f* calls (fchmod, fchown, futimens: Linux
// takes their fd with fdget) but names its file for the *at calls with
// an empty path (a path walk there: fdAtEmptyPath).
func fdAt(t *kernel.Task, fdn int32) (v *vfs.VFS, at vfs.At, ok bool, err error) {
	return fdAtAccess(t, fdn, kernel.FDNotPath)
}

// fdAtEmptyPath is fdAt for fchmodat2, fchownat and utimensat with an
// empty path and AT_EMPTY_PATH, which take O_PATH descriptors too.
func fdAtEmptyPath(t *kernel.Task, fdn int32) (v *vfs.VFS, at vfs.At, ok bool, err error) {
	return fdAtAccess(t, fdn, kernel.FDAny)
}

func fdAtAccess(t *kernel.Task, fdn int32, access kernel.FDAccess) (v *vfs.VFS, at vfs.At, ok bool, err error) {
	d, err := t.FileFD(fdn, access)
	if err != nil {
		return nil, vfs.At{}, false, err
	}
	p := d.Path()
	d.DecRef()
	if p.IsZero() {
		return nil, vfs.At{}, false, nil
	}
	v, fsc, err := t.VFS()
	if err != nil {
		return nil, vfs.At{}, false, err
	}
	return v, fsc.At(p), true, nil
}

func sysChmod(t *kernel.Task, a [6]uint64) (uint64, error) {
	return chmodAt(t, kernel.AtFDCWD, a[0], uint32(a[1]), 0)
}

func sysFchmodat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return chmodAt(t, int32(a[0]), a[1], uint32(a[2]), 0)
}

func sysFchmodat2(t *kernel.Task, a [6]uint64) (uint64, error) {
	return chmodAt(t, int32(a[0]), a[1], uint32(a[2]), int(a[3]))
}

func chmodAt(t *kernel.Task, dirfd int32, pathAddr uint64, mode uint32, flags int) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	p, err := copyPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	if p == "" && flags&unix.AT_EMPTY_PATH != 0 && dirfd != kernel.AtFDCWD {
		v, at, ok, err := fdAtEmptyPath(t, dirfd)
		if err != nil || !ok {
			return 0, err
		}
		return 0, v.ChmodAt(t, at, "", mode, unix.AT_EMPTY_PATH)
	}
	v, at, err := t.At(dirfd, p)
	if err != nil {
		return 0, err
	}
	return 0, v.ChmodAt(t, at, p, mode, flags)
}

func sysFchmod(t *kernel.Task, a [6]uint64) (uint64, error) {
	return fchmod(t, int32(a[0]), uint32(a[1]))
}

func fchmod(t *kernel.Task, fdn int32, mode uint32) (uint64, error) {
	v, at, ok, err := fdAt(t, fdn)
	if err != nil || !ok {
		return 0, err
	}
	return 0, v.ChmodAt(t, at, "", mode, unix.AT_EMPTY_PATH)
}

func sysChown(t *kernel.Task, a [6]uint64) (uint64, error) {
	return chownAt(t, kernel.AtFDCWD, a[0], a[1], a[2], 0)
}

func sysLchown(t *kernel.Task, a [6]uint64) (uint64, error) {
	return chownAt(t, kernel.AtFDCWD, a[0], a[1], a[2], unix.AT_SYMLINK_NOFOLLOW)
}

func sysFchownat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return chownAt(t, int32(a[0]), a[1], a[2], a[3], int(a[4]))
}

// idArg converts a uid/gid argument: (uid_t)-1 means "leave it".
func idArg(v uint64) int64 {
	if uint32(v) == ^uint32(0) {
		return -1
	}
	return int64(uint32(v))
}

func chownAt(t *kernel.Task, dirfd int32, pathAddr, uid, gid uint64, flags int) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	p, err := copyPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	if p == "" && flags&unix.AT_EMPTY_PATH != 0 && dirfd != kernel.AtFDCWD {
		v, at, ok, err := fdAtEmptyPath(t, dirfd)
		if err != nil || !ok {
			return 0, err
		}
		return 0, v.ChownAt(t, at, "", idArg(uid), idArg(gid), unix.AT_EMPTY_PATH)
	}
	v, at, err := t.At(dirfd, p)
	if err != nil {
		return 0, err
	}
	return 0, v.ChownAt(t, at, p, idArg(uid), idArg(gid), flags)
}

func sysFchown(t *kernel.Task, a [6]uint64) (uint64, error) {
	return fchown(t, int32(a[0]), a[1], a[2])
}

func fchown(t *kernel.Task, fdn int32, uid, gid uint64) (uint64, error) {
	v, at, ok, err := fdAt(t, fdn)
	if err != nil || !ok {
		return 0, err
	}
	return 0, v.ChownAt(t, at, "", idArg(uid), idArg(gid), unix.AT_EMPTY_PATH)
}

// utimes sets the times of the file named by (dirfd, path), or of dirfd
// itself when pathAddr is 0 (futimens). times nil means now.
func utimes(t *kernel.Task, dirfd int32, pathAddr uint64, times *[2]unix.Timespec, flags int) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	if pathAddr == 0 {
		if dirfd == kernel.AtFDCWD {
			return 0, unix.EFAULT
		}
		if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
			return 0, unix.EINVAL
		}
		v, at, ok, err := fdAt(t, dirfd)
		if err != nil || !ok {
			return 0, err
		}
		return 0, v.UtimensAt(t, at, "", times, unix.AT_EMPTY_PATH)
	}
	p, err := copyPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	if p == "" && flags&unix.AT_EMPTY_PATH != 0 && dirfd != kernel.AtFDCWD {
		v, at, ok, err := fdAtEmptyPath(t, dirfd)
		if err != nil || !ok {
			return 0, err
		}
		return 0, v.UtimensAt(t, at, "", times, unix.AT_EMPTY_PATH)
	}
	v, at, err := t.At(dirfd, p)
	if err != nil {
		return 0, err
	}
	return 0, v.UtimensAt(t, at, p, times, flags)
}

func sysUtimensat(t *kernel.Task, a [6]uint64) (uint64, error) {
	var times *[2]unix.Timespec
	if a[2] != 0 {
		var b [32]byte
		if err := t.CopyIn(a[2], b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		times = &[2]unix.Timespec{
			{Sec: int64(le.Uint64(b[0:])), Nsec: int64(le.Uint64(b[8:]))},
			{Sec: int64(le.Uint64(b[16:])), Nsec: int64(le.Uint64(b[24:]))},
		}
	}
	return utimes(t, int32(a[0]), a[1], times, int(a[3]))
}

func sysUtime(t *kernel.Task, a [6]uint64) (uint64, error) {
	var times *[2]unix.Timespec
	if a[1] != 0 {
		var b [16]byte
		if err := t.CopyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		times = &[2]unix.Timespec{
			{Sec: int64(binary.LittleEndian.Uint64(b[0:]))},
			{Sec: int64(binary.LittleEndian.Uint64(b[8:]))},
		}
	}
	if a[0] == 0 {
		return 0, unix.EFAULT
	}
	return utimes(t, kernel.AtFDCWD, a[0], times, 0)
}

// timevals reads struct timeval[2] as timespecs (EINVAL for a bad usec).
func timevals(t *kernel.Task, addr uint64) (*[2]unix.Timespec, error) {
	if addr == 0 {
		return nil, nil
	}
	var b [32]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return nil, err
	}
	var ts [2]unix.Timespec
	for i := range ts {
		sec := int64(binary.LittleEndian.Uint64(b[16*i:]))
		usec := int64(binary.LittleEndian.Uint64(b[16*i+8:]))
		if usec < 0 || usec >= 1e6 {
			return nil, unix.EINVAL
		}
		ts[i] = unix.Timespec{Sec: sec, Nsec: usec * 1000}
	}
	return &ts, nil
}

func sysUtimes(t *kernel.Task, a [6]uint64) (uint64, error) {
	times, err := timevals(t, a[1])
	if err != nil {
		return 0, err
	}
	if a[0] == 0 {
		return 0, unix.EFAULT
	}
	return utimes(t, kernel.AtFDCWD, a[0], times, 0)
}

func sysFutimesat(t *kernel.Task, a [6]uint64) (uint64, error) {
	times, err := timevals(t, a[2])
	if err != nil {
		return 0, err
	}
	return utimes(t, int32(a[0]), a[1], times, 0)
}

func sysTruncate(t *kernel.Task, a [6]uint64) (uint64, error) {
	v, at, p, err := pathAt(t, kernel.AtFDCWD, a[0])
	if err != nil {
		return 0, err
	}
	return 0, v.TruncateAt(t, at, p, int64(a[1]))
}

func sysFtruncate(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	if int64(a[1]) < 0 {
		return 0, unix.EINVAL
	}
	if d.IsPath() {
		return 0, unix.EBADF
	}
	st, err := d.Stat(t)
	if err != nil {
		return 0, err
	}
	if !d.Writable() || st.Type() != unix.S_IFREG {
		return 0, unix.EINVAL
	}
	if d.InodeFlags()&vfs.FlagAppend != 0 {
		return 0, unix.EPERM // an append-only file only grows
	}
	return 0, d.Truncate(t, int64(a[1]))
}

func sysAccess(t *kernel.Task, a [6]uint64) (uint64, error) {
	return accessAt(t, kernel.AtFDCWD, a[0], uint32(a[1]), 0)
}

func sysFaccessat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return accessAt(t, int32(a[0]), a[1], uint32(a[2]), 0)
}

func sysFaccessat2(t *kernel.Task, a [6]uint64) (uint64, error) {
	return accessAt(t, int32(a[0]), a[1], uint32(a[2]), int(a[3]))
}

func accessAt(t *kernel.Task, dirfd int32, pathAddr uint64, mode uint32, flags int) (uint64, error) {
	if mode&^7 != 0 || flags&^(unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	v, at, p, err := pathAt(t, dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	return 0, v.AccessAt(t, at, p, mode, flags)
}

func sysUmask(t *kernel.Task, a [6]uint64) (uint64, error) {
	return uint64(t.SetUmask(uint32(a[0]) & 0o777)), nil
}
