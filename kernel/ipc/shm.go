package ipc

import (
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memmap"
	"uk/kernel/mm"
)

// segment is one shared-memory segment. It is the memmap.Mappable that
// attachments map: it passes pages through to its object and notes the
// attach and detach times that a mapping's birth and death imply (fork
// and munmap included, as Linux's shm_open and shm_close do).
type segment struct {
	ns    *Namespace
	obj   *mm.AnonObject
	size  uint64 // bytes, as asked of shmget
	pages uint64
	name  string // what /proc/PID/maps shows for an attachment

	// Protected by ns.mu: the permissions, the index and id, and these.
	object
	ctime int64
	cpid  int32
	// lpid is the last process to shmat or shmdt the segment. Linux
	// also counts a fork, munmap or exit that adds or drops an
	// attachment; the mapping hooks here are not told which process
	// that is.
	lpid    int32
	pending int    // shmat calls between the lookup and the mapping
	held    bool   // the id's hold on obj, dropped at IPC_RMID
	lockUID uint32 // whose locked-memory count SHM_LOCK charged, while SHMLocked

	atime, dtime atomic.Int64 // set by the mapping hooks, outside ns.mu
}

var (
	_ memmap.Mappable   = (*segment)(nil)
	_ memmap.PagePeeker = (*segment)(nil)
)

// PageAt implements memmap.Mappable.
func (s *segment) PageAt(index uint64) (int64, error) { return s.obj.PageAt(index) }

// PeekPage implements memmap.PagePeeker.
func (s *segment) PeekPage(index uint64) (int64, bool) { return s.obj.PeekPage(index) }

// PunchHole frees the segment's whole pages in [off, off+n) (MADV_REMOVE).
func (s *segment) PunchHole(off, n int64) { s.obj.PunchHoleFor(s, off, n) }

// AddMapping implements memmap.Mappable. It runs under the mapper's lock,
// so it touches nothing of the namespace's.
func (s *segment) AddMapping(m memmap.Mapper) {
	s.atime.Store(now())
	s.obj.AddMapping(m)
}

// RemoveMapping implements memmap.Mappable: the last mapping of a removed
// segment frees its pages (the object does that).
func (s *segment) RemoveMapping(m memmap.Mapper) {
	s.dtime.Store(now())
	s.obj.RemoveMapping(m)
}

// IsShm reports whether o is a shared-memory segment: shmdt detaches only
// attachments of those.
func IsShm(o memmap.Mappable) bool {
	_, ok := o.(*segment)
	return ok
}

// ShmDevice is the device number /proc/PID/maps shows for attachments
// (Linux's internal shm mount is 0:1 on x86-64); their inode number is
// the segment's id.
const ShmDevice = 1

// shmRegistry is a namespace's segments (Linux's shm_ids). Every field is
// protected by Namespace.mu.
type shmRegistry struct {
	// ids are the segments by index, and by key until IPC_RMID.
	ids      idTable[*segment]
	removed  map[*segment]struct{} // removed (SHMDest) and not yet forgotten
	totPages uint64                // pages of every segment (shm_tot)
	locked   map[uint32]uint64     // pages locked with SHM_LOCK, by real uid
}

func (r *shmRegistry) init() {
	r.ids.init()
	r.removed = make(map[*segment]struct{})
	r.locked = make(map[uint32]uint64)
}

// findLocked returns the segment of id, checking the sequence number as
// ipc_obtain_object_check does.
func (r *shmRegistry) findLocked(id int32) *segment {
	s, _ := r.ids.find(id)
	return s
}

// lookupLocked is findLocked for everything but shmat: a removed segment
// with nothing attached is forgotten first, so it is not found.
func (r *shmRegistry) lookupLocked(id int32) (*segment, error) {
	s := r.findLocked(id)
	if s == nil || r.reapLocked(s) {
		return nil, unix.EINVAL
	}
	return s, nil
}

// reapLocked forgets s if it is removed and nothing maps it or is about
// to, and reports whether it did. (Linux destroys such a segment in its
// last detach; uk's detaches happen under address-space locks, which come
// before the namespace's, so it catches up here.)
func (r *shmRegistry) reapLocked(s *segment) bool {
	if s.perm.Mode&SHMDest == 0 || s.pending > 0 || s.obj.Mappings() > 0 {
		return false
	}
	r.forgetLocked(s)
	return true
}

