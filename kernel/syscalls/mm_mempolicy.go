package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
	"uk/kernel/mm"
)

// NUMA memory policies (mm/mempolicy.c) on uk's machine of one node,
// node 0: set_mempolicy and mbind check their arguments as Linux does and
// keep the policy, get_mempolicy reports it, and nothing moves (every
// page is on node 0 already).

// Policy modes and flags (include/uapi/linux/mempolicy.h).
const (
	mpolDefault            = 0
	mpolPreferred          = 1
	mpolBind               = 2
	mpolInterleave         = 3
	mpolLocal              = 4
	mpolPreferredMany      = 5
	mpolWeightedInterleave = 6
	mpolMax                = 7

	mpolFStaticNodes   = 1 << 15
	mpolFRelativeNodes = 1 << 14
	mpolFNumaBalancing = 1 << 13
	mpolModeFlags      = mpolFStaticNodes | mpolFRelativeNodes | mpolFNumaBalancing

	mpolFNode        = 1 << 0 // get_mempolicy: a node, not the mode
	mpolFAddr        = 1 << 1 // get_mempolicy: the policy of an address
	mpolFMemsAllowed = 1 << 2 // get_mempolicy: the nodes allowed

	mpolMFStrict  = 1 << 0
	mpolMFMove    = 1 << 1
	mpolMFMoveAll = 1 << 2

	// maxNumNodes is Linux's MAX_NUMNODES for x86-64 distribution
	// kernels (CONFIG_NODES_SHIFT=10): node masks may be this wide.
	maxNumNodes = 1024
	// nodesOnline is the online node mask: node 0.
	nodesOnline = 1
)

// sanitizeMode splits a mode argument into mode and flags, with Linux's
// checks (sanitize_mpol_flags).
func sanitizeMode(arg uint64) (mode, flags uint16, err error) {
	if arg > 0xffff {
		return 0, 0, unix.EINVAL
	}
	flags = uint16(arg) & mpolModeFlags
	mode = uint16(arg) &^ mpolModeFlags
	if mode >= mpolMax || flags&mpolFStaticNodes != 0 && flags&mpolFRelativeNodes != 0 {
		return 0, 0, unix.EINVAL
	}
	if flags&mpolFNumaBalancing != 0 && mode != mpolBind && mode != mpolPreferredMany {
		return 0, 0, unix.EINVAL
	}
	return mode, flags, nil
}

// readNodes reads a node mask of maxnode-1 bits (get_nodes): bits past
// MAX_NUMNODES must be clear (EINVAL), and the mask is at most a page
// (EINVAL). It returns the first 64 bits; beyond reports a node set past
// them (one that cannot exist here).
func readNodes(t *kernel.Task, addr, maxnode uint64) (nodes uint64, beyond bool, err error) {
	maxnode--
	if maxnode == 0 || addr == 0 {
		return 0, false, nil
	}
	if maxnode > arch.PageSize*8 {
		return 0, false, unix.EINVAL
	}
	words := (maxnode + 63) / 64
	b := make([]byte, words*8)
	if err := t.CopyIn(addr, b); err != nil {
		return 0, false, unix.EFAULT
	}
	for w := uint64(0); w < words; w++ {
		v := binary.LittleEndian.Uint64(b[w*8:])
		if bits := maxnode - w*64; bits < 64 {
			v &= 1<<bits - 1 // bits past maxnode are not read
		}
		if w*64 >= maxNumNodes && v != 0 {
			return 0, false, unix.EINVAL // a node Linux cannot have
		}
		if w == 0 {
			nodes = v
		} else if v != 0 {
			beyond = true
		}
	}
	return nodes, beyond, nil
}

