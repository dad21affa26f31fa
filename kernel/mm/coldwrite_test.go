package mm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"testing"

	"uk/arch"
)

// A kernel write into memory the program never touched (a read(2) into a
// fresh buffer) goes into the cold pages it is given with pwrite: the
// bytes land where they belong, the rest of the first and last pages
// reads as zeros, and uk's own mapping of the memory file never maps the
// pages (through it, each would have faulted in first).
func TestKernelWriteIntoColdPages(t *testing.T) {
	m, _, mf := newMM(t)
	const n = 40 * arch.PageSize
	a, err := m.Mmap(MmapOpts{Length: n + 2*arch.PageSize, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*13 + i>>12)
	}
	start := a + 100 // not page aligned: a partial first and last page
	if err := m.CopyOut(start, data); err != nil {
		t.Fatal(err)
	}
	pagemap, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Fatal(err)
	}
	defer pagemap.Close()
	for p := arch.PageRoundDown(start); p < start+n; p += arch.PageSize {
		off, ok := m.pages[p]
		if !ok {
			t.Fatalf("page %#x written but not present", p)
		}
		if mappedHere(t, pagemap, mf.Bytes(off, arch.PageSize)) {
			t.Errorf("page %#x (file offset %#x) is mapped in uk's view of the memory file: the write went through it", p, off)
		}
	}
	got := make([]byte, n+2*arch.PageSize)
	if err := m.CopyIn(a, got); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, len(got))
	copy(want[100:], data)
	if !bytes.Equal(got, want) {
		t.Fatal("the memory does not read back as written, with zeros around it")
	}
}

// A window populated by one kernel write and written by the next (read(2)
// copies 1 MiB at a time into windows of up to 2 MiB) takes the same way.
func TestKernelWritesAcrossColdWindow(t *testing.T) {
	m, _, mf := newMM(t)
	const chunk = 1 << 20
	a, err := m.Mmap(MmapOpts{Length: 8 << 20, Prot: rw})
	if err != nil {
		t.Fatal(err)
	}
	pagemap, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Fatal(err)
	}
	defer pagemap.Close()
	data := bytes.Repeat([]byte{0x5c}, chunk)
	for at := a; at < a+4*chunk; at += chunk {
		if err := m.CopyOut(at, data); err != nil {
			t.Fatal(err)
		}
	}
	mapped := 0
	for p := a; p < a+4*chunk; p += arch.PageSize {
		if mappedHere(t, pagemap, mf.Bytes(m.pages[p], arch.PageSize)) {
			mapped++
		}
	}
	if mapped > 0 {
		t.Errorf("%d of %d pages written by 1 MiB kernel writes are mapped in uk's view of the memory file", mapped, 4*chunk/arch.PageSize)
	}
	got := make([]byte, 4*chunk)
	if err := m.CopyIn(a, got); err != nil || !bytes.Equal(got, bytes.Repeat(data, 4)) {
		t.Fatalf("the memory does not read back as written (%v)", err)
	}
}

// mappedHere reports whether the page of b is mapped in this process's
// page tables (/proc/self/pagemap's present bit).
func mappedHere(t *testing.T, pagemap *os.File, b []byte) bool {
	t.Helper()
	addr, err := strconv.ParseUint(fmt.Sprintf("%p", &b[0])[2:], 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	var e [8]byte
	if _, err := pagemap.ReadAt(e[:], int64(addr/arch.PageSize*8)); err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(e[:])&(1<<63) != 0
}
