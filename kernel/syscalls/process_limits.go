package syscalls

import (
	"encoding/binary"
	"golang.org/x/sys/unix"
	"uk/kernel"
)

// sysPrlimit64 gets and sets another process's limits too, with Linux's
// checks in its order: the new limit is read first (EFAULT), then the
// target (ESRCH: any thread id names its process), then the right to it
// (EPERM: ids that all match the caller's, or CAP_SYS_RESOURCE).
func sysPrlimit64(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, res, newAddr, oldAddr := int32(a[0]), int(a[1]), a[2], a[3]
	l, err := readRlimit(t, newAddr)
	if err != nil {
		return 0, err
	}
	tg := t.ThreadGroup()
	if pid != 0 && pid != t.TID() {
		target := t.Kernel().TaskByTID(pid)
		if pid < 0 || target == nil {
			return 0, unix.ESRCH
		}
		if target.ThreadGroup() != tg {
			c, tc := t.Credentials(), target.Credentials()
			same := c.UID == tc.UID && c.UID == tc.EUID && c.UID == tc.SUID &&
				c.GID == tc.GID && c.GID == tc.EGID && c.GID == tc.SGID
			if !same && !c.HasCap(capSysResource) {
				return 0, unix.EPERM
			}
		}
		tg = target.ThreadGroup()
	}
	return 0, doRlimit(t, tg, res, l, oldAddr)
}

// readRlimit reads a struct rlimit at addr (nil for addr 0).
func readRlimit(t *kernel.Task, addr uint64) (*kernel.Rlimit, error) {
	if addr == 0 {
		return nil, nil
	}
	var b [16]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return nil, err
	}
	return &kernel.Rlimit{Cur: binary.LittleEndian.Uint64(b[0:]), Max: binary.LittleEndian.Uint64(b[8:])}, nil
}

func rlimit(t *kernel.Task, res int, newAddr, oldAddr uint64) error {
	l, err := readRlimit(t, newAddr)
	if err != nil {
		return err
	}
	return doRlimit(t, t.ThreadGroup(), res, l, oldAddr)
}

// doRlimit is Linux's do_prlimit on tg: raising a hard limit needs
// CAP_SYS_RESOURCE, RLIMIT_NOFILE stays within nr_open.
func doRlimit(t *kernel.Task, tg *kernel.ThreadGroup, res int, l *kernel.Rlimit, oldAddr uint64) error {
	if res < 0 || res >= 16 {
		return unix.EINVAL
	}
	old := tg.Rlimit(res)
	if l != nil {
		if l.Cur > l.Max {
			return unix.EINVAL
		}
		if res == unix.RLIMIT_NOFILE && l.Max > 1<<20 {
			return unix.EPERM
		}
		if l.Max > old.Max && !t.Credentials().HasCap(capSysResource) {
			return unix.EPERM
		}
		tg.SetRlimit(res, *l)
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
