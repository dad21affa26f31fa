package mm

import (
	"encoding/binary"
	"testing"

	"uk/arch"
	"uk/platform"
)

// TestForkMapsExecutableWindows: a fork's child gets, mapped before it
// runs, what its parent maps of its executable's read-only segments (the
// code it runs before its exec), and nothing of other files' (a library
// the parent touched stays to the child's own faults).
func TestForkMapsExecutableWindows(t *testing.T) {
	m, _, mf := newMM(t)
	const npages = 64
	exe := peekableFile{newFakeFile(t, mf, npages, pagesRange(0, npages)...)}
	lib := peekableFile{newFakeFile(t, mf, npages, pagesRange(0, npages)...)}
	text, err := m.Mmap(MmapOpts{Length: npages * arch.PageSize, Prot: platform.Read | platform.Exec, Object: exe})
	if err != nil {
		t.Fatal(err)
	}
	libText, err := m.Mmap(MmapOpts{Length: npages * arch.PageSize, Prot: platform.Read | platform.Exec, Object: lib})
	if err != nil {
		t.Fatal(err)
	}
	m.Auxv = binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 9 /* AT_ENTRY */), text)
	for _, a := range []uint64{text + 5*arch.PageSize, libText + 7*arch.PageSize} {
		if r := m.HandleFault(a, platform.Exec, a, nil); r != FaultHandled {
			t.Fatalf("fault at %#x: %v", a, r)
		}
	}
	cas := newFakeAS()
	child := m.Fork(cas, 0)
	if off, ok := cas.mapped[text+5*arch.PageSize]; !ok || off != exe.pages[5] {
		t.Errorf("the child does not map its executable's page the parent ran (mapped %v)", ok)
	}
	if _, ok := cas.mapped[libText+7*arch.PageSize]; ok {
		t.Errorf("the child maps a library's page it has not touched")
	}
	if !child.asMapped.contains(text + 5*arch.PageSize) {
		t.Errorf("the child's record of its mappings lacks the executable's window")
	}
}
