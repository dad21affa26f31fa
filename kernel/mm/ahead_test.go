package mm

import (
	"testing"

	"uk/arch"
	"uk/platform"
)

// aheadAS records which mappings came marked as made ahead of need.
type aheadAS struct {
	*fakeAS
	next   bool
	ahead  map[uint64]bool // first page of each MapFile: was it marked
	marked int
}

func (a *aheadAS) MapNextAhead() { a.next = true; a.marked++ }

func (a *aheadAS) MapFile(addr uint64, off int64, length uint64, acc platform.Access) error {
	a.ahead[addr] = a.next
	a.next = false
	return a.fakeAS.MapFile(addr, off, length, acc)
}

// TestMmapPrefaultMapsAhead: what an mmap prefaults into a range where
// nothing is mapped is marked as made ahead of need (it may wait for the
// touch, platform.AheadMapper); a fault's mapping, and a prefault that
// replaces what was mapped, are not.
func TestMmapPrefaultMapsAhead(t *testing.T) {
	as := &aheadAS{fakeAS: newFakeAS(), ahead: map[uint64]bool{}}
	m, _ := newMMOver(t, 64<<20, as)
	// A small anonymous writable mapping is backed by its prefault.
	a, err := m.Mmap(MmapOpts{Length: 4 * arch.PageSize, Prot: rw, Prefault: true})
	if err != nil {
		t.Fatal(err)
	}
	if ahead, ok := as.ahead[a]; !ok || !ahead {
		t.Fatalf("prefault of a fresh mapping: mapped %v, marked ahead %v; want both", ok, ahead)
	}
	// A fault's mapping must be in place: never marked.
	b, err := m.Mmap(MmapOpts{Length: 64 * arch.PageSize, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	if r := m.HandleFault(b, platform.Write, 0, nil); r != FaultHandled {
		t.Fatal(r)
	}
	if ahead, ok := as.ahead[b]; !ok || ahead {
		t.Fatalf("a fault's mapping: mapped %v, marked ahead %v; want mapped, not marked", ok, ahead)
	}
	// MAP_FIXED over the fresh mapping, which the address space maps:
	// the old mapping goes (an unmap) before the new one's prefault, which
	// then lands where nothing is mapped again.
	marked := as.marked
	if _, err := m.Mmap(MmapOpts{Addr: a, Length: 4 * arch.PageSize, Prot: rw, Fixed: true, Prefault: true}); err != nil {
		t.Fatal(err)
	}
	if as.marked != marked+1 || !as.ahead[a] {
		t.Fatalf("prefault over an unmapped range: %d marks, marked %v", as.marked-marked, as.ahead[a])
	}
	if as.next {
		t.Fatalf("a mark left over for the next mapping")
	}
}
