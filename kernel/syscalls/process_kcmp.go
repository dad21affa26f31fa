package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
)

// kcmp(2), as Linux's kernel/kcmp.c, with its checks in its order: both
// threads must exist (ESRCH), the caller must be able to ptrace both
// (EPERM, before the type is even looked at), then the type (EINVAL) and
// its descriptors (EBADF). kernel/kcmp.go says which object each type
// compares.

// kcmpEpollSlotSize is sizeof(struct kcmp_epoll_slot): efd, tfd, toff,
// each a __u32.
const kcmpEpollSlotSize = 12

func sysKcmp(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid1, pid2, typ := int32(a[0]), int32(a[1]), int(int32(a[2]))
	k := t.Kernel()
	t1, t2 := k.TaskByTID(pid1), k.TaskByTID(pid2)
	if t1 == nil || t2 == nil {
		return 0, unix.ESRCH
	}
	if !t.MayPtraceAccess(t1) || !t.MayPtraceAccess(t2) {
		return 0, unix.EPERM
	}
	switch typ {
	case kernel.KcmpFile:
		d1, d2 := kcmpFD(t1, a[3]), kcmpFD(t2, a[4])
		if d1 != nil {
			defer d1.DecRef()
		}
		if d2 != nil {
			defer d2.DecRef()
		}
		if d1 == nil || d2 == nil {
			return 0, unix.EBADF
		}
		return kernel.KcmpFileDescriptions(d1, d2), nil
	case kernel.KcmpVM, kernel.KcmpFiles, kernel.KcmpFS, kernel.KcmpSighand, kernel.KcmpIO, kernel.KcmpSysvsem:
		return kernel.KcmpTasks(typ, t1, t2), nil
	case kernel.KcmpEpollTFD:
		return kcmpEpollTFD(t, t1, t2, a[3], a[4])
	}
	return 0, unix.EINVAL
}

// kcmpEpollTFD compares t1's descriptor idx1 with a file t2's epoll
// watches, which the struct kcmp_epoll_slot at slotAddr names (the epoll
// descriptor, the watched descriptor number and which of the files under
// that number): EFAULT for the slot, EBADF for either descriptor, EINVAL
// for one that is no epoll, ENOENT for no such watched file.
func kcmpEpollTFD(t, t1, t2 *kernel.Task, idx1, slotAddr uint64) (uint64, error) {
	var slot [kcmpEpollSlotSize]byte
	if err := t.CopyIn(slotAddr, slot[:]); err != nil {
		return 0, err
	}
	efd := binary.LittleEndian.Uint32(slot[0:])
	tfd := binary.LittleEndian.Uint32(slot[4:])
	toff := binary.LittleEndian.Uint32(slot[8:])
	d1 := kcmpFD(t1, idx1)
	if d1 == nil {
		return 0, unix.EBADF
	}
	defer d1.DecRef()
	ep := kcmpFD(t2, uint64(efd))
	if ep == nil {
		return 0, unix.EBADF
	}
	defer ep.DecRef()
	target, err := kernel.KcmpEpollTarget(ep, int32(tfd), toff)
	if err != nil {
		return 0, err
	}
	return kernel.KcmpFileDescriptions(d1, target), nil
}

// kcmpFD returns, with a reference, the description at descriptor idx of
// task's table, nil if none. Linux takes the index as an unsigned int:
// the upper half of the argument is ignored.
func kcmpFD(task *kernel.Task, idx uint64) *vfs.FileDescription {
	if task.Files == nil {
		return nil
	}
	d, err := task.FD(int32(uint32(idx)))
	if err != nil {
		return nil
	}
	return d
}
