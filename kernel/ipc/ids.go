package ipc

import "golang.org/x/sys/unix"

// Linux's id encoding (ipc/util.h): an id is seq<<idShift + index, the
// index below ipcMNI; a new id at an index not above the last one handed
// out gets the next sequence number, so a stale id of a reused index
// stops working.
const (
	ipcMNI   = 1 << 15
	idShift  = 15
	idxMask  = ipcMNI - 1
	seqMax   = (1<<31 - 1) >> idShift
	minCycle = 64 // indices are reused cyclically within at least this many
)

// object is what every segment, semaphore set and message queue has in
// common: its permissions, and where the namespace's id table put it.
type object struct {
	perm Perm
	idx  int
	id   int32
	// gone is set when IPC_RMID takes the object out of the table: a
	// task that slept on it and wakes sees EIDRM (ipc_valid_object).
	gone bool
}

func (o *object) base() *object { return o }

// tableEntry is a type whose values are kept in an idTable.
type tableEntry interface {
	comparable
	base() *object
}

// idTable is one kind of object's ids in a namespace (Linux's struct
// ipc_ids): segments, semaphore sets or message queues. Keys other than
// IPC_PRIVATE map to at most one object. Every field is protected by
// Namespace.mu.
type idTable[T tableEntry] struct {
	byIdx   map[int]T
	byKey   map[int32]T
	seq     int // sequence number of new ids
	lastIdx int // index handed out last; -1 at first
	next    int // where the cyclic index search starts
	maxIdx  int // highest index in use; -1 with none
	// nextID is the id the next object asks for (/proc/sys/kernel/
	// {shm,msg,sem}_next_id, for checkpoint/restore); -1: none. One
	// object takes it (or the first free index after it) and it goes
	// back to -1.
	nextID int32
}

func (t *idTable[T]) init() {
	t.byIdx = make(map[int]T)
	t.byKey = make(map[int32]T)
	t.lastIdx, t.maxIdx = -1, -1
	t.nextID = -1
}

// inUse is the number of objects (ids.in_use).
func (t *idTable[T]) inUse() int { return len(t.byIdx) }

// add gives o an index and an id as Linux's ipc_idr_alloc does, and
// enters it under its key: the first free index from just past the last
// one handed out, within a window that grows with the number in use,
// wrapping around to 0; an index not above the last one gets the next
// sequence number. The caller has checked that fewer than the kind's
// limit (below ipcMNI) are in use, so the window has a free index.
func (t *idTable[T]) add(o T) {
	b := o.base()
	if t.nextID >= 0 {
		// The id asked for: its sequence number, and its index or the
		// first free one above it (Linux's ipc_idr_alloc with next_id).
		want := t.nextID
		t.nextID = -1
		idx := int(want & idxMask)
		for ; idx < ipcMNI; idx++ {
			if _, used := t.byIdx[idx]; !used {
				break
			}
		}
		if idx < ipcMNI {
			b.idx = idx
			b.perm.Seq = uint16(want >> idShift)
			b.id = int32(int(want>>idShift)<<idShift + idx)
			t.maxIdx = max(t.maxIdx, idx)
			t.byIdx[idx] = o
			if b.perm.Key != IPCPrivate {
				t.byKey[b.perm.Key] = o
			}
			return
		}
	}
	bound := min(max(len(t.byIdx)*3/2, minCycle), ipcMNI)
	idx := -1
	for i := t.next; i < bound; i++ {
		if _, used := t.byIdx[i]; !used {
			idx = i
			break
		}
	}
	for i := 0; idx < 0 && i < bound; i++ {
		if _, used := t.byIdx[i]; !used {
			idx = i
		}
	}
	t.next = idx + 1
	if idx <= t.lastIdx {
		t.seq++
		if t.seq >= seqMax {
			t.seq = 0
		}
	}
	t.lastIdx = idx
	t.maxIdx = max(t.maxIdx, idx)
	b.idx = idx
	b.perm.Seq = uint16(t.seq)
	b.id = int32(t.seq<<idShift + idx)
	t.byIdx[idx] = o
	if b.perm.Key != IPCPrivate {
		t.byKey[b.perm.Key] = o
	}
}

// find returns the object of id, checking its sequence number
// (ipc_obtain_object_check).
func (t *idTable[T]) find(id int32) (T, bool) {
	var zero T
	if id < 0 {
		return zero, false
	}
	o, ok := t.byIdx[int(id&idxMask)]
	if !ok || int(o.base().perm.Seq) != int(id>>idShift) {
		return zero, false
	}
	return o, true
}

