package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel"
)

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
	case arch.ARCH_GET_XCOMP_SUPP:
		return 0, putUint64(t, a[1], arch.HostXSave().Supported())
	case arch.ARCH_GET_XCOMP_PERM, arch.ARCH_GET_XCOMP_GUEST_PERM:
		return 0, putUint64(t, a[1], t.ThreadGroup().XPerm(a[0] == arch.ARCH_GET_XCOMP_GUEST_PERM))
	case arch.ARCH_REQ_XCOMP_PERM, arch.ARCH_REQ_XCOMP_GUEST_PERM:
		return 0, t.ThreadGroup().RequestXPerm(a[1], a[0] == arch.ARCH_REQ_XCOMP_GUEST_PERM)
	default:
		return 0, unix.EINVAL
	}
	return 0, nil
}

func sysPrctl(t *kernel.Task, a [6]uint64) (uint64, error) {
	switch a[0] {
	case prSetName:
		name, err := t.CopyInString(a[1], 16)
		if err == unix.ENAMETOOLONG {
			b := make([]byte, 15)
			if err := t.CopyIn(a[1], b); err != nil {
				return 0, err
			}
			name, err = string(b), nil
		}
		if err != nil {
			return 0, err
		}
		t.SetComm(name)
		return 0, nil
	case prGetName:
		b := make([]byte, 16)
		copy(b, t.Comm())
		return 0, t.CopyOut(a[1], b)
	case prSetPdeathsig:
		if a[1] > 64 {
			return 0, unix.EINVAL
		}
		t.SetPdeathSignal(int(a[1]))
		return 0, nil
	case prGetPdeathsig:
		return 0, putUint32(t, a[1], uint32(t.PdeathSignal()))
	case prGetDumpable:
		return uint64(t.ThreadGroup().Dumpable()), nil
	case prSetDumpable:
		if a[1] > 1 {
			return 0, unix.EINVAL
		}
		t.ThreadGroup().SetDumpable(int(a[1]))
		return 0, nil
	case prSetChildSubreaper:
		t.ThreadGroup().SetChildSubreaper(a[1] != 0)
		return 0, nil
	case prGetChildSubreaper:
		v := uint32(0)
		if t.ThreadGroup().ChildSubreaper() {
			v = 1
		}
		return 0, putUint32(t, a[1], v)
	case prSetNoNewPrivs:
		if a[1] != 1 || a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		t.SetNoNewPrivs()
		return 0, nil
	case prGetNoNewPrivs:
		if t.NoNewPrivs() {
			return 1, nil
		}
		return 0, nil
	case prCapbsetRead:
		if a[1] > vfs.CapLast {
			return 0, unix.EINVAL
		}
		return uint64(t.Credentials().Bounding>>a[1]) & 1, nil
	case prCapbsetDrop:
		return 0, dropBoundingCap(t, a[1])
	case prGetKeepcaps, prGetSecurebits, prGetTHPDisable:
		return 0, nil
	case prSetKeepcaps, prSetSecurebits, prSetTHPDisable, prSetTimerslack, prMCEKill, prSetVMA:
		return 0, nil
	case prGetTimerslack:
		return 50000, nil
	case prCapAmbient:
		return 0, nil
	case prGetSeccomp:
		return uint64(t.SeccompMode()), nil
	case prSetSeccomp:
		return prctlSeccomp(t, a[1], a[2])
	}
	return 0, unix.EINVAL
}
