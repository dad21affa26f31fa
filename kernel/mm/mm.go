package mm

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memfile"
	"uk/kernel/memmap"
	"uk/platform"
)

// Layout of the address space; fixed for a process at exec.
type Layout struct {
	// MaxAddr is the first address the application cannot use.
	MaxAddr uint64
	// MmapBase is where top-down mmap placement starts.
	MmapBase uint64
	// MinAddr is the lowest address mmap hands out (vm.mmap_min_addr).
	MinAddr uint64
	// StackTop is the address just above the initial stack.
	StackTop uint64
}

// NewLayout places the stack at the top of [0, maxAddr) and starts mmap
// placement below the stack's growth room, as Linux does for a process with
// the default 8 MiB stack limit.
func NewLayout(maxAddr uint64) Layout {
	stackTop := arch.PageRoundDown(maxAddr - arch.PageSize)
	const gap = 128<<20 + 8<<20
	return Layout{MaxAddr: maxAddr, MmapBase: stackTop - gap, MinAddr: 0x10000, StackTop: stackTop}
}

// MM is one address space's memory. Threads of a process share one MM.
type MM struct {
	// Limits, if set, returns the process's RLIMIT_AS and RLIMIT_DATA
	// soft limits (bytes; ^0 for none), which mmap, brk and mremap
	// check (limits.go). Set once by the kernel when the MM is made.
	Limits func() (as, data uint64)

	mf *memfile.File
	as platform.AddressSpace

	mu     sync.Mutex
	layout Layout           // protected by mu
	vmas   vmaSet           // protected by mu
	pages  map[uint64]int64 // private page address -> memory-file offset; protected by mu
	// poisoned are the pages a userfaultfd handler poisoned
	// (userfault.go): an access is a bus error; protected by mu.
	poisoned map[uint64]struct{}
	// writeProtected are the pages a userfaultfd write-protected: a
	// write reaches its handler (userfault.go); protected by mu.
	writeProtected map[uint64]struct{}
	peak           int      // most private pages held at once (ru_maxrss, VmHWM); protected by mu
	brkStart       uint64   // protected by mu
	brk            uint64   // protected by mu
	users          int      // address-space users (threads + fork references); protected by mu
	defFlags       VMAFlags // flags of new mappings (mlockall's MCL_FUTURE); protected by mu
	// OnRelease, if set, runs once when the last user goes (exec's hold
	// on the program file's write access); under mu, so it must not
	// take MM locks.
	OnRelease func()
	dead      bool     // the address space was killed after a failed unmap; protected by mu
	cowBreaks int      // copy-on-write breaks made (cow.go); protected by mu
	ownWrites int      // write faults on pages that were m's alone (cow.go); protected by mu
	asMapped  asRanges // the addresses the address space maps (asranges.go); protected by mu
	// coldNew holds the addresses that populateAnonLocked gave cold pages
	// (the host has not backed them) while a kernel write was collecting
	// them (copyLocked), until a kernel write reaches them (a 2 MiB window
	// populated by one read(2) of 1 MiB is written by the next). At most
	// coldNewMax; a stale entry (the page since unmapped or touched
	// through uk's mapping) only makes a write take the slower path.
	// Protected by mu.
	coldNew    map[uint64]struct{}
	collecting bool // a kernel write is populating: populateAnonLocked records into coldNew
	// ahead is set while an mmap prefaults: what it maps the program
	// has not asked for yet, and may wait for its touch
	// (markAheadLocked). Protected by mu.
	ahead    bool
	shadow   *asShadow     // what the address space maps, when the page check is on; protected by mu
	released chan struct{} // closed when the last user has released everything
	// patchTables are where syscall patch tables were mapped (patch.go):
	// start and end; protected by mu.
	patchTables [][2]uint64
	patchMu     sync.Mutex
	patch       patchState // protected by patchMu
	// membarrier holds the membarrier(2) registrations (membarrier.go).
	membarrier atomic.Uint32
	// Executable name and argument/environment ranges for /proc.
	ArgStart, ArgEnd, EnvStart, EnvEnd uint64
	Exe                                string
	// Auxv is the auxiliary vector exec gave the program, key and value
	// words up to AT_NULL's: /proc/PID/auxv (Linux's saved_auxv), kept
	// here since the program may overwrite its stack's copy.
	Auxv []byte
}

