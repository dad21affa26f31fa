package ipc

import (
	"time"

	"golang.org/x/sys/unix"
)

// semQueue is one semop sleeping until its operations can all be done
// (Linux's struct sem_queue). Protected by Namespace.mu.
type semQueue struct {
	sops     []Sembuf
	undo     *semUndo // the caller's record for the set, if any op has SemUndo
	pid      int32
	alter    bool // some operation changes a value
	blocking int  // the index in sops of the operation that blocked last
	on       *semList

	// done is set, with status, by whoever completes the operation for
	// the sleeper (or fails it: EIDRM, ERANGE); wake is closed then.
	done   bool
	status error
	wake   chan struct{}
}

// complete finishes q for its sleeper with err (nil: done).
func (q *semQueue) complete(err error) {
	q.done, q.status, q.on = true, err, nil
	close(q.wake)
}

// semList is a FIFO of sleeping operations.
type semList struct{ qs []*semQueue }

func (l *semList) push(q *semQueue) {
	l.qs = append(l.qs, q)
	q.on = l
}

// unlink takes q off its list (unlink_queue); a complex operation leaves
// the set's count of them.
func (s *semSet) unlink(q *semQueue) {
	l := q.on
	if l == nil {
		return
	}
	for i, o := range l.qs {
		if o == q {
			l.qs = append(l.qs[:i], l.qs[i+1:]...)
			break
		}
	}
	q.on = nil
	if len(q.sops) > 1 {
		s.complexCount--
	}
}

// perform tries q's operations in order, as one: it either does them all
// (false, nil), or none, reporting that q must sleep (true, nil) or an
// error: EAGAIN for an operation that would block with IPCNoWait, ERANGE
// for a value above SEMVMX or an adjustment beyond SEMAEM. It is Linux's
// perform_atomic_semop_slow, which does each operation on the values the
// ones before it left, so it also holds where the fast path applies.
func (s *semSet) perform(q *semQueue) (bool, error) {
	undoTo := func(n int) {
		for j := n - 1; j >= 0; j-- {
			op := q.sops[j]
			s.sems[op.Num].val -= int32(op.Op)
			if op.Flg&SemUndo != 0 {
				q.undo.adj[op.Num] += op.Op
			}
		}
	}
	for i, op := range q.sops {
		sem := &s.sems[op.Num]
		result := int(sem.val)
		if op.Op == 0 && result != 0 || result+int(op.Op) < 0 {
			q.blocking = i
			undoTo(i)
			if op.Flg&IPCNoWait != 0 {
				return false, unix.EAGAIN
			}
			return true, nil
		}
		result += int(op.Op)
		if result > SEMVMX {
			undoTo(i)
			return false, unix.ERANGE
		}
		if op.Flg&SemUndo != 0 {
			adj := int(q.undo.adj[op.Num]) - int(op.Op)
			if adj < -SEMAEM-1 || adj > SEMAEM {
				undoTo(i)
				return false, unix.ERANGE
			}
			q.undo.adj[op.Num] = int16(adj)
		}
		sem.val = int32(result)
	}
	for _, op := range q.sops {
		s.sems[op.Num].pid = q.pid
	}
	return false, nil
}

// setOtime records a completed semop (set_semotime): on the first
// operation's semaphore, or the first semaphore when sops is nil.
func (s *semSet) setOtime(sops []Sembuf) {
	if len(sops) == 0 {
		s.sems[0].otime = now()
		return
	}
	s.sems[sops[0].Num].otime = now()
}

// smartUpdate is Linux's do_smart_update after values changed (by sops,
// or, sops nil, by anything): sleepers that can now go are done and woken,
// in Linux's order. otime says to record an operation time even if no
// sleeper went.
func (s *semSet) smartUpdate(sops []Sembuf, otime bool) {
	if s.wakeupZero(sops) {
		otime = true
	}
	switch {
	case len(s.pendingAlter.qs) > 0:
		// Complex operations are around: one queue for all.
		if s.updateQueue(-1) {
			otime = true
		}
	case sops == nil:
		for i := range s.sems {
			if s.updateQueue(i) {
				otime = true
			}
		}
	default:
		// Only a semaphore that went up can let a decrease go.
		for _, op := range sops {
			if op.Op > 0 && s.updateQueue(int(op.Num)) {
				otime = true
			}
		}
	}
	if otime {
		s.setOtime(sops)
	}
}

// wakeupZero is do_smart_wakeup_zero: the waits for zero on semaphores
// that are zero now (all of them when sops is nil), then the complex
// ones if any became zero.
func (s *semSet) wakeupZero(sops []Sembuf) bool {
	completed, gotZero := false, false
	check := func(n int) {
		if s.sems[n].val == 0 {
			gotZero = true
			if s.wakeConst(n) {
				completed = true
			}
		}
	}
	if sops != nil {
		for _, op := range sops {
			check(int(op.Num))
		}
	} else {
		for i := range s.sems {
			check(i)
		}
	}
	if gotZero && s.wakeConst(-1) {
		completed = true
	}
	return completed
}

