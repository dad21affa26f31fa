package syscalls

import (
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
)

// direntBufMax bounds the kernel buffer of one getdents call; a larger
// user buffer is filled up to this much (callers loop until 0 anyway).
const direntBufMax = 256 << 10

// direntBufs holds getdents' kernel buffers (*[]byte of direntBufMax).
var direntBufs = sync.Pool{New: func() any { b := make([]byte, direntBufMax); return &b }}

func sysGetdents64(t *kernel.Task, a [6]uint64) (uint64, error) {
	return getdents(t, int32(a[0]), a[1], a[2], vfs.AppendDirent64)
}

func sysGetdents(t *kernel.Task, a [6]uint64) (uint64, error) {
	return getdents(t, int32(a[0]), a[1], a[2], vfs.AppendDirentOld)
}

func getdents(t *kernel.Task, fdn int32, addr, count uint64, add func([]byte, vfs.Dirent) ([]byte, bool)) (uint64, error) {
	d, err := t.FD(fdn)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	if int(count) < 0 {
		return 0, unix.EINVAL
	}
	// The buffer is reused: allocating (and zeroing) up to 256 KiB per
	// call was a tenth of uk's time in `find /usr`.
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := (*bp)[:0:min(count, direntBufMax)]
	full := false
	err = d.Getdents(t, func(e vfs.Dirent) bool {
		nb, ok := add(buf, e)
		if !ok {
			full = true
			return false
		}
		buf = nb
		return true
	})
	if len(buf) == 0 {
		if err != nil {
			return 0, err
		}
		if full {
			return 0, unix.EINVAL // the buffer cannot hold one entry
		}
		return 0, nil
	}
	if cerr := t.CopyOut(addr, buf); cerr != nil {
		return 0, cerr
	}
	return uint64(len(buf)), nil
}

func sysMkdir(t *kernel.Task, a [6]uint64) (uint64, error) {
	return mkdirAt(t, kernel.AtFDCWD, a[0], uint32(a[1]))
}

func sysMkdirat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return mkdirAt(t, int32(a[0]), a[1], uint32(a[2]))
}

func mkdirAt(t *kernel.Task, dirfd int32, pathAddr uint64, mode uint32) (uint64, error) {
	v, at, p, err := pathAt(t, dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	return 0, v.MkdirAt(t, at, p, mode)
}

func sysMknod(t *kernel.Task, a [6]uint64) (uint64, error) {
	return mknodAt(t, kernel.AtFDCWD, a[0], uint32(a[1]), a[2])
}

func sysMknodat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return mknodAt(t, int32(a[0]), a[1], uint32(a[2]), a[3])
}

func mknodAt(t *kernel.Task, dirfd int32, pathAddr uint64, mode uint32, dev uint64) (uint64, error) {
	v, at, p, err := pathAt(t, dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	// The syscall's dev is the old 32-bit encoding (new_decode_dev).
	d32 := uint32(dev)
	major := (d32 & 0xfff00) >> 8
	minor := (d32 & 0xff) | ((d32 >> 12) & 0xfff00)
	return 0, v.MknodAt(t, at, p, mode, unix.Mkdev(major, minor))
}

func sysRmdir(t *kernel.Task, a [6]uint64) (uint64, error) {
	return unlinkAt(t, kernel.AtFDCWD, a[0], unix.AT_REMOVEDIR)
}

// resolveDir resolves the path at addr to a directory the task may search
// (chdir, chroot).
func resolveDir(t *kernel.Task, addr uint64) (vfs.Path, error) {
	v, q, err := resolvePath(t, kernel.AtFDCWD, addr)
	if err != nil {
		return vfs.Path{}, err
	}
	return q, v.CheckDir(t, q)
}

func sysChdir(t *kernel.Task, a [6]uint64) (uint64, error) {
	q, err := resolveDir(t, a[0])
	if err != nil {
		return 0, err
	}
	t.FS.SetCwd(q)
	return 0, nil
}

func sysFchdir(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	q := d.Path()
	d.DecRef()
	v, fsc, err := t.VFS()
	if err != nil {
		return 0, err
	}
	if q.IsZero() {
		return 0, unix.ENOTDIR
	}
	if err := v.CheckDir(t, q); err != nil {
		return 0, err
	}
	fsc.SetCwd(q)
	return 0, nil
}

func sysChroot(t *kernel.Task, a [6]uint64) (uint64, error) {
	q, err := resolveDir(t, a[0])
	if err != nil {
		return 0, err
	}
	if !t.Credentials().Privileged {
		return 0, unix.EPERM
	}
	t.FS.SetRoot(q)
	return 0, nil
}

func sysGetcwd(t *kernel.Task, a [6]uint64) (uint64, error) {
	v, fsc, err := t.VFS()
	if err != nil {
		return 0, err
	}
	cwd := fsc.Cwd()
	if cwd.Dentry.IsDeleted() {
		return 0, unix.ENOENT
	}
	name, ok := v.PathName(fsc.Root(), cwd)
	if !ok {
		name = "(unreachable)" + name
	}
	b := append([]byte(name), 0)
	if uint64(len(b)) > a[1] {
		return 0, unix.ERANGE
	}
	if err := t.CopyOut(a[0], b); err != nil {
		return 0, err
	}
	return uint64(len(b)), nil
}
