package vfs

import (
	"sort"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// MountNamespace is one mount namespace: a tree of mounts with a root of
// its own, which unshare(CLONE_NEWNS) and clone(CLONE_NEWNS) copy. Every
// Mount belongs to exactly one namespace. All mounts are private: a mount
// made in one namespace never appears in another (uk has no propagation).
//
// It implements nsfs.Namespace, so that /proc/PID/ns/mnt names it.
type MountNamespace struct {
	v    *VFS
	inum uint64
	root *Mount // protected by v.ns
	// users counts the tasks in the namespace; when the last goes, its
	// mounts are taken away, as Linux's put_mnt_ns (a bind mount of its
	// file does not keep it, where Linux's would: its Hold would need the
	// lock the mount holds). The initial namespace of a VFS is never
	// released.
	users   atomic.Int64
	initial bool
	dead    bool // its users all gone, its mounts taken away; protected by v.ns
}

// InitialMountInum is the inode number of the initial mount namespace, as
// Linux's PROC_MNT_INIT_INO.
const InitialMountInum = 0xEFFFFFF8

// Kind implements nsfs.Namespace.
func (ns *MountNamespace) Kind() string { return "mnt" }

// Inum implements nsfs.Namespace.
func (ns *MountNamespace) Inum() uint64 { return ns.inum }

// CloneFlag implements nsfs.Namespace.
func (ns *MountNamespace) CloneFlag() uint64 { return unix.CLONE_NEWNS }

// Root returns the root of the namespace's mount tree.
func (ns *MountNamespace) Root() Path {
	ns.v.ns.RLock()
	defer ns.v.ns.RUnlock()
	return Path{ns.root, ns.root.root}
}

// Namespace returns the mount namespace m belongs to.
func (m *Mount) Namespace() *MountNamespace { return m.ns }

// InitialNamespace returns the VFS's first mount namespace, the one
// MountRoot made (nil before).
func (v *VFS) InitialNamespace() *MountNamespace {
	v.ns.RLock()
	defer v.ns.RUnlock()
	return v.initNS
}

// IncUsers counts one more task in ns. Entering a namespace whose users
// had all gone (through a namespace file kept open) finds its root alone.
func (ns *MountNamespace) IncUsers() {
	if ns.users.Add(1) != 1 || ns.initial {
		return
	}
	v := ns.v
	v.ns.Lock()
	defer v.ns.Unlock()
	if ns.dead {
		ns.dead = false
		v.addMountLocked(ns.root)
	}
}

// DecUsers counts a task out of ns; the last one out of a namespace made
// at run time takes its mounts away, its root too, so that nothing of it
// counts against MountMax (the root mount object stays for a namespace
// file still open to enter).
func (ns *MountNamespace) DecUsers() {
	if ns.users.Add(-1) != 0 || ns.initial {
		return
	}
	v := ns.v
	v.ns.Lock()
	defer v.ns.Unlock()
	if ns.users.Load() != 0 || ns.dead {
		return // entered again (setns through a namespace file) meanwhile
	}
	for _, c := range v.childrenLocked(ns.root) {
		v.detachLocked(c)
	}
	ns.dead = true
	v.removeMountLocked(ns.root)
}

// MountMax is how many mounts a VFS holds in all its namespaces together,
// Linux's default fs.mount-max (which Linux counts per namespace): a mount
// or a namespace copy beyond it is ENOSPC. It bounds what a program can
// make uk hold by mounting in a loop or copying namespaces.
const MountMax = 100000

// CopyNamespace makes a new mount namespace holding a copy of every mount
// of src (new mount ids, the same filesystems, flags and mount points),
// numbered inum, with one user. remap gives, for a Path in src, the same
// place in the copy (a Path outside src is returned as it is): the caller
// moves its root and working directory with it. ENOSPC when the copies
// would pass MountMax.
func (v *VFS) CopyNamespace(src *MountNamespace, inum uint64) (*MountNamespace, func(Path) Path, error) {
	v.ns.Lock()
	defer v.ns.Unlock()
	n := 0
	for m := range v.allMnts {
		if m.ns == src {
			n++
		}
	}
	if len(v.allMnts)+n > MountMax {
		return nil, nil, unix.ENOSPC
	}
	ns := &MountNamespace{v: v, inum: inum}
	ns.users.Store(1)
	// Copies take their ids in tree order, parents first, as Linux's
	// copy_tree numbers them (and /proc/PID/mountinfo lists them).
	copies := make(map[*Mount]*Mount)
	var copyTree func(m, parent *Mount)
	copyTree = func(m, parent *Mount) {
		c := &Mount{id: v.nextID, ns: ns, sb: m.sb, root: m.root, parent: parent, point: m.point}
		c.flags.Store(m.flags.Load())
		v.nextID++
		copies[m] = c
		v.addMountLocked(c)
		if parent != nil {
			if parent.kids == nil {
				parent.kids = make(map[*Mount]struct{})
			}
			parent.kids[c] = struct{}{}
		}
		ks := v.childrenLocked(m)
		sort.Slice(ks, func(i, j int) bool { return ks[i].id < ks[j].id })
		for _, k := range ks {
			copyTree(k, c)
		}
	}
	copyTree(src.root, nil)
	ns.root = copies[src.root]
	// Stacked mounts keep their order: the key's list is copied as it is.
	for k, ms := range v.mounts {
		if k.parent.ns != src {
			continue
		}
		list := make([]*Mount, len(ms))
		for i, m := range ms {
			list[i] = copies[m]
		}
		v.mounts[mountKey{copies[k.parent], k.point}] = list
		k.point.mounts += len(ms)
	}
	remap := func(p Path) Path {
		if c, ok := copies[p.Mount]; ok {
			p.Mount = c
		}
		return p
	}
	return ns, remap, nil
}

// checkMount is Linux's check_mnt: m must be in the caller's namespace.
func checkMount(m *Mount, ns *MountNamespace) error {
	if ns != nil && m.ns != ns {
		return unix.EINVAL
	}
	return nil
}
