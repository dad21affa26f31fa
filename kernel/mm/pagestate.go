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

// Bits of a /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst).
const (
	PagemapPresent   = 1 << 63 // a page is there
	PagemapFileShare = 1 << 61 // a file's page or shared anonymous memory
	PagemapExclusive = 1 << 56 // mapped by this process alone
)

// PageMap fills out with the pagemap entries of the pages from start
// (page-aligned) on: present, whether the page is a file's or shared
// memory's, whether only this process maps it. The frame number bits stay
// 0, as Linux shows them to a reader without CAP_SYS_ADMIN: uk's pages
// have no frames of their own.
func (m *MM) PageMap(start uint64, out []uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range out {
		a := start + uint64(i)<<arch.PageShift
		out[i] = 0
		j := m.vmas.find(a)
		if j < 0 || !m.hasPageLocked(m.vmas[j], a) {
			continue
		}
		v := m.vmas[j]
		if v.untouched && !v.Shared {
			continue // backed ahead of a touch: not there for Linux (Mincore)
		}
		e := uint64(PagemapPresent)
		if off, own := m.pages[a]; own && !v.Shared {
			if m.mf.RefCount(off) == 1 {
				e |= PagemapExclusive
			}
		} else {
			e |= PagemapFileShare
		}
		out[i] = e
	}
}
