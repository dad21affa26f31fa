package mm

import (
	"fmt"
	"testing"

	"uk/arch"
	"uk/platform"
)

// protectingAS is a fakeAS that changes rights in place
// (platform.Protector), as the stub platforms do, and counts how it was
// asked to.
type protectingAS struct {
	*fakeAS
	maps, protects int
}

func (p *protectingAS) MapFile(addr uint64, off int64, length uint64, a platform.Access) error {
	p.maps++
	return p.fakeAS.MapFile(addr, off, length, a)
}

// Protect fails, as the host's mprotect does, where nothing is mapped.
func (p *protectingAS) Protect(addr, length uint64, a platform.Access) error {
	p.protects++
	for x := addr; x < addr+length; x += arch.PageSize {
		if _, ok := p.mapped[x]; !ok {
			return fmt.Errorf("Protect(%#x, %#x): %#x not mapped", addr, length, x)
		}
	}
	for x := addr; x < addr+length; x += arch.PageSize {
		p.prot[x] = a
	}
	return nil
}

// A fork makes the parent's shared pages read-only in place where they
// are mapped, maps those that were not, and once the child has gone a
// write fault makes the window writable again in place: no mapping of the
// pages is replaced.
func TestForkProtectsInPlace(t *testing.T) {
	pas := &protectingAS{fakeAS: newFakeAS()}
	parent, _ := newMMOver(t, 64<<20, pas)
	const n = 2 * forkCopyMax
	a, err := parent.Mmap(MmapOpts{Length: n * arch.PageSize, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := parent.CopyOut(a+uint64(i)*arch.PageSize, []byte(fmt.Sprintf("page %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	// The second half stays present but leaves the address space (as a
	// fork with threads unmaps a writable VMA).
	parent.mu.Lock()
	parent.unmapASLocked(a+n/2*arch.PageSize, n/2*arch.PageSize)
	parent.mu.Unlock()
	unmappedBefore := 0
	for i := 0; i < n; i++ {
		if _, ok := pas.mapped[a+uint64(i)*arch.PageSize]; !ok {
			unmappedBefore++
		}
	}
	if unmappedBefore == 0 {
		t.Fatal("the test needs present pages the address space does not map")
	}
	pas.maps, pas.protects = 0, 0
	child := forked(parent, newFakeAS())
	if pas.protects == 0 {
		t.Fatal("the fork changed no rights in place")
	}
	for i := 0; i < n; i++ {
		p := a + uint64(i)*arch.PageSize
		if pas.mapped[p] != parent.pages[p] || pas.prot[p] != platform.Read {
			t.Fatalf("page %#x after the fork: mapped at %#x with %v, want %#x read-only", p, pas.mapped[p], pas.prot[p], parent.pages[p])
		}
	}
	// Only the pages that were not mapped were mapped.
	if pas.maps > unmappedBefore {
		t.Errorf("the fork made %d mappings for %d unmapped pages", pas.maps, unmappedBefore)
	}
	checkPages(t, "child", child, a, n)

	child.DecUsers()
	pas.maps, pas.protects = 0, 0
	if r := parent.HandleFault(a, platform.Write, 0, nil); r != FaultHandled {
		t.Fatal(r)
	}
	if pas.maps != 0 || pas.protects == 0 {
		t.Errorf("a write fault on pages the parent holds alone again: %d mappings, %d changes of rights; want none and some", pas.maps, pas.protects)
	}
	ws := a &^ (faultRun - 1) // the fault's window (writeOwnLocked)
	for p := max(ws, a); p < ws+faultRun; p += arch.PageSize {
		if pas.prot[p] != rw {
			t.Errorf("page %#x mapped %v after the write fault, want read-write", p, pas.prot[p])
		}
	}
	checkPages(t, "parent", parent, a, n)
}
