package mm

import (
	"sort"

	"uk/arch"
	"uk/platform"
)

// Mappable is memory that several mappings can share page by page: the
// pages of a MAP_SHARED anonymous region, or of a tmpfs file.
type Mappable interface {
	// PageAt returns the memory-file offset of page index of the object,
	// allocating a zeroed page when the object has none there yet. The
	// object keeps its own reference; callers that keep the offset beyond
	// the object's life must IncRef it.
	PageAt(index uint64) (int64, error)
}

// VMA is one virtual memory area: a page-aligned range with uniform rights
// and backing, as /proc/self/maps shows.
type VMA struct {
	Start, End uint64
	Prot       platform.Access
	// Shared means writes are seen by every mapping of Object (MAP_SHARED).
	// Otherwise the mapping is private: pages written are copied into the
	// MM's own pages.
	Shared    bool
	GrowsDown bool
	// Object backs the VMA page by page when non-nil; page i of the VMA
	// is page Pgoff+i of Object. Private VMAs without an Object are
	// anonymous memory.
	Object Mappable
	Pgoff  uint64
	// Name is shown in /proc/PID/maps: "[heap]", "[stack]", a path.
	Name string
	// Dev, Ino identify a file-backed mapping for /proc/PID/maps.
	Dev, Ino uint64
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

// splitAt makes sure no VMA straddles addr.
func (s *vmaSet) splitAt(addr uint64) {
	i := s.find(addr)
	if i < 0 || (*s)[i].Start == addr {
		return
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
}

// remove deletes VMAs fully inside [start, end) (after splitAt on both ends)
// and returns them.
func (s *vmaSet) remove(start, end uint64) []*VMA {
	s.splitAt(start)
	s.splitAt(end)
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
	if a.End != b.Start || a.Prot != b.Prot || a.Shared != b.Shared || a.GrowsDown != b.GrowsDown ||
		a.Name != b.Name || a.Object != b.Object || a.Dev != b.Dev || a.Ino != b.Ino {
		return false
	}
	return a.Object == nil || a.objectIndex(a.End) == b.Pgoff
}

// coalesce merges neighbours around [start, end) where possible.
func (s *vmaSet) coalesce(start, end uint64) {
	i := s.firstEndingAfter(start)
	if i > 0 {
		i--
	}
	for i+1 < len(*s) && (*s)[i].Start <= end {
		if mergeable((*s)[i], (*s)[i+1]) {
			(*s)[i].End = (*s)[i+1].End
			*s = append((*s)[:i+1], (*s)[i+2:]...)
			continue
		}
		i++
	}
}
