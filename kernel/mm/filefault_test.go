package mm

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memfile"
	"uk/kernel/memmap"
	"uk/platform"
)

// fakeFile is a file object with some pages present (holes elsewhere) and
// a size in pages; it counts the pages PageAt had to allocate.
type fakeFile struct {
	mf        *memfile.File
	pages     map[uint64]int64
	size      uint64 // pages
	allocated int
	peekable  bool
	maps      memmap.MapperSet
}

func (f *fakeFile) AddMapping(m memmap.Mapper)    { f.maps.Add(m) }
func (f *fakeFile) RemoveMapping(m memmap.Mapper) { f.maps.Remove(m) }

func newFakeFile(t *testing.T, mf *memfile.File, size uint64, present ...uint64) *fakeFile {
	t.Helper()
	f := &fakeFile{mf: mf, pages: map[uint64]int64{}, size: size, peekable: true}
	offs, err := mf.Allocate(len(present))
	if err != nil {
		t.Fatal(err)
	}
	for i, idx := range present {
		f.pages[idx] = offs[i]
		b := mf.Bytes(offs[i], arch.PageSize)
		for j := range b {
			b[j] = byte(idx + 1)
		}
	}
	return f
}

func (f *fakeFile) PageAt(index uint64) (int64, error) {
	if index >= f.size {
		return 0, unix.EFAULT
	}
	if off, ok := f.pages[index]; ok {
		return off, nil
	}
	offs, err := f.mf.Allocate(1)
	if err != nil {
		return 0, err
	}
	f.pages[index] = offs[0]
	f.allocated++
	return offs[0], nil
}

// peekableFile is a fakeFile that also implements PagePeeker.
type peekableFile struct{ *fakeFile }

func (f peekableFile) PeekPage(index uint64) (int64, bool) {
	if index >= f.size {
		return 0, false
	}
	off, ok := f.pages[index]
	return off, ok
}

func pagesRange(from, to uint64) []uint64 {
	var idx []uint64
	for i := from; i < to; i++ {
		idx = append(idx, i)
	}
	return idx
}

// A read fault in a private file mapping maps the file's pages around it
// (2 MiB aligned window) read-only, skips holes without allocating them,
// and does so in as few platform mappings as the layout allows.
func TestFileReadFaultMapsWindow(t *testing.T) {
	m, as, mf := newMM(t)
	// More than one window; page 100 is a hole.
	const npages = 600
	present := append(pagesRange(0, 100), pagesRange(101, npages)...)
	f := newFakeFile(t, mf, npages, present...)
	calls := 0
	counting := &countingAS{fakeAS: as, calls: &calls}
	m.as = counting
	base, err := m.Mmap(MmapOpts{Length: npages * arch.PageSize, Prot: platform.Read | platform.Exec, Object: peekableFile{f}})
	if err != nil {
		t.Fatal(err)
	}
	fault := base + 10*arch.PageSize
	if r := m.HandleFault(fault, platform.Exec, fault, nil); r != FaultHandled {
		t.Fatalf("fault = %v", r)
	}
	winStart := max(base, fault&^(fileFaultRun-1))
	winEnd := min(base+npages*arch.PageSize, winStart&^(fileFaultRun-1)+fileFaultRun)
	for a := winStart; a < winEnd; a += arch.PageSize {
		idx := (a - base) >> arch.PageShift
		off, ok := as.mapped[a]
		if idx == 100 {
			if ok {
				t.Errorf("hole at page %d mapped", idx)
			}
			continue
		}
		if !ok || off != f.pages[idx] {
			t.Fatalf("page %d of the window not mapped to the file's page", idx)
		}
		if as.prot[a]&platform.Write != 0 {
			t.Fatalf("page %d mapped writable", idx)
		}
	}
	if f.allocated != 0 {
		t.Errorf("mapping ahead allocated %d pages of the file", f.allocated)
	}
	// Two runs around the hole at most (plus one per discontiguity the
	// allocator made, none here).
	if calls > 2 {
		t.Errorf("%d platform mappings for one window, want at most 2", calls)
	}
}