// reapAllLocked forgets every removed segment nothing maps, before a
// count of ids or pages.
func (r *shmRegistry) reapAllLocked() {
	for s := range r.removed {
		r.reapLocked(s)
	}
}

// forgetLocked takes s out of the namespace (Linux's shm_destroy). Its
// pages go now unless something maps it.
func (r *shmRegistry) forgetLocked(s *segment) {
	if !r.ids.holds(s) {
		return
	}
	r.ids.remove(s)
	delete(r.removed, s)
	r.totPages -= s.pages
	r.unlockLocked(s)
	if s.held {
		s.held = false
		s.obj.Release()
	}
}

// unlockLocked undoes SHM_LOCK's charge.
func (r *shmRegistry) unlockLocked(s *segment) {
	if s.perm.Mode&SHMLocked == 0 {
		return
	}
	s.perm.Mode &^= SHMLocked
	r.locked[s.lockUID] -= s.pages
	if r.locked[s.lockUID] == 0 {
		delete(r.locked, s.lockUID)
	}
}

// ShmGet is shmget(2): it returns the id of key's segment, creating one
// as flags (IPCCreat, IPCExcl, permission bits, SHMHugeTLB,
// SHMNoReserve) say. IPCPrivate always creates a segment.
func (ns *Namespace) ShmGet(c Caller, key int32, size uint64, flags int32) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	r := &ns.shm
	r.reapAllLocked()
	if key != IPCPrivate {
		if s := r.ids.byKey[key]; s != nil {
			switch {
			case flags&IPCCreat != 0 && flags&IPCExcl != 0:
				return 0, unix.EEXIST
			case s.size < size:
				return 0, unix.EINVAL
			case !s.perm.allows(c.Creds, uint32(flags)&0o777):
				return 0, unix.EACCES
			}
			return s.id, nil
		}
		if flags&IPCCreat == 0 {
			return 0, unix.ENOENT
		}
	}
	return ns.newSegmentLocked(c, key, size, flags)
}

// newSegmentLocked is Linux's newseg: the size limits, the namespace's
// page total, memory, then a free id.
func (ns *Namespace) newSegmentLocked(c Caller, key int32, size uint64, flags int32) (int32, error) {
	r := &ns.shm
	if size < SHMMin || size > SHMMax {
		return 0, unix.EINVAL
	}
	pages := (size + arch.PageSize - 1) >> arch.PageShift
	if r.totPages+pages < r.totPages || r.totPages+pages > SHMAll {
		return 0, unix.ENOSPC
	}
	if flags&SHMHugeTLB != 0 {
		// Linux knows 2 MiB and 1 GiB pages here; uk has none to give.
		switch (flags >> SHMHugeShift) & 0x3f {
		case 0, 21, 30:
		default:
			return 0, unix.EINVAL
		}
		if !c.Creds.Privileged && !c.Creds.InGroup(0) { // vm.hugetlb_shm_group
			return 0, unix.EPERM
		}
		return 0, unix.ENOMEM
	}
	// As Linux's heuristic overcommit does, refuse a segment bigger than
	// all of memory, unless it asked not to be accounted; pages come on
	// first touch, so smaller ones cost nothing until used.
	if flags&SHMNoReserve == 0 && ns.mf != nil && pages > uint64(ns.mf.Size())>>arch.PageShift {
		return 0, unix.ENOMEM
	}
	if r.ids.inUse() >= SHMMNI {
		return 0, unix.ENOSPC
	}
	s := &segment{
		ns:     ns,
		obj:    mm.NewAnonObject(ns.mf, pages),
		size:   size,
		pages:  pages,
		name:   fmt.Sprintf("/SYSV%08x (deleted)", uint32(key)),
		object: object{perm: newPerm(c, key, flags)},
		ctime:  now(),
		cpid:   c.PID,
		held:   true,
	}
	s.obj.Hold()
	r.ids.add(s)
	r.totPages += pages
	return s.id, nil
}

// Attachment is what ShmAttach hands its map function: the segment to map
// and how /proc/PID/maps should show it.
type Attachment struct {
	// Object is the segment: map it shared from page offset 0.
	Object memmap.Mappable
	// Size is the segment's size in bytes (the mapping is rounded up to
	// pages).
	Size uint64
	// Name, Dev and Ino are the mapping's name ("/SYSVkey (deleted)"),
	// device and inode number (the id).
	Name     string
	Dev, Ino uint64
}

