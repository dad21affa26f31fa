package hostfs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"uk/fs/hostfs"
	"uk/fs/vfs/vfstest"
	"uk/kernel/memfile"
)

// prefetchFile makes a host file of n pages and a bit, each page filled
// with its own index, served by a new filesystem over mf (read-only
// unless writable), and returns the file with its host contents.
func prefetchFile(t *testing.T, mf *memfile.File, n int, writable bool) (*hostfs.FS, *hostfs.File, []byte) {
	t.Helper()
	dir := t.TempDir()
	var want []byte
	for i := 0; i < n; i++ {
		want = append(want, bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 2048)...)
	}
	want = append(want, "tail"...)
	must(t, os.WriteFile(filepath.Join(dir, "prog"), want, 0o755))
	fs, err := hostfs.New(dir, hostfs.Options{MF: mf, Writable: writable})
	must(t, err)
	t.Cleanup(fs.Close)
	ino, err := fs.HostRoot().Lookup(vfstest.Root(), "prog")
	must(t, err)
	return fs, ino.(*hostfs.File), want
}

// mapped records a mapping of f for the rest of the test (a prefetch
// stops once nothing maps its file).
func mapped(t *testing.T, f *hostfs.File) *mapper {
	m := &mapper{}
	f.AddMapping(m)
	t.Cleanup(func() { f.RemoveMapping(m) })
	return m
}

// checkCached fails unless each of f's pages idx is cached with the
// host's contents (want), a page past the end of want reading as zeros.
func checkCached(t *testing.T, mf *memfile.File, f *hostfs.File, want []byte, idx []int) {
	t.Helper()
	for _, i := range idx {
		off, ok := f.PeekPage(uint64(i))
		if !ok {
			t.Fatalf("page %d not cached", i)
		}
		page := mf.Bytes(off, 4096)
		end := min((i+1)*4096, len(want))
		if !bytes.Equal(page[:end-i*4096], want[i*4096:end]) || !bytes.Equal(page[end-i*4096:], make([]byte, 4096-(end-i*4096))) {
			t.Fatalf("cached page %d differs from the host file", i)
		}
	}
}

// waitPrefetched waits for fs's prefetches to end.
func waitPrefetched(t *testing.T, fs *hostfs.FS) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); fs.Prefetching(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the prefetch did not end in 10 s")
		}
	}
}

// cachedPages returns the indexes of the pages f has cached, of its first n.
func cachedPages(f *hostfs.File, n int) []int {
	var idx []int
	for i := 0; i < n; i++ {
		if _, ok := f.PeekPage(uint64(i)); ok {
			idx = append(idx, i)
		}
	}
	return idx
}

// TestPrefetchFillsTheRange: a prefetch of a mapped file's range fills
// every page of it (from the faulting page on, then those before) with
// the host's contents, and no page outside it.
func TestPrefetchFillsTheRange(t *testing.T) {
	mf := newMF(t)
	fs, f, want := prefetchFile(t, mf, 300, false)
	mapped(t, f)
	f.Prefetch(40, 251, 100)
	waitPrefetched(t, fs)
	got := cachedPages(f, 301)
	if len(got) != 211 || got[0] != 40 || got[len(got)-1] != 250 {
		t.Fatalf("pages cached after a prefetch of [40, 251): %d, from %v to %v", len(got), got[:min(3, len(got))], got[max(0, len(got)-3):])
	}
	checkCached(t, mf, f, want, got)
	// Once a file: a second prefetch does nothing.
	f.Prefetch(0, 1000, 299)
	waitPrefetched(t, fs)
	if got := cachedPages(f, 302); len(got) != 211 {
		t.Errorf("a second prefetch of the same file ran: %d pages cached, want 211", len(got))
	}
}

// TestPrefetchPastTheEnd: a range beyond the file stops at its last page,
// whose tail past the end is zero.
func TestPrefetchPastTheEnd(t *testing.T) {
	mf := newMF(t)
	fs, f, want := prefetchFile(t, mf, 20, false)
	mapped(t, f)
	f.Prefetch(0, 1000, 5)
	waitPrefetched(t, fs)
	got := cachedPages(f, 1000)
	if len(got) != 21 {
		t.Fatalf("%d pages cached of a 21-page file, want 21: %v", len(got), got)
	}
	checkCached(t, mf, f, want, got)
}

// TestPrefetchRefused: no prefetch on a writable tree, of a file nothing
// maps, or when it would leave less than half the memory.
func TestPrefetchRefused(t *testing.T) {
	t.Run("writable", func(t *testing.T) {
		fs, f, _ := prefetchFile(t, newMF(t), 50, true)
		mapped(t, f)
		f.Prefetch(0, 50, 0)
		waitPrefetched(t, fs)
		if got := cachedPages(f, 51); len(got) != 0 {
			t.Errorf("a writable tree's file prefetched: %v", got)
		}
	})
	t.Run("unmapped", func(t *testing.T) {
		fs, f, _ := prefetchFile(t, newMF(t), 50, false)
		f.Prefetch(0, 50, 0)
		waitPrefetched(t, fs)
		if got := cachedPages(f, 51); len(got) != 0 {
			t.Errorf("a file nothing maps prefetched: %v", got)
		}
	})
	t.Run("memory", func(t *testing.T) {
		mf, err := memfile.New(128 * 4096) // 127 usable pages
		must(t, err)
		t.Cleanup(func() { mf.Close() })
		fs, f, _ := prefetchFile(t, mf, 70, false)
		mapped(t, f)
		f.Prefetch(0, 71, 0)
		waitPrefetched(t, fs)
		if got := cachedPages(f, 71); len(got) != 0 {
			t.Errorf("a prefetch of 71 pages of 127 ran: %d pages cached", len(got))
		}
		// A smaller one fits.
		gfs, g, _ := prefetchFile(t, mf, 40, false)
		mapped(t, g)
		g.Prefetch(0, 41, 0)
		waitPrefetched(t, gfs)
		if got := cachedPages(g, 41); len(got) != 41 {
			t.Errorf("a prefetch of 41 pages of 127 cached %d, want 41", len(got))
		}
	})
}

// TestPrefetchBesideFaults: faults filling pages while a prefetch copies
// the same file end with every page the host's, each cached once: the
// prefetch's copies of pages a fault filled first are freed, none leaks.
func TestPrefetchBesideFaults(t *testing.T) {
	mf := newMF(t)
	fs, f, want := prefetchFile(t, mf, 600, false)
	mapped(t, f)
	before := mf.UsedPages()
	f.Prefetch(0, 601, 0)
	for i := 600; i >= 0; i -= 7 {
		if _, err := f.PageAt(uint64(i)); err != nil {
			t.Fatalf("PageAt(%d): %v", i, err)
		}
	}
	waitPrefetched(t, fs)
	got := cachedPages(f, 601)
	if len(got) != 601 {
		t.Fatalf("%d pages cached after the prefetch and faults, want 601", len(got))
	}
	checkCached(t, mf, f, want, got)
	if used := mf.UsedPages() - before; used != 601 {
		t.Errorf("%d memory-file pages in use for 601 cached: copies leaked", used)
	}
}