// New returns an empty MM over a fresh address space. With a nil as, the MM
// can be filled (a program loaded into it) before its address space exists;
// Attach gives it one before anything runs in it.
func New(mf *memfile.File, as platform.AddressSpace, layout Layout) *MM {
	if as == nil {
		as = unattached{}
	}
	return &MM{mf: mf, as: as, layout: layout, pages: make(map[uint64]int64), users: 1, shadow: newShadow(mf), released: make(chan struct{})}
}

// Attach gives an MM made without an address space its (empty) address
// space. Nothing is mapped there yet: Prefault maps what the loaded program
// needs first, and the rest is mapped as it faults.
func (m *MM) Attach(as platform.AddressSpace) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.as.(unattached); !ok {
		panic("mm: Attach to an MM that has an address space")
	}
	m.as = as
	// What was "mapped" into no address space is mapped nowhere.
	m.asMapped = nil
	if m.shadow != nil {
		m.shadow.released()
	}
}

// SoleUser reports whether the MM has one user: a single-threaded process
// whose memory no vfork child or parent shares.
func (m *MM) SoleUser() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.users == 1
}

// TakeAddressSpace empties the address space of an MM with one user and
// hands it over (execve gives it to the new program's MM, which Attaches
// it): the MM keeps its pages and VMAs, with no address space to reach
// them. It returns nil, changing nothing, when the MM has more users or no
// live address space, or when the address space cannot be emptied (it is
// killed then).
//
// A process that forks and then execs (git, make, perl's system) would
// otherwise start two stub processes per child, the fork's and the
// exec's, and the exec's first switch would wait for a thread of the new
// stub; emptying the fork's costs one unmap.
func (m *MM) TakeAddressSpace() platform.AddressSpace {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.as.(unattached); ok || m.users != 1 || m.dead {
		return nil
	}
	m.unmapASLocked(0, m.layout.MaxAddr)
	if m.dead {
		return nil
	}
	as := m.as
	m.as = unattached{}
	return as
}

// unattached stands in for the address space of an MM being built: with
// nothing able to run in it, there is nothing to map or unmap.
type unattached struct{}

func (unattached) MapFile(uint64, int64, uint64, platform.Access) error { return nil }
func (unattached) Unmap(uint64, uint64) error                           { return nil }
func (unattached) Release()                                             {}

// AddressSpace is the platform address space the MM's pages are mapped into.
func (m *MM) AddressSpace() platform.AddressSpace { return m.as }

// Layout returns the address-space layout.
func (m *MM) Layout() Layout {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.layout
}

// IncUsers records another user of the MM (a thread sharing it).
func (m *MM) IncUsers() {
	m.mu.Lock()
	m.users++
	m.mu.Unlock()
}

// DecUsers drops a user; the last one releases the address space, then
// every page and every mapping of an object (in that order: nothing is
// freed while the address space can still reach it). A platform that
// says when its address space is gone (releaserThen) gets the pages back
// only then, off the caller's path.
func (m *MM) DecUsers() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.users--
	if m.users > 0 {
		return
	}
	if m.OnRelease != nil {
		m.OnRelease()
		m.OnRelease = nil
	}
	offs := make([]int64, 0, len(m.pages))
	for _, off := range m.pages {
		offs = append(offs, off)
	}
	m.pages = nil
	m.mf.Uncharge(int64(len(m.poisoned)) * poisonCost)
	m.poisoned = nil
	vmas := m.vmas
	m.vmas = nil
	if r, ok := m.as.(releaserThen); ok && !m.dead {
		// The private pages are freed once the host has torn the stub
		// down, off the exit's path to its parent; until then they stay
		// counted, and an allocation short of memory waits for them
		// (pendingfree.go). The mappings of objects go now, as the exit's wait
		// shows them gone (a System V segment's shm_nattch).
		m.dead = true
		m.asMapped = nil
		if m.shadow != nil {
			m.shadow.released() // before the callback can run
		}
		pend := pendingFor(m.mf)
		pend.add(int64(len(offs)))
		r.ReleaseThen(func() {
			if len(offs) > 0 {
				m.mf.DecRef(offs...)
			}
			pend.done(int64(len(offs)))
			m.closeReleased()
		})
		m.releaseVMAsLocked(vmas)
		return
	}
	m.releaseASLocked()
	if len(offs) > 0 {
		m.mf.DecRef(offs...)
	}
	m.releaseVMAsLocked(vmas)
	m.closeReleased()
}

