package proc

import (
	"fmt"
	"strings"

	"uk/fs/vfs"
)

// ShmSegment is one System V shared-memory segment as /proc/sysvipc/shm
// shows it.
type ShmSegment struct {
	Key, ID              int32
	Mode                 uint32 // permission bits and SHM_DEST/SHM_LOCKED
	Size                 uint64 // bytes
	CPID, LPID           int32
	Nattch               uint64
	UID, GID, CUID, CGID uint32
	Atime, Dtime, Ctime  int64  // seconds since the epoch; 0 for never
	Rss                  uint64 // bytes of it in memory
}

// SemSet is one System V semaphore set as /proc/sysvipc/sem shows it.
type SemSet struct {
	Key, ID              int32
	Mode                 uint32
	Nsems                uint64
	UID, GID, CUID, CGID uint32
	Otime, Ctime         int64 // seconds since the epoch; Otime 0 for never
}

// MsgQueue is one System V message queue as /proc/sysvipc/msg shows it.
type MsgQueue struct {
	Key, ID              int32
	Mode                 uint32
	Cbytes, Qnum         uint64
	LSPID, LRPID         int32
	UID, GID, CUID, CGID uint32
	Stime, Rtime, Ctime  int64 // seconds since the epoch; 0 for never
}

// SysVIPC is implemented by a Kernel that has System V IPC objects; a
// Kernel without it shows empty tables.
type SysVIPC interface {
	// ShmSegments lists the shared-memory segments, by index.
	ShmSegments(ctx vfs.Context) []ShmSegment
	// SemSets lists the semaphore sets, by index.
	SemSets(ctx vfs.Context) []SemSet
	// MsgQueues lists the message queues, by index.
	MsgQueues(ctx vfs.Context) []MsgQueue
}

// The tables' headers, as a 64-bit Linux prints them.
const (
	shmHeader = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n"
	msgHeader = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n"
	semHeader = "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n"
)

// newSysvipc builds /proc/sysvipc, what ipcs(1) reads.
func (fs *FS) newSysvipc() vfs.Inode {
	f := func(name string, gen func(vfs.Context) ([]byte, error)) entry {
		return entry{name, func() vfs.Inode { return fs.newFile("/sysvipc/"+name, 0o444, gen) }}
	}
	return fs.newDir("/sysvipc", 0o555, []entry{
		f("msg", text(fs.sysvMsg)),
		f("sem", text(fs.sysvSem)),
		f("shm", text(fs.sysvShm)),
	})
}

// sysvShm is /proc/sysvipc/shm in the format of Linux's
// sysvipc_shm_proc_show.
func (fs *FS) sysvShm(ctx vfs.Context) string {
	var b strings.Builder
	b.WriteString(shmHeader)
	k, ok := fs.k.(SysVIPC)
	if !ok {
		return b.String()
	}
	for _, s := range k.ShmSegments(ctx) {
		fmt.Fprintf(&b, "%10d %10d  %4o %21d %5d %5d  %5d %5d %5d %5d %5d %10d %10d %10d %21d %21d\n",
			s.Key, s.ID, s.Mode, s.Size, s.CPID, s.LPID, s.Nattch, s.UID, s.GID, s.CUID, s.CGID,
			s.Atime, s.Dtime, s.Ctime, s.Rss, 0)
	}
	return b.String()
}

// sysvSem is /proc/sysvipc/sem in the format of Linux's
// sysvipc_sem_proc_show.
func (fs *FS) sysvSem(ctx vfs.Context) string {
	var b strings.Builder
	b.WriteString(semHeader)
	k, ok := fs.k.(SysVIPC)
	if !ok {
		return b.String()
	}
	for _, s := range k.SemSets(ctx) {
		fmt.Fprintf(&b, "%10d %10d  %4o %10d %5d %5d %5d %5d %10d %10d\n",
			s.Key, s.ID, s.Mode, s.Nsems, s.UID, s.GID, s.CUID, s.CGID, s.Otime, s.Ctime)
	}
	return b.String()
}

// sysvMsg is /proc/sysvipc/msg in the format of Linux's
// sysvipc_msg_proc_show.
func (fs *FS) sysvMsg(ctx vfs.Context) string {
	var b strings.Builder
	b.WriteString(msgHeader)
	k, ok := fs.k.(SysVIPC)
	if !ok {
		return b.String()
	}
	for _, q := range k.MsgQueues(ctx) {
		fmt.Fprintf(&b, "%10d %10d  %4o  %10d %10d %5d %5d %5d %5d %5d %5d %10d %10d %10d\n",
			q.Key, q.ID, q.Mode, q.Cbytes, q.Qnum, q.LSPID, q.LRPID, q.UID, q.GID, q.CUID, q.CGID,
			q.Stime, q.Rtime, q.Ctime)
	}
	return b.String()
}