// atIndex returns the object at the index in id's low bits, whatever its
// sequence number (ipc_obtain_object_idr, for SEM_STAT and MSG_STAT).
func (t *idTable[T]) atIndex(id int32) (T, bool) {
	var zero T
	if id < 0 {
		return zero, false
	}
	o, ok := t.byIdx[int(id&idxMask)]
	if !ok {
		return zero, false
	}
	return o, true
}

// holds reports whether o is in the table.
func (t *idTable[T]) holds(o T) bool {
	cur, ok := t.byIdx[o.base().idx]
	return ok && cur == o
}

// dropKey makes o unreachable by its key (its key stays in its perm, for
// the caller to change).
func (t *idTable[T]) dropKey(o T) {
	if k := o.base().perm.Key; k != IPCPrivate && t.byKey[k] == o {
		delete(t.byKey, k)
	}
}

// remove takes o out of the table and marks it gone.
func (t *idTable[T]) remove(o T) {
	b := o.base()
	if !t.holds(o) {
		return
	}
	b.gone = true
	delete(t.byIdx, b.idx)
	t.dropKey(o)
	if b.idx == t.maxIdx {
		t.maxIdx = -1
		for i := b.idx - 1; i >= 0; i-- {
			if _, used := t.byIdx[i]; used {
				t.maxIdx = i
				break
			}
		}
	}
}

// maxIdxOrZero is what the INFO commands return: the highest index in
// use, or 0 with none.
func (t *idTable[T]) maxIdxOrZero() int32 { return int32(max(t.maxIdx, 0)) }

// ordered lists the objects by index, as /proc/sysvipc does.
func (t *idTable[T]) ordered() []T {
	out := make([]T, 0, len(t.byIdx))
	for i := 0; i <= t.maxIdx; i++ {
		if o, ok := t.byIdx[i]; ok {
			out = append(out, o)
		}
	}
	return out
}

// getKey is ipcget for a key other than IPC_PRIVATE: the existing
// object's checks in Linux's order (EEXIST, then more, which is the
// kind's own check such as semget's nsems, then the permission bits of
// flags: EACCES), or, without one, ENOENT unless IPCCreat. It returns
// found false when a new object should be made.
func (t *idTable[T]) getKey(c Caller, key int32, flags int32, more func(T) error) (int32, bool, error) {
	o, ok := t.byKey[key]
	if !ok {
		if flags&IPCCreat == 0 {
			return 0, true, unix.ENOENT
		}
		return 0, false, nil
	}
	if flags&IPCCreat != 0 && flags&IPCExcl != 0 {
		return 0, true, unix.EEXIST
	}
	if more != nil {
		if err := more(o); err != nil {
			return 0, true, err
		}
	}
	if !o.base().perm.allows(c.Creds, uint32(flags)&0o777) {
		return 0, true, unix.EACCES
	}
	return o.base().id, true, nil
}

// newPerm is the permissions of an object c creates with key and the
// mode bits of flags.
func newPerm(c Caller, key int32, flags int32) Perm {
	return Perm{Key: key, UID: c.Creds.EUID, GID: c.Creds.EGID, CUID: c.Creds.EUID, CGID: c.Creds.EGID,
		Mode: uint32(flags) & 0o777}
}

// setPerm is ipc_update_perm after ipcctl_obtain_check's owner check:
// IPC_SET's new owner and mode bits (the caller checked mayChange).
func setPerm(p *Perm, req SetRequest) error {
	if req.UID == ^uint32(0) || req.GID == ^uint32(0) { // not valid ids
		return unix.EINVAL
	}
	p.UID, p.GID = req.UID, req.GID
	p.Mode = p.Mode&^0o777 | req.Mode&0o777
	return nil
}

// NextID returns /proc/sys/kernel/KIND_next_id for kind "shm", "msg" or
// "sem"; ok is false for another kind.
func (ns *Namespace) NextID(kind string) (int64, bool) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	switch kind {
	case "shm":
		return int64(ns.shm.ids.nextID), true
	case "msg":
		return int64(ns.msg.ids.nextID), true
	case "sem":
		return int64(ns.sem.ids.nextID), true
	}
	return 0, false
}

// SetNextID sets it: -1 (none) up to the largest int, EINVAL otherwise.
func (ns *Namespace) SetNextID(kind string, v int64) error {
	if v < -1 || v > 1<<31-1 {
		return unix.EINVAL
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	switch kind {
	case "shm":
		ns.shm.ids.nextID = int32(v)
	case "msg":
		ns.msg.ids.nextID = int32(v)
	case "sem":
		ns.sem.ids.nextID = int32(v)
	default:
		return unix.EINVAL
	}
	return nil
}
