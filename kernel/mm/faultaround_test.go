package mm

import (
	"testing"

	"uk/arch"
	"uk/kernel/memfile"
	"uk/platform"
)

const kib = 1 << 10

// TestAnonWindow: the window a fault gets, from the VMA's record of the
// last ones: aligned base windows clipped to the VMA, doubling only for a
// write where a recent window ended (or just below where it started, for a
// run going down), up to maxFaultRun.
func TestAnonWindow(t *testing.T) {
	const vs, ve = 0x100000, 0x100000 + 64<<20 // a 64 MiB VMA, 1 MiB aligned
	tests := []struct {
		name       string
		vStart     uint64
		vEnd       uint64
		faults     []fault // in order; the last one's window is checked
		start, end uint64
		window     uint64 // the window recorded after the last fault
	}{
		{"first fault: the aligned base window", vs, ve,
			[]fault{{vs + 0x13000, true}}, vs + 0x10000, vs + 0x20000, faultRun},
		{"clipped to the VMA's start", vs + 0x3000, ve,
			[]fault{{vs + 0x5000, true}}, vs + 0x3000, vs + 0x10000, faultRun},
		{"clipped to the VMA's end", vs, vs + 0x15000,
			[]fault{{vs + 0x14000, true}}, vs + 0x10000, vs + 0x15000, faultRun},
		{"a one-page VMA", vs, vs + arch.PageSize,
			[]fault{{vs, true}}, vs, vs + arch.PageSize, faultRun},
		{"a write where the last window ended doubles it", vs, ve,
			[]fault{{vs, true}, {vs + faultRun, true}}, vs + faultRun, vs + 3*faultRun, 2 * faultRun},
		{"and again", vs, ve,
			[]fault{{vs, true}, {vs + faultRun, true}, {vs + 3*faultRun, true}}, vs + 3*faultRun, vs + 7*faultRun, 4 * faultRun},
		{"a read there does not grow it", vs, ve,
			[]fault{{vs, true}, {vs + faultRun, false}}, vs + faultRun, vs + 2*faultRun, faultRun},
		{"a write elsewhere starts over", vs, ve,
			[]fault{{vs, true}, {vs + faultRun, true}, {vs + 1<<20, true}}, vs + 1<<20, vs + 1<<20 + faultRun, faultRun},
		{"a write inside the last window starts over", vs, ve,
			[]fault{{vs, true}, {vs + faultRun, true}, {vs + faultRun + 0x4000, true}}, vs + faultRun, vs + 2*faultRun, faultRun},
		{"a sequential window is clipped to the VMA's end", vs, vs + 100*kib,
			[]fault{{vs, true}, {vs + faultRun, true}}, vs + faultRun, vs + 100*kib, 2 * faultRun},
		{"never beyond maxFaultRun", vs, ve, sequentialFaults(vs, 12), 0, 0, maxFaultRun},
		{"a write just below the last window doubles it downwards", vs, ve,
			[]fault{{vs + 0x100000, true}, {vs + 0x100000 - arch.PageSize, true}}, vs + 0x100000 - 2*faultRun, vs + 0x100000, 2 * faultRun},
		{"and again", vs, ve,
			[]fault{{vs + 0x100000, true}, {vs + 0x100000 - arch.PageSize, true}, {vs + 0x100000 - 2*faultRun - arch.PageSize, true}},
			vs + 0x100000 - 6*faultRun, vs + 0x100000 - 2*faultRun, 4 * faultRun},
		{"a downward window is clipped to the VMA's start", vs + 0x3000, ve,
			[]fault{{vs + 0x10000, true}, {vs + 0xf000, true}}, vs + 0x3000, vs + 0x10000, 2 * faultRun},
		{"a read below does not grow it", vs, ve,
			[]fault{{vs + 0x100000, true}, {vs + 0x100000 - arch.PageSize, false}}, vs + 0x100000 - faultRun, vs + 0x100000, faultRun},
		{"a run going up does not turn down", vs, ve,
			[]fault{{vs + 0x100000, true}, {vs + 0x100000 + faultRun, true}, {vs + 0x100000 + faultRun - arch.PageSize, true}},
			vs + 0x100000, vs + 0x100000 + faultRun, faultRun},
		{"a run going down does not turn up", vs, ve,
			[]fault{{vs + 0x100000, true}, {vs + 0x100000 - arch.PageSize, true}, {vs + 0x100000, true}},
			vs + 0x100000, vs + 0x100000 + faultRun, faultRun},
		{"two interleaved runs each keep growing", vs, ve,
			[]fault{{vs, true}, {vs + 0x1000000, true}, {vs + faultRun, true}, {vs + 0x1000000 - arch.PageSize, true}, {vs + 3*faultRun, true}},
			vs + 3*faultRun, vs + 7*faultRun, 4 * faultRun},
		{"a run is forgotten after faultStreams others", vs, ve,
			[]fault{{vs, true}, {vs + 1<<20, true}, {vs + 2<<20, true}, {vs + 3<<20, true}, {vs + 4<<20, true}, {vs + faultRun, true}},
			vs + faultRun, vs + 2*faultRun, faultRun},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var fa faultAround
			var start, end uint64
			for _, f := range tc.faults {
				start, end = fa.anonWindow(tc.vStart, tc.vEnd, f.page, f.write)
				if f.page < start || f.page >= end || start < tc.vStart || end > tc.vEnd {
					t.Fatalf("fault at %#x: window [%#x, %#x) must hold it and lie in the VMA [%#x, %#x)", f.page, start, end, tc.vStart, tc.vEnd)
				}
			}
			if tc.end != 0 && (start != tc.start || end != tc.end) {
				t.Errorf("window [%#x, %#x), want [%#x, %#x)", start, end, tc.start, tc.end)
			}
			if r := fa.runs[0]; r.window != tc.window || r.start != start || r.end != end {
				t.Errorf("recorded window %#x at [%#x, %#x), want %#x at [%#x, %#x)", r.window, r.start, r.end, tc.window, start, end)
			}
		})
	}
}

