package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/kernel"
	"uk/kernel/ipc"
)

func sysMsgget(t *kernel.Task, a [6]uint64) (uint64, error) {
	id, err := t.IPC().MsgGet(ipcCaller(t), int32(a[0]), int32(a[1]))
	return uint64(id), err
}

// sysMsgsnd is msgsnd(2), its checks in Linux's order (ksys_msgsnd,
// do_msgsnd): the type is read (EFAULT), then the size (EINVAL above
// MSGMAX, which bounds what is read), the id, the type's value; then the
// text is charged to the sandbox (ENOMEM) and read (EFAULT) before the
// queue is looked at.
func sysMsgsnd(t *kernel.Task, a [6]uint64) (uint64, error) {
	id, msgp, size, flags := int32(a[0]), a[1], a[2], int32(a[3])
	var typ [ipc.MtypeSize]byte
	if err := t.CopyIn(msgp, typ[:]); err != nil {
		return 0, err
	}
	mtype := int64(binary.LittleEndian.Uint64(typ[:]))
	if size > ipc.MSGMAX || id < 0 || mtype < 1 {
		return 0, unix.EINVAL
	}
	ns := t.IPC()
	if !ns.ChargeMessage(int(size)) {
		return 0, unix.ENOMEM
	}
	m := &ipc.Message{Type: mtype, Text: make([]byte, size)}
	err := t.CopyIn(msgp+ipc.MtypeSize, m.Text)
	if err == nil {
		err = ns.MsgSend(ipcCaller(t), id, m, flags)
	}
	if err != nil {
		ns.UnchargeMessage(int(size))
	}
	return 0, err
}

// sysMsgrcv is msgrcv(2), its checks in Linux's order (do_msgrcv): the
// id and the size's sign (EINVAL), MSG_COPY's flags (EINVAL without
// IPC_NOWAIT or with MSG_EXCEPT) and buffer, which Linux reads in first
// (EFAULT); then the queue. The message's type and at most size bytes of
// it are written out; a failed write loses the message, as on Linux.
func sysMsgrcv(t *kernel.Task, a [6]uint64) (uint64, error) {
	id, msgp, size, typ, flags := int32(a[0]), a[1], int64(a[2]), int64(a[3]), int32(a[4])
	if id < 0 || size < 0 {
		return 0, unix.EINVAL
	}
	if flags&ipc.MsgCopy != 0 {
		if flags&ipc.MsgExcept != 0 || flags&ipc.IPCNoWait == 0 {
			return 0, unix.EINVAL
		}
		if err := t.CopyIn(msgp, make([]byte, min(size, ipc.MSGMAX))); err != nil {
			return 0, err
		}
	}
	m, err := t.IPC().MsgReceive(ipcCaller(t), id, size, typ, flags)
	if err != nil {
		return 0, err
	}
	var mt [ipc.MtypeSize]byte
	binary.LittleEndian.PutUint64(mt[:], uint64(m.Type))
	if err := t.CopyOut(msgp, mt[:]); err != nil {
		return 0, err
	}
	n := min(int64(len(m.Text)), size)
	if err := t.CopyOut(msgp+ipc.MtypeSize, m.Text[:n]); err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// sysMsgctl is msgctl(2). As shmctl, x86-64 takes the command as is: one
// with IPC_64 is unknown (EINVAL).
func sysMsgctl(t *kernel.Task, a [6]uint64) (uint64, error) {
	id, cmd, buf := int32(a[0]), int32(a[1]), a[2]
	if id < 0 || cmd < 0 {
		return 0, unix.EINVAL
	}
	ns, c := t.IPC(), ipcCaller(t)
	switch cmd {
	case ipc.IPCInfo, ipc.MsgInfo:
		info, ret := ns.MsgInfo(cmd == ipc.MsgInfo)
		return uint64(ret), t.CopyOut(buf, info.Marshal())
	case ipc.IPCStat, ipc.MsgStat, ipc.MsgStatAny:
		ds, ret, err := ns.MsgStat(c, id, int(cmd))
		if err != nil {
			return 0, err
		}
		return uint64(ret), t.CopyOut(buf, ds.Marshal())
	case ipc.IPCSet:
		b := make([]byte, ipc.MsqidDSSize)
		if err := t.CopyIn(buf, b); err != nil {
			return 0, err
		}
		return 0, ns.MsgSet(c, id, ipc.UnmarshalMsgSetRequest(b))
	case ipc.IPCRmid:
		return 0, ns.MsgRemove(c, id)
	}
	return 0, unix.EINVAL
}
