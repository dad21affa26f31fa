package futex

import (
	"time"

	"golang.org/x/sys/unix"

	"uk/internal/hrtimer"
)

// Wait implements FUTEX_WAIT and FUTEX_WAIT_BITSET: if the word at addr
// still holds val, the caller sleeps until a wake whose bitset shares a bit
// with bitset (FUTEX_WAIT uses BitsetMatchAny), the deadline passes, or
// interrupt fires.
//
// private is FUTEX_PRIVATE_FLAG. deadline is absolute; the zero Time means
// no timeout (TimespecDeadline turns the application's timespec into one).
// interrupt may be nil; when it fires, Wait consumes its value.
//
// Results: nil when woken; unix.EAGAIN if the word does not hold val;
// unix.ETIMEDOUT; ErrInterrupted; unix.EINVAL for bitset 0 or an unaligned
// addr; errors from mem (EFAULT) as they come.
func (m *Manager) Wait(mem Memory, addr uint64, private bool, val, bitset uint32, deadline time.Time, interrupt <-chan struct{}) error {
	if bitset == 0 {
		return unix.EINVAL
	}
	key, err := keyOf(mem, addr, private)
	if err != nil {
		return err
	}
	b := m.bucketOf(key)
	b.mu.Lock()
	cur, err := mem.LoadUint32(addr)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	if cur != val {
		b.mu.Unlock()
		return unix.EAGAIN
	}
	// Allocated here, not before the check: EAGAIN is a common result
	// (a contended lock that was released meanwhile) and costs nothing.
	w := &waiter{key: key, bitset: bitset, woken: make(chan struct{}, 1)}
	b.enqueue(w)
	b.mu.Unlock()
	return w.sleep(mem, deadline, interrupt)
}

// sleep blocks a queued waiter until it is woken, the deadline passes or
// interrupt fires, and leaves it unqueued. A wake that races with the
// other two wins, as in Linux's futex_wait (it checks futex_unqueue first).
func (w *waiter) sleep(mem Memory, deadline time.Time, interrupt <-chan struct{}) error {
	var expired <-chan struct{}
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			if !w.unqueue() {
				return nil
			}
			return unix.ETIMEDOUT
		}
		t := hrtimer.NewTimer(d)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-w.woken:
		return nil // woken already: no need to park
	default:
	}
	defer park(mem)()
	select {
	case <-w.woken:
		// The waker dequeued us before it sent the token.
		return nil
	case <-expired:
		if !w.unqueue() {
			return nil
		}
		return unix.ETIMEDOUT
	case <-interrupt:
		if !w.unqueue() {
			return nil
		}
		return ErrInterrupted
	}
}

// keyOf checks a futex address and asks mem for its key. Linux checks the
// alignment before anything else (get_futex_key), with EINVAL.
func keyOf(mem Memory, addr uint64, private bool) (Key, error) {
	if addr%4 != 0 {
		return Key{}, unix.EINVAL
	}
	k, err := mem.Key(addr, private)
	if err != nil {
		return Key{}, err
	}
	if !k.Valid() {
		return Key{}, unix.EFAULT
	}
	return k, nil
}
