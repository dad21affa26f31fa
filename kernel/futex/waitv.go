package futex

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"uk/internal/hrtimer"
)

// futex_waitv(2) limits and flags, from <linux/futex.h>.
const (
	// WaitvMax is the most futexes one futex_waitv call may wait on.
	WaitvMax = 128
	// WaitvEntrySize is the size of struct futex_waitv in memory.
	WaitvEntrySize = 24
	// Futex2SizeU32 is the only futex size futex_waitv accepts (the
	// FUTEX2_SIZE_MASK field of an entry's flags must hold it).
	Futex2SizeU32 = 0x02
	// Futex2SizeMask selects the size field of futex2 flags.
	Futex2SizeMask = 0x03
	// Futex2Private is FUTEX_PRIVATE_FLAG for futex2 calls.
	Futex2Private = 128
)

// WaitvEntry is one futex of a futex_waitv call.
type WaitvEntry struct {
	Addr    uint64
	Val     uint32
	Private bool // FUTEX2_PRIVATE
}

// DecodeWaitv parses the array of struct futex_waitv {u64 val; u64 uaddr;
// u32 flags; u32 __reserved;} the application passed, as Linux's
// futex_parse_waitv: flags other than the size and FUTEX2_PRIVATE, a size
// other than 32 bits, a nonzero reserved field or a val that does not fit
// in 32 bits are unix.EINVAL. len(raw) must be a multiple of
// WaitvEntrySize; the count limits are the caller's (Waitv checks them).
func DecodeWaitv(raw []byte) ([]WaitvEntry, error) {
	if len(raw)%WaitvEntrySize != 0 {
		return nil, unix.EINVAL
	}
	out := make([]WaitvEntry, 0, len(raw)/WaitvEntrySize)
	for off := 0; off < len(raw); off += WaitvEntrySize {
		e := raw[off : off+WaitvEntrySize]
		val := binary.LittleEndian.Uint64(e[0:])
		addr := binary.LittleEndian.Uint64(e[8:])
		flags := binary.LittleEndian.Uint32(e[16:])
		reserved := binary.LittleEndian.Uint32(e[20:])
		if flags&^(Futex2SizeMask|Futex2Private) != 0 || reserved != 0 {
			return nil, unix.EINVAL
		}
		if flags&Futex2SizeMask != Futex2SizeU32 || val>>32 != 0 {
			return nil, unix.EINVAL
		}
		out = append(out, WaitvEntry{Addr: addr, Val: uint32(val), Private: flags&Futex2Private != 0})
	}
	return out, nil
}

// Waitv implements futex_waitv(2): the caller sleeps on all the futexes at
// once until one of them is woken, and Waitv returns that futex's index in
// entries (if several were woken, any one of them). If some word does not
// hold its expected value the result is unix.EAGAIN, unless an earlier
// futex of the list was woken meanwhile, whose index is then returned.
// deadline (absolute; zero means none) and interrupt are as in Wait.
//
// Errors: unix.EINVAL for no entries or more than WaitvMax, or an
// unaligned address; unix.ETIMEDOUT; ErrInterrupted; mem's errors.
func (m *Manager) Waitv(mem Memory, entries []WaitvEntry, deadline time.Time, interrupt <-chan struct{}) (int, error) {
	if len(entries) == 0 || len(entries) > WaitvMax {
		return 0, unix.EINVAL
	}
	woken := make(chan struct{}, 1)
	ws := make([]waiter, len(entries))
	for i, e := range entries {
		key, err := keyOf(mem, e.Addr, e.Private)
		if err != nil {
			return 0, err
		}
		ws[i] = waiter{key: key, bitset: BitsetMatchAny, woken: woken}
	}
	// Queue on each futex in turn, each under its own bucket lock, as
	// Linux's futex_wait_multiple_setup: holding one bucket lock while
	// checking the next futex could deadlock against another waitv.
	for i, e := range entries {
		w := &ws[i]
		b := m.bucketOf(w.key)
		b.mu.Lock()
		cur, err := mem.LoadUint32(e.Addr)
		if err == nil && cur == e.Val {
			b.enqueue(w)
			b.mu.Unlock()
			continue
		}
		b.mu.Unlock()
		if idx := unqueueAll(ws[:i]); idx >= 0 {
			return idx, nil
		}
		if err != nil {
			return 0, err
		}
		return 0, unix.EAGAIN
	}
	var expired <-chan struct{}
	if !deadline.IsZero() {
		t := hrtimer.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	var why error
	select {
	case <-woken: // woken already: no need to park
	default:
		defer park(mem)()
		select {
		case <-woken:
		case <-expired:
			why = unix.ETIMEDOUT
		case <-interrupt:
			why = ErrInterrupted
		}
	}
	if idx := unqueueAll(ws); idx >= 0 {
		return idx, nil
	}
	// Only a timeout or an interrupt gets here: a token on woken is sent
	// after its waiter was dequeued, so unqueueAll would have found it.
	return 0, why
}

// unqueueAll takes every waiter off its queue and returns the index of one
// that had been woken (the last, as Linux's futex_unqueue_multiple), or -1.
func unqueueAll(ws []waiter) int {
	idx := -1
	for i := range ws {
		if !ws[i].unqueue() {
			idx = i
		}
	}
	return idx
}
