package ipc

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// undoCost is what an undo record costs the budget besides its
// adjustments (two bytes a semaphore).
const undoCost = 64

// UndoList is a task's semaphore undo list (Linux's struct
// sem_undo_list): the adjustments its SEM_UNDO operations recorded, one
// record per set. Tasks cloned with CLONE_SYSVSEM share it; when the
// last of them exits (or unshares CLONE_SYSVSEM) the adjustments are
// applied (Release, Linux's exit_sem).
type UndoList struct {
	ns   *Namespace
	refs atomic.Int64
	// undos are the records, the most recently used first (Linux's
	// lookup_undo moves a record it finds to the front). Protected by
	// ns.mu.
	undos []*semUndo
}

// semUndo is one set's adjustments in an undo list (struct sem_undo).
// Protected by Namespace.mu.
type semUndo struct {
	list *UndoList
	set  *semSet
	adj  []int16 // added to each semaphore at exit
}

// NewUndoList returns an undo list of namespace ns with one user.
func NewUndoList(ns *Namespace) *UndoList {
	l := &UndoList{ns: ns}
	l.refs.Store(1)
	return l
}

// Get adds a user (a CLONE_SYSVSEM clone).
func (l *UndoList) Get() { l.refs.Add(1) }

// Release drops a user. The last applies the list's adjustments to the
// sets that still exist, as the process pid (Linux's exit_sem): each
// value is clamped to 0..SEMVMX, and sleepers that can now go do.
func (l *UndoList) Release(pid int32) {
	if l.refs.Add(-1) != 0 {
		return
	}
	ns := l.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for len(l.undos) > 0 {
		u := l.undos[0]
		s := u.set
		for i, a := range u.adj {
			if a == 0 {
				continue
			}
			v := min(max(s.sems[i].val+int32(a), 0), SEMVMX)
			s.sems[i].val = v
			s.sems[i].pid = pid
		}
		ns.dropUndoLocked(u)
		s.smartUpdate(nil, true)
		s.unmergeQueues()
	}
}

// findAllocUndoLocked returns l's record for s, making it when there is
// none (find_alloc_undo); ENOMEM when the budget cannot hold it.
func (ns *Namespace) findAllocUndoLocked(l *UndoList, s *semSet) (*semUndo, error) {
	for i, u := range l.undos {
		if u.set == s {
			copy(l.undos[1:i+1], l.undos[:i])
			l.undos[0] = u
			return u, nil
		}
	}
	if !ns.charger().Charge(u16cost(len(s.sems))) {
		return nil, unix.ENOMEM
	}
	u := &semUndo{list: l, set: s, adj: make([]int16, len(s.sems))}
	l.undos = append([]*semUndo{u}, l.undos...)
	s.undos[u] = struct{}{}
	return u, nil
}

// dropUndoLocked forgets record u, from its list and its set.
func (ns *Namespace) dropUndoLocked(u *semUndo) {
	l := u.list
	for i, o := range l.undos {
		if o == u {
			l.undos = append(l.undos[:i], l.undos[i+1:]...)
			break
		}
	}
	delete(u.set.undos, u)
	ns.charger().Uncharge(u16cost(len(u.adj)))
}

func u16cost(n int) int64 { return undoCost + 2*int64(n) }
