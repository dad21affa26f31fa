package futex

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Priority-inheritance futexes (FUTEX_LOCK_PI, FUTEX_LOCK_PI2,
// FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI): the word holds the owner's thread
// id, with FutexWaiters set while the kernel has waiters and
// FutexOwnerDied after an owner died holding it. uk runs no scheduler of
// its own, so there is no priority to inherit: what remains is the lock
// protocol, which glibc's PTHREAD_PRIO_INHERIT mutexes (robust or not)
// depend on. Waiters are queued on their futex's bucket with bitset 0, so
// that no FUTEX_WAKE ever takes them, and are handed the lock in FIFO
// order by FUTEX_UNLOCK_PI, which writes the new owner's id into the word
// before it wakes it.

// PIOwners says which threads exist, for the PI operations: a lock held
// by a thread id that names no thread is an error (ESRCH), or, for a
// waiter whose owner died, the waiter's to take.
type PIOwners interface {
	ThreadExists(tid uint32) bool
}

// piWaiters counts the PI waiters queued in all Managers, so a thread's
// exit looks for waiters on its locks (ThreadExited) only when there are
// any.
var piWaiters atomic.Int64

// LockPI implements FUTEX_LOCK_PI (and LOCK_PI2; trylock: TRYLOCK_PI) for
// thread tid: the lock is taken when the word's owner field is 0 (keeping
// FutexOwnerDied, which tells the caller the last owner died), EDEADLK
// when tid holds it already, ESRCH when its owner does not exist, EAGAIN
// for a trylock of a lock held; otherwise the caller sets FutexWaiters
// and sleeps until an unlock hands it the lock, the deadline passes
// (ETIMEDOUT) or interrupt fires (ErrInterrupted). A waiter whose owner
// died without unlocking takes the lock with FutexOwnerDied, as Linux
// hands it over at the owner's exit.
func (m *Manager) LockPI(mem Memory, owners PIOwners, addr uint64, private bool, tid uint32, deadline time.Time,
	interrupt <-chan struct{}, trylock bool) error {
	key, err := keyOf(mem, addr, private)
	if err != nil {
		return err
	}
	b := m.bucketOf(key)
	waited := false
	for {
		b.mu.Lock()
		v, err := mem.LoadUint32(addr)
		if err != nil {
			b.mu.Unlock()
			return err
		}
		owner := v & FutexTIDMask
		switch {
		case owner == tid:
			b.mu.Unlock()
			return unix.EDEADLK
		case owner == 0 || waited && !owners.ThreadExists(owner):
			nv := tid | v&FutexOwnerDied
			if owner != 0 {
				nv |= FutexOwnerDied
			}
			if b.hasPIWaiter(key) {
				nv |= FutexWaiters
			}
			old, err := mem.CompareAndSwapUint32(addr, v, nv)
			b.mu.Unlock()
			if err != nil {
				return err
			}
			if old == v {
				return nil
			}
			continue // the word changed: look again
		case !owners.ThreadExists(owner):
			b.mu.Unlock()
			return unix.ESRCH
		case trylock:
			b.mu.Unlock()
			return unix.EAGAIN
		}
		if v&FutexWaiters == 0 {
			old, err := mem.CompareAndSwapUint32(addr, v, v|FutexWaiters)
			if err != nil || old != v {
				b.mu.Unlock()
				if err != nil {
					return err
				}
				continue
			}
		}
		w := &waiter{key: key, pi: true, tid: tid, owner: owner, woken: make(chan struct{}, 1)}
		b.enqueue(w)
		piWaiters.Add(1)
		b.mu.Unlock()
		err = w.sleep(mem, deadline, interrupt)
		piWaiters.Add(-1)
		if w.handedOver.Load() {
			return nil
		}
		if err != nil {
			return err
		}
		waited = true // woken because the owner died: look again
	}
}

// UnlockPI implements FUTEX_UNLOCK_PI for thread tid, which must own the
// lock (EPERM): the first waiter becomes the owner (with FutexWaiters, as
// Linux leaves it for the new owner's unlock to clear) and is woken, or
// with none the word becomes 0.
func (m *Manager) UnlockPI(mem Memory, addr uint64, private bool, tid uint32) error {
	key, err := keyOf(mem, addr, private)
	if err != nil {
		return err
	}
	b := m.bucketOf(key)
	for {
		b.mu.Lock()
		v, err := mem.LoadUint32(addr)
		if err != nil {
			b.mu.Unlock()
			return err
		}
		if v&FutexTIDMask != tid {
			b.mu.Unlock()
			return unix.EPERM
		}
		var next *waiter
		for w := b.head; w != nil; w = w.next {
			if w.pi && w.key == key {
				next = w
				break
			}
		}
		var nv uint32
		if next != nil {
			nv = next.tid | FutexWaiters
		}
		old, err := mem.CompareAndSwapUint32(addr, v, nv)
		if err != nil || old != v {
			b.mu.Unlock()
			if err != nil {
				return err
			}
			continue
		}
		if next != nil {
			next.handedOver.Store(true)
			b.wake(next)
			// The others wait on the new owner now: its death is theirs
			// to hear of (ThreadExited).
			for w := b.head; w != nil; w = w.next {
				if w.pi && w.key == key {
					w.owner = next.tid
				}
			}
		}
		b.mu.Unlock()
		return nil
	}
}

// hasPIWaiter reports whether a PI waiter is queued on key. b.mu must be
// held.
func (b *bucket) hasPIWaiter(key Key) bool {
	for w := b.head; w != nil; w = w.next {
		if w.pi && w.key == key {
			return true
		}
	}
	return false
}

// ThreadExited wakes the PI waiters of locks thread tid held, after its
// exit (and its robust list's release): each looks at its lock again and,
// finding the owner gone, takes it with FutexOwnerDied.
func (m *Manager) ThreadExited(tid uint32) {
	if piWaiters.Load() == 0 {
		return
	}
	for i := range m.buckets {
		b := &m.buckets[i]
		b.mu.Lock()
		for w := b.head; w != nil; {
			next := w.next
			if w.pi && w.owner == tid {
				b.wake(w)
			}
			w = next
		}
		b.mu.Unlock()
	}
}