// fault is one application fault for anonWindow.
type fault struct {
	page  uint64
	write bool
}

// sequentialFaults is the faults of a program writing pages in order from
// start: one at the end of each window (each window holds the one before
// it twice, up to maxFaultRun).
func sequentialFaults(start uint64, n int) []fault {
	out := make([]fault, n)
	at, w := start, uint64(faultRun)
	for i := range out {
		out[i].page, out[i].write = at, true
		at += w
		w = min(2*w, maxFaultRun)
	}
	return out
}

// TestFaultAroundPopulate: what a fault in a private anonymous VMA backs
// and maps: only missing pages (present ones keep their page), with the
// VMA's rights, and just the faulting page when memory is short.
func TestFaultAroundPopulate(t *testing.T) {
	tests := []struct {
		name     string
		memory   int64 // the memory file's size
		prot     platform.Access
		present  []uint64 // pages (index in the VMA) written before the fault
		fault    uint64   // page index of the fault
		access   platform.Access
		repeat   bool // fault twice at the same place (a write to read-only memory is refused then)
		want     FaultResult
		newPages int // pages the fault allocates
		mapped   int // pages mapped in the window afterwards
	}{
		{"untouched: the base window", 64 << 20, rw, nil, 3, platform.Write, false, FaultHandled, 16, 16},
		{"present pages are kept, not allocated again", 64 << 20, rw, []uint64{0, 1, 15}, 3, platform.Write, false, FaultHandled, 13, 16},
		{"a read of untouched memory: the base window", 64 << 20, rw, nil, 3, platform.Read, false, FaultHandled, 16, 16},
		{"read-only memory: mapped read-only", 64 << 20, platform.Read, nil, 3, platform.Read, false, FaultHandled, 16, 16},
		{"write to read-only memory: mapped readable once, refused on the repeat", 64 << 20, platform.Read, nil, 3, platform.Write, true, FaultAccErr, 16, 16},
		{"PROT_NONE: refused", 64 << 20, 0, nil, 3, platform.Read, false, FaultAccErr, 0, 0},
		// 24 pages in the file (page 0 is never handed out): a window
		// of 16 missing pages needs 32 left.
		{"memory short: the faulting page only", 24 * arch.PageSize, rw, nil, 3, platform.Write, false, FaultHandled, 1, 1},
		{"memory short with pages present", 24 * arch.PageSize, rw, []uint64{0}, 3, platform.Write, false, FaultHandled, 1, 2},
		{"memory gone: the OOM killer's turn", arch.PageSize, rw, nil, 3, platform.Write, false, FaultNoMem, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, as, _ := newMMSized(t, tc.memory)
			// At a 1 MiB boundary, so that the base window is the
			// VMA's first faultRun.
			a, err := m.Mmap(MmapOpts{Addr: 0x40000000, Fixed: true, Length: 1 << 20, Prot: rw})
			if err != nil {
				t.Fatal(err)
			}
			before := map[uint64]int64{}
			for _, i := range tc.present {
				p := a + i*arch.PageSize
				if err := m.CopyOut(p, []byte{1}); err != nil {
					t.Fatal(err)
				}
				before[p] = m.pages[p]
			}
			// Only the pages written above stay: the test is of the
			// fault.
			for q := a; q < a+1<<20; q += arch.PageSize {
				if _, ok := before[q]; !ok {
					if err := m.MadviseDontNeed(q, arch.PageSize); err != nil {
						t.Fatal(err)
					}
				}
			}
			m.vmas[0].fa = faultAround{}
			if tc.prot != rw {
				if err := m.Mprotect(a, 1<<20, tc.prot, false); err != nil {
					t.Fatal(err)
				}
			}
			n0 := m.PrivatePages()
			p := a + tc.fault*arch.PageSize
			var last LastFault
			got := m.HandleFault(p, tc.access, 1, &last)
			if tc.repeat {
				got = m.HandleFault(p, tc.access, 1, &last)
			}
			if got != tc.want {
				t.Fatalf("fault = %v, want %v", got, tc.want)
			}
			if n := m.PrivatePages() - n0; n != tc.newPages {
				t.Errorf("%d pages allocated, want %d", n, tc.newPages)
			}
			for q, off := range before {
				if m.pages[q] != off {
					t.Errorf("present page %#x moved from %#x to %#x", q, off, m.pages[q])
				}
			}
			mapped := 0
			for q := a; q < a+faultRun; q += arch.PageSize {
				if _, ok := as.mapped[q]; !ok {
					continue
				}
				mapped++
				if as.prot[q] != tc.prot {
					t.Errorf("page %#x mapped %v, want the VMA's %v", q, as.prot[q], tc.prot)
				}
				if as.mapped[q] != m.pages[q] {
					t.Errorf("page %#x maps %#x, the MM has %#x", q, as.mapped[q], m.pages[q])
				}
			}
			if mapped != tc.mapped {
				t.Errorf("%d pages of the window mapped, want %d", mapped, tc.mapped)
			}
		})
	}
}

