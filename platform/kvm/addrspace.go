package kvm

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/platform"
)

// AddressSpace is one set of 4-level page tables in system memory. uk
// writes every entry from the host. Entries that appear (absent to
// present) or gain rights on the same page need nothing more: no TLB or
// shadow page table caches an absent entry, and a stale read-only entry
// only costs a spurious fault that KVM or the CPU resolves by walking the
// table again. Entries that disappear, lose rights or change page are
// removals: the page-table page is queued for a zap (see trampoline),
// every vCPU running in the address space is kicked out and waited for,
// and every vCPU applies the queue and reloads CR3 before it runs
// application code here again. So when Unmap returns, no vCPU can reach
// the old page, and uk may free it.
type AddressSpace struct {
	p    *Platform
	root uint64 // system-memory offset of the PML4

	mu   sync.Mutex
	cond sync.Cond // signalled when a vCPU leaves running; uses mu
	// tables are the page-table pages (system-memory offsets) below the
	// root. Protected by mu.
	tables []uint64
	// pending are the page-table pages (system-memory offsets) to zap;
	// pendBase is the number of zaps ever dropped from its front
	// (applied), so the zap pending[i] has sequence number pendBase+i+1.
	// queued maps a page to the sequence number of its latest zap, and
	// snapEnd is the highest sequence number a vCPU has taken for its
	// entry: a page queued at or below snapEnd may have been zapped
	// already, before a newer removal, and must be queued again.
	// Protected by mu.
	pending  []uint64
	pendBase uint64
	queued   map[uint64]uint64
	snapEnd  uint64
	// gen counts removals; a vCPU whose last entry here saw an older gen
	// reloads CR3 to flush its TLB. Protected by mu.
	gen uint64
	// running maps each vCPU in KVM_RUN here (or about to be) to its
	// entry sequence number. Protected by mu.
	running  map[*vcpu]uint64
	released bool // protected by mu
}

var _ platform.AddressSpace = (*AddressSpace)(nil)

var errReleased = errors.New("kvm: address space released")

// NewAddressSpace returns an empty address space: a PML4 holding only the
// supervisor window.
func (p *Platform) NewAddressSpace() (platform.AddressSpace, error) {
	root, err := p.allocTable(true)
	if err != nil {
		return nil, err
	}
	as := &AddressSpace{p: p, root: root, queued: make(map[uint64]uint64), running: make(map[*vcpu]uint64)}
	as.cond.L = &as.mu
	return as, nil
}

// leaf returns the PTE for addr, creating the tables on the way when
// alloc is set (else nil if one is missing), and the system-memory offset
// of the page holding it.
//
// Preconditions: as.mu is held.
func (as *AddressSpace) leaf(addr uint64, alloc bool) (*uint64, uint64, error) {
	t := as.root
	for shift := uint(39); shift > 12; shift -= 9 {
		e := &as.p.table(t)[addr>>shift&511]
		if *e&ptePresent == 0 {
			if !alloc {
				return nil, 0, nil
			}
			n, err := as.p.allocTable(false)
			if err != nil {
				return nil, 0, err
			}
			as.tables = append(as.tables, n)
			// Intermediate entries allow everything; the leaf decides.
			atomicStore64(e, as.p.sysBase+n|ptePresent|pteWrite|pteUser|pteAccessed)
		}
		t = *e&pteAddr - as.p.sysBase
	}
	return &as.p.table(t)[addr>>12&511], t, nil
}

// queueZapLocked records that the page-table page at sysmem offset t lost
// an entry.
//
// Preconditions: as.mu is held.
func (as *AddressSpace) queueZapLocked(t uint64) {
	if s, ok := as.queued[t]; ok && s > as.snapEnd {
		return // queued, and no vCPU has taken it yet
	}
	as.pending = append(as.pending, t)
	as.queued[t] = as.pendBase + uint64(len(as.pending))
}

// appliedLocked drops the zaps up to sequence number end from pending: a
// vCPU has run them.
//
// Preconditions: as.mu is held.
func (as *AddressSpace) appliedLocked(end uint64) {
	if end <= as.pendBase {
		return
	}
	n := int(end - as.pendBase)
	for _, t := range as.pending[:n] {
		if as.queued[t] <= end {
			delete(as.queued, t)
		}
	}
	as.pending = as.pending[:copy(as.pending, as.pending[n:])]
	as.pendBase = end
}

// pteFor builds a leaf entry for the memory-file page at off.
func pteFor(off int64, a platform.Access) uint64 {
	e := uint64(off) | ptePresent | pteUser | pteAccessed
	if a&platform.Write != 0 {
		e |= pteWrite | pteDirty
	}
	if a&platform.Exec == 0 {
		e |= pteNX
	}
	return e
}

