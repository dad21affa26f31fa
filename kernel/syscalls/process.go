package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/kernel"
)

func sysExit(t *kernel.Task, a [6]uint64) (uint64, error) {
	t.Exit(int(a[0]))
	return 0, kernel.ErrNoReturnValue
}

func sysExitGroup(t *kernel.Task, a [6]uint64) (uint64, error) {
	t.ExitGroup(int(a[0]))
	return 0, kernel.ErrNoReturnValue
}

func sysGetpid(t *kernel.Task, a [6]uint64) (uint64, error)  { return uint64(t.PID()), nil }
func sysGettid(t *kernel.Task, a [6]uint64) (uint64, error)  { return uint64(t.TID()), nil }
func sysGetppid(t *kernel.Task, a [6]uint64) (uint64, error) { return uint64(t.PPID()), nil }

func sysSetTidAddress(t *kernel.Task, a [6]uint64) (uint64, error) {
	t.SetClearChildTID(a[0])
	return uint64(t.TID()), nil
}

// robustListHeadSize is sizeof(struct robust_list_head) on x86-64.
const robustListHeadSize = 24

func sysSetRobustList(t *kernel.Task, a [6]uint64) (uint64, error) {
	if a[1] != robustListHeadSize {
		return 0, unix.EINVAL
	}
	t.SetRobustList(a[0])
	return 0, nil
}

// ARCH_* codes of arch_prctl.
const (
	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004
)

// canonical reports whether addr is a canonical user address, as Linux
// requires of FS/GS bases.
func canonical(addr uint64) bool { return addr < 1<<47 }

func sysArchPrctl(t *kernel.Task, a [6]uint64) (uint64, error) {
	r := &t.State.Regs
	switch a[0] {
	case archSetFS:
		if !canonical(a[1]) {
			return 0, unix.EPERM
		}
		r.FsBase = a[1]
	case archSetGS:
		if !canonical(a[1]) {
			return 0, unix.EPERM
		}
		r.GsBase = a[1]
	case archGetFS:
		return 0, putUint64(t, a[1], r.FsBase)
	case archGetGS:
		return 0, putUint64(t, a[1], r.GsBase)
	default:
		return 0, unix.EINVAL
	}
	return 0, nil
}

func sysUname(t *kernel.Task, a [6]uint64) (uint64, error) {
	// struct utsname: six fields of 65 bytes.
	var u [6 * 65]byte
	fields := []string{"Linux", t.Kernel().Hostname, kernel.Release, kernel.Version, "x86_64", "(none)"}
	for i, f := range fields {
		copy(u[i*65:i*65+64], f)
	}
	return 0, t.CopyOut(a[0], u[:])
}

func sysGetRobustList(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid := int32(a[0])
	target := t
	if pid != 0 {
		target = t.Kernel().TaskByTID(pid)
		if target == nil {
			return 0, unix.ESRCH
		}
	}
	if err := putUint64(t, a[1], target.RobustList()); err != nil {
		return 0, err
	}
	return 0, putUint64(t, a[2], robustListHeadSize)
}
