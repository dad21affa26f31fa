package mm

// Faults on private file mappings. A fault is the most expensive event a
// platform has (two host round trips on ptrace), and a file's pages already
// exist, so mapping more of them per fault costs no memory: reads map a
// window far larger than the anonymous fault run, and a program's small
// writable file mappings (its data segment) are copied whole at their first
// touch instead of one page per write fault.

import (
	"uk/arch"
	"uk/kernel/memmap"
	"uk/platform"
)

const (
	// fileFaultRun is the aligned window a read fault in a private file
	// mapping maps, when the object is a memmap.PagePeeker: 2 MiB covers most
	// static programs' text in one fault.
	fileFaultRun = 2 << 20
	// copyWholeMax is the largest writable private file mapping copied
	// whole at its first fault, for VMAs that ask for it (VMA.CopyWhole:
	// the ELF data segments the loader maps, small and written anyway).
	// Other mappings copy page by page as Linux does: their untouched
	// pages keep showing the file (a hole punched in it, say), and a big
	// file mapped writable but only read is never duplicated.
	// 1 MiB: a position-independent program's relocated data
	// (.data.rel.ro) is often larger than 256 KiB (as: 285 KiB, written
	// by its relocation page after page: 71 faults).
	copyWholeMax = 1 << 20
)

// peekPage returns the object's page at index for mapping ahead, without
// allocating: false when the object cannot say or lacks it.
func peekPage(v *VMA, index uint64) (int64, bool) {
	p, ok := v.Object.(memmap.PagePeeker)
	if !ok {
		return 0, false
	}
	return p.PeekPage(index)
}

// prefetchLocked asks the object of v, a private file mapping, to fill
// ahead of faults (memmap.Prefetcher) the part of the file that v and its
// neighbours mapping the same file map (an ELF program's or library's
// segments, mapped side by side), if v is executable: a program reads its
// text and read-only data nearly whole, scattered (a Go program's type
// tables and pclntab as much as its code), and a fault that finds its
// pages filled maps them without a copy. Sections no segment maps (debug
// information) are left alone.
func (m *MM) prefetchLocked(v *VMA, page uint64) {
	if v.Prot&platform.Exec == 0 {
		return
	}
	if _, _, end, ok := m.hostFileLocked(v); ok && page < end {
		return // mapped from the host: nothing to copy
	}
	p, ok := v.Object.(memmap.Prefetcher)
	if !ok {
		return
	}
	first, end := v.objectIndex(v.Start), v.objectIndex(v.Start)+(v.End-v.Start)>>arch.PageShift
	if i := m.vmas.find(v.Start); i >= 0 {
		grow := func(w *VMA) {
			first = min(first, w.objectIndex(w.Start))
			end = max(end, w.objectIndex(w.Start)+(w.End-w.Start)>>arch.PageShift)
		}
		for j := i - 1; j >= 0 && m.vmas[j].Object == v.Object && m.vmas[j].End == m.vmas[j+1].Start && !m.vmas[j].Shared; j-- {
			grow(m.vmas[j])
		}
		for j := i + 1; j < len(m.vmas) && m.vmas[j].Object == v.Object && m.vmas[j].Start == m.vmas[j-1].End && !m.vmas[j].Shared; j++ {
			grow(m.vmas[j])
		}
	}
	p.Prefetch(first, end, v.objectIndex(page))
}

// mapFileRunLocked maps the run around page of a private file mapping for
// reading: the file's own pages read-only and the process's private copies
// where it has them, skipping pages other than page that are mapped
// already. The run is [start, end), or a fileFaultRun window
// when the object is a memmap.PagePeeker. Only the faulting page must succeed; other pages are
// mapped if the object already has them (or, for objects that cannot be
// peeked, if PageAt gives them), and the run stops at the end of the file.
func (m *MM) mapFileRunLocked(v *VMA, page, start, end uint64) error {
	return m.mapFileWindowLocked(v, page, start, end, v.Start, v.End)
}

