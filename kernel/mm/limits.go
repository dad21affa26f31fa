package mm

import "uk/platform"

// The address-space limits (RLIMIT_AS, RLIMIT_DATA) as Linux's
// may_expand_vm checks them: a mapping that would take the process's
// mapped size past RLIMIT_AS, or its data (private writable mappings that
// are no stack, the heap included) past RLIMIT_DATA, fails with ENOMEM.
// With no limit set (the default) nothing is counted.

// unlimited is RLIM_INFINITY.
const unlimited = ^uint64(0)

// isData reports whether a mapping with these attributes counts as data
// (Linux's is_data_mapping: writable, not shared, not a stack).
func isData(prot platform.Access, shared, growsDown bool) bool {
	return prot&platform.Write != 0 && !shared && !growsDown
}

// mayExpandLocked reports whether n more bytes of mapping, data or not,
// fit the limits; replaced are bytes of existing mappings the new one
// takes the place of (a MAP_FIXED mapping over them, a mremap's own),
// which do not count twice.
//
// Preconditions: m.mu is held.
func (m *MM) mayExpandLocked(n uint64, data bool, replacedTotal, replacedData uint64) bool {
	if m.Limits == nil {
		return true
	}
	as, dataLimit := m.Limits()
	if as == unlimited && (dataLimit == unlimited || !data) {
		return true
	}
	total, dataBytes := m.sizesLocked()
	total -= min(total, replacedTotal)
	dataBytes -= min(dataBytes, replacedData)
	if as != unlimited && total+n > as {
		return false
	}
	return !data || dataLimit == unlimited || dataBytes+n <= dataLimit
}

// sizesLocked returns the bytes of all mappings and of the data ones.
//
// Preconditions: m.mu is held.
func (m *MM) sizesLocked() (total, data uint64) {
	for _, v := range m.vmas {
		total += v.End - v.Start
		if isData(v.Prot, v.Shared, v.GrowsDown) {
			data += v.End - v.Start
		}
	}
	return total, data
}

// sizesInLocked is sizesLocked for the part of the mappings in [start, end).
//
// Preconditions: m.mu is held.
func (m *MM) sizesInLocked(start, end uint64) (total, data uint64) {
	for _, v := range m.vmas {
		lo, hi := max(v.Start, start), min(v.End, end)
		if lo >= hi {
			continue
		}
		total += hi - lo
		if isData(v.Prot, v.Shared, v.GrowsDown) {
			data += hi - lo
		}
	}
	return total, data
}
