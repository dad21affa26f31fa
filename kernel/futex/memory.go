package futex

import (
	"encoding/binary"
	"math"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Memory is the Manager's view of one application address space. The
// kernel implements it (or wraps a Translator with BytesMemory). Every
// method may be called with a futex bucket lock held, so it must not call
// back into the Manager; it may fault pages in. Errors should be
// unix.EFAULT for an address that is not mapped (or not writable, for a
// write); the Manager returns them unchanged.
type Memory interface {
	// Key returns the key of the 32-bit word at addr (already checked to
	// be 4-byte aligned). private reports FUTEX_PRIVATE_FLAG; see Key for
	// the rules.
	Key(addr uint64, private bool) (Key, error)
	// LoadUint32 atomically loads the aligned 32-bit word at addr.
	LoadUint32(addr uint64) (uint32, error)
	// CompareAndSwapUint32 atomically replaces the aligned word at addr
	// with new if it holds old, and returns the value it held before
	// either way (so the swap happened iff the result is old). The page
	// must be made writable first (breaking copy-on-write).
	CompareAndSwapUint32(addr uint64, old, new uint32) (uint32, error)
	// LoadUint64 reads the 64-bit little-endian value at addr (any
	// alignment, need not be atomic): the robust-list walk reads
	// pointers and the futex offset with it.
	LoadUint64(addr uint64) (uint64, error)
}

// Translator gives uk's own view of application memory; BytesMemory builds
// a Memory from it. With the memory file that is memfile.Bytes of the
// page's offset, after faulting the page in.
type Translator interface {
	// Key is as Memory.Key.
	Key(addr uint64, private bool) (Key, error)
	// Bytes returns the n bytes (1 ≤ n ≤ 8) at addr, a range that never
	// crosses a page boundary, as a slice aliasing the memory (not a
	// copy), or EFAULT. write says the caller will store through it.
	Bytes(addr uint64, n int, write bool) ([]byte, error)
}

// BytesMemory returns a Memory whose atomic operations work directly on
// the slices t returns, using AtomicWord.
func BytesMemory(t Translator) Memory { return bytesMemory{t} }

// Parker may be implemented by a Memory whose waiter can let go of
// something while it sleeps (a uk task its OS thread: kernel.Task's
// unbind). Park is called by the waiting goroutine right before a wait
// blocks, and the function it returns, if not nil, right after.
type Parker interface {
	Park() (unpark func())
}

// park calls mem's Park if it has one, and returns what to call after the
// sleep (never nil).
func park(mem Memory) func() {
	if p, ok := mem.(Parker); ok {
		if unpark := p.Park(); unpark != nil {
			return unpark
		}
	}
	return func() {}
}

type bytesMemory struct{ t Translator }

func (m bytesMemory) Key(addr uint64, private bool) (Key, error) { return m.t.Key(addr, private) }

func (m bytesMemory) word(addr uint64, write bool) (*uint32, error) {
	if addr%4 != 0 {
		return nil, unix.EINVAL
	}
	if addr > math.MaxUint64-4 {
		return nil, unix.EFAULT // the last word would wrap
	}
	b, err := m.t.Bytes(addr, 4, write)
	if err != nil {
		return nil, err
	}
	return AtomicWord(b), nil
}

func (m bytesMemory) LoadUint32(addr uint64) (uint32, error) {
	w, err := m.word(addr, false)
	if err != nil {
		return 0, err
	}
	return atomic.LoadUint32(w), nil
}

func (m bytesMemory) CompareAndSwapUint32(addr uint64, old, new uint32) (uint32, error) {
	w, err := m.word(addr, true)
	if err != nil {
		return 0, err
	}
	for {
		if atomic.CompareAndSwapUint32(w, old, new) {
			return old, nil
		}
		// Report the value that made it fail; if the word changed back
		// to old meanwhile, try the swap again rather than report old
		// without having swapped.
		if cur := atomic.LoadUint32(w); cur != old {
			return cur, nil
		}
	}
}

func (m bytesMemory) LoadUint64(addr uint64) (uint64, error) {
	if addr > math.MaxUint64-8 {
		return 0, unix.EFAULT // would wrap around the address space
	}
	var buf [8]byte
	// Split at a page boundary: Translator ranges stay within a page.
	first := 8
	if rem := pageSize - int(addr%pageSize); rem < 8 {
		first = rem
	}
	b, err := m.t.Bytes(addr, first, false)
	if err != nil {
		return 0, err
	}
	copy(buf[:], b)
	if first < 8 {
		b, err := m.t.Bytes(addr+uint64(first), 8-first, false)
		if err != nil {
			return 0, err
		}
		copy(buf[first:], b)
	}
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// pageSize is the x86-64 page size; Translator ranges never cross one.
const pageSize = 4096