// mapFileWindowLocked is mapFileRunLocked with the fileFaultRun window
// clipped to [lo, hi) as well as to v.
func (m *MM) mapFileWindowLocked(v *VMA, page, start, end, lo, hi uint64) error {
	if done, err := m.mapFromHostLocked(v, page, lo, hi); done {
		return err
	}
	peeker, peekable := v.Object.(memmap.PagePeeker)
	if peekable {
		// Mapping ahead costs nothing here: a fileFaultRun window.
		ws := page &^ (fileFaultRun - 1)
		start, end = max(ws, v.Start, lo), min(ws+fileFaultRun, v.End, hi)
	}
	var run mapRun
	for a := start; a < end; a += arch.PageSize {
		if a != page && m.asMapped.contains(a) {
			// Mapped already (by an earlier fault in the window).
			if err := run.flush(m); err != nil {
				return err
			}
			continue
		}
		if off, ok := m.pages[a]; ok {
			if err := run.add(m, a, off, m.privateProt(v, a, off)); err != nil {
				return err
			}
			continue
		}
		var src int64
		if a != page && peekable {
			off, ok := peeker.PeekPage(v.objectIndex(a))
			if !ok {
				if err := run.flush(m); err != nil {
					return err
				}
				continue
			}
			src = off
		} else {
			off, err := v.Object.PageAt(v.objectIndex(a))
			if err != nil {
				if a == page {
					return err
				}
				if err := run.flush(m); err != nil {
					return err
				}
				if a > page {
					break
				}
				continue
			}
			src = off
		}
		if err := run.add(m, a, src, v.Prot&^platform.Write); err != nil {
			return err
		}
	}
	return run.flush(m)
}

// copyFileVMALocked gives the small writable private file mapping v a
// private copy of every file page it does not have yet and maps the whole
// VMA. The faulting page must be copied; others are copied only if the
// file has them (a hole or a page past the end of the file still faults
// on its own).
func (m *MM) copyFileVMALocked(v *VMA, page uint64) error {
	return m.copyFileRangeLocked(v, page, v.Start, v.End, false)
}

// copyFileWindowLocked is copyFileVMALocked for a data segment too big to
// copy whole (VMA.CopyWhole beyond copyWholeMax): a write copies the
// faultRun window around it. Page by page, Python's 1.3 MB of data took
// a write fault for nearly each of its pages at start-up, and the copies,
// made in the order the program wrote them, lay scattered in the memory
// file: a fork's child then needed a host mapping for each. The window's
// copies are allocated together, contiguous, and map as one run. Its
// pages are read from the file if uk does not hold them yet: a program's
// first run (uk holds none of its file) otherwise copied one page a
// fault, as before (Python: 108 host mappings of single pages at its
// start).
func (m *MM) copyFileWindowLocked(v *VMA, page uint64) error {
	start := max(page&^(faultRun-1), v.Start)
	return m.copyFileRangeLocked(v, page, start, min(start+faultRun, v.End), true)
}

// copyFileRangeLocked is copyFileVMALocked for [start, end) of v (page
// among it); with read, the pages of the range the file object does not
// hold yet are read too (else only the faulting one is).
func (m *MM) copyFileRangeLocked(v *VMA, page, start, end uint64, read bool) error {
	var addrs []uint64
	var srcs []int64
	for a := start; a < end; a += arch.PageSize {
		if _, ok := m.pages[a]; ok {
			continue
		}
		var src int64
		if a == page {
			off, err := v.Object.PageAt(v.objectIndex(a))
			if err != nil {
				return err
			}
			src = off
		} else {
			off, ok := peekPage(v, v.objectIndex(a))
			if !ok && read {
				var err error
				off, err = v.Object.PageAt(v.objectIndex(a))
				ok = err == nil
			}
			if !ok {
				continue
			}
			src = off
		}
		addrs = append(addrs, a)
		srcs = append(srcs, src)
	}
	offs, cold, err := m.mf.AllocateCold(len(addrs))
	if err != nil {
		// Memory is short: copy just the page that faulted.
		return m.copyFilePageLocked(v, page)
	}
	m.mf.CopyPages(offs, srcs, cold)
	for i, a := range addrs {
		m.pages[a] = offs[i]
		m.notePeakLocked()
	}
	return m.mapCopiesLocked(v, start, end, addrs)
}