// newPolicy makes the policy set_mempolicy and mbind give (mpol_new and
// mpol_set_nodemask): the zero policy for MPOL_DEFAULT; the nodes given
// that exist (node 0), which must not be none for the modes that name
// nodes; MPOL_PREFERRED with no nodes is MPOL_LOCAL.
func newPolicy(mode, flags uint16, nodes uint64, beyond bool) (mm.MemPolicy, error) {
	given := nodes != 0 || beyond
	switch mode {
	case mpolDefault:
		if given {
			return mm.MemPolicy{}, unix.EINVAL
		}
		return mm.MemPolicy{}, nil
	case mpolPreferred:
		if !given {
			if flags&(mpolFStaticNodes|mpolFRelativeNodes) != 0 {
				return mm.MemPolicy{}, unix.EINVAL
			}
			mode = mpolLocal
		}
	case mpolLocal:
		if given || flags&(mpolFStaticNodes|mpolFRelativeNodes) != 0 {
			return mm.MemPolicy{}, unix.EINVAL
		}
	default:
		if !given {
			return mm.MemPolicy{}, unix.EINVAL
		}
	}
	p := mm.MemPolicy{Mode: mode, Flags: flags}
	if mode == mpolLocal {
		return p, nil
	}
	// The nodes the policy gets are those given that exist, except that
	// relative ones fold onto the nodes that exist (any given is node
	// 0 here); none is EINVAL.
	if flags&mpolFRelativeNodes == 0 && nodes&nodesOnline == 0 {
		return mm.MemPolicy{}, unix.EINVAL
	}
	p.Nodes = nodesOnline
	if flags&(mpolFStaticNodes|mpolFRelativeNodes) != 0 {
		p.Nodes = nodes // reported back as the caller gave it
	}
	return p, nil
}

func sysSetMempolicy(t *kernel.Task, a [6]uint64) (uint64, error) {
	mode, flags, err := sanitizeMode(a[0])
	if err != nil {
		return 0, err
	}
	nodes, beyond, err := readNodes(t, a[1], a[2])
	if err != nil {
		return 0, err
	}
	p, err := newPolicy(mode, flags, nodes, beyond)
	if err != nil {
		return 0, err
	}
	t.SetMemPolicy(p)
	return 0, nil
}

func sysMbind(t *kernel.Task, a [6]uint64) (uint64, error) {
	start, length, modeArg, nmask, maxnode, mflags := a[0], a[1], a[2], a[3], a[4], a[5]
	mode, flags, err := sanitizeMode(modeArg)
	if err != nil {
		return 0, err
	}
	nodes, beyond, err := readNodes(t, nmask, maxnode)
	if err != nil {
		return 0, err
	}
	if mflags&^(mpolMFStrict|mpolMFMove|mpolMFMoveAll) != 0 {
		return 0, unix.EINVAL
	}
	if mflags&mpolMFMoveAll != 0 && !t.Credentials().HasCap(capSysNice) {
		return 0, unix.EPERM
	}
	n, err := policyRange(start, length)
	if err != nil || n == 0 {
		return 0, err
	}
	p, err := newPolicy(mode, flags, nodes, beyond)
	if err != nil {
		return 0, err
	}
	return 0, t.MM.SetPolicy(start, n, p)
}

