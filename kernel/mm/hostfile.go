package mm

// Pages of host files mapped straight from the host (memmap.HostBacked,
// platform.HostFileMapper).
//
// A host file (the host's /usr under --rootfs /, a build cache in a bind)
// would otherwise reach a program through the memory file: each page
// copied from the host into the file's cache, then mapped, at a fault that
// is a round trip through uk, in every sandbox again. Where the address
// space can, and while the file can (memmap.HostBacked), a read fault (or
// a program's prefault, or an mmap's first window) in a private file
// mapping, or in a shared read-only one, of such a file
// maps a large window of it from the host file itself, never writable: the
// host kernel then fills those pages from its page cache as the program
// touches them, without uk. The process's private copies (pages it wrote,
// or uk wrote for it: patched syscall sites) are mapped from the memory
// file over it, as before; a write fault on a host page makes such a copy
// (populateLocked). uk's own reads of the file's pages still go through
// the object (PageAt), which sees the same contents, and the page
// lifetime rules do not concern these pages: they are not the memory
// file's.

import (
	"errors"

	"uk/arch"
	"uk/kernel/memmap"
	"uk/platform"
)

// hostFileRun is the aligned window of a host file a fault maps: the host
// fills only the pages touched, so a window costs a mapping, not memory;
// 8 MiB covers most programs' and libraries' text in one fault and keeps
// the walk over the window's pages (private copies and what is mapped
// already) short.
const hostFileRun = 8 << 20

// hostFileLocked returns what mapping v's pages from the host needs: the
// address space's HostFileMapper, v's host file, and the end of the part
// of v the file covers (its last page included; at most v.End). ok is
// false when v cannot be mapped from the host.
func (m *MM) hostFileLocked(v *VMA) (hm platform.HostFileMapper, hb memmap.HostBacked, end uint64, ok bool) {
	if v.Object == nil || (v.Shared && v.Prot&platform.Write != 0) {
		return nil, nil, 0, false
	}
	if hm, ok = m.as.(platform.HostFileMapper); !ok {
		return nil, nil, 0, false
	}
	if hb, ok = v.Object.(memmap.HostBacked); !ok {
		return nil, nil, 0, false
	}
	size, ok := hb.HostSize()
	if !ok {
		return nil, nil, 0, false
	}
	pages := (uint64(size) + arch.PageSize - 1) >> arch.PageShift
	if pages <= v.Pgoff {
		return nil, nil, 0, false
	}
	end = v.End
	if n := pages - v.Pgoff; n < (v.End-v.Start)>>arch.PageShift {
		end = v.Start + n<<arch.PageShift
	}
	return hm, hb, end, true
}

// mapHostWindowLocked maps the hostFileRun window around page of v,
// clipped to [lo, hi) (within the part of v its file covers): the host
// file where the process has no private copy and nothing is mapped yet
// (page itself always), the private copies from the memory file. An error
// wrapping platform.ErrNoHostFile means the address space declined the
// file (the caller maps the memory file's copies instead).
func (m *MM) mapHostWindowLocked(v *VMA, hm platform.HostFileMapper, hb memmap.HostBacked, page, lo, hi uint64) error {
	ws := page &^ (hostFileRun - 1)
	start, end := max(ws, lo), min(ws+hostFileRun, hi)
	var run mapRun
	var hostStart, hostEnd uint64 // the host run being gathered
	flushHost := func() error {
		if hostEnd == hostStart {
			return nil
		}
		n := hostEnd - hostStart
		off := int64(v.objectIndex(hostStart)) << arch.PageShift
		hostEnd = hostStart
		m.markAheadLocked(hostStart, n)
		if err := hm.MapHostFile(hostStart, hb, off, n, v.Prot&^platform.Write); err != nil {
			return err
		}
		if m.shadow != nil {
			m.shadow.unmapped(hostStart, n) // no memory-file page there now
		}
		m.asMapped.add(hostStart, hostStart+n)
		return nil
	}
	for a := start; a < end; a += arch.PageSize {
		if a != page && m.asMapped.contains(a) {
			// Mapped already (a private copy, or an earlier window).
			if err := flushHost(); err != nil {
				return err
			}
			if err := run.flush(m); err != nil {
				return err
			}
			continue
		}
		if off, ok := m.pages[a]; ok && !v.Shared {
			if err := flushHost(); err != nil {
				return err
			}
			if err := run.add(m, a, off, m.privateProt(v, a, off)); err != nil {
				return err
			}
			continue
		}
		if hostEnd != a {
			if err := flushHost(); err != nil {
				return err
			}
			hostStart = a
		}
		hostEnd = a + arch.PageSize
	}
	if err := flushHost(); err != nil {
		return err
	}
	return run.flush(m)
}

// mapFromHostLocked maps the window around page from v's host file if v
// has one and the address space can: done reports whether it did (or
// failed for good, err); false leaves the fault to the memory file's
// copies.
func (m *MM) mapFromHostLocked(v *VMA, page, lo, hi uint64) (done bool, err error) {
	hm, hb, fileEnd, ok := m.hostFileLocked(v)
	if !ok || page >= fileEnd {
		return false, nil
	}
	err = m.mapHostWindowLocked(v, hm, hb, page, max(lo, v.Start), min(hi, fileEnd))
	if errors.Is(err, platform.ErrNoHostFile) {
		return false, nil
	}
	return true, err
}