// wakeConst is wake_const_ops: every operation that changes nothing and
// can go now on semaphore num's list (-1: the set's) is done.
func (s *semSet) wakeConst(num int) bool {
	l := &s.pendingConst
	if num >= 0 {
		l = &s.sems[num].pendingConst
	}
	completed := false
	for i := 0; i < len(l.qs); {
		q := l.qs[i]
		block, err := s.perform(q)
		if block {
			i++
			continue
		}
		s.unlink(q)
		q.complete(err)
		if err == nil {
			completed = true
		}
	}
	return completed
}

// updateQueue is Linux's update_queue: the altering operations sleeping
// on semaphore num's list (-1: the set's), in order, each done if it can
// be. After one goes, the scan starts over if that could let an earlier
// one go (check_restart).
func (s *semSet) updateQueue(num int) bool {
	l := &s.pendingAlter
	if num >= 0 {
		l = &s.sems[num].pendingAlter
	}
	completed := false
again:
	for i := 0; i < len(l.qs); {
		// A decrease on a semaphore at 0 cannot go; simple increases
		// never sleep.
		if num >= 0 && s.sems[num].val == 0 {
			break
		}
		q := l.qs[i]
		block, err := s.perform(q)
		if block {
			i++
			continue
		}
		s.unlink(q)
		restart := false
		if err == nil {
			completed = true
			s.wakeupZero(q.sops)
			restart = len(s.pendingAlter.qs) > 0 || len(q.sops) > 1
		}
		q.complete(err)
		if restart {
			goto again
		}
	}
	return completed
}

// mergeQueues moves the simple altering sleepers onto the set's list
// when the first complex one arrives, each semaphore's ahead of those
// before it (Linux's list_splice_init to the head).
func (s *semSet) mergeQueues() {
	for i := range s.sems {
		l := &s.sems[i].pendingAlter
		if len(l.qs) == 0 {
			continue
		}
		merged := append(append([]*semQueue(nil), l.qs...), s.pendingAlter.qs...)
		s.pendingAlter.qs = merged
		l.qs = nil
	}
	for _, q := range s.pendingAlter.qs {
		q.on = &s.pendingAlter
	}
}

// unmergeQueues moves the simple sleepers back to their semaphores once
// no complex one is left (done by Linux whenever the set's global lock
// is let go).
func (s *semSet) unmergeQueues() {
	if s.complexCount > 0 || len(s.pendingAlter.qs) == 0 {
		return
	}
	for _, q := range s.pendingAlter.qs {
		s.sems[q.sops[0].Num].pendingAlter.push(q)
	}
	s.pendingAlter.qs = nil
}

// SemOp is semop(2) and semtimedop(2) once the operations are read: the
// caller checked their number (1..SEMOPM) and the timeout. All the
// operations are done at once, or, when one cannot be, none: then the
// call fails with EAGAIN if that one has IPCNoWait, else sleeps until
// they all can be (done for it by the change that allows them), the set
// is removed (EIDRM), the deadline passes (EAGAIN; zero: none), or a
// signal comes (EINTR, never restarted). undo is the caller's undo list,
// needed when an operation has SemUndo.
func (ns *Namespace) SemOp(c Caller, undo *UndoList, id int32, sops []Sembuf, deadline time.Time) error {
	if id < 0 || len(sops) == 0 {
		return unix.EINVAL
	}
	maxNum, undos, alter := 0, false, false
	for _, op := range sops {
		maxNum = max(maxNum, int(op.Num))
		undos = undos || op.Flg&SemUndo != 0
		alter = alter || op.Op != 0
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, err := ns.sem.lookupLocked(id)
	if err != nil {
		return err
	}
	var un *semUndo
	if undos {
		if undo == nil {
			return unix.EINVAL
		}
		if un, err = ns.findAllocUndoLocked(undo, s); err != nil {
			return err
		}
	}
	if maxNum >= len(s.sems) {
		return unix.EFBIG
	}
	access := uint32(MayRead)
	if alter {
		access = MayWrite
	}
	if !s.perm.allows(c.Creds, access) {
		return unix.EACCES
	}
	q := &semQueue{sops: sops, undo: un, pid: c.PID, alter: alter}
	block, err := s.perform(q)
	if !block {
		if err == nil {
			if alter {
				s.smartUpdate(sops, true)
			} else {
				s.setOtime(sops)
			}
			s.unmergeQueues()
		}
		return err
	}

	// Sleep in line.
	q.wake = make(chan struct{})
	switch {
	case len(sops) == 1 && alter && s.complexCount > 0:
		s.pendingAlter.push(q)
	case len(sops) == 1 && alter:
		s.sems[sops[0].Num].pendingAlter.push(q)
	case len(sops) == 1:
		s.sems[sops[0].Num].pendingConst.push(q)
	default:
		if s.complexCount == 0 {
			s.mergeQueues()
		}
		if alter {
			s.pendingAlter.push(q)
		} else {
			s.pendingConst.push(q)
		}
		s.complexCount++
	}
	for {
		ns.mu.Unlock()
		werr := c.Block(q.wake, deadline)
		ns.mu.Lock()
		if q.done {
			return q.status
		}
		switch {
		case werr == unix.ETIMEDOUT:
			err = unix.EAGAIN
		case werr != nil:
			err = unix.EINTR
		default:
			continue // woken for nothing: sleep on
		}
		s.unlink(q)
		s.unmergeQueues()
		return err
	}
}
