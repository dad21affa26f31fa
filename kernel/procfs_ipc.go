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
