package mm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"uk/arch"
	"uk/platform"
)

// fakePatcher has the sigsys platform's two tables; its entries hold the
// jump target, the return address, the prefix, then int3s.
type fakePatcher struct{}

func (fakePatcher) SyscallTables() []platform.SyscallTable {
	return []platform.SyscallTable{
		{Addr: 0x60000, Size: 0x10000, First: 0x60080, EntrySize: 128, EntryCode: 16, Header: []byte{1, 2, 3, 4}, Invalid: []int{5}},
		{Addr: 0x06000000, Size: 0x10000, First: 0x06000106, EntrySize: 256, EntryCode: 16, Header: []byte{5, 6}, Invalid: []int{3, 6}},
		{Addr: 0x06100000, Size: 0x100000, First: 0x06100600, EntrySize: 0x10000, EntryCode: 16, Header: []byte{7, 8}, Invalid: []int{4, 6}},
	}
}

// fakeResume is where a fake entry's syscall returns to when the site has
// a suffix: its copy, this far into the entry.
const fakeResume = 64

func (fakePatcher) SyscallEntry(addr, ret uint64, prefix, suffix []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, addr+16)
	if len(suffix) > 0 {
		ret = addr + fakeResume
	}
	b = binary.LittleEndian.AppendUint64(b, ret)
	b = append(b, prefix...)
	return append(b, 0xcc, 0xcc)
}

