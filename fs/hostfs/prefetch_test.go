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
	m := &mapper{}
	f.AddMapping(m)
	defer f.RemoveMapping(m)
	f.Prefetch(40, 251, 100)
	waitPrefetched(t, fs)
	got := cachedPages(f, 301)
	if len(got) != 211 || got[0] != 40 || got[len(got)-1] != 250 {
		t.Fatalf("pages cached after a prefetch of [40, 251): %d, from %v to %v", len(got), got[:min(3, len(got))], got[max(0, len(got)-3):])
	}
	for _, i := range got {
		off, _ := f.PeekPage(uint64(i))
		if !bytes.Equal(mf.Bytes(off, 4096), want[i*4096:(i+1)*4096]) {
			t.Fatalf("prefetched page %d differs from the host file", i)
		}
	}
	// The range reaches past the end: up to the last page, whose tail
	// is zero.
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
	m := &mapper{}
	f.AddMapping(m)
	defer f.RemoveMapping(m)
	f.Prefetch(0, 1000, 5)
	waitPrefetched(t, fs)
	if got := cachedPages(f, 1000); len(got) != 21 {
		t.Fatalf("%d pages cached of a 21-page file, want 21: %v", len(got), got)
	}
	off, _ := f.PeekPage(20)
	page := mf.Bytes(off, 4096)
	if !bytes.Equal(page[:4], want[20*4096:]) || !bytes.Equal(page[4:], make([]byte, 4092)) {
		t.Errorf("the last page is not the file's tail followed by zeros")
	}
}

// TestPrefetchRefused: no prefetch on a writable tree, of a file nothing
// maps, or when it would leave less than half the memory.
func TestPrefetchRefused(t *testing.T) {
	t.Run("writable", func(t *testing.T) {
		fs, f, _ := prefetchFile(t, newMF(t), 50, true)
		m := &mapper{}
		f.AddMapping(m)
		defer f.RemoveMapping(m)
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
		m := &mapper{}
		f.AddMapping(m)
		defer f.RemoveMapping(m)
		f.Prefetch(0, 71, 0)
		waitPrefetched(t, fs)
		if got := cachedPages(f, 71); len(got) != 0 {
			t.Errorf("a prefetch of 71 pages of 127 ran: %d pages cached", len(got))
		}
		// A smaller one fits.
		gfs, g, _ := prefetchFile(t, mf, 40, false)
		g.AddMapping(m)
		defer g.RemoveMapping(m)
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
	m := &mapper{}
	f.AddMapping(m)
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
	for _, i := range got {
		off, _ := f.PeekPage(uint64(i))
		end := min((i+1)*4096, len(want))
		if !bytes.Equal(mf.Bytes(off, end-i*4096), want[i*4096:end]) {
			t.Fatalf("page %d differs from the host file", i)
		}
	}
	if used := mf.UsedPages() - before; used != 601 {
		t.Errorf("%d memory-file pages in use for 601 cached: copies leaked", used)
	}
	f.RemoveMapping(m)
}
