package mm

import "sort"

// What the address space maps. Every mapping an MM makes in its address
// space goes through mapASLocked and every removal through
// unmapASLocked, so the MM knows exactly which addresses the platform
// maps (not with what: the pages and rights are the VMAs' and pages'
// business). Two things follow, both saving platform work:
//
//   - an unmap of a range nothing is mapped in needs no platform call. A
//     platform unmap is synchronous (it must be in effect before the
//     caller goes on), while mappings are queued: ld.so reserves a
//     library's whole span and then maps each segment over it with
//     MAP_FIXED, the Go runtime reserves arenas PROT_NONE and maps over
//     them, and each such replacement was a round trip to the stub to
//     unmap nothing;
//   - a fault window maps only the pages of its window that are not
//     mapped yet, rather than every page again (a private file mapping's
//     2 MiB window was mapped whole at every fault in it).
//
// Skipping a page of a window can only cost a fault later, never expose
// the wrong page: the faulting page itself is always mapped.

// asRange is one run of mapped addresses, [start, end).
type asRange struct{ start, end uint64 }

// asRanges is a set of addresses as sorted, disjoint, non-adjacent runs.
// Its zero value is empty.
type asRanges []asRange

// add records [start, end) mapped.
func (s *asRanges) add(start, end uint64) {
	if start >= end {
		return
	}
	r := *s
	// The first run that ends at or after start can merge with it.
	i := sort.Search(len(r), func(i int) bool { return r[i].end >= start })
	j := i
	for j < len(r) && r[j].start <= end {
		start = min(start, r[j].start)
		end = max(end, r[j].end)
		j++
	}
	if i == j {
		r = append(r, asRange{})
		copy(r[i+1:], r[i:])
		r[i] = asRange{start, end}
	} else {
		r[i] = asRange{start, end}
		r = append(r[:i+1], r[j:]...)
	}
	*s = r
}

// remove records [start, end) unmapped.
func (s *asRanges) remove(start, end uint64) {
	if start >= end {
		return
	}
	r := *s
	i := sort.Search(len(r), func(i int) bool { return r[i].end > start })
	if i == len(r) || r[i].start >= end {
		return
	}
	j := i
	for j < len(r) && r[j].start < end {
		j++
	}
	// Runs i..j-1 overlap; keep what sticks out on either side.
	var keep []asRange
	if r[i].start < start {
		keep = append(keep, asRange{r[i].start, start})
	}
	if r[j-1].end > end {
		keep = append(keep, asRange{end, r[j-1].end})
	}
	out := append(append(append(make(asRanges, 0, len(r)-(j-i)+len(keep)), r[:i]...), keep...), r[j:]...)
	*s = out
}

// overlaps reports whether any address of [start, end) is mapped.
func (s asRanges) overlaps(start, end uint64) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i].end > start })
	return i < len(s) && s[i].start < end
}

// contains reports whether addr is mapped.
func (s asRanges) contains(addr uint64) bool { return s.overlaps(addr, addr+1) }

// within returns the mapped runs of [start, end), clipped to it.
func (s asRanges) within(start, end uint64) []asRange {
	var out []asRange
	for i := sort.Search(len(s), func(i int) bool { return s[i].end > start }); i < len(s) && s[i].start < end; i++ {
		out = append(out, asRange{max(s[i].start, start), min(s[i].end, end)})
	}
	return out
}
