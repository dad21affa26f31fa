package futex

import (
	"errors"
	"math"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	a1 = testPriv + 0x100
	a2 = testPriv + 0x200
	a3 = testPriv + 0x300
)

func TestWaitWake(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	ch := goWait(m, mem, a1, true, 0, BitsetMatchAny, time.Time{}, nil)
	waitQueued(t, m, PrivateKey(s, a1), 1)
	s.store(t, a1, 1)
	if n, err := m.Wake(mem, a1, true, 1, BitsetMatchAny); n != 1 || err != nil {
		t.Fatalf("Wake = %d, %v; want 1, nil", n, err)
	}
	if r := get(t, ch); r.err != nil {
		t.Fatalf("Wait = %v", r.err)
	}
	if n, _ := m.Wake(mem, a1, true, 1, BitsetMatchAny); n != 0 {
		t.Fatalf("Wake with no waiters = %d", n)
	}
}

func TestWaitErrors(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	s.store(t, a1, 7)
	for _, tc := range []struct {
		name    string
		addr    uint64
		private bool
		val     uint32
		bitset  uint32
		want    error
	}{
		{"value differs", a1, true, 6, BitsetMatchAny, unix.EAGAIN},
		{"value differs shared", a1, false, 6, BitsetMatchAny, unix.EAGAIN},
		{"unaligned", a1 + 2, true, 7, BitsetMatchAny, unix.EINVAL},
		{"bitset 0", a1, true, 7, 0, unix.EINVAL},
		{"unmapped private", 0x1000, true, 0, BitsetMatchAny, unix.EFAULT},
		{"unmapped shared", 0x1000, false, 0, BitsetMatchAny, unix.EFAULT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Wait(mem, tc.addr, tc.private, tc.val, tc.bitset, time.Time{}, nil)
			if err != tc.want {
				t.Fatalf("Wait = %v, want %v", err, tc.want)
			}
		})
	}
	if n, err := m.Wake(mem, a1+1, true, 1, BitsetMatchAny); err != unix.EINVAL {
		t.Fatalf("unaligned Wake = %d, %v", n, err)
	}
	if _, err := m.Wake(mem, a1, true, 1, 0); err != unix.EINVAL {
		t.Fatalf("Wake bitset 0 = %v", err)
	}
}

func TestWakeCounts(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	key := PrivateKey(s, a1)
	var chs []<-chan result
	for range 6 {
		chs = append(chs, goWait(m, mem, a1, true, 0, BitsetMatchAny, time.Time{}, nil))
	}
	waitQueued(t, m, key, 6)
	for _, tc := range []struct {
		n, want, left int
	}{
		{2, 2, 4},
		{0, 1, 3},  // Linux wakes one even for 0
		{-1, 1, 2}, // and for a negative count
		{math.MaxInt32, 2, 0},
	} {
		if got, err := m.Wake(mem, a1, true, tc.n, BitsetMatchAny); got != tc.want || err != nil {
			t.Fatalf("Wake(%d) = %d, %v; want %d", tc.n, got, err, tc.want)
		}
		if q := queued(m, key); q != tc.left {
			t.Fatalf("after Wake(%d): %d queued, want %d", tc.n, q, tc.left)
		}
	}
	for _, ch := range chs {
		if r := get(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	}
}

func TestWakeOrderFIFO(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	key := PrivateKey(s, a1)
	var chs []<-chan result
	for i := range 3 {
		chs = append(chs, goWait(m, mem, a1, true, 0, BitsetMatchAny, time.Time{}, nil))
		waitQueued(t, m, key, i+1)
	}
	for i := range 3 {
		m.Wake(mem, a1, true, 1, BitsetMatchAny)
		get(t, chs[i])
	}
}

func TestBitsets(t *testing.T) {
	for _, tc := range []struct {
		name       string
		waitBits   []uint32
		wakeBits   uint32
		wakeN      int
		wantWoken  []bool
		wantResult int
	}{
		{"any wakes all", []uint32{1, 2, 4}, BitsetMatchAny, 10, []bool{true, true, true}, 3},
		{"one bit", []uint32{1, 2, 4}, 2, 10, []bool{false, true, false}, 1},
		{"two bits", []uint32{1, 2, 4}, 5, 10, []bool{true, false, true}, 2},
		{"overlap", []uint32{3, 6, 8}, 2, 10, []bool{true, true, false}, 2},
		{"none", []uint32{1, 2}, 8, 10, []bool{false, false}, 0},
		{"count limits matching only", []uint32{1, 2, 1}, 1, 1, []bool{true, false, false}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, s := NewManager(), newSpace(nil, 0)
			mem := BytesMemory(s)
			key := PrivateKey(s, a1)
			var chs []<-chan result
			for i, b := range tc.waitBits {
				chs = append(chs, goWait(m, mem, a1, true, 0, b, time.Time{}, nil))
				waitQueued(t, m, key, i+1)
			}
			n, err := m.Wake(mem, a1, true, tc.wakeN, tc.wakeBits)
			if n != tc.wantResult || err != nil {
				t.Fatalf("Wake = %d, %v; want %d", n, err, tc.wantResult)
			}
			waitQueued(t, m, key, len(tc.waitBits)-tc.wantResult)
			for i, ch := range chs {
				if tc.wantWoken[i] {
					get(t, ch)
				}
			}
			for i, ch := range chs {
				if !tc.wantWoken[i] && !pending(ch) {
					t.Errorf("waiter %d (bits %#x) woken", i, tc.waitBits[i])
				}
			}
			m.Wake(mem, a1, true, math.MaxInt32, BitsetMatchAny)
		})
	}
}

