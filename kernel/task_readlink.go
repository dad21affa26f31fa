package kernel

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Readlink returns the contents of the symbolic link path names relative
// to dirfd (readlinkat(2)); an empty path reads the link an O_PATH
// descriptor refers to. Without a filesystem the only link is
// /proc/self/exe (and /proc/PID/exe of the caller).
func (t *Task) Readlink(dirfd int32, path string) (string, error) {
	if t.k.VFS == nil || t.FS == nil {
		if rest, ok := strings.CutPrefix(path, "/proc/"); ok {
			who, file, _ := strings.Cut(rest, "/")
			if file == "exe" && (who == "self" || who == strconv.Itoa(int(t.PID()))) {
				return t.MM.Exe, nil
			}
		}
		return "", unix.ENOENT
	}
	v, at, err := t.At(dirfd, path)
	if err != nil {
		return "", err
	}
	return v.ReadlinkAt(t, at, path)
}
