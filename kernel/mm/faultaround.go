package mm

import (
	"uk/arch"
)

// Fault-around for private anonymous memory (heap, stacks, mmap'd
// anonymous memory, a program's bss).
//
// Every application page fault is a platform round trip: the trap into
// uk, a mapping edit, the resume. Measured on this project's 2-CPU VMs
// (pagefault.c of the shared benchmarks, 64 MiB touched a page at a time),
// that is about 40 µs a fault on ptrace and more on sigsys, against about
// 3.7 µs a page for the host to populate the memory file's page in the
// stub. With one fixed 64 KiB window (16 pages a fault) the round trips
// were two thirds of the cost: 6.3 µs a page on ptrace, 14 µs on sigsys.
// gVisor allocates private anonymous memory a huge page at a time. uk
// grows its window instead, as Linux's readahead does: a write fault that
// continues where one of the VMA's last windows ended doubles that
// window, up to maxFaultRun, so a program that fills memory sequentially
// pays a fault per 2 MiB; any other fault gets the base window of
// faultRun. A run may go down as well as up: a write fault on the page
// just below a window continues it downwards (GNU sort fills its buffer's
// line table from the top down, a 16-page fault for every 64 KiB of it
// before). The VMA follows a few runs at once (faultStreams), so that two
// threads filling two parts of one mapping (sort's merge of two halves)
// each keep their run. A program that touches memory sparsely (Go's and
// Java's huge reservations, a hash table) thus costs no more than it did,
// and one that stops after a sequential run leaves at most its last
// window untouched, which is no larger than what it touched before it.
// Only the program's own writes make a run: a read fault gets the base
// window (uk maps no shared zero page; a read of untouched memory backs
// real pages, which a run of reads has no use for, while uk's own reads
// of it, as for write(2), take no page at all), and the pages Brk and
// Prefault back ahead of the program start none.
//
// The pages are charged to the sandbox's --mem budget like any other, so
// a window takes only memory the budget can spare: when fewer than twice
// its missing pages are left, the fault allocates the one page it needs
// (as it does when the window cannot be had at all), and only that
// page's failure is the OOM killer's business.

const (
	// faultRun is the base fault window: what a fault that does not
	// continue a sequential run brings in (aligned, clipped to the VMA),
	// for anonymous memory and for the pages of a file alike.
	faultRun = 64 << 10
	// maxFaultRun is the largest window of a sequential run: a huge
	// page, as gVisor's privateAllocUnit. Medians of 5 runs of
	// pagefault.c at a load of about 2, ns a page on ptrace / sigsys:
	// one 64 KiB window 6650 / 16441; growing to 256 KiB 5675 / 8055,
	// to 512 KiB 4512 / 6264, to 1 MiB 5338 / 5103, to 2 MiB 3821 /
	// 5120 (native 2239). The worst waste, one untouched window, is
	// bounded by the memory touched before it, whatever the cap.
	maxFaultRun = 2 << 20
)

// faultStreams is how many runs a VMA follows at once. Measured with
// GNU sort of 10 MB (2 threads): its line table, filled downwards, made
// 300 base-window faults a sort; two runs interleave in its merge.
const faultStreams = 4

// faultAround is what a private anonymous VMA remembers of its last fault
// windows, the most recently used first, to tell a sequential run from
// other faults. It is only a hint: a split copies it into both halves and
// a merge keeps the lower one's, and neither can do more than make one
// window the base size or one window larger than a strict record would.
type faultAround struct {
	runs [faultStreams]faultStream
}

// faultStream is one window and the way its run goes.
type faultStream struct {
	start, end uint64 // the window; a write at end continues upwards, one just below start downwards
	window     uint64 // its size before clipping; 0: no window
	down       bool   // the run goes down (else up, or not yet known for a base window)
	up         bool   // the run goes up
}

