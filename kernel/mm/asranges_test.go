package mm

import (
	"math/rand"
	"testing"

	"uk/arch"
	"uk/platform"
)

// asRanges agrees with a page-by-page record through random adds and
// removes, and keeps its runs sorted, disjoint and non-adjacent.
func TestASRangesMatchPages(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var s asRanges
	ref := map[uint64]bool{}
	const pages = 200
	for step := 0; step < 5000; step++ {
		a := uint64(rng.Intn(pages))
		b := a + uint64(rng.Intn(20)) + 1
		if rng.Intn(2) == 0 {
			s.add(a, b)
			for p := a; p < b; p++ {
				ref[p] = true
			}
		} else {
			s.remove(a, b)
			for p := a; p < b; p++ {
				delete(ref, p)
			}
		}
		for i, r := range s {
			if r.start >= r.end || i > 0 && s[i-1].end >= r.start {
				t.Fatalf("step %d: runs not sorted, disjoint and apart: %v", step, s)
			}
		}
		for p := uint64(0); p < pages+25; p++ {
			if s.contains(p) != ref[p] {
				t.Fatalf("step %d: contains(%d) = %v, want %v (%v)", step, p, s.contains(p), ref[p], s)
			}
		}
		a = uint64(rng.Intn(pages))
		b = a + uint64(rng.Intn(20)) + 1
		want := false
		for p := a; p < b; p++ {
			want = want || ref[p]
		}
		if s.overlaps(a, b) != want {
			t.Fatalf("step %d: overlaps(%d, %d) = %v, want %v", step, a, b, !want, want)
		}
	}
}

// Replacing or removing memory the address space never mapped costs no
// platform unmap (each is a synchronous round trip to the stub); memory
// it maps is unmapped as before.
func TestUnmapOfNothingMappedSkipsPlatform(t *testing.T) {
	m, as, _ := newMM(t)
	unmaps := 0
	m.as = &recordingAS{fakeAS: as, onUnmap: func() { unmaps++ }}
	// ld.so's pattern: reserve a span, map over it with MAP_FIXED.
	base, err := m.Mmap(MmapOpts{Length: 16 * arch.PageSize, Prot: platform.Read})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Mmap(MmapOpts{Addr: base + 4*arch.PageSize, Length: 4 * arch.PageSize, Prot: rw, Fixed: true}); err != nil {
		t.Fatal(err)
	}
	if err := m.Mprotect(base, 4*arch.PageSize, platform.Read|platform.Exec, false); err != nil {
		t.Fatal(err)
	}
	if err := m.Munmap(base+8*arch.PageSize, 8*arch.PageSize); err != nil {
		t.Fatal(err)
	}
	if unmaps != 0 {
		t.Errorf("%d platform unmaps for memory never mapped, want 0", unmaps)
	}
	if r := m.HandleFault(base+4*arch.PageSize, platform.Write, 0, nil); r != FaultHandled {
		t.Fatalf("fault = %v", r)
	}
	if err := m.Munmap(base+4*arch.PageSize, 4*arch.PageSize); err != nil {
		t.Fatal(err)
	}
	if unmaps != 1 {
		t.Errorf("%d platform unmaps for memory mapped, want 1", unmaps)
	}
	if len(as.mapped) != 0 {
		t.Errorf("pages still mapped: %v", as.mapped)
	}
	// Unmapped, the range is nothing again.
	if err := m.Munmap(base+4*arch.PageSize, 4*arch.PageSize); err != nil || unmaps != 1 {
		t.Errorf("second munmap: %v, %d platform unmaps, want 1", err, unmaps)
	}
}