// closeReleased closes Released, once.
func (m *MM) closeReleased() {
	select {
	case <-m.released:
	default:
		close(m.released)
	}
}

// releaserThen is a platform address space whose release can tell when
// the host has torn it down (sigsys, ptrace: once the stub is reaped).
type releaserThen interface {
	ReleaseThen(done func())
}

// Released is closed once the last user of the MM has gone and its pages
// and mappings are released (the OOM killer waits for its victim's).
func (m *MM) Released() <-chan struct{} { return m.released }

// PrivatePages is the number of private pages the MM holds: the memory
// killing its process would give back, unless another process shares
// them copy-on-write.
func (m *MM) PrivatePages() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pages)
}

// SharedResidentPages is the number of pages of shared mappings that their
// objects hold in the memory file (Linux's RssShmem): a page mapped twice
// counts twice, as in Linux's counters. Killing the process gives them back
// when it held the object's last reference (a MAP_SHARED|MAP_ANONYMOUS
// region, an unlinked file), so the OOM killer counts them with the
// private ones.
func (m *MM) SharedResidentPages() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, v := range m.vmas {
		if !v.Shared {
			continue
		}
		if rc, ok := v.Object.(memmap.ResidentCounter); ok {
			n += rc.ResidentIn(v.Pgoff, v.objectIndex(v.End))
		}
	}
	return n
}

// PeakPages is the most private pages m has held at once: its resident
// set's high-water mark (Linux's hiwater_rss, for ru_maxrss and VmHWM).
func (m *MM) PeakPages() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notePeakLocked()
	return m.peak
}

// notePeakLocked raises the high-water mark to the pages held now. It
// runs wherever private pages are added.
func (m *MM) notePeakLocked() {
	if n := len(m.pages); n > m.peak {
		m.peak = n
	}
}

// mapASLocked maps length bytes of the memory file at off to addr in the
// address space.
func (m *MM) mapASLocked(addr uint64, off int64, length uint64, a platform.Access) error {
	m.markAheadLocked(addr, length)
	m.noteMappedLocked(addr, off, length)
	return m.as.MapFile(addr, off, length, a)
}

// mapASLazyLocked is mapASLocked for cold pages (memfile's AllocateCold):
// where the platform can (platform.LazyMapper), the host backs each page
// at the program's first touch rather than all of them at once.
func (m *MM) mapASLazyLocked(addr uint64, off int64, length uint64, a platform.Access) error {
	lm, ok := m.as.(platform.LazyMapper)
	if !ok {
		return m.mapASLocked(addr, off, length, a)
	}
	m.markAheadLocked(addr, length)
	m.noteMappedLocked(addr, off, length)
	return lm.MapFileLazy(addr, off, length, a)
}

// markAheadLocked tells the platform that the mapping of [addr,
// addr+length) about to be made may wait for the program's touch
// (platform.AheadMapper): while an mmap prefaults (m.ahead), and only
// where nothing is mapped yet.
func (m *MM) markAheadLocked(addr, length uint64) {
	if !m.ahead || m.asMapped.overlaps(addr, addr+length) {
		return
	}
	if am, ok := m.as.(platform.AheadMapper); ok {
		am.MapNextAhead()
	}
}

