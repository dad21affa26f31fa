package futex

import "unsafe"

// AtomicWord returns a pointer to the 32-bit word at the start of b, for
// sync/atomic operations on application memory. b must hold at least 4
// bytes and start at a 4-byte aligned address; anything else is a bug in
// uk (application addresses are checked for alignment before they get
// here, and memory-file pages are page aligned), so it panics.
//
// Why this is sound: b aliases uk's MAP_SHARED mapping of the memory file
// (memfile.Bytes), which is mapped once and stays mapped for the life of
// uk, so the pointer can never dangle; that memory is not in the Go heap,
// so the garbage collector neither moves it nor cares about the pointer.
// When b is an ordinary Go slice (tests), the pointer points into its
// backing array and keeps that alive like any interior pointer. The host
// CPU's locked instructions that sync/atomic uses are atomic with respect
// to application threads on other CPUs touching the same physical page.
func AtomicWord(b []byte) *uint32 {
	if len(b) < 4 {
		panic("futex.AtomicWord: slice shorter than 4 bytes")
	}
	p := unsafe.Pointer(&b[0])
	if uintptr(p)%4 != 0 {
		panic("futex.AtomicWord: unaligned word")
	}
	return (*uint32)(p)
}
