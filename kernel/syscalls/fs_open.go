package syscalls

import (
	"encoding/binary"
	"strings"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
)

// openFlagsKnown are the open(2) flags Linux defines; openat2 rejects
// others with EINVAL (open and openat ignore them).
const openFlagsKnown = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC |
	unix.O_APPEND | unix.O_NONBLOCK | unix.O_DSYNC | unix.O_ASYNC | unix.O_DIRECT | vfs.OLargeFile |
	unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NOATIME | unix.O_CLOEXEC | unix.O_SYNC | unix.O_PATH |
	unix.O_TMPFILE

// Resolve flags of openat2 (struct open_how.resolve).
const (
	resolveNoXdev       = 0x01
	resolveNoMagiclinks = 0x02
	resolveNoSymlinks   = 0x04
	resolveBeneath      = 0x08
	resolveInRoot       = 0x10
	resolveCached       = 0x20
	resolveKnown        = 0x3f
)

// copyPath reads a path argument (ENAMETOOLONG at PATH_MAX).
func copyPath(t *kernel.Task, addr uint64) (string, error) {
	return t.CopyInString(addr, vfs.PathMax)
}

// pathAt reads the path at addr and resolves where it starts (dirfd or the
// working directory): the preamble of every *at syscall.
func pathAt(t *kernel.Task, dirfd int32, addr uint64) (*vfs.VFS, vfs.At, string, error) {
	p, err := copyPath(t, addr)
	if err != nil {
		return nil, vfs.At{}, "", err
	}
	v, at, err := t.At(dirfd, p)
	return v, at, p, err
}

// resolvePath reads the path at addr and resolves it to the file it names,
// following a trailing symlink (chdir, chroot, statfs).
func resolvePath(t *kernel.Task, dirfd int32, addr uint64) (*vfs.VFS, vfs.Path, error) {
	v, at, p, err := pathAt(t, dirfd, addr)
	if err != nil {
		return nil, vfs.Path{}, err
	}
	q, err := v.Resolve(t, at, p, 0)
	return v, q, err
}

func sysOpen(t *kernel.Task, a [6]uint64) (uint64, error) {
	return openAt(t, kernel.AtFDCWD, a[0], uint32(a[1]), uint32(a[2]), 0)
}

func sysOpenat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return openAt(t, int32(a[0]), a[1], uint32(a[2]), uint32(a[3]), 0)
}

func sysCreat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return openAt(t, kernel.AtFDCWD, a[0], unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, uint32(a[1]), 0)
}

func sysOpenat2(t *kernel.Task, a [6]uint64) (uint64, error) {
	dirfd, howAddr, size := int32(a[0]), a[2], a[3]
	const howSize = 24
	if size < howSize {
		return 0, unix.EINVAL
	}
	if size > 4096 {
		return 0, unix.E2BIG
	}
	buf := make([]byte, size)
	if err := t.CopyIn(howAddr, buf); err != nil {
		return 0, err
	}
	for _, b := range buf[howSize:] {
		if b != 0 {
			return 0, unix.E2BIG
		}
	}
	flags := binary.LittleEndian.Uint64(buf[0:])
	mode := binary.LittleEndian.Uint64(buf[8:])
	resolve := binary.LittleEndian.Uint64(buf[16:])
	if flags&^uint64(openFlagsKnown) != 0 || resolve&^resolveKnown != 0 || mode&^0o7777 != 0 {
		return 0, unix.EINVAL
	}
	if mode != 0 && flags&unix.O_CREAT == 0 && flags&unix.O_TMPFILE != unix.O_TMPFILE {
		return 0, unix.EINVAL
	}
	// open(2) drops the other flags of an O_PATH open; openat2 refuses
	// them (O_TMPFILE and O_LARGEFILE included).
	if flags&unix.O_PATH != 0 && flags&^uint64(unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC) != 0 {
		return 0, unix.EINVAL
	}
	if resolve&resolveBeneath != 0 && resolve&resolveInRoot != 0 {
		return 0, unix.EINVAL
	}
	if resolve&resolveCached != 0 && flags&(unix.O_CREAT|unix.O_TRUNC|unix.O_TMPFILE) != 0 {
		return 0, unix.EAGAIN
	}
	return openAt(t, dirfd, a[1], uint32(flags), uint32(mode), resolve)
}

