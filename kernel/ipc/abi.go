package ipc

import "encoding/binary"

// Flags and commands of the System V IPC calls, as Linux numbers them
// (include/uapi/linux/ipc.h and shm.h). The syscall layer passes them
// through unchanged.
const (
	// IPCPrivate (IPC_PRIVATE) as a key always makes a new object that no
	// other shmget can find by key.
	IPCPrivate = 0
	// IPCCreat (IPC_CREAT) creates the object when the key has none.
	IPCCreat = 0o1000
	// IPCExcl (IPC_EXCL) with IPCCreat fails with EEXIST when the key
	// already has an object.
	IPCExcl = 0o2000

	// IPCRmid, IPCSet, IPCStat and IPCInfo are the generic control
	// commands (IPC_RMID, IPC_SET, IPC_STAT, IPC_INFO).
	IPCRmid = 0
	IPCSet  = 1
	IPCStat = 2
	IPCInfo = 3
	// IPC64 (IPC_64) asks for the 64-bit structure layouts on
	// architectures that have two. x86-64 has one: its shmctl does not
	// strip the flag, so a command carrying it is unknown (EINVAL), as on
	// Linux.
	IPC64 = 0x100

	// SHMLock and SHMUnlock (SHM_LOCK, SHM_UNLOCK) pin a segment's pages
	// in memory and unpin them.
	SHMLock   = 11
	SHMUnlock = 12
	// SHMStat (SHM_STAT) is IPC_STAT by index, returning the full id;
	// SHMStatAny (SHM_STAT_ANY) is the same without the read-permission
	// check.
	SHMStat    = 13
	SHMInfo    = 14
	SHMStatAny = 15

	// SHMRdonly (SHM_RDONLY) attaches read-only; SHMRnd (SHM_RND) rounds
	// an unaligned attach address down to SHMLBA; SHMRemap (SHM_REMAP)
	// replaces what is mapped at the address; SHMExec (SHM_EXEC) makes the
	// attachment executable.
	SHMRdonly = 0o10000
	SHMRnd    = 0o20000
	SHMRemap  = 0o40000
	SHMExec   = 0o100000

	// SHMHugeTLB (SHM_HUGETLB) asks shmget for huge pages; the page size
	// is log2 in bits [SHMHugeShift, SHMHugeShift+6) of the flags.
	SHMHugeTLB   = 0o4000
	SHMHugeShift = 26
	// SHMNoReserve (SHM_NORESERVE) creates a segment without checking
	// that memory could hold it.
	SHMNoReserve = 0o10000

	// SHMDest (SHM_DEST) in a segment's mode marks it removed: it goes at
	// its last detach. SHMLocked (SHM_LOCKED) marks it locked.
	SHMDest   = 0o1000
	SHMLocked = 0o2000

	// SHMLBA is the attach-address alignment (a page on x86-64).
	SHMLBA = 4096
)

// Linux's default limits of an IPC namespace (kernel.shmmax, shmall,
// shmmni; SHMMIN is fixed).
const (
	// SHMMin is the smallest segment size.
	SHMMin = 1
	// SHMMax is the largest segment size in bytes.
	SHMMax = ^uint64(0) - 1<<24
	// SHMAll is the most pages all segments of a namespace may have.
	SHMAll = ^uint64(0) - 1<<24
	// SHMMNI is the most segments a namespace may have.
	SHMMNI = 4096
)

// Sizes of the x86-64 structures shmctl copies (struct ipc64_perm,
// shmid64_ds, shminfo64 and shm_info of the uapi headers).
const (
	IPC64PermSize = 48
	ShmidDSSize   = 112
	ShmInfo64Size = 72
	ShmInfoSize   = 48
)

// Perm is struct ipc64_perm: who owns an object and who may use it.
type Perm struct {
	Key        int32
	UID, GID   uint32 // owner, changed by IPC_SET
	CUID, CGID uint32 // creator
	Mode       uint32 // permission bits (low 9) and SHMDest/SHMLocked
	Seq        uint16 // the id's sequence number
}

// ShmidDS is struct shmid64_ds, what IPC_STAT reports of a segment.
type ShmidDS struct {
	Perm                Perm
	Segsz               uint64
	Atime, Dtime, Ctime int64 // seconds since the epoch; 0 for never
	CPID, LPID          int32
	Nattch              uint64
}

// Marshal lays s out as x86-64 struct shmid64_ds: ipc64_perm (key, uid,
// gid, cuid, cgid, mode as 4-byte fields, a 2-byte seq, padding to 48
// bytes), then shm_segsz, the three times, the two pids and shm_nattch.
func (s *ShmidDS) Marshal() []byte {
	b := make([]byte, ShmidDSSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(s.Perm.Key))
	le.PutUint32(b[4:], s.Perm.UID)
	le.PutUint32(b[8:], s.Perm.GID)
	le.PutUint32(b[12:], s.Perm.CUID)
	le.PutUint32(b[16:], s.Perm.CGID)
	le.PutUint32(b[20:], s.Perm.Mode)
	le.PutUint16(b[24:], s.Perm.Seq)
	// 26..47: __pad2, alignment and two unused longs.
	le.PutUint64(b[48:], s.Segsz)
	le.PutUint64(b[56:], uint64(s.Atime))
	le.PutUint64(b[64:], uint64(s.Dtime))
	le.PutUint64(b[72:], uint64(s.Ctime))
	le.PutUint32(b[80:], uint32(s.CPID))
	le.PutUint32(b[84:], uint32(s.LPID))
	le.PutUint64(b[88:], s.Nattch)
	// 96..111: two unused longs.
	return b
}

// SetRequest is what IPC_SET reads from a struct shmid64_ds: the new
// owner and permission bits; the rest of the structure is ignored.
type SetRequest struct {
	UID, GID uint32
	Mode     uint32
}

// UnmarshalSetRequest decodes the fields of IPC_SET from a
// struct shmid64_ds of ShmidDSSize bytes.
func UnmarshalSetRequest(b []byte) SetRequest {
	le := binary.LittleEndian
	return SetRequest{UID: le.Uint32(b[4:]), GID: le.Uint32(b[8:]), Mode: le.Uint32(b[20:])}
}

// ShmInfo64 is struct shminfo64, the limits IPC_INFO reports.
type ShmInfo64 struct {
	Shmmax, Shmmin, Shmmni, Shmseg, Shmall uint64
}

// Marshal lays i out as x86-64 struct shminfo64: five unsigned longs and
// four unused ones.
func (i *ShmInfo64) Marshal() []byte {
	b := make([]byte, ShmInfo64Size)
	le := binary.LittleEndian
	for k, v := range []uint64{i.Shmmax, i.Shmmin, i.Shmmni, i.Shmseg, i.Shmall} {
		le.PutUint64(b[8*k:], v)
	}
	return b
}

// ShmInfo is struct shm_info, the usage SHM_INFO reports.
type ShmInfo struct {
	UsedIDs int32
	ShmTot  uint64 // pages of all segments
	ShmRss  uint64 // of them, pages that exist
	ShmSwp  uint64 // always 0: uk does not swap
}

// Marshal lays i out as x86-64 struct shm_info: an int (padded to 8
// bytes) and five unsigned longs, the last two (swap_attempts,
// swap_successes) always zero.
func (i *ShmInfo) Marshal() []byte {
	b := make([]byte, ShmInfoSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(i.UsedIDs))
	le.PutUint64(b[8:], i.ShmTot)
	le.PutUint64(b[16:], i.ShmRss)
	le.PutUint64(b[24:], i.ShmSwp)
	return b
}
