package mm

import (
	"sort"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memmap"
	"uk/platform"
)

// VMA is one virtual memory area: a page-aligned range with uniform rights
// and backing, as /proc/self/maps shows.
type VMA struct {
	Start, End uint64
	Prot       platform.Access
	// MaxProt is the most Prot may become (Linux's VM_MAYREAD, VM_MAYWRITE,
	// VM_MAYEXEC): fixed at mmap from the object and the file's open mode;
	// mprotect beyond it is EACCES. Prot is always within MaxProt.
	MaxProt platform.Access
	// Shared means writes are seen by every mapping of Object (MAP_SHARED).
	// Otherwise the mapping is private: pages written are copied into the
	// MM's own pages.
	Shared    bool
	GrowsDown bool
	// Object backs the VMA page by page when non-nil; page i of the VMA
	// is page Pgoff+i of Object. Private VMAs without an Object are
	// anonymous memory. Each VMA with an Object is one registered mapping
	// of it (memmap.Mappable.AddMapping) for as long as it exists.
	Object memmap.Mappable
	Pgoff  uint64
	// CopyWhole asks that a small writable private file mapping be
	// copied whole when it is made (Mmap) or at its first fault (an ELF
	// data segment; see copyWholeMax), and a bigger one a fault window
	// at a time (copyFileWindowLocked).
	CopyWhole bool
	// Name is shown in /proc/PID/maps: "[heap]", "[stack]", a path.
	Name string
	// Dev, Ino identify a file-backed mapping for /proc/PID/maps.
	Dev, Ino uint64
	// Flags are the madvise and mlock attributes (VMAFlags).
	Flags VMAFlags
	// Userfault is the userfaultfd the VMA is registered with, in
	// UserfaultMode (userfault.go); nil: none.
	Userfault     Userfault
	UserfaultMode uint8
	// Policy is the NUMA policy mbind gave the range (the zero policy:
	// none, the task's applies).
	Policy MemPolicy

	fa faultAround // private anonymous memory: the last fault window
	// untouched: the private pages mmap backed ahead of any touch
	// (prefaultMmapLocked) have not been asked for yet, by a fault, uk's
	// own access or a lock; mincore reports them not resident, as Linux
	// reports memory nothing touched. A program's plain writes to them
	// go unseen: mincore then still says 0 until something else touches
	// the area.
	untouched bool
}

// objectIndex is the page index within v.Object of the page at addr.
func (v *VMA) objectIndex(addr uint64) uint64 {
	return v.Pgoff + (addr-v.Start)>>arch.PageShift
}

// vmaSet keeps VMAs sorted by Start, non-overlapping.
type vmaSet []*VMA

// find returns the index of the VMA containing addr, or -1.
func (s vmaSet) find(addr uint64) int {
	i := sort.Search(len(s), func(i int) bool { return s[i].End > addr })
	if i < len(s) && s[i].Start <= addr {
		return i
	}
	return -1
}

// firstEndingAfter returns the index of the first VMA whose End is above addr.
func (s vmaSet) firstEndingAfter(addr uint64) int {
	return sort.Search(len(s), func(i int) bool { return s[i].End > addr })
}

// splitAt makes sure no VMA straddles addr; it returns the VMA it made
// (the upper part of the one it split), or nil.
func (s *vmaSet) splitAt(addr uint64) *VMA {
	i := s.find(addr)
	if i < 0 || (*s)[i].Start == addr {
		return nil
	}
	v := (*s)[i]
	w := *v
	w.Start = addr
	if w.Object != nil {
		w.Pgoff = v.objectIndex(addr)
	}
	v.End = addr
	*s = append(*s, nil)
	copy((*s)[i+2:], (*s)[i+1:])
	(*s)[i+1] = &w
	return &w
}

// cut deletes the VMAs inside [start, end), which must not straddle start
// or end (splitAt both first), and returns them.
func (s *vmaSet) cut(start, end uint64) []*VMA {
	i := s.firstEndingAfter(start)
	j := i
	for j < len(*s) && (*s)[j].Start < end {
		j++
	}
	removed := append([]*VMA(nil), (*s)[i:j]...)
	*s = append((*s)[:i], (*s)[j:]...)
	return removed
}

// insert adds v, which must not overlap any VMA.
func (s *vmaSet) insert(v *VMA) {
	i := s.firstEndingAfter(v.Start)
	*s = append(*s, nil)
	copy((*s)[i+1:], (*s)[i:])
	(*s)[i] = v
}

