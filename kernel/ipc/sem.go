package ipc

import (
	"golang.org/x/sys/unix"
)

// What a semaphore set costs the sandbox's memory budget while it
// exists: a header and, per semaphore, its value, pid, time and queues.
const (
	semSetCost = 256
	semCost    = 64
)

// semaphore is one semaphore of a set (Linux's struct sem).
type semaphore struct {
	val   int32 // 0..SEMVMX
	pid   int32 // the process of the last operation on it (GETPID)
	otime int64 // the last semop through it, seconds
	// pendingAlter and pendingConst are the simple operations (one
	// sembuf) sleeping on this semaphore: decrements, and waits for zero.
	pendingAlter, pendingConst semList
}

// semSet is a semaphore set (Linux's struct sem_array). Every field is
// protected by Namespace.mu.
type semSet struct {
	object
	sems  []semaphore
	ctime int64
	// pendingAlter and pendingConst are the complex operations sleeping
	// (more than one sembuf), and, while complexCount is not 0, the
	// simple altering ones too, so that they keep their order with the
	// complex ones (Linux's merge_queues).
	pendingAlter, pendingConst semList
	complexCount               int
	// undos are the undo records that name this set, one per undo list
	// that used SEM_UNDO on it.
	undos map[*semUndo]struct{}
	cost  int64 // charged to the budget
}

// semRegistry is a namespace's semaphore sets (Linux's sem_ids). Every
// field is protected by Namespace.mu.
type semRegistry struct {
	ids      idTable[*semSet]
	usedSems int // semaphores in all sets (used_sems)
}

func (r *semRegistry) init() { r.ids.init() }

// SemGet is semget(2): the id of key's set, creating one of nsems
// semaphores as flags (IPCCreat, IPCExcl, permission bits) say.
// IPCPrivate always creates a set.
func (ns *Namespace) SemGet(c Caller, key int32, nsems int32, flags int32) (int32, error) {
	if nsems < 0 || nsems > SEMMSL {
		return 0, unix.EINVAL
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	r := &ns.sem
	if key != IPCPrivate {
		id, found, err := r.ids.getKey(c, key, flags, func(s *semSet) error {
			if int(nsems) > len(s.sems) {
				return unix.EINVAL
			}
			return nil
		})
		if found {
			return id, err
		}
	}
	// newary: the set's size, the namespace's semaphores, memory, an id.
	if nsems == 0 {
		return 0, unix.EINVAL
	}
	if r.usedSems+int(nsems) > SEMMNS {
		return 0, unix.ENOSPC
	}
	cost := semSetCost + int64(nsems)*semCost
	if !ns.charger().Charge(cost) {
		return 0, unix.ENOMEM
	}
	if r.ids.inUse() >= SEMMNI {
		ns.charger().Uncharge(cost)
		return 0, unix.ENOSPC
	}
	s := &semSet{
		object: object{perm: newPerm(c, key, flags)},
		sems:   make([]semaphore, nsems),
		ctime:  now(),
		undos:  make(map[*semUndo]struct{}),
		cost:   cost,
	}
	r.ids.add(s)
	r.usedSems += int(nsems)
	return s.id, nil
}

// lookupLocked finds set id (EINVAL without one).
func (r *semRegistry) lookupLocked(id int32) (*semSet, error) {
	s, ok := r.ids.find(id)
	if !ok {
		return nil, unix.EINVAL
	}
	return s, nil
}

// SemStat is semctl's IPC_STAT, SEM_STAT and SEM_STAT_ANY. IPC_STAT takes
// an id and returns 0; the other two take an index and return the id.
// All but SEM_STAT_ANY need read permission.
func (ns *Namespace) SemStat(c Caller, id int32, cmd int) (SemidDS, int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var s *semSet
	var ok bool
	if cmd == IPCStat {
		s, ok = ns.sem.ids.find(id)
	} else {
		s, ok = ns.sem.ids.atIndex(id)
	}
	if !ok {
		return SemidDS{}, 0, unix.EINVAL
	}
	if cmd != SemStatAny && !s.perm.allows(c.Creds, MayRead) {
		return SemidDS{}, 0, unix.EACCES
	}
	ds := s.statLocked()
	if cmd == IPCStat {
		return ds, 0, nil
	}
	return ds, s.id, nil
}

// statLocked is the set's struct semid64_ds; its sem_otime is the latest
// of its semaphores' (get_semotime).
func (s *semSet) statLocked() SemidDS {
	ds := SemidDS{Perm: s.perm, Ctime: s.ctime, Nsems: uint64(len(s.sems))}
	for i := range s.sems {
		ds.Otime = max(ds.Otime, s.sems[i].otime)
	}
	return ds
}

// SemInfo is semctl's IPC_INFO (usage false) and SEM_INFO (true): the
// limits, with SEM_INFO's counts of sets and semaphores in semusz and
// semaem, and the highest index in use.
func (ns *Namespace) SemInfo(usage bool) (Seminfo, int32) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	r := &ns.sem
	i := Seminfo{Semmni: SEMMNI, Semmns: SEMMNS, Semmsl: SEMMSL, Semopm: SEMOPM, Semvmx: SEMVMX,
		Semmnu: SEMMNU, Semmap: SEMMAP, Semume: SEMUME, Semusz: SEMUSZ, Semaem: SEMAEM}
	if usage {
		i.Semusz, i.Semaem = int32(r.ids.inUse()), int32(r.usedSems)
	}
	return i, r.ids.maxIdxOrZero()
}

