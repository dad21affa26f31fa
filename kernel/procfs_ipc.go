package kernel

import "uk/fs/proc"

var _ proc.SysVIPC = procKernel{}

// ShmSegments implements proc.SysVIPC: the IPC namespace's segments for
// /proc/sysvipc/shm.
func (p procKernel) ShmSegments() []proc.ShmSegment {
	segs := p.k.ipc.ShmSegments()
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
func (p procKernel) SemSets() []proc.SemSet {
	sets := p.k.ipc.SemSets()
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
func (p procKernel) MsgQueues() []proc.MsgQueue {
	qs := p.k.ipc.MsgQueues()
	out := make([]proc.MsgQueue, len(qs))
	for i, q := range qs {
		out[i] = proc.MsgQueue{Key: q.Perm.Key, ID: q.ID, Mode: q.Perm.Mode, Cbytes: q.Cbytes, Qnum: q.Qnum,
			LSPID: q.LSPID, LRPID: q.LRPID,
			UID: q.Perm.UID, GID: q.Perm.GID, CUID: q.Perm.CUID, CGID: q.Perm.CGID,
			Stime: q.Stime, Rtime: q.Rtime, Ctime: q.Ctime}
	}
	return out
}