// ShmAttach is the namespace's part of shmat(2): it finds segment id,
// checks that the caller may access it as asked (MayRead, MayWrite,
// MayExec), and calls mapFn to map it, returning what mapFn returns. A
// segment removed but still attached can be attached again, as on Linux.
// mapFn runs without the namespace's lock; meanwhile the segment can
// neither be forgotten nor lose its pages.
func (ns *Namespace) ShmAttach(c Caller, id int32, access uint32, mapFn func(Attachment) (uint64, error)) (uint64, error) {
	ns.mu.Lock()
	r := &ns.shm
	s := r.findLocked(id)
	if s == nil {
		ns.mu.Unlock()
		return 0, unix.EINVAL
	}
	// Hold first, then check: once held, a removed segment that still
	// has a mapping keeps its pages even if that mapping goes now.
	s.obj.Hold()
	if r.reapLocked(s) {
		ns.mu.Unlock()
		s.obj.Release()
		return 0, unix.EINVAL
	}
	if !s.perm.allows(c.Creds, access) {
		ns.mu.Unlock()
		s.obj.Release()
		return 0, unix.EACCES
	}
	s.pending++
	ns.mu.Unlock()

	addr, err := mapFn(Attachment{Object: s, Size: s.size, Name: s.name, Dev: ShmDevice, Ino: uint64(s.id)})

	ns.mu.Lock()
	s.pending--
	if err == nil {
		s.lpid = c.PID
	}
	r.reapLocked(s)
	ns.mu.Unlock()
	s.obj.Release()
	return addr, err
}

// ShmDetached is the namespace's part of shmdt(2), after the caller's
// address space detached o (a segment: IsShm): it records the caller as
// the last to operate on the segment, and forgets a removed segment that
// nothing maps any more.
func ShmDetached(c Caller, o memmap.Mappable) {
	s, ok := o.(*segment)
	if !ok {
		return
	}
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	s.lpid = c.PID
	s.ns.shm.reapLocked(s)
}

// ShmStat is shmctl's IPC_STAT, SHM_STAT and SHM_STAT_ANY. IPC_STAT takes
// an id and returns 0; the other two take an index and return the id.
// All but SHM_STAT_ANY need read permission.
func (ns *Namespace) ShmStat(c Caller, id int32, cmd int) (ShmidDS, int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	r := &ns.shm
	var s *segment
	if cmd == IPCStat {
		var err error
		if s, err = r.lookupLocked(id); err != nil {
			return ShmidDS{}, 0, err
		}
	} else {
		s, _ = r.ids.atIndex(id)
		if s == nil || r.reapLocked(s) {
			return ShmidDS{}, 0, unix.EINVAL
		}
	}
	if cmd != SHMStatAny && !s.perm.allows(c.Creds, MayRead) {
		return ShmidDS{}, 0, unix.EACCES
	}
	ds := s.statLocked()
	if cmd == IPCStat {
		return ds, 0, nil
	}
	return ds, s.id, nil
}

// statLocked is the segment's struct shmid64_ds. shm_nattch is the number
// of its mappings, as on Linux, where a VMA split by mprotect counts
// twice. Preconditions: ns.mu held.
func (s *segment) statLocked() ShmidDS {
	return ShmidDS{
		Perm:   s.perm,
		Segsz:  s.size,
		Atime:  s.atime.Load(),
		Dtime:  s.dtime.Load(),
		Ctime:  s.ctime,
		CPID:   s.cpid,
		LPID:   s.lpid,
		Nattch: uint64(s.obj.Mappings()),
	}
}

// ShmSet is shmctl's IPC_SET: the owner, the creator or a privileged
// caller gives the segment a new owner and permission bits.
func (ns *Namespace) ShmSet(c Caller, id int32, req SetRequest) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, err := ns.shm.lookupLocked(id)
	if err != nil {
		return err
	}
	if !s.perm.mayChange(c.Creds) {
		return unix.EPERM
	}
	if req.UID == ^uint32(0) || req.GID == ^uint32(0) { // not valid ids
		return unix.EINVAL
	}
	s.perm.UID, s.perm.GID = req.UID, req.GID
	s.perm.Mode = s.perm.Mode&^0o777 | req.Mode&0o777
	s.ctime = now()
	return nil
}

