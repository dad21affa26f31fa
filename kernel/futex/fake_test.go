package futex

import (
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeSpace is an address space for tests: a private region at privBase
// and, optionally, a shared region (standing in for memory-file pages
// mapped MAP_SHARED) at sharedBase. Its own pointer is its identity.
type fakeSpace struct {
	privBase   uint64
	priv       []byte
	sharedBase uint64
	shared     *sharedRegion
}

// sharedRegion stands in for memory-file pages; keys name offsets in it.
type sharedRegion struct {
	off int64 // memory-file offset of shared[0]
	mem []byte
}

const (
	testPriv   = 0x10000
	testShared = 0x40000
	regionSize = 1 << 16 // large enough that Go page-aligns the slice
)

func newSpace(shared *sharedRegion, sharedBase uint64) *fakeSpace {
	return &fakeSpace{privBase: testPriv, priv: make([]byte, regionSize), sharedBase: sharedBase, shared: shared}
}

func newShared(off int64) *sharedRegion {
	return &sharedRegion{off: off, mem: make([]byte, regionSize)}
}

func (s *fakeSpace) Key(addr uint64, private bool) (Key, error) {
	if private {
		return PrivateKey(s, addr), nil
	}
	if s.shared != nil && addr >= s.sharedBase && addr < s.sharedBase+uint64(len(s.shared.mem)) {
		return SharedKey(s.shared.off + int64(addr-s.sharedBase)), nil
	}
	if addr >= s.privBase && addr < s.privBase+uint64(len(s.priv)) {
		return ProcessKey(s, addr), nil
	}
	return Key{}, unix.EFAULT
}

func (s *fakeSpace) Bytes(addr uint64, n int, write bool) ([]byte, error) {
	if n < 1 || n > 8 || addr+uint64(n) < addr || addr/pageSize != (addr+uint64(n)-1)/pageSize {
		panic("Translator contract broken")
	}
	// Offsets are computed before comparing so that addresses near 2^64
	// cannot wrap past the checks.
	if o := addr - s.privBase; addr >= s.privBase && o+uint64(n) <= uint64(len(s.priv)) {
		return s.priv[o : o+uint64(n)], nil
	}
	if s.shared != nil {
		if o := addr - s.sharedBase; addr >= s.sharedBase && o+uint64(n) <= uint64(len(s.shared.mem)) {
			return s.shared.mem[o : o+uint64(n)], nil
		}
	}
	return nil, unix.EFAULT
}

// word returns the atomic word at addr, for the test's "application".
func (s *fakeSpace) word(t testing.TB, addr uint64) *uint32 {
	b, err := s.Bytes(addr, 4, true)
	if err != nil {
		t.Fatalf("word %#x: %v", addr, err)
	}
	return AtomicWord(b)
}

func (s *fakeSpace) store(t testing.TB, addr uint64, v uint32) {
	atomic.StoreUint32(s.word(t, addr), v)
}
func (s *fakeSpace) load(t testing.TB, addr uint64) uint32 { return atomic.LoadUint32(s.word(t, addr)) }

func (s *fakeSpace) store64(t testing.TB, addr, v uint64) {
	b0, err := s.Bytes(addr, 4, true)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := s.Bytes(addr+4, 4, true)
	if err != nil {
		t.Fatal(err)
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], v)
	copy(b0, buf[:4])
	copy(b1, buf[4:])
}

// queued counts the waiters queued on key.
func queued(m *Manager, key Key) int {
	b := m.bucketOf(key)
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for w := b.head; w != nil; w = w.next {
		if w.key == key {
			n++
		}
	}
	return n
}

// waitQueued polls until n waiters are queued on key (waiters queue
// themselves from their own goroutines, so tests must wait for that).
func waitQueued(t testing.TB, m *Manager, key Key, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for queued(m, key) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters queued on %v, want %d", queued(m, key), key, n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// result is what a background wait returned.
type result struct {
	n   int
	err error
}

// goWait starts a Wait in the background and returns its result channel.
func goWait(m *Manager, mem Memory, addr uint64, private bool, val, bitset uint32, deadline time.Time, intr <-chan struct{}) <-chan result {
	ch := make(chan result, 1)
	go func() {
		err := m.Wait(mem, addr, private, val, bitset, deadline, intr)
		ch <- result{0, err}
	}()
	return ch
}

// get receives a result or fails after a generous bound.
func get(t testing.TB, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(2 * time.Second):
		t.Fatal("wait did not return")
		return result{}
	}
}

// pending reports whether ch has no result yet.
func pending(ch <-chan result) bool {
	select {
	case r := <-ch:
		_ = r
		return false
	default:
		return true
	}
}

var noDeadline time.Time

func loadWord(w *uint32) uint32     { return atomic.LoadUint32(w) }
func storeWord(w *uint32, v uint32) { atomic.StoreUint32(w, v) }
