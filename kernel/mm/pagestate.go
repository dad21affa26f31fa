package mm

import (
	"uk/arch"
	"uk/kernel/memmap"
)

// PageState is what a process has at an address, as move_pages reports
// it: no mapping, a mapping without a page there yet, or a page.
type PageState int8

// The page states.
const (
	PageUnmapped PageState = iota // no VMA covers the address
	PageAbsent                    // mapped, but no page is there yet
	PagePresent                   // a page is there
)

// PageStates reports the state of the page holding each address of
// addrs in out (of the same length). A private page the MM holds (written
// anonymous memory or a copy) is present; elsewhere the page of the
// mapped object is present if the object holds one (a shared or file
// page another process brought in counts too: uk does not track which of
// an object's pages each process has touched, as Linux's page tables
// do); untouched anonymous memory has none.
func (m *MM) PageStates(addrs []uint64, out []PageState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, a := range addrs {
		a = arch.PageRoundDown(a)
		j := m.vmas.find(a)
		switch {
		case j < 0:
			out[i] = PageUnmapped
		case m.hasPageLocked(m.vmas[j], a):
			out[i] = PagePresent
		default:
			out[i] = PageAbsent
		}
	}
}

// hasPageLocked reports whether a page is there at addr, page-aligned
// within v.
//
// Preconditions: m.mu is held.
func (m *MM) hasPageLocked(v *VMA, addr uint64) bool {
	if !v.Shared {
		if _, ok := m.pages[addr]; ok {
			return true
		}
	}
	if v.Object == nil {
		return false
	}
	p, ok := v.Object.(memmap.PagePeeker)
	if !ok {
		return false
	}
	_, ok = p.PeekPage(v.objectIndex(addr))
	return ok
}
