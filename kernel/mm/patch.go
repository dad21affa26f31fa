package mm

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memmap"
	"uk/platform"
)

// Patched syscall sites (platform.SyscallPatcher).
//
// A syscall site that has trapped patchAfter times in an address space,
// and whose instructions around the syscall are one of siteForms, is
// rewritten into `jmp [E]` (padded with 0x06 bytes to the site's length),
// E an entry of the platform's table, which this MM maps (anonymous,
// private, read and execute) at the table's fixed address the first time.
// The entry runs the replaced instruction, then the syscall. The rewrite
// goes to a fresh copy of the page, which replaces the old one in the
// address space whole (a thread sees the old code or the new, never a
// mix): a file's cached page is never written, and processes sharing it
// keep trapping until their own sites are patched. Sites in shared or
// writable mappings are left alone (the program may rewrite or read them
// as data), as are the syscalls that need the thread's whole state anyway
// (patchSkip).
//
// The byte where the site's syscall instruction began is 0x06 after the
// rewrite (an invalid opcode: the table's addresses and the padding make
// it so). A thread that ran the replaced instruction before the new page
// reached it, or one resumed two bytes before the return address to
// restart its syscall, faults there; PatchedSiteFault sends it on in the
// entry, just after the replaced instruction, with its registers as they
// are (RAX the syscall number, or restart_syscall's). (One form's syscall
// begins under the jump's 0x25, `and eax, imm32`; EAX is 0 there, and the
// thread faults at the padding after it: siteForm.andAt.)
//
// A form with a suffix (glibc's read, `xor eax, eax; syscall; cmp rax,
// imm32`, whose 4 bytes before the compare take no jump) has its syscall
// return into the entry, which runs the suffix and jumps back: the
// thread's RIP is then in the table, where a restart finds a syscall
// instruction two bytes back, and a signal handler returns there.

// siteForm is a run of instructions that may precede a patched syscall,
// and some that may follow it: the entry runs them again, at the same
// RSP, so they must not depend on where they lie in memory, and nothing
// may jump into them but to where one begins.
type siteForm struct {
	len int // bytes before the syscall
	// suffix is how many bytes after the syscall the patch replaces
	// too, for a site whose instructions before it are too short for the
	// jump: the entry runs them after the syscall returns, then jumps
	// back past them, and the syscall returns into the entry.
	suffix int
	// starts are where its instructions after the first, the syscall
	// and the suffix's instructions begin.
	starts []int
	// andAt, when not 0, is the start that holds the jump's SIB byte
	// 0x25 (`and eax, imm32` with the entry's address) instead of 0x06:
	// the form sets EAX to 0 just before it, so a thread there leaves
	// EAX 0 and faults at byte 7, where the padding begins (andFault).
	andAt int
	// match reports whether b (len bytes) is the form, for a trap of
	// syscall nr; suffixOK whether b (suffix bytes) is its suffix.
	match    func(b []byte, nr uint64) bool
	suffixOK func(b []byte) bool
}

// andFault is where a thread that reached a form's andAt faults.
const andFault = 7

// faultAt is where a thread that reaches start at of f faults: there, or
// at andFault.
func (f *siteForm) faultAt(at int) int {
	if f.andAt != 0 && at == f.andAt {
		return andFault
	}
	return at
}