// SemGetValue is semctl's GETVAL, GETPID, GETNCNT and GETZCNT: one
// semaphore's value, last process, or count of tasks sleeping to
// decrease it or for it to be zero. It needs read permission.
func (ns *Namespace) SemGetValue(c Caller, id int32, num int32, cmd int) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, err := ns.sem.lookupLocked(id)
	if err != nil {
		return 0, err
	}
	if !s.perm.allows(c.Creds, MayRead) {
		return 0, unix.EACCES
	}
	if num < 0 || int(num) >= len(s.sems) {
		return 0, unix.EINVAL
	}
	switch cmd {
	case GetVal:
		return s.sems[num].val, nil
	case GetPID:
		return s.sems[num].pid, nil
	case GetNCnt:
		return s.countWaiters(int(num), false), nil
	default: // GetZCnt
		return s.countWaiters(int(num), true), nil
	}
}

// countWaiters is Linux's count_semcnt: the simple operations sleeping
// on semaphore num, and the complex ones whose blocking operation is on
// it (a decrease; a wait for zero when zero).
func (s *semSet) countWaiters(num int, zero bool) int32 {
	var n int32
	per := &s.sems[num].pendingAlter
	if zero {
		per = &s.sems[num].pendingConst
	}
	n += int32(len(per.qs))
	check := func(q *semQueue) {
		op := q.sops[q.blocking]
		if int(op.Num) != num {
			return
		}
		if zero && op.Op == 0 || !zero && op.Op < 0 {
			n++
		}
	}
	for _, q := range s.pendingAlter.qs {
		check(q)
	}
	if zero {
		for _, q := range s.pendingConst.qs {
			check(q)
		}
	}
	return n
}

// SemGetAll is semctl's GETALL: every value of the set. It needs read
// permission.
func (ns *Namespace) SemGetAll(c Caller, id int32) ([]uint16, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, err := ns.sem.lookupLocked(id)
	if err != nil {
		return nil, err
	}
	if !s.perm.allows(c.Creds, MayRead) {
		return nil, unix.EACCES
	}
	out := make([]uint16, len(s.sems))
	for i := range s.sems {
		out[i] = uint16(s.sems[i].val)
	}
	return out, nil
}

// SemNsems returns the size of set id after SETALL's permission check
// (write), so that the caller knows how many values to read.
func (ns *Namespace) SemNsems(c Caller, id int32) (int, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, err := ns.sem.lookupLocked(id)
	if err != nil {
		return 0, err
	}
	if !s.perm.allows(c.Creds, MayWrite) {
		return 0, unix.EACCES
	}
	return len(s.sems), nil
}