// anonWindow returns the range a fault at page of the private anonymous
// VMA [vStart, vEnd) brings in, and records it. A write at the end of one
// of the last windows gets a window twice as large (at most maxFaultRun)
// starting at page, and a write on the page just below one a window as
// large ending above page; every other fault, reads included (a read of
// untouched memory needs no run of pages behind it), gets the
// faultRun-aligned base window around page. All are clipped to the VMA.
func (fa *faultAround) anonWindow(vStart, vEnd, page uint64, write bool) (start, end uint64) {
	if write {
		for i := range fa.runs {
			r := fa.runs[i]
			if r.window == 0 {
				break
			}
			w := min(2*r.window, maxFaultRun)
			switch {
			case page == r.end && !r.down:
				start, end = page, page+min(w, vEnd-page)
				fa.use(i, faultStream{start: start, end: end, window: w, up: true})
				return start, end
			case page+arch.PageSize == r.start && !r.up:
				end = page + arch.PageSize
				start = end - min(w, end-vStart)
				fa.use(i, faultStream{start: start, end: end, window: w, down: true})
				return start, end
			}
		}
	}
	base := page &^ (faultRun - 1)
	start, end = max(base, vStart), min(base+faultRun, vEnd)
	fa.use(len(fa.runs)-1, faultStream{start: start, end: end, window: faultRun})
	return start, end
}

// use records r as the most recent window, in place of run i (the least
// recently used for a new run).
func (fa *faultAround) use(i int, r faultStream) {
	copy(fa.runs[1:i+1], fa.runs[:i])
	fa.runs[0] = r
}

// populateAnonLocked backs and maps the missing pages of the fault window
// around page in v, a private anonymous VMA, where page has no page yet;
// [start, end) is the base window, which a stack keeps (it grows down, and
// its window starts at the fault).
func (m *MM) populateAnonLocked(v *VMA, page uint64, write bool, start, end uint64) error {
	if !v.GrowsDown && v.Userfault == nil {
		start, end = v.fa.anonWindow(v.Start, v.End, page, write)
	}
	var missing []uint64
	for a := start; a < end; a += arch.PageSize {
		if _, ok := m.pages[a]; !ok {
			missing = append(missing, a)
		}
	}
	offs, whole, cold, err := m.allocateAhead(len(missing))
	if err != nil {
		return err
	}
	if !whole {
		// Memory is short: only the page that faulted, and the next
		// fault starts again from the base window.
		missing = []uint64{page}
		v.fa = faultAround{}
	}
	for i, a := range missing {
		m.pages[a] = offs[i]
		m.notePeakLocked()
	}
	if cold && m.collecting {
		m.noteColdLocked(missing)
	}
	// The new pages, and those of the window the address space lacks
	// (mapping the rest again would be host work for nothing). Cold new
	// pages are mapped for the host to back as they are touched: a
	// window is a guess, and one write in a sparse heap would otherwise
	// have the host allocate sixteen pages.
	run := mapRun{lazy: cold}
	for a := start; a < end; a += arch.PageSize {
		off, ok := m.pages[a]
		if len(missing) > 0 && missing[0] == a {
			missing = missing[1:]
		} else if !ok || m.asMapped.contains(a) {
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

// allocateAhead allocates the n pages of a fault window (the faulting
// page among them) when memory spares twice as many, and otherwise, or if
// another MM took them meanwhile, the one page the fault needs; whole
// says which, cold whether the host backs none of them yet
// (memfile.File.AllocateCold). Only that page's failure is an error (the
// OOM killer's business).
func (m *MM) allocateAhead(n int) (offs []int64, whole, cold bool, err error) {
	if n > 1 && m.mf.PagesLeft() >= 2*int64(n) {
		if offs, cold, err := m.mf.AllocateCold(n); err == nil {
			return offs, true, cold, nil
		}
	}
	offs, cold, err = m.mf.AllocateCold(1)
	return offs, n == 1, cold, err
}
