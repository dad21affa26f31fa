package mm

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memmap"
	"uk/platform"
)

// VMAFlags are a VMA's mlock and madvise attributes. uk never swaps, so
// a locked VMA differs from another only in what the calls report and
// refuse (Linux's rules for VM_LOCKED), and in what counts against
// RLIMIT_MEMLOCK.
type VMAFlags uint8

const (
	// Locked is VM_LOCKED: mlock, mlockall, or MCL_FUTURE at mmap.
	Locked VMAFlags = 1 << iota
	// LockOnFault is VM_LOCKONFAULT (mlock2 MLOCK_ONFAULT).
	LockOnFault
	// DontFork is MADV_DONTFORK: a fork leaves the child a hole here.
	DontFork
	// WipeOnFork is MADV_WIPEONFORK: a fork gives the child zeros here.
	WipeOnFork
	// Sealed is VM_SEALED (mseal): the mapping can no longer be unmapped,
	// moved, resized, replaced or given other rights (EPERM), for as long
	// as the memory lives; fork keeps it.
	Sealed
)

// Seal implements mseal of [addr, addr+length) (page-aligned, length
// already rounded, not wrapping): every VMA there is sealed; the range
// must be mapped throughout (ENOMEM).
func (m *MM) Seal(addr, length uint64) error {
	return m.SetFlags(addr, length, Sealed, 0, nil)
}

// sealedLocked reports whether a sealed VMA overlaps [start, end).
func (m *MM) sealedLocked(start, end uint64) bool {
	for i := m.vmas.firstEndingAfter(start); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
		if m.vmas[i].Flags&Sealed != 0 {
			return true
		}
	}
	return false
}

// SetFlags changes the flags of every VMA in [addr, addr+length): clear
// first, then set. The range must be mapped throughout (ENOMEM). check,
// if not nil, sees each VMA before anything changes and may refuse it.
func (m *MM) SetFlags(addr, length uint64, set, clear VMAFlags, check func(v *VMA) error) error {
	if addr&arch.PageMask != 0 {
		return unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	end, err := m.checkRangeLocked(addr, length, check)
	if err != nil || end == addr {
		return err
	}
	return m.editRangeLocked(addr, end, func(v *VMA) { v.Flags = v.Flags&^clear | set })
}

// editRangeLocked applies edit to the VMAs of [addr, end), split at its
// ends first, and merges what became alike; ENOMEM, with nothing
// changed, when the splits would pass MaxMapCount. Preconditions: mu is
// held.
func (m *MM) editRangeLocked(addr, end uint64, edit func(v *VMA)) error {
	if err := m.splitRoomLocked(addr, end, false); err != nil {
		return err
	}
	m.splitAtLocked(addr)
	m.splitAtLocked(end)
	for i := m.vmas.firstEndingAfter(addr); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
		edit(m.vmas[i])
	}
	m.coalesceLocked(addr, end)
	return nil
}

// checkRangeLocked runs check (if not nil) on each VMA in [addr,
// addr+length rounded up to pages), which must be mapped throughout
// (ENOMEM otherwise), and returns the range's end.
func (m *MM) checkRangeLocked(addr, length uint64, check func(v *VMA) error) (uint64, error) {
	length, ok := arch.PageRoundUp(length)
	end := addr + length
	if !ok || end < addr {
		return 0, unix.ENOMEM
	}
	for a := addr; a < end; {
		i := m.vmas.find(a)
		if i < 0 {
			return 0, unix.ENOMEM
		}
		if check != nil {
			if err := check(m.vmas[i]); err != nil {
				return 0, err
			}
		}
		a = m.vmas[i].End
	}
	return end, nil
}

// SetAllFlags changes the flags of every VMA (mlockall, munlockall).
func (m *MM) SetAllFlags(set, clear VMAFlags) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.vmas {
		v.Flags = v.Flags&^clear | set
	}
	if len(m.vmas) > 0 {
		m.coalesceLocked(m.vmas[0].Start, m.vmas[len(m.vmas)-1].End)
	}
}

// LockedBytes is the size of the locked VMAs (VmLck, RLIMIT_MEMLOCK's
// count).
func (m *MM) LockedBytes() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n uint64
	for _, v := range m.vmas {
		if v.Flags&Locked != 0 {
			n += v.End - v.Start
		}
	}
	return n
}

// UnlockedIn is the size of the VMAs in [addr, addr+length) that are not
// locked yet: what an mlock of the range adds to LockedBytes.
func (m *MM) UnlockedIn(addr, length uint64) uint64 {
	end := addr + length
	m.mu.Lock()
	defer m.mu.Unlock()
	var n uint64
	for i := m.vmas.firstEndingAfter(addr); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
		if v := m.vmas[i]; v.Flags&Locked == 0 {
			n += min(v.End, end) - max(v.Start, addr)
		}
	}
	return n
}

// CheckRange runs check on each VMA in [addr, addr+length), which must
// be mapped throughout (ENOMEM otherwise); the first error is returned.
func (m *MM) CheckRange(addr, length uint64, check func(v *VMA) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.checkRangeLocked(addr, length, check)
	return err
}

// SetDefaultFlags sets the flags every new mapping gets (mlockall's
// MCL_FUTURE; munlockall clears them).
func (m *MM) SetDefaultFlags(f VMAFlags) {
	m.mu.Lock()
	m.defFlags = f
	m.mu.Unlock()
}

// MapsSharedWritable implements memmap.SharedWriteMapper: whether a VMA
// maps obj shared with write access allowed (a write seal refuses that).
func (m *MM) MapsSharedWritable(obj memmap.Mappable) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.vmas {
		if v.Object == obj && v.Shared && v.MaxProt&platform.Write != 0 {
			return true
		}
	}
	return false
}
