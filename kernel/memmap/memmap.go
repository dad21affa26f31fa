// Package memmap is the contract between memory objects that can be mapped
// (a tmpfs file, the pages of a MAP_SHARED|MAP_ANONYMOUS region, a SysV
// shared-memory segment, the vDSO) and the address spaces that map them.
//
// An object hands out memory-file pages by index (Mappable.PageAt). Every
// virtual memory area that maps an object registers itself with it
// (AddMapping) for as long as it exists, which does two things, as a Linux
// VMA's reference to its file and the file's i_mmap tree do:
//
//   - the mapping keeps the object alive: closing and unlinking a file, or
//     removing a shared-memory segment, frees nothing while it is mapped;
//   - the object knows who maps it (a reverse map), and before it frees or
//     replaces any page it tells every mapper to drop that range
//     (Mapper.Invalidate), as Linux's unmap_mapping_range.
//
// Together these give the page-lifetime invariant every platform relies on:
// a page returns to the memory file's free list only when no address space
// can reach it.
//
// Lock order: a mapper's own lock (MM.mu) is taken before an object's locks
// (its data lock and its MapperSet), which are taken before the memory
// file's. Invalidate goes the other way (object → mapper), so an object
// calls it with none of its own locks held: it first detaches the pages
// from itself (so no new fault finds them), drops its locks, invalidates,
// and only then releases the pages.
package memmap

import "sync"

// Mappable is memory that mappings share page by page.
type Mappable interface {
	// PageAt returns the memory-file offset of page index of the object,
	// allocating a zeroed page where the object has none yet. It fails for
	// a page the object cannot have (past the end of a file): the fault
	// that asked gets SIGBUS. The object keeps its own reference on the
	// page; the page stays valid for a mapper until the object invalidates
	// it.
	PageAt(index uint64) (int64, error)
	// AddMapping records one more mapping of the object by m (one call per
	// virtual memory area). While any mapping exists the object's pages are
	// not freed except by truncation, and then only after Invalidate.
	AddMapping(m Mapper)
	// RemoveMapping drops one mapping by m, added earlier with AddMapping.
	// m must have removed the object's pages from its address space
	// before. It may free the object's pages (its last mapping of an
	// otherwise unreferenced object); it never calls back into a mapper.
	RemoveMapping(m Mapper)
}

// PagePeeker is implemented by Mappables that can report a page they
// already hold without allocating one. Faults use it to map ahead: only
// pages that exist are mapped ahead, so a sparse file gains no memory.
type PagePeeker interface {
	// PeekPage returns the memory-file offset of page index if the object
	// has that page.
	PeekPage(index uint64) (int64, bool)
}

// ResidentCounter is implemented by Mappables whose pages are memory-file
// pages only the object holds (a tmpfs file, a shared anonymous region):
// the pages a mapping of them keeps resident count in its process's
// resident set (RssShmem), which the OOM killer weighs as Linux's does.
type ResidentCounter interface {
	// ResidentIn is how many of pages [first, end) the object has.
	ResidentIn(first, end uint64) int
	// MapperCount is how many address spaces map the object: the share
	// of its pages /proc/PID/smaps counts for each (Pss), and whether
	// they are shared or private there.
	MapperCount() int
}

// CountIn is how many keys of pages lie in [first, end): ResidentIn for an
// object that keeps its pages in a map, walking the smaller of the map and
// the range, so that neither a huge range nor a huge object costs more
// than the other.
func CountIn(pages map[uint64]int64, first, end uint64) int {
	if end <= first {
		return 0
	}
	n := 0
	if end-first < uint64(len(pages)) {
		for i := first; i < end; i++ {
			if _, ok := pages[i]; ok {
				n++
			}
		}
		return n
	}
	for i := range pages {
		if i >= first && i < end {
			n++
		}
	}
	return n
}

