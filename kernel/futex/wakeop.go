package futex

import "golang.org/x/sys/unix"

// FUTEX_WAKE_OP operations (bits 28-30 of val3) and comparisons (bits
// 24-27), from <linux/futex.h>.
const (
	WakeOpSet  = 0 // word = oparg
	WakeOpAdd  = 1 // word += oparg
	WakeOpOr   = 2 // word |= oparg
	WakeOpAndn = 3 // word &= ^oparg
	WakeOpXor  = 4 // word ^= oparg
	// WakeOpOpargShift, or-ed into the op, makes oparg a shift count:
	// the operand is 1 << oparg.
	WakeOpOpargShift = 8

	WakeOpCmpEq = 0 // oldval == cmparg
	WakeOpCmpNe = 1 // oldval != cmparg
	WakeOpCmpLt = 2 // oldval < cmparg (signed)
	WakeOpCmpLe = 3 // oldval <= cmparg (signed)
	WakeOpCmpGt = 4 // oldval > cmparg (signed)
	WakeOpCmpGe = 5 // oldval >= cmparg (signed)
)

// WakeOpEncode builds the val3 of FUTEX_WAKE_OP as the FUTEX_OP macro of
// <linux/futex.h> does: op (with WakeOpOpargShift or-ed in, if wanted),
// cmp, and the 12-bit oparg and cmparg.
func WakeOpEncode(op, cmp uint32, oparg, cmparg int32) uint32 {
	return (op&0xf)<<28 | (cmp&0xf)<<24 | (uint32(oparg)&0xfff)<<12 | uint32(cmparg)&0xfff
}

// WakeOpDecoded is a FUTEX_WAKE_OP val3 taken apart, as Linux's
// futex_atomic_op_inuser does.
type WakeOpDecoded struct {
	Op     uint32 // WakeOpSet … WakeOpXor, without the shift flag
	Shift  bool   // WakeOpOpargShift was set
	Cmp    uint32 // WakeOpCmpEq … WakeOpCmpGe
	Oparg  int32  // sign-extended 12 bits; already 1<<oparg if Shift
	Cmparg int32  // sign-extended 12 bits
}

// DecodeWakeOp takes val3 apart. A shift count outside 0..31 is masked to
// 5 bits, as Linux does (it only logs a warning).
func DecodeWakeOp(val3 uint32) WakeOpDecoded {
	d := WakeOpDecoded{
		Op:     (val3 >> 28) & 7,
		Shift:  val3&(WakeOpOpargShift<<28) != 0,
		Cmp:    (val3 >> 24) & 0xf,
		Oparg:  signExtend12(val3 >> 12),
		Cmparg: signExtend12(val3),
	}
	if d.Shift {
		d.Oparg = int32(uint32(1) << (uint32(d.Oparg) & 31))
	}
	return d
}

func signExtend12(v uint32) int32 { return int32(v<<20) >> 20 }

// apply returns the new word value for old, or false for an unknown op.
func (d WakeOpDecoded) apply(old uint32) (uint32, bool) {
	arg := uint32(d.Oparg)
	switch d.Op {
	case WakeOpSet:
		return arg, true
	case WakeOpAdd:
		return old + arg, true
	case WakeOpOr:
		return old | arg, true
	case WakeOpAndn:
		return old &^ arg, true
	case WakeOpXor:
		return old ^ arg, true
	}
	return 0, false
}

// compare evaluates the condition on the old value (signed, as Linux), or
// returns false, false for an unknown comparison.
func (d WakeOpDecoded) compare(old uint32) (result, ok bool) {
	o := int32(old)
	switch d.Cmp {
	case WakeOpCmpEq:
		return o == d.Cmparg, true
	case WakeOpCmpNe:
		return o != d.Cmparg, true
	case WakeOpCmpLt:
		return o < d.Cmparg, true
	case WakeOpCmpLe:
		return o <= d.Cmparg, true
	case WakeOpCmpGt:
		return o > d.Cmparg, true
	case WakeOpCmpGe:
		return o >= d.Cmparg, true
	}
	return false, false
}

// atomicOp applies d to the word at addr atomically and returns the old
// value. Like x86 Linux, the operations other than set and add are a
// compare-and-swap loop.
func (d WakeOpDecoded) atomicOp(mem Memory, addr uint64) (uint32, error) {
	if _, ok := d.apply(0); !ok {
		return 0, unix.ENOSYS
	}
	old, err := mem.LoadUint32(addr)
	if err != nil {
		return 0, err
	}
	for {
		next, _ := d.apply(old)
		prev, err := mem.CompareAndSwapUint32(addr, old, next)
		if err != nil {
			return 0, err
		}
		if prev == old {
			return old, nil
		}
		old = prev
	}
}

// WakeOp implements FUTEX_WAKE_OP: atomically with respect to both
// futexes' queues it applies the operation encoded in val3 to the word at
// addr2, wakes up to nrWake waiters on addr, and, if the comparison in val3
// holds for addr2's old value, up to nrWake2 waiters on addr2. It returns
// the total woken. Bitsets are ignored. nrWake and nrWake2 are C ints and,
// as in FUTEX_WAKE, wake at least one waiter each if there is one.
//
// Errors: unix.ENOSYS for an unknown op (the word is untouched) or an
// unknown comparison (the op has been applied; Linux does the same);
// unix.EINVAL for an unaligned address; mem's errors (EFAULT).
func (m *Manager) WakeOp(mem Memory, addr, addr2 uint64, private bool, nrWake, nrWake2 int, val3 uint32) (int, error) {
	key1, err := keyOf(mem, addr, private)
	if err != nil {
		return 0, err
	}
	key2, err := keyOf(mem, addr2, private)
	if err != nil {
		return 0, err
	}
	d := DecodeWakeOp(val3)
	b1, b2 := m.lockTwo(key1, key2)
	defer m.unlockTwo(b1, b2)
	old, err := d.atomicOp(mem, addr2)
	if err != nil {
		return 0, err
	}
	cond, ok := d.compare(old)
	if !ok {
		return 0, unix.ENOSYS
	}
	n := b1.wakeMatching(key1, BitsetMatchAny, nrWake)
	if cond {
		n += b2.wakeMatching(key2, BitsetMatchAny, nrWake2)
	}
	return n, nil
}
