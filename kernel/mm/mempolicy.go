package mm

import (
	"golang.org/x/sys/unix"

	"uk/arch"
)

// MemPolicy is a NUMA memory policy, as set_mempolicy gives a thread and
// mbind a range of memory. uk's machine has one node, node 0, so a policy
// places nothing: it is kept only to be reported back (get_mempolicy).
// The zero value is MPOL_DEFAULT.
type MemPolicy struct {
	Mode  uint16 // MPOL_DEFAULT, MPOL_PREFERRED, MPOL_BIND, ...
	Flags uint16 // the mode flags the caller gave (MPOL_F_STATIC_NODES, ...)
	// Nodes is the policy's node mask as get_mempolicy reports it: the
	// nodes given that exist, or with MPOL_F_STATIC_NODES or
	// MPOL_F_RELATIVE_NODES those given (at most the first 64).
	Nodes uint64
}

// SetPolicy gives every VMA in [addr, addr+length) the policy p (mbind);
// addr is page-aligned and length rounded to pages. The range must be
// mapped throughout: EFAULT where it is not, as Linux's mbind.
func (m *MM) SetPolicy(addr, length uint64, p MemPolicy) error {
	if addr&arch.PageMask != 0 {
		return unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	end, err := m.checkRangeLocked(addr, length, nil)
	if err == unix.ENOMEM {
		return unix.EFAULT
	}
	if err != nil || end == addr {
		return err
	}
	return m.editRangeLocked(addr, end, func(v *VMA) { v.Policy = p })
}

// PolicyAt returns the policy of the VMA holding addr; false when none
// does.
func (m *MM) PolicyAt(addr uint64) (MemPolicy, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.vmas.find(addr)
	if i < 0 {
		return MemPolicy{}, false
	}
	return m.vmas[i].Policy, true
}

// Policies calls f with the policy of each VMA that overlaps [addr,
// end), in order, until f returns an error, which it returns.
func (m *MM) Policies(addr, end uint64, f func(MemPolicy) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := m.vmas.firstEndingAfter(addr); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
		if err := f(m.vmas[i].Policy); err != nil {
			return err
		}
	}
	return nil
}
