package vfs

import "sync/atomic"

// Path is a location in the mount tree: a dentry seen through a mount.
// The zero Path means "none" (anonymous files).
type Path struct {
	Mount  *Mount
	Dentry *Dentry
}

// IsZero reports whether p is the zero Path.
func (p Path) IsZero() bool { return p.Dentry == nil }

// Mount is one mount: a filesystem's subtree (root) attached at a dentry
// (point) of a parent mount. The root mount has no parent.
type Mount struct {
	id     int
	ns     *MountNamespace
	sb     *Superblock
	root   *Dentry
	parent *Mount              // protected by VFS.ns
	point  *Dentry             // protected by VFS.ns
	kids   map[*Mount]struct{} // the mounts whose parent it is; protected by VFS.ns
	flags  atomic.Uint64       // MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, ...
}

// ID is the mount's id (as /proc/self/mountinfo shows).
func (m *Mount) ID() int { return m.id }

// Superblock returns the mounted filesystem instance.
func (m *Mount) Superblock() *Superblock { return m.sb }

// Root returns the dentry mounted (the filesystem root, or a subdirectory
// for bind mounts).
func (m *Mount) Root() *Dentry { return m.root }
