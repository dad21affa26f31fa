package futex

import (
	"math"
	"testing"
	"time"
)

// robustList lays out a robust list in s: a head at testPriv+0x1000 and
// mutexes whose futex word is 16 bytes before their list entry, as glibc
// does (futex_offset is negative).
type robustList struct {
	t    *testing.T
	s    *fakeSpace
	head uint64
}

const robustDistance = 16 // the list entry is this far after the word

func newRobustList(t *testing.T, s *fakeSpace) *robustList {
	r := &robustList{t: t, s: s, head: testPriv + 0x1000}
	s.store64(t, r.head, r.head) // empty: next points at the head
	off := int64(-robustDistance)
	s.store64(t, r.head+8, uint64(off))
	s.store64(t, r.head+16, 0)
	return r
}

// mutex returns the futex word address of the i-th mutex.
func mutex(i int) uint64 { return testPriv + 0x2000 + uint64(i)*0x100 }

// entry is the list entry of the mutex whose word is at word.
func entry(word uint64) uint64 { return word + robustDistance }

// link sets the list to the given words (pi marks entries with bit 0).
func (r *robustList) link(words []uint64, pi map[uint64]bool) {
	prev := r.head
	for _, w := range words {
		e := entry(w)
		if pi[w] {
			e |= 1
		}
		r.s.store64(r.t, prev, e)
		prev = entry(w)
	}
	r.s.store64(r.t, prev, r.head)
}

func (r *robustList) setPending(word uint64) { r.s.store64(r.t, r.head+16, entry(word)) }

func TestExitRobustList(t *testing.T) {
	const tid, other = 1234, 99
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	r := newRobustList(t, s)
	m1, m2, m3, m4, m5 := mutex(1), mutex(2), mutex(3), mutex(4), mutex(5)
	s.store(t, m1, tid|FutexWaiters) // held by us, contended
	s.store(t, m2, other|FutexWaiters)
	s.store(t, m3, tid)              // held by us, no waiters bit
	s.store(t, m4, 0)                // pending unlock that died before its wake
	s.store(t, m5, tid|FutexWaiters) // PI: gets the bit, no wake
	r.link([]uint64{m1, m2, m3, m5}, map[uint64]bool{m5: true})
	r.setPending(m4)

	// glibc robust mutexes wait with shared (non-private) operations.
	w1 := goWait(m, mem, m1, false, tid|FutexWaiters, BitsetMatchAny, time.Time{}, nil)
	w2 := goWait(m, mem, m2, false, other|FutexWaiters, BitsetMatchAny, time.Time{}, nil)
	w3 := goWait(m, mem, m3, false, tid, BitsetMatchAny, time.Time{}, nil)
	w4 := goWait(m, mem, m4, false, 0, BitsetMatchAny, time.Time{}, nil)
	w5 := goWait(m, mem, m5, false, tid|FutexWaiters, BitsetMatchAny, time.Time{}, nil)
	for _, w := range []uint64{m1, m2, m3, m4, m5} {
		waitQueued(t, m, ProcessKey(s, w), 1)
	}

	m.ExitRobustList(mem, r.head, tid)

	for _, tc := range []struct {
		word   uint64
		want   uint32
		woken  bool
		waiter <-chan result
	}{
		{m1, FutexWaiters | FutexOwnerDied, true, w1},
		{m2, other | FutexWaiters, false, w2},
		{m3, FutexOwnerDied, false, w3},
		{m4, 0, true, w4},
		{m5, FutexWaiters | FutexOwnerDied, false, w5},
	} {
		if got := s.load(t, tc.word); got != tc.want {
			t.Errorf("word %#x = %#x, want %#x", tc.word, got, tc.want)
		}
		if tc.woken {
			get(t, tc.waiter)
		} else if q := queued(m, ProcessKey(s, tc.word)); q != 1 {
			t.Errorf("word %#x: %d queued, want its waiter left", tc.word, q)
		}
	}
	for _, w := range []uint64{m2, m3, m5} {
		m.Wake(mem, w, false, math.MaxInt32, BitsetMatchAny)
	}
}

func TestExitRobustListPendingOnList(t *testing.T) {
	const tid = 77
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	r := newRobustList(t, s)
	m1 := mutex(1)
	s.store(t, m1, tid)
	r.link([]uint64{m1}, nil)
	r.setPending(m1)
	m.ExitRobustList(mem, r.head, tid)
	if got := s.load(t, m1); got != FutexOwnerDied {
		t.Fatalf("word = %#x, want OWNER_DIED", got)
	}
}

func TestExitRobustListCircularAndFaults(t *testing.T) {
	const tid = 5
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	r := newRobustList(t, s)
	m1, m2 := mutex(1), mutex(2)
	// A list that loops on itself ends after RobustListLimit entries,
	// and the pending entry is still handled.
	s.store(t, m1, tid)
	s.store(t, m2, tid)
	s.store64(t, r.head, entry(m1))
	s.store64(t, entry(m1), entry(m1))
	r.setPending(m2)
	done := make(chan struct{})
	go func() { m.ExitRobustList(mem, r.head, tid); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("walk of a circular list did not end")
	}
	if s.load(t, m1) != FutexOwnerDied || s.load(t, m2) != FutexOwnerDied {
		t.Fatalf("words %#x %#x", s.load(t, m1), s.load(t, m2))
	}

	// A next pointer into unmapped memory: the current entry is handled,
	// then the walk stops (and the pending one is not reached).
	s.store(t, m1, tid)
	s.store(t, m2, tid)
	s.store64(t, r.head, entry(m1))
	s.store64(t, entry(m1), 0x1000)
	m.ExitRobustList(mem, r.head, tid)
	if s.load(t, m1) != FutexOwnerDied || s.load(t, m2) != tid {
		t.Fatalf("words %#x %#x", s.load(t, m1), s.load(t, m2))
	}

	// Unmapped or null heads are ignored.
	m.ExitRobustList(mem, 0, tid)
	m.ExitRobustList(mem, 0x1000, tid)
}