// noteMappedLocked records a mapping about to be made in the address
// space.
func (m *MM) noteMappedLocked(addr uint64, off int64, length uint64) {
	if m.shadow != nil {
		m.shadow.mapped(addr, off, length)
	}
	m.asMapped.add(addr, addr+length)
}

// releaseASLocked releases the address space for good.
func (m *MM) releaseASLocked() {
	m.dead = true
	m.as.Release()
	m.asMapped = nil
	if m.shadow != nil {
		m.shadow.released()
	}
}

// unmapASLocked removes [start, start+length) from the address space,
// without asking the platform when nothing is mapped there.
// When the platform cannot (the host refused the unmap), the pages there
// may still be reachable, so the caller must not free them believing
// otherwise: the address space is killed instead, and every thread in it
// dies at its next switch.
func (m *MM) unmapASLocked(start, length uint64) {
	if !m.asMapped.overlaps(start, start+length) {
		if m.shadow != nil && m.shadow.anyIn(start, length) {
			panic(fmt.Sprintf("mm: [%#x, %#x) recorded unmapped while the address space maps pages there", start, start+length))
		}
		return
	}
	if err := m.as.Unmap(start, length); err != nil {
		m.killLocked()
		return
	}
	m.asMapped.remove(start, start+length)
	if m.shadow != nil {
		m.shadow.unmapped(start, length)
	}
}

// killLocked makes the address space unusable for good.
func (m *MM) killLocked() {
	if !m.dead {
		m.releaseASLocked()
	}
}

// Invalidate implements memmap.Mapper: it drops this address space's
// mappings of pages [first, end) of obj (and, with evenPrivate, the
// private copies made from them) before obj frees or replaces them.
func (m *MM) Invalidate(obj memmap.Mappable, first, end uint64, evenPrivate bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.vmas {
		if v.Object != obj {
			continue
		}
		vFirst := v.Pgoff
		vEnd := v.Pgoff + (v.End-v.Start)>>arch.PageShift
		lo, hi := max(first, vFirst), min(end, vEnd)
		if lo >= hi {
			continue
		}
		start := v.Start + (lo-vFirst)<<arch.PageShift
		stop := v.Start + (hi-vFirst)<<arch.PageShift
		var private []int64
		if !v.Shared && evenPrivate {
			private = m.takePagesLocked(start, stop)
		}
		m.unmapASLocked(start, stop-start)
		if len(private) > 0 {
			m.mf.DecRef(private...)
		}
		if !v.Shared && !evenPrivate {
			// Hole punching keeps the private copies: map them again.
			m.mapPagesLocked(v, m.presentInLocked(start, stop))
		}
	}
}

// ErrFault is returned by CopyIn/CopyOut for an address the application may
// not access; syscalls turn it into EFAULT.
var ErrFault = unix.EFAULT

// FaultResult says what HandleFault decided.
type FaultResult int

// Fault outcomes.
const (
	FaultHandled   FaultResult = iota // mapped; resume the thread
	FaultMapErr                       // no VMA: SIGSEGV with SEGV_MAPERR
	FaultAccErr                       // VMA forbids the access: SIGSEGV with SEGV_ACCERR
	FaultNoMem                        // the memory file is exhausted: the OOM killer's turn
	FaultBusErr                       // no page to be had (past the end of a file, a full tmpfs): SIGBUS
	FaultUserfault                    // a missing page a userfaultfd handles: wait for it (UserfaultAt)
)

// ErrNoMemory is returned by CopyIn, CopyOut and KernelBytes when a page
// could not be allocated because the memory file is exhausted; the kernel
// runs the OOM killer and retries.
var ErrNoMemory = unix.ENOMEM

// isNoMemory reports whether err means the memory file is exhausted (as
// opposed to a page that cannot exist, such as one past the end of a
// file).
func isNoMemory(err error) bool {
	return errors.Is(err, memfile.ErrNoMemory) || errors.Is(err, unix.ENOMEM)
}