var siteForms = []siteForm{
	// mov eax, NR: glibc's wrappers, Go's runtime.
	{len: 5, starts: []int{5}, match: func(b []byte, nr uint64) bool {
		return b[0] == 0xb8 && uint64(binary.LittleEndian.Uint32(b[1:])) == nr
	}},
	// mov rax, NR (a sign-extended imm32): Go's runtime.
	{len: 7, starts: []int{7}, match: func(b []byte, nr uint64) bool {
		return b[0] == 0x48 && b[1] == 0xc7 && b[2] == 0xc0 && int64(int32(binary.LittleEndian.Uint32(b[3:]))) == int64(nr)
	}},
	// mov edi, AT_FDCWD, with the number already in RAX: glibc's
	// __open64_nocancel (opendir, and most of git's opens) and ld.so's
	// open. Only this immediate: five bytes read backwards could also
	// end a longer instruction (movabs rdi, imm64), and these are
	// unlikely to.
	{len: 5, starts: []int{5}, match: func(b []byte, nr uint64) bool {
		return bytes.Equal(b, []byte{0xbf, 0x9c, 0xff, 0xff, 0xff})
	}},
	// mov r9, [rsp+disp8]: the end of glibc's syscall(), with the number
	// already in RAX.
	{len: 5, starts: []int{5}, match: func(b []byte, nr uint64) bool { return bytes.Equal(b[:4], []byte{0x4c, 0x8b, 0x4c, 0x24}) }},
	// Go's internal/runtime/syscall/linux.Syscall6, from its first
	// instruction: mov r10, rsi; mov rdx, rdi; mov rsi, rcx; mov rdi, rbx.
	{len: 12, starts: []int{3, 6, 9, 12}, match: func(b []byte, nr uint64) bool {
		return bytes.Equal(b, []byte{0x49, 0x89, 0xf2, 0x48, 0x89, 0xfa, 0x48, 0x89, 0xce, 0x48, 0x89, 0xdf})
	}},
	// mov edi, [rsp+disp8]; xor eax, eax: glibc's read(2) in a process
	// with threads (the descriptor reloaded after enabling cancellation).
	{len: 6, starts: []int{4, 6}, match: func(b []byte, nr uint64) bool {
		return nr == 0 && bytes.Equal(b[:3], []byte{0x8b, 0x7c, 0x24}) && b[4] == 0x31 && b[5] == 0xc0
	}},
	// xor eax, eax; syscall; cmp rax, imm32: glibc's read(2), the most
	// frequent syscall of tar, sha256sum and the like, whose 4 bytes take
	// no jump; with the compare after it they take one. The compare only
	// sets the flags the branch after it reads, so the entry can run it.
	{len: 2, suffix: 6, starts: []int{2, 4}, andAt: 2,
		match:    func(b []byte, nr uint64) bool { return nr == 0 && b[0] == 0x31 && b[1] == 0xc0 },
		suffixOK: func(b []byte) bool { return b[0] == 0x48 && b[1] == 0x3d }},
}

