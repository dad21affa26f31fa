package ipc

import "encoding/binary"

// Flags and commands of msgrcv and msgctl, as Linux numbers them
// (include/uapi/linux/msg.h).
const (
	// MsgNoError (MSG_NOERROR) cuts a message longer than the buffer
	// instead of failing with E2BIG.
	MsgNoError = 0o10000
	// MsgExcept (MSG_EXCEPT) with a positive type takes the first
	// message of any other type.
	MsgExcept = 0o20000
	// MsgCopy (MSG_COPY) copies the message at index msgtyp without
	// taking it off the queue; it needs IPCNoWait.
	MsgCopy = 0o40000

	// MsgStat (MSG_STAT) is IPC_STAT by index, returning the full id;
	// MsgStatAny (MSG_STAT_ANY) skips the read-permission check.
	MsgStat    = 11
	MsgInfo    = 12
	MsgStatAny = 13
)

// Linux's default message limits of an IPC namespace (kernel.msgmax,
// msgmnb, msgmni) and the fixed ones IPC_INFO reports.
const (
	// MSGMAX is the largest message in bytes.
	MSGMAX = 8192
	// MSGMNB is a new queue's capacity in bytes (msg_qbytes), and the most
	// IPC_SET may give without CAP_SYS_RESOURCE.
	MSGMNB = 16384
	// MSGMNI is the most queues in a namespace.
	MSGMNI = 32000
	// MSGSSZ, MSGSEG, MSGPOOL, MSGMAP and MSGTQL are reported by IPC_INFO
	// only.
	MSGSSZ  = 16
	MSGPOOL = MSGMNI * MSGMNB / 1024
	MSGSEG  = 0xffff
	MSGMAP  = MSGMNB
	MSGTQL  = MSGMNB
)

// Sizes of the x86-64 structures of msgsnd, msgrcv and msgctl.
const (
	// MsqidDSSize is struct msqid64_ds.
	MsqidDSSize = 120
	// MsginfoSize is struct msginfo: seven ints and an unsigned short,
	// padded.
	MsginfoSize = 32
	// MtypeSize is msgbuf's mtype (a long), which mtext follows.
	MtypeSize = 8
)

// MsqidDS is struct msqid64_ds, what IPC_STAT reports of a queue.
type MsqidDS struct {
	Perm                Perm
	Stime, Rtime, Ctime int64 // seconds since the epoch; 0 for never
	Cbytes, Qnum        uint64
	Qbytes              uint64
	LSPID, LRPID        int32
}

// Marshal lays m out as x86-64 struct msqid64_ds: ipc64_perm, the three
// times, msg_cbytes, msg_qnum, msg_qbytes, the two pids, two unused
// longs.
func (m *MsqidDS) Marshal() []byte {
	b := make([]byte, MsqidDSSize)
	marshalPerm(b, &m.Perm)
	le := binary.LittleEndian
	le.PutUint64(b[48:], uint64(m.Stime))
	le.PutUint64(b[56:], uint64(m.Rtime))
	le.PutUint64(b[64:], uint64(m.Ctime))
	le.PutUint64(b[72:], m.Cbytes)
	le.PutUint64(b[80:], m.Qnum)
	le.PutUint64(b[88:], m.Qbytes)
	le.PutUint32(b[96:], uint32(m.LSPID))
	le.PutUint32(b[100:], uint32(m.LRPID))
	return b
}

// MsgSetRequest is what msgctl's IPC_SET reads from a struct
// msqid64_ds: the owner, the mode bits and the queue's capacity.
type MsgSetRequest struct {
	SetRequest
	Qbytes uint64
}

// UnmarshalMsgSetRequest decodes IPC_SET's fields from a struct
// msqid64_ds of MsqidDSSize bytes.
func UnmarshalMsgSetRequest(b []byte) MsgSetRequest {
	return MsgSetRequest{SetRequest: UnmarshalSetRequest(b), Qbytes: binary.LittleEndian.Uint64(b[88:])}
}

// Msginfo is struct msginfo, what IPC_INFO and MSG_INFO report.
type Msginfo struct {
	Msgpool, Msgmap, Msgmax, Msgmnb, Msgmni, Msgssz, Msgtql int32
	Msgseg                                                  uint16
}

// Marshal lays i out as struct msginfo: seven ints, an unsigned short,
// two bytes of padding.
func (i *Msginfo) Marshal() []byte {
	b := make([]byte, MsginfoSize)
	le := binary.LittleEndian
	for k, v := range []int32{i.Msgpool, i.Msgmap, i.Msgmax, i.Msgmnb, i.Msgmni, i.Msgssz, i.Msgtql} {
		le.PutUint32(b[4*k:], uint32(v))
	}
	le.PutUint16(b[28:], i.Msgseg)
	return b
}
