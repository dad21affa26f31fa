package mm

import (
	"slices"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memmap"
)

// userfaultfd: a program registers ranges of its private anonymous memory
// with a userfaultfd (kernel/userfaultfd.go); a page missing there is not
// backed at a fault but reported to the program's handler, which fills it
// (UFFDIO_COPY, ZEROPAGE, MOVE) while the faulting thread waits.
//
// The MM's part: a registered VMA names its context (VMA.Userfault) and
// modes; HandleFault answers FaultUserfault and a kernel access a
// *UserfaultError for a missing page there; neither the fault windows nor
// any prefault back a page of such a VMA the program did not ask for; and
// the fills install pages as the handler gives them.

// Userfault is a userfaultfd context, as a registered VMA names it.
type Userfault interface {
	// UserfaultContext marks the kernel's context type.
	UserfaultContext()
}

// Registration modes (UFFDIO_REGISTER_MODE_*).
const (
	UserfaultMissing = 1 // report faults on missing pages
	UserfaultWP      = 2 // report writes to write-protected pages
	UserfaultMinor   = 4 // report faults on shared memory's pages not mapped yet
)

// Kinds of userfault, as UserfaultAt reports them (the message's
// UFFD_PAGEFAULT_FLAG_WP and _MINOR bits).
const (
	UserfaultKindMissing = 0
	UserfaultKindWP      = 2
	UserfaultKindMinor   = 4
)

// UserfaultError is a kernel access (a syscall reading or writing the
// program's memory) that met a missing page a userfaultfd handles: the
// caller waits for the handler as a faulting thread does, and retries.
type UserfaultError struct {
	Ctx   Userfault
	Addr  uint64
	Write bool
}

func (e *UserfaultError) Error() string { return "page handled by a userfaultfd" }

// userfaultMissingLocked reports whether page of v is one v's userfaultfd
// handles: missing, in a VMA registered for missing pages.
func (m *MM) userfaultMissingLocked(v *VMA, page uint64) bool {
	if v.Userfault == nil || v.UserfaultMode&UserfaultMissing == 0 {
		return false
	}
	_, present := m.pages[page]
	_, poisoned := m.poisoned[page]
	return !present && !poisoned
}

// userfaultWPLocked reports whether a write to page of v reaches v's
// userfaultfd: v registered for write-protect, the page protected.
func (m *MM) userfaultWPLocked(v *VMA, page uint64) bool {
	if v.Userfault == nil || v.UserfaultMode&UserfaultWP == 0 {
		return false
	}
	_, wp := m.writeProtected[page]
	return wp
}

// UserfaultWriteProtect write-protects (protect) or releases the present
// pages of [start, start+n pages) (UFFDIO_WRITEPROTECT): every VMA there
// must be ctx's with write-protect mode (ENOENT). Protected pages leave
// the address space writable no more; released ones are writable again.
func (m *MM) UserfaultWriteProtect(ctx Userfault, start uint64, n int, protect bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	end := start + uint64(n)*arch.PageSize
	for a := start; a < end; {
		i := m.vmas.find(a)
		if i < 0 || m.vmas[i].Userfault != ctx || m.vmas[i].UserfaultMode&UserfaultWP == 0 {
			return unix.ENOENT
		}
		a = m.vmas[i].End
	}
	var present []uint64
	for a := range m.pages {
		if a >= start && a < end {
			present = append(present, a)
		}
	}
	slices.Sort(present)
	if protect {
		if m.writeProtected == nil {
			m.writeProtected = make(map[uint64]struct{})
		}
		for _, a := range present {
			m.writeProtected[a] = struct{}{}
		}
		m.unmapASLocked(start, end-start) // they map again read-only
		return nil
	}
	for _, a := range present {
		delete(m.writeProtected, a)
	}
	for i := m.vmas.firstEndingAfter(start); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
		v := m.vmas[i]
		var in []uint64
		for _, a := range present {
			if a >= v.Start && a < v.End {
				in = append(in, a)
			}
		}
		if err := m.mapPagesLocked(v, in); err != nil {
			return err
		}
	}
	return nil
}

// UserfaultPoison marks n missing pages from start of ctx's registered
// memory poisoned (UFFDIO_POISON): any access to one is a bus error,
// until it is unmapped or discarded. Errors as UserfaultFill's.
func (m *MM) UserfaultPoison(ctx Userfault, start uint64, n int) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var done uint64
	for p := range n {
		page := start + uint64(p)*arch.PageSize
		if _, err := m.userfaultTargetLocked(ctx, page); err != nil {
			return done, err
		}
		if _, ok := m.poisoned[page]; ok {
			return done, unix.EEXIST
		}
		if !m.mf.Charge(poisonCost) {
			return done, unix.ENOMEM
		}
		if m.poisoned == nil {
			m.poisoned = make(map[uint64]struct{})
		}
		m.poisoned[page] = struct{}{}
		done += arch.PageSize
	}
	return done, nil
}

// poisonCost is what one poison marker is charged: about what it holds
// in uk's heap. Markers are for missing pages, so nothing else bounds
// them: a program could poison terabytes of reserved memory, a call at a
// time (Linux charges its PTE markers as page tables).
const poisonCost = 64