// LastFault is where one thread last faulted. It belongs to the thread,
// not to the address space: threads running the same code fault at the same
// instruction and address at once (a text page not mapped yet), and another
// thread's fault there says nothing about this one's access.
type LastFault struct{ rip, addr uint64 }

// HandleFault resolves an application page fault at addr for the given
// access, made by the instruction at rip. last is the faulting thread's
// record (nil: no history, every fault is a first one).
func (m *MM) HandleFault(addr uint64, access platform.Access, rip uint64, last *LastFault) FaultResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	page := arch.PageRoundDown(addr)
	i := m.vmas.find(page)
	if i < 0 {
		if !m.growStackLocked(page) {
			return FaultMapErr
		}
		i = m.vmas.find(page)
	}
	v := m.vmas[i]
	v.untouched = false
	repeat := false
	if last != nil {
		repeat = *last == LastFault{rip, addr}
		*last = LastFault{rip, addr}
	}
	if access&platform.Write != 0 && v.Prot&platform.Write == 0 {
		// The access decoder may call a read (e.g. the source of MOVS) a
		// write, and a page another thread mapped meanwhile reads as the
		// instruction's own access: map the page readable once, and
		// refuse only when the same thread faults there again.
		if v.Prot&platform.Read == 0 || repeat {
			return FaultAccErr
		}
		access = platform.Read
	}
	if access&platform.Exec != 0 && v.Prot&platform.Exec == 0 {
		return FaultAccErr
	}
	if v.Prot&(platform.Read|platform.Write|platform.Exec) == 0 {
		return FaultAccErr
	}
	if _, ok := m.poisoned[page]; ok {
		return FaultBusErr // UFFDIO_POISON
	}
	if m.userfaultMissingLocked(v, page) || access&platform.Write != 0 && m.userfaultWPLocked(v, page) ||
		m.userfaultMinorLocked(v, page) {
		return FaultUserfault
	}
	if err := m.populateLocked(v, page, access&platform.Write != 0); err != nil {
		if isNoMemory(err) {
			return FaultNoMem
		}
		return FaultBusErr
	}
	return FaultHandled
}

// growStackLocked extends a MAP_GROWSDOWN VMA down to page if page lies
// within the stack rlimit gap below it.
func (m *MM) growStackLocked(page uint64) bool {
	j := m.vmas.firstEndingAfter(page)
	if j >= len(m.vmas) || !m.vmas[j].GrowsDown {
		return false
	}
	v := m.vmas[j]
	const maxGrow = 8 << 20 // matches the default RLIMIT_STACK
	if v.Start-page > maxGrow || (j > 0 && m.vmas[j-1].End > page) {
		return false
	}
	// A stack keeps a guard gap from an accessible mapping below it
	// (Linux's stack_guard_gap, 256 pages), so that running into it
	// faults rather than write over it.
	if j > 0 {
		prev := m.vmas[j-1]
		if !prev.GrowsDown && prev.Prot&(platform.Read|platform.Write|platform.Exec) != 0 && page-prev.End < stackGuardGap {
			return false
		}
	}
	v.Start = page
	return true
}

// stackGuardGap is Linux's default stack_guard_gap: 256 pages.
const stackGuardGap = 256 << arch.PageShift