func TestPatchSyscallSites(t *testing.T) {
	goSyscall6 := []byte{0x49, 0x89, 0xf2, 0x48, 0x89, 0xfa, 0x48, 0x89, 0xce, 0x48, 0x89, 0xdf}
	for _, tc := range []struct {
		name   string
		prefix []byte // the code before the syscall instruction
		suffix []byte // the code after it
		nr     uint64 // the syscall that traps there
		table  uint64 // the table patched into; 0: left alone
		starts []int  // where the replaced instructions and the syscall begin
		andAt  int    // a start that holds 0x25 and faults at byte 7 (0: none)
	}{
		{name: "mov eax, NR", prefix: []byte{0xb8, 39, 0, 0, 0}, nr: 39, table: 0x60000, starts: []int{5}},
		{name: "mov rax, NR", prefix: []byte{0x48, 0xc7, 0xc0, 0xca, 0, 0, 0}, nr: 202, table: 0x60000, starts: []int{7}},
		{name: "mov r9, [rsp+8]", prefix: []byte{0x4c, 0x8b, 0x4c, 0x24, 0x08}, nr: 110, table: 0x60000, starts: []int{5}},
		{name: "Go's Syscall6", prefix: goSyscall6, table: 0x06000000, starts: []int{3, 6, 9, 12}},
		{name: "mov edi, [rsp+8]; xor eax, eax", prefix: []byte{0x8b, 0x7c, 0x24, 0x08, 0x31, 0xc0}, table: 0x06100000, starts: []int{4, 6}},
		{name: "xor eax, eax; syscall; cmp rax, -4096", prefix: []byte{0x31, 0xc0}, suffix: []byte{0x48, 0x3d, 0x00, 0xf0, 0xff, 0xff},
			table: 0x06100000, starts: []int{2, 4}, andAt: 2},
		{name: "mov edi, imm32 (AT_FDCWD)", prefix: []byte{0xbf, 0x9c, 0xff, 0xff, 0xff}, nr: 257, table: 0x60000, starts: []int{5}},
		{name: "mov eax of another NR", prefix: []byte{0xb8, 39, 0, 0, 0}, nr: 110},
		{name: "mov r15d, imm32 (REX: not mov edi)", prefix: []byte{0x41, 0xbf, 0x9c, 0xff, 0xff, 0xff}, nr: 257},
		{name: "mov edi of another immediate", prefix: []byte{0xbf, 0x01, 0, 0, 0}, nr: 257},
		{name: "mov r8d, NR (REX: not mov eax)", prefix: []byte{0x41, 0xb8, 39, 0, 0, 0}, nr: 39},
		{name: "mov edi, [r12+8]; xor eax, eax (REX)", prefix: []byte{0x41, 0x8b, 0x7c, 0x24, 0x08, 0x31, 0xc0}},
		{name: "xor eax, eax (too short, no compare after)", prefix: []byte{0x31, 0xc0}, suffix: []byte{0x48, 0x85, 0xc0}},
		{name: "xor eax, eax; cmp rax of another NR", prefix: []byte{0x31, 0xc0}, suffix: []byte{0x48, 0x3d, 0x00, 0xf0, 0xff, 0xff}, nr: 3},
		{name: "never-patched exit_group", prefix: []byte{0xb8, 231, 0, 0, 0}, nr: 231},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, mf := newMM(t)
			f := newFakeFile(t, mf, 4, 0, 1, 2, 3)
			// The site ends in the middle of the file's second page.
			const at = arch.PageSize + 0x800
			code := append(append(append([]byte{0x90}, tc.prefix...), 0x0f, 0x05), tc.suffix...)
			page := mf.Bytes(f.pages[1], arch.PageSize)
			copy(page[0x800-len(tc.prefix)-1:], code)
			cached := bytes.Clone(page)
			base, err := m.Mmap(MmapOpts{Length: 4 * arch.PageSize, Prot: platform.Read | platform.Exec, Object: peekableFile{f}})
			if err != nil {
				t.Fatal(err)
			}
			ret := base + at + 2
			site := ret - 2 - uint64(len(tc.prefix))
			for i := 0; i < int(patchAfter)-1; i++ {
				m.NoteSyscallSite(fakePatcher{}, ret, tc.nr)
			}
			got := make([]byte, len(code)-1)
			if err := m.CopyIn(site, got); err != nil || !bytes.Equal(got, code[1:]) {
				t.Fatalf("after %d traps: %x, %v; want it untouched", patchAfter-1, got, err)
			}
			// The first patch maps the table; with its page new, the
			// site waits for its next trap (the entry's mapping must
			// reach the address space first).
			var resume uint64
			var moved bool
			for i := 0; i < 2 && bytes.Equal(got, code[1:]); i++ {
				resume, moved = m.NoteSyscallSite(fakePatcher{}, ret, tc.nr)
				if err := m.CopyIn(site, got); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(page, cached) {
				t.Errorf("the file's cached page was written")
			}
			if tc.table == 0 {
				if !bytes.Equal(got, code[1:]) {
					t.Errorf("site rewritten to %x; want it left alone", got)
				}
				return
			}
			entry := uint64(binary.LittleEndian.Uint32(got[3:]))
			want := bytes.Repeat([]byte{0x06}, len(got))
			copy(want, []byte{0xff, 0x24, 0x25})
			binary.LittleEndian.PutUint32(want[3:], uint32(entry))
			if !bytes.Equal(got, want) || entry&^0xffff != tc.table {
				t.Fatalf("site = %x; want jmp [entry] into the table at %#x, padded with 0x06", got, tc.table)
			}
			// Where a thread that reaches each start faults, and where it
			// goes on from there.
			faults := map[int]uint64{}
			for _, s := range tc.starts {
				switch {
				case s == tc.andAt:
					if got[s] != 0x25 || got[7] != 0x06 {
						t.Errorf("bytes %d and 7 of the patch = %#x, %#x; want and eax, imm32 then 0x06", s, got[s], got[7])
					}
					faults[7] = entry + 16 + uint64(s)
				case got[s] != 0x06:
					t.Errorf("byte %d of the patch = %#x; an instruction began there: want 0x06", s, got[s])
				case s > len(tc.prefix):
					faults[s] = entry + fakeResume + uint64(s-len(tc.prefix)-2)
				default:
					faults[s] = entry + 16 + uint64(s)
				}
			}
			wantResume := ret
			if len(tc.suffix) > 0 {
				wantResume = entry + fakeResume
			}
			if moved != (len(tc.suffix) > 0) || moved && resume != wantResume {
				t.Errorf("the patching trap's thread goes on at %#x, %v; want %#x, %v", resume, moved, wantResume, len(tc.suffix) > 0)
			}
			e := make([]byte, 16+len(tc.prefix))
			if err := m.CopyIn(entry, e); err != nil {
				t.Fatal(err)
			}
			if binary.LittleEndian.Uint64(e) != entry+16 || binary.LittleEndian.Uint64(e[8:]) != wantResume || !bytes.Equal(e[16:], tc.prefix) {
				t.Errorf("entry = %x; want its code's address, the return address %#x and the prefix", e, wantResume)
			}
			for _, c := range []*MM{m, forked(m, newFakeAS())} {
				for off := 0; off < len(got); off++ {
					rip, ok := c.PatchedSiteFault(site + uint64(off))
					want, isStart := faults[off]
					if ok != isStart || ok && rip != want {
						t.Errorf("SIGILL at site+%d: %#x, %v; want %#x, %v", off, rip, ok, want, isStart)
					}
				}
			}
		})
	}
}

