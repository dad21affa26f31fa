package mm

import (
	"testing"

	"uk/arch"
	"uk/kernel/memmap"
	"uk/platform"
)

// hostAS is a fakeAS that can map host files: host records, per page, the
// file offset mapped there (a memory-file mapping replaces it, as MAP_FIXED
// does, and the other way round). With refuse set it declines every file.
type hostAS struct {
	*fakeAS
	host   map[uint64]int64
	refuse bool
}

func newHostAS(as *fakeAS) *hostAS { return &hostAS{fakeAS: as, host: map[uint64]int64{}} }

func (h *hostAS) MapHostFile(addr uint64, f platform.HostFile, off int64, length uint64, a platform.Access) error {
	if h.refuse {
		return platform.ErrNoHostFile
	}
	if a&platform.Write != 0 {
		panic("writable host file mapping")
	}
	for i := uint64(0); i < length; i += arch.PageSize {
		delete(h.mapped, addr+i)
		h.host[addr+i] = off + int64(i)
		h.prot[addr+i] = a
	}
	return nil
}

func (h *hostAS) MapFile(addr uint64, off int64, length uint64, a platform.Access) error {
	for i := uint64(0); i < length; i += arch.PageSize {
		delete(h.host, addr+i)
	}
	return h.fakeAS.MapFile(addr, off, length, a)
}

func (h *hostAS) Unmap(addr, length uint64) error {
	for a := range h.host {
		if a >= addr && a-addr < length {
			delete(h.host, a)
		}
	}
	return h.fakeAS.Unmap(addr, length)
}

// hostObject is a fakeFile of a read-only tree (writable false) of size
// bytes.
type hostObject struct {
	*fakeFile
	bytes    int64
	writable bool
}

func (o hostObject) HostSize() (int64, bool) { return o.bytes, !o.writable }
func (o hostObject) OpenHost() (int, error)  { return -1, nil }

var _ memmap.HostBacked = hostObject{}

// newHostMM is an MM over a hostAS with a mapping of a 10-page file whose
// last page is half full, in a 12-page VMA with prot.
func newHostMM(t *testing.T, prot platform.Access, shared bool) (*MM, *hostAS, hostObject, uint64) {
	m, fas, mf := newMM(t)
	as := newHostAS(fas)
	m.as = as
	obj := hostObject{fakeFile: newFakeFile(t, mf, 10), bytes: 9*arch.PageSize + 100}
	base, err := m.Mmap(MmapOpts{Length: 12 * arch.PageSize, Prot: prot, Object: obj, Shared: shared})
	if err != nil {
		t.Fatal(err)
	}
	return m, as, obj, base
}

// A read fault maps the file from the host up to its last page, not
// past it, and copies nothing into the memory file; a fault past the
// end is SIGBUS as before.
func TestHostFileWindow(t *testing.T) {
	m, as, obj, base := newHostMM(t, platform.Read|platform.Exec, false)
	if r := m.HandleFault(base+2*arch.PageSize, platform.Exec, 0, nil); r != FaultHandled {
		t.Fatalf("fault = %v", r)
	}
	for i := uint64(0); i < 12; i++ {
		off, ok := as.host[base+i*arch.PageSize]
		switch {
		case i < 10 && (!ok || off != int64(i*arch.PageSize)):
			t.Errorf("page %d: host file offset %#x (%v), want %#x", i, off, ok, i*arch.PageSize)
		case i >= 10 && ok:
			t.Errorf("page %d, past the end of the file, mapped from the host", i)
		}
		if as.prot[base+i*arch.PageSize]&platform.Write != 0 {
			t.Errorf("page %d mapped writable", i)
		}
	}
	if len(as.mapped) != 0 || obj.allocated != 0 {
		t.Errorf("%d memory-file pages mapped, %d file pages read in; want none", len(as.mapped), obj.allocated)
	}
	if r := m.HandleFault(base+11*arch.PageSize, platform.Read, 0, nil); r != FaultBusErr {
		t.Errorf("fault past the end = %v, want SIGBUS", r)
	}
}

// The process's private copies stay mapped from the memory file when a
// fault maps the file around them, even where the address space does not
// map them yet (a forked child's).
func TestHostFileKeepsPrivateCopies(t *testing.T) {
	m, _, _, base := newHostMM(t, platform.Read|platform.Write, false)
	page3 := base + 3*arch.PageSize
	if r := m.HandleFault(page3, platform.Write, 0, nil); r != FaultHandled {
		t.Fatalf("write fault = %v", r)
	}
	cas := newHostAS(newFakeAS())
	child := forked(m, cas)
	off, ok := child.pages[page3]
	if !ok {
		t.Fatalf("the child has no copy of page 3")
	}
	if _, ok := cas.mapped[page3]; ok {
		t.Fatalf("the fork mapped page 3 in the child already: nothing left to check")
	}
	if r := child.HandleFault(base+5*arch.PageSize, platform.Read, 0, nil); r != FaultHandled {
		t.Fatalf("read fault = %v", r)
	}
	if cas.mapped[page3] != off || cas.prot[page3]&platform.Read == 0 {
		t.Errorf("the copy at page 3: memory-file %#x, want %#x; prot %v", cas.mapped[page3], off, cas.prot[page3])
	}
	if _, ok := cas.host[page3]; ok {
		t.Errorf("the host file mapped over the process's copy")
	}
	if _, ok := cas.host[base+5*arch.PageSize]; !ok {
		t.Errorf("the faulting page is not mapped from the host")
	}
}

// What cannot be mapped from the host is the memory file's copy: a
// writable tree's file, a shared writable mapping, and every file an
// address space declines.
func TestHostFileFallsBack(t *testing.T) {
	for _, tc := range []struct {
		name     string
		prot     platform.Access
		shared   bool
		writable bool
		refuse   bool
		host     bool
	}{
		{"shared read-only", platform.Read, true, false, false, true},
		{"shared writable", platform.Read | platform.Write, true, false, false, false},
		{"writable tree", platform.Read, false, true, false, false},
		{"declined", platform.Read, false, false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, fas, mf := newMM(t)
			as := newHostAS(fas)
			as.refuse = tc.refuse
			m.as = as
			obj := hostObject{fakeFile: newFakeFile(t, mf, 4), bytes: 4 * arch.PageSize, writable: tc.writable}
			base, err := m.Mmap(MmapOpts{Length: 4 * arch.PageSize, Prot: tc.prot, Object: obj, Shared: tc.shared, MaxProt: tc.prot})
			if err != nil {
				t.Fatal(err)
			}
			if r := m.HandleFault(base, platform.Read, 0, nil); r != FaultHandled {
				t.Fatalf("fault = %v", r)
			}
			_, host := as.host[base]
			_, copied := as.mapped[base]
			if host != tc.host || copied == tc.host {
				t.Errorf("mapped from the host %v, from the memory file %v; want host %v", host, copied, tc.host)
			}
		})
	}
}
