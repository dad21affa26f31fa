package futex

import (
	"math"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestDecodeWakeOp(t *testing.T) {
	for _, tc := range []struct {
		val3 uint32
		want WakeOpDecoded
	}{
		// glibc's FUTEX_OP_CLEAR_WAKE_IF_GT_ONE: set 0, wake if old > 1.
		{WakeOpEncode(WakeOpSet, WakeOpCmpGt, 0, 1), WakeOpDecoded{Op: WakeOpSet, Cmp: WakeOpCmpGt, Oparg: 0, Cmparg: 1}},
		{WakeOpEncode(WakeOpAdd, WakeOpCmpEq, -1, -2048), WakeOpDecoded{Op: WakeOpAdd, Cmp: WakeOpCmpEq, Oparg: -1, Cmparg: -2048}},
		{WakeOpEncode(WakeOpOr, WakeOpCmpNe, 2047, 2047), WakeOpDecoded{Op: WakeOpOr, Cmp: WakeOpCmpNe, Oparg: 2047, Cmparg: 2047}},
		{WakeOpEncode(WakeOpAndn|WakeOpOpargShift, WakeOpCmpLe, 5, 0), WakeOpDecoded{Op: WakeOpAndn, Shift: true, Cmp: WakeOpCmpLe, Oparg: 32, Cmparg: 0}},
		{WakeOpEncode(WakeOpXor|WakeOpOpargShift, WakeOpCmpGe, 31, 3), WakeOpDecoded{Op: WakeOpXor, Shift: true, Cmp: WakeOpCmpGe, Oparg: math.MinInt32, Cmparg: 3}},
		// A shift count out of range is masked to 5 bits (-1 & 31 = 31).
		{WakeOpEncode(WakeOpSet|WakeOpOpargShift, WakeOpCmpLt, -1, 0), WakeOpDecoded{Op: WakeOpSet, Shift: true, Cmp: WakeOpCmpLt, Oparg: math.MinInt32}},
		{0x7f000000, WakeOpDecoded{Op: 7, Cmp: 15}},
	} {
		if got := DecodeWakeOp(tc.val3); got != tc.want {
			t.Errorf("DecodeWakeOp(%#x) = %+v, want %+v", tc.val3, got, tc.want)
		}
	}
}

func TestWakeOp(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old      uint32
		op, cmp  uint32
		oparg    int32
		cmparg   int32
		wantWord uint32
		wantCond bool
		wantErr  error
	}{
		{"set", 5, WakeOpSet, WakeOpCmpEq, 9, 5, 9, true, nil},
		{"add", 5, WakeOpAdd, WakeOpCmpEq, 3, 4, 8, false, nil},
		{"add negative", 5, WakeOpAdd, WakeOpCmpNe, -7, 4, 0xfffffffe, true, nil},
		{"or", 0x10, WakeOpOr, WakeOpCmpLt, 0x3, 0x11, 0x13, true, nil},
		{"andn", 0xff, WakeOpAndn, WakeOpCmpLe, 0xf, 0xfe, 0xf0, false, nil},
		{"xor", 0xf0, WakeOpXor, WakeOpCmpGt, 0xff, 0xef, 0x0f, true, nil},
		{"shift", 0, WakeOpOr | WakeOpOpargShift, WakeOpCmpGe, 4, 0, 0x10, true, nil},
		{"ge false", 1, WakeOpSet, WakeOpCmpGe, 0, 2, 0, false, nil},
		{"signed compare", 0xffffffff, WakeOpSet, WakeOpCmpLt, 0, 0, 0, true, nil}, // -1 < 0
		{"gt one (glibc)", 2, WakeOpSet, WakeOpCmpGt, 0, 1, 0, true, nil},
		{"gt one not", 1, WakeOpSet, WakeOpCmpGt, 0, 1, 0, false, nil},
		{"bad op", 5, 5, WakeOpCmpEq, 1, 1, 5, false, unix.ENOSYS},
		{"bad op 7", 5, 7, WakeOpCmpEq, 1, 1, 5, false, unix.ENOSYS},
		{"bad cmp applies op", 5, WakeOpSet, 6, 1, 1, 1, false, unix.ENOSYS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, s := NewManager(), newSpace(nil, 0)
			mem := BytesMemory(s)
			s.store(t, a2, tc.old)
			c1 := goWait(m, mem, a1, true, 0, BitsetMatchAny, time.Time{}, nil)
			c2 := goWait(m, mem, a2, true, tc.old, 1, time.Time{}, nil)
			waitQueued(t, m, PrivateKey(s, a1), 1)
			waitQueued(t, m, PrivateKey(s, a2), 1)
			val3 := WakeOpEncode(tc.op, tc.cmp, tc.oparg, tc.cmparg)
			n, err := m.WakeOp(mem, a1, a2, true, 1, 1, val3)
			if err != tc.wantErr {
				t.Fatalf("WakeOp err = %v, want %v", err, tc.wantErr)
			}
			if w := s.load(t, a2); w != tc.wantWord {
				t.Fatalf("word = %#x, want %#x", w, tc.wantWord)
			}
			want := 1
			if tc.wantCond {
				want = 2
			}
			if tc.wantErr != nil {
				want = 0
			}
			if n != want {
				t.Fatalf("WakeOp = %d, want %d", n, want)
			}
			if tc.wantErr == nil {
				get(t, c1)
			}
			if tc.wantCond {
				get(t, c2)
			}
			m.Wake(mem, a1, true, math.MaxInt32, BitsetMatchAny)
			m.Wake(mem, a2, true, math.MaxInt32, BitsetMatchAny)
			if !tc.wantCond {
				get(t, c2)
			}
		})
	}
}

