package memfile

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"uk/arch"
)

// A page whose last reference goes is not handed out again until it has
// been punched: when memory is short, Allocate punches the dying pages
// itself rather than fail or hand out a dirty page.
func TestFreedPagesComeBackZeroed(t *testing.T) {
	f, err := New(4 * arch.PageSize) // page 0 is never handed out: 3 usable
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	offs, err := f.Allocate(3)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range offs {
		b := f.Bytes(off, arch.PageSize)
		for i := range b {
			b[i] = 0xaa
		}
	}
	if _, err := f.Allocate(1); err != ErrNoMemory {
		t.Fatalf("allocate from a full file: %v, want ErrNoMemory", err)
	}
	f.DecRef(offs...)
	// Whether or not the background has punched them yet, all three come
	// back, zeroed.
	again, err := f.Allocate(3)
	if err != nil {
		t.Fatalf("allocate after freeing: %v", err)
	}
	for _, off := range again {
		for i, c := range f.Bytes(off, arch.PageSize) {
			if c != 0 {
				t.Fatalf("page %#x byte %d is %#x after reuse, want 0", off, i, c)
			}
		}
	}
}

// A page with references left is not freed.
func TestSharedPageSurvivesOneDecRef(t *testing.T) {
	f, err := New(4 * arch.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	offs, _ := f.Allocate(1)
	f.IncRef(offs[0])
	f.DecRef(offs[0])
	if n := f.RefCount(offs[0]); n != 1 {
		t.Fatalf("refcount %d, want 1", n)
	}
	f.Bytes(offs[0], 1)[0] = 7
	f.DecRef(f.mustAllocate(t, 2)...)
	f.punchDying() // as the background would
	if f.Bytes(offs[0], 1)[0] != 7 {
		t.Errorf("a referenced page changed when others were freed")
	}
}

func (f *File) mustAllocate(t *testing.T, n int) []int64 {
	t.Helper()
	offs, err := f.Allocate(n)
	if err != nil {
		t.Fatal(err)
	}
	return offs
}

// Pages freed together come back from the free list in ascending order, so
// that contiguous ones can be mapped as one run.
func TestReusedPagesAscending(t *testing.T) {
	f, err := New(64 * arch.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	offs := f.mustAllocate(t, 8)
	f.DecRef(offs...)
	f.punchDying() // as the background would
	again := f.mustAllocate(t, 8)
	for i := 1; i < len(again); i++ {
		if again[i] != again[i-1]+arch.PageSize {
			t.Fatalf("reused pages %#x not ascending and contiguous", again)
		}
	}
}

// heldPages is a Reclaimer holding pages it gives back on request.
type heldPages struct {
	f     *File
	offs  []int64
	asked int
}

func (h *heldPages) Reclaimable() int64 { return int64(len(h.offs)) }

func (h *heldPages) Reclaim(n int64) int64 {
	h.asked++
	k := min(int(n), len(h.offs))
	h.f.DecRef(h.offs[:k]...)
	h.offs = h.offs[k:]
	return int64(k)
}

// When the budget is spent, an allocation or a charge takes pages back
// from the reclaimers (only as many as it needs) instead of failing, and
// PagesLeft counts what they hold as available.
func TestReclaimBeforeExhaustion(t *testing.T) {
	f, err := New(9 * arch.PageSize) // 8 usable pages
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := &heldPages{f: f, offs: f.mustAllocate(t, 6)}
	f.AddReclaimer(h)
	if n := f.PagesLeft(); n != 8 {
		t.Errorf("PagesLeft = %d with 6 reclaimable pages held, want 8", n)
	}
	if h.asked != 0 {
		t.Errorf("reclaimer asked while memory was not short")
	}
	f.mustAllocate(t, 2) // what is free
	f.mustAllocate(t, 3) // 3 from the reclaimer
	if len(h.offs) != 3 {
		t.Errorf("reclaimer holds %d pages after a 3-page shortfall, want 3", len(h.offs))
	}
	if !f.Charge(2 * arch.PageSize) {
		t.Fatalf("charge refused with reclaimable pages left")
	}
	if len(h.offs) != 1 {
		t.Errorf("reclaimer holds %d pages after a 2-page charge, want 1", len(h.offs))
	}
	f.mustAllocate(t, 1)
	if _, err := f.Allocate(1); err != ErrNoMemory {
		t.Errorf("allocate with nothing left: %v, want ErrNoMemory", err)
	}
}

// Freed pages up to warmMax are cleared and kept resident, and handed out
// before punched ones; the rest go back to the host (a hole in the file).
func TestFreedPagesKeptWarmUpToBound(t *testing.T) {
	f, err := New(64 * arch.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.warmMax = 2
	offs := f.mustAllocate(t, 4)
	for _, off := range offs {
		b := f.Bytes(off, arch.PageSize)
		for i := range b {
			b[i] = 0x5a
		}
	}
	f.DecRef(offs...)
	f.punchDying() // as the background would
	resident := func(off int64) bool {
		data, err := unix.Seek(f.fd, off, unix.SEEK_DATA)
		return err == nil && data == off
	}
	var warm, punched []int64
	for _, off := range offs {
		if resident(off) {
			warm = append(warm, off)
		} else {
			punched = append(punched, off)
		}
	}
	if len(warm) != 2 || len(punched) != 2 {
		t.Fatalf("after freeing 4 pages with room for 2 warm: resident %#x, punched %#x; want 2 and 2", warm, punched)
	}
	again := f.mustAllocate(t, 2)
	if !slices.Equal(again, warm) {
		t.Errorf("allocated %#x after the free, want the warm pages %#x first", again, warm)
	}
	for _, off := range append(again, f.mustAllocate(t, 2)...) {
		for i, c := range f.Bytes(off, arch.PageSize) {
			if c != 0 {
				t.Fatalf("page %#x byte %d is %#x after reuse, want 0", off, i, c)
			}
		}
	}
}

// The warm bound is a sixteenth of the file, within [4 MiB, 256 MiB], and
// never more than the file.
func TestWarmPages(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct{ size, want int64 }{
		{1 * mib, 1 * mib},
		{16 * mib, 4 * mib},
		{1024 * mib, 64 * mib},
		{16384 * mib, 256 * mib},
	} {
		if got := int64(warmPages(tc.size)) * arch.PageSize; got != tc.want {
			t.Errorf("warmPages(%d MiB) = %d MiB, want %d MiB", tc.size/mib, got/mib, tc.want/mib)
		}
	}
}

// AllocateCold reports a request served without a warm page as cold:
// pages never used and punched ones; any warm page makes it warm.
func TestAllocateCold(t *testing.T) {
	f, err := New(64 * arch.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.warmMax = 2
	alloc := func(n int) ([]int64, bool) {
		t.Helper()
		offs, cold, err := f.AllocateCold(n)
		if err != nil {
			t.Fatal(err)
		}
		return offs, cold
	}
	offs, cold := alloc(4)
	if !cold {
		t.Errorf("4 pages never used: cold false, want true")
	}
	f.DecRef(offs...)
	f.punchDying() // 2 kept warm, 2 punched
	if _, cold := alloc(1); cold {
		t.Errorf("a warm page: cold true, want false")
	}
	if _, cold := alloc(2); cold {
		t.Errorf("a warm page and a punched one: cold true, want false")
	}
	if _, cold := alloc(1); !cold {
		t.Errorf("a punched page: cold false, want true")
	}
	if _, cold := alloc(3); !cold {
		t.Errorf("pages never used, warm list empty: cold false, want true")
	}
}

// CopyFromFile and CopyFromFileAhead fill the pages they are given from
// the source's offset, each through its own file position: copies made
// at once through both, from two goroutines, land where each asked, and a
// copy ahead leaves the main description's position where it was.
func TestCopyFromFileAhead(t *testing.T) {
	f, err := New(64 * arch.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.aheadFD < 0 {
		t.Fatal("no second description of the memory file (is /proc mounted?)")
	}
	src, err := unix.MemfdCreate("src", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(src)
	content := make([]byte, 8*arch.PageSize)
	for i := range content {
		content[i] = byte(i/arch.PageSize + 1)
	}
	if _, err := unix.Pwrite(src, content, 0); err != nil {
		t.Fatal(err)
	}
	offs, err := f.Allocate(16)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		var err error
		for i := 0; i < 8 && err == nil; i++ {
			err = f.CopyFromFileAhead(offs[8+i], src, int64(7-i)*arch.PageSize, arch.PageSize)
		}
		done <- err
	}()
	for i := 0; i < 8; i++ {
		if err := f.CopyFromFile(offs[i], src, int64(i)*arch.PageSize, arch.PageSize); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A copy ahead leaves the main description's position alone.
	mainPos, _ := unix.Seek(f.fd, 0, 1)
	if err := f.CopyFromFileAhead(offs[0], src, 0, arch.PageSize); err != nil {
		t.Fatal(err)
	}
	if pos, _ := unix.Seek(f.fd, 0, 1); pos != mainPos {
		t.Errorf("a copy ahead moved the main description's position from %#x to %#x", mainPos, pos)
	}
	for i := 0; i < 8; i++ {
		if got := f.Bytes(offs[i], arch.PageSize); got[0] != byte(i+1) || got[arch.PageSize-1] != byte(i+1) {
			t.Errorf("page %d copied through the main description holds %d, want %d", i, got[0], i+1)
		}
		if got := f.Bytes(offs[8+i], arch.PageSize); got[0] != byte(8-i) || got[arch.PageSize-1] != byte(8-i) {
			t.Errorf("page %d copied ahead holds %d, want %d", i, got[0], 8-i)
		}
	}
}

// CopyPages copies page for page, through pwritev into cold pages (in runs
// of contiguous ones and alone) and through the mapping into warm ones.
func TestCopyPages(t *testing.T) {
	f, err := New(64 * arch.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src := f.mustAllocate(t, 5)
	for i, off := range src {
		b := f.Bytes(off, arch.PageSize)
		for j := range b {
			b[j] = byte(i*7 + j%251)
		}
	}
	for _, cold := range []bool{true, false} {
		dst, _, err := f.AllocateCold(6)
		if err != nil {
			t.Fatal(err)
		}
		// Two runs and a lone page: dst[0..2], dst[3..4] (reversed sources), dst[5].
		d := []int64{dst[0], dst[1], dst[2], dst[4], dst[5]}
		s := []int64{src[0], src[1], src[2], src[4], src[3]}
		f.CopyPages(d, s, cold)
		for i := range d {
			if !slices.Equal(f.Bytes(d[i], arch.PageSize), f.Bytes(s[i], arch.PageSize)) {
				t.Errorf("cold %v: page %d is not a copy of its source", cold, i)
			}
		}
		for i, c := range f.Bytes(dst[3], arch.PageSize) {
			if c != 0 {
				t.Fatalf("cold %v: a page not copied into has byte %d = %#x", cold, i, c)
			}
		}
	}
}
