package mm

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memfile"
	"uk/platform"
)

// fakeAS records what the MM asks of the platform.
type fakeAS struct {
	mapped map[uint64]int64 // page -> memory-file offset
	prot   map[uint64]platform.Access
	calls  int // MapFile and Unmap calls
}

func newFakeAS() *fakeAS {
	return &fakeAS{mapped: map[uint64]int64{}, prot: map[uint64]platform.Access{}}
}

func (f *fakeAS) MapFile(addr uint64, off int64, length uint64, a platform.Access) error {
	f.calls++
	for i := uint64(0); i < length; i += arch.PageSize {
		f.mapped[addr+i] = off + int64(i)
		f.prot[addr+i] = a
	}
	return nil
}

func (f *fakeAS) Unmap(addr, length uint64) error {
	f.calls++
	for a := range f.mapped {
		if a >= addr && a-addr < length {
			delete(f.mapped, a)
			delete(f.prot, a)
		}
	}
	return nil
}

func (f *fakeAS) Release() {}

// forked is m.Fork without the child's prefault: the child's address
// space holds nothing yet.
func forked(m *MM, as platform.AddressSpace) *MM {
	c, _, _ := m.forkOnly(as)
	return c
}

func newMM(t *testing.T) (*MM, *fakeAS, *memfile.File) {
	t.Helper()
	return newMMSized(t, 64<<20)
}

// newMMSized is newMM over a memory file of size bytes.
func newMMSized(t *testing.T, size int64) (*MM, *fakeAS, *memfile.File) {
	t.Helper()
	as := newFakeAS()
	m, mf := newMMOver(t, size, as)
	return m, as, mf
}

