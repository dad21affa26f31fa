package syscalls

import (
	"fmt"
	"golang.org/x/sys/unix"
	"strings"
	"uk/kernel"
)

// stringVector reads a NULL-terminated array of string pointers.
func stringVector(t *kernel.Task, addr uint64) ([]string, error) {
	var out []string
	if addr == 0 {
		return nil, nil
	}
	for i := 0; ; i++ {
		if i >= maxArgs {
			return nil, unix.E2BIG
		}
		p, err := getUint64(t, addr+uint64(8*i))
		if err != nil {
			return nil, err
		}
		if p == 0 {
			return out, nil
		}
		s, err := t.CopyInString(p, 32*4096)
		if err != nil {
			if err == unix.ENAMETOOLONG {
				return nil, unix.E2BIG
			}
			return nil, err
		}
		out = append(out, s)
	}
}

func sysExecve(t *kernel.Task, a [6]uint64) (uint64, error) {
	return execveAt(t, unix.AT_FDCWD, a[0], a[1], a[2], 0)
}

func sysExecveat(t *kernel.Task, a [6]uint64) (uint64, error) {
	return execveAt(t, int32(a[0]), a[1], a[2], a[3], int(a[4]))
}

// execveAt runs execve and execveat with Linux's checks in its order:
// the name (EFAULT; ENOENT for an empty one without AT_EMPTY_PATH), the
// flags (EINVAL), the directory descriptor (EBADF, ENOTDIR), a final
// symlink under AT_SYMLINK_NOFOLLOW (ELOOP), then the vectors.
func execveAt(t *kernel.Task, dirfd int32, pathAddr, argvAddr, envAddr uint64, flags int) (uint64, error) {
	path, err := t.CopyInString(pathAddr, unix.PathMax)
	if err != nil {
		return 0, err
	}
	if path == "" && flags&unix.AT_EMPTY_PATH == 0 {
		return 0, unix.ENOENT
	}
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	if dirfd != unix.AT_FDCWD && !strings.HasPrefix(path, "/") {
		d, err := t.FD(dirfd)
		if err != nil {
			return 0, err
		}
		st, err := d.Stat(t)
		d.DecRef()
		if err != nil {
			return 0, err
		}
		if path != "" && st.Type() != unix.S_IFDIR {
			return 0, unix.ENOTDIR
		}
	}
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 && path != "" {
		if st, _, err := statAt(t, dirfd, pathAddr, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Type() == unix.S_IFLNK {
			return 0, unix.ELOOP
		}
	}
	if dirfd != unix.AT_FDCWD && !strings.HasPrefix(path, "/") {
		if path == "" && flags&unix.AT_EMPTY_PATH != 0 {
			path = fmt.Sprintf("/proc/self/fd/%d", dirfd)
		} else {
			path = fmt.Sprintf("/proc/self/fd/%d/%s", dirfd, path)
		}
	}
	argv, err := stringVector(t, argvAddr)
	if err != nil {
		return 0, err
	}
	envv, err := stringVector(t, envAddr)
	if err != nil {
		return 0, err
	}
	return 0, t.Execve(path, argv, envv)
}
