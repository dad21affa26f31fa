package vfs

import (
	"sync"
	"sync/atomic"
)

// VFS is one kernel's filesystem namespace: the registered filesystem
// types, the device registry, the mount tree and the dentry cache. The
// kernel creates one with New and calls its methods from syscall handlers.
type VFS struct {
	// ns serializes namespace changes (create, unlink, rename, mount) and
	// is held for reading during path walks.
	ns sync.RWMutex

	// Internal marks a VFS of the kernel's own files (memfds, namespace
	// files): no program names them by path, and Landlock does not limit
	// them, as Linux exempts its internal mounts.
	Internal bool

	typesMu sync.Mutex
	types   map[string]FilesystemType // protected by typesMu

	// Devices opens character and block device nodes.
	Devices *DeviceRegistry
	// OpenFIFO, when set, opens a FIFO node (the pipe package installs it);
	// without it opening a FIFO gives ENXIO.
	OpenFIFO func(ctx Context, p Path, flags uint32) (FileImpl, FileOptions, error)

	initNS  *MountNamespace            // the first namespace, MountRoot's; protected by ns
	mounts  map[mountKey][]*Mount      // stacked mounts per mount point, top last, of every namespace; protected by ns
	allMnts map[*Mount]struct{}        // of every namespace; protected by ns
	sbs     map[Filesystem]*Superblock // the mounted filesystems'; protected by ns
	nextID  int                        // mount ids, unique across namespaces; protected by ns
	nextDev atomic.Uint32

	// watches are the inotify watches of the VFS's inodes (notify.go).
	watches watchTable
	// fan are the fanotify groups listening (fanotify.go).
	fan fanTable
}

type mountKey struct {
	parent *Mount
	point  *Dentry
}

// New returns an empty VFS with no root mount yet (see MountRoot).
func New() *VFS {
	return &VFS{
		types:   make(map[string]FilesystemType),
		Devices: NewDeviceRegistry(),
		mounts:  make(map[mountKey][]*Mount),
		allMnts: make(map[*Mount]struct{}),
		sbs:     make(map[Filesystem]*Superblock),
		nextID:  1,
	}
}

// RegisterType makes name available to mount(2) and NewSuperblock.
func (v *VFS) RegisterType(name string, t FilesystemType) {
	v.typesMu.Lock()
	v.types[name] = t
	v.typesMu.Unlock()
}