// populateLocked backs and maps the pages around page (inside v): a fault
// window for anonymous memory (populateAnonLocked) and for a file's pages;
// copy-on-write breaks (cow.go) choose their own.
func (m *MM) populateLocked(v *VMA, page uint64, write bool) error {
	start := page &^ (faultRun - 1)
	end := start + faultRun
	if start < v.Start {
		start = v.Start
	}
	if end > v.End {
		end = v.End
	}
	if v.GrowsDown {
		// Stacks grow down: do not pull in pages above the fault that
		// would be touched anyway, but neither below the VMA.
		start = page
		if page+faultRun < end {
			end = page + faultRun
		}
	}
	if v.Userfault != nil {
		// Only the page asked for: the others are the handler's to fill.
		start, end = page, page+arch.PageSize
	}
	if v.Shared {
		return m.mapSharedLocked(v, start, end, true, page)
	}
	// A write to a present page: a copy-on-write break, or the page is
	// m's alone again but still mapped read-only (cow.go).
	if off, ok := m.pages[page]; ok {
		switch {
		case write && m.mf.RefCount(off) > 1:
			return m.writeSharedLocked(v, page)
		case write:
			return m.writeOwnLocked(v, page)
		}
		return m.mapPrivateLocked(v, page, page+arch.PageSize)
	}
	if v.Object != nil {
		// Private file mapping: a read maps the file's pages read-only;
		// a write makes a private copy.
		if v.CopyWhole && v.Prot&platform.Write != 0 && v.End-v.Start <= copyWholeMax {
			return m.copyFileVMALocked(v, page)
		}
		if v.CopyWhole && write {
			return m.copyFileWindowLocked(v, page)
		}
		if !write {
			m.prefetchLocked(v, page)
			return m.mapFileRunLocked(v, page, start, end)
		}
		return m.copyFilePageLocked(v, page)
	}
	return m.populateAnonLocked(v, page, write, start, end)
}

// mapPrivateLocked maps the present private pages of [start, end), merging
// runs that are contiguous both in address and in the memory file.
func (m *MM) mapPrivateLocked(v *VMA, start, end uint64) error {
	var run mapRun
	for a := start; a < end; a += arch.PageSize {
		off, ok := m.pages[a]
		if !ok {
			if err := run.flush(m); err != nil {
				return err
			}
			continue
		}
		if err := run.add(m, a, off, m.privateProt(v, a, off)); err != nil {
			return err
		}
	}
	return run.flush(m)
}

// mapSharedLocked maps [start, end) of a shared mapping: the object's own
// pages, allocated where it has none yet if fill, else left to their
// faults (a prefault must not make pages resident that nothing touched: a
// fork would fill every small System V segment its parent attached).
//
// need is the page a fault needs (noPage for none): with fill, a page the
// object cannot give (past the end of a file: a mapping may be longer than
// its file) fails the call only at or before need; after it, the window
// simply ends there, and a later touch of those pages faults on its own
// (SIGBUS, as on Linux, for a page wholly past the end).
func (m *MM) mapSharedLocked(v *VMA, start, end uint64, fill bool, need uint64) error {
	if done, err := m.mapFromHostLocked(v, start, v.Start, v.End); done {
		return err
	}
	var run mapRun
	for a := start; a < end; a += arch.PageSize {
		var off int64
		if fill {
			var err error
			if off, err = v.Object.PageAt(v.objectIndex(a)); err != nil {
				if need != noPage && a <= need {
					return err
				}
				return run.flush(m)
			}
		} else {
			var held bool
			if off, held = peekPage(v, v.objectIndex(a)); !held {
				if err := run.flush(m); err != nil {
					return err
				}
				continue
			}
		}
		if err := run.add(m, a, off, v.Prot); err != nil {
			return err
		}
	}
	return run.flush(m)
}

// noPage stands for no page at all where an address is expected.
const noPage = ^uint64(0)

// errNoVMA distinguishes "nothing mapped" inside translate.
var errNoVMA = errors.New("no vma")

// pageForKernelLocked returns the memory-file offset backing the page at
// addr for a kernel access (write when write is true), faulting it in.
func (m *MM) pageForKernelLocked(page uint64, write bool) (int64, error) {
	return m.pageForAccessLocked(page, write, false)
}