// mergeable reports whether a and b (adjacent, a before b) can be one VMA.
func mergeable(a, b *VMA) bool {
	if a.End != b.Start || a.Prot != b.Prot || a.MaxProt != b.MaxProt || a.CopyWhole != b.CopyWhole || a.Shared != b.Shared || a.GrowsDown != b.GrowsDown ||
		a.Name != b.Name || a.Object != b.Object || a.Dev != b.Dev || a.Ino != b.Ino || a.Flags != b.Flags ||
		a.Userfault != b.Userfault || a.UserfaultMode != b.UserfaultMode || a.Policy != b.Policy {
		return false
	}
	return a.Object == nil || a.objectIndex(a.End) == b.Pgoff
}

// coalesce merges neighbours around [start, end) where possible and
// returns the VMAs merged away.
func (s *vmaSet) coalesce(start, end uint64) []*VMA {
	var gone []*VMA
	i := s.firstEndingAfter(start)
	if i > 0 {
		i--
	}
	for i+1 < len(*s) && (*s)[i].Start <= end {
		if mergeable((*s)[i], (*s)[i+1]) {
			gone = append(gone, (*s)[i+1])
			(*s)[i].End = (*s)[i+1].End
			(*s)[i].untouched = (*s)[i].untouched && (*s)[i+1].untouched
			*s = append((*s)[:i+1], (*s)[i+2:]...)
			continue
		}
		i++
	}
	return gone
}

// MaxMapCount is vm.max_map_count, the most VMAs an address space may
// have, as Linux's default: an edit that would split past it fails with
// ENOMEM. Besides matching Linux, it bounds what uk holds for a program
// that maps page after page with alternating rights (4 million VMAs took
// uk past 2.6 GB).
const MaxMapCount = 65530

// splitRoomLocked fails with ENOMEM when splitting the VMAs that straddle
// start or end would take the set past MaxMapCount (Linux's __split_vma:
// each split needs map_count below the limit). With cut, the range's
// VMAs go too, so the set grows only when the range lies inside one VMA
// (Linux's munmap checks just that case).
func (m *MM) splitRoomLocked(start, end uint64, cut bool) error {
	n := 0
	i := m.vmas.find(start)
	if i >= 0 && m.vmas[i].Start != start {
		n++
	}
	j := m.vmas.find(end)
	if j >= 0 && m.vmas[j].Start != end {
		n++
	}
	if cut {
		n = 0
		if i >= 0 && i == j && m.vmas[i].Start != start {
			n = 1
		}
	}
	if n > 0 && len(m.vmas)+n > MaxMapCount {
		return unix.ENOMEM
	}
	return nil
}

// The MM's wrappers of the vmaSet edits keep each VMA's registration with
// its object (memmap.Mappable.AddMapping) in step with the VMA's life.

// insertVMALocked adds v (which must not overlap any VMA) as a mapping of
// its object and merges it with its neighbours.
func (m *MM) insertVMALocked(v *VMA) {
	if v.Object != nil {
		v.Object.AddMapping(m)
	}
	m.vmas.insert(v)
	m.coalesceLocked(v.Start, v.End)
}

// splitAtLocked makes sure no VMA straddles addr.
func (m *MM) splitAtLocked(addr uint64) {
	if w := m.vmas.splitAt(addr); w != nil && w.Object != nil {
		w.Object.AddMapping(m)
	}
}

// coalesceLocked merges VMAs around [start, end) where possible. A merged
// VMA maps the same object as the one it joins, so the object keeps a
// mapping and is not freed here.
func (m *MM) coalesceLocked(start, end uint64) {
	for _, v := range m.vmas.coalesce(start, end) {
		if v.Object != nil {
			v.Object.RemoveMapping(m)
		}
	}
}

// cutVMAsLocked takes the VMAs of [start, end) out of the set (splitting
// those that straddle it) and returns them. They are still registered
// with their objects: the caller unmaps the range from the address space
// and then calls releaseVMAsLocked.
func (m *MM) cutVMAsLocked(start, end uint64) []*VMA {
	m.splitAtLocked(start)
	m.splitAtLocked(end)
	return m.vmas.cut(start, end)
}

// releaseVMAsLocked drops the registrations of VMAs that are gone. Their
// pages must be unreachable in the address space already: the object may
// free them now.
func (m *MM) releaseVMAsLocked(vs []*VMA) {
	for _, v := range vs {
		if v.Object != nil {
			v.Object.RemoveMapping(m)
		}
	}
}
