package futex

import (
	"encoding/binary"
	"testing"
)

func FuzzDecodeWaitv(f *testing.F) {
	e := make([]byte, WaitvEntrySize)
	binary.LittleEndian.PutUint64(e[8:], 0x1000)
	binary.LittleEndian.PutUint32(e[16:], Futex2SizeU32|Futex2Private)
	f.Add(e)
	f.Add(append(append([]byte{}, e...), e...))
	f.Add(make([]byte, 23))
	f.Fuzz(func(t *testing.T, raw []byte) {
		es, err := DecodeWaitv(raw)
		if err != nil {
			return
		}
		if len(es)*WaitvEntrySize != len(raw) {
			t.Fatalf("%d entries from %d bytes", len(es), len(raw))
		}
		// A valid array re-encodes to itself.
		for i, w := range es {
			b := make([]byte, WaitvEntrySize)
			binary.LittleEndian.PutUint64(b[0:], uint64(w.Val))
			binary.LittleEndian.PutUint64(b[8:], w.Addr)
			flags := uint32(Futex2SizeU32)
			if w.Private {
				flags |= Futex2Private
			}
			binary.LittleEndian.PutUint32(b[16:], flags)
			if string(b) != string(raw[i*WaitvEntrySize:(i+1)*WaitvEntrySize]) {
				t.Fatalf("entry %d does not round-trip", i)
			}
		}
	})
}

func FuzzDecodeWakeOp(f *testing.F) {
	f.Add(WakeOpEncode(WakeOpSet, WakeOpCmpGt, 0, 1))
	f.Add(uint32(0xffffffff))
	f.Add(WakeOpEncode(WakeOpOr|WakeOpOpargShift, WakeOpCmpEq, 40, -5))
	f.Fuzz(func(t *testing.T, val3 uint32) {
		d := DecodeWakeOp(val3)
		if d.Op > 7 || d.Cmp > 15 || d.Cmparg < -2048 || d.Cmparg > 2047 {
			t.Fatalf("out of range: %+v", d)
		}
		if d.Shift {
			if d.Oparg == 0 || d.Oparg&(d.Oparg-1) != 0 {
				t.Fatalf("shifted oparg %#x is not a power of two", d.Oparg)
			}
			return
		}
		if got := WakeOpEncode(d.Op, d.Cmp, d.Oparg, d.Cmparg); got != val3 {
			t.Fatalf("%#x decodes to %+v, which encodes to %#x", val3, d, got)
		}
	})
}

// FuzzExitRobustList walks lists made of arbitrary application memory: the
// walk must end, and the only change it may make to a word is marking a
// word owned by the exiting thread as OWNER_DIED (keeping WAITERS).
func FuzzExitRobustList(f *testing.F) {
	seed := make([]byte, 64)
	binary.LittleEndian.PutUint64(seed[0:], testPriv+32) // head.next -> entry
	binary.LittleEndian.PutUint64(seed[8:], uint64(0xfffffffffffffff0))
	binary.LittleEndian.PutUint64(seed[32:], testPriv) // entry.next -> head
	binary.LittleEndian.PutUint32(seed[16:], 7|FutexWaiters)
	f.Add(seed, uint16(0), int32(7))
	loop := make([]byte, 16)
	binary.LittleEndian.PutUint64(loop[0:], testPriv+1) // PI, to itself
	f.Add(loop, uint16(0), int32(1))
	f.Fuzz(func(t *testing.T, image []byte, headOff uint16, tid int32) {
		if len(image) > 8192 {
			image = image[:8192]
		}
		m, s := NewManager(), newSpace(nil, 0)
		copy(s.priv, image)
		before := append([]byte(nil), s.priv...)
		m.ExitRobustList(BytesMemory(s), testPriv+uint64(headOff), tid)
		for off := 0; off+4 <= len(before); off += 4 {
			old := binary.LittleEndian.Uint32(before[off:])
			cur := binary.LittleEndian.Uint32(s.priv[off:])
			if old == cur {
				continue
			}
			if old&FutexTIDMask != uint32(tid)&FutexTIDMask || cur != old&FutexWaiters|FutexOwnerDied {
				t.Fatalf("word at +%#x changed %#x -> %#x (tid %d)", off, old, cur, tid)
			}
		}
	})
}
