package mm

import (
	"uk/arch"
	"uk/kernel/memmap"
)

// PSSShift is the fixed-point shift of Usage's PSS fields (Linux's
// PSS_SHIFT; proc.PSSShift must equal it, kernel/procfs.go asserts so): a
// page shared by three holders adds PageSize<<PSSShift/3, so that the
// thirds of many pages add up before they are rounded to kilobytes.
const PSSShift = 12

// Usage is what one VMA holds in memory, for /proc/PID/smaps.
//
// Private pages are the process's own copies (anonymous memory, and the
// pages of a private file mapping it wrote or that were copied whole): a
// page a fork left shared copy-on-write with another process counts as
// shared, as Linux counts a page mapped more than once. A shared
// mapping's pages are its object's (a tmpfs or memfd file, a shared
// anonymous region, a System V segment) that lie in the VMA's range;
// they are shared when another address space maps the object too. What
// a private mapping reads of a file without copying it (a program's
// text, mapped from the host or from the file's cache) is not counted:
// uk does not know which of those pages the host has mapped.
type Usage struct {
	VMA VMA
	// Private, PrivateShared: private pages, and of them those another
	// process holds too.
	Private, PrivateShared int
	// Object, ObjectShared: the shared object's pages in range, and
	// whether other address spaces map it.
	Object       int
	ObjectShared bool
	// PSSPrivate and PSSObject are the proportional set size of the
	// private pages and of the object's, bytes << PSSShift: each page
	// divided among its holders.
	PSSPrivate, PSSObject uint64
}

// Usage returns each VMA's memory use, in address order.
func (m *MM) Usage() []Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	present := m.presentByVMALocked()
	out := make([]Usage, len(m.vmas))
	for i, v := range m.vmas {
		u := &out[i]
		u.VMA = *v
		for _, a := range present[i] {
			u.Private++
			holders := max(m.mf.RefCount(m.pages[a]), 1)
			if holders > 1 {
				u.PrivateShared++
			}
			u.PSSPrivate += arch.PageSize << PSSShift / uint64(holders)
		}
		if rc, ok := v.Object.(memmap.ResidentCounter); ok && v.Shared {
			u.Object = rc.ResidentIn(v.Pgoff, v.objectIndex(v.End))
			mappers := max(rc.MapperCount(), 1)
			u.ObjectShared = mappers > 1
			u.PSSObject = uint64(u.Object) * (arch.PageSize << PSSShift / uint64(mappers))
		}
	}
	return out
}