// SemSetAll is the rest of semctl's SETALL once the values are read
// (SemNsems told how many): every value above SEMVMX is ERANGE; then
// the values are set, every undo record of the set forgets its
// adjustments, and sleepers that can now go do. A set removed in the
// meantime is EIDRM; one that was replaced (another set at the id) is
// EIDRM as well, as Linux keeps its reference to the old one.
func (ns *Namespace) SemSetAll(c Caller, id int32, vals []uint16) error {
	for _, v := range vals {
		if v > SEMVMX {
			return unix.ERANGE
		}
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, ok := ns.sem.ids.find(id)
	if !ok || len(s.sems) != len(vals) {
		return unix.EIDRM
	}
	for i, v := range vals {
		s.sems[i].val = int32(v)
		s.sems[i].pid = c.PID
	}
	for u := range s.undos {
		clear(u.adj)
	}
	s.ctime = now()
	s.smartUpdate(nil, false)
	s.unmergeQueues()
	return nil
}

// SemSetVal is semctl's SETVAL: ERANGE for a value outside 0..SEMVMX
// (checked first, as Linux does), then the set, the index and write
// permission; every undo record forgets its adjustment of the semaphore.
func (ns *Namespace) SemSetVal(c Caller, id int32, num int32, val int32) error {
	if val < 0 || val > SEMVMX {
		return unix.ERANGE
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, err := ns.sem.lookupLocked(id)
	if err != nil {
		return err
	}
	if num < 0 || int(num) >= len(s.sems) {
		return unix.EINVAL
	}
	if !s.perm.allows(c.Creds, MayWrite) {
		return unix.EACCES
	}
	for u := range s.undos {
		u.adj[num] = 0
	}
	s.sems[num].val = val
	s.sems[num].pid = c.PID
	s.ctime = now()
	s.smartUpdate(nil, false)
	s.unmergeQueues()
	return nil
}

// SemSet is semctl's IPC_SET: the owner, the creator or a privileged
// caller gives the set a new owner and mode bits.
func (ns *Namespace) SemSet(c Caller, id int32, req SetRequest) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, err := ns.sem.lookupLocked(id)
	if err != nil {
		return err
	}
	if !s.perm.mayChange(c.Creds) {
		return unix.EPERM
	}
	if err := setPerm(&s.perm, req); err != nil {
		return err
	}
	s.ctime = now()
	return nil
}

// SemRemove is semctl's IPC_RMID (Linux's freeary): the set goes at
// once, its undo records with it, and every task sleeping on it wakes
// with EIDRM.
func (ns *Namespace) SemRemove(c Caller, id int32) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	r := &ns.sem
	s, err := r.lookupLocked(id)
	if err != nil {
		return err
	}
	if !s.perm.mayChange(c.Creds) {
		return unix.EPERM
	}
	for u := range s.undos {
		ns.dropUndoLocked(u)
	}
	for _, l := range s.allLists() {
		for _, q := range l.qs {
			q.complete(unix.EIDRM)
		}
		l.qs = nil
	}
	s.complexCount = 0
	r.ids.remove(s)
	r.usedSems -= len(s.sems)
	ns.charger().Uncharge(s.cost)
	return nil
}

// allLists is every queue of sleepers, in the order freeary wakes them.
func (s *semSet) allLists() []*semList {
	out := []*semList{&s.pendingConst, &s.pendingAlter}
	for i := range s.sems {
		out = append(out, &s.sems[i].pendingConst, &s.sems[i].pendingAlter)
	}
	return out
}

// SemSetInfo is one line of /proc/sysvipc/sem.
type SemSetInfo struct {
	ID int32
	SemidDS
}

// SemSets lists the namespace's sets by index, as /proc/sysvipc/sem
// does (without permission checks).
func (ns *Namespace) SemSets() []SemSetInfo {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var out []SemSetInfo
	for _, s := range ns.sem.ids.ordered() {
		out = append(out, SemSetInfo{ID: s.id, SemidDS: s.statLocked()})
	}
	return out
}