func TestTimeout(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	start := time.Now()
	err := m.Wait(mem, a1, true, 0, BitsetMatchAny, start.Add(20*time.Millisecond), nil)
	if err != unix.ETIMEDOUT {
		t.Fatalf("Wait = %v, want ETIMEDOUT", err)
	}
	if d := time.Since(start); d < 20*time.Millisecond || d > time.Second {
		t.Fatalf("timed out after %v, want about 20ms", d)
	}
	if q := queued(m, PrivateKey(s, a1)); q != 0 {
		t.Fatalf("%d waiters left queued", q)
	}
	// A deadline already past still checks the value first (EAGAIN),
	// then times out at once.
	past := time.Now().Add(-time.Second)
	if err := m.Wait(mem, a1, true, 1, BitsetMatchAny, past, nil); err != unix.EAGAIN {
		t.Fatalf("past deadline, wrong value: %v", err)
	}
	if err := m.Wait(mem, a1, true, 0, BitsetMatchAny, past, nil); err != unix.ETIMEDOUT {
		t.Fatalf("past deadline: %v", err)
	}
}

func TestInterrupt(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	intr := make(chan struct{}, 1)
	ch := goWait(m, mem, a1, true, 0, BitsetMatchAny, time.Now().Add(time.Hour), intr)
	waitQueued(t, m, PrivateKey(s, a1), 1)
	intr <- struct{}{}
	if r := get(t, ch); !errors.Is(r.err, ErrInterrupted) {
		t.Fatalf("Wait = %v, want ErrInterrupted", r.err)
	}
	if q := queued(m, PrivateKey(s, a1)); q != 0 {
		t.Fatalf("%d waiters left queued", q)
	}
	// An interrupt already pending when the wait starts: the value check
	// comes first, as on Linux.
	intr <- struct{}{}
	if err := m.Wait(mem, a1, true, 1, BitsetMatchAny, time.Time{}, intr); err != unix.EAGAIN {
		t.Fatalf("Wait = %v, want EAGAIN", err)
	}
	if err := m.Wait(mem, a1, true, 0, BitsetMatchAny, time.Time{}, intr); err != ErrInterrupted {
		t.Fatalf("Wait = %v, want ErrInterrupted", err)
	}
}

func TestSharedAcrossSpaces(t *testing.T) {
	m := NewManager()
	region := newShared(0x123000)
	// The same shared page mapped at different addresses in two spaces.
	sa, sb := newSpace(region, 0x40000), newSpace(region, 0x80000)
	ma, mb := BytesMemory(sa), BytesMemory(sb)
	ch := goWait(m, ma, 0x40010, false, 0, BitsetMatchAny, time.Time{}, nil)
	waitQueued(t, m, SharedKey(0x123010), 1)
	// A private wake from the other space is a different futex.
	if n, _ := m.Wake(mb, 0x80010, true, 1, BitsetMatchAny); n != 0 {
		t.Fatalf("private wake from other space woke %d", n)
	}
	if n, _ := m.Wake(mb, 0x80010, false, 1, BitsetMatchAny); n != 1 {
		t.Fatalf("shared wake from other space woke %d, want 1", n)
	}
	get(t, ch)

	// Private memory: the same address in two spaces are two futexes,
	// and a private and a non-private op on one word do not meet (as
	// Linux's FUT_OFF_MMSHARED).
	ch = goWait(m, ma, a1, false, 0, BitsetMatchAny, time.Time{}, nil)
	waitQueued(t, m, ProcessKey(sa, a1), 1)
	if n, _ := m.Wake(mb, a1, false, 1, BitsetMatchAny); n != 0 {
		t.Fatalf("wake in other space woke %d", n)
	}
	if n, _ := m.Wake(ma, a1, true, 1, BitsetMatchAny); n != 0 {
		t.Fatalf("private wake woke a non-private waiter: %d", n)
	}
	if n, _ := m.Wake(ma, a1, false, 1, BitsetMatchAny); n != 1 {
		t.Fatalf("wake = %d, want 1", n)
	}
	get(t, ch)
}

