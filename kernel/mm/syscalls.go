package mm

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memmap"
	"uk/platform"
)

// MmapOpts are the arguments of one mmap request, already validated for
// flags the kernel does not support.
type MmapOpts struct {
	Addr, Length uint64
	Prot         platform.Access
	// MaxProt is the most the mapping's rights may become with mprotect
	// (VM_MAYREAD/WRITE/EXEC); zero means no limit (anonymous memory).
	MaxProt   platform.Access
	Fixed     bool // MAP_FIXED: replace what is there
	NoReplace bool // MAP_FIXED_NOREPLACE: fail with EEXIST instead
	Shared    bool
	GrowsDown bool
	CopyWhole bool // see VMA.CopyWhole
	// Low2G is MAP_32BIT: without Fixed, the mapping goes between 1 and
	// 2 GiB (Linux's x86-64 range for it), ENOMEM when it does not fit.
	Low2G bool
	// Prefault asks that what the program will touch first be mapped
	// now (prefaultMmapLocked), as the mapping is queued with the next
	// switch, instead of at a fault. The mmap system call asks it; the
	// kernel's own mappings (the loader's, the vDSO's) are prefaulted
	// at exec.
	Prefault bool
	Object   memmap.Mappable // nil for anonymous memory
	Pgoff    uint64
	Name     string
	Dev, Ino uint64
}

// ProtFromLinux converts PROT_* bits. PROT_WRITE implies read on x86, and
// readable memory is executable unless the CPU enforces NX — the platforms
// do, so exec stays as asked.
func ProtFromLinux(p uint64) platform.Access {
	var a platform.Access
	if p&unix.PROT_READ != 0 {
		a |= platform.Read
	}
	if p&unix.PROT_WRITE != 0 {
		a |= platform.Write | platform.Read
	}
	if p&unix.PROT_EXEC != 0 {
		a |= platform.Exec | platform.Read
	}
	return a
}