// touch writes one byte to each page of [a, a+n) in order, as the
// application would: a fault where the page is not mapped (the fake
// platform's record), a plain store otherwise. It returns the faults.
func touch(t *testing.T, m *MM, as *fakeAS, a, n uint64) int {
	t.Helper()
	return touchDir(t, m, as, a, n, false)
}

// touchDir is touch, going down from the top of the range when down.
func touchDir(t *testing.T, m *MM, as *fakeAS, a, n uint64, down bool) int {
	t.Helper()
	faults := 0
	for i := uint64(0); i < n; i += arch.PageSize {
		p := a + i
		if down {
			p = a + n - arch.PageSize - i
		}
		if _, ok := as.mapped[p]; ok {
			continue
		}
		faults++
		if r := m.HandleFault(p, platform.Write, 1, nil); r != FaultHandled {
			t.Fatalf("fault at %#x = %v", p, r)
		}
		if _, ok := as.mapped[p]; !ok {
			t.Fatalf("fault at %#x left it unmapped", p)
		}
	}
	return faults
}

// TestSequentialTouchFewFaults: a program writing 32 MiB of fresh memory a
// page at a time takes a few dozen faults and mapping edits for 8192
// pages, holds no page it was not about to touch beyond one window, and
// everything the MM reports (RSS, mincore) is what is mapped; fork,
// madvise(DONTNEED), mprotect and munmap of the windows' pages behave.
func TestSequentialTouchFewFaults(t *testing.T) {
	const size = 32 << 20
	m, fas, mf, a := touchFewFaults(t, size, false)
	vec := make([]byte, 12) // to the VMA's end: the last window and the pages past it
	if err := m.Mincore(a+size-8*arch.PageSize, vec); err != nil {
		t.Fatal(err)
	}
	for i, b := range vec {
		p := a + size - 8*arch.PageSize + uint64(i)*arch.PageSize
		if _, ok := fas.mapped[p]; (b == 1) != ok {
			t.Errorf("mincore says %d for %#x, mapped %v", b, p, ok)
		}
	}

	// Copy-on-write after fork, one page per write.
	m.CopyOut(a+5*arch.PageSize, []byte("parent"))
	child := forked(m, newFakeAS())
	if fas.prot[a+5*arch.PageSize]&platform.Write != 0 {
		t.Errorf("a window page is still writable in the parent after fork")
	}
	n0 := m.PrivatePages()
	checkForkIsolation(t, m, child, a+5*arch.PageSize)
	if r := m.HandleFault(a+6*arch.PageSize, platform.Write, 2, nil); r != FaultHandled {
		t.Fatal(r)
	}
	if m.PrivatePages() != n0 || mf.RefCount(m.pages[a+6*arch.PageSize]) != 1 || fas.prot[a+6*arch.PageSize] != rw {
		t.Errorf("copy-on-write break in a window: pages %d (was %d), refs %d, prot %v",
			m.PrivatePages(), n0, mf.RefCount(m.pages[a+6*arch.PageSize]), fas.prot[a+6*arch.PageSize])
	}
	child.DecUsers()

	// madvise(DONTNEED) drops the pages; the next touch backs them again.
	if err := m.MadviseDontNeed(a, 1<<20); err != nil {
		t.Fatal(err)
	}
	if _, ok := fas.mapped[a]; ok || len(m.presentInLocked(a, a+1<<20)) != 0 {
		t.Fatal("madvise(DONTNEED) left pages")
	}
	buf := []byte{9}
	m.CopyIn(a+5*arch.PageSize, buf)
	if buf[0] != 0 {
		t.Errorf("dropped page reads %d, want 0", buf[0])
	}
	touch(t, m, fas, a, 1<<20)

	// mprotect and munmap take the windows' pages with them.
	if err := m.Mprotect(a, size, platform.Read, false); err != nil {
		t.Fatal(err)
	}
	if fas.prot[a+size-arch.PageSize] != platform.Read {
		t.Errorf("after mprotect(PROT_READ) a window page is mapped %v", fas.prot[a+size-arch.PageSize])
	}
	if err := m.Munmap(a, size+4*arch.PageSize); err != nil {
		t.Fatal(err)
	}
	if len(fas.mapped) != 0 || m.PrivatePages() != 0 || mf.UsedPages() != 0 {
		t.Errorf("after munmap: %d mapped, %d held, %d used", len(fas.mapped), m.PrivatePages(), mf.UsedPages())
	}
}

