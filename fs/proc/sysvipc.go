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

// SysVIPC is implemented by a Kernel that has System V IPC objects; a
// Kernel without it shows empty tables.
type SysVIPC interface {
	// ShmSegments lists the shared-memory segments, by index.
	ShmSegments() []ShmSegment
}

// The tables' headers, as a 64-bit Linux prints them. uk has no message
// queues or semaphores yet, so those two are always empty.
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
		f("msg", constant(msgHeader)),
		f("sem", constant(semHeader)),
		f("shm", text(fs.sysvShm)),
	})
}

// sysvShm is /proc/sysvipc/shm in the format of Linux's
// sysvipc_shm_proc_show.
func (fs *FS) sysvShm(vfs.Context) string {
	var b strings.Builder
	b.WriteString(shmHeader)
	k, ok := fs.k.(SysVIPC)
	if !ok {
		return b.String()
	}
	for _, s := range k.ShmSegments() {
		fmt.Fprintf(&b, "%10d %10d  %4o %21d %5d %5d  %5d %5d %5d %5d %5d %10d %10d %10d %21d %21d\n",
			s.Key, s.ID, s.Mode, s.Size, s.CPID, s.LPID, s.Nattch, s.UID, s.GID, s.CUID, s.CGID,
			s.Atime, s.Dtime, s.Ctime, s.Rss, 0)
	}
	return b.String()
}
