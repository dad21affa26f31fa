package futex

import "fmt"

// keyKind says which of Linux's three futex identities a Key has.
type keyKind uint8

const (
	// kindPrivate: FUTEX_PRIVATE_FLAG was given; the word is named by its
	// address space and virtual address.
	kindPrivate keyKind = iota + 1
	// kindProcess: no FUTEX_PRIVATE_FLAG, but the word is in memory
	// private to its address space (MAP_PRIVATE anonymous memory, or a
	// private page after copy-on-write). Linux names it like a private
	// futex but keeps the two apart (FUT_OFF_MMSHARED in futex_key), so
	// a FUTEX_WAIT_PRIVATE is not woken by a shared FUTEX_WAKE.
	kindProcess
	// kindShared: no FUTEX_PRIVATE_FLAG and the word is in a shared page
	// (MAP_SHARED anonymous memory, tmpfs or other memory-file backed
	// file pages); it is named by its memory-file offset so that every
	// address space mapping the page sees the same futex.
	kindShared
)

// Key identifies a futex word. Two operations meet on a futex exactly when
// their keys are equal. Keys are comparable values; the zero Key is invalid.
//
// The kernel computes keys (in Memory.Key) with PrivateKey, ProcessKey and
// SharedKey, following Linux's get_futex_key:
//   - the operation has FUTEX_PRIVATE_FLAG: PrivateKey(space, addr), without
//     looking at the mapping at all (Linux does not fault it in either);
//   - otherwise, if the page is private to the address space (anonymous
//     MAP_PRIVATE memory, or a copy-on-write copy): ProcessKey(space, addr).
//     After fork the parent and the child therefore have different futexes
//     at the same address, as on Linux;
//   - otherwise (MAP_SHARED memory, or a not yet copied page of a private
//     file mapping): SharedKey(off), off being the word's memory-file offset.
//     The page must be faulted in (allocated) to have an offset, as Linux's
//     get_futex_key faults it in; an address with no mapping is EFAULT.
//
// A key holds the space value, so a queued waiter keeps it reachable; a
// shared key names a page of the memory file, which the waiter's mapping
// keeps allocated while it waits.
type Key struct {
	kind  keyKind
	space any    // address-space identity; nil for kindShared
	addr  uint64 // virtual address, or memory-file offset for kindShared
}

// PrivateKey is the key of the word at virtual address addr of address
// space space, for an operation with FUTEX_PRIVATE_FLAG. space is any
// comparable value unique to the address space (uk passes its *mm.MM); a
// value of a non-comparable dynamic type makes the Manager panic.
func PrivateKey(space any, addr uint64) Key {
	return Key{kind: kindPrivate, space: space, addr: addr}
}

// ProcessKey is the key of the word at addr of space for an operation
// without FUTEX_PRIVATE_FLAG when the page is private to the address space.
func ProcessKey(space any, addr uint64) Key {
	return Key{kind: kindProcess, space: space, addr: addr}
}

// SharedKey is the key of the word at memory-file offset off, for an
// operation without FUTEX_PRIVATE_FLAG on a shared page.
func SharedKey(off int64) Key {
	return Key{kind: kindShared, addr: uint64(off)}
}

// Valid reports whether k was made by one of the constructors.
func (k Key) Valid() bool { return k.kind != 0 }

// String describes the key for debugging output.
func (k Key) String() string {
	switch k.kind {
	case kindPrivate:
		return fmt.Sprintf("private(%v:%#x)", k.space, k.addr)
	case kindProcess:
		return fmt.Sprintf("process(%v:%#x)", k.space, k.addr)
	case kindShared:
		return fmt.Sprintf("shared(off %#x)", k.addr)
	}
	return "invalid"
}