// Mmap creates a mapping and returns its address.
func (m *MM) Mmap(o MmapOpts) (uint64, error) {
	if o.Length == 0 {
		return 0, unix.EINVAL
	}
	// A length that rounds past the top, or is larger than the address
	// space, is ENOMEM, as Linux's do_mmap.
	length, ok := arch.PageRoundUp(o.Length)
	if !ok || length == 0 || length > m.layout.MaxAddr {
		return 0, unix.ENOMEM
	}
	maxProt := o.MaxProt
	if maxProt == 0 {
		maxProt = platform.Read | platform.Write | platform.Exec
	}
	if o.Prot&^maxProt != 0 {
		return 0, unix.EACCES
	}
	if o.Object != nil && o.Pgoff+length>>arch.PageShift < o.Pgoff {
		return 0, unix.EOVERFLOW
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.vmas) > MaxMapCount {
		return 0, unix.ENOMEM // as Linux's do_mmap
	}
	addr := o.Addr
	if o.Fixed || o.NoReplace {
		if addr&arch.PageMask != 0 {
			return 0, unix.EINVAL
		}
		if addr+length < addr || addr+length > m.layout.MaxAddr || addr < m.layout.MinAddr {
			if o.NoReplace {
				return 0, unix.ENOMEM
			}
			return 0, unix.ENOMEM
		}
		if o.NoReplace && m.overlapsLocked(addr, addr+length) {
			return 0, unix.EEXIST
		}
		if o.Fixed {
			if m.sealedLocked(addr, addr+length) {
				return 0, unix.EPERM
			}
			rt, rd := m.sizesInLocked(addr, addr+length)
			if !m.mayExpandLocked(length, isData(o.Prot, o.Shared, o.GrowsDown), rt, rd) {
				return 0, unix.ENOMEM
			}
			if err := m.splitRoomLocked(addr, addr+length, true); err != nil {
				return 0, err
			}
			m.unmapLocked(addr, addr+length)
		} else if !m.mayExpandLocked(length, isData(o.Prot, o.Shared, o.GrowsDown), 0, 0) {
			return 0, unix.ENOMEM
		}
	} else if !m.mayExpandLocked(length, isData(o.Prot, o.Shared, o.GrowsDown), 0, 0) {
		return 0, unix.ENOMEM
	} else if o.Low2G {
		a, err := m.findFreeInLocked(arch.PageRoundDown(addr), length, low2GStart, low2GEnd)
		if err != nil {
			return 0, err
		}
		addr = a
	} else {
		a, err := m.findFreeLocked(arch.PageRoundDown(addr), length)
		if err != nil {
			return 0, err
		}
		addr = a
	}
	obj := o.Object
	if o.Shared && obj == nil {
		obj = NewAnonObject(m.mf, length>>arch.PageShift)
	}
	m.insertVMALocked(&VMA{Start: addr, End: addr + length, Prot: o.Prot, MaxProt: maxProt, Shared: o.Shared,
		GrowsDown: o.GrowsDown, CopyWhole: o.CopyWhole, Object: obj, Pgoff: o.Pgoff, Name: o.Name, Dev: o.Dev, Ino: o.Ino,
		Flags: m.defFlags})
	if i := m.vmas.find(addr); i >= 0 {
		v := m.vmas[i]
		// What is mapped here the program has not touched yet: where
		// the platform can, it waits for the touch or the next change
		// that must be in place (platform.AheadMapper).
		m.ahead = true
		switch {
		case o.CopyWhole && obj != nil && !o.Shared && o.Prot&platform.Write != 0 && length <= copyWholeMax:
			// A data segment is written at once (ld.so relocates it):
			// copy it now, while the mapping is queued with the next
			// switch, rather than at a fault. What the file lacks yet
			// faults.
			if v.End-v.Start <= copyWholeMax {
				m.copyFileVMALocked(v, addr)
			}
		case o.Prefault:
			m.prefaultMmapLocked(v, addr, addr+length)
			if o.CopyWhole && o.Fixed && i > 0 {
				m.prefaultELFHeadLocked(m.vmas[i-1], v, addr)
			}
		}
		m.ahead = false
	}
	return addr, nil
}

// prefaultMmapLocked maps, for a mapping [start, end) just made in v,
// what the program is about to touch: all of a small private anonymous
// writable mapping (ld.so's TLS block and a library's .bss, a malloc'd
// small area), backed now; the start of a private file mapping (a file is
// mapped to be read: ld.so.cache, git's objects and index, a library's
// text), with the pages the file has around it, read from the host if the
// first is not cached; and all of a small readable shared mapping (the Go
// toolchain maps hundreds of its build cache's files shared, a page or a
// few each, and reads each at once). Each would otherwise be a fault, a
// platform round trip, where the mappings made here go out with the next
// switch's batch. It is only an optimization: what it leaves, faults.
func (m *MM) prefaultMmapLocked(v *VMA, start, end uint64) {
	switch {
	case v.Shared:
		if end-start <= faultRun && v.Prot&platform.Read != 0 {
			m.mapSharedLocked(v, start, end, true, noPage)
		}
	case v.Object == nil:
		if v.Prot&platform.Write != 0 && end-start <= faultRun {
			m.backLocked(v, start, end)
			v.untouched = true
		}
	case v.Prot&(platform.Read|platform.Exec) != 0:
		// Only inside the new mapping, though v may have merged with a
		// neighbour: ld.so's rodata segment joins the rest of its
		// reservation, which the data segment replaces next.
		m.mapFileWindowLocked(v, start, start, min(start+faultRun, end), start, end)
	}
}

func (m *MM) overlapsLocked(start, end uint64) bool {
	i := m.vmas.firstEndingAfter(start)
	return i < len(m.vmas) && m.vmas[i].Start < end
}

