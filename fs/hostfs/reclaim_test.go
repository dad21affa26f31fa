package hostfs_test

import (
	"testing"

	"uk/fs/hostfs"
)

// TestReclaimMappedCache: under memory pressure (the OOM path asks the
// memory file's reclaimers, memfile.ReclaimMapped), a read-only tree's
// mapped file gives its whole cache back: its mappers are told to drop
// every page first (keeping their private copies), the pages are freed,
// and the next fault reads the host's contents again. A file nothing maps
// and a writable tree's file keep theirs.
func TestReclaimMappedCache(t *testing.T) {
	mf := newMF(t)
	_, f, want := prefetchFile(t, mf, 100, false)
	m := mapped(t, f)
	_, unmapped, _ := prefetchFile(t, mf, 10, false)
	_, wf, _ := prefetchFile(t, mf, 10, true)
	mapped(t, wf)
	before := mf.UsedPages()
	fill := func(g *hostfs.File, n int) {
		for i := 0; i < n; i++ {
			if _, err := g.PageAt(uint64(i)); err != nil {
				t.Fatalf("PageAt(%d): %v", i, err)
			}
		}
	}
	fill(f, 101)
	fill(unmapped, 11)
	fill(wf, 11)
	// unmapped's cache is the idle list's to reclaim, not this one's.
	cached := mf.UsedPages() - before
	got := mf.ReclaimMapped(1 << 20)
	if got != 101 {
		t.Fatalf("ReclaimMapped gave back %d pages, want the mapped file's 101", got)
	}
	if left := len(cachedPages(f, 101)); left != 0 {
		t.Errorf("%d pages still cached after the reclaim", left)
	}
	if len(m.ranges) != 1 || m.ranges[0] != [2]uint64{0, ^uint64(0)} {
		t.Errorf("the mapper's invalidations: %v, want one of the whole file", m.ranges)
	}
	if used := mf.UsedPages() - before; used != cached-101 {
		t.Errorf("%d pages in use after the reclaim, want %d", used, cached-101)
	}
	if len(cachedPages(wf, 11)) != 11 {
		t.Errorf("the writable tree's file lost its cache")
	}
	// The next faults read the host's contents again.
	fill(f, 101)
	checkCached(t, mf, f, want, cachedPages(f, 101))
	// Again: only the refilled mapped cache is the reclaim's to take.
	if got := mf.ReclaimMapped(1 << 20); got != 101 {
		t.Errorf("a second reclaim gave back %d pages, want the refilled 101", got)
	}
}