// pageForAccessLocked is pageForKernelLocked; force is a debugger's access
// (AccessForced), which the mapping's protection does not stop, save a
// write to a shared mapping that is not writable.
func (m *MM) pageForAccessLocked(page uint64, write, force bool) (int64, error) {
	i := m.vmas.find(page)
	if i < 0 {
		if !m.growStackLocked(page) {
			return 0, errNoVMA
		}
		i = m.vmas.find(page)
	}
	v := m.vmas[i]
	v.untouched = false
	denied := write && v.Prot&platform.Write == 0 || !write && v.Prot&platform.Read == 0
	if denied && (!force || write && v.Shared) {
		return 0, ErrFault
	}
	if v.Shared {
		return v.Object.PageAt(v.objectIndex(page))
	}
	if _, ok := m.poisoned[page]; ok {
		return 0, ErrFault
	}
	if m.userfaultMissingLocked(v, page) || write && m.userfaultWPLocked(v, page) {
		return 0, &UserfaultError{Ctx: v.Userfault, Addr: page, Write: write}
	}
	if off, ok := m.pages[page]; ok && (!write || m.mf.RefCount(off) == 1) {
		return off, nil
	}
	if !write && v.Object != nil {
		return v.Object.PageAt(v.objectIndex(page))
	}
	if err := m.populateLocked(v, page, write); err != nil {
		return 0, err
	}
	return m.pages[page], nil
}

// kernelAccessErr is what a kernel access to application memory reports
// when the page cannot be had: ErrNoMemory when memory is exhausted (the
// caller may free some and retry), else ErrFault.
func kernelAccessErr(err error) error {
	if isNoMemory(err) {
		return ErrNoMemory
	}
	if ue, ok := err.(*UserfaultError); ok {
		return ue
	}
	return ErrFault
}

// CopyIn reads len(dst) bytes of application memory at addr.
func (m *MM) CopyIn(addr uint64, dst []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.copyLocked(addr, dst, false, false)
}

// CopyOut writes src into application memory at addr.
func (m *MM) CopyOut(addr uint64, src []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.copyLocked(addr, src, true, false)
}

// AccessForced reads application memory into buf, or writes buf there, as
// a debugger does (ptrace's PEEK and POKE, Linux's FOLL_FORCE): it reads
// what the program may not, and writes a private mapping that is not
// writable (text, for a breakpoint), which gets its own copy of the page.
// A shared mapping must be writable to be written.
func (m *MM) AccessForced(addr uint64, buf []byte, write bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.copyLocked(addr, buf, write, true)
}

func (m *MM) copyLocked(addr uint64, buf []byte, write, force bool) error {
	if addr+uint64(len(buf)) < addr || addr+uint64(len(buf)) > m.layout.MaxAddr {
		return ErrFault
	}
	var cold coldWrite
	if write {
		m.collecting = true
		defer func() { m.collecting = false }()
	}
	for len(buf) > 0 {
		page := arch.PageRoundDown(addr)
		in := int(addr - page)
		n := min(len(buf), arch.PageSize-in)
		if !write && m.untouchedAnonLocked(page) {
			// Linux reads the zero page here: writing a gigabyte of
			// untouched memory to /dev/null must not allocate it.
			clear(buf[:n])
			buf = buf[n:]
			addr += uint64(n)
			continue
		}
		off, err := m.pageForAccessLocked(page, write, force)
		if err != nil {
			cold.flush(m.mf)
			return kernelAccessErr(err)
		}
		if write && m.takeColdLocked(page) {
			cold.add(m.mf, off+int64(in), buf[:n])
		} else {
			cold.flush(m.mf)
			mem := m.mf.Bytes(off+int64(in), n)
			if write {
				copy(mem, buf[:n])
			} else {
				copy(buf[:n], mem)
			}
		}
		buf = buf[n:]
		addr += uint64(n)
	}
	cold.flush(m.mf)
	return nil
}

// coldNewMax bounds MM.coldNew: a few fault windows' worth.
const coldNewMax = 4 * maxFaultRun / arch.PageSize

// noteColdLocked records that a kernel write's populate gave the pages at
// addrs cold pages.
func (m *MM) noteColdLocked(addrs []uint64) {
	if m.coldNew == nil || len(m.coldNew)+len(addrs) > coldNewMax {
		m.coldNew = make(map[uint64]struct{}, len(addrs))
	}
	for _, a := range addrs {
		m.coldNew[a] = struct{}{}
	}
}

// takeColdLocked reports whether page has a cold page no kernel write has
// reached yet (coldNew), and forgets it.
func (m *MM) takeColdLocked(page uint64) bool {
	if _, ok := m.coldNew[page]; ok {
		delete(m.coldNew, page)
		return true
	}
	return false
}

