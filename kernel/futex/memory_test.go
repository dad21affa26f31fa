package futex

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestBytesMemory(t *testing.T) {
	s := newSpace(nil, 0)
	mem := BytesMemory(s)
	s.store(t, a1, 10)
	if prev, err := mem.CompareAndSwapUint32(a1, 10, 11); prev != 10 || err != nil {
		t.Fatalf("CAS = %d, %v", prev, err)
	}
	if prev, err := mem.CompareAndSwapUint32(a1, 10, 12); prev != 11 || err != nil {
		t.Fatalf("failing CAS = %d, %v", prev, err)
	}
	if v, _ := mem.LoadUint32(a1); v != 11 {
		t.Fatalf("Load = %d", v)
	}
	if _, err := mem.LoadUint32(a1 + 1); err != unix.EINVAL {
		t.Fatalf("unaligned Load = %v", err)
	}
	if _, err := mem.LoadUint32(0x1000); err != unix.EFAULT {
		t.Fatalf("unmapped Load = %v", err)
	}
	// A 64-bit value straddling a page boundary is read in two pieces.
	for _, addr := range []uint64{testPriv + 0x1000 - 3, testPriv + 0x1000 - 8, testPriv + 0x1000 + 5} {
		s.store64(t, addr&^3, 0) // clear around it
		for i := range uint64(8) {
			b, _ := s.Bytes(addr+i, 1, true)
			b[0] = byte(0x11 * (i + 1))
		}
		if v, err := mem.LoadUint64(addr); v != 0x8877665544332211 || err != nil {
			t.Fatalf("LoadUint64(%#x) = %#x, %v", addr, v, err)
		}
	}
	if _, err := mem.LoadUint64(testPriv - 4); err != unix.EFAULT {
		t.Fatalf("LoadUint64 across the start of the mapping = %v", err)
	}
}

func TestKeys(t *testing.T) {
	s1, s2 := newSpace(nil, 0), newSpace(nil, 0)
	for _, tc := range []struct {
		a, b  Key
		equal bool
	}{
		{PrivateKey(s1, 8), PrivateKey(s1, 8), true},
		{PrivateKey(s1, 8), PrivateKey(s2, 8), false},
		{PrivateKey(s1, 8), PrivateKey(s1, 12), false},
		{PrivateKey(s1, 8), ProcessKey(s1, 8), false},
		{SharedKey(8), SharedKey(8), true},
		{SharedKey(8), ProcessKey(nil, 8), false},
	} {
		if (tc.a == tc.b) != tc.equal {
			t.Errorf("%v == %v: %v, want %v", tc.a, tc.b, tc.a == tc.b, tc.equal)
		}
	}
	if (Key{}).Valid() || !SharedKey(0).Valid() {
		t.Fatal("Valid")
	}
	if got := SharedKey(0x10).String(); got != "shared(off 0x10)" {
		t.Fatalf("String = %q", got)
	}
}

func BenchmarkWakeNoWaiters(b *testing.B) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	for b.Loop() {
		m.Wake(mem, a1, true, 1, BitsetMatchAny)
	}
}

func BenchmarkWaitEAGAIN(b *testing.B) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	for b.Loop() {
		m.Wait(mem, a1, true, 1, BitsetMatchAny, noDeadline, nil)
	}
}

// BenchmarkPingPong measures a wait/wake handoff between two goroutines:
// each iteration is two waits and two wakes.
func BenchmarkPingPong(b *testing.B) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	w := s.word(b, a1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			// Wait for 1, answer 0; a value of 2 means stop.
			for v := loadWord(w); v != 1; v = loadWord(w) {
				if v == 2 {
					return
				}
				m.Wait(mem, a1, true, v, BitsetMatchAny, noDeadline, nil)
			}
			storeWord(w, 0)
			m.Wake(mem, a1, true, 1, BitsetMatchAny)
		}
	}()
	for b.Loop() {
		storeWord(w, 1)
		m.Wake(mem, a1, true, 1, BitsetMatchAny)
		for v := loadWord(w); v != 0; v = loadWord(w) {
			m.Wait(mem, a1, true, v, BitsetMatchAny, noDeadline, nil)
		}
	}
	storeWord(w, 2)
	m.Wake(mem, a1, true, 1, BitsetMatchAny)
	<-done
}
