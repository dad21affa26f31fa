package syscalls

import (
	"encoding/binary"
	"golang.org/x/sys/unix"
	"uk/kernel"
)

func sysPrlimit64(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, res, newAddr, oldAddr := int32(a[0]), int(a[1]), a[2], a[3]
	if pid != 0 && pid != t.PID() {
		return 0, unix.ESRCH
	}
	return 0, rlimit(t, res, newAddr, oldAddr)
}

func rlimit(t *kernel.Task, res int, newAddr, oldAddr uint64) error {
	if res < 0 || res >= 16 {
		return unix.EINVAL
	}
	tg := t.ThreadGroup()
	old := tg.Rlimit(res)
	if newAddr != 0 {
		var b [16]byte
		if err := t.CopyIn(newAddr, b[:]); err != nil {
			return err
		}
		l := kernel.Rlimit{Cur: binary.LittleEndian.Uint64(b[0:]), Max: binary.LittleEndian.Uint64(b[8:])}
		if l.Cur > l.Max {
			return unix.EINVAL
		}
		if l.Max > old.Max && !t.Credentials().Privileged {
			return unix.EPERM
		}
		if res == unix.RLIMIT_NOFILE && l.Max > 1<<20 {
			return unix.EPERM
		}
		tg.SetRlimit(res, l)
	}
	if oldAddr != 0 {
		return t.CopyOut(oldAddr, words(old.Cur, old.Max))
	}
	return nil
}

func sysGetrlimit(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, rlimit(t, int(a[0]), 0, a[1])
}

func sysSetrlimit(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, rlimit(t, int(a[0]), a[1], 0)
}