// clearPoisonLocked forgets the poison markers in [start, end): the
// memory there was unmapped or discarded.
func (m *MM) clearPoisonLocked(start, end uint64) {
	n := 0
	for a := range m.poisoned {
		if a >= start && a < end {
			delete(m.poisoned, a)
			n++
		}
	}
	m.mf.Uncharge(int64(n) * poisonCost)
	for a := range m.writeProtected {
		if a >= start && a < end {
			delete(m.writeProtected, a)
		}
	}
}

// UserfaultRegister registers the VMAs in [start, end) (page-aligned, the
// caller checked) with ctx in mode: EINVAL when the range holds no VMA or
// one that is not private anonymous memory, EBUSY when one belongs to
// another userfaultfd. For missing-page mode, pages uk backed ahead of the
// program (fault windows, prefault) that it never wrote, zero and its
// alone, go: Linux would not have them, and a read of one must reach the
// handler. (A page the program itself filled with zeros goes too: uk
// cannot tell the two apart.)
func (m *MM) UserfaultRegister(start, end uint64, ctx Userfault, mode uint8) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	found := false
	for i := m.vmas.firstEndingAfter(start); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
		v := m.vmas[i]
		if !userfaultable(v, mode) {
			return unix.EINVAL
		}
		if v.Userfault != nil && v.Userfault != ctx {
			return unix.EBUSY
		}
		found = true
	}
	if !found {
		return unix.EINVAL
	}
	if err := m.splitRoomLocked(start, end, false); err != nil {
		return err
	}
	m.splitAtLocked(start)
	m.splitAtLocked(end)
	for i := m.vmas.firstEndingAfter(start); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
		v := m.vmas[i]
		v.Userfault, v.UserfaultMode = ctx, mode
		v.fa = faultAround{}
		if mode&UserfaultMissing != 0 {
			m.dropUntouchedLocked(v.Start, v.End)
		}
	}
	m.coalesceLocked(start, end)
	return nil
}

// userfaultable reports whether v may be registered in mode: private
// anonymous memory for missing-page and write-protect modes, shared memory
// whose pages can be looked up (tmpfs, memfd, SysV and anonymous shared
// memory) for the minor-fault mode alone.
func userfaultable(v *VMA, mode uint8) bool {
	if v.GrowsDown {
		return false
	}
	if mode&UserfaultMinor != 0 {
		_, peekable := v.Object.(memmap.PagePeeker)
		return mode == UserfaultMinor && v.Shared && peekable
	}
	return v.Object == nil && !v.Shared
}

// userfaultMinorLocked reports whether page of v is one v's userfaultfd
// handles as a minor fault: v registered for that, the page in its shared
// object but not mapped here.
func (m *MM) userfaultMinorLocked(v *VMA, page uint64) bool {
	if v.Userfault == nil || v.UserfaultMode&UserfaultMinor == 0 || m.asMapped.contains(page) {
		return false
	}
	_, held := peekPage(v, v.objectIndex(page))
	return held
}

// UserfaultContinue maps n pages from start of ctx's minor-fault memory
// from its object (UFFDIO_CONTINUE): each must be in a VMA ctx registered
// for that (ENOENT), held by the object (EFAULT) and not mapped yet
// (EEXIST). It returns the bytes mapped before the first failure.
func (m *MM) UserfaultContinue(ctx Userfault, start uint64, n int) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var done uint64
	for p := range n {
		page := start + uint64(p)*arch.PageSize
		i := m.vmas.find(page)
		if i < 0 || m.vmas[i].Userfault != ctx || m.vmas[i].UserfaultMode&UserfaultMinor == 0 {
			return done, unix.ENOENT
		}
		v := m.vmas[i]
		if m.asMapped.contains(page) {
			return done, unix.EEXIST
		}
		if _, held := peekPage(v, v.objectIndex(page)); !held {
			return done, unix.EFAULT
		}
		if err := m.mapSharedLocked(v, page, page+arch.PageSize, false, noPage); err != nil {
			return done, err
		}
		done += arch.PageSize
	}
	return done, nil
}

// dropUntouchedLocked frees the private pages of [start, end) that hold
// only zeros and are this MM's alone, out of the address space first.
func (m *MM) dropUntouchedLocked(start, end uint64) {
	var drop []uint64
	// By the pages the MM has, not by the range's addresses: a program
	// may register terabytes of reserved address space.
	for a, off := range m.pages {
		if a < start || a >= end || m.mf.RefCount(off) != 1 {
			continue
		}
		if isZero(m.mf.Bytes(off, arch.PageSize)) {
			drop = append(drop, a)
		}
	}
	if len(drop) == 0 {
		return
	}
	m.unmapASLocked(start, end-start)
	offs := make([]int64, len(drop))
	for i, a := range drop {
		offs[i] = m.pages[a]
		delete(m.pages, a)
	}
	m.mf.DecRef(offs...)
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// UserfaultUnregister ends ctx's registration of the VMAs in [start, end).
func (m *MM) UserfaultUnregister(start, end uint64, ctx Userfault) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := m.vmas.firstEndingAfter(start); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
		if v := m.vmas[i]; !userfaultable(v, UserfaultMissing) && !userfaultable(v, UserfaultMinor) {
			return unix.EINVAL
		}
	}
	if err := m.splitRoomLocked(start, end, false); err != nil {
		return err
	}
	m.splitAtLocked(start)
	m.splitAtLocked(end)
	for i := m.vmas.firstEndingAfter(start); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
		if v := m.vmas[i]; v.Userfault == ctx {
			v.Userfault, v.UserfaultMode = nil, 0
		}
	}
	m.coalesceLocked(start, end)
	return nil
}