// Sites in shared or writable mappings stay as they are.
func TestPatchLeavesSharedAndWritable(t *testing.T) {
	for _, o := range []MmapOpts{
		{Prot: platform.Read | platform.Exec, Shared: true},
		{Prot: platform.Read | platform.Write | platform.Exec},
	} {
		m, _, mf := newMM(t)
		f := newFakeFile(t, mf, 1, 0)
		copy(mf.Bytes(f.pages[0], arch.PageSize)[0x100:], []byte{0xb8, 39, 0, 0, 0, 0x0f, 0x05})
		o.Length, o.Object = arch.PageSize, peekableFile{f}
		base, err := m.Mmap(o)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(patchAfter)+2; i++ {
			m.NoteSyscallSite(fakePatcher{}, base+0x107, 39)
		}
		got := make([]byte, 7)
		m.CopyIn(base+0x100, got)
		if got[0] != 0xb8 {
			t.Errorf("shared %v, prot %v: site rewritten to %x", o.Shared, o.Prot, got)
		}
	}
}

// A second site on a page already patched (the process's own now) is
// written into a fresh copy that replaces the page, the first patch kept.
func TestPatchSecondSiteOnOwnPage(t *testing.T) {
	m, as, mf := newMM(t)
	f := newFakeFile(t, mf, 1, 0)
	site := []byte{0xb8, 39, 0, 0, 0, 0x0f, 0x05}
	copy(mf.Bytes(f.pages[0], arch.PageSize)[0x100:], site)
	copy(mf.Bytes(f.pages[0], arch.PageSize)[0x200:], site)
	base, err := m.Mmap(MmapOpts{Length: arch.PageSize, Prot: platform.Read | platform.Exec, Object: peekableFile{f}})
	if err != nil {
		t.Fatal(err)
	}
	patched := func(at uint64) bool {
		b := make([]byte, 3)
		m.CopyIn(base+at, b)
		return bytes.Equal(b, []byte{0xff, 0x24, 0x25})
	}
	patch := func(at uint64) {
		for i := 0; i < int(patchAfter)+1 && !patched(at); i++ {
			m.NoteSyscallSite(fakePatcher{}, base+at+7, 39)
		}
	}
	patch(0x100)
	first := m.pages[base]
	patch(0x200)
	if !patched(0x100) || !patched(0x200) {
		t.Fatalf("sites patched: %v, %v", patched(0x100), patched(0x200))
	}
	if m.pages[base] == first || as.mapped[base] != m.pages[base] {
		t.Errorf("own page %#x rewritten in place (now %#x, mapped %#x); want a fresh copy mapped", first, m.pages[base], as.mapped[base])
	}
}

