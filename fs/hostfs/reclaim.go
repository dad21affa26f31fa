package hostfs

import (
	"slices"
	"sync"

	"uk/kernel/memfile"
)

// Reclaiming mapped caches. A read-only tree's file keeps the pages its
// mappings touched cached for as long as anything maps it, and those
// pages count as the sandbox's memory: a program that maps a file bigger
// than the memory left and reads it all (a 117 MB libLLVM mapped whole
// under --mem 96M) would exhaust it, and the OOM killer would end the
// program where Linux evicts clean page-cache pages and reads them again.
// The cache of a read-only tree is always clean (nothing writes to it),
// so under the same pressure the filesystem gives such caches back too:
// the OOM path asks it (memfile.MappedReclaimer) before it kills, with no
// lock held, and a file's pages are detached from its cache (no new fault
// finds them), its mappings invalidated (the private copies processes
// made stay theirs), and only then freed, as a truncation does. The next
// fault reads the page from the host again. A file whose cache lock is
// taken is passed over (its holder may be the task out of memory).

// fileSet is a set of a filesystem's files with a cache in some state:
// of a read-only tree, those with a cache, mapped or idle (idleCache.mapped,
// for ReclaimMapped); of a writable tree, those whose cache a shared
// writable mapping may have written (FS.dirty, for Sync). Its lock is
// taken after a file's cmu, never before.
type fileSet struct {
	mu    sync.Mutex
	files map[*File]struct{} // protected by mu
}

// add puts f in the set. Called with f.cmu held.
func (c *fileSet) add(f *File) {
	c.mu.Lock()
	if c.files == nil {
		c.files = make(map[*File]struct{})
	}
	c.files[f] = struct{}{}
	c.mu.Unlock()
}

// remove takes f out of the set. Called with f.cmu held.
func (c *fileSet) remove(f *File) {
	c.mu.Lock()
	delete(c.files, f)
	c.mu.Unlock()
}

// list returns the files in the set now.
func (c *fileSet) list() []*File {
	c.mu.Lock()
	defer c.mu.Unlock()
	files := make([]*File, 0, len(c.files))
	for f := range c.files {
		files = append(files, f)
	}
	return files
}

var _ memfile.MappedReclaimer = (*idleCache)(nil)

// ReclaimMapped implements memfile.MappedReclaimer: the largest caches of
// files still mapped go first, whole, until n pages have. Idle files are
// left to Reclaim.
func (c *idleCache) ReclaimMapped(n int64) int64 {
	type sized struct {
		f     *File
		pages int
	}
	var files []sized
	for _, f := range c.mapped.list() {
		files = append(files, sized{f: f})
	}
	for i := range files {
		if f := files[i].f; f.cmu.TryLock() {
			files[i].pages = len(f.pages)
			f.cmu.Unlock()
		}
	}
	slices.SortFunc(files, func(a, b sized) int { return b.pages - a.pages })
	var got int64
	for _, s := range files {
		if got >= n {
			break
		}
		got += s.f.dropMappedCache()
	}
	return got
}

// dropMappedCache gives back the cache of f, a mapped file of a read-only
// tree, and reports how many pages it freed: the pages leave the cache,
// then every mapping (mappers invalidate them, keeping private copies),
// then their references go. The cache's fd stays: the next fault reads
// through it.
func (f *File) dropMappedCache() int64 {
	// A file whose lock is taken is skipped: its holder may be the very
	// task that ran out of memory, reading the file into its own memory.
	if !f.cmu.TryLock() {
		return 0
	}
	// A cache dropped since the caller listed the file has no pages.
	if len(f.pages) == 0 || f.maps.Count() == 0 {
		f.cmu.Unlock()
		return 0
	}
	dead := make([]int64, 0, len(f.pages))
	for _, p := range f.pages {
		dead = append(dead, p)
	}
	clear(f.pages)
	// A prefetch copying meanwhile installs nothing; and none starts
	// again (prefetched stays set): it would refill what memory just
	// could not hold.
	f.gen++
	f.cmu.Unlock()
	f.maps.Invalidate(f, 0, ^uint64(0), false)
	f.fs.mf.DecRef(dead...)
	return int64(len(dead))
}
