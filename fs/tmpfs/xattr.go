package tmpfs

import (
	"runtime"
	"slices"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Extended attributes of a tmpfs inode, as Linux's tmpfs keeps them
// (simple_xattr): any name the syscall layer lets through (user.*,
// trusted.*, security.*), in the order first set. What they take is
// charged to the sandbox's memory budget while the inode keeps them, and
// bounded per inode; the charge goes back when an attribute is removed
// or replaced, and when the inode itself is collected (a cleanup, since
// an unlinked file lives on while it is open or mapped).

// xattrInodeMax bounds the bytes of one inode's attributes (names and
// values), so that one file cannot take the whole budget unnoticed.
const xattrInodeMax = 1 << 20

// xattrCost is what an attribute is charged: its name, its value and
// the bookkeeping around them.
func xattrCost(name string, value []byte) int64 { return int64(len(name) + len(value) + 64) }

// xattrSet is an inode's attributes. It is made at the first SetXattr.
type xattrSet struct {
	names  []string
	values map[string][]byte
	// charged is what the budget holds for them; a cleanup gives it
	// back when the inode is collected.
	charged *xattrCharge
}

// xattrCharge is the budget charge of one inode's attributes, apart from
// the inode so that the cleanup that returns it does not keep the inode
// alive.
type xattrCharge struct {
	budget vfs.Charger
	n      int64 // protected by the owning inode's mu while it lives
}

func (c *xattrCharge) release() {
	if c.n > 0 {
		c.budget.Uncharge(c.n)
		c.n = 0
	}
}

// GetXattr implements vfs.XattrInode.
func (a *attrs) GetXattr(name string) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.xattrs != nil {
		if v, ok := a.xattrs.values[name]; ok {
			return slices.Clone(v), nil
		}
	}
	return nil, unix.ENODATA
}

// SetXattr implements vfs.XattrInode.
func (a *attrs) SetXattr(ctx vfs.Context, name string, value []byte, flags int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var old []byte
	exists := false
	if a.xattrs != nil {
		old, exists = a.xattrs.values[name]
	}
	switch {
	case flags&vfs.XattrCreate != 0 && exists:
		return unix.EEXIST
	case flags&vfs.XattrReplace != 0 && !exists:
		return unix.ENODATA
	}
	if a.xattrs == nil {
		c := &xattrCharge{budget: vfs.ChargerOf(ctx)}
		a.xattrs = &xattrSet{values: make(map[string][]byte), charged: c}
		runtime.AddCleanup(a, (*xattrCharge).release, c)
	}
	s := a.xattrs
	cost := xattrCost(name, value)
	if exists {
		cost -= xattrCost(name, old)
	}
	if s.charged.n+cost > xattrInodeMax {
		return unix.ENOSPC
	}
	if cost > 0 && !s.charged.budget.Charge(cost) {
		return unix.ENOSPC
	}
	if cost < 0 {
		s.charged.budget.Uncharge(-cost)
	}
	s.charged.n += cost
	if !exists {
		s.names = append(s.names, name)
	}
	s.values[name] = slices.Clone(value)
	a.ctime = now()
	return nil
}

// ListXattr implements vfs.XattrInode.
func (a *attrs) ListXattr() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.xattrs == nil {
		return nil
	}
	return slices.Clone(a.xattrs.names)
}

// RemoveXattr implements vfs.XattrInode.
func (a *attrs) RemoveXattr(name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.xattrs == nil {
		return unix.ENODATA
	}
	v, ok := a.xattrs.values[name]
	if !ok {
		return unix.ENODATA
	}
	cost := xattrCost(name, v)
	a.xattrs.charged.budget.Uncharge(cost)
	a.xattrs.charged.n -= cost
	delete(a.xattrs.values, name)
	a.xattrs.names = slices.DeleteFunc(a.xattrs.names, func(n string) bool { return n == name })
	a.ctime = now()
	return nil
}