func sysGetMempolicy(t *kernel.Task, a [6]uint64) (uint64, error) {
	modeAddr, nmask, maxnode, addr, flags := a[0], a[1], a[2], a[3], a[4]
	if nmask != 0 && maxnode < 1 { // nr_node_ids is 1
		return 0, unix.EINVAL
	}
	if flags&^(mpolFNode|mpolFAddr|mpolFMemsAllowed) != 0 {
		return 0, unix.EINVAL
	}
	var mode, nodes uint64
	switch {
	case flags&mpolFMemsAllowed != 0:
		if flags&(mpolFNode|mpolFAddr) != 0 {
			return 0, unix.EINVAL
		}
		nodes = nodesOnline
	default:
		p := t.MemPolicy()
		if flags&mpolFAddr != 0 {
			// The range's own policy: MPOL_DEFAULT where mbind gave
			// none, not the thread's.
			var ok bool
			if p, ok = t.MM.PolicyAt(addr); !ok {
				return 0, unix.EFAULT
			}
		} else if addr != 0 {
			return 0, unix.EINVAL
		}
		switch {
		case flags&mpolFNode != 0 && flags&mpolFAddr != 0:
			mode = 0 // the node holding the page
		case flags&mpolFNode != 0 && (p.Mode == mpolInterleave || p.Mode == mpolWeightedInterleave):
			mode = 0 // the next node to interleave onto
		case flags&mpolFNode != 0:
			return 0, unix.EINVAL
		default:
			mode = uint64(p.Mode) | uint64(p.Flags&mpolModeFlags)
		}
		nodes = p.Nodes
	}
	if modeAddr != 0 {
		if err := putUint32(t, modeAddr, uint32(mode)); err != nil {
			return 0, err
		}
	}
	if nmask != 0 {
		return 0, writeNodes(t, nmask, maxnode, nodes)
	}
	return 0, nil
}

// writeNodes writes a node mask for maxnode bits as Linux's
// copy_nodes_to_user: the words maxnode-1 bits take (zeros past the
// first), at most a page (EINVAL).
func writeNodes(t *kernel.Task, addr, maxnode, nodes uint64) error {
	size := (maxnode - 1 + 63) / 64 * 8
	if size > arch.PageSize {
		return unix.EINVAL
	}
	b := make([]byte, size)
	if size >= 8 {
		binary.LittleEndian.PutUint64(b, nodes)
	}
	if err := t.CopyOut(addr, b); err != nil {
		return unix.EFAULT
	}
	return nil
}

func sysSetMempolicyHomeNode(t *kernel.Task, a [6]uint64) (uint64, error) {
	start, length, home, flags := a[0], a[1], a[2], a[3]
	if flags != 0 || home != 0 { // node 0 is the only one online
		return 0, unix.EINVAL
	}
	n, err := policyRange(start, length)
	if err != nil || n == 0 {
		return 0, err
	}
	// A home node applies to MPOL_BIND and MPOL_PREFERRED_MANY ranges
	// (ENOENT for one without a policy); on one node it changes nothing.
	return 0, t.MM.Policies(start, start+n, func(p mm.MemPolicy) error {
		switch {
		case p == (mm.MemPolicy{}):
			return unix.ENOENT
		case p.Mode != mpolBind && p.Mode != mpolPreferredMany:
			return unix.EOPNOTSUPP
		}
		return nil
	})
}

func sysMigratePages(t *kernel.Task, a [6]uint64) (uint64, error) {
	pid, maxnode, oldAddr, newAddr := int32(a[0]), a[1], a[2], a[3]
	if _, _, err := readNodes(t, oldAddr, maxnode); err != nil {
		return 0, err
	}
	newNodes, beyond, err := readNodes(t, newAddr, maxnode)
	if err != nil {
		return 0, err
	}
	if pid != 0 {
		m, err := t.RemoteMM(pid)
		if err != nil {
			return 0, err
		}
		m.DecUsers()
	}
	if (newNodes&^nodesOnline != 0 || beyond) && !t.Credentials().HasCap(capSysNice) {
		return 0, unix.EPERM // a node outside the task's allowed ones
	}
	if newNodes&nodesOnline == 0 {
		return 0, unix.EINVAL // no node to move to
	}
	return 0, nil // every page is on node 0: none left unmoved
}

// policyRange checks the range of mbind and set_mempolicy_home_node and
// returns its length in whole pages: start page-aligned and the range not
// wrapping (EINVAL). The length is rounded as Linux's PAGE_ALIGN, which
// wraps to 0 at the top, and a range of 0 is then nothing to do.
func policyRange(start, length uint64) (uint64, error) {
	n := (length + arch.PageSize - 1) &^ (arch.PageSize - 1)
	if start&arch.PageMask != 0 || start+n < start {
		return 0, unix.EINVAL
	}
	return n, nil
}
