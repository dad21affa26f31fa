package futex

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func goWaitv(m *Manager, mem Memory, es []WaitvEntry, deadline time.Time, intr <-chan struct{}) <-chan result {
	ch := make(chan result, 1)
	go func() {
		n, err := m.Waitv(mem, es, deadline, intr)
		ch <- result{n, err}
	}()
	return ch
}

func TestWaitv(t *testing.T) {
	region := newShared(0x5000)
	m, s := NewManager(), newSpace(region, testShared)
	mem := BytesMemory(s)
	es := []WaitvEntry{{a1, 0, true}, {a2, 0, true}, {testShared + 8, 0, false}}
	for woke := range es {
		ch := goWaitv(m, mem, es, time.Time{}, nil)
		waitQueued(t, m, PrivateKey(s, a1), 1)
		waitQueued(t, m, PrivateKey(s, a2), 1)
		waitQueued(t, m, SharedKey(0x5008), 1)
		if n, err := m.Wake(mem, es[woke].Addr, es[woke].Private, 1, BitsetMatchAny); n != 1 || err != nil {
			t.Fatalf("Wake = %d, %v", n, err)
		}
		if r := get(t, ch); r.n != woke || r.err != nil {
			t.Fatalf("Waitv = %d, %v; want %d", r.n, r.err, woke)
		}
		// Every other futex was left.
		for _, k := range []Key{PrivateKey(s, a1), PrivateKey(s, a2), SharedKey(0x5008)} {
			if q := queued(m, k); q != 0 {
				t.Fatalf("%d still queued on %v", q, k)
			}
		}
	}
}

func TestWaitvErrors(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	s.store(t, a3, 9)
	ok := WaitvEntry{a1, 0, true}
	for _, tc := range []struct {
		name string
		es   []WaitvEntry
		want error
	}{
		{"empty", nil, unix.EINVAL},
		{"too many", make([]WaitvEntry, WaitvMax+1), unix.EINVAL},
		{"unaligned", []WaitvEntry{ok, {a2 + 1, 0, true}}, unix.EINVAL},
		{"unmapped", []WaitvEntry{ok, {0x1000, 0, false}}, unix.EFAULT},
		{"value differs", []WaitvEntry{ok, {a2, 0, true}, {a3, 8, true}}, unix.EAGAIN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.Waitv(mem, tc.es, time.Time{}, nil); err != tc.want {
				t.Fatalf("Waitv = %v, want %v", err, tc.want)
			}
			if q := queued(m, PrivateKey(s, a1)) + queued(m, PrivateKey(s, a2)); q != 0 {
				t.Fatalf("%d left queued", q)
			}
		})
	}
	start := time.Now()
	if _, err := m.Waitv(mem, []WaitvEntry{ok}, start.Add(10*time.Millisecond), nil); err != unix.ETIMEDOUT {
		t.Fatalf("Waitv = %v, want ETIMEDOUT", err)
	}
	if time.Since(start) < 10*time.Millisecond {
		t.Fatal("timed out early")
	}
	intr := make(chan struct{})
	ch := goWaitv(m, mem, []WaitvEntry{ok, {a2, 0, true}}, time.Time{}, intr)
	waitQueued(t, m, PrivateKey(s, a2), 1)
	close(intr)
	if r := get(t, ch); r.err != ErrInterrupted {
		t.Fatalf("Waitv = %v, want ErrInterrupted", r.err)
	}
	if q := queued(m, PrivateKey(s, a1)) + queued(m, PrivateKey(s, a2)); q != 0 {
		t.Fatalf("%d left queued", q)
	}
}

func TestWaitvMax(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	es := make([]WaitvEntry, WaitvMax)
	for i := range es {
		es[i] = WaitvEntry{Addr: testPriv + uint64(i)*4, Private: true}
	}
	ch := goWaitv(m, mem, es, time.Time{}, nil)
	last := es[WaitvMax-1].Addr
	waitQueued(t, m, PrivateKey(s, last), 1)
	m.Wake(mem, last, true, math.MaxInt32, BitsetMatchAny)
	if r := get(t, ch); r.n != WaitvMax-1 || r.err != nil {
		t.Fatalf("Waitv = %d, %v", r.n, r.err)
	}
}

func TestDecodeWaitv(t *testing.T) {
	entry := func(val, addr uint64, flags, reserved uint32) []byte {
		b := make([]byte, WaitvEntrySize)
		binary.LittleEndian.PutUint64(b[0:], val)
		binary.LittleEndian.PutUint64(b[8:], addr)
		binary.LittleEndian.PutUint32(b[16:], flags)
		binary.LittleEndian.PutUint32(b[20:], reserved)
		return b
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want []WaitvEntry
		err  error
	}{
		{"private", entry(7, 0x1000, Futex2SizeU32|Futex2Private, 0), []WaitvEntry{{0x1000, 7, true}}, nil},
		{"shared", entry(0xffffffff, 0x2000, Futex2SizeU32, 0), []WaitvEntry{{0x2000, 0xffffffff, false}}, nil},
		{"two", append(entry(1, 8, Futex2SizeU32, 0), entry(2, 16, Futex2SizeU32|Futex2Private, 0)...),
			[]WaitvEntry{{8, 1, false}, {16, 2, true}}, nil},
		{"size u8", entry(0, 8, 0, 0), nil, unix.EINVAL},
		{"size u64", entry(0, 8, 3, 0), nil, unix.EINVAL},
		{"numa flag", entry(0, 8, Futex2SizeU32|4, 0), nil, unix.EINVAL},
		{"reserved", entry(0, 8, Futex2SizeU32, 1), nil, unix.EINVAL},
		{"val too big", entry(1<<32, 8, Futex2SizeU32, 0), nil, unix.EINVAL},
		{"short", make([]byte, 23), nil, unix.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeWaitv(tc.raw)
			if err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}
