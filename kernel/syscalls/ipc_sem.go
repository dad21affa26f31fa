package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"uk/kernel"
	"uk/kernel/ipc"
)

func sysSemget(t *kernel.Task, a [6]uint64) (uint64, error) {
	id, err := t.IPC().SemGet(ipcCaller(t), int32(a[0]), int32(a[1]), int32(a[2]))
	return uint64(id), err
}

func sysSemop(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, semtimedop(t, int32(a[0]), a[1], uint32(a[2]), 0)
}

func sysSemtimedop(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, semtimedop(t, int32(a[0]), a[1], uint32(a[2]), a[3])
}

// semtimedop checks and reads semop's arguments in Linux's order
// (ksys_semtimedop, do_semtimedop, __do_semtimedop): the timeout is read
// first (EFAULT), then the count (E2BIG above SEMOPM, EINVAL at 0), the
// operations (EFAULT), the id, the timeout's value. The count bounds
// what is read: at most SEMOPM operations.
func semtimedop(t *kernel.Task, id int32, sopsAddr uint64, nsops uint32, tsAddr uint64) error {
	var ts [16]byte
	if tsAddr != 0 {
		if err := t.CopyIn(tsAddr, ts[:]); err != nil {
			return err
		}
	}
	if nsops > ipc.SEMOPM {
		return unix.E2BIG
	}
	if nsops < 1 {
		return unix.EINVAL
	}
	raw := make([]byte, int(nsops)*ipc.SembufSize)
	if err := t.CopyIn(sopsAddr, raw); err != nil {
		return err
	}
	if id < 0 {
		return unix.EINVAL
	}
	var deadline time.Time
	if tsAddr != 0 {
		sec, nsec := int64(le64(ts[0:])), int64(le64(ts[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return unix.EINVAL
		}
		// A timeout past what time.Duration holds is a sleep without end.
		if sec < int64(1<<63-1)/1e9-1 {
			deadline = time.Now().Add(time.Duration(sec)*time.Second + time.Duration(nsec))
		}
	}
	sops := ipc.UnmarshalSembufs(raw)
	var undo *ipc.UndoList
	for _, op := range sops {
		if op.Flg&ipc.SemUndo != 0 {
			undo = t.SemUndoList()
			break
		}
	}
	return t.IPC().SemOp(ipcCaller(t), undo, id, sops, deadline)
}

// sysSemctl is semctl(2). Its fourth argument is the union semun: SETVAL
// takes its int (the low 32 bits on little-endian x86-64), the others its
// pointer. x86-64 has only the 64-bit structures and takes the command
// as is: IPC_64 in it makes an unknown command (EINVAL), as on Linux.
func sysSemctl(t *kernel.Task, a [6]uint64) (uint64, error) {
	id, num, cmd, arg := int32(a[0]), int32(a[1]), int32(a[2]), a[3]
	if id < 0 {
		return 0, unix.EINVAL
	}
	ns, c := t.IPC(), ipcCaller(t)
	switch cmd {
	case ipc.IPCInfo, ipc.SemInfo:
		info, ret := ns.SemInfo(cmd == ipc.SemInfo)
		return uint64(ret), t.CopyOut(arg, info.Marshal())
	case ipc.IPCStat, ipc.SemStat, ipc.SemStatAny:
		ds, ret, err := ns.SemStat(c, id, int(cmd))
		if err != nil {
			return 0, err
		}
		return uint64(ret), t.CopyOut(arg, ds.Marshal())
	case ipc.GetVal, ipc.GetPID, ipc.GetNCnt, ipc.GetZCnt:
		v, err := ns.SemGetValue(c, id, num, int(cmd))
		return uint64(v), err
	case ipc.GetAll:
		vals, err := ns.SemGetAll(c, id)
		if err != nil {
			return 0, err
		}
		b := make([]byte, 2*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint16(b[2*i:], v)
		}
		return 0, t.CopyOut(arg, b)
	case ipc.SetAll:
		n, err := ns.SemNsems(c, id)
		if err != nil {
			return 0, err
		}
		b := make([]byte, 2*n) // n is at most SEMMSL
		if err := t.CopyIn(arg, b); err != nil {
			return 0, err
		}
		vals := make([]uint16, n)
		for i := range vals {
			vals[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		return 0, ns.SemSetAll(c, id, vals)
	case ipc.SetVal:
		return 0, ns.SemSetVal(c, id, num, int32(arg))
	case ipc.IPCSet:
		b := make([]byte, ipc.SemidDSSize)
		if err := t.CopyIn(arg, b); err != nil {
			return 0, err
		}
		return 0, ns.SemSet(c, id, ipc.UnmarshalSetRequest(b))
	case ipc.IPCRmid:
		return 0, ns.SemRemove(c, id)
	}
	return 0, unix.EINVAL
}