// newMMOver is an MM over as and a memory file of size bytes.
func newMMOver(t *testing.T, size int64, as platform.AddressSpace) (*MM, *memfile.File) {
	t.Helper()
	mf, err := memfile.New(size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	// Every test checks the page-lifetime invariant on every free.
	EnablePageCheck(mf)
	return New(mf, as, NewLayout(0x7fffffffe000)), mf
}

const rw = platform.Read | platform.Write

func TestMmapPlacementAndFault(t *testing.T) {
	m, as, _ := newMM(t)
	a, err := m.Mmap(MmapOpts{Length: 3 * arch.PageSize, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Mmap(MmapOpts{Length: arch.PageSize, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	if b+arch.PageSize != a {
		t.Errorf("second mapping at %#x, want just below the first at %#x (top-down)", b, a)
	}
	if r := m.HandleFault(a+arch.PageSize+5, platform.Write, 0, nil); r != FaultHandled {
		t.Fatalf("fault = %v", r)
	}
	if _, ok := as.mapped[a+arch.PageSize]; !ok {
		t.Errorf("faulting page not mapped")
	}
	if r := m.HandleFault(0x1000, platform.Read, 0, nil); r != FaultMapErr {
		t.Errorf("fault on unmapped = %v, want MapErr", r)
	}
	if err := m.Mprotect(a, arch.PageSize, platform.Read, false); err != nil {
		t.Fatal(err)
	}
	// Two threads fault at the same instruction and address (the second
	// finds the page mapped by the first, and its store decodes as a
	// write): neither is refused until one of them faults there again.
	var thread1, thread2 LastFault
	if r := m.HandleFault(a, platform.Write, 1, &thread1); r != FaultHandled {
		t.Errorf("first write fault on read-only page = %v, want a readable mapping first", r)
	}
	if r := m.HandleFault(a, platform.Write, 1, &thread2); r != FaultHandled {
		t.Errorf("another thread's first write fault at the same place = %v, want a readable mapping first", r)
	}
	if r := m.HandleFault(a, platform.Write, 1, &thread1); r != FaultAccErr {
		t.Errorf("repeated write fault on read-only page = %v, want AccErr", r)
	}
}

func TestCopyAndMunmap(t *testing.T) {
	m, as, _ := newMM(t)
	a, _ := m.Mmap(MmapOpts{Length: 2 * arch.PageSize, Prot: rw})
	msg := []byte("across a page boundary")
	if err := m.CopyOut(a+arch.PageSize-5, msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if err := m.CopyIn(a+arch.PageSize-5, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("CopyIn = %q, %v", got, err)
	}
	m.HandleFault(a, platform.Read, 0, nil)
	if err := m.Munmap(a, 2*arch.PageSize); err != nil {
		t.Fatal(err)
	}
	if len(as.mapped) != 0 {
		t.Errorf("pages still mapped after munmap: %v", as.mapped)
	}
	if err := m.CopyIn(a, got); err != unix.EFAULT {
		t.Errorf("CopyIn after munmap = %v, want EFAULT", err)
	}
}

// A small writable VMA is copied at fork: the child gets fresh pages, the
// parent keeps its own, mapped as they were (a fork changes nothing in
// the parent's address space for them), and writes on either side stay
// there.
func TestForkCopiesSmallVMA(t *testing.T) {
	parent, pas, mf := newMM(t)
	a, _ := parent.Mmap(MmapOpts{Length: arch.PageSize, Prot: rw})
	parent.CopyOut(a, []byte("parent"))
	if r := parent.HandleFault(a, platform.Write, 0, nil); r != FaultHandled {
		t.Fatal(r)
	}
	orig := parent.pages[a]
	calls := pas.calls
	child := forked(parent, newFakeAS())
	if parent.pages[a] != orig || child.pages[a] == orig {
		t.Fatalf("parent has %#x, child %#x; want the parent to keep the original %#x and the child a copy", parent.pages[a], child.pages[a], orig)
	}
	if pas.calls != calls || pas.mapped[a] != orig || pas.prot[a] != rw {
		t.Errorf("parent's address space changed by the fork: %d calls, page mapped %#x %v", pas.calls-calls, pas.mapped[a], pas.prot[a])
	}
	if n := mf.RefCount(orig); n != 1 {
		t.Errorf("original has %d references, want 1 (the parent's)", n)
	}
	if n := mf.RefCount(child.pages[a]); n != 1 {
		t.Errorf("child's copy has %d references, want 1", n)
	}
	if r := child.HandleFault(a, platform.Write, 0, nil); r != FaultHandled {
		t.Fatal(r)
	}
	if cas := child.as.(*fakeAS); cas.mapped[a] != child.pages[a] || cas.prot[a] != rw {
		t.Errorf("child's own page not mapped writable by a write fault")
	}
	checkForkIsolation(t, parent, child, a)
}

// checkForkIsolation writes "child!" at a in the child, where the parent
// wrote "parent" before the fork, and checks that each sees its own.
func checkForkIsolation(t *testing.T, parent, child *MM, a uint64) {
	t.Helper()
	child.CopyOut(a, []byte("child!"))
	got := make([]byte, 6)
	parent.CopyIn(a, got)
	if string(got) != "parent" {
		t.Errorf("parent sees %q after the child wrote", got)
	}
	child.CopyIn(a, got)
	if string(got) != "child!" {
		t.Errorf("child sees %q", got)
	}
}

// A VMA with more than forkCopyMax pages is shared copy-on-write: read-only
// on both sides until one writes, and the writer gets the copy.
func TestForkCopyOnWrite(t *testing.T) {
	parent, pas, mf := newMM(t)
	const n = forkCopyMax + 1
	a, _ := parent.Mmap(MmapOpts{Length: n * arch.PageSize, Prot: rw})
	parent.CopyOut(a, make([]byte, n*arch.PageSize))
	parent.CopyOut(a, []byte("parent"))
	child := forked(parent, newFakeAS())
	if pas.prot[a]&platform.Write != 0 {
		t.Errorf("parent's shared page still mapped writable after fork")
	}
	if r := child.HandleFault(a, platform.Read, 0, nil); r != FaultHandled {
		t.Fatal(r)
	}
	if cas := child.as.(*fakeAS); cas.prot[a]&platform.Write != 0 {
		t.Errorf("shared COW page mapped writable in the child")
	}
	checkForkIsolation(t, parent, child, a)
	off := parent.pages[a]
	if n := mf.RefCount(off); n != 1 {
		t.Errorf("parent's page has %d references after the child copied, want 1", n)
	}
}

// With other threads in the parent, fork first takes their write access
// away (they could write a page while it is copied), then maps the
// parent's copies again.
func TestForkWithThreadsRevokesFirst(t *testing.T) {
	parent, pas, _ := newMM(t)
	a, _ := parent.Mmap(MmapOpts{Length: arch.PageSize, Prot: rw})
	parent.CopyOut(a, []byte("x"))
	parent.IncUsers() // a second thread
	unmaps := 0
	rec := &recordingAS{fakeAS: pas, onUnmap: func() { unmaps++ }}
	parent.as = rec
	forked(parent, newFakeAS())
	if unmaps == 0 {
		t.Errorf("fork with threads did not revoke the parent's writable mappings first")
	}
	if pas.prot[a] != rw {
		t.Errorf("parent's copy not mapped again after fork")
	}
}

// recordingAS reports Unmap calls.
type recordingAS struct {
	*fakeAS
	onUnmap func()
}

func (r *recordingAS) Unmap(addr, length uint64) error {
	r.onUnmap()
	return r.fakeAS.Unmap(addr, length)
}

func TestMremapMovesPages(t *testing.T) {
	m, _, _ := newMM(t)
	a, _ := m.Mmap(MmapOpts{Length: arch.PageSize, Prot: rw})
	m.CopyOut(a, []byte("keep"))
	// Block growth in place.
	m.Mmap(MmapOpts{Addr: a + arch.PageSize, Length: arch.PageSize, Prot: rw, Fixed: true})
	if _, err := m.Mremap(a, arch.PageSize, 2*arch.PageSize, false, false, 0); err != unix.ENOMEM {
		t.Errorf("mremap grow without MAYMOVE into used space = %v, want ENOMEM", err)
	}
	b, err := m.Mremap(a, arch.PageSize, 4*arch.PageSize, true, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b == a {
		t.Fatalf("mremap did not move")
	}
	got := make([]byte, 4)
	if err := m.CopyIn(b, got); err != nil || string(got) != "keep" {
		t.Errorf("moved contents = %q, %v", got, err)
	}
}

func TestBrk(t *testing.T) {
	m, _, _ := newMM(t)
	m.SetBrkStart(0x600000)
	if got := m.Brk(0x600000 + 10000); got != 0x600000+10000 {
		t.Fatalf("brk = %#x", got)
	}
	if err := m.CopyOut(0x600000+9000, []byte{1}); err != nil {
		t.Errorf("heap not writable: %v", err)
	}
	if got := m.Brk(0x500000); got != 0x600000+10000 {
		t.Errorf("brk below start = %#x, want unchanged", got)
	}
	m.Brk(0x600000)
	if err := m.CopyOut(0x600000+9000, []byte{1}); err != unix.EFAULT {
		t.Errorf("shrunk heap still writable: %v", err)
	}
}

func TestMadviseDontNeedZeroes(t *testing.T) {
	m, _, _ := newMM(t)
	a, _ := m.Mmap(MmapOpts{Length: arch.PageSize, Prot: rw})
	m.CopyOut(a, []byte{0xff})
	if err := m.MadviseDontNeed(a, arch.PageSize); err != nil {
		t.Fatal(err)
	}
	b := []byte{1}
	m.CopyIn(a, b)
	if b[0] != 0 {
		t.Errorf("page not zero after MADV_DONTNEED")
	}
}

// An MM filled before it has an address space maps nothing anywhere; once
// attached, Prefault maps what was written before.
func TestLoadBeforeAttach(t *testing.T) {
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	m := New(mf, nil, NewLayout(0x7fffffffe000))
	a, err := m.Mmap(MmapOpts{Length: 2 * arch.PageSize, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CopyOut(a+arch.PageSize, []byte("loaded early")); err != nil {
		t.Fatal(err)
	}
	as := newFakeAS()
	m.Attach(as)
	if len(as.mapped) != 0 {
		t.Fatalf("attach mapped %d pages; want none before Prefault", len(as.mapped))
	}
	// Prefault maps the page written before, as it would have been
	// mapped with the address space there all along.
	m.prefault(0, false)
	off, ok := as.mapped[a+arch.PageSize]
	if !ok {
		t.Fatal("page written before attach not mapped by Prefault")
	}
	if got := string(mf.Bytes(off, 12)); got != "loaded early" {
		t.Errorf("page maps %q, want what was written before attach", got)
	}
	if as.prot[a+arch.PageSize] != rw {
		t.Errorf("page mapped %v, want %v", as.prot[a+arch.PageSize], rw)
	}
}

// mprotect maps the process's own pages again with the new rights (no
// fault needed to reach them), never with rights the range lost, and leaves
// PROT_NONE pages unmapped.
func TestMprotectRemapsPresentPages(t *testing.T) {
	m, as, _ := newMM(t)
	a, err := m.Mmap(MmapOpts{Length: 4 * arch.PageSize, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CopyOut(a, make([]byte, 2*arch.PageSize)); err != nil {
		t.Fatal(err)
	}
	if err := m.Mprotect(a, 4*arch.PageSize, platform.Read, false); err != nil {
		t.Fatal(err)
	}
	for p := a; p < a+2*arch.PageSize; p += arch.PageSize {
		if _, ok := as.mapped[p]; !ok {
			t.Fatalf("present page %#x not mapped after mprotect", p)
		}
		if as.prot[p] != platform.Read {
			t.Errorf("page %#x mapped %v after mprotect(PROT_READ)", p, as.prot[p])
		}
	}
	if err := m.Mprotect(a, 4*arch.PageSize, 0, false); err != nil {
		t.Fatal(err)
	}
	if len(as.mapped) != 0 {
		t.Errorf("%d pages still mapped after mprotect(PROT_NONE)", len(as.mapped))
	}
}

// Prefault backs a small untouched anonymous area (a bss) at once, but not
// a large one, whose pages the program may never touch.
func TestPrefaultBacksSmallAnonymousArea(t *testing.T) {
	m, as, _ := newMM(t)
	small, _ := m.Mmap(MmapOpts{Length: 4 * arch.PageSize, Prot: rw})
	// Other rights, so that the two areas stay two VMAs.
	large, _ := m.Mmap(MmapOpts{Length: 4 * faultRun, Prot: platform.Read})
	m.prefault(0, false)
	for p := small; p < small+4*arch.PageSize; p += arch.PageSize {
		if _, ok := as.mapped[p]; !ok || as.prot[p] != rw {
			t.Fatalf("small area page %#x not backed and mapped writable", p)
		}
	}
	for p := large; p < large+4*faultRun; p += arch.PageSize {
		if _, ok := m.pages[p]; ok {
			t.Fatalf("large untouched area got page %#x at prefault", p)
		}
	}
}

// presentInLocked gives the same sorted answer whether it looks up each
// address of the range or scans the pages.
func TestPresentIn(t *testing.T) {
	m, _, _ := newMM(t)
	a, _ := m.Mmap(MmapOpts{Length: 64 * arch.PageSize, Prot: rw})
	for _, i := range []uint64{1, 2, 7, 40} {
		m.CopyOut(a+i*arch.PageSize, []byte{1})
	}
	for _, tc := range []struct {
		name       string
		start, end uint64
		want       []uint64
	}{
		{"small range, looked up", a + arch.PageSize, a + 3*arch.PageSize, []uint64{1, 2}},
		{"large range, scanned", a, a + 64*arch.PageSize, nil}, // filled below
	} {
		got := m.presentInLocked(tc.start, tc.end)
		want := tc.want
		if want == nil {
			for p := range m.pages {
				if p >= tc.start && p < tc.end {
					want = append(want, (p-a)/arch.PageSize)
				}
			}
			slices.Sort(want)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d pages, want %d", tc.name, len(got), len(want))
		}
		for i := range got {
			if got[i] != a+want[i]*arch.PageSize {
				t.Errorf("%s: page %d at %#x, want %#x", tc.name, i, got[i], a+want[i]*arch.PageSize)
			}
		}
	}
}

// TestOutOfMemory: an exhausted memory file is FaultNoMem for a fault and
// ErrNoMemory for a kernel copy (the OOM killer's cue), not SIGBUS or
// EFAULT; the MM's Released channel closes when its last user goes, and
// then the memory is there again.
func TestOutOfMemory(t *testing.T) {
	mf, err := memfile.New(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	EnablePageCheck(mf)
	hog := New(mf, newFakeAS(), NewLayout(0x7fffffffe000))
	a, err := hog.Mmap(MmapOpts{Length: 4 << 20, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	var last FaultResult
	for p := a; p < a+4<<20; p += arch.PageSize {
		if last = hog.HandleFault(p, platform.Write, p, nil); last != FaultHandled {
			break
		}
	}
	if last != FaultNoMem {
		t.Fatalf("fault with the memory file full = %v, want FaultNoMem", last)
	}
	if n := hog.PrivatePages(); n < 200 {
		t.Errorf("the hog holds %d pages, want nearly all 256", n)
	}
	other := New(mf, newFakeAS(), NewLayout(0x7fffffffe000))
	b, _ := other.Mmap(MmapOpts{Length: arch.PageSize, Prot: rw})
	if err := other.CopyOut(b, []byte("x")); err != ErrNoMemory {
		t.Errorf("CopyOut with the memory file full = %v, want ErrNoMemory", err)
	}
	select {
	case <-hog.Released():
		t.Fatal("Released closed while the MM has a user")
	default:
	}
	hog.DecUsers()
	<-hog.Released()
	if err := other.CopyOut(b, []byte("x")); err != nil {
		t.Errorf("CopyOut after the hog went = %v", err)
	}
	other.DecUsers()
}

// releaseCountingAS counts Release calls.
type releaseCountingAS struct {
	*fakeAS
	released int
}

func (r *releaseCountingAS) Release() { r.released++ }

// An MM with one user hands its address space over emptied (exec reuses a
// forked child's stub); the MM's pages go with its last user, the address
// space, now someone else's, is not released. An MM with more users keeps
// its own.
func TestTakeAddressSpace(t *testing.T) {
	m, fas, mf := newMM(t)
	as := &releaseCountingAS{fakeAS: fas}
	m.as = as
	a, _ := m.Mmap(MmapOpts{Length: 4 * arch.PageSize, Prot: rw})
	if err := m.CopyOut(a, []byte("old program")); err != nil {
		t.Fatal(err)
	}
	m.HandleFault(a, platform.Write, 0, nil)
	if len(fas.mapped) == 0 {
		t.Fatal("nothing mapped before the take")
	}
	m.IncUsers()
	if m.SoleUser() || m.TakeAddressSpace() != nil {
		t.Fatal("an MM with two users gave its address space away")
	}
	m.DecUsers()
	if !m.SoleUser() {
		t.Fatal("SoleUser false with one user")
	}
	got := m.TakeAddressSpace()
	if got != as {
		t.Fatalf("TakeAddressSpace = %v, want the MM's", got)
	}
	if len(fas.mapped) != 0 {
		t.Errorf("taken address space still maps %d pages", len(fas.mapped))
	}
	used := mf.UsedPages()
	m.DecUsers()
	if as.released != 0 {
		t.Errorf("the old MM released the address space it gave away")
	}
	if mf.UsedPages() >= used {
		t.Errorf("the old MM's pages were not freed with its last user")
	}
	// The new MM attaches it and maps into it.
	n := New(mf, nil, NewLayout(0x7fffffffe000))
	b, _ := n.Mmap(MmapOpts{Length: arch.PageSize, Prot: rw})
	n.CopyOut(b, []byte("new program"))
	n.Attach(got)
	n.prefault(0, false)
	if _, ok := fas.mapped[b]; !ok {
		t.Errorf("new program's page not mapped in the reused address space")
	}
	n.DecUsers()
	if as.released != 1 {
		t.Errorf("the new MM released the address space %d times, want 1", as.released)
	}
}

// A lone thread's mprotect of memory the address space maps only with
// the process's own pages remaps them with the new rights, without a
// synchronous platform unmap; with another thread, or with pages of a
// file mapped in the range, it unmaps first.
func TestMprotectLoneThreadRemapsWithoutUnmap(t *testing.T) {
	m, as, mf := newMM(t)
	unmaps := 0
	m.as = &recordingAS{fakeAS: as, onUnmap: func() { unmaps++ }}
	a, _ := m.Mmap(MmapOpts{Length: 4 * arch.PageSize, Prot: rw})
	if err := m.CopyOut(a, make([]byte, 4*arch.PageSize)); err != nil {
		t.Fatal(err)
	}
	if err := m.Mprotect(a, 2*arch.PageSize, platform.Read, false); err != nil {
		t.Fatal(err)
	}
	if unmaps != 0 {
		t.Errorf("%d platform unmaps for a lone thread's mprotect of its own pages, want 0", unmaps)
	}
	for p := a; p < a+4*arch.PageSize; p += arch.PageSize {
		want := platform.Read
		if p >= a+2*arch.PageSize {
			want = rw
		}
		if as.prot[p] != want {
			t.Errorf("page %#x mapped %v, want %v", p, as.prot[p], want)
		}
	}
	m.IncUsers()
	if err := m.Mprotect(a+2*arch.PageSize, 2*arch.PageSize, platform.Read, false); err != nil {
		t.Fatal(err)
	}
	m.DecUsers()
	if unmaps != 1 {
		t.Errorf("%d platform unmaps for an mprotect with two threads, want 1", unmaps)
	}
	// A file's page mapped read-only in the range: unmapped first.
	f := newFakeFile(t, mf, 4, pagesRange(0, 4)...)
	fm, _ := m.Mmap(MmapOpts{Length: 4 * arch.PageSize, Prot: platform.Read | platform.Exec, Object: peekableFile{f}})
	m.HandleFault(fm, platform.Read, 0, nil)
	if err := m.Mprotect(fm, 4*arch.PageSize, platform.Read, false); err != nil {
		t.Fatal(err)
	}
	if unmaps != 2 {
		t.Errorf("%d platform unmaps after an mprotect over a file's pages, want 2", unmaps)
	}
	if _, ok := as.mapped[fm]; ok {
		t.Errorf("file page still mapped with its old rights")
	}
}

// A freshly loaded program's prefault backs two pages of stack below what
// the loader wrote; a forked child's does not.
func TestPrefaultNewBacksStackBelow(t *testing.T) {
	for _, fresh := range []bool{true, false} {
		m, as, _ := newMM(t)
		top := m.Layout().StackTop
		if _, err := m.Mmap(MmapOpts{Addr: top - 32*arch.PageSize, Length: 32 * arch.PageSize, Prot: rw, Fixed: true, GrowsDown: true}); err != nil {
			t.Fatal(err)
		}
		if err := m.CopyOut(top-100, make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		if fresh {
			m.PrefaultNew(0)
		} else {
			m.prefault(0, false)
		}
		for i := uint64(1); i <= 3; i++ {
			p := top - (i+1)*arch.PageSize
			_, mapped := as.mapped[p]
			if want := fresh && i <= 2; mapped != want {
				t.Errorf("fresh %v: stack page %d below the top one mapped %v, want %v", fresh, i, mapped, want)
			}
		}
	}
}

// lateAS is a fakeAS whose release completes when the test says: the
// host tearing a stub down.
type lateAS struct {
	*fakeAS
	released bool
	done     func()
}

func (l *lateAS) Release() { l.released = true }

func (l *lateAS) ReleaseThen(done func()) { l.released, l.done = true, done }

// TestReleaseThenFreesLate: with a platform that says when its address
// space is gone (ReleaseThen), the last DecUsers releases it at once but
// frees the pages, and closes Released, only when the platform calls
// back: until then the killed stub may still reach them, and the budget
// counts them.
func TestReleaseThenFreesLate(t *testing.T) {
	as := &lateAS{fakeAS: newFakeAS()}
	m, mf := newMMOver(t, 16<<20, as)
	a, err := m.Mmap(MmapOpts{Length: 16 * arch.PageSize, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	before := mf.UsedPages()
	for p := a; p < a+16*arch.PageSize; p += arch.PageSize {
		if r := m.HandleFault(p, platform.Write, p, nil); r != FaultHandled {
			t.Fatalf("fault = %v", r)
		}
	}
	held := mf.UsedPages()
	if held <= before {
		t.Fatalf("pages used %d after faults, %d before: nothing allocated", held, before)
	}
	m.DecUsers()
	if !as.released || as.done == nil {
		t.Fatalf("DecUsers did not release the address space with ReleaseThen (released %v)", as.released)
	}
	select {
	case <-m.Released():
		t.Fatal("Released closed before the platform said its address space is gone")
	default:
	}
	if used := mf.UsedPages(); used != held {
		t.Errorf("pages used %d before the platform's callback, want still %d", used, held)
	}
	if r := pendingFor(mf).Reclaimable(); r != held-before {
		t.Errorf("pending pages %d, want %d", r, held-before)
	}
	// An allocation that needs them waits for them.
	got := make(chan int64)
	go func() { got <- pendingFor(mf).Reclaim(held - before) }()
	time.Sleep(10 * time.Millisecond)
	as.done()
	if n := <-got; n != held-before {
		t.Errorf("Reclaim reported %d pages back, want %d", n, held-before)
	}
	<-m.Released()
	if used := mf.UsedPages(); used != before {
		t.Errorf("pages used %d after the callback, want %d", used, before)
	}
}

// TestAllocationWaitsForPendingPages: with the memory file full of a dead
// process's pages that its platform has not let go of yet, another
// process's allocation waits for them instead of failing (which would
// wake the OOM killer for memory about to come back).
func TestAllocationWaitsForPendingPages(t *testing.T) {
	mf, err := memfile.New(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	EnablePageCheck(mf)
	as := &lateAS{fakeAS: newFakeAS()}
	hog := New(mf, as, NewLayout(0x7fffffffe000))
	a, err := hog.Mmap(MmapOpts{Length: 4 << 20, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	for p := a; p < a+4<<20; p += arch.PageSize {
		if hog.HandleFault(p, platform.Write, p, nil) != FaultHandled {
			break
		}
	}
	other := New(mf, newFakeAS(), NewLayout(0x7fffffffe000))
	b, _ := other.Mmap(MmapOpts{Length: arch.PageSize, Prot: rw})
	hog.DecUsers()
	go func() {
		time.Sleep(20 * time.Millisecond)
		as.done()
	}()
	if err := other.CopyOut(b, []byte("x")); err != nil {
		t.Errorf("CopyOut while the dead hog's pages are pending = %v, want it to wait for them", err)
	}
	other.DecUsers()
}
