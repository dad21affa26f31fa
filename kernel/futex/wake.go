package futex

import "golang.org/x/sys/unix"

// Wake implements FUTEX_WAKE and FUTEX_WAKE_BITSET: it wakes up to n
// waiters on the futex at addr whose bitset shares a bit with bitset
// (FUTEX_WAKE uses BitsetMatchAny) and returns how many it woke.
//
// n is the syscall's val as a C int (int(int32(val))); as on Linux, an n
// of 0 or less still wakes one waiter if there is one. Errors: unix.EINVAL
// for bitset 0 or an unaligned addr, and Memory.Key's errors.
func (m *Manager) Wake(mem Memory, addr uint64, private bool, n int, bitset uint32) (int, error) {
	if bitset == 0 {
		return 0, unix.EINVAL
	}
	key, err := keyOf(mem, addr, private)
	if err != nil {
		return 0, err
	}
	return m.WakeKey(key, n, bitset), nil
}

// WakeKey wakes up to n waiters (at least one) on key whose bitset shares
// a bit with bitset, without touching memory, and returns how many it
// woke. The kernel can use it where it already has the key (the
// CLONE_CHILD_CLEARTID wake at thread exit uses Wake with private false,
// like Linux).
func (m *Manager) WakeKey(key Key, n int, bitset uint32) int {
	b := m.bucketOf(key)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.wakeMatching(key, bitset, n)
}

// Requeue implements FUTEX_REQUEUE (cmp nil) and FUTEX_CMP_REQUEUE (cmp
// points at val3): it wakes up to nrWake waiters on addr and moves up to
// nrRequeue of the rest to addr2, returning the number woken plus the
// number moved. With cmp, the word at addr must still hold *cmp, checked
// atomically with the queues, or the result is unix.EAGAIN and nothing
// changes.
//
// nrWake and nrRequeue are the syscall's val and val2 as C ints; either
// negative is unix.EINVAL. Unlike FUTEX_WAKE, an nrWake of 0 wakes nobody.
// addr2 may name the same futex as addr (Linux forbids that only for the
// PI variant): the moved waiters then just stay queued. Waiters' bitsets
// play no part in a requeue, as on Linux.
func (m *Manager) Requeue(mem Memory, addr, addr2 uint64, private bool, nrWake, nrRequeue int, cmp *uint32) (int, error) {
	if nrWake < 0 || nrRequeue < 0 {
		return 0, unix.EINVAL
	}
	key1, err := keyOf(mem, addr, private)
	if err != nil {
		return 0, err
	}
	key2, err := keyOf(mem, addr2, private)
	if err != nil {
		return 0, err
	}
	b1, b2 := m.lockTwo(key1, key2)
	defer m.unlockTwo(b1, b2)
	if cmp != nil {
		cur, err := mem.LoadUint32(addr)
		if err != nil {
			return 0, err
		}
		if cur != *cmp {
			return 0, unix.EAGAIN
		}
	}
	count := 0
	for w := b1.head; w != nil; {
		next := w.next
		if count-nrWake >= nrRequeue {
			break
		}
		if w.key == key1 {
			count++
			if count <= nrWake {
				b1.wake(w)
			} else if b1 == b2 {
				// Same queue: only the key changes, so the waiter
				// keeps its place (as Linux's requeue_futex).
				w.key = key2
			} else {
				b1.remove(w)
				w.key = key2
				b2.enqueue(w)
			}
		}
		w = next
	}
	return count, nil
}