func openAt(t *kernel.Task, dirfd int32, pathAddr uint64, flags, mode uint32, resolve uint64) (uint64, error) {
	p, err := copyPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	if flags&unix.O_CREAT != 0 && flags&unix.O_DIRECTORY != 0 && flags&unix.O_TMPFILE != unix.O_TMPFILE {
		return 0, unix.EINVAL
	}
	v, at, err := t.At(dirfd, p)
	if err != nil {
		return 0, err
	}
	if resolve != 0 {
		if at, err = checkResolve(t, v, dirfd, at, p, resolve); err != nil {
			return 0, err
		}
	}
	d, err := v.OpenAt(t, at, p, flags, mode)
	if err == unix.ENOTDIR && flags&unix.O_CREAT != 0 && strings.HasSuffix(p, "/") {
		// Linux refuses O_CREAT of a name with a trailing slash with
		// EISDIR once the parent resolves, whatever the name is.
		if parent := strings.TrimRight(p, "/"); parent != "" {
			if i := strings.LastIndexByte(parent, '/'); i >= 0 {
				parent = parent[:i+1]
			} else {
				parent = "."
			}
			if q, perr := v.Resolve(t, at, parent, 0); perr == nil && q.Dentry.IsDir() {
				err = unix.EISDIR
			}
		}
	}
	if err != nil {
		return 0, err
	}
	n, err := t.Files.Install(d, 0, flags&unix.O_CLOEXEC != 0, t.NoFileLimit())
	if err != nil {
		d.DecRef()
		return 0, err
	}
	// The table holds its own reference now.
	d.DecRef()
	return uint64(n), nil
}

// checkResolve applies openat2's RESOLVE_* restrictions by walking path
// component by component without following the last link of each prefix.
// It returns the walk start to use (RESOLVE_IN_ROOT makes dirfd the root).
func checkResolve(t *kernel.Task, v *vfs.VFS, dirfd int32, at vfs.At, path string, resolve uint64) (vfs.At, error) {
	if resolve&(resolveBeneath|resolveInRoot) != 0 {
		// As Linux's path_init: an absolute path escapes RESOLVE_BENEATH
		// before dirfd is looked at; under RESOLVE_IN_ROOT, dirfd is the
		// root even for one, and must be a directory (t.At checked it
		// only for a relative path).
		if resolve&resolveInRoot == 0 && strings.HasPrefix(path, "/") {
			return at, unix.EXDEV
		}
		if dirfd != kernel.AtFDCWD {
			d, err := t.FD(dirfd)
			if err != nil {
				return at, err
			}
			p := d.Path()
			d.DecRef()
			if p.IsZero() || !p.Dentry.IsDir() {
				return at, unix.ENOTDIR
			}
			at.Dir = p
		}
		if resolve&resolveInRoot != 0 {
			at.Root = at.Dir
		}
	}
	start := at.Dir
	if strings.HasPrefix(path, "/") {
		start = at.Root
	}
	depth := 0
	prefix := ""
	if strings.HasPrefix(path, "/") {
		prefix = "/"
	}
	parts := strings.Split(path, "/")
	for i, c := range parts {
		if c == "" || c == "." {
			continue
		}
		if c == ".." {
			depth--
			if depth < 0 && resolve&resolveBeneath != 0 {
				return at, unix.EXDEV
			}
		} else {
			depth++
		}
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		prefix += c
		q, err := v.Resolve(t, at, prefix, unix.AT_SYMLINK_NOFOLLOW)
		if err != nil {
			return at, nil // let the real open report it
		}
		if q.Mount != start.Mount && resolve&resolveNoXdev != 0 {
			return at, unix.EXDEV
		}
		ino := q.Dentry.Inode()
		if _, ok := ino.(vfs.MagicLink); ok && resolve&(resolveNoMagiclinks|resolveNoSymlinks) != 0 {
			return at, unix.ELOOP
		}
		if _, ok := ino.(vfs.SymlinkInode); ok {
			if resolve&resolveNoSymlinks != 0 {
				return at, unix.ELOOP
			}
			if resolve&resolveBeneath != 0 && i < len(parts) {
				if target, err := v.ReadlinkAt(t, at, prefix); err == nil && strings.HasPrefix(target, "/") {
					return at, unix.EXDEV
				}
			}
		}
	}
	return at, nil
}

func sysCloseRange(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, t.Files.CloseRange(uint32(a[0]), uint32(a[1]), uint32(a[2]))
}
