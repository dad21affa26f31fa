package mm

import (
	"sync"
	"uk/arch"

	"uk/kernel/memfile"
	"uk/kernel/memmap"
)

// AnonObject is the memory behind a MAP_SHARED|MAP_ANONYMOUS mapping (and a
// SysV shared-memory segment): pages allocated on first touch, shared by
// every mapping of it (including those inherited across fork). Its pages
// live as long as it is mapped or held (Hold): when the last of those goes,
// they go back to the memory file.
type AnonObject struct {
	mf    *memfile.File
	npage uint64 // size in pages: PageAt past it fails

	maps memmap.MapperSet

	mu    sync.Mutex
	pages map[uint64]int64 // protected by mu
	holds int              // references other than mappings (a SysV segment's id); protected by mu
	freed bool             // the pages are gone for good; protected by mu
}

var _ memmap.Mappable = (*AnonObject)(nil)

// NewAnonObject returns an empty shared object of npages pages.
func NewAnonObject(mf *memfile.File, npages uint64) *AnonObject {
	return &AnonObject{mf: mf, npage: npages, pages: make(map[uint64]int64, min(npages, 1024))}
}

// Resident is how many of its pages exist.
func (o *AnonObject) Resident() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pages)
}

// PageAt implements memmap.Mappable.
func (o *AnonObject) PageAt(index uint64) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if index >= o.npage || o.freed {
		return 0, ErrFault
	}
	if off, ok := o.pages[index]; ok {
		return off, nil
	}
	offs, err := o.mf.Allocate(1)
	if err != nil {
		return 0, err
	}
	o.pages[index] = offs[0]
	return offs[0], nil
}

// ResidentIn implements memmap.ResidentCounter.
func (o *AnonObject) ResidentIn(first, end uint64) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return memmap.CountIn(o.pages, first, end)
}

// MapperCount implements memmap.ResidentCounter.
func (o *AnonObject) MapperCount() int { return o.maps.Len() }

// PeekPage implements memmap.PagePeeker.
func (o *AnonObject) PeekPage(index uint64) (int64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	off, ok := o.pages[index]
	return off, ok
}

// PunchHole frees the whole pages of [off, off+n) (MADV_REMOVE on shared
// anonymous memory or a System V segment): every mapping of them is
// invalidated first, and the next touch finds a fresh zero page, as a
// tmpfs file's hole (Linux's shmem).
func (o *AnonObject) PunchHole(off, n int64) { o.PunchHoleFor(o, off, n) }

// PunchHoleFor is PunchHole for an object that wraps o (a System V
// segment): the mappings of owner, which is what they map, are
// invalidated.
func (o *AnonObject) PunchHoleFor(owner memmap.Mappable, off, n int64) {
	if off < 0 || n <= 0 || off+n < off {
		return
	}
	first := uint64((off + arch.PageMask) >> arch.PageShift)
	last := min(uint64((off+n)>>arch.PageShift), o.npage)
	if first >= last {
		return
	}
	o.mu.Lock()
	var dead []int64
	for idx, p := range o.pages {
		if idx >= first && idx < last {
			dead = append(dead, p)
			delete(o.pages, idx)
		}
	}
	o.mu.Unlock()
	o.maps.Invalidate(owner, first, last, false)
	if len(dead) > 0 {
		o.mf.DecRef(dead...)
	}
}

// AddMapping implements memmap.Mappable.
func (o *AnonObject) AddMapping(m memmap.Mapper) { o.maps.Add(m) }

// RemoveMapping implements memmap.Mappable: the last mapping of an object
// nobody holds frees its pages.
func (o *AnonObject) RemoveMapping(m memmap.Mapper) {
	if o.maps.Remove(m) == 0 {
		o.freeIfUnused()
	}
}

// Mappings is the number of mappings of the object (a SysV segment's
// shm_nattch).
func (o *AnonObject) Mappings() int { return o.maps.Count() }

// Hold keeps the pages alive without a mapping (a SysV segment not yet
// removed); Release drops such a hold.
func (o *AnonObject) Hold() {
	o.mu.Lock()
	o.holds++
	o.mu.Unlock()
}

// Release drops a hold taken with Hold; with no mapping left the pages go.
func (o *AnonObject) Release() {
	o.mu.Lock()
	o.holds--
	o.mu.Unlock()
	o.freeIfUnused()
}

// freeIfUnused gives the pages back when nothing maps or holds the object.
// No mapper is left to invalidate: every one unmapped before removing its
// mapping.
func (o *AnonObject) freeIfUnused() {
	if o.maps.Count() > 0 {
		return
	}
	o.mu.Lock()
	if o.holds > 0 || o.freed {
		o.mu.Unlock()
		return
	}
	o.freed = true
	offs := make([]int64, 0, len(o.pages))
	for _, off := range o.pages {
		offs = append(offs, off)
	}
	o.pages = nil
	o.mu.Unlock()
	if len(offs) > 0 {
		o.mf.DecRef(offs...)
	}
}