// findFreeLocked picks an address for a mapping of length bytes: the hint if
// it is free, else top-down from MmapBase, else bottom-up above it.
func (m *MM) findFreeLocked(hint, length uint64) (uint64, error) {
	if hint >= m.layout.MinAddr && hint+length > hint && hint+length <= m.layout.MaxAddr && !m.overlapsLocked(hint, hint+length) {
		return hint, nil
	}
	// Top-down: the highest gap below MmapBase.
	top := m.layout.MmapBase
	i := m.vmas.firstEndingAfter(top)
	for {
		// Gap is [prevEnd, top) where prevEnd is the end of VMA i-1.
		var prevEnd uint64 = m.layout.MinAddr
		if i > 0 {
			prevEnd = m.vmas[i-1].End
		}
		if i < len(m.vmas) && m.vmas[i].Start < top {
			top = m.vmas[i].Start
		}
		if top >= prevEnd+length && top-length >= m.layout.MinAddr {
			return top - length, nil
		}
		if i == 0 {
			break
		}
		i--
		top = m.vmas[i].Start
	}
	// Bottom-up above MmapBase.
	start := m.layout.MmapBase
	for j := m.vmas.firstEndingAfter(start); ; j++ {
		end := m.layout.MaxAddr
		if j < len(m.vmas) {
			end = m.vmas[j].Start
		}
		if end >= start+length && start+length > start {
			return start, nil
		}
		if j >= len(m.vmas) {
			return 0, unix.ENOMEM
		}
		start = m.vmas[j].End
	}
}

// The range MAP_32BIT mappings go in on x86-64 (Linux's find_start_end).
const (
	low2GStart = 0x40000000
	low2GEnd   = 0x80000000
)

// findFreeInLocked picks an address for a mapping of length bytes inside
// [lo, hi): the hint if it is free and fits there, else the lowest gap.
func (m *MM) findFreeInLocked(hint, length, lo, hi uint64) (uint64, error) {
	lo = max(lo, m.layout.MinAddr)
	hi = min(hi, m.layout.MaxAddr)
	if length > hi-lo || lo >= hi {
		return 0, unix.ENOMEM
	}
	if hint >= lo && hint+length > hint && hint+length <= hi && !m.overlapsLocked(hint, hint+length) {
		return hint, nil
	}
	start := lo
	for j := m.vmas.firstEndingAfter(start); ; j++ {
		end := hi
		if j < len(m.vmas) && m.vmas[j].Start < hi {
			end = m.vmas[j].Start
		}
		if end >= start+length {
			return start, nil
		}
		if j >= len(m.vmas) || m.vmas[j].End >= hi {
			return 0, unix.ENOMEM
		}
		start = max(start, m.vmas[j].End)
	}
}