// tableFor returns the index of the first of tabs whose jumps hold 0x06
// wherever f's instructions begin within the jump (but at its andAt).
func (f siteForm) tableFor(tabs []platform.SyscallTable) int {
	for i, t := range tabs {
		ok := true
		for _, at := range f.starts {
			if at < 7 && at != f.andAt && !slices.Contains(t.Invalid, at) {
				ok = false
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

// patchAfter is how many traps of one site make it worth patching: a
// patch costs a page copy and a mapping change (~30 us), a trap through
// the patched site saves ~2 us.
const patchAfter = 32

// maxPatchSites bounds the sites an MM counts traps of.
const maxPatchSites = 4096

// Sites hot in one program are hot in the next that runs the same code.
// A site's count starts afresh in every address space, so every process
// trapped patchAfter times at each of its hot sites before patching it:
// a shell's spawns, tar's gzip, make's compilers all run the same libc
// wrappers hot, and a short process spends many of its traps before its
// sites are patched. So a site of a file's page that one address space
// patched is patched by any other at its first trap: the file and the
// offset (not the address, which ASLR moves) name it, and the patch
// checks the code anyway (a file that changed since only fails to match).
// The make job's traps through the signal fell from 3,952 to 3,012 of
// its 6,480 (the gcc job's from 1,532 to 1,276); most that are left were
// sites trapped fewer than patchAfter times anywhere, or read(2), whose
// glibc site (xor eax, eax) was too short to take a jump before the
// suffix forms.

// hotSite names a patched site: its return address as an offset into the
// file (the mapping's object) its code is a page of.
type hotSite struct {
	obj memmap.Mappable
	off uint64
}

// maxHotSites bounds hotSites (each holds its file's object).
const maxHotSites = 4096

// hotSites are the sites some address space patched.
var hotSites struct {
	sync.Mutex
	m map[hotSite]struct{}
}

// hotSiteLocked returns the name of the site that returns to ret, if it
// lies in a private mapping of a file.
//
// Preconditions: m.mu is held.
func (m *MM) hotSiteLocked(ret uint64) (hotSite, bool) {
	i := m.vmas.find(ret - 1)
	if i < 0 || m.vmas[i].Object == nil || m.vmas[i].Shared {
		return hotSite{}, false
	}
	v := m.vmas[i]
	return hotSite{v.Object, v.objectIndex(ret-1)<<arch.PageShift + (ret-1)&arch.PageMask + 1}, true
}

// isHotSite reports whether another address space patched the site that
// returns to ret.
func (m *MM) isHotSite(ret uint64) bool {
	m.mu.Lock()
	k, ok := m.hotSiteLocked(ret)
	m.mu.Unlock()
	if !ok {
		return false
	}
	hotSites.Lock()
	defer hotSites.Unlock()
	_, hot := hotSites.m[k]
	return hot
}

// noteHotSiteLocked records that the site returning to ret was patched.
//
// Preconditions: m.mu is held.
func (m *MM) noteHotSiteLocked(ret uint64) {
	k, ok := m.hotSiteLocked(ret)
	if !ok {
		return
	}
	hotSites.Lock()
	defer hotSites.Unlock()
	if hotSites.m == nil {
		hotSites.m = make(map[hotSite]struct{})
	}
	if len(hotSites.m) < maxHotSites {
		hotSites.m[k] = struct{}{}
	}
}

// patchSkip are the syscalls never patched: they need the thread's whole
// state (FP included), which a patched entry does not carry.
var patchSkip = map[uint64]bool{
	unix.SYS_RT_SIGRETURN: true, unix.SYS_CLONE: true, unix.SYS_FORK: true, unix.SYS_VFORK: true,
	unix.SYS_EXECVE: true, unix.SYS_EXIT: true, unix.SYS_EXIT_GROUP: true, unix.SYS_EXECVEAT: true,
	unix.SYS_CLONE3: true,
}

// patchTableName is the table's name in /proc/PID/maps.
const patchTableName = "[uk-syscall-patches]"

// patchState is an MM's patching bookkeeping; protected by MM.patchMu.
type patchState struct {
	counts map[uint64]uint16 // traps per site, by return address
	// sites are the patched sites, by address.
	sites map[uint64]patchedSite
	// next is the address of each table's next free entry (by
	// SyscallTables index); 0 before the table is mapped, noTable if its
	// place was taken.
	next []uint64
}

// noTable marks a table that could not be mapped.
const noTable = ^uint64(0)

// patchedSite is one rewritten site: its entry, and its form.
type patchedSite struct {
	entry  uint64
	code   uint64 // the entry's code (SyscallTable.EntryCode)
	resume uint64 // where its syscall returns to: the site's end, or the suffix in the entry
	form   *siteForm
}

// NoteSyscallSite counts a trapped syscall nr whose site returns to ret,
// and patches the site once it has trapped patchAfter times (when p can
// take patched sites). It never fails: a site that cannot be patched
// keeps trapping. When the patch replaced instructions after the syscall
// too, ret is now where one of them began, and the trapping thread must
// return to rip instead (moved): the same instructions in the entry.
func (m *MM) NoteSyscallSite(p platform.SyscallPatcher, ret, nr uint64) (rip uint64, moved bool) {
	if patchSkip[nr] || nr > 0xffff {
		return 0, false
	}
	m.patchMu.Lock()
	defer m.patchMu.Unlock()
	ps := &m.patch
	if ps.counts == nil {
		ps.counts = make(map[uint64]uint16)
	}
	n, ok := ps.counts[ret]
	if !ok && len(ps.counts) >= maxPatchSites {
		return 0, false
	}
	if n >= patchAfter {
		return 0, false // tried already
	}
	if !ok && m.isHotSite(ret) {
		n = patchAfter - 1
	}
	n++
	ps.counts[ret] = n
	if n == patchAfter {
		return m.patchSite(p, ret, nr)
	}
	return 0, false
}

// patchSite rewrites the site that returns to ret, if one of siteForms
// is around its syscall and it lies in private, read-only executable
// mappings: in one page, or across two in an MM with one user. It
// returns where the trapping thread goes on if that moved
// (NoteSyscallSite).
//
// Preconditions: m.patchMu is held.
func (m *MM) patchSite(p platform.SyscallPatcher, ret uint64, nr uint64) (rip uint64, moved bool) {
	tabs := p.SyscallTables()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range siteForms {
		f := &siteForms[i]
		site, end := ret-2-uint64(f.len), ret+uint64(f.suffix)
		if ret < uint64(f.len)+2 || !m.patchableLocked(site) || !m.patchableLocked(end-1) {
			continue
		}
		if arch.PageRoundDown(site) != arch.PageRoundDown(end-1) && m.users != 1 {
			// Its two pages are replaced one after the other; only
			// with no other thread that could run between them.
			continue
		}
		code := make([]byte, f.len+2+f.suffix)
		if m.copyLocked(site, code, false, false) != nil || code[f.len] != 0x0f || code[f.len+1] != 0x05 || !f.match(code[:f.len], nr) ||
			f.suffix > 0 && !f.suffixOK(code[f.len+2:]) {
			continue
		}
		if m.prefixedLocked(site) {
			continue // a shorter form may still fit
		}
		if t := f.tableFor(tabs); t >= 0 {
			resume, ok := m.patchFormLocked(p, tabs, t, f, site, end, code)
			return resume, ok && f.suffix > 0
		}
		return 0, false
	}
	return 0, false
}

// prefixedLocked reports whether the byte before site could be a prefix
// of its first instruction (a REX or legacy prefix byte), or cannot be
// read. Read backwards, x86 code has no sure instruction boundary: `41 bf
// imm32` is mov r15d, and its last five bytes look like `mov edi, imm32`;
// `41 8b 7c 24 08` is mov edi, [r12+8]. Such a site is left alone, as is
// one whose previous byte only looks like a prefix.
//
// Preconditions: m.mu is held.
func (m *MM) prefixedLocked(site uint64) bool {
	var b [1]byte
	if site == 0 || m.copyLocked(site-1, b[:], false, false) != nil {
		return true
	}
	switch c := b[0]; {
	case c >= 0x40 && c <= 0x4f: // REX
		return true
	case c == 0x66 || c == 0x67 || c == 0xf0 || c == 0xf2 || c == 0xf3: // operand, address size; lock, rep
		return true
	case c == 0x26 || c == 0x2e || c == 0x36 || c == 0x3e || c == 0x64 || c == 0x65: // segments
		return true
	}
	return false
}

// patchFormLocked writes an entry of table t for the site at site (of
// form f, code its bytes from the first instruction the patch replaces to
// end, the syscall among them) and rewrites the site. It reports whether
// it did, and where the entry's syscall returns to.
func (m *MM) patchFormLocked(p platform.SyscallPatcher, tabs []platform.SyscallTable, t int, f *siteForm, site, end uint64, code []byte) (resume uint64, ok bool) {
	ps := &m.patch
	tab := tabs[t]
	if len(ps.next) != len(tabs) {
		ps.next = make([]uint64, len(tabs))
	}
	ret := site + uint64(f.len) + 2 // where the syscall returned to before
	switch ps.next[t] {
	case noTable:
		return 0, false
	case 0:
		if !m.mapPatchTableLocked(tab) {
			ps.next[t] = noTable
			return 0, false
		}
		ps.next[t] = tab.First
	}
	if ps.next[t]+tab.EntrySize > tab.Addr+tab.Size {
		return 0, false // full: this site keeps trapping
	}
	entry := ps.next[t]
	live := m.ownPageLocked(entry)
	eb := p.SyscallEntry(entry, end, code[:f.len], code[f.len+2:])
	if m.forceWriteLocked(entry, eb) != nil {
		return 0, false
	}
	if !live {
		// The entry's page is new or was copied: its mapping reaches
		// the address space with the next switch, and the site's new
		// page could reach another thread first. The site's next trap
		// patches it (the entry is written again then).
		ps.counts[ret] = patchAfter - 1
		return 0, false
	}
	ps.next[t] += tab.EntrySize
	jump := bytes.Repeat([]byte{0x06}, len(code))
	copy(jump, []byte{0xff, 0x24, 0x25})
	binary.LittleEndian.PutUint32(jump[3:], uint32(entry))
	for _, at := range f.starts {
		if at := f.faultAt(at); at < len(jump) && jump[at] != 0x06 {
			panic("mm: a patched site's instruction starts are not 0x06") // tableFor chose the table for this
		}
	}
	if m.rewriteSiteLocked(site, jump, code) != nil {
		return 0, false
	}
	if ps.sites == nil {
		ps.sites = make(map[uint64]patchedSite)
	}
	resume = binary.LittleEndian.Uint64(eb[8:])
	ps.sites[site] = patchedSite{entry: entry, code: tab.EntryCode, resume: resume, form: f}
	m.noteHotSiteLocked(ret)
	return resume, true
}

// rewriteSiteLocked writes jump over a site's code, old, page by page: a
// site across two pages (patchSite allows that only with no other user of
// the MM) gets both, or neither.
func (m *MM) rewriteSiteLocked(site uint64, jump, old []byte) error {
	n := min(uint64(len(jump)), arch.PageRoundDown(site)+arch.PageSize-site)
	if err := m.rewriteCodeLocked(site, jump[:n]); err != nil || n == uint64(len(jump)) {
		return err
	}
	if err := m.rewriteCodeLocked(site+n, jump[n:]); err != nil {
		m.rewriteCodeLocked(site, old[:n])
		return err
	}
	return nil
}

// rewriteCodeLocked writes b at addr (in one page of a private mapping)
// into a fresh copy of the page, which then replaces the old one in the
// address space: no thread sees part of b.
func (m *MM) rewriteCodeLocked(addr uint64, b []byte) error {
	page := arch.PageRoundDown(addr)
	if !m.ownPageLocked(page) {
		// Not the process's own yet: the copy-on-write break makes the
		// copy, which reaches the address space with the next switch
		// (until then, threads run the old page).
		return m.forceWriteLocked(addr, b)
	}
	v, err := m.privateVMALocked(page)
	if err != nil {
		return err
	}
	offs, err := m.mf.Allocate(1)
	if err != nil {
		return err
	}
	old := m.pages[page]
	copy(m.mf.Bytes(offs[0], arch.PageSize), m.mf.Bytes(old, arch.PageSize))
	copy(m.mf.Bytes(offs[0]+int64(addr-page), len(b)), b)
	if m.users > 1 {
		// As a copy-on-write break (cow.go): the old page leaves the
		// address space before m's reference to it goes.
		m.unmapASLocked(page, arch.PageSize)
	}
	m.pages[page] = offs[0]
	m.notePeakLocked()
	err = m.mapPagesLocked(v, []uint64{page})
	m.mf.DecRef(old)
	return err
}

// privateVMALocked returns the private VMA holding page, one the patch
// code may write (not one the program put where a table was).
func (m *MM) privateVMALocked(page uint64) (*VMA, error) {
	i := m.vmas.find(page)
	if i < 0 || m.vmas[i].Shared {
		return nil, ErrFault
	}
	v := m.vmas[i]
	for _, r := range m.patchTables {
		if page >= r[0] && page < r[1] && v.Name != patchTableName {
			return nil, ErrFault
		}
	}
	return v, nil
}

// ownPageLocked reports whether the page at addr is present and the
// process's alone, so that a write to it is seen at once.
func (m *MM) ownPageLocked(addr uint64) bool {
	off, ok := m.pages[arch.PageRoundDown(addr)]
	return ok && m.mf.RefCount(off) == 1
}

// patchableLocked reports whether the code at addr lies in a private,
// executable, non-writable mapping.
func (m *MM) patchableLocked(addr uint64) bool {
	i := m.vmas.find(addr)
	if i < 0 {
		return false
	}
	v := m.vmas[i]
	return !v.Shared && v.Prot&platform.Exec != 0 && v.Prot&platform.Write == 0
}

// mapPatchTableLocked maps the table (read and execute, nothing there
// before) and writes its header.
func (m *MM) mapPatchTableLocked(tab platform.SyscallTable) bool {
	end := tab.Addr + tab.Size
	if tab.Addr < m.layout.MinAddr || end > m.layout.MaxAddr || m.overlapsLocked(tab.Addr, end) {
		return false
	}
	m.insertVMALocked(&VMA{Start: tab.Addr, End: end, Prot: platform.Read | platform.Exec,
		MaxProt: platform.Read | platform.Exec, Name: patchTableName})
	m.patchTables = append(m.patchTables, [2]uint64{tab.Addr, end})
	return m.forceWriteLocked(tab.Addr, tab.Header) == nil
}

// forceWriteLocked writes b at addr, which lies in one private page,
// whatever the mapping's protection: the page becomes the process's own
// (copied if shared or a file's) and keeps its protection.
func (m *MM) forceWriteLocked(addr uint64, b []byte) error {
	page := arch.PageRoundDown(addr)
	v, err := m.privateVMALocked(page)
	if err != nil {
		return err
	}
	if !m.ownPageLocked(page) {
		if err := m.populateLocked(v, page, true); err != nil {
			return err
		}
	}
	off, ok := m.pages[page]
	if !ok || m.mf.RefCount(off) > 1 {
		return ErrFault
	}
	copy(m.mf.Bytes(off+int64(addr-page), len(b)), b)
	return nil
}

// PatchedSiteFault handles a SIGILL at addr: if addr is where one of the
// instructions a patch of this MM replaced began, or its syscall (a thread
// ran part of the site's old code before the patch reached it, or is
// restarting the site's syscall), or where a thread that reached a form's
// andAt faults, it returns where the thread goes on: the same place in the
// site's entry, which runs the same instructions, then the syscall (and
// the suffix's after it).
func (m *MM) PatchedSiteFault(addr uint64) (rip uint64, ok bool) {
	// Under patchMu: a patch being written is complete before we look.
	m.patchMu.Lock()
	defer m.patchMu.Unlock()
	for i := range siteForms {
		f := &siteForms[i]
		for _, at := range f.starts {
			site := addr - uint64(f.faultAt(at))
			ps, found := m.patch.sites[site]
			if !found || ps.form != f {
				continue
			}
			var code [7]byte
			var b [1]byte
			if m.CopyIn(site, code[:]) != nil || code[0] != 0xff || code[1] != 0x24 || code[2] != 0x25 ||
				uint64(binary.LittleEndian.Uint32(code[3:])) != ps.entry || m.CopyIn(addr, b[:]) != nil || b[0] != 0x06 {
				return 0, false // the program rewrote its code since
			}
			if at > f.len {
				return ps.resume + uint64(at-f.len-2), true // in the suffix
			}
			return ps.entry + ps.code + uint64(at), true
		}
	}
	return 0, false
}
