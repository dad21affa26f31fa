package futex

// Robust futex word bits and list limits, from <linux/futex.h>.
const (
	// FutexWaiters is set in a robust (or PI) futex word when threads
	// wait on it.
	FutexWaiters = 0x80000000
	// FutexOwnerDied is set by the kernel in a robust futex word whose
	// owner exited while holding it.
	FutexOwnerDied = 0x40000000
	// FutexTIDMask selects the owner's thread id in a robust futex word.
	FutexTIDMask = 0x3fffffff
	// RobustListLimit bounds the walk, against circular lists.
	RobustListLimit = 2048
	// RobustListHeadSize is sizeof(struct robust_list_head) on x86-64;
	// set_robust_list accepts no other length (EINVAL).
	RobustListHeadSize = 24
)

// maxDeathRetries bounds the compare-and-swap retries on one futex word, so
// an application that keeps changing the word cannot hold an exiting
// thread forever. Linux retries without bound; any realistic race settles
// in a few rounds.
const maxDeathRetries = 1 << 16

// ExitRobustList walks the robust futex list of an exiting thread, as
// Linux's exit_robust_list: head is the address given to set_robust_list
// (struct robust_list_head {struct robust_list *next; long futex_offset;
// struct robust_list *list_op_pending;}), tid the thread's id as its
// process sees it. For each entry (at most RobustListLimit, then the
// pending one) whose futex word, at entry+futex_offset, names tid as
// owner, it sets FutexOwnerDied (keeping FutexWaiters) and, if
// FutexWaiters was set, wakes one waiter. Bit 0 of an entry pointer marks a
// PI futex: it gets the bit but no wake (ThreadExited, after the walk,
// hands such a lock to its first waiter). A pending
// non-PI entry whose word has no owner gets a wake only, as Linux does
// for an unlock that died between the store and the FUTEX_WAKE.
//
// The wakes use the futex's key without FUTEX_PRIVATE_FLAG (Linux's
// handle_futex_death does), which is why glibc's robust mutexes always
// wait with shared futex operations. A fault or a malformed list ends the
// walk quietly: the thread is exiting and nobody can be told.
func (m *Manager) ExitRobustList(mem Memory, head uint64, tid int32) {
	if head == 0 {
		return
	}
	entry, pi, err := fetchRobustEntry(mem, head)
	if err != nil {
		return
	}
	offset, err := mem.LoadUint64(head + 8)
	if err != nil {
		return
	}
	pending, pendingPI, err := fetchRobustEntry(mem, head+16)
	if err != nil {
		return
	}
	for limit := RobustListLimit; entry != head; {
		// Fetch the next pointer before the word is released: once it
		// is, another thread may reuse the entry's memory.
		next, nextPI, err := fetchRobustEntry(mem, entry)
		if entry != pending {
			if !m.futexDeath(mem, entry+offset, tid, pi, false) {
				return
			}
		}
		if err != nil {
			return
		}
		entry, pi = next, nextPI
		if limit--; limit == 0 {
			break
		}
	}
	if pending != 0 {
		m.futexDeath(mem, pending+offset, tid, pendingPI, true)
	}
}

// fetchRobustEntry reads a list pointer; bit 0 says "PI futex".
func fetchRobustEntry(mem Memory, addr uint64) (entry uint64, pi bool, err error) {
	v, err := mem.LoadUint64(addr)
	if err != nil {
		return 0, false, err
	}
	return v &^ 1, v&1 != 0, nil
}

// futexDeath is Linux's handle_futex_death for the word at addr; false
// means the walk must stop (unaligned or inaccessible word).
func (m *Manager) futexDeath(mem Memory, addr uint64, tid int32, pi, pendingOp bool) bool {
	if addr%4 != 0 {
		return false
	}
	for range maxDeathRetries {
		uval, err := mem.LoadUint32(addr)
		if err != nil {
			return false
		}
		owner := uval & FutexTIDMask
		if pendingOp && !pi && owner == 0 {
			// The owner died after unlocking but before waking: pass
			// the wakeup on, and leave the word alone (it is
			// consistent, and OWNER_DIED would make it not so).
			m.Wake(mem, addr, false, 1, BitsetMatchAny)
			return true
		}
		if owner != uint32(tid)&FutexTIDMask {
			return true
		}
		// Waking even when OWNER_DIED is already set handles a thread
		// dying while it recovers a lock from another dead one.
		nval := uval&FutexWaiters | FutexOwnerDied
		prev, err := mem.CompareAndSwapUint32(addr, uval, nval)
		if err != nil {
			return false
		}
		if prev != uval {
			continue
		}
		if !pi && uval&FutexWaiters != 0 {
			m.Wake(mem, addr, false, 1, BitsetMatchAny)
		}
		return true
	}
	return true
}
