package mm

import (
	"uk/arch"
)

// Copy-on-write breaks around a write fault.
//
// After a fork, the private pages both processes hold are mapped
// read-only on both sides, and the first write to each is a fault: a
// platform round trip (tens of µs on ptrace and on a pinned sigsys pair)
// where Linux spends a microsecond. A process that writes much of what
// it inherited pays it page by page: perl's global destruction in a
// forked child touches most of its heap, and so does the parent's once
// the child has gone (its pages are its own again, but still mapped
// read-only). As for faults on fresh anonymous memory (faultaround.go),
// one fault then deals with the window of pages around it:
//   - a write to a page still shared copies every page of the window
//     that is still shared (once the MM has broken cowSingleBreaks
//     pages one at a time: a child that forks to exec writes a few stack
//     and data pages first, which it should not copy a window for); the
//     window doubles with each such break, from faultRun, as below;
//   - a write to a page that is the MM's alone again maps every page of
//     a window around it that is the MM's alone writable (no copy: only
//     mapping work). The window doubles with each such fault, from
//     faultRun up to maxFaultRun: perl's parent, once its forked child
//     has exited, wrote 8 MB of its heap back in 130 faults of 64 KiB.
//
// The copies are charged to the sandbox like any page: when memory is
// short (fewer than twice the window's copies left) only the faulting
// page is copied, as before.

// cowSingleBreaks is how many copy-on-write breaks an MM makes one page
// at a time before it breaks windows.
const cowSingleBreaks = 8

// sharedWindowDoublings takes writeSharedLocked's window from faultRun
// to its largest, 512 KiB. A process that keeps breaking windows is
// writing much of what it shares (perl's forked child destroying its
// objects took about 50 write faults across a 3.4 MB heap, each 20-60 us
// in uk and 50-90 us from its resume to the next fault's arrival, the
// program's own work between included). A window beyond the pages the process writes costs memory Linux
// would not spend, so the largest is a quarter of the anonymous fault
// window's (the perl job with windows up to 2 MiB: 67.5 ms, up to 512 KiB
// 68.5, 64 KiB 70.3; medians of 21 alternating runs).
const sharedWindowDoublings = 3

// ownWindowDoublings takes writeOwnLocked's window from faultRun to
// maxFaultRun.
const ownWindowDoublings = 5

// writeSharedLocked handles a write fault at page, present in m and still
// shared copy-on-write, in v.
func (m *MM) writeSharedLocked(v *VMA, page uint64) error {
	m.cowBreaks++
	start, end := page, page+arch.PageSize
	if m.cowBreaks > cowSingleBreaks && v.Userfault == nil {
		start, end = cowWindow(v, page, m.cowBreaks-cowSingleBreaks-1)
	}
	var shared []uint64
	for a := start; a < end; a += arch.PageSize {
		if off, ok := m.pages[a]; ok && m.mf.RefCount(off) > 1 {
			shared = append(shared, a)
		}
	}
	offs, whole, cold, err := m.allocateAhead(len(shared))
	if err != nil {
		return err
	}
	if !whole {
		shared, start, end = []uint64{page}, page, page+arch.PageSize
	}
	if m.users > 1 {
		// Another thread may be running in the address space: the old
		// pages must be out of it before these references go (the
		// other holders may drop theirs meanwhile). A lone thread is
		// stopped here, and the new mappings replace the old before it
		// runs again.
		m.unmapASLocked(start, end-start)
	}
	olds := make([]int64, len(shared))
	for i, a := range shared {
		olds[i] = m.pages[a]
		m.pages[a] = offs[i]
		m.notePeakLocked()
	}
	m.mf.CopyPages(offs, olds, cold)
	// The copies replace the old pages in the address space before m's
	// references to those go: another holder may drop its own meanwhile,
	// and a page must never be freed while mapped.
	if m.users > 1 {
		err = m.mapPrivateLocked(v, start, end) // all the unmap took
	} else {
		err = m.mapPagesLocked(v, shared)
	}
	for _, old := range olds {
		m.mf.DecRef(old)
	}
	return err
}

// cowWindow returns the window of a copy-on-write break at page in v, the
// k-th (from 0) that copies a window: faultRun doubled k times, at most
// sharedWindowDoublings times, aligned and clipped to v (a stack's starts
// at the fault).
func cowWindow(v *VMA, page uint64, k int) (start, end uint64) {
	run := uint64(faultRun) << min(k, sharedWindowDoublings)
	ws := page &^ (run - 1)
	start, end = max(ws, v.Start), min(ws+run, v.End)
	if v.GrowsDown {
		start = max(page, v.Start)
		end = min(page+run, v.End)
	}
	return start, end
}

// writeOwnLocked handles a write fault in v at page, present in m and
// m's alone: the pages of its window (faultRun, doubled at each such
// fault of m up to maxFaultRun, aligned, within v) that are m's alone,
// the faulting one among them, are made writable (those writable already
// are made so again: cheaper than a record of which are).
func (m *MM) writeOwnLocked(v *VMA, page uint64) error {
	run := uint64(faultRun) << min(m.ownWrites, ownWindowDoublings)
	m.ownWrites++
	ws := page &^ (run - 1)
	start, end := max(ws, v.Start), min(ws+run, v.End)
	if v.GrowsDown {
		// A stack's window starts at the fault, as its other faults'.
		start = max(page, v.Start)
	}
	if v.Userfault != nil {
		// The others may be write-protected by the userfaultfd.
		start, end = page, page+arch.PageSize
	}
	var own []uint64
	for a := start; a < end; a += arch.PageSize {
		if off, ok := m.pages[a]; ok && m.mf.RefCount(off) == 1 {
			own = append(own, a)
		}
	}
	return m.protectPagesLocked(v, own, v.Prot)
}