// Prefetcher is implemented by Mappables whose pages cost a copy to fill
// (a host file's, read into the memory file) and that can fill them ahead
// of faults, in the background. A fault then finds its page there, and
// maps it with its neighbours, instead of copying it while the program
// waits.
type Prefetcher interface {
	// Prefetch asks for pages [first, end) to be filled in the background,
	// beginning at from. It returns at once, and may do nothing: when the
	// object has done or queued it before, or memory is short.
	Prefetch(first, end, from uint64)
}

// HostBacked is implemented by Mappables whose pages are a host file's
// (hostfs). An address space that can map host files
// (platform.HostFileMapper) maps such pages straight from the host file,
// never writable, instead of the object's copies in the memory file: no
// copy, and no fault through uk. Reads by uk itself (a write(2) from such
// a mapping) still go through PageAt, which sees the same contents.
type HostBacked interface {
	// HostSize returns the host file's size, or false while the object
	// cannot be mapped from the host (its cache may be newer than the
	// host file: hostfs.File.HostSize).
	HostSize() (int64, bool)
	// OpenHost opens the host file read-only; the caller closes the fd.
	OpenHost() (int, error)
}

// Mapper is an address space that maps objects: the kernel's MM.
type Mapper interface {
	// Invalidate removes every mapping of pages [first, end) of obj from
	// the mapper's address space; when it returns, no thread can reach
	// them. With evenPrivate (truncation), private copies made from those
	// pages by copy-on-write are dropped too, so that an access past the
	// new end of a file faults (SIGBUS) as on Linux; hole punching keeps
	// them.
	Invalidate(obj Mappable, first, end uint64, evenPrivate bool)
}

// MapperSet is the reverse map an object embeds: who maps it, and how many
// times. Its zero value is empty and ready to use.
type MapperSet struct {
	mu      sync.Mutex
	mappers map[Mapper]int // mappings per mapper; protected by mu
	total   int            // sum of mappers' counts; protected by mu
}

// Add records one mapping by m and returns the number of mappings now.
func (s *MapperSet) Add(m Mapper) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mappers == nil {
		s.mappers = make(map[Mapper]int)
	}
	s.mappers[m]++
	s.total++
	return s.total
}

// Remove drops one mapping by m and returns the number left. Removing a
// mapping that was never added is a kernel bug.
func (s *MapperSet) Remove(m Mapper) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.mappers[m]
	if !ok {
		panic("memmap: RemoveMapping without AddMapping")
	}
	if n == 1 {
		delete(s.mappers, m)
	} else {
		s.mappers[m] = n - 1
	}
	s.total--
	return s.total
}

// Len is how many distinct mappers the set holds.
func (s *MapperSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mappers)
}

// Any reports whether f holds for some mapper. f runs without the set's
// lock (a mapper's own lock comes before an object's in uk's order).
func (s *MapperSet) Any(f func(Mapper) bool) bool {
	for _, m := range s.snapshot() {
		if f(m) {
			return true
		}
	}
	return false
}

// SharedWriteMapper is a Mapper that can tell whether it maps an object
// shared with write access allowed (Linux's VM_SHARED|VM_MAYWRITE), which
// a file's write seal must not meet.
type SharedWriteMapper interface {
	MapsSharedWritable(obj Mappable) bool
}

// snapshot returns the mappers, for calls made without the set's lock.
func (s *MapperSet) snapshot() []Mapper {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := make([]Mapper, 0, len(s.mappers))
	for m := range s.mappers {
		ms = append(ms, m)
	}
	return ms
}

// Count returns the number of mappings.
func (s *MapperSet) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Invalidate tells every mapper to drop pages [first, end) of obj. The
// caller holds none of obj's locks (see the package's lock order).
func (s *MapperSet) Invalidate(obj Mappable, first, end uint64, evenPrivate bool) {
	if first >= end {
		return
	}
	// A mapper added after the snapshot maps the object after its pages
	// were detached, so it cannot see them.
	for _, m := range s.snapshot() {
		m.Invalidate(obj, first, end, evenPrivate)
	}
}
