package kernel

import (
	"golang.org/x/sys/unix"

	"uk/fs/proc"
	"uk/fs/vfs"
	"uk/kernel/ipc"
)

var _ proc.SysVIPC = procKernel{}

// ipcOf is the System V namespace of the task reading a file (the
// sandbox's first for a reader that is not a task).
func (p procKernel) ipcOf(ctx vfs.Context) *ipc.Namespace {
	if t, ok := ctx.(*Task); ok {
		return t.IPC()
	}
	return p.k.ipcRoot.sysv
}

// ShmSegments implements proc.SysVIPC: the IPC namespace's segments for
// /proc/sysvipc/shm.
func (p procKernel) ShmSegments(ctx vfs.Context) []proc.ShmSegment {
	segs := p.ipcOf(ctx).ShmSegments()
	out := make([]proc.ShmSegment, len(segs))
	for i, s := range segs {
		out[i] = proc.ShmSegment{Key: s.Perm.Key, ID: s.ID, Mode: s.Perm.Mode, Size: s.Segsz,
			CPID: s.CPID, LPID: s.LPID, Nattch: s.Nattch,
			UID: s.Perm.UID, GID: s.Perm.GID, CUID: s.Perm.CUID, CGID: s.Perm.CGID,
			Atime: s.Atime, Dtime: s.Dtime, Ctime: s.Ctime, Rss: s.Rss}
	}
	return out
}

// SemSets implements proc.SysVIPC: the IPC namespace's semaphore sets for
// /proc/sysvipc/sem.
func (p procKernel) SemSets(ctx vfs.Context) []proc.SemSet {
	sets := p.ipcOf(ctx).SemSets()
	out := make([]proc.SemSet, len(sets))
	for i, s := range sets {
		out[i] = proc.SemSet{Key: s.Perm.Key, ID: s.ID, Mode: s.Perm.Mode, Nsems: s.Nsems,
			UID: s.Perm.UID, GID: s.Perm.GID, CUID: s.Perm.CUID, CGID: s.Perm.CGID,
			Otime: s.Otime, Ctime: s.Ctime}
	}
	return out
}

// MsgQueues implements proc.SysVIPC: the IPC namespace's message queues
// for /proc/sysvipc/msg.
func (p procKernel) MsgQueues(ctx vfs.Context) []proc.MsgQueue {
	qs := p.ipcOf(ctx).MsgQueues()
	out := make([]proc.MsgQueue, len(qs))
	for i, q := range qs {
		out[i] = proc.MsgQueue{Key: q.Perm.Key, ID: q.ID, Mode: q.Perm.Mode, Cbytes: q.Cbytes, Qnum: q.Qnum,
			LSPID: q.LSPID, LRPID: q.LRPID,
			UID: q.Perm.UID, GID: q.Perm.GID, CUID: q.Perm.CUID, CGID: q.Perm.CGID,
			Stime: q.Stime, Rtime: q.Rtime, Ctime: q.Ctime}
	}
	return out
}

// IPCNextID implements proc.IPCNextIDSysctl.
func (p procKernel) IPCNextID(ctx vfs.Context, kind string) (int64, bool) {
	return p.ipcOf(ctx).NextID(kind)
}

// SetIPCNextID implements proc.IPCNextIDSysctl: CAP_SYS_ADMIN in the
// namespace's user namespace, as writing the sysctl needs on Linux
// (checkpoint_restore_ns_capable).
func (p procKernel) SetIPCNextID(ctx vfs.Context, kind string, v int64) error {
	if !ctx.Credentials().HasCap(capSysAdmin) {
		return unix.EPERM
	}
	return p.ipcOf(ctx).SetNextID(kind, v)
}
