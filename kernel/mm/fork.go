package mm

import (
	"encoding/binary"
	"maps"
	"slices"

	"uk/arch"
	"uk/platform"
)

// forkCopyMax is the most present pages a writable private VMA may have for
// fork to copy them at once instead of sharing them copy-on-write. Nearly
// every such page is written by one side soon after a fork (the stack, the
// data segment, a small heap), and a copy-on-write fault costs far more on
// the ptrace platform (two host round trips) than copying the page.
const forkCopyMax = 64

// Fork returns a copy of m over as: the same VMAs and the same contents,
// with what the child is about to touch, resuming at resume, mapped in as
// already (as Prefault maps a forked program's).
//
// Private pages of small writable VMAs (at most forkCopyMax present) are
// copied now: the child takes the copies and m keeps its pages, so
// neither side faults to write them, and m's host mappings of them stay
// as they are (the child maps everything anyway; m, given the copies,
// would need a host mapping call for each run of them before it runs
// again). Other private pages are shared copy-on-write, mapped read-only
// in m until one side writes. When other threads use m, its writable
// mappings are dropped first, so that none of them can write a page while
// it is being copied or shared.
func (m *MM) Fork(as platform.AddressSpace, resume uint64) *MM {
	c, present, warm := m.forkOnly(as)
	// The child's pages are m's, at the same addresses, in VMAs of the
	// same order: its prefault takes m's lists rather than listing and
	// sorting every page again (a fork-exit-wait of a program with a 4 MB
	// heap, best of 300: 610-666 us before, 554-606 after).
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prefaultLocked(resume, false, present)
	c.mapWarmLocked(warm)
	return c
}

// The child's first steps run its program's own code: a shell's child
// sets up redirections and signals before its exec, git's closes fds, a
// Python or Perl worker runs the interpreter. The parent has the windows
// of that code mapped; without them, the child took a fault (a trap and
// a batch) for each before it got to its exec: bash's text and read-only
// data, two of a spawn's batches. So a fork also maps, in the child, what
// the parent maps of its executable's read-only segments: one or two
// requests more in the batch the child's first switch runs anyway, and
// at most one host file more for its stub (the libraries, whose windows
// the parent maps too, would be one each: a Perl with its modules
// loaded had a fork's prefault take 620 us for them against 97 without).

// warmRangesLocked returns what m maps of its executable's read-only
// file segments (the object of the VMA holding the program's entry
// point, from the auxiliary vector).
//
// Preconditions: m.mu is held.
func (m *MM) warmRangesLocked() []asRange {
	i := m.vmas.find(m.entryLocked())
	if i < 0 || m.vmas[i].Object == nil {
		return nil
	}
	exe := m.vmas[i].Object
	var out []asRange
	for _, v := range m.vmas {
		if v.Object == exe && !v.Shared && v.Prot&platform.Write == 0 && v.Prot&(platform.Read|platform.Exec) != 0 &&
			v.Flags&DontFork == 0 {
			out = append(out, m.asMapped.within(v.Start, v.End)...)
		}
	}
	return out
}

// entryLocked returns the program's entry point (AT_ENTRY), 0 if unknown.
func (m *MM) entryLocked() uint64 {
	for b := m.Auxv; len(b) >= 16; b = b[16:] {
		if binary.LittleEndian.Uint64(b) == arch.AT_ENTRY {
			return binary.LittleEndian.Uint64(b[8:])
		}
	}
	return 0
}

// mapWarmLocked maps the parent's warm ranges (warmRangesLocked) in m, a
// fork's child, where nothing is mapped yet. It is only an
// optimization: what it cannot map faults later.
//
// Preconditions: m.mu is held.
func (m *MM) mapWarmLocked(warm []asRange) {
	for _, r := range warm {
		i := m.vmas.find(r.start)
		if i < 0 {
			continue
		}
		v := m.vmas[i]
		for a := r.start; a < min(r.end, v.End); a += arch.PageSize {
			if !m.asMapped.contains(a) && m.mapFileWindowLocked(v, a, a, r.end, r.start, r.end) != nil {
				break
			}
		}
	}
}

