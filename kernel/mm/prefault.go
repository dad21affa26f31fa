package mm

import (
	"uk/arch"
	"uk/platform"
)

// Prefault maps, before a freshly loaded (or forked) program first runs,
// what it is about to touch: its private pages (for a new program, the
// stack and data the loader wrote), the small shared mappings (the vDSO and
// its data page), a fault window at the start of each file mapping and
// around entry (the instruction it resumes at), a private copy of each
// small writable file mapping (the data segment), and backing for each
// small untouched anonymous area (the bss). Each of these would
// otherwise be a fault, and on the ptrace platform a fault costs two host
// round trips, while mappings queued here cost one batch in all.
//
// It is only an optimization: what it cannot map now simply faults later.
func (m *MM) Prefault(entry uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	present := m.presentByVMALocked()
	for i, v := range m.vmas {
		switch {
		case v.Shared:
			if v.End-v.Start <= faultRun {
				m.mapSharedLocked(v, v.Start, v.End)
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
		default:
			m.mapPagesLocked(v, present[i])
			if v.Object != nil && v.Prot&(platform.Read|platform.Exec) != 0 {
				m.mapFileRunLocked(v, v.Start, v.Start, min(v.Start+faultRun, v.End))
				if entry > v.Start && entry < v.End {
					at := arch.PageRoundDown(entry)
					m.mapFileRunLocked(v, at, at, min(at+faultRun, v.End))
				}
			}
		}
	}
}
