// Package nsfs is what opening /proc/PID/ns/NAME gives: a file that names
// one namespace, which setns(2) takes to enter it.
//
// The files live in no tree a program can walk: each open makes a dentry
// of its own (vfs.Detached) under a directory of a private mount, so a
// namespace is held only by the tasks in it and the descriptions open on
// it, never by a cache.
package nsfs

import (
	"fmt"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Namespace is one namespace as a file shows it.
type Namespace interface {
	// Kind is the link text's prefix: "time", "uts", "mnt"...
	Kind() string
	// Inum is its inode number, unique among live namespaces.
	Inum() uint64
	// CloneFlag is its CLONE_NEW* flag, the setns(2) type that names it.
	CloneFlag() uint64
}

// LinkText is what readlink of a namespace link shows: "time:[4026531834]".
func LinkText(ns Namespace) string { return fmt.Sprintf("%s:[%d]", ns.Kind(), ns.Inum()) }

// Path returns a new path to ns's file under dir, a directory of a mount
// no program can reach, for a magic link to resolve to.
func Path(dir vfs.Path, ns Namespace) vfs.Path {
	return vfs.Detached(dir, LinkText(ns), &inode{ns: ns})
}

// Of returns the namespace a description was opened on, if it is a
// namespace file.
func Of(d *vfs.FileDescription) (Namespace, bool) {
	if f, ok := d.Impl().(*file); ok {
		return f.ns, true
	}
	return nil, false
}

// inode is a namespace file: read-only for everyone, as Linux's nsfs
// inodes (S_IFREG|0444), numbered as the namespace.
type inode struct {
	ns Namespace
}

// Holder is a Namespace that an open description or a bind mount of its
// file keeps alive (one whose last task's exit would otherwise release
// what it holds). Hold and Unhold take no VFS lock.
type Holder interface {
	Hold()
	Unhold()
}

// MountHeld implements vfs.MountHolder: a mount of the file holds its
// namespace, as Linux's nsfs dentry does.
func (i *inode) MountHeld() {
	if h, ok := i.ns.(Holder); ok {
		h.Hold()
	}
}

// MountReleased implements vfs.MountHolder.
func (i *inode) MountReleased() {
	if h, ok := i.ns.(Holder); ok {
		h.Unhold()
	}
}

// Stat implements vfs.Inode.
func (i *inode) Stat(vfs.Context) (vfs.Stat, error) {
	return vfs.Stat{Mask: unix.STATX_BASIC_STATS, Ino: i.ns.Inum(), Mode: unix.S_IFREG | 0o444, Nlink: 1, Blksize: 4096}, nil
}

// SetStat implements vfs.Inode: a namespace file takes no changes.
func (i *inode) SetStat(vfs.Context, vfs.SetStat) error { return unix.EPERM }

// Open implements vfs.Inode: the description holds the namespace until
// its last close, as Linux's.
func (i *inode) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	if h, ok := i.ns.(Holder); ok {
		h.Hold()
	}
	return &file{ns: i.ns}, vfs.FileOptions{}, nil
}

// Release implements vfs.FileImpl.
func (f *file) Release() {
	if h, ok := f.ns.(Holder); ok {
		h.Unhold()
	}
}

// file is an open namespace file: it reads and writes nothing (EINVAL),
// as Linux's.
type file struct {
	vfs.FileBase
	ns Namespace
}