// A site one address space patched is patched by another that maps the
// same file (at another address) at its first traps, not after
// patchAfter; a copy of the code in another file is not.
func TestPatchHotSiteInNextProcess(t *testing.T) {
	m1, _, mf := newMM(t)
	site := []byte{0xb8, 39, 0, 0, 0, 0x0f, 0x05}
	f := newFakeFile(t, mf, 2, 0, 1)
	other := newFakeFile(t, mf, 2, 0, 1)
	for _, ff := range []*fakeFile{f, other} {
		copy(mf.Bytes(ff.pages[1], arch.PageSize)[0x100:], site)
	}
	const at = arch.PageSize + 0x100 // the site's offset in the file
	patched := func(m *MM, a uint64) bool {
		b := make([]byte, 3)
		m.CopyIn(a, b)
		return bytes.Equal(b, []byte{0xff, 0x24, 0x25})
	}
	// traps traps at the site of a (at most n times) until it is patched.
	traps := func(m *MM, a uint64, n int) int {
		i := 0
		for ; i < n && !patched(m, a); i++ {
			m.NoteSyscallSite(fakePatcher{}, a+uint64(len(site)), 39)
		}
		return i
	}
	mapFile := func(m *MM, ff *fakeFile) uint64 {
		base, err := m.Mmap(MmapOpts{Length: 2 * arch.PageSize, Prot: platform.Read | platform.Exec, Object: peekableFile{ff}})
		if err != nil {
			t.Fatal(err)
		}
		return base
	}
	base1 := mapFile(m1, f)
	if n := traps(m1, base1+at, patchAfter+2); n < patchAfter || !patched(m1, base1+at) {
		t.Fatalf("the first process's site patched after %d traps (%v), want %d", n, patched(m1, base1+at), patchAfter)
	}
	m2 := New(mf, newFakeAS(), NewLayout(0x7fffffffe000))
	if _, err := m2.Mmap(MmapOpts{Length: 5 * arch.PageSize, Prot: rw}); err != nil {
		t.Fatal(err)
	}
	base2 := mapFile(m2, f)
	if base2 == base1 {
		t.Fatalf("the second process maps the file where the first does: the test needs another address")
	}
	// Two traps at most: the first patch of an address space maps its
	// table, and the site then waits for its next trap.
	if n := traps(m2, base2+at, patchAfter); n > 2 || !patched(m2, base2+at) {
		t.Errorf("the second process's site patched after %d traps (%v), want at most 2", n, patched(m2, base2+at))
	}
	m3 := New(mf, newFakeAS(), NewLayout(0x7fffffffe000))
	base3 := mapFile(m3, other)
	if n := traps(m3, base3+at, 4); n != 4 || patched(m3, base3+at) {
		t.Errorf("the same code in another file patched after %d traps", n)
	}
}

// A site across two pages is patched only in an MM no other thread uses
// (its pages are replaced one after the other), and then whole.
func TestPatchSiteAcrossPages(t *testing.T) {
	for _, users := range []int{1, 2} {
		t.Run(fmt.Sprintf("users=%d", users), func(t *testing.T) {
			m, as, mf := newMM(t)
			f := newFakeFile(t, mf, 2, 0, 1)
			site := []byte{0xbf, 0x9c, 0xff, 0xff, 0xff, 0x0f, 0x05} // mov edi, -100; syscall
			const at = arch.PageSize - 4                             // the syscall's 05 on the second page
			copy(mf.Bytes(f.pages[0], arch.PageSize)[at:], site[:4])
			copy(mf.Bytes(f.pages[1], arch.PageSize), site[4:])
			base, err := m.Mmap(MmapOpts{Length: 2 * arch.PageSize, Prot: platform.Read | platform.Exec, Object: peekableFile{f}})
			if err != nil {
				t.Fatal(err)
			}
			if users == 2 {
				m.IncUsers()
				defer m.DecUsers()
			}
			got := make([]byte, len(site))
			for i := 0; i < int(patchAfter)+2; i++ {
				m.NoteSyscallSite(fakePatcher{}, base+at+7, 257)
			}
			if err := m.CopyIn(base+at, got); err != nil {
				t.Fatal(err)
			}
			if users == 2 {
				if !bytes.Equal(got, site) {
					t.Errorf("site with another user rewritten to %x; want it left alone", got)
				}
				return
			}
			entry := uint64(binary.LittleEndian.Uint32(got[3:]))
			if !bytes.Equal(got[:3], []byte{0xff, 0x24, 0x25}) || entry&^0xffff != 0x60000 || got[5] != 0x06 {
				t.Fatalf("site = %x; want jmp [entry] into the first table, 0x06 where the syscall began", got)
			}
			for _, page := range []uint64{base, base + arch.PageSize} {
				if as.mapped[page] != m.pages[page] {
					t.Errorf("page %#x: the rewritten copy %#x is not the one mapped (%#x)", page, m.pages[page], as.mapped[page])
				}
			}
			if rip, ok := m.PatchedSiteFault(base + at + 5); !ok || rip != entry+16+5 {
				t.Errorf("SIGILL at the syscall: %#x, %v; want %#x", rip, ok, entry+16+5)
			}
		})
	}
}