// UserfaultUnregisterAll ends every registration of ctx (its file closed).
func (m *MM) UserfaultUnregisterAll(ctx Userfault) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.vmas {
		if v.Userfault == ctx {
			v.Userfault, v.UserfaultMode = nil, 0
		}
	}
	if len(m.vmas) > 0 {
		m.coalesceLocked(m.vmas[0].Start, m.vmas[len(m.vmas)-1].End)
	}
}

// UserfaultAt returns the userfaultfd handling an access to addr (write
// says which) and the kind of fault: the page missing in a VMA registered
// for that, write-protected (a write), or not mapped yet in shared memory
// registered for minor faults.
func (m *MM) UserfaultAt(addr uint64, write bool) (ctx Userfault, kind int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	page := arch.PageRoundDown(addr)
	i := m.vmas.find(page)
	if i < 0 {
		return nil, 0
	}
	v := m.vmas[i]
	switch {
	case m.userfaultMissingLocked(v, page):
		return v.Userfault, UserfaultKindMissing
	case write && m.userfaultWPLocked(v, page):
		return v.Userfault, UserfaultKindWP
	case m.userfaultMinorLocked(v, page):
		return v.Userfault, UserfaultKindMinor
	}
	return nil, 0
}

// UserfaultFill installs pages at [dst, dst+n pages) of ctx's registered
// memory (UFFDIO_COPY with data, UFFDIO_ZEROPAGE with nil): each must be
// missing (EEXIST) in a VMA ctx registered (ENOENT). It returns the bytes
// filled before the first failure.
func (m *MM) UserfaultFill(ctx Userfault, dst uint64, n int, data []byte) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var done uint64
	for p := range n {
		page := dst + uint64(p)*arch.PageSize
		v, err := m.userfaultTargetLocked(ctx, page)
		if err != nil {
			return done, err
		}
		offs, err := m.mf.Allocate(1)
		if err != nil {
			return done, unix.ENOMEM
		}
		if data != nil {
			if err := m.mf.WriteAt(data[p*arch.PageSize:(p+1)*arch.PageSize], offs[0]); err != nil {
				copy(m.mf.Bytes(offs[0], arch.PageSize), data[p*arch.PageSize:(p+1)*arch.PageSize])
			}
		}
		m.pages[page] = offs[0]
		m.notePeakLocked()
		if err := m.mapPagesLocked(v, []uint64{page}); err != nil {
			return done, err
		}
		done += arch.PageSize
	}
	return done, nil
}

// userfaultTargetLocked is the VMA a fill of page goes to: registered with
// ctx (ENOENT otherwise), the page missing (EEXIST otherwise).
func (m *MM) userfaultTargetLocked(ctx Userfault, page uint64) (*VMA, error) {
	i := m.vmas.find(page)
	if i < 0 || m.vmas[i].Userfault != ctx {
		return nil, unix.ENOENT
	}
	if _, ok := m.pages[page]; ok {
		return nil, unix.EEXIST
	}
	return m.vmas[i], nil
}

// UserfaultMove moves n pages from src to dst (UFFDIO_MOVE): each source
// page must be present, private anonymous and this MM's alone (EBUSY when
// shared; a missing one is ENOENT, or skipped when holes are allowed);
// each destination page missing in ctx's registered memory. It returns the
// bytes moved (holes skipped count) before the first failure.
func (m *MM) UserfaultMove(ctx Userfault, dst, src uint64, n int, allowHoles bool) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var done uint64
	for p := range n {
		d, s := dst+uint64(p)*arch.PageSize, src+uint64(p)*arch.PageSize
		si := m.vmas.find(s)
		if si < 0 || m.vmas[si].Object != nil || m.vmas[si].Shared {
			return done, unix.EINVAL
		}
		off, ok := m.pages[s]
		if !ok {
			if !allowHoles {
				return done, unix.ENOENT
			}
			done += arch.PageSize
			continue
		}
		if m.mf.RefCount(off) != 1 {
			return done, unix.EBUSY
		}
		v, err := m.userfaultTargetLocked(ctx, d)
		if err != nil {
			return done, err
		}
		m.unmapASLocked(s, arch.PageSize)
		delete(m.pages, s)
		m.pages[d] = off
		if err := m.mapPagesLocked(v, []uint64{d}); err != nil {
			return done, err
		}
		done += arch.PageSize
	}
	return done, nil
}
