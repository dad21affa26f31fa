package kernel

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Readlink resolves a symbolic link's target. Until the sandbox has a
// filesystem of its own, the only link is /proc/self/exe (and
// /proc/PID/exe of the caller).
func (t *Task) Readlink(dirfd int32, path string) (string, error) {
	if rest, ok := strings.CutPrefix(path, "/proc/"); ok {
		who, file, _ := strings.Cut(rest, "/")
		if file == "exe" && (who == "self" || who == strconv.Itoa(int(t.PID()))) {
			return t.MM.Exe, nil
		}
	}
	return "", unix.ENOENT
}