// coldWrite gathers a kernel write's bytes bound for cold pages (ones the
// host has not backed) into runs contiguous in the memory file, each
// written with one pwrite: copied through uk's mapping, every such page
// would first fault in there (a host allocation, zeroing and mapping: 660
// us a MiB here, against 320 for the pwrite). A read(2) into a buffer the
// program never touched (sort's 10 MB input) is the case.
type coldWrite struct {
	off int64
	b   []byte // a run of the caller's buffer, contiguous in the file from off
}

// add appends b, bound for off, to the run, or starts a new one. b comes
// right after the run in the caller's buffer (copyLocked adds each piece
// in order and flushes before anything else), so the run grows in place.
func (c *coldWrite) add(mf *memfile.File, off int64, b []byte) {
	if len(c.b) > 0 && c.off+int64(len(c.b)) == off {
		c.b = c.b[:len(c.b)+len(b)]
		return
	}
	c.flush(mf)
	c.off, c.b = off, b
}

// flush writes the run, through the mapping if the host refuses.
func (c *coldWrite) flush(mf *memfile.File) {
	if len(c.b) == 0 {
		return
	}
	if mf.WriteAt(c.b, c.off) != nil {
		copy(mf.Bytes(c.off, len(c.b)), c.b)
	}
	c.b = nil
}

// untouchedAnonLocked reports whether page is readable anonymous private
// memory that was never touched: it reads as zeros, with no page behind it.
func (m *MM) untouchedAnonLocked(page uint64) bool {
	if _, ok := m.pages[page]; ok {
		return false
	}
	i := m.vmas.find(page)
	if i < 0 {
		return false
	}
	v := m.vmas[i]
	return v.Object == nil && !v.Shared && v.Prot&platform.Read != 0 && v.Userfault == nil
}

// CopyInString reads a NUL-terminated string of at most max bytes at addr.
func (m *MM) CopyInString(addr uint64, max int) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []byte
	for len(out) < max {
		page := arch.PageRoundDown(addr)
		off, err := m.pageForKernelLocked(page, false)
		if err != nil {
			return "", kernelAccessErr(err)
		}
		in := int(addr - page)
		n := min(max-len(out), arch.PageSize-in)
		mem := m.mf.Bytes(off+int64(in), n)
		for i, c := range mem {
			if c == 0 {
				return string(append(out, mem[:i]...)), nil
			}
		}
		out = append(out, mem...)
		addr += uint64(n)
	}
	return "", unix.ENAMETOOLONG
}

// String describes the MM for debugging.
func (m *MM) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprintf("mm{%d vmas, %d private pages}", len(m.vmas), len(m.pages))
}

// KernelBytes returns uk's view of [addr, addr+n), which must not cross a
// page, after faulting the page in for a read (or a write, breaking
// copy-on-write). The slice aliases application memory; the futex code
// uses it for atomic operations.
func (m *MM) KernelBytes(addr uint64, n int, write bool) ([]byte, error) {
	page := arch.PageRoundDown(addr)
	if n <= 0 || addr+uint64(n) > page+arch.PageSize {
		return nil, unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	off, err := m.pageForKernelLocked(page, write)
	if err != nil {
		return nil, kernelAccessErr(err)
	}
	return m.mf.Bytes(off+int64(addr-page), n), nil
}

// SharedOffset reports whether addr lies in a shared mapping and, if so,
// the memory-file offset of the byte (the identity of a shared futex).
func (m *MM) SharedOffset(addr uint64) (off int64, shared bool, err error) {
	page := arch.PageRoundDown(addr)
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.vmas.find(page)
	if i < 0 {
		return 0, false, ErrFault
	}
	v := m.vmas[i]
	if !v.Shared {
		return 0, false, nil
	}
	po, err := v.Object.PageAt(v.objectIndex(page))
	if err != nil {
		return 0, false, ErrFault
	}
	return po + int64(addr-page), true, nil
}
