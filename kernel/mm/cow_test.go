package mm

import (
	"fmt"
	"testing"

	"uk/arch"
	"uk/platform"
)

// forkShared forks a parent whose n-page VMA (more than forkCopyMax, so
// shared copy-on-write) holds "page i" at the start of each page i.
func forkShared(t *testing.T, n int) (parent, child *MM, a uint64) {
	t.Helper()
	parent, _, _ = newMM(t)
	a, err := parent.Mmap(MmapOpts{Length: uint64(n) * arch.PageSize, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := parent.CopyOut(a+uint64(i)*arch.PageSize, []byte(fmt.Sprintf("page %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	return parent, forked(parent, newFakeAS()), a
}

// checkPages checks that m reads "page i" at the start of each of the n
// pages at a.
func checkPages(t *testing.T, who string, m *MM, a uint64, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		want := fmt.Sprintf("page %d", i)
		got := make([]byte, len(want))
		if err := m.CopyIn(a+uint64(i)*arch.PageSize, got); err != nil || string(got) != want {
			t.Fatalf("%s reads %q at page %d, %v; want %q", who, got, i, err, want)
		}
	}
}

// The first cowSingleBreaks write faults on shared pages copy one page
// each (a child about to exec); the next copies every page of its window
// that is still shared, maps them writable, and leaves the parent's pages
// alone.
func TestCOWBreaksWindowAfterFirstFaults(t *testing.T) {
	const n = 2 * forkCopyMax
	parent, child, a := forkShared(t, n)
	cas := child.as.(*fakeAS)
	page := func(i int) uint64 { return a + uint64(i)*arch.PageSize }
	for i := 0; i < cowSingleBreaks; i++ {
		if r := child.HandleFault(page(i), platform.Write, 0, nil); r != FaultHandled {
			t.Fatal(r)
		}
	}
	if child.pages[page(cowSingleBreaks)] != parent.pages[page(cowSingleBreaks)] {
		t.Fatalf("the first %d breaks copied more than their own pages", cowSingleBreaks)
	}
	// A fault in a window none of those touched copies all of it.
	win := uint64(faultRun)
	start := (page(cowSingleBreaks)+win-1)&^(win-1) + win
	if r := child.HandleFault(start+arch.PageSize, platform.Write, 0, nil); r != FaultHandled {
		t.Fatal(r)
	}
	for p := start; p < start+win; p += arch.PageSize {
		off := child.pages[p]
		if off == parent.pages[p] || child.mf.RefCount(off) != 1 {
			t.Errorf("page %#x of the faulting window not copied (child %#x, parent %#x)", p, off, parent.pages[p])
		}
		if cas.mapped[p] != off || cas.prot[p] != rw {
			t.Errorf("page %#x: copy not mapped writable in the child", p)
		}
	}
	for _, p := range []uint64{start - arch.PageSize, start + win} {
		if child.pages[p] != parent.pages[p] {
			t.Errorf("page %#x outside the window was copied", p)
		}
	}
	checkPages(t, "child", child, a, n)
	checkPages(t, "parent", parent, a, n)
	// Each side writes its own.
	child.CopyOut(start, []byte("child!"))
	got := make([]byte, 5)
	parent.CopyIn(start, got)
	if string(got) != "page " {
		t.Errorf("parent sees %q after the child wrote its copy", got)
	}
}

// Successive window breaks copy windows that double, from faultRun up to
// faultRun<<sharedWindowDoublings, and no larger after that.
func TestCOWSharedWindowGrows(t *testing.T) {
	const big = faultRun << sharedWindowDoublings
	const n = (sharedWindowDoublings + 4) * big / arch.PageSize
	parent, child, a := forkShared(t, n)
	child.cowBreaks = cowSingleBreaks
	// One fault at the start of each aligned block of the largest window,
	// each block clear of the windows before it.
	block := (a + big - 1) &^ (big - 1)
	for k := 0; k <= sharedWindowDoublings+1; k++ {
		at := block + uint64(k)*big
		if r := child.HandleFault(at, platform.Write, 0, nil); r != FaultHandled {
			t.Fatal(r)
		}
		want := uint64(faultRun) << min(k, sharedWindowDoublings)
		var copied uint64
		for p := at; p < at+big; p += arch.PageSize {
			if child.pages[p] != parent.pages[p] {
				copied += arch.PageSize
			}
		}
		if copied != want {
			t.Errorf("window break %d copied %d KiB, want %d", k, copied>>10, want>>10)
		}
	}
	checkPages(t, "child", child, a, n)
	checkPages(t, "parent", parent, a, n)
}

// Once the child has gone, the parent's pages are its own again but still
// mapped read-only: one write fault maps its window writable, copying
// nothing.
func TestCOWOwnAgainMapsWindow(t *testing.T) {
	const n = 2 * forkCopyMax
	parent, child, a := forkShared(t, n)
	pas := parent.as.(*fakeAS)
	before := parent.pages[a]
	child.DecUsers()
	if pas.prot[a]&platform.Write != 0 {
		t.Fatal("parent's shared page mapped writable before any fault")
	}
	if r := parent.HandleFault(a+arch.PageSize, platform.Write, 0, nil); r != FaultHandled {
		t.Fatal(r)
	}
	if parent.pages[a] != before {
		t.Errorf("a page the parent alone holds was copied")
	}
	start := (a + arch.PageSize) &^ (faultRun - 1)
	for p := max(start, a); p < start+faultRun; p += arch.PageSize {
		if pas.prot[p] != rw {
			t.Errorf("page %#x of the window mapped %v after the write fault, want read-write", p, pas.prot[p])
		}
	}
	checkPages(t, "parent", parent, a, n)
}

// Write faults on pages the parent holds alone again map windows that
// double, from faultRun to maxFaultRun: six faults make a whole 2 MiB
// block writable, where windows of faultRun would take 32.
func TestCOWOwnWindowGrows(t *testing.T) {
	const n = 2 * maxFaultRun / arch.PageSize
	parent, child, a := forkShared(t, n)
	pas := parent.as.(*fakeAS)
	child.DecUsers()
	block := (a + maxFaultRun - 1) &^ (maxFaultRun - 1) // a whole 2 MiB block of the VMA
	at := block
	for k := 0; k <= ownWindowDoublings; k++ {
		if r := parent.HandleFault(at, platform.Write, 0, nil); r != FaultHandled {
			t.Fatal(r)
		}
		at = block + faultRun<<k // the first page the windows so far left read-only
	}
	for p := block; p < block+maxFaultRun; p += arch.PageSize {
		if pas.prot[p] != rw {
			t.Fatalf("page %#x of the block mapped %v after %d faults, want read-write", p, pas.prot[p], ownWindowDoublings+1)
		}
	}
	if pas.prot[block+maxFaultRun]&platform.Write != 0 {
		t.Errorf("a page past the largest window mapped writable")
	}
	checkPages(t, "parent", parent, a, n)
}

// With little memory left, a break copies only the faulting page.
func TestCOWWindowOnlyWhenMemorySpares(t *testing.T) {
	const n = 2 * forkCopyMax
	// Room for a window's copies, but not for twice as many.
	parent, _, mf := newMMSized(t, (n+3*faultRun/arch.PageSize/2)*arch.PageSize)
	a, err := parent.Mmap(MmapOpts{Length: n * arch.PageSize, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	parent.CopyOut(a, make([]byte, n*arch.PageSize))
	child := forked(parent, newFakeAS())
	child.cowBreaks = cowSingleBreaks
	if left := mf.PagesLeft(); left >= 2*faultRun/arch.PageSize || left < faultRun/arch.PageSize {
		t.Fatalf("%d pages left: the test needs one window's worth and less than two", left)
	}
	p := (a+faultRun-1)&^(faultRun-1) + arch.PageSize // in a whole window
	if r := child.HandleFault(p, platform.Write, 0, nil); r != FaultHandled {
		t.Fatal(r)
	}
	if child.pages[p+arch.PageSize] != parent.pages[p+arch.PageSize] {
		t.Errorf("a window was copied with memory short")
	}
	if child.pages[p] == parent.pages[p] {
		t.Errorf("the faulting page was not copied")
	}
}