// Munmap removes mappings in [addr, addr+length).
func (m *MM) Munmap(addr, length uint64) error {
	if addr&arch.PageMask != 0 || length == 0 {
		return unix.EINVAL
	}
	length, ok := arch.PageRoundUp(length)
	if !ok || addr+length < addr || addr+length > m.layout.MaxAddr {
		return unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sealedLocked(addr, addr+length) {
		return unix.EPERM
	}
	if err := m.splitRoomLocked(addr, addr+length, true); err != nil {
		return err
	}
	m.unmapLocked(addr, addr+length)
	return nil
}

// unmapLocked drops VMAs, private pages and platform mappings in range:
// first out of the address space, then the pages and the objects' mappings.
func (m *MM) unmapLocked(start, end uint64) {
	if !m.overlapsLocked(start, end) {
		return
	}
	gone := m.cutVMAsLocked(start, end)
	offs := m.takePagesLocked(start, end)
	m.unmapASLocked(start, end-start)
	if len(offs) > 0 {
		m.mf.DecRef(offs...)
	}
	m.releaseVMAsLocked(gone)
}

// takePagesLocked removes the private pages in [start, end) from the MM
// and returns them, still referenced: the caller drops the references once
// the range is out of the address space.
func (m *MM) takePagesLocked(start, end uint64) []int64 {
	m.clearPoisonLocked(start, end)
	var offs []int64
	if uint64(len(m.pages)) < (end-start)>>arch.PageShift {
		for a, off := range m.pages {
			if a >= start && a < end {
				offs = append(offs, off)
				delete(m.pages, a)
			}
		}
	} else {
		for a := start; a < end; a += arch.PageSize {
			if off, ok := m.pages[a]; ok {
				offs = append(offs, off)
				delete(m.pages, a)
			}
		}
	}
	return offs
}

// Mprotect changes the rights of [addr, addr+length); every page in the
// range must be mapped.
func (m *MM) Mprotect(addr, length uint64, prot platform.Access, growsDown bool) error {
	if addr&arch.PageMask != 0 {
		return unix.EINVAL
	}
	length, ok := arch.PageRoundUp(length)
	if !ok || addr+length < addr {
		return unix.ENOMEM
	}
	if length == 0 {
		return nil
	}
	end := addr + length
	m.mu.Lock()
	defer m.mu.Unlock()
	if growsDown {
		// PROT_GROWSDOWN extends the change to the start of a stack
		// mapping, and is refused on any other.
		i := m.vmas.find(addr)
		if i < 0 {
			return unix.ENOMEM
		}
		if !m.vmas[i].GrowsDown {
			return unix.EINVAL
		}
		addr = m.vmas[i].Start
	}
	// Every page must be covered, and by a mapping that may take the new
	// rights. A sealed mapping stops the change there (EPERM), as Linux's
	// mprotect_fixup does: what precedes it has changed already.
	var sealed error
	for a := addr; a < end; {
		i := m.vmas.find(a)
		if i < 0 {
			return unix.ENOMEM
		}
		if prot&^m.vmas[i].MaxProt != 0 {
			return unix.EACCES
		}
		if m.vmas[i].Flags&Sealed != 0 {
			sealed, end = unix.EPERM, a
			break
		}
		a = m.vmas[i].End
	}
	if end == addr {
		return sealed
	}
	if err := m.splitRoomLocked(addr, end, false); err != nil {
		return err
	}
	m.splitAtLocked(addr)
	m.splitAtLocked(end)
	for i := m.vmas.firstEndingAfter(addr); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
		m.vmas[i].Prot = prot
	}
	m.coalesceLocked(addr, end)
	// Drop the platform mappings, at once: no thread may keep rights it
	// lost. The process's own pages come back with the new rights in the
	// next batch (a program usually touches them soon, as after marking its
	// relocations read-only, and a fault costs more); the rest maps as it
	// faults.
	//
	// A lone thread, stopped here, runs again only after that batch:
	// when the process's own pages are all the range maps (ld.so's
	// RELRO, which it copied whole and relocated), mapping them again
	// with the new rights replaces the old mappings in time, and the
	// synchronous unmap (a platform round trip) is not needed.
	if m.users != 1 || prot&(platform.Read|platform.Write|platform.Exec) == 0 || !m.mapsOnlyPrivateLocked(addr, end) {
		m.unmapASLocked(addr, end-addr)
	}
	if prot&(platform.Read|platform.Write|platform.Exec) != 0 {
		for i := m.vmas.firstEndingAfter(addr); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
			if v := m.vmas[i]; !v.Shared {
				m.mapPagesLocked(v, m.presentInLocked(max(v.Start, addr), min(v.End, end)))
			}
		}
	}
	return sealed // nil, or EPERM for the sealed mapping the change stopped at
}

// prefaultELFHeadLocked maps the start of a library's first segment when
// ld.so maps its second (v, at start) over its reservation: the first
// segment is what is left of the reservation below (w: the same file,
// from its first page), never replaced, and ld.so reads its symbol and
// relocation tables next (one fault a library otherwise).
func (m *MM) prefaultELFHeadLocked(w, v *VMA, start uint64) {
	if w.End != start || w.Object != v.Object || w.Pgoff != 0 || w.Shared ||
		w.Prot&platform.Read == 0 || m.asMapped.contains(w.Start) {
		return
	}
	m.mapFileWindowLocked(w, w.Start, w.Start, min(w.Start+faultRun, w.End), w.Start, w.End)
}

