package mm

import (
	"uk/arch"
	"uk/platform"
)

// stackPrefault is how much of the stack below what the loader wrote
// PrefaultNew backs: a dynamic program's start (ld.so, libc's init) uses a
// page or two of it. More would cost the host a fresh page each (about a
// tenth of a fault) that small programs never touch.
const stackPrefault = 2 * arch.PageSize

// Prefaulting maps, before a freshly loaded (or forked) program first runs,
// what it is about to touch: its private pages (for a new program, the
// stack and data the loader wrote), the small shared mappings (the vDSO and
// its data page), a fault window around entry (the instruction it resumes
// at) and, for a new program, at the start of each file mapping, a
// private copy of each small writable file mapping (the data segment),
// backing for each small untouched anonymous area (the bss). Each of these
// would otherwise be a fault, and on the ptrace platform a fault costs two
// host round trips, while mappings queued here cost one batch in all.
//
// A forked child gets no window at the start of each file mapping: it
// goes on where its parent was, most often to exec or exit soon, and a
// host file's window costs the new stub that file's install (an open, a
// datagram, records in the batch). In a loop forking perl with its
// modules loaded, the child's prefault took 620 us with them and 97
// without, a fork and its child's exit 2.06 ms and 1.80; three fork Pools
// of two python workers mapping 100 squares took 81.4 and 75.3 ms
// (medians of 5; 51.1 natively). (Installs then cost two datagrams each
// and a batch at every fourth file.)
//
// It is only an optimization: what it cannot map now simply faults later.
// Fork does it for the child it makes; PrefaultNew for a new program.

// PrefaultNew prefaults a freshly loaded program: it also backs two pages
// of stack below what the loader wrote.
func (m *MM) PrefaultNew(entry uint64) { m.prefault(entry, true) }

// prefault prefaults m, a new program's (fresh) or a forked one's.
func (m *MM) prefault(entry uint64, fresh bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prefaultLocked(entry, fresh, m.presentByVMALocked())
}

// prefaultLocked is prefault with m's private pages by VMA
// (presentByVMALocked) at hand.
//
// Preconditions: m.mu is held.
func (m *MM) prefaultLocked(entry uint64, fresh bool, present [][]uint64) {
	for i, v := range m.vmas {
		switch {
		case v.Shared:
			if v.End-v.Start <= faultRun {
				m.mapSharedLocked(v, v.Start, v.End, false, noPage)
			}
		case v.Object != nil && v.CopyWhole && v.Prot&platform.Write != 0 && v.End-v.Start <= copyWholeMax:
			if m.copyFileVMALocked(v, v.Start) != nil {
				m.mapPagesLocked(v, present[i])
			}
		case v.Object == nil && len(present[i]) == 0 && !v.GrowsDown &&
			v.End-v.Start <= faultRun && v.Prot&(platform.Read|platform.Write) != 0:
			// A small untouched anonymous area (a program's bss): it will
			// be written; back it now rather than at the fault (which,
			// as after Brk's, does not continue a sequential run).
			m.populateLocked(v, v.Start, true)
			v.fa = faultAround{}
		case fresh && v.GrowsDown && v.Object == nil && len(present[i]) > 0:
			// The stack: the loader wrote its top; ld.so's first calls
			// go a page or two below.
			m.mapPagesLocked(v, present[i])
			low := present[i][0]
			m.backLocked(v, max(v.Start, low-stackPrefault), low)
		default:
			m.mapPagesLocked(v, present[i])
			if v.Object != nil && v.Prot&(platform.Read|platform.Exec) != 0 {
				if fresh {
					from := v.Start
					if entry > v.Start && entry < v.End {
						from = arch.PageRoundDown(entry)
					}
					m.prefetchLocked(v, from)
				}
				if fresh {
					m.mapFileRunLocked(v, v.Start, v.Start, min(v.Start+faultRun, v.End))
				}
				if entry > v.Start && entry < v.End {
					at := arch.PageRoundDown(entry)
					m.mapFileRunLocked(v, at, at, min(at+faultRun, v.End))
				}
			}
		}
	}
}
