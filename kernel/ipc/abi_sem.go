package ipc

import "encoding/binary"

// Commands and flags of semop and semctl, as Linux numbers them
// (include/uapi/linux/sem.h).
const (
	// SemUndo (SEM_UNDO) in a sembuf's flags records the operation's
	// opposite in the caller's undo list, applied when the list's last
	// task exits.
	SemUndo = 0x1000
	// IPCNoWait (IPC_NOWAIT) makes an operation that would block fail
	// (semop: EAGAIN; msgrcv: ENOMSG; msgsnd: EAGAIN).
	IPCNoWait = 0o4000

	// semctl's commands besides the generic ones.
	GetPID     = 11
	GetVal     = 12
	GetAll     = 13
	GetNCnt    = 14
	GetZCnt    = 15
	SetVal     = 16
	SetAll     = 17
	SemStat    = 18
	SemInfo    = 19
	SemStatAny = 20
)

// Linux's default semaphore limits of an IPC namespace (kernel.sem:
// semmsl, semmns, semopm, semmni) and the fixed ones.
const (
	// SEMMSL is the most semaphores in a set.
	SEMMSL = 32000
	// SEMMNI is the most sets in a namespace.
	SEMMNI = 32000
	// SEMMNS is the most semaphores in a namespace.
	SEMMNS = SEMMNI * SEMMSL
	// SEMOPM is the most operations in one semop.
	SEMOPM = 500
	// SEMVMX is the largest semaphore value.
	SEMVMX = 32767
	// SEMAEM is the largest adjustment an undo may record.
	SEMAEM = SEMVMX
	// SEMUME, SEMMNU, SEMMAP and SEMUSZ are reported by IPC_INFO only.
	SEMUME = SEMOPM
	SEMMNU = SEMMNS
	SEMMAP = SEMMNS
	SEMUSZ = 20
)

// Sizes of the x86-64 structures of semop and semctl.
const (
	// SembufSize is struct sembuf: sem_num (u16), sem_op and sem_flg
	// (s16).
	SembufSize = 6
	// SemidDSSize is struct semid64_ds.
	SemidDSSize = 104
	// SeminfoSize is struct seminfo: ten ints.
	SeminfoSize = 40
)

// Sembuf is one operation of semop (struct sembuf).
type Sembuf struct {
	Num uint16 // the semaphore's index in the set
	Op  int16  // added to the value; 0 waits for zero
	Flg int16  // IPCNoWait, SemUndo
}

// UnmarshalSembufs decodes len(b)/SembufSize struct sembuf.
func UnmarshalSembufs(b []byte) []Sembuf {
	out := make([]Sembuf, len(b)/SembufSize)
	le := binary.LittleEndian
	for i := range out {
		o := b[i*SembufSize:]
		out[i] = Sembuf{Num: le.Uint16(o), Op: int16(le.Uint16(o[2:])), Flg: int16(le.Uint16(o[4:]))}
	}
	return out
}

// SemidDS is struct semid64_ds, what IPC_STAT reports of a set.
type SemidDS struct {
	Perm         Perm
	Otime, Ctime int64 // seconds since the epoch; Otime 0 for never
	Nsems        uint64
}

// marshalPerm lays p out as x86-64 struct ipc64_perm in b[:48].
func marshalPerm(b []byte, p *Perm) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(p.Key))
	le.PutUint32(b[4:], p.UID)
	le.PutUint32(b[8:], p.GID)
	le.PutUint32(b[12:], p.CUID)
	le.PutUint32(b[16:], p.CGID)
	le.PutUint32(b[20:], p.Mode)
	le.PutUint16(b[24:], p.Seq)
}

// Marshal lays s out as x86-64 struct semid64_ds: ipc64_perm, sem_otime,
// an unused long, sem_ctime, an unused long, sem_nsems, two unused longs.
func (s *SemidDS) Marshal() []byte {
	b := make([]byte, SemidDSSize)
	marshalPerm(b, &s.Perm)
	le := binary.LittleEndian
	le.PutUint64(b[48:], uint64(s.Otime))
	le.PutUint64(b[64:], uint64(s.Ctime))
	le.PutUint64(b[80:], s.Nsems)
	return b
}

// Seminfo is struct seminfo, what IPC_INFO and SEM_INFO report.
type Seminfo struct {
	Semmap, Semmni, Semmns, Semmnu, Semmsl, Semopm, Semume, Semusz, Semvmx, Semaem int32
}

// Marshal lays i out as struct seminfo: ten ints in declaration order.
func (i *Seminfo) Marshal() []byte {
	b := make([]byte, SeminfoSize)
	for k, v := range []int32{i.Semmap, i.Semmni, i.Semmns, i.Semmnu, i.Semmsl, i.Semopm, i.Semume, i.Semusz, i.Semvmx, i.Semaem} {
		binary.LittleEndian.PutUint32(b[4*k:], uint32(v))
	}
	return b
}
