package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Device opens a device node: it makes the FileImpl of a new open file
// description of the device (major, minor).
type Device interface {
	Open(ctx Context, p Path, flags uint32) (FileImpl, FileOptions, error)
}

// DeviceFunc adapts a function to Device.
type DeviceFunc func(ctx Context, p Path, flags uint32) (FileImpl, FileOptions, error)

// Open calls f.
func (f DeviceFunc) Open(ctx Context, p Path, flags uint32) (FileImpl, FileOptions, error) {
	return f(ctx, p, flags)
}

// DeviceRegistry maps (type, major, minor) to devices. Safe for concurrent use.
type DeviceRegistry struct {
	mu   sync.RWMutex
	devs map[devKey]Device
}

type devKey struct {
	block        bool
	major, minor uint32
}

// NewDeviceRegistry returns an empty registry.
func NewDeviceRegistry() *DeviceRegistry { return &DeviceRegistry{devs: make(map[devKey]Device)} }

// RegisterChar registers a character device (replacing any earlier one).
func (r *DeviceRegistry) RegisterChar(major, minor uint32, d Device) {
	r.mu.Lock()
	r.devs[devKey{false, major, minor}] = d
	r.mu.Unlock()
}

// RegisterBlock registers a block device.
func (r *DeviceRegistry) RegisterBlock(major, minor uint32, d Device) {
	r.mu.Lock()
	r.devs[devKey{true, major, minor}] = d
	r.mu.Unlock()
}

// Lookup returns the device, if registered.
func (r *DeviceRegistry) Lookup(block bool, major, minor uint32) (Device, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.devs[devKey{block, major, minor}]
	return d, ok
}

// Open opens device rdev of a node of the given mode; ENXIO if nobody
// registered it (as Linux answers for a node without a driver).
func (r *DeviceRegistry) Open(ctx Context, mode uint32, rdev uint64, p Path, flags uint32) (FileImpl, FileOptions, error) {
	d, ok := r.Lookup(mode&unix.S_IFMT == unix.S_IFBLK, unix.Major(rdev), unix.Minor(rdev))
	if !ok {
		return nil, FileOptions{}, unix.ENXIO
	}
	return d.Open(ctx, p, flags)
}