// ShmRemove is shmctl's IPC_RMID: the segment goes now if nothing is
// attached, else with its last detach (see the package comment).
func (ns *Namespace) ShmRemove(c Caller, id int32) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	r := &ns.shm
	s, err := r.lookupLocked(id)
	if err != nil {
		return err
	}
	if !s.perm.mayChange(c.Creds) {
		return unix.EPERM
	}
	if s.pending == 0 && s.obj.Mappings() == 0 {
		r.forgetLocked(s)
		return nil
	}
	s.perm.Mode |= SHMDest
	if s.perm.Key != IPCPrivate {
		r.ids.dropKey(s)
		s.perm.Key = IPCPrivate
	}
	r.removed[s] = struct{}{}
	if s.held {
		// From now on only the mappings keep the pages: the last one to
		// go frees them, even if nobody looks at this id again.
		s.held = false
		s.obj.Release()
	}
	return nil
}

// ShmLock is shmctl's SHM_LOCK (lock true) and SHM_UNLOCK. uk never
// swaps, so locking only records the flag and charges the pages to the
// caller's locked-memory limit as Linux does; an unprivileged caller must
// own or have created the segment.
func (ns *Namespace) ShmLock(c Caller, id int32, lock bool) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	r := &ns.shm
	s, err := r.lookupLocked(id)
	if err != nil {
		return err
	}
	if !c.Creds.Privileged {
		if c.Creds.EUID != s.perm.UID && c.Creds.EUID != s.perm.CUID {
			return unix.EPERM
		}
		if lock && c.MemlockLimit == 0 {
			return unix.EPERM
		}
	}
	if !lock {
		r.unlockLocked(s)
		return nil
	}
	if s.perm.Mode&SHMLocked != 0 {
		return nil
	}
	uid := c.Creds.UID
	limit := c.MemlockLimit
	if limit != unix.RLIM_INFINITY {
		limit >>= arch.PageShift
	}
	if total := r.locked[uid] + s.pages; !c.Creds.Privileged && total > limit {
		return unix.ENOMEM
	}
	r.locked[uid] += s.pages
	s.lockUID = uid
	s.perm.Mode |= SHMLocked
	return nil
}

// maxIdxLocked is what IPC_INFO and SHM_INFO return: the highest index in
// use, or 0 with none.
func (r *shmRegistry) maxIdxLocked() int32 { return r.ids.maxIdxOrZero() }

// ShmLimits is shmctl's IPC_INFO: the namespace's limits, and the highest
// index in use.
func (ns *Namespace) ShmLimits() (ShmInfo64, int32) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	ns.shm.reapAllLocked()
	return ShmInfo64{Shmmax: SHMMax, Shmmin: SHMMin, Shmmni: SHMMNI, Shmseg: SHMMNI, Shmall: SHMAll},
		ns.shm.maxIdxLocked()
}

// ShmUsage is shmctl's SHM_INFO: ids and pages in use, and the highest
// index in use.
func (ns *Namespace) ShmUsage() (ShmInfo, int32) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	r := &ns.shm
	r.reapAllLocked()
	info := ShmInfo{UsedIDs: int32(r.ids.inUse()), ShmTot: r.totPages}
	for _, s := range r.ids.byIdx {
		info.ShmRss += uint64(s.obj.Resident())
	}
	return info, r.maxIdxLocked()
}

// ShmSegment is one line of /proc/sysvipc/shm.
type ShmSegment struct {
	ID int32
	ShmidDS
	Rss uint64 // bytes of the segment that exist
}

// ShmSegments lists the namespace's segments by index, as
// /proc/sysvipc/shm does (without permission checks, as SHM_STAT_ANY).
func (ns *Namespace) ShmSegments() []ShmSegment {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	r := &ns.shm
	r.reapAllLocked()
	out := make([]ShmSegment, 0, r.ids.inUse())
	for _, s := range r.ids.ordered() {
		out = append(out, ShmSegment{ID: s.id, ShmidDS: s.statLocked(), Rss: uint64(s.obj.Resident()) << arch.PageShift})
	}
	return out
}
