package syscalls

import (
	"golang.org/x/sys/unix"

	"uk/kernel"
	"uk/kernel/ipc"
	"uk/kernel/mm"
	"uk/platform"
)

// ipcCaller is t as the IPC checks see it; its sleeps are the task's
// interruptible ones.
func ipcCaller(t *kernel.Task) ipc.Caller {
	return ipc.Caller{Creds: t.Credentials(), PID: t.PID(),
		MemlockLimit: t.ThreadGroup().Rlimit(unix.RLIMIT_MEMLOCK).Cur, Block: t.BlockUntil}
}

func sysShmget(t *kernel.Task, a [6]uint64) (uint64, error) {
	id, err := t.IPC().ShmGet(ipcCaller(t), int32(a[0]), a[1], int32(a[2]))
	return uint64(id), err
}

// sysShmat is shmat(2). The address checks are Linux's do_shmat: an
// unaligned address is an error unless SHM_RND rounds it down; a given
// address is used exactly, and must be free unless SHM_REMAP says to
// replace what is there.
func sysShmat(t *kernel.Task, a [6]uint64) (uint64, error) {
	id, addr, flags := int32(a[0]), a[1], int32(a[2])
	if id < 0 {
		return 0, unix.EINVAL
	}
	if addr != 0 {
		if addr&(ipc.SHMLBA-1) != 0 {
			if flags&ipc.SHMRnd == 0 {
				return 0, unix.EINVAL
			}
			addr &^= ipc.SHMLBA - 1
			if addr == 0 && flags&ipc.SHMRemap != 0 {
				return 0, unix.EINVAL
			}
		}
	} else if flags&ipc.SHMRemap != 0 {
		return 0, unix.EINVAL
	}
	// The attachment's rights, and the most mprotect may give it later: a
	// read-only attachment is a mapping of a file opened read-only.
	prot, maxProt := platform.Read, platform.Read|platform.Exec
	access := uint32(ipc.MayRead)
	if flags&ipc.SHMRdonly == 0 {
		prot |= platform.Write
		maxProt |= platform.Write
		access |= ipc.MayWrite
	}
	if flags&ipc.SHMExec != 0 {
		prot |= platform.Exec
		access |= ipc.MayExec
	}
	return t.IPC().ShmAttach(ipcCaller(t), id, access, func(at ipc.Attachment) (uint64, error) {
		o := mm.MmapOpts{Addr: addr, Length: at.Size, Prot: prot, MaxProt: maxProt, Shared: true,
			Object: at.Object, Name: at.Name, Dev: at.Dev, Ino: at.Ino}
		if addr != 0 {
			if addr+at.Size < addr {
				return 0, unix.EINVAL
			}
			o.Fixed = flags&ipc.SHMRemap != 0
			o.NoReplace = !o.Fixed
		}
		got, err := t.MM.Mmap(o)
		if err == unix.EEXIST {
			// Linux reports an occupied address as EINVAL.
			err = unix.EINVAL
		}
		return got, err
	})
}

func sysShmdt(t *kernel.Task, a [6]uint64) (uint64, error) {
	obj, err := t.MM.DetachObject(a[0], ipc.IsShm)
	if err != nil {
		return 0, err
	}
	ipc.ShmDetached(ipcCaller(t), obj)
	return 0, nil
}

// sysShmctl is shmctl(2). x86-64 has only the 64-bit structures, and its
// shmctl takes the command as is: IPC_64 in it makes an unknown command.
func sysShmctl(t *kernel.Task, a [6]uint64) (uint64, error) {
	id, cmd, buf := int32(a[0]), int32(a[1]), a[2]
	if id < 0 || cmd < 0 {
		return 0, unix.EINVAL
	}
	ns, c := t.IPC(), ipcCaller(t)
	switch cmd {
	case ipc.IPCInfo:
		info, ret := ns.ShmLimits()
		return uint64(ret), t.CopyOut(buf, info.Marshal())
	case ipc.SHMInfo:
		info, ret := ns.ShmUsage()
		return uint64(ret), t.CopyOut(buf, info.Marshal())
	case ipc.IPCStat, ipc.SHMStat, ipc.SHMStatAny:
		ds, ret, err := ns.ShmStat(c, id, int(cmd))
		if err != nil {
			return 0, err
		}
		return uint64(ret), t.CopyOut(buf, ds.Marshal())
	case ipc.IPCSet:
		b := make([]byte, ipc.ShmidDSSize)
		if err := t.CopyIn(buf, b); err != nil {
			return 0, err
		}
		return 0, ns.ShmSet(c, id, ipc.UnmarshalSetRequest(b))
	case ipc.IPCRmid:
		return 0, ns.ShmRemove(c, id)
	case ipc.SHMLock, ipc.SHMUnlock:
		return 0, ns.ShmLock(c, id, cmd == ipc.SHMLock)
	}
	return 0, unix.EINVAL
}
