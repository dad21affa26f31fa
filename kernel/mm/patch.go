package mm

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// Patched syscall sites (platform.SyscallPatcher).
//
// A syscall site of the form `mov eax, NR; syscall` that has trapped
// patchAfter times in an address space is rewritten into `jmp [E]`, E an
// entry of the platform's table, which this MM maps (anonymous, private,
// read and execute) at the table's fixed address the first time. The
// rewrite goes to the process's own copy of the page, as a debugger's
// breakpoint would: a file's cached page is never written, and processes
// sharing it keep trapping until their own sites are patched. Sites in
// shared or writable mappings are left alone (the program may rewrite or
// read them as data), as are the syscalls that need the thread's whole
// state anyway (patchSkip).
//
// The patch is written in an order that leaves every intermediate state
// safe for a thread running the page: the byte where the syscall
// instruction began becomes 0x06 (an invalid opcode) first, then the rest
// of the jump, its opcode byte last. A thread that ran the old mov and
// reaches the 0x06 faults; so does one resumed two bytes before a patched
// site's return address to restart its syscall. PatchedSiteFault turns
// both back into the syscall.

// patchAfter is how many traps of one site make it worth patching: a
// patch costs a page copy and a mapping change (~30 us), a trap through
// the patched site saves ~2 us.
const patchAfter = 32

// maxPatchSites bounds the sites an MM counts traps of.
const maxPatchSites = 4096

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
	// next is the address of the table's next free entry; 0 before the
	// table is mapped.
	next uint64
	// off: patching was given up in this MM (the table's place is taken,
	// or the table is full).
	off bool
}

// NoteSyscallSite counts a trapped syscall nr whose site returns to ret,
// and patches the site once it has trapped patchAfter times (when p can
// take patched sites). It never fails: a site that cannot be patched
// keeps trapping.
func (m *MM) NoteSyscallSite(p platform.SyscallPatcher, ret, nr uint64) {
	if patchSkip[nr] || nr > 0xffff {
		return
	}
	m.patchMu.Lock()
	defer m.patchMu.Unlock()
	ps := &m.patch
	if ps.off {
		return
	}
	if ps.counts == nil {
		ps.counts = make(map[uint64]uint16)
	}
	n, ok := ps.counts[ret]
	if !ok && len(ps.counts) >= maxPatchSites {
		return
	}
	if n >= patchAfter {
		return // tried already
	}
	n++
	ps.counts[ret] = n
	if n == patchAfter {
		m.patchSite(p, ret, uint32(nr))
	}
}

// patchSite rewrites the site that returns to ret, if it is the plain
// `mov eax, nr; syscall` of a private, read-only executable mapping.
//
// Preconditions: m.patchMu is held.
func (m *MM) patchSite(p platform.SyscallPatcher, ret uint64, nr uint32) {
	site := ret - 7
	if ret < 7 || arch.PageRoundDown(site) != arch.PageRoundDown(ret-1) {
		return
	}
	want := []byte{0xb8, 0, 0, 0, 0, 0x0f, 0x05}
	binary.LittleEndian.PutUint32(want[1:], nr)
	tab := p.SyscallTable()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.patchableLocked(site) {
		return
	}
	var have [7]byte
	if m.copyLocked(site, have[:], false) != nil || !bytes.Equal(have[:], want) {
		return
	}
	ps := &m.patch
	if ps.next == 0 {
		if !m.mapPatchTableLocked(tab) {
			ps.off = true
			return
		}
		ps.next = tab.Addr + tab.EntrySize
	}
	if ps.next+tab.EntrySize > tab.Addr+tab.Size {
		ps.off = true
		return
	}
	entry := ps.next
	live := m.ownPageLocked(entry)
	if m.forceWriteLocked(entry, p.SyscallEntry(entry, ret, nr)) != nil {
		return
	}
	ps.next += tab.EntrySize
	if !live {
		// The entry's page is new or was copied: its mapping reaches
		// the address space with the next switch, and a site patched
		// in place now could send another thread to the old page. The
		// site's next trap patches it (the entry is written again then).
		ps.next -= tab.EntrySize
		ps.counts[ret] = patchAfter - 1
		return
	}
	jump := []byte{0xff, 0x24, 0x25, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(jump[3:], uint32(entry))
	// 0x06 where the syscall began, then the jump's operand, then its
	// opcode (see the file comment).
	for _, part := range [][2]int{{5, 6}, {1, 5}, {6, 7}, {0, 1}} {
		if m.forceWriteLocked(site+uint64(part[0]), jump[part[0]:part[1]]) != nil {
			return
		}
	}
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
	m.patchTableAddr, m.patchTableEnd = tab.Addr, end
	return m.forceWriteLocked(tab.Addr, tab.Header) == nil
}

// forceWriteLocked writes b at addr, which lies in one private page,
// whatever the mapping's protection: the page becomes the process's own
// (copied if shared or a file's) and keeps its protection.
func (m *MM) forceWriteLocked(addr uint64, b []byte) error {
	page := arch.PageRoundDown(addr)
	i := m.vmas.find(page)
	if i < 0 {
		return ErrFault
	}
	v := m.vmas[i]
	if v.Shared || page >= m.patchTableAddr && page < m.patchTableEnd && v.Name != patchTableName {
		return ErrFault // the program put something of its own where the table was
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

// PatchedSiteFault handles a SIGILL at addr: if addr is the fifth byte
// of a patched site of this MM (a thread ran the site's old mov before
// the patch, or is restarting the site's syscall), it returns where the
// thread resumes: the site itself, so that the jump runs; or, for
// restart_syscall (which the site's entry would replace with the site's
// own syscall), the return address with syscall true, for the caller to
// run it as a trapped syscall.
func (m *MM) PatchedSiteFault(addr uint64, rax uint64, tab platform.SyscallTable) (rip uint64, syscall, ok bool) {
	// Under patchMu: a patch being written is complete before we look.
	m.patchMu.Lock()
	defer m.patchMu.Unlock()
	if m.patch.next == 0 || addr < 5 {
		return 0, false, false
	}
	var code [7]byte
	if m.CopyIn(addr-5, code[:]) != nil || code[0] != 0xff || code[1] != 0x24 || code[2] != 0x25 ||
		code[5] != 0x06 || code[6] != 0 {
		return 0, false, false
	}
	entry := uint64(binary.LittleEndian.Uint32(code[3:]))
	if entry < tab.Addr+tab.EntrySize || entry >= tab.Addr+tab.Size || (entry-tab.Addr)%tab.EntrySize != 0 {
		return 0, false, false
	}
	if rax == unix.SYS_RESTART_SYSCALL {
		return addr + 2, true, true
	}
	return addr - 5, false, true
}