// isUpgrade reports whether replacing old by new can leave no stale right:
// old was absent, or new maps the same page with at least old's rights.
func isUpgrade(old, new uint64) bool {
	if old&ptePresent == 0 {
		return true
	}
	if new&ptePresent == 0 || old&pteAddr != new&pteAddr {
		return false
	}
	if old&pteWrite != 0 && new&pteWrite == 0 {
		return false
	}
	return old&pteNX != 0 || new&pteNX == 0
}

// MapFile maps [off, off+length) of the memory file at addr.
func (as *AddressSpace) MapFile(addr uint64, off int64, length uint64, access platform.Access) error {
	if addr&arch.PageMask != 0 || off&arch.PageMask != 0 || length&arch.PageMask != 0 {
		return fmt.Errorf("kvm: MapFile(%#x, %#x, %#x): %w", addr, off, length, unix.EINVAL)
	}
	if length == 0 {
		return nil
	}
	if addr >= MaxUserAddress || length > MaxUserAddress-addr {
		return fmt.Errorf("kvm: MapFile(%#x, %#x): beyond MaxUserAddress: %w", addr, length, unix.EINVAL)
	}
	if off < 0 || uint64(off)+length > uint64(as.p.memSize) {
		return fmt.Errorf("kvm: MapFile(%#x, off %#x, %#x): beyond the memory file: %w", addr, off, length, unix.EINVAL)
	}
	if access&(platform.Read|platform.Write|platform.Exec) == 0 {
		return as.Unmap(addr, length)
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.released {
		return errReleased
	}
	removed := false
	for a := addr; a < addr+length; a, off = a+arch.PageSize, off+arch.PageSize {
		e, t, err := as.leaf(a, true)
		if err != nil {
			return err
		}
		n := pteFor(off, access)
		if old := *e; old != n {
			if !isUpgrade(old, n) {
				as.queueZapLocked(t)
				removed = true
			}
			atomicStore64(e, n)
		}
	}
	if removed {
		as.shootdownLocked()
	}
	return nil
}

// mapGPA installs one leaf entry (the probe's pages in system memory).
func (as *AddressSpace) mapGPA(addr, pte uint64) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	e, _, err := as.leaf(addr, true)
	if err != nil {
		return err
	}
	atomicStore64(e, pte)
	return nil
}

// Unmap removes every mapping in [addr, addr+length); when it returns, no
// vCPU can reach the pages that were mapped there.
func (as *AddressSpace) Unmap(addr, length uint64) error {
	if addr&arch.PageMask != 0 {
		return fmt.Errorf("kvm: Unmap(%#x): %w", addr, unix.EINVAL)
	}
	length, ok := arch.PageRoundUp(length)
	if !ok {
		return fmt.Errorf("kvm: Unmap(%#x, %#x): %w", addr, length, unix.EINVAL)
	}
	if addr >= MaxUserAddress || length == 0 {
		return nil
	}
	end := min(addr+length, MaxUserAddress)
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.released {
		return errReleased
	}
	removed := false
	for a := addr; a < end; {
		// Walk down; skip whole absent subtrees.
		t := as.root
		skipped := false
		for shift := uint(39); shift > 12; shift -= 9 {
			e := as.p.table(t)[a>>shift&511]
			if e&ptePresent == 0 {
				next := (a>>shift + 1) << shift
				if next <= a { // wrapped
					next = end
				}
				a = next
				skipped = true
				break
			}
			t = e&pteAddr - as.p.sysBase
		}
		if skipped {
			continue
		}
		tb := as.p.table(t)
		for i := a >> 12 & 511; i < 512 && a < end; i, a = i+1, a+arch.PageSize {
			if tb[i]&ptePresent != 0 {
				atomicStore64(&tb[i], 0)
				as.queueZapLocked(t)
				removed = true
			}
		}
	}
	if removed {
		as.shootdownLocked()
	}
	return nil
}

// shootdownLocked makes the queued removals take effect: every vCPU
// running in this address space is kicked out of the guest and waited
// for; its next entry (like every entry) applies the queue first.
//
// Preconditions: as.mu is held; removals were queued.
func (as *AddressSpace) shootdownLocked() {
	as.gen++
	if len(as.running) == 0 {
		return
	}
	seen := make(map[*vcpu]uint64, len(as.running))
	for v, seq := range as.running {
		seen[v] = seq
		v.shoot.Store(true)
		v.kick()
	}
	for {
		busy := false
		for v, seq := range seen {
			if s, ok := as.running[v]; ok && s == seq {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		as.cond.Wait()
	}
}

// Release frees the page tables. No vCPU may run in the address space any
// more. The pages are reused only once a vCPU has zapped KVM's shadows of
// them (and, for the root, once no vCPU holds it in CR3).
func (as *AddressSpace) Release() {
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		return
	}
	as.released = true
	tables := as.tables
	as.tables, as.pending, as.queued = nil, nil, nil
	as.mu.Unlock()
	as.p.freeTables(as.root, tables)
}
