package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/kernel"
)

func sysUnlink(t *kernel.Task, a [6]uint64) (uint64, error) {
	return unlinkAt(t, kernel.AtFDCWD, a[0], 0)
}

func sysUnlinkat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return unlinkAt(t, int32(a[0]), a[1], int(a[2]))
}

func unlinkAt(t *kernel.Task, dirfd int32, pathAddr uint64, flags int) (uint64, error) {
	if flags&^unix.AT_REMOVEDIR != 0 {
		return 0, unix.EINVAL
	}
	v, at, p, err := pathAt(t, dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	return 0, v.UnlinkAt(t, at, p, flags)
}

func sysLink(t *kernel.Task, a [6]uint64) (uint64, error) {
	return linkAt(t, kernel.AtFDCWD, a[0], kernel.AtFDCWD, a[1], 0)
}

func sysLinkat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return linkAt(t, int32(a[0]), a[1], int32(a[2]), a[3], int(a[4]))
}

func linkAt(t *kernel.Task, olddirfd int32, oldAddr uint64, newdirfd int32, newAddr uint64, flags int) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	oldp, err := copyPath(t, oldAddr)
	if err != nil {
		return 0, err
	}
	newp, err := copyPath(t, newAddr)
	if err != nil {
		return 0, err
	}
	if oldp == "" && flags&unix.AT_EMPTY_PATH != 0 && !t.Credentials().Privileged {
		return 0, unix.ENOENT // needs CAP_DAC_READ_SEARCH
	}
	v, oldAt, err := t.At(olddirfd, oldp)
	if err != nil {
		return 0, err
	}
	_, newAt, err := t.At(newdirfd, newp)
	if err != nil {
		return 0, err
	}
	return 0, v.LinkAt(t, oldAt, oldp, newAt, newp, flags)
}

func sysSymlink(t *kernel.Task, a [6]uint64) (uint64, error) {
	return symlinkAt(t, a[0], kernel.AtFDCWD, a[1])
}

func sysSymlinkat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return symlinkAt(t, a[0], int32(a[1]), a[2])
}

func symlinkAt(t *kernel.Task, targetAddr uint64, dirfd int32, pathAddr uint64) (uint64, error) {
	target, err := copyPath(t, targetAddr)
	if err != nil {
		return 0, err
	}
	v, at, p, err := pathAt(t, dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	return 0, v.SymlinkAt(t, target, at, p)
}

func sysRename(t *kernel.Task, a [6]uint64) (uint64, error) {
	return renameAt(t, kernel.AtFDCWD, a[0], kernel.AtFDCWD, a[1], 0)
}

func sysRenameat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return renameAt(t, int32(a[0]), a[1], int32(a[2]), a[3], 0)
}

func sysRenameat2(t *kernel.Task, a [6]uint64) (uint64, error) {
	return renameAt(t, int32(a[0]), a[1], int32(a[2]), a[3], uint32(a[4]))
}

func renameAt(t *kernel.Task, olddirfd int32, oldAddr uint64, newdirfd int32, newAddr uint64, flags uint32) (uint64, error) {
	if flags&unix.RENAME_WHITEOUT != 0 {
		return 0, unix.EINVAL
	}
	oldp, err := copyPath(t, oldAddr)
	if err != nil {
		return 0, err
	}
	newp, err := copyPath(t, newAddr)
	if err != nil {
		return 0, err
	}
	v, oldAt, err := t.At(olddirfd, oldp)
	if err != nil {
		return 0, err
	}
	_, newAt, err := t.At(newdirfd, newp)
	if err != nil {
		return 0, err
	}
	return 0, v.RenameAt2(t, oldAt, oldp, newAt, newp, flags)
}

func sysReadlink(t *kernel.Task, a [6]uint64) (uint64, error) {
	return readlinkAt(t, unix.AT_FDCWD, a[0], a[1], a[2])
}

func sysReadlinkat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return readlinkAt(t, int32(a[0]), a[1], a[2], a[3])
}

func readlinkAt(t *kernel.Task, dirfd int32, pathAddr, buf, size uint64) (uint64, error) {
	if int32(size) <= 0 { // bufsiz is an int: 0xffffffff is -1
		return 0, unix.EINVAL
	}
	size = uint64(int32(size))
	p, err := t.CopyInString(pathAddr, unix.PathMax)
	if err != nil {
		return 0, err
	}
	target, err := t.Readlink(dirfd, p)
	if err != nil {
		return 0, err
	}
	n := min(uint64(len(target)), size)
	return n, t.CopyOut(buf, []byte(target[:n]))
}
