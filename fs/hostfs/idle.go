package hostfs

import (
	"container/list"
	"sync"
	"sync/atomic"

	"uk/arch"
	"uk/kernel/memfile"
)

// The idle cache. On a read-only tree a file's page cache outlives the
// file's last mapping: a CI job runs the same programs again and again (a
// shell loop's /bin/true, make's gcc, git's git), and a program whose
// cache was dropped with its last exit has every page of it read from the
// host again at the next exec, one fault and one sendfile per
// read-ahead, where Linux finds them in its page cache. A read-only tree
// is taken as unchanging while the sandbox runs (see the package comment),
// so a kept page is never stale.
//
// What is kept is bounded (maxIdleBytes, a sixteenth of the budget at
// most, and maxIdleFiles files, each with its host fd), the files least
// recently unmapped going first, and it is the sandbox's memory only
// until the sandbox needs it: the filesystem is a memfile.Reclaimer, so
// an allocation that would not fit takes the idle pages back before it
// fails. The pages are mapped by no one (an idle file has no mapping), so
// dropping them needs no invalidation.
const (
	maxIdleBytes = 64 << 20
	maxIdleFiles = 256
)

// idleCache is a filesystem's files that keep their cache with no
// mapping, least recently unmapped last.
type idleCache struct {
	mu    sync.Mutex
	lru   list.List    // *idleEntry, most recent first; protected by mu
	pages atomic.Int64 // pages held by the files on lru (written under mu)
	limit int64        // most pages the list may hold
	// mapped is every file with a cache, for ReclaimMapped (reclaim.go).
	mapped fileSet
}

// idleEntry is one stay of a file on the list; gen tells it from a later
// stay of the same file.
type idleEntry struct {
	f     *File
	gen   uint64
	pages int64
}

var _ memfile.Reclaimer = (*idleCache)(nil)

// newIdleCache returns the idle cache of a filesystem over mf.
func newIdleCache(mf *memfile.File) *idleCache {
	limit := int64(maxIdleBytes)
	if mf != nil {
		limit = min(limit, mf.Size()/16)
	}
	return &idleCache{limit: limit >> arch.PageShift}
}

// push puts f, which has just lost its last mapping and holds pages
// cached pages, on the list.
//
// Preconditions: f.cmu is held.
func (c *idleCache) push(f *File, pages int64) {
	f.idleGen++
	c.mu.Lock()
	f.idleElem = c.lru.PushFront(&idleEntry{f: f, gen: f.idleGen, pages: pages})
	c.pages.Add(pages)
	c.mu.Unlock()
}

// remove takes f off the list: it is mapped again.
//
// Preconditions: f.cmu is held.
func (c *idleCache) remove(f *File) {
	c.mu.Lock()
	if e := f.idleElem; e != nil {
		c.lru.Remove(e)
		c.pages.Add(-e.Value.(*idleEntry).pages)
		f.idleElem = nil
	}
	c.mu.Unlock()
}

// trim drops the least recently unmapped files until the list is within
// its bounds.
func (c *idleCache) trim() {
	for tries := maxIdleFiles * 2; tries > 0; tries-- {
		c.mu.Lock()
		over := c.pages.Load() > c.limit || c.lru.Len() > maxIdleFiles
		c.mu.Unlock()
		if !over {
			return
		}
		if _, ok := c.evictOldest(); !ok {
			return
		}
	}
}

// Reclaimable implements memfile.Reclaimer.
func (c *idleCache) Reclaimable() int64 { return c.pages.Load() }

// Reclaim implements memfile.Reclaimer: the least recently unmapped files'
// caches go until n pages have.
func (c *idleCache) Reclaim(n int64) int64 {
	var got int64
	for tries := maxIdleFiles * 2; got < n && tries > 0; tries-- {
		freed, ok := c.evictOldest()
		if !ok {
			break
		}
		got += freed
	}
	return got
}

// evictOldest takes the least recently unmapped file off the list and
// drops its cache, reporting the pages dropped; false when the list is
// empty. A file whose lock is taken (it is being mapped again, or the
// caller is filling it and short of memory) goes back to the front,
// unharmed.
func (c *idleCache) evictOldest() (int64, bool) {
	c.mu.Lock()
	e := c.lru.Back()
	if e == nil {
		c.mu.Unlock()
		return 0, false
	}
	ent := e.Value.(*idleEntry)
	f := ent.f
	c.lru.Remove(e)
	c.pages.Add(-ent.pages)
	f.idleElem = nil
	c.mu.Unlock()
	if !f.cmu.TryLock() {
		c.mu.Lock()
		f.idleElem = c.lru.PushFront(ent)
		c.pages.Add(ent.pages)
		c.mu.Unlock()
		return 0, true
	}
	if f.idleGen != ent.gen || f.maps.Count() > 0 {
		// Mapped again since it was taken off (and perhaps on the list
		// again, for a later stay): not this stay's to end.
		f.cmu.Unlock()
		return 0, true
	}
	dead := f.dropCacheLocked()
	f.cmu.Unlock()
	if len(dead) > 0 {
		f.fs.mf.DecRef(dead...)
	}
	return int64(len(dead)), true
}
