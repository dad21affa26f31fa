package mm

import (
	"testing"

	"uk/arch"
)

// usageAt returns the Usage of the VMA starting at a.
func usageAt(t *testing.T, m *MM, a uint64) Usage {
	t.Helper()
	for _, u := range m.Usage() {
		if u.VMA.Start == a {
			return u
		}
	}
	t.Fatalf("no VMA at %#x", a)
	return Usage{}
}

// TestUsageShares: private pages a fork left shared count as shared in
// both processes with half a page each of PSS, and as the owner's alone
// once the other has its own copy; a shared anonymous region's pages
// count in each mapping, divided among the mappers.
func TestUsageShares(t *testing.T) {
	const n = forkCopyMax + 36
	parent, child, a := forkShared(t, n)
	page := uint64(arch.PageSize) << PSSShift
	for _, m := range []*MM{parent, child} {
		u := usageAt(t, m, a)
		if u.Private != n || u.PrivateShared != n || u.PSSPrivate != n*page/2 || u.Object != 0 {
			t.Errorf("forked: %+v, want %d private pages, all shared, PSS %d", u, n, n*page/2)
		}
	}
	if err := child.CopyOut(a, []byte("mine")); err != nil {
		t.Fatal(err)
	}
	u := usageAt(t, child, a)
	if u.PrivateShared >= n || u.PSSPrivate <= n*page/2 {
		t.Errorf("after the child wrote: %d of %d shared, PSS %d; want fewer shared, more PSS", u.PrivateShared, u.Private, u.PSSPrivate)
	}

	m, _, _ := newMM(t)
	b, err := m.Mmap(MmapOpts{Length: 4 * arch.PageSize, Prot: rw, Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CopyOut(b, make([]byte, 3*arch.PageSize)); err != nil {
		t.Fatal(err)
	}
	if u := usageAt(t, m, b); u.Private != 0 || u.Object != 3 || u.ObjectShared || u.PSSObject != 3*page {
		t.Errorf("shared region, one mapper: %+v; want 3 object pages, private to it", u)
	}
	c := forked(m, newFakeAS())
	for _, x := range []*MM{m, c} {
		if u := usageAt(t, x, b); u.Object != 3 || !u.ObjectShared || u.PSSObject != 3*page/2 {
			t.Errorf("shared region, two mappers: %+v; want 3 object pages shared, PSS %d", u, 3*page/2)
		}
	}
}