// TestDownwardTouchFewFaults: a program writing 32 MiB of fresh memory a
// page at a time from the top down (GNU sort's line table) takes as few
// faults as one writing upwards, and holds no page beyond the VMA.
func TestDownwardTouchFewFaults(t *testing.T) {
	touchFewFaults(t, 32<<20, true)
}

// touchFewFaults writes size bytes of fresh memory in a new MM a page at a
// time (from the top down when down) and checks that it takes at most a
// fault and a mapping edit per 256 pages and holds only pages of the VMA,
// every one mapped. It returns the MM, its address space and memory file,
// and where the memory is.
func touchFewFaults(t *testing.T, size uint64, down bool) (*MM, *fakeAS, *memfile.File, uint64) {
	t.Helper()
	m, fas, mf := newMM(t) // size must leave room in its 64 MiB
	calls := 0
	m.as = &countingAS{fakeAS: fas, calls: &calls}
	a, err := m.Mmap(MmapOpts{Length: size + 4*arch.PageSize, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	faults := touchDir(t, m, fas, a, size, down)
	if pages := int(size / arch.PageSize); faults > pages/256 || calls > pages/256 {
		t.Errorf("%d faults and %d mapping edits for %d pages, want at most %d", faults, calls, pages, pages/256)
	}
	t.Logf("%d pages: %d faults, %d mapping edits", size/arch.PageSize, faults, calls)
	if n := m.PrivatePages(); uint64(n)*arch.PageSize > size+4*arch.PageSize || len(fas.mapped) != n {
		t.Errorf("%d pages held, %d mapped; want every held page mapped, none beyond the VMA", n, len(fas.mapped))
	}
	return m, fas, mf, a
}

// TestSparseTouchDoesNotBalloon: touching one page a megabyte in a huge
// reservation (Go's heap, Java's) backs a base window per touch, not a
// growing one.
func TestSparseTouchDoesNotBalloon(t *testing.T) {
	m, as, _ := newMM(t)
	const size = 1 << 30
	a, err := m.Mmap(MmapOpts{Length: size, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	touches := 0
	for p := a; p < a+size; p += 1 << 20 {
		touch(t, m, as, p, arch.PageSize)
		touches++
	}
	if n := m.PrivatePages(); n > touches*faultRun/arch.PageSize {
		t.Errorf("%d pages for %d sparse touches, want at most %d", n, touches, touches*faultRun/arch.PageSize)
	}
}

// TestSequentialTouchFillsBudget: a program that writes, in order, exactly
// as much memory as the budget holds gets it all, as it would page by
// page: the windows never take pages it will not reach.
func TestSequentialTouchFillsBudget(t *testing.T) {
	const size = 8 << 20
	m, as, mf := newMMSized(t, size)
	budget := uint64(mf.PagesLeft()) * arch.PageSize
	a, err := m.Mmap(MmapOpts{Length: 2 * size, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	touch(t, m, as, a, budget)
	if r := m.HandleFault(a+budget, platform.Write, 1, nil); r != FaultNoMem {
		t.Errorf("a page beyond the budget: %v, want FaultNoMem", r)
	}
}

// TestBrkPrefaultStartsNoRun: the pages Brk backs ahead of the program are
// no touch of its own, so a fault where they end gets the base window, not
// a grown one (a static program's heap: one page for its TLS, then 132 KiB
// of which it touches a few; each fork would copy the rest).
func TestBrkPrefaultStartsNoRun(t *testing.T) {
	m, as, _ := newMM(t)
	const heap = 0x4c9000
	m.SetBrkStart(heap)
	m.Brk(heap + arch.PageSize)
	m.Brk(heap + 34*arch.PageSize)
	n := m.PrivatePages()
	if n != 7 {
		t.Errorf("%d pages backed by the two brks, want 7 (the page, then to the 64 KiB boundary)", n)
	}
	touch(t, m, as, heap+7*arch.PageSize, arch.PageSize)
	if got := m.PrivatePages() - n; got != faultRun/arch.PageSize {
		t.Errorf("the fault after brk's pages backed %d pages, want the base window's %d", got, faultRun/arch.PageSize)
	}
}

// lazyAS is a fakeAS that can map lazily (platform.LazyMapper) and
// records which pages were mapped which way.
type lazyAS struct {
	*fakeAS
	lazy map[uint64]bool // page -> mapped by the last call lazily
}

func (l *lazyAS) MapFile(addr uint64, off int64, length uint64, a platform.Access) error {
	l.record(addr, length, false)
	return l.fakeAS.MapFile(addr, off, length, a)
}

func (l *lazyAS) MapFileLazy(addr uint64, off int64, length uint64, a platform.Access) error {
	l.record(addr, length, true)
	return l.fakeAS.MapFile(addr, off, length, a)
}

func (l *lazyAS) record(addr, length uint64, lazy bool) {
	for i := uint64(0); i < length; i += arch.PageSize {
		l.lazy[addr+i] = lazy
	}
}

// TestColdWindowsMappedLazily: a fault window of pages the host never
// backed is mapped for the host to fill at first touch; one of warm
// (resident, recycled) pages is mapped to be populated, as are the pages
// a copy-on-write break fills.
func TestColdWindowsMappedLazily(t *testing.T) {
	m, fas, _ := newMM(t)
	as := &lazyAS{fakeAS: fas, lazy: map[uint64]bool{}}
	m.as = as
	v, err := m.Mmap(MmapOpts{Length: 4 * faultRun, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	a := (v + faultRun - 1) &^ (faultRun - 1) // a whole base window
	if r := m.HandleFault(a, platform.Write, 1, nil); r != FaultHandled {
		t.Fatalf("fault = %v", r)
	}
	for p := a; p < a+faultRun; p += arch.PageSize {
		if lazy, ok := as.lazy[p]; !ok || !lazy {
			t.Fatalf("fresh window page %#x: mapped %v, lazily %v; want lazily", p, ok, lazy)
		}
	}
	// Freed, the window's pages go warm (the memory file keeps them
	// resident); the next window takes them and is populated.
	if err := m.Munmap(a, faultRun); err != nil {
		t.Fatal(err)
	}
	m.mf.Settle()
	b := a + 2*faultRun
	if r := m.HandleFault(b, platform.Write, 1, nil); r != FaultHandled {
		t.Fatalf("fault = %v", r)
	}
	if lazy, ok := as.lazy[b]; !ok || lazy {
		t.Errorf("window of warm pages at %#x: mapped %v, lazily %v; want populated", b, ok, lazy)
	}
}