func TestWakeOpCounts(t *testing.T) {
	m, s := NewManager(), newSpace(nil, 0)
	mem := BytesMemory(s)
	var chs []<-chan result
	for range 3 {
		chs = append(chs, goWait(m, mem, a1, true, 0, BitsetMatchAny, time.Time{}, nil))
		chs = append(chs, goWait(m, mem, a2, true, 0, BitsetMatchAny, time.Time{}, nil))
	}
	waitQueued(t, m, PrivateKey(s, a1), 3)
	waitQueued(t, m, PrivateKey(s, a2), 3)
	// nr_wake 2 on a1, nr_wake2 0 (still one) on a2 as the old value 0 == 0.
	n, err := m.WakeOp(mem, a1, a2, true, 2, 0, WakeOpEncode(WakeOpAdd, WakeOpCmpEq, 1, 0))
	if n != 3 || err != nil {
		t.Fatalf("WakeOp = %d, %v; want 3", n, err)
	}
	if q1, q2 := queued(m, PrivateKey(s, a1)), queued(m, PrivateKey(s, a2)); q1 != 1 || q2 != 2 {
		t.Fatalf("left %d, %d; want 1, 2", q1, q2)
	}
	// Same futex on both sides.
	n, err = m.WakeOp(mem, a2, a2, true, 1, 1, WakeOpEncode(WakeOpAdd, WakeOpCmpEq, 1, 1))
	if n != 2 || err != nil {
		t.Fatalf("WakeOp same futex = %d, %v; want 2", n, err)
	}
	m.Wake(mem, a1, true, math.MaxInt32, BitsetMatchAny)
	for _, ch := range chs {
		get(t, ch)
	}
	if _, err := m.WakeOp(mem, a1, a2+1, true, 1, 1, 0); err != unix.EINVAL {
		t.Fatalf("unaligned addr2 = %v", err)
	}
	if _, err := m.WakeOp(mem, a1, 0x1000, true, 1, 1, 0); err != unix.EFAULT {
		t.Fatalf("unmapped addr2 = %v", err)
	}
}
