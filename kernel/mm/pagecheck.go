package mm

// The page-lifetime check: a debug mode that verifies, on every page the
// memory file frees, that no address space maps it. It shadows every
// mapping an MM asks of its platform (per page: address → memory-file
// offset), counts how many address-space pages map each offset, and panics
// when a page whose count is not zero loses its last reference. Tests turn
// it on; `UK_CHECK_PAGES=1` turns it on in the uk binary.

import (
	"fmt"
	"sync"

	"uk/arch"
	"uk/kernel/memfile"
)

// pageCheck is the reachability record shared by every MM of a memory
// file, when the check is on.
type pageCheck struct {
	mu    sync.Mutex
	reach map[int64]int // memory-file offset → address-space pages mapping it; protected by mu
}

var (
	checksMu sync.Mutex
	checks   = map[*memfile.File]*pageCheck{} // protected by checksMu
)

// EnablePageCheck turns the page-lifetime check on for every MM made over
// mf from now on: freeing a page that an address space maps panics, naming
// the page. It costs a map update per page mapped and unmapped.
func EnablePageCheck(mf *memfile.File) {
	c := &pageCheck{reach: map[int64]int{}}
	checksMu.Lock()
	checks[mf] = c
	checksMu.Unlock()
	mf.SetFreeHook(c.freed)
}

// freed is the memory file's hook: off has just lost its last reference.
func (c *pageCheck) freed(off int64) {
	c.mu.Lock()
	n := c.reach[off]
	c.mu.Unlock()
	if n != 0 {
		panic(fmt.Sprintf("mm: page %#x freed while %d address-space page(s) map it", off, n))
	}
}

// asShadow is one address space's mappings, as the MM asked for them.
type asShadow struct {
	c     *pageCheck
	pages map[uint64]int64 // page address → memory-file offset; protected by c.mu
}

// newShadow returns a shadow for a new MM over mf, or nil when the check
// is off.
func newShadow(mf *memfile.File) *asShadow {
	checksMu.Lock()
	c := checks[mf]
	checksMu.Unlock()
	if c == nil {
		return nil
	}
	return &asShadow{c: c, pages: map[uint64]int64{}}
}

// mapped records [addr, addr+length) mapped to off.., replacing what was
// there.
func (s *asShadow) mapped(addr uint64, off int64, length uint64) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	for i := uint64(0); i < length; i += arch.PageSize {
		s.dropLocked(addr + i)
		s.pages[addr+i] = off + int64(i)
		s.c.reach[off+int64(i)]++
	}
}

// unmapped records [addr, addr+length) unmapped.
func (s *asShadow) unmapped(addr, length uint64) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if length>>arch.PageShift > uint64(len(s.pages)) {
		for a := range s.pages {
			if a >= addr && a-addr < length {
				s.dropLocked(a)
			}
		}
		return
	}
	for i := uint64(0); i < length; i += arch.PageSize {
		s.dropLocked(addr + i)
	}
}

// anyIn reports whether any page of [addr, addr+length) is mapped.
func (s *asShadow) anyIn(addr, length uint64) bool {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	for a := range s.pages {
		if a >= addr && a-addr < length {
			return true
		}
	}
	return false
}

// released records the whole address space gone.
func (s *asShadow) released() {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	for a := range s.pages {
		s.dropLocked(a)
	}
}

func (s *asShadow) dropLocked(addr uint64) {
	off, ok := s.pages[addr]
	if !ok {
		return
	}
	delete(s.pages, addr)
	if s.c.reach[off]--; s.c.reach[off] == 0 {
		delete(s.c.reach, off)
	}
}