// forkOnly is Fork without the child's prefault; it also returns the
// private pages of each VMA (presentByVMALocked), the child's as well.
func (m *MM) forkOnly(as platform.AddressSpace) (*MM, [][]uint64, []asRange) {
	// patchMu first (patch.go's lock order): the table and the patched
	// pages are copied with the rest, and the child's next entry must
	// follow the parent's last.
	m.patchMu.Lock()
	defer m.patchMu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	c := &MM{mf: m.mf, as: as, layout: m.layout, pages: make(map[uint64]int64, len(m.pages)),
		brkStart: m.brkStart, brk: m.brk, users: 1, shadow: newShadow(m.mf), released: make(chan struct{}),
		ArgStart: m.ArgStart, ArgEnd: m.ArgEnd, EnvStart: m.EnvStart, EnvEnd: m.EnvEnd, Exe: m.Exe,
		Auxv:        m.Auxv,
		patchTables: slices.Clone(m.patchTables)}
	c.membarrier.Store(m.membarrier.Load())
	c.patch.next = slices.Clone(m.patch.next)
	c.patch.sites = maps.Clone(m.patch.sites)
	threads := m.users > 1
	for _, v := range m.vmas {
		if v.Flags&DontFork != 0 {
			continue // MADV_DONTFORK: the child has a hole there
		}
		w := *v
		w.Flags &^= Locked | LockOnFault // mlock is not inherited
		// Nor a userfaultfd registration (without UFFD_FEATURE_EVENT_FORK,
		// which uk does not offer, Linux's child has none).
		w.Userfault, w.UserfaultMode = nil, 0
		c.vmas = append(c.vmas, &w)
		if w.Object != nil {
			w.Object.AddMapping(c)
		}
		if threads && !v.Shared && v.Prot&platform.Write != 0 {
			m.unmapASLocked(v.Start, v.End-v.Start)
		}
	}
	// Without other threads, the caller is the only one that could write
	// and it is in the fork: its mappings change before it runs again.
	present := m.presentByVMALocked()
	for i, addrs := range present {
		v := m.vmas[i]
		if len(addrs) == 0 || v.Flags&(DontFork|WipeOnFork) != 0 {
			continue // the child's are none (a WipeOnFork VMA reads as zeros)
		}
		if v.Prot&platform.Write != 0 && len(addrs) <= forkCopyMax && m.copyForForkLocked(c, addrs) {
			if threads {
				m.mapPagesLocked(v, addrs) // the unmap above took them
			}
			continue
		}
		for _, a := range addrs {
			off := m.pages[a]
			m.mf.IncRef(off)
			c.pages[a] = off
			c.notePeakLocked()
		}
		if v.Prot&platform.Write != 0 {
			// Read-only now: shared. With other threads, the unmap
			// above took them; without, no one runs before the
			// change is in effect.
			m.protectPagesLocked(v, addrs, v.Prot&^platform.Write)
		}
	}
	// The child's lists by its own VMAs: those it did not get are gone,
	// and a WipeOnFork one has no pages.
	child := present[:0:0]
	for i, addrs := range present {
		switch f := m.vmas[i].Flags; {
		case f&DontFork != 0:
		case f&WipeOnFork != 0:
			child = append(child, nil)
		default:
			child = append(child, addrs)
		}
	}
	return c, child, m.warmRangesLocked()
}

// copyForForkLocked gives c copies of m's pages at addrs; m keeps its own.
// It reports false, changing nothing, when memory is short.
func (m *MM) copyForForkLocked(c *MM, addrs []uint64) bool {
	offs, cold, err := m.mf.AllocateCold(len(addrs))
	if err != nil {
		return false
	}
	olds := make([]int64, len(addrs))
	for i, a := range addrs {
		olds[i] = m.pages[a]
		c.pages[a] = offs[i]
		c.notePeakLocked()
	}
	m.mf.CopyPages(offs, olds, cold)
	return true
}

// presentByVMALocked returns, for each VMA (by index), the sorted addresses
// of the private pages m has in it, from one pass over the pages rather
// than a walk over every address of every VMA (which may be huge and
// sparse).
func (m *MM) presentByVMALocked() [][]uint64 {
	out := make([][]uint64, len(m.vmas))
	for a := range m.pages {
		if i := m.vmas.find(a); i >= 0 {
			out[i] = append(out[i], a)
		}
	}
	for _, addrs := range out {
		slices.Sort(addrs)
	}
	return out
}

// presentInLocked returns the sorted addresses of the private pages m has
// in [start, end), looking up each address of a small range and scanning
// the pages for a large one (a program may mprotect gigabytes it barely
// touched).
func (m *MM) presentInLocked(start, end uint64) []uint64 {
	var out []uint64
	if (end-start)>>arch.PageShift <= uint64(len(m.pages)) {
		for a := start; a < end; a += arch.PageSize {
			if _, ok := m.pages[a]; ok {
				out = append(out, a)
			}
		}
		return out
	}
	for a := range m.pages {
		if a >= start && a < end {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// protectPagesLocked maps the private pages at addrs (sorted, inside v),
// all of which privateProt gives the rights access, as mapPagesLocked
// does, but where the address space maps them already and can change
// their rights in place (platform.Protector) it does that instead: the
// host keeps its page tables, which replacing the mappings would drop
// (the program then faults them back a block at a time), and changing
// rights costs the host less than mapping (a 2 MiB window made writable
// again is 512 page-table entries to set up, populated).
func (m *MM) protectPagesLocked(v *VMA, addrs []uint64, access platform.Access) error {
	pr, ok := m.as.(platform.Protector)
	if !ok {
		return m.mapPagesLocked(v, addrs)
	}
	var unmapped []uint64
	for i := 0; i < len(addrs); {
		j := i + 1
		for j < len(addrs) && addrs[j] == addrs[j-1]+arch.PageSize {
			j++
		}
		mapped := m.asMapped.within(addrs[i], addrs[j-1]+arch.PageSize)
		for _, r := range mapped {
			if err := pr.Protect(r.start, r.end-r.start, access); err != nil {
				return err
			}
		}
		for _, a := range addrs[i:j] {
			for len(mapped) > 0 && mapped[0].end <= a {
				mapped = mapped[1:]
			}
			if len(mapped) == 0 || a < mapped[0].start {
				unmapped = append(unmapped, a)
			}
		}
		i = j
	}
	return m.mapPagesLocked(v, unmapped)
}

// mapPagesLocked maps the private pages at addrs (sorted, inside v) with
// the rights privateProt gives them, merging runs.
func (m *MM) mapPagesLocked(v *VMA, addrs []uint64) error {
	var run mapRun
	for _, a := range addrs {
		off := m.pages[a]
		if err := run.add(m, a, off, m.privateProt(v, a, off)); err != nil {
			return err
		}
	}
	return run.flush(m)
}
