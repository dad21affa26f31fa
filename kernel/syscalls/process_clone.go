package syscalls

import (
	"golang.org/x/sys/unix"
	"math"

	"uk/arch"
	"uk/kernel"
)

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

func sysClone(t *kernel.Task, a [6]uint64) (uint64, error) {
	// x86-64 argument order: flags, stack, parent_tid, child_tid, tls.
	// CLONE_PIDFD's fd goes where parent_tid points, so the two cannot
	// be asked together.
	flags := a[0] &^ 0xff
	if flags&unix.CLONE_PIDFD != 0 && flags&unix.CLONE_PARENT_SETTID != 0 {
		return 0, unix.EINVAL
	}
	tid, err := t.Clone(kernel.CloneArgs{Flags: flags, ExitSignal: int(a[0] & 0xff),
		Stack: a[1], ParentTID: a[2], ChildTID: a[3], TLS: a[4], PidFD: a[2]})
	return uint64(tid), err
}

func sysFork(t *kernel.Task, a [6]uint64) (uint64, error) {
	tid, err := t.Clone(kernel.CloneArgs{ExitSignal: int(unix.SIGCHLD)})
	return uint64(tid), err
}

func sysVfork(t *kernel.Task, a [6]uint64) (uint64, error) {
	tid, err := t.Clone(kernel.CloneArgs{Flags: unix.CLONE_VM | unix.CLONE_VFORK, ExitSignal: int(unix.SIGCHLD)})
	return uint64(tid), err
}

// clone flags x/sys/unix may not name.
const (
	cloneDetached   = 0x400000    // CLONE_DETACHED
	cloneIntoCgroup = 0x200000000 // CLONE_INTO_CGROUP
)

// cloneArgsSize0 is the first published size of struct clone_args, and
// cloneArgsSizeKnown the size up to the last field uk knows (cgroup).
const (
	cloneArgsSize0     = 64
	cloneArgsSizeKnown = 88
)

func sysClone3(t *kernel.Task, a [6]uint64) (uint64, error) {
	size := a[1]
	switch {
	case size > arch.PageSize:
		return 0, unix.E2BIG
	case size < cloneArgsSize0:
		return 0, unix.EINVAL
	}
	raw := make([]byte, size)
	if err := t.CopyIn(a[0], raw); err != nil {
		return 0, err
	}
	// Fields past the ones uk knows must be zero.
	for i := cloneArgsSizeKnown; i < len(raw); i++ {
		if raw[i] != 0 {
			return 0, unix.E2BIG
		}
	}
	// Any size from the first version on is accepted, not only multiples
	// of 8: what the caller did not pass reads as zero (Linux's
	// copy_struct_from_user).
	b := make([]byte, cloneArgsSizeKnown)
	copy(b, raw)
	w := func(i int) uint64 { return le64(b[8*i:]) }
	if w(8) != 0 || w(9) != 0 { // set_tid, set_tid_size
		return 0, unix.EINVAL
	}
	flags, exitSignal, stack, stackSize := w(0), w(4), w(5), w(6)
	if exitSignal > 64 {
		return 0, unix.EINVAL
	}
	// clone3 frees CLONE_DETACHED and the exit-signal byte of clone's
	// flags for other uses: none is valid yet (Linux's clone3_args_valid;
	// CLONE_NEWTIME lives in that byte and is valid).
	if flags&(cloneDetached|0xff&^unix.CLONE_NEWTIME) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.CLONE_PIDFD != 0 && flags&unix.CLONE_PARENT_SETTID != 0 && w(1) == w(3) {
		return 0, unix.EINVAL // the pidfd and the tid would land on each other
	}
	if flags&cloneIntoCgroup != 0 {
		if len(raw) < cloneArgsSizeKnown || w(10) > math.MaxInt32 {
			return 0, unix.EINVAL
		}
		d, err := t.FD(int32(w(10)))
		if err != nil {
			return 0, err // EBADF
		}
		d.DecRef()
	}
	if stack == 0 && stackSize != 0 || stack != 0 && stackSize == 0 {
		return 0, unix.EINVAL
	}
	sp := uint64(0)
	if stack != 0 {
		sp = stack + stackSize
	}
	tid, err := t.Clone(kernel.CloneArgs{Flags: flags, ExitSignal: int(exitSignal), Stack: sp,
		ChildTID: w(2), ParentTID: w(3), TLS: w(7), PidFD: w(1)})
	return uint64(tid), err
}

// idtypes of waitid.
const (
	pAll   = 0
	pPid   = 1
	pPgid  = 2
	pPidfd = 3
)

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

// maxArgs bounds argv and envp entries read by execve.
const maxArgs = 1 << 17

func sysUnshare(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, t.Unshare(a[0])
}

// sysSetns is setns(2): a descriptor that is neither a namespace file nor
// a pidfd is EINVAL.
func sysSetns(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FD(int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	return 0, t.Setns(d, uint64(uint32(a[1]))) // nstype is an int
}