func TestRequeue(t *testing.T) {
	for _, tc := range []struct {
		name                string
		waiters             int
		nrWake, nrRequeue   int
		want, left, onAddr2 int
	}{
		{"wake1 requeue2", 5, 1, 2, 3, 2, 2},
		{"wake all", 3, 10, 10, 3, 0, 0},
		{"requeue all", 4, 0, 10, 4, 0, 4},
		{"nothing", 3, 0, 0, 0, 3, 0},
		{"wake only", 3, 2, 0, 2, 1, 0},
		{"no waiters", 0, 1, 1, 0, 0, 0},
	} {
		for _, cmp := range []bool{false, true} {
			name := tc.name
			if cmp {
				name += "/cmp"
			}
			t.Run(name, func(t *testing.T) {
				m, s := NewManager(), newSpace(nil, 0)
				mem := BytesMemory(s)
				k1, k2 := PrivateKey(s, a1), PrivateKey(s, a2)
				var chs []<-chan result
				for range tc.waiters {
					chs = append(chs, goWait(m, mem, a1, true, 0, 1, time.Time{}, nil))
				}
				waitQueued(t, m, k1, tc.waiters)
				var cv *uint32
				if cmp {
					v := uint32(0)
					cv = &v
				}
				n, err := m.Requeue(mem, a1, a2, true, tc.nrWake, tc.nrRequeue, cv)
				if n != tc.want || err != nil {
					t.Fatalf("Requeue = %d, %v; want %d", n, err, tc.want)
				}
				if q := queued(m, k1); q != tc.left {
					t.Fatalf("%d left on addr, want %d", q, tc.left)
				}
				if q := queued(m, k2); q != tc.onAddr2 {
					t.Fatalf("%d on addr2, want %d", q, tc.onAddr2)
				}
				// Requeued waiters are woken through addr2 (the
				// bitset they waited with still applies).
				if n, _ := m.Wake(mem, a2, true, math.MaxInt32, 1); n != tc.onAddr2 {
					t.Fatalf("wake addr2 = %d, want %d", n, tc.onAddr2)
				}
				m.Wake(mem, a1, true, math.MaxInt32, BitsetMatchAny)
				for _, ch := range chs {
					if r := get(t, ch); r.err != nil {
						t.Fatal(r.err)
					}
				}
			})
		}
	}
}

func TestRequeueErrors(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	s.store(t, a1, 5)
	ch := goWait(m, mem, a1, true, 5, BitsetMatchAny, time.Time{}, nil)
	waitQueued(t, m, PrivateKey(s, a1), 1)
	bad := uint32(4)
	if _, err := m.Requeue(mem, a1, a2, true, 1, 1, &bad); err != unix.EAGAIN {
		t.Fatalf("CMP_REQUEUE mismatch = %v, want EAGAIN", err)
	}
	if _, err := m.Requeue(mem, a1, a2, true, -1, 1, nil); err != unix.EINVAL {
		t.Fatalf("negative nr_wake = %v", err)
	}
	if _, err := m.Requeue(mem, a1, a2, true, 1, -1, nil); err != unix.EINVAL {
		t.Fatalf("negative nr_requeue = %v", err)
	}
	if _, err := m.Requeue(mem, a1, a2+2, true, 1, 1, nil); err != unix.EINVAL {
		t.Fatalf("unaligned addr2 = %v", err)
	}
	if q := queued(m, PrivateKey(s, a1)); q != 1 {
		t.Fatalf("failed requeues changed the queue: %d", q)
	}
	// Requeue onto the same futex is allowed for non-PI requeue (Linux
	// rejects it only for CMP_REQUEUE_PI): the waiter stays.
	if n, err := m.Requeue(mem, a1, a1, true, 0, 1, nil); n != 1 || err != nil {
		t.Fatalf("requeue to self = %d, %v", n, err)
	}
	if q := queued(m, PrivateKey(s, a1)); q != 1 {
		t.Fatalf("after requeue to self: %d queued", q)
	}
	m.Wake(mem, a1, true, 1, BitsetMatchAny)
	get(t, ch)
}

func TestRequeueThenTimeout(t *testing.T) {
	// A waiter moved to another bucket must still find and leave its new
	// queue when it times out.
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	ch := goWait(m, mem, a1, true, 0, BitsetMatchAny, time.Now().Add(50*time.Millisecond), nil)
	waitQueued(t, m, PrivateKey(s, a1), 1)
	// Find an addr2 whose key hashes to a different bucket.
	addr2 := uint64(a2)
	for m.bucketOf(PrivateKey(s, addr2)) == m.bucketOf(PrivateKey(s, a1)) {
		addr2 += 4
	}
	if n, _ := m.Requeue(mem, a1, addr2, true, 0, 1, nil); n != 1 {
		t.Fatalf("requeue = %d", n)
	}
	if r := get(t, ch); r.err != unix.ETIMEDOUT {
		t.Fatalf("Wait = %v, want ETIMEDOUT", r.err)
	}
	if q := queued(m, PrivateKey(s, addr2)); q != 0 {
		t.Fatalf("%d left queued on addr2", q)
	}
}