// mapCopiesLocked maps the private pages of [start, end) of v that the
// address space does not map yet, and copied, the pages just copied
// there (ascending): those replace what was mapped. A window's earlier
// copies stay as they are mapped. (Mapping the whole window again, a
// fault of Python's start-up mapped up to 15 pages it had mapped before,
// each its own host request: the copies of earlier faults lie apart in
// the memory file.)
func (m *MM) mapCopiesLocked(v *VMA, start, end uint64, copied []uint64) error {
	var run mapRun
	for a := start; a < end; a += arch.PageSize {
		fresh := len(copied) > 0 && copied[0] == a
		if fresh {
			copied = copied[1:]
		}
		off, ok := m.pages[a]
		if !ok || !fresh && m.asMapped.contains(a) {
			if err := run.flush(m); err != nil {
				return err
			}
			continue
		}
		if err := run.add(m, a, off, m.privateProt(v, a, off)); err != nil {
			return err
		}
	}
	return run.flush(m)
}

// copyFilePageLocked gives the private file mapping v its own copy of the
// file's page at page and maps it.
func (m *MM) copyFilePageLocked(v *VMA, page uint64) error {
	src, err := v.Object.PageAt(v.objectIndex(page))
	if err != nil {
		return err
	}
	return m.privateCopyLocked(v, page, src)
}

// privateCopyLocked makes a fresh copy of the memory-file page src the
// process's own page at page (whatever it had there, the caller releases)
// and maps it with v's rights.
func (m *MM) privateCopyLocked(v *VMA, page uint64, src int64) error {
	n, cold, err := m.mf.AllocateCold(1)
	if err != nil {
		return err
	}
	m.mf.CopyPages(n, []int64{src}, cold)
	m.pages[page] = n[0]
	m.notePeakLocked()
	return m.mapASLocked(page, n[0], arch.PageSize, v.Prot)
}

// privateProt is the protection a private page at off is mapped with: the
// VMA's, less write while the page is shared copy-on-write.
func (m *MM) privateProt(v *VMA, addr uint64, off int64) platform.Access {
	if m.mf.RefCount(off) > 1 {
		return v.Prot &^ platform.Write
	}
	if _, wp := m.writeProtected[addr]; wp {
		return v.Prot &^ platform.Write // a userfaultfd's (userfault.go)
	}
	return v.Prot
}

// mapRun gathers pages into runs contiguous in address, memory-file offset
// and protection, so that each run is one platform mapping.
type mapRun struct {
	addr uint64
	off  int64
	n    int64 // bytes in the run; 0 when empty
	prot platform.Access
	lazy bool // the pages are cold: map them with mapASLazyLocked
}

// add appends the page at addr (memory-file offset off) to the run, first
// mapping the run so far if the page does not extend it.
func (r *mapRun) add(m *MM, addr uint64, off int64, prot platform.Access) error {
	if r.n > 0 && addr == r.addr+uint64(r.n) && off == r.off+r.n && prot == r.prot {
		r.n += arch.PageSize
		return nil
	}
	if err := r.flush(m); err != nil {
		return err
	}
	r.addr, r.off, r.n, r.prot = addr, off, arch.PageSize, prot
	return nil
}

// flush maps the run gathered so far and empties it.
func (r *mapRun) flush(m *MM) error {
	if r.n == 0 {
		return nil
	}
	n := r.n
	r.n = 0
	if r.lazy {
		return m.mapASLazyLocked(r.addr, r.off, uint64(n), r.prot)
	}
	return m.mapASLocked(r.addr, r.off, uint64(n), r.prot)
}
