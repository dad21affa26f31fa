package mm

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// TestSharedAnonLifetime: a MAP_SHARED|MAP_ANONYMOUS
// region inherited across fork keeps its pages while either side maps it,
// and gives them back when the last mapping goes.
func TestSharedAnonLifetime(t *testing.T) {
	parent, _, mf := newMM(t)
	a, err := parent.Mmap(MmapOpts{Length: 2 * arch.PageSize, Prot: rw, Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.CopyOut(a, []byte("shared")); err != nil {
		t.Fatal(err)
	}
	off, shared, err := parent.SharedOffset(a)
	if err != nil || !shared {
		t.Fatalf("SharedOffset = %v %v", shared, err)
	}
	child := forked(parent, newFakeAS())
	if err := parent.Munmap(a, 2*arch.PageSize); err != nil {
		t.Fatal(err)
	}
	if mf.RefCount(off) != 1 {
		t.Fatalf("page refs after the parent's munmap = %d, want 1 (the object's)", mf.RefCount(off))
	}
	got := make([]byte, 6)
	if err := child.CopyIn(a, got); err != nil || string(got) != "shared" {
		t.Fatalf("child reads %q, %v", got, err)
	}
	child.DecUsers()
	if mf.RefCount(off) != 0 {
		t.Errorf("page refs after the last mapping went = %d, want 0", mf.RefCount(off))
	}
}

// TestInvalidateDropsMappings: when an object gives up pages (truncation),
// every mapper drops them, and private copies too when asked; the fault
// that follows sees the object's answer (past the end: an error).
func TestInvalidateDropsMappings(t *testing.T) {
	m, as, mf := newMM(t)
	f := newFakeFile(t, mf, 8, pagesRange(0, 8)...)
	sh, err := m.Mmap(MmapOpts{Length: 8 * arch.PageSize, Prot: rw, Shared: true, Object: f})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := m.Mmap(MmapOpts{Length: 8 * arch.PageSize, Prot: rw, Object: f})
	if err != nil {
		t.Fatal(err)
	}
	if f.maps.Count() != 2 {
		t.Fatalf("mappings registered = %d, want 2", f.maps.Count())
	}
	for i := uint64(0); i < 8; i++ {
		m.HandleFault(sh+i*arch.PageSize, platform.Write, 0, nil)
	}
	// A private copy of page 6, file pages mapped read-only elsewhere.
	m.HandleFault(pr+6*arch.PageSize, platform.Write, 1, nil)
	m.HandleFault(pr, platform.Read, 2, nil)
	if _, ok := as.mapped[sh+7*arch.PageSize]; !ok {
		t.Fatal("shared page 7 not mapped")
	}

	// The file shrinks to 4 pages: pages 4.. go, private copies with them.
	f.size = 4
	f.maps.Invalidate(f, 4, ^uint64(0), true)
	for i := uint64(4); i < 8; i++ {
		if _, ok := as.mapped[sh+i*arch.PageSize]; ok {
			t.Errorf("shared page %d still mapped after invalidation", i)
		}
		if _, ok := as.mapped[pr+i*arch.PageSize]; ok {
			t.Errorf("private page %d still mapped after invalidation", i)
		}
	}
	if _, ok := as.mapped[sh+3*arch.PageSize]; !ok {
		t.Errorf("shared page 3, inside the file, was dropped")
	}
	if r := m.HandleFault(sh+5*arch.PageSize, platform.Read, 3, nil); r != FaultBusErr {
		t.Errorf("fault past the end = %v, want FaultBusErr (SIGBUS)", r)
	}
	if r := m.HandleFault(pr+6*arch.PageSize, platform.Read, 4, nil); r != FaultBusErr {
		t.Errorf("fault on a private copy past the end = %v, want FaultBusErr (SIGBUS)", r)
	}
	if err := m.Munmap(sh, 8*arch.PageSize); err != nil {
		t.Fatal(err)
	}
	if f.maps.Count() != 1 {
		t.Errorf("mappings after munmap = %d, want 1", f.maps.Count())
	}
	m.DecUsers()
	if f.maps.Count() != 0 {
		t.Errorf("mappings after the MM died = %d, want 0", f.maps.Count())
	}
}

// TestSplitAndMergeKeepRegistrations: splitting a VMA (mprotect of part of
// it) adds a registration, merging removes one, and the count always
// equals the number of VMAs mapping the object.
func TestSplitAndMergeKeepRegistrations(t *testing.T) {
	m, _, mf := newMM(t)
	f := newFakeFile(t, mf, 8)
	a, err := m.Mmap(MmapOpts{Length: 8 * arch.PageSize, Prot: rw, Shared: true, Object: f})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Mprotect(a+2*arch.PageSize, 2*arch.PageSize, platform.Read, false); err != nil {
		t.Fatal(err)
	}
	if n := f.maps.Count(); n != 3 {
		t.Errorf("after splitting in three: %d registrations", n)
	}
	if err := m.Mprotect(a+2*arch.PageSize, 2*arch.PageSize, rw, false); err != nil {
		t.Fatal(err)
	}
	if n := f.maps.Count(); n != 1 {
		t.Errorf("after merging back: %d registrations", n)
	}
	b, err := m.Mremap(a, 8*arch.PageSize, 16*arch.PageSize, true, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.maps.Count(); n != 1 {
		t.Errorf("after mremap to %#x: %d registrations", b, n)
	}
	m.DecUsers()
	if n := f.maps.Count(); n != 0 {
		t.Errorf("after exit: %d registrations", n)
	}
}

// TestMprotectMaxProt: a mapping's rights never exceed its maximum.
func TestMprotectMaxProt(t *testing.T) {
	m, _, mf := newMM(t)
	f := newFakeFile(t, mf, 2)
	ro := platform.Read | platform.Exec
	a, err := m.Mmap(MmapOpts{Length: 2 * arch.PageSize, Prot: platform.Read, MaxProt: ro, Shared: true, Object: f})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Mprotect(a, arch.PageSize, rw, false); err != unix.EACCES {
		t.Errorf("mprotect write past MaxProt = %v, want EACCES", err)
	}
	if err := m.Mprotect(a, arch.PageSize, ro, false); err != nil {
		t.Errorf("mprotect within MaxProt = %v", err)
	}
	if _, err := m.Mmap(MmapOpts{Length: arch.PageSize, Prot: rw, MaxProt: ro, Shared: true, Object: f}); err != unix.EACCES {
		t.Errorf("mmap past MaxProt = %v, want EACCES", err)
	}
}

// TestRangeOverflow: ranges that wrap around the address space are
// refused, never wrapped into the VMA list.
func TestRangeOverflow(t *testing.T) {
	m, _, _ := newMM(t)
	a, _ := m.Mmap(MmapOpts{Length: arch.PageSize, Prot: rw})
	if _, err := m.Mremap(a, arch.PageSize, arch.PageSize, true, true, 0xfffffffffffff000); err != unix.EINVAL {
		t.Errorf("mremap to the top = %v, want EINVAL", err)
	}
	if err := m.MadviseDontNeed(a, ^uint64(0)-arch.PageSize); err != unix.EINVAL {
		t.Errorf("madvise wrapping = %v, want EINVAL", err)
	}
	if m.Mapped(a, ^uint64(0)) {
		t.Error("Mapped of a wrapping range")
	}
	for _, v := range m.VMAs() {
		if v.End <= v.Start {
			t.Errorf("VMA %#x-%#x wraps", v.Start, v.End)
		}
	}
}

// failingAS refuses unmaps, as a host at its max_map_count might.
type failingAS struct {
	*fakeAS
	released bool
}

func (f *failingAS) Unmap(addr, length uint64) error { return errors.New("host refused") }
func (f *failingAS) Release()                        { f.released = true }

// TestFailedUnmapKillsAddressSpace: when the platform cannot unmap, the
// pages stay referenced-or-unreachable: the address space is killed before
// anything is freed.
func TestFailedUnmapKillsAddressSpace(t *testing.T) {
	m, _, mf := newMM(t)
	as := &failingAS{fakeAS: newFakeAS()}
	m.as = as
	a, _ := m.Mmap(MmapOpts{Length: arch.PageSize, Prot: rw})
	if r := m.HandleFault(a, platform.Write, 0, nil); r != FaultHandled {
		t.Fatal(r)
	}
	m.mu.Lock()
	off := m.pages[a]
	m.mu.Unlock()
	if err := m.Munmap(a, arch.PageSize); err != nil {
		t.Fatal(err)
	}
	if !as.released {
		t.Error("address space not killed after a failed unmap")
	}
	if mf.RefCount(off) != 0 {
		t.Errorf("page refs = %d after munmap of a killed address space", mf.RefCount(off))
	}
}

// TestPageCheckCatchesEarlyFree: the page check itself can fail — freeing
// a page an address space still maps panics.
func TestPageCheckCatchesEarlyFree(t *testing.T) {
	m, _, mf := newMM(t)
	a, _ := m.Mmap(MmapOpts{Length: arch.PageSize, Prot: rw})
	m.HandleFault(a, platform.Write, 0, nil)
	m.mu.Lock()
	off := m.pages[a]
	m.mu.Unlock()
	defer func() {
		if recover() == nil {
			t.Error("freeing a mapped page did not panic")
		}
	}()
	mf.DecRef(off)
}

// TestReadUntouchedAllocatesNothing: the kernel reading untouched
// anonymous memory (write(2) of a fresh mapping) sees zeros and takes no
// page, as Linux reads its zero page.
func TestReadUntouchedAllocatesNothing(t *testing.T) {
	m, _, _ := newMM(t)
	const n = 256
	a, err := m.Mmap(MmapOpts{Length: n * arch.PageSize, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, n*arch.PageSize)
	buf[7] = 1
	if err := m.CopyIn(a, buf); err != nil {
		t.Fatal(err)
	}
	if buf[7] != 0 || m.PrivatePages() != 0 {
		t.Errorf("read of untouched memory: byte %d, %d pages allocated; want 0, 0", buf[7], m.PrivatePages())
	}
	m.CopyOut(a+arch.PageSize, []byte("x"))
	if err := m.CopyIn(a, buf[:2*arch.PageSize]); err != nil || buf[arch.PageSize] != 'x' {
		t.Errorf("read after a write: %q, %v", buf[arch.PageSize], err)
	}
}
