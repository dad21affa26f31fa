package futex

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// numBuckets is the size of the hash table of wait queues. Linux uses 256
// per CPU; uk runs on few CPUs, and a collision only costs contention,
// never correctness, because waiters are matched by their full key.
const numBuckets = 256

// bucket is one wait queue: the waiters of every key that hashes to it,
// in FIFO order (Linux's plist is FIFO for tasks of equal priority).
type bucket struct {
	mu         sync.Mutex
	head, tail *waiter // protected by mu
}

// waiter is one task waiting on one futex (a futex_waitv call has one
// waiter per futex, sharing the wake channel).
type waiter struct {
	// key is the futex the waiter waits on; requeue changes it. Protected
	// by the lock of the bucket the waiter is queued on.
	key    Key
	bitset uint32
	// prev and next link the bucket's queue; protected by its lock.
	prev, next *waiter
	// bucket is the bucket whose queue holds the waiter, nil once it has
	// been dequeued. It is written only with that bucket's lock held
	// (both buckets' locks, for a requeue), and read atomically by the
	// waiter so it can find and lock its current bucket (see unqueue).
	bucket atomic.Pointer[bucket]
	// woken receives a token after a waker dequeues the waiter. Buffered
	// with room for one, so a waker never blocks; waiters of one waitv
	// share it, and a second token is simply dropped.
	woken chan struct{}

	// PI waiters (pi.go) only: pi marks one (its bitset is 0, so no
	// FUTEX_WAKE takes it); tid is the waiting thread, owner the lock's
	// owner when it queued; handedOver is set by the unlock that made it
	// the owner, before the wake.
	pi         bool
	tid, owner uint32
	handedOver atomic.Bool
}

// Manager holds every futex wait queue of a sandbox. The zero value is not
// usable; create it with NewManager. All methods are safe for concurrent
// use.
type Manager struct {
	seed    maphash.Seed
	buckets [numBuckets]bucket
}

// NewManager returns a Manager with no waiters.
func NewManager() *Manager {
	return &Manager{seed: maphash.MakeSeed()}
}

func (m *Manager) bucketIndex(k Key) int {
	return int(maphash.Comparable(m.seed, k) % numBuckets)
}

func (m *Manager) bucketOf(k Key) *bucket { return &m.buckets[m.bucketIndex(k)] }

// lockTwo locks the buckets of two keys in a fixed (address) order, so two
// requeues in opposite directions cannot deadlock, and returns them.
func (m *Manager) lockTwo(k1, k2 Key) (b1, b2 *bucket) {
	i1, i2 := m.bucketIndex(k1), m.bucketIndex(k2)
	b1, b2 = &m.buckets[i1], &m.buckets[i2]
	switch {
	case i1 == i2:
		b1.mu.Lock()
	case i1 < i2:
		b1.mu.Lock()
		b2.mu.Lock()
	default:
		b2.mu.Lock()
		b1.mu.Lock()
	}
	return b1, b2
}

func (m *Manager) unlockTwo(b1, b2 *bucket) {
	b1.mu.Unlock()
	if b2 != b1 {
		b2.mu.Unlock()
	}
}

// enqueue appends w to b's queue. b.mu must be held.
func (b *bucket) enqueue(w *waiter) {
	w.prev, w.next = b.tail, nil
	if b.tail != nil {
		b.tail.next = w
	} else {
		b.head = w
	}
	b.tail = w
	w.bucket.Store(b)
}

// remove takes w out of b's queue. b.mu must be held and w queued on b.
func (b *bucket) remove(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		b.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		b.tail = w.prev
	}
	w.prev, w.next = nil, nil
	w.bucket.Store(nil)
}

// wake dequeues w and tells its task. b.mu must be held and w queued on b.
// The token is sent after the dequeue, so a task that receives it knows it
// is no longer queued.
func (b *bucket) wake(w *waiter) {
	b.remove(w)
	select {
	case w.woken <- struct{}{}:
	default:
	}
}

// wakeMatching wakes up to n waiters (at least one, as Linux counts: it
// stops after the n-th, checking only after a wake) on key whose bitset
// shares a bit with bitset, in queue order, and returns how many it woke.
// b.mu must be held.
func (b *bucket) wakeMatching(key Key, bitset uint32, n int) int {
	woken := 0
	for w := b.head; w != nil; {
		next := w.next
		if w.key == key && w.bitset&bitset != 0 {
			b.wake(w)
			woken++
			if woken >= n {
				break
			}
		}
		w = next
	}
	return woken
}

// unqueue takes w off whichever queue holds it and reports whether it was
// still queued: false means a waker dequeued it, i.e. it was woken. The
// waiter's bucket can change under it (requeue), so it locks the bucket it
// last saw and checks that the waiter is still there before touching it.
func (w *waiter) unqueue() bool {
	for {
		b := w.bucket.Load()
		if b == nil {
			return false
		}
		b.mu.Lock()
		if w.bucket.Load() == b {
			b.remove(w)
			b.mu.Unlock()
			return true
		}
		b.mu.Unlock()
	}
}
