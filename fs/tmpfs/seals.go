package tmpfs

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel/memmap"
)

// File seals (fcntl F_ADD_SEALS, F_GET_SEALS): what a memfd's owner may
// forbid everyone, itself included, to do to the file, as Linux's shmem.
// Write, resize and fallocate check them; mmap asks SealsForbidMap.
const (
	SealSeal        = 0x1  // F_SEAL_SEAL: no more seals
	SealShrink      = 0x2  // F_SEAL_SHRINK
	SealGrow        = 0x4  // F_SEAL_GROW
	SealWrite       = 0x8  // F_SEAL_WRITE
	SealFutureWrite = 0x10 // F_SEAL_FUTURE_WRITE
	SealExec        = 0x20 // F_SEAL_EXEC
	sealAll         = 0x3f
)

// Seals returns the file's seals. A tmpfs file is made with SealSeal (no
// seals can be added) unless it is a memfd made to allow sealing
// (AllowSealing).
func (r *Regular) Seals() uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sealsLocked()
}

// sealsLocked returns the seals; r.seals keeps SealSeal inverted, so that
// a file's zero value has it. Preconditions: r.mu held.
func (r *Regular) sealsLocked() uint32 { return r.seals ^ SealSeal }

// AllowSealing clears SealSeal on a new file (memfd_create's
// MFD_ALLOW_SEALING).
func (r *Regular) AllowSealing() {
	r.mu.Lock()
	r.seals = r.sealsLocked()&^SealSeal ^ SealSeal
	r.mu.Unlock()
}

// AddSeals adds seals: EINVAL for unknown bits, EPERM once SealSeal is
// set, EBUSY for SealWrite while the file is mapped shared with write
// access allowed.
func (r *Regular) AddSeals(n uint32) error {
	if n&^sealAll != 0 {
		return unix.EINVAL
	}
	if r.Seals()&SealSeal != 0 {
		return unix.EPERM
	}
	if n&SealWrite != 0 && r.writablyMapped() {
		return unix.EBUSY
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sealsLocked()&SealSeal != 0 {
		return unix.EPERM
	}
	r.seals = (r.sealsLocked() | n) ^ SealSeal
	return nil
}

// writeSealedLocked returns how much of a write of n bytes at off the
// seals let through: none (EPERM) under a write seal; under a growth seal,
// as Linux's page-by-page write, the whole pages up to the size, and EPERM
// if not even the first piece fits. Preconditions: r.mu held.
func (r *Regular) writeSealedLocked(off, n int64) (int64, error) {
	s := r.sealsLocked()
	switch {
	case s&(SealWrite|SealFutureWrite) != 0:
		return 0, unix.EPERM
	case s&SealGrow != 0 && off+n > r.size:
		end := r.size &^ arch.PageMask // the last page boundary within the size
		if end <= off {
			return 0, unix.EPERM
		}
		return end - off, nil
	}
	return n, nil
}

// resizeSealedLocked reports EPERM for a change of size the seals forbid.
// Preconditions: r.mu held.
func (r *Regular) resizeSealedLocked(size int64) error {
	s := r.sealsLocked()
	if size < r.size && s&SealShrink != 0 || size > r.size && s&SealGrow != 0 {
		return unix.EPERM
	}
	return nil
}

// SealsForbidMap reports, for a shared mapping, whether the seals forbid
// it (a writable one under a write seal: EPERM) and whether it may never
// become writable (mprotect cannot add PROT_WRITE).
func (r *Regular) SealsForbidMap(write bool) (forbidden, noWrite bool) {
	s := r.Seals()
	if s&(SealWrite|SealFutureWrite) == 0 {
		return false, false
	}
	return write, true
}

// writablyMapped reports whether some address space maps the file shared
// with write access allowed. It is asked without r.mu: the address spaces
// take their own lock before a file's.
func (r *Regular) writablyMapped() bool {
	return r.maps.Any(func(m memmap.Mapper) bool {
		w, ok := m.(memmap.SharedWriteMapper)
		return ok && w.MapsSharedWritable(r)
	})
}