// Without PeekPage the window stays the anonymous fault run, so a sparse
// object gains no more pages than Linux's fault-around would touch.
func TestFileReadFaultWithoutPeekStaysSmall(t *testing.T) {
	m, as, mf := newMM(t)
	f := newFakeFile(t, mf, 64)
	base, err := m.Mmap(MmapOpts{Length: 64 * arch.PageSize, Prot: platform.Read, Object: f})
	if err != nil {
		t.Fatal(err)
	}
	if r := m.HandleFault(base, platform.Read, 0, nil); r != FaultHandled {
		t.Fatalf("fault = %v", r)
	}
	if n := len(as.mapped); n > faultRun/arch.PageSize {
		t.Errorf("%d pages mapped, want at most the %d of one fault run", n, faultRun/arch.PageSize)
	}
}

// A small writable private file mapping is copied whole at its first
// fault: every page the file has becomes private and writable, the file is
// untouched, and pages past the end of the file still fault on their own.
func TestSmallWritableFileMappingCopiedWhole(t *testing.T) {
	m, as, mf := newMM(t)
	f := newFakeFile(t, mf, 6, 0, 1, 2, 4, 5) // page 3 is a hole
	base, err := m.Mmap(MmapOpts{Length: 8 * arch.PageSize, Prot: rw, Object: peekableFile{f}, CopyWhole: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := m.HandleFault(base+arch.PageSize, platform.Read, 0, nil); r != FaultHandled {
		t.Fatalf("fault = %v", r)
	}
	for _, idx := range []uint64{0, 1, 2, 4, 5} {
		a := base + idx*arch.PageSize
		off, ok := m.pages[a]
		if !ok {
			t.Fatalf("page %d not copied", idx)
		}
		if off == f.pages[idx] {
			t.Fatalf("page %d maps the file's own page", idx)
		}
		if !bytes.Equal(mf.Bytes(off, arch.PageSize), mf.Bytes(f.pages[idx], arch.PageSize)) {
			t.Fatalf("page %d copy differs from the file", idx)
		}
		if as.mapped[a] != off || as.prot[a] != rw {
			t.Fatalf("page %d not mapped writable to its copy", idx)
		}
	}
	if _, ok := m.pages[base+3*arch.PageSize]; ok || f.allocated != 0 {
		t.Errorf("hole copied or allocated (allocated %d)", f.allocated)
	}
	// A write through the copy does not reach the file.
	if err := m.CopyOut(base, []byte("changed")); err != nil {
		t.Fatal(err)
	}
	if mf.Bytes(f.pages[0], 1)[0] != 1 {
		t.Errorf("write to a private mapping reached the file")
	}
	// Past the end of the file: SIGBUS, as on Linux.
	if r := m.HandleFault(base+7*arch.PageSize, platform.Read, 0, nil); r != FaultBusErr {
		t.Errorf("fault past EOF = %v, want SIGBUS (FaultBusErr)", r)
	}
}

// A data segment too big to copy whole (CopyWhole beyond copyWholeMax)
// copies the fault window around a write: every page of it the file has,
// contiguous in the memory file and mapped writable in one platform call;
// a read still maps the file's pages, and pages outside the window stay
// the file's.
func TestBigDataSegmentCopiesWindow(t *testing.T) {
	m, as, mf := newMM(t)
	n := uint64(copyWholeMax/arch.PageSize + 64)
	f := newFakeFile(t, mf, n, pagesRange(0, n)...)
	calls := 0
	m.as = &countingAS{fakeAS: as, calls: &calls}
	base, err := m.Mmap(MmapOpts{Length: n * arch.PageSize, Prot: rw, Object: peekableFile{f}, CopyWhole: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := m.HandleFault(base+arch.PageSize, platform.Read, 0, nil); r != FaultHandled {
		t.Fatalf("read fault = %v", r)
	}
	if len(m.pages) != 0 {
		t.Fatalf("a read copied %d pages", len(m.pages))
	}
	fault := base + faultRun + 3*arch.PageSize
	calls = 0
	if r := m.HandleFault(fault, platform.Write, 0, nil); r != FaultHandled {
		t.Fatalf("write fault = %v", r)
	}
	win := fault &^ (faultRun - 1)
	first := m.pages[win]
	for a := win; a < win+faultRun; a += arch.PageSize {
		off, ok := m.pages[a]
		if !ok || off != first+int64(a-win) {
			t.Fatalf("page %#x of the window: copied %v at %#x, want the copies contiguous from %#x", a-base, ok, off, first)
		}
		if !bytes.Equal(mf.Bytes(off, arch.PageSize), mf.Bytes(f.pages[(a-base)/arch.PageSize], arch.PageSize)) {
			t.Fatalf("page %#x: copy differs from the file", a-base)
		}
		if as.mapped[a] != off || as.prot[a] != rw {
			t.Fatalf("page %#x not mapped writable to its copy", a-base)
		}
	}
	if calls != 1 {
		t.Errorf("%d platform mappings for the window's copies, want 1", calls)
	}
	if len(m.pages) != faultRun/arch.PageSize {
		t.Errorf("%d pages copied, want the window's %d", len(m.pages), faultRun/arch.PageSize)
	}
}

// A large writable private mapping keeps Linux's page-at-a-time copying:
// reads share the file's pages, a write copies just its page.
func TestLargeWritableFileMappingCopiesPerPage(t *testing.T) {
	m, as, mf := newMM(t)
	n := uint64(copyWholeMax/arch.PageSize + 16)
	f := newFakeFile(t, mf, n, pagesRange(0, n)...)
	base, err := m.Mmap(MmapOpts{Length: n * arch.PageSize, Prot: rw, Object: peekableFile{f}})
	if err != nil {
		t.Fatal(err)
	}
	if r := m.HandleFault(base, platform.Read, 0, nil); r != FaultHandled {
		t.Fatalf("fault = %v", r)
	}
	if len(m.pages) != 0 {
		t.Fatalf("a read copied %d pages", len(m.pages))
	}
	if as.prot[base]&platform.Write != 0 {
		t.Fatalf("file page mapped writable")
	}
	if r := m.HandleFault(base+arch.PageSize, platform.Write, 0, nil); r != FaultHandled {
		t.Fatalf("write fault = %v", r)
	}
	if len(m.pages) != 1 {
		t.Errorf("a write copied %d pages, want 1", len(m.pages))
	}
}

// countingAS counts MapFile calls.
type countingAS struct {
	*fakeAS
	calls *int
}

func (c *countingAS) MapFile(addr uint64, off int64, length uint64, a platform.Access) error {
	*c.calls++
	return c.fakeAS.MapFile(addr, off, length, a)
}

// bytesAS counts the bytes MapFile maps.
type bytesAS struct {
	*fakeAS
	bytes uint64
}

func (b *bytesAS) MapFile(addr uint64, off int64, length uint64, a platform.Access) error {
	b.bytes += length
	return b.fakeAS.MapFile(addr, off, length, a)
}

// A second fault in a file window maps what the first could not (the
// pages the file gained since), not the whole window again.
func TestFileWindowMapsOnlyNewPages(t *testing.T) {
	m, as, mf := newMM(t)
	const npages = 256
	f := newFakeFile(t, mf, npages, pagesRange(0, 64)...)
	counting := &bytesAS{fakeAS: as}
	m.as = counting
	base, err := m.Mmap(MmapOpts{Length: npages * arch.PageSize, Prot: platform.Read | platform.Exec, Object: peekableFile{f}})
	if err != nil {
		t.Fatal(err)
	}
	if r := m.HandleFault(base, platform.Exec, base, nil); r != FaultHandled {
		t.Fatalf("fault = %v", r)
	}
	if counting.bytes != 64*arch.PageSize {
		t.Fatalf("first fault mapped %d pages, want the 64 present", counting.bytes/arch.PageSize)
	}
	// Page 100 is read in by its fault (the fake file allocates one).
	counting.bytes = 0
	if r := m.HandleFault(base+100*arch.PageSize, platform.Exec, 0, nil); r != FaultHandled {
		t.Fatalf("fault = %v", r)
	}
	if counting.bytes != arch.PageSize {
		t.Errorf("second fault in the window mapped %d pages, want just the new one", counting.bytes/arch.PageSize)
	}
	if _, ok := as.mapped[base+100*arch.PageSize]; !ok {
		t.Errorf("faulting page not mapped")
	}
}

// A small writable private file mapping that asks for it (an ELF data
// segment ld.so maps) is copied and mapped when it is made: relocation
// writes it without a fault.
func TestCopyWholeMappingCopiedAtMmap(t *testing.T) {
	m, as, mf := newMM(t)
	f := newFakeFile(t, mf, 6, pagesRange(0, 6)...)
	base, err := m.Mmap(MmapOpts{Length: 6 * arch.PageSize, Prot: rw, Object: peekableFile{f}, CopyWhole: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < 6; i++ {
		a := base + i*arch.PageSize
		off, ok := m.pages[a]
		if !ok || off == f.pages[i] || as.mapped[a] != off || as.prot[a] != rw {
			t.Fatalf("page %d not copied and mapped writable at mmap", i)
		}
		if mf.Bytes(off, 1)[0] != byte(i+1) {
			t.Fatalf("page %d copy differs from the file", i)
		}
	}
	// Read-only, it maps the file's pages as they fault, as before.
	ro, err := m.Mmap(MmapOpts{Length: 6 * arch.PageSize, Prot: platform.Read, Object: peekableFile{f}, CopyWhole: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := as.mapped[ro]; ok || len(m.pages) != 6 {
		t.Errorf("a read-only segment was copied or mapped at mmap")
	}
}

// mmap's prefault: a small private anonymous writable mapping is backed
// and mapped whole when it is made, a large one is left to its faults;
// a private file mapping has its start mapped from the file's pages,
// and nothing outside it even where it merged with a neighbour.
func TestMmapPrefault(t *testing.T) {
	m, as, mf := newMM(t)
	small, err := m.Mmap(MmapOpts{Length: 3 * arch.PageSize, Prot: rw, Prefault: true})
	if err != nil {
		t.Fatal(err)
	}
	for a := small; a < small+3*arch.PageSize; a += arch.PageSize {
		if off, ok := m.pages[a]; !ok || as.mapped[a] != off || as.prot[a] != rw {
			t.Fatalf("page %#x of a small anonymous mapping not backed and mapped at mmap", a)
		}
	}
	big, err := m.Mmap(MmapOpts{Length: 2 * faultRun, Prot: rw, Prefault: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := as.mapped[big]; ok {
		t.Errorf("a large anonymous mapping was backed at mmap")
	}
	if ro, _ := m.Mmap(MmapOpts{Length: arch.PageSize, Prot: platform.Read, Prefault: true}); len(as.mapped) != 3 || m.pages[ro] != 0 {
		t.Errorf("a read-only anonymous mapping was backed at mmap")
	}

	f := newFakeFile(t, mf, 32, pagesRange(0, 32)...)
	pf := peekableFile{f}
	// ld.so: a reservation of the whole file, then a segment over part
	// of it that merges with the rest of the reservation.
	base, err := m.Mmap(MmapOpts{Length: 32 * arch.PageSize, Prot: platform.Read, Object: pf})
	if err != nil {
		t.Fatal(err)
	}
	if len(as.mapped) != 3 {
		t.Fatalf("a mapping without Prefault was mapped at mmap")
	}
	seg := base + 8*arch.PageSize
	if _, err := m.Mmap(MmapOpts{Addr: seg, Length: 4 * arch.PageSize, Prot: platform.Read, Object: pf, Pgoff: 8, Fixed: true, Prefault: true}); err != nil {
		t.Fatal(err)
	}
	for a := base; a < base+32*arch.PageSize; a += arch.PageSize {
		_, mapped := as.mapped[a]
		if want := a >= seg && a < seg+4*arch.PageSize; mapped != want {
			t.Errorf("file page %d mapped %v after the segment's mmap, want %v", (a-base)/arch.PageSize, mapped, want)
		}
	}
}

// A fresh program's prefault maps a window at the start of each file
// mapping and around its entry; a forked child's only around where it
// resumes (Fork maps it).
func TestPrefaultFileWindows(t *testing.T) {
	m, as, mf := newMM(t)
	// Larger than two of the largest windows, so that none around the
	// entry reaches the start.
	const n = 2 * maxFaultRun / arch.PageSize
	f := newFakeFile(t, mf, n, pagesRange(0, n)...)
	base, err := m.Mmap(MmapOpts{Length: n * arch.PageSize, Prot: platform.Read | platform.Exec, Object: peekableFile{f}})
	if err != nil {
		t.Fatal(err)
	}
	entry := base + (n-8)*arch.PageSize
	mappedAt := func(fa *fakeAS, a uint64) bool { _, ok := fa.mapped[a]; return ok }
	m.PrefaultNew(entry)
	if !mappedAt(as, base) || !mappedAt(as, entry) {
		t.Fatalf("a fresh program's prefault: start mapped %v, entry mapped %v; want both", mappedAt(as, base), mappedAt(as, entry))
	}
	cas := newFakeAS()
	m.Fork(cas, entry)
	if mappedAt(cas, base) || !mappedAt(cas, entry) {
		t.Errorf("a forked child's prefault: start mapped %v, entry mapped %v; want only the entry", mappedAt(cas, base), mappedAt(cas, entry))
	}
}

// A program's relocated data is often larger than 256 KiB (as: 285 KiB):
// it is still copied whole at its first fault, not a write fault a page.
func TestDataSegmentOver256KiBCopiedWhole(t *testing.T) {
	m, as, mf := newMM(t)
	const n = 72 // 288 KiB
	f := newFakeFile(t, mf, n, pagesRange(0, n)...)
	base, err := m.Mmap(MmapOpts{Length: n * arch.PageSize, Prot: rw, Object: peekableFile{f}, CopyWhole: true})
	if err != nil {
		t.Fatal(err)
	}
	m.HandleFault(base, platform.Write, 0, nil)
	for i := uint64(0); i < n; i++ {
		if as.prot[base+i*arch.PageSize] != rw {
			t.Fatalf("page %d of a 288 KiB data segment not mapped writable after one fault", i)
		}
	}
}

// When ld.so maps a library's second segment over its reservation
// (MAP_FIXED, MAP_DENYWRITE), the start of the first segment, what is left
// of the reservation below, is mapped too; nothing above the new segment.
func TestELFSegmentMapsHeadBelow(t *testing.T) {
	m, as, mf := newMM(t)
	f := newFakeFile(t, mf, 32, pagesRange(0, 32)...)
	pf := peekableFile{f}
	base, err := m.Mmap(MmapOpts{Length: 32 * arch.PageSize, Prot: platform.Read, Object: pf, CopyWhole: true})
	if err != nil {
		t.Fatal(err)
	}
	text := base + 8*arch.PageSize
	if _, err := m.Mmap(MmapOpts{Addr: text, Length: 8 * arch.PageSize, Prot: platform.Read | platform.Exec, Object: pf, Pgoff: 8,
		Fixed: true, CopyWhole: true, Prefault: true}); err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < 32; i++ {
		_, mapped := as.mapped[base+i*arch.PageSize]
		if want := i < 16; mapped != want {
			t.Errorf("page %d mapped %v after the text segment's mmap, want %v", i, mapped, want)
		}
	}
}

// prefetchingFile is a peekableFile that records its Prefetch calls.
type prefetchingFile struct {
	peekableFile
	calls *[][3]uint64
}

func (f prefetchingFile) Prefetch(first, end, from uint64) {
	*f.calls = append(*f.calls, [3]uint64{first, end, from})
}

// A read fault in an executable private file mapping asks the object to
// prefetch the part of the file it and its neighbours mapping the same
// file map (an ELF object's segments) from the faulting page on, as does
// the prefault of a freshly loaded program (from its entry); a fault in a
// mapping that is not executable does not, and neither a mapping of the
// file elsewhere nor a neighbour mapping another object widens the range.
func TestExecFaultPrefetches(t *testing.T) {
	m, _, mf := newMM(t)
	var calls [][3]uint64
	f := prefetchingFile{peekableFile{newFakeFile(t, mf, 200)}, &calls}
	other := prefetchingFile{peekableFile{newFakeFile(t, mf, 200)}, &calls}
	const base uint64 = 0x40000000
	mmap := func(addr, pages uint64, prot platform.Access, obj memmap.Mappable, pgoff uint64) {
		t.Helper()
		if _, err := m.Mmap(MmapOpts{Addr: addr, Fixed: true, Length: pages * arch.PageSize, Prot: prot, Object: obj, Pgoff: pgoff}); err != nil {
			t.Fatal(err)
		}
	}
	mmap(base-8*arch.PageSize, 8, platform.Read, other, 0)               // another file, just below
	mmap(base, 40, platform.Read|platform.Exec, f, 10)                   // the text: pages [10, 50)
	mmap(base+40*arch.PageSize, 20, platform.Read, f, 60)                // read-only data beside it: [60, 80)
	mmap(base+100*arch.PageSize, 5, platform.Read|platform.Exec, f, 150) // the file again, elsewhere
	data := base + 40*arch.PageSize
	if r := m.HandleFault(data+3*arch.PageSize, platform.Read, 0, nil); r != FaultHandled {
		t.Fatalf("fault in the data = %v", r)
	}
	if len(calls) != 0 {
		t.Fatalf("a fault in a mapping that is not executable prefetched: %v", calls)
	}
	fault := base + 25*arch.PageSize + 12
	if r := m.HandleFault(fault, platform.Exec, fault, nil); r != FaultHandled {
		t.Fatalf("fault in the text = %v", r)
	}
	if want := [3]uint64{10, 80, 35}; len(calls) != 1 || calls[0] != want {
		t.Fatalf("Prefetch calls after a fault in the text: %v, want [%v]", calls, want)
	}
	calls = calls[:0]
	m.PrefaultNew(base + 7*arch.PageSize + 5)
	if len(calls) != 2 || calls[0] != [3]uint64{10, 80, 17} || calls[1] != [3]uint64{150, 155, 150} {
		t.Fatalf("Prefetch calls of a new program's prefault: %v, want [[10 80 17] [150 155 150]]", calls)
	}
}

// An mmap of a small readable shared mapping maps all of it at once (the
// program reads it next); a larger one is left to its faults.
func TestSmallSharedMappingPrefaulted(t *testing.T) {
	m, as, mf := newMM(t)
	f := newFakeFile(t, mf, 64, pagesRange(0, 64)...)
	small, err := m.Mmap(MmapOpts{Length: 4 * arch.PageSize, Prot: platform.Read, Object: f, Shared: true, Prefault: true})
	if err != nil {
		t.Fatal(err)
	}
	for p := small; p < small+4*arch.PageSize; p += arch.PageSize {
		if _, ok := as.mapped[p]; !ok {
			t.Errorf("page %#x of the small shared mapping not mapped at mmap", p)
		}
	}
	big, err := m.Mmap(MmapOpts{Length: 2 * faultRun, Prot: platform.Read, Object: f, Shared: true, Prefault: true})
	if err != nil {
		t.Fatal(err)
	}
	for p := big; p < big+2*faultRun; p += arch.PageSize {
		if _, ok := as.mapped[p]; ok {
			t.Fatalf("page %#x of a large shared mapping mapped at mmap", p)
		}
	}
}

// A data segment's window is copied whole even when uk holds none of its
// file's pages yet (a program's first run): its pages are read from the
// file, and map as one run.
func TestDataSegmentWindowReadsFile(t *testing.T) {
	m, as, mf := newMM(t)
	n := uint64(copyWholeMax/arch.PageSize + 64)
	f := newFakeFile(t, mf, n) // nothing held: PeekPage finds no page
	calls := 0
	m.as = &countingAS{fakeAS: as, calls: &calls}
	base, err := m.Mmap(MmapOpts{Length: n * arch.PageSize, Prot: rw, Object: peekableFile{f}, CopyWhole: true})
	if err != nil {
		t.Fatal(err)
	}
	fault := base + faultRun + 5*arch.PageSize
	calls = 0
	if r := m.HandleFault(fault, platform.Write, 0, nil); r != FaultHandled {
		t.Fatalf("write fault = %v", r)
	}
	if len(m.pages) != faultRun/arch.PageSize {
		t.Fatalf("%d pages copied, want the window's %d", len(m.pages), faultRun/arch.PageSize)
	}
	if calls != 1 {
		t.Errorf("%d platform mappings for the window, want 1", calls)
	}
}

// A copy made in a window or small VMA whose earlier copies are mapped
// maps only itself: the earlier ones stay as they are.
func TestCopyMapsOnlyNewPages(t *testing.T) {
	m, as, mf := newMM(t)
	const n = 8
	f := newFakeFile(t, mf, n) // nothing held: each write copies its page only
	calls := 0
	m.as = &countingAS{fakeAS: as, calls: &calls}
	base, err := m.Mmap(MmapOpts{Length: n * arch.PageSize, Prot: rw, Object: peekableFile{f}, CopyWhole: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []uint64{6, 2, 4} {
		a := base + p*arch.PageSize
		if _, ok := m.pages[a]; ok {
			t.Fatalf("page %d copied before its write", p)
		}
		calls = 0
		if r := m.HandleFault(a, platform.Write, 0, nil); r != FaultHandled {
			t.Fatalf("write fault on page %d = %v", p, r)
		}
		if calls != 1 || as.prot[a] != rw || as.mapped[a] != m.pages[a] {
			t.Fatalf("write fault on page %d: %d platform mappings, want 1 (its copy, writable)", p, calls)
		}
	}
}