// backLocked gives the pages of [start, end) (inside v, private
// anonymous) that have none a fresh page each and maps them, unless
// memory is short: then it leaves them to their faults.
func (m *MM) backLocked(v *VMA, start, end uint64) {
	var missing []uint64
	for a := start; a < end; a += arch.PageSize {
		if _, ok := m.pages[a]; !ok {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 || m.mf.PagesLeft() < 2*int64(len(missing)) {
		return
	}
	offs, err := m.mf.Allocate(len(missing))
	if err != nil {
		return
	}
	for i, a := range missing {
		m.pages[a] = offs[i]
		m.notePeakLocked()
	}
	m.mapPagesLocked(v, missing)
}

// mapsOnlyPrivateLocked reports whether every page the address space maps
// in [start, end) is one of the MM's private pages.
func (m *MM) mapsOnlyPrivateLocked(start, end uint64) bool {
	for _, r := range m.asMapped {
		if r.end <= start || r.start >= end {
			continue
		}
		for a := max(r.start, start); a < min(r.end, end); a += arch.PageSize {
			if _, ok := m.pages[a]; !ok {
				return false
			}
		}
	}
	return true
}

// SetBrkStart fixes where the heap begins (after the executable's data).
func (m *MM) SetBrkStart(addr uint64) {
	m.mu.Lock()
	m.brkStart, m.brk = addr, addr
	m.mu.Unlock()
}

// Brk moves the program break and returns the new one (the old one when
// the request cannot be met, as Linux does).
func (m *MM) Brk(addr uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if addr < m.brkStart {
		return m.brk
	}
	oldEnd, _ := arch.PageRoundUp(m.brk)
	newEnd, ok := arch.PageRoundUp(addr)
	if !ok || newEnd > m.layout.MaxAddr {
		return m.brk
	}
	switch {
	case newEnd > oldEnd:
		if m.overlapsLocked(oldEnd, newEnd) || !m.mayExpandLocked(newEnd-oldEnd, true, 0, 0) || len(m.vmas) > MaxMapCount {
			return m.brk
		}
		m.insertVMALocked(&VMA{Start: oldEnd, End: newEnd, Prot: platform.Read | platform.Write,
			MaxProt: platform.Read | platform.Write | platform.Exec, Name: "[heap]", Flags: m.defFlags})
		// A program grows its heap to use it: back and map the start of
		// the new part now, sparing it the fault (a fault costs far more
		// than pages that are mapped but never touched, which the host
		// does not even allocate). Failure just leaves it to the fault.
		// It is no touch of the program's: the fault after it must not
		// count as continuing a sequential run and grow the window (a
		// heap the program barely uses would take a large one, and
		// every fork would copy it).
		if i := m.vmas.find(oldEnd); i >= 0 {
			m.populateLocked(m.vmas[i], oldEnd, true)
			m.vmas[i].fa = faultAround{}
		}
	case newEnd < oldEnd:
		m.unmapLocked(newEnd, oldEnd)
	}
	m.brk = addr
	return addr
}

// Mremap resizes or moves a mapping; it returns the new address.
func (m *MM) Mremap(oldAddr, oldSize, newSize uint64, mayMove, fixed bool, newAddr uint64) (uint64, error) {
	if oldAddr&arch.PageMask != 0 {
		return 0, unix.EINVAL
	}
	oldSize, ok1 := arch.PageRoundUp(oldSize)
	newSize, ok := arch.PageRoundUp(newSize)
	if !ok || !ok1 || newSize == 0 || (fixed && !mayMove) || oldAddr+oldSize < oldAddr {
		return 0, unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, err := m.mremapSourceLocked(oldAddr, oldSize)
	if err != nil {
		return 0, err
	}
	if fixed {
		if err := m.mremapTargetLocked(oldAddr, oldSize, newAddr, newSize); err != nil {
			return 0, err
		}
		return m.moveLocked(v, oldAddr, oldSize, newAddr, newSize)
	}
	if newSize <= oldSize {
		if err := m.splitRoomLocked(oldAddr+newSize, oldAddr+oldSize, true); err != nil {
			return 0, err
		}
		m.unmapLocked(oldAddr+newSize, oldAddr+oldSize)
		return oldAddr, nil
	}
	if !m.mayExpandLocked(newSize-oldSize, isData(v.Prot, v.Shared, v.GrowsDown), 0, 0) {
		return 0, unix.ENOMEM
	}
	// Grow in place when the VMA ends here and the space after is free.
	if v.End == oldAddr+oldSize && oldAddr+newSize > oldAddr && oldAddr+newSize <= m.layout.MaxAddr &&
		!m.overlapsLocked(v.End, oldAddr+newSize) {
		w := *v
		w.Start, w.End = v.End, oldAddr+newSize
		if w.Object != nil {
			w.Pgoff = v.objectIndex(v.End)
		}
		m.insertVMALocked(&w)
		return oldAddr, nil
	}
	if !mayMove {
		return 0, unix.ENOMEM
	}
	dst, err := m.findFreeLocked(0, newSize)
	if err != nil {
		return 0, err
	}
	return m.moveLocked(v, oldAddr, oldSize, dst, newSize)
}

// MremapDontUnmap is mremap with MREMAP_DONTUNMAP (and MREMAP_MAYMOVE):
// the size-byte range at oldAddr moves, pages and all, to a new address
// (newAddr with fixed, else one found free), and the old range stays
// mapped as it was, empty: anonymous memory reads zeros there again, a
// file mapping the file. Linux allows it only for a move of the same size.
func (m *MM) MremapDontUnmap(oldAddr, size uint64, fixed bool, newAddr uint64) (uint64, error) {
	if oldAddr&arch.PageMask != 0 {
		return 0, unix.EINVAL
	}
	size, ok := arch.PageRoundUp(size)
	if !ok || size == 0 || oldAddr+size < oldAddr {
		return 0, unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, err := m.mremapSourceLocked(oldAddr, size)
	if err != nil {
		return 0, err
	}
	dst := newAddr
	if fixed {
		if err := m.mremapTargetLocked(oldAddr, size, newAddr, size); err != nil {
			return 0, err
		}
	} else if dst, err = m.findFreeLocked(0, size); err != nil {
		return 0, err
	}
	stay := *v
	stay.Start, stay.End = oldAddr, oldAddr+size
	if stay.Object != nil {
		stay.Pgoff = v.objectIndex(oldAddr)
	}
	stay.Flags &^= Locked | LockOnFault // the lock goes with the pages
	if _, err := m.moveLocked(v, oldAddr, size, dst, size); err != nil {
		return 0, err
	}
	m.insertVMALocked(&stay)
	return dst, nil
}

// mremapSourceLocked is the mapping mremap moves or resizes: EFAULT
// unless one VMA holds the whole old range, EPERM if it is sealed.
func (m *MM) mremapSourceLocked(oldAddr, oldSize uint64) (*VMA, error) {
	i := m.vmas.find(oldAddr)
	if i < 0 || m.vmas[i].End < oldAddr+oldSize {
		return nil, unix.EFAULT
	}
	if m.vmas[i].Flags&Sealed != 0 {
		return nil, unix.EPERM
	}
	return m.vmas[i], nil
}

// mremapTargetLocked checks and clears MREMAP_FIXED's destination:
// EINVAL if it is unaligned, past the user range or overlaps the source,
// EPERM if sealed; what was mapped there is unmapped.
func (m *MM) mremapTargetLocked(oldAddr, oldSize, newAddr, newSize uint64) error {
	if newAddr&arch.PageMask != 0 || newAddr+newSize < newAddr || newAddr+newSize > m.layout.MaxAddr ||
		newAddr < oldAddr+oldSize && oldAddr < newAddr+newSize {
		return unix.EINVAL
	}
	if m.sealedLocked(newAddr, newAddr+newSize) {
		return unix.EPERM
	}
	if len(m.vmas)+2 >= MaxMapCount-3 {
		return unix.ENOMEM // as Linux's mremap_to, before the target goes
	}
	m.unmapLocked(newAddr, newAddr+newSize)
	return nil
}

// moveLocked moves [oldAddr, +oldSize) of v to newAddr, sized newSize; the
// private pages move with it without copying.
func (m *MM) moveLocked(v *VMA, oldAddr, oldSize, newAddr, newSize uint64) (uint64, error) {
	if len(m.vmas) >= MaxMapCount-3 {
		return 0, unix.ENOMEM // as Linux's move_vma: it may split the source
	}
	w := *v
	w.Start, w.End = newAddr, newAddr+newSize
	if w.Object != nil {
		w.Pgoff = v.objectIndex(oldAddr)
	}
	moved := make(map[uint64]int64)
	var dropped []int64
	for _, a := range m.presentInLocked(oldAddr, oldAddr+oldSize) {
		off := m.pages[a]
		delete(m.pages, a)
		if a-oldAddr < newSize {
			moved[newAddr+(a-oldAddr)] = off
		} else {
			dropped = append(dropped, off)
		}
	}
	gone := m.cutVMAsLocked(oldAddr, oldAddr+oldSize)
	m.unmapASLocked(oldAddr, oldSize)
	if len(dropped) > 0 {
		m.mf.DecRef(dropped...)
	}
	// The new VMA registers with the object before the old ones let go,
	// so that the object never sees itself unmapped.
	m.insertVMALocked(&w)
	m.releaseVMAsLocked(gone)
	for a, off := range moved {
		m.pages[a] = off
		m.notePeakLocked()
	}
	return newAddr, nil
}

// MadviseDontNeed drops private pages in range: the next touch sees zeros
// (or the file's contents); the memory goes back to the host.
func (m *MM) MadviseDontNeed(addr, length uint64) error {
	if addr&arch.PageMask != 0 {
		return unix.EINVAL
	}
	length, ok := arch.PageRoundUp(length)
	if !ok || addr+length < addr {
		return unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.coveredLocked(addr, addr+length) {
		return unix.ENOMEM
	}
	offs := m.takePagesLocked(addr, addr+length)
	m.unmapASLocked(addr, length)
	if len(offs) > 0 {
		m.mf.DecRef(offs...)
	}
	return nil
}

// coveredLocked reports whether every page of [start, end) is in a VMA.
func (m *MM) coveredLocked(start, end uint64) bool {
	for a := start; a < end; {
		i := m.vmas.find(a)
		if i < 0 {
			return false
		}
		a = m.vmas[i].End
	}
	return true
}

// Mincore fills vec with one byte per page from addr: 1 when the page is
// resident. The caller bounds len(vec) (mincore works in chunks).
func (m *MM) Mincore(addr uint64, vec []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var v *VMA
	for i := range vec {
		a := addr + uint64(i)<<arch.PageShift
		if v == nil || a >= v.End {
			j := m.vmas.find(a)
			if j < 0 {
				return unix.ENOMEM
			}
			v = m.vmas[j]
		}
		_, own := m.pages[a]
		switch {
		case own && !v.Shared:
			own = !v.untouched
		case v.Object != nil:
			// A file's page (or a shared object's) is resident when
			// its cache holds it, whoever brought it in.
			_, own = peekPage(v, v.objectIndex(a))
		}
		vec[i] = 0
		if own {
			vec[i] = 1
		}
	}
	return nil
}

// Populate makes the pages of [addr, addr+length) resident, as mlock and
// MAP_POPULATE do: a private mapping's own pages backed (anonymous memory)
// or its file's pages read in, a shared mapping's object's pages
// allocated, and all of them mapped. What cannot be (memory short, a
// page past the end of a file) is left to its fault, as Linux's
// __mm_populate leaves it.
func (m *MM) Populate(addr, length uint64) {
	end, ok := arch.PageRoundUp(addr + length)
	if !ok || addr+length < addr {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for a := arch.PageRoundDown(addr); a < end; {
		i := m.vmas.find(a)
		if i < 0 {
			if j := m.vmas.firstEndingAfter(a); j < len(m.vmas) && m.vmas[j].Start < end {
				a = m.vmas[j].Start
				continue
			}
			return
		}
		v := m.vmas[i]
		v.untouched = false
		stop := min(end, v.End)
		if v.Prot&(platform.Read|platform.Write|platform.Exec) == 0 || v.Userfault != nil {
			a = stop
			continue
		}
		for ; a < stop; a += arch.PageSize {
			if _, ok := m.pages[a]; ok && !v.Shared {
				continue
			}
			if v.Shared || v.Object != nil {
				if _, held := peekPage(v, v.objectIndex(a)); held {
					continue
				}
			}
			if m.populateLocked(v, a, false) != nil {
				break
			}
		}
		a = stop
	}
}

// WritableLen returns how many of the n bytes at addr lie, from addr on
// without a gap, in mappings the program may write: what a read into that
// buffer can fill. A read checks it first, so that it takes from a file
// or stream no more than it can deliver (Linux copies as it reads and
// stops at the first fault, leaving the rest unread).
func (m *MM) WritableLen(addr, n uint64) uint64 { return m.accessibleLen(addr, n, platform.Write) }

// ReadableLen is WritableLen for a buffer the program may read: what a
// write from it can take (Linux writes the bytes before the first fault).
func (m *MM) ReadableLen(addr, n uint64) uint64 { return m.accessibleLen(addr, n, platform.Read) }

func (m *MM) accessibleLen(addr, n uint64, want platform.Access) uint64 {
	if n == 0 {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	end := addr + n
	if end < addr {
		end = ^uint64(0)
	}
	at := addr
	for at < end {
		i := m.vmas.find(at)
		if i < 0 {
			if !m.growStackLocked(arch.PageRoundDown(at)) {
				break
			}
			i = m.vmas.find(at)
		}
		v := m.vmas[i]
		if v.Prot&want == 0 {
			break
		}
		at = v.End
	}
	return min(at, end) - addr
}

// Mapped reports whether every page of [addr, addr+length) is mapped (msync,
// mlock and friends fail with ENOMEM otherwise).
func (m *MM) Mapped(addr, length uint64) bool {
	end, ok := arch.PageRoundUp(addr + length)
	if !ok || addr+length < addr {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.coveredLocked(arch.PageRoundDown(addr), end)
}

// VMAs returns a snapshot of the areas, for /proc/PID/maps.
func (m *MM) VMAs() []VMA {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]VMA, len(m.vmas))
	for i, v := range m.vmas {
		out[i] = *v
	}
	return out
}

// DetachObject removes the attachment that starts at addr of an object
// that match accepts (shmdt): the VMA beginning there with page offset 0,
// and every later VMA of the same object that continues it in place. It
// returns the object, or EINVAL when no such attachment starts at addr.
func (m *MM) DetachObject(addr uint64, match func(memmap.Mappable) bool) (memmap.Mappable, error) {
	if addr&arch.PageMask != 0 {
		return nil, unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.vmas.find(addr)
	if i < 0 || m.vmas[i].Start != addr || m.vmas[i].Object == nil || m.vmas[i].Pgoff != 0 || !match(m.vmas[i].Object) {
		return nil, unix.EINVAL
	}
	obj := m.vmas[i].Object
	end := m.vmas[i].End
	// A segment mprotected in parts is several VMAs; they go together.
	for j := i + 1; j < len(m.vmas); j++ {
		v := m.vmas[j]
		if v.Object != obj || v.Start != end || v.Pgoff != (v.Start-addr)>>arch.PageShift {
			break
		}
		end = v.End
	}
	m.unmapLocked(addr, end)
	return obj, nil
}
