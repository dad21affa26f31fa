// Package vfstest provides a vfs.Context for tests of filesystem code: a
// task with given credentials whose "application memory" is a byte map and
// whose blocking waits can be interrupted on demand.
package vfstest

import (
	"encoding/binary"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Ctx is a fake task. Memory maps addresses to bytes written by CopyOut
// (CopyIn of an address never written reads zeros). Closing Interrupt
// makes blocked and later Block calls return EINTR.
type Ctx struct {
	Creds     *vfs.Credentials
	Mask      uint32
	Interrupt chan struct{}

	mu  sync.Mutex
	mem map[uint64]byte
}

// Root returns a context with root credentials and umask 022.
func Root() *Ctx { return New(vfs.RootCredentials()) }

// User returns an unprivileged context.
func User(uid, gid uint32, groups ...uint32) *Ctx {
	return New(vfs.UserCredentials(uid, gid, groups...))
}

// New returns a context with the given credentials and umask 022.
func New(c *vfs.Credentials) *Ctx {
	return &Ctx{Creds: c, Mask: 0o022, Interrupt: make(chan struct{}), mem: make(map[uint64]byte)}
}

// Credentials implements vfs.Context.
func (c *Ctx) Credentials() *vfs.Credentials { return c.Creds }

// Umask implements vfs.Context.
func (c *Ctx) Umask() uint32 { return c.Mask }

// Block implements vfs.Context.
func (c *Ctx) Block(ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-c.Interrupt:
		return unix.EINTR
	}
}

// CopyIn implements vfs.Context; address 0 faults.
func (c *Ctx) CopyIn(addr uint64, dst []byte) error {
	if addr == 0 {
		return unix.EFAULT
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range dst {
		dst[i] = c.mem[addr+uint64(i)]
	}
	return nil
}

// CopyOut implements vfs.Context; address 0 faults.
func (c *Ctx) CopyOut(addr uint64, src []byte) error {
	if addr == 0 {
		return unix.EFAULT
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, b := range src {
		c.mem[addr+uint64(i)] = b
	}
	return nil
}

// Mem returns n bytes of fake memory at addr.
func (c *Ctx) Mem(addr uint64, n int) []byte {
	b := make([]byte, n)
	_ = c.CopyIn(addr, b)
	return b
}

// ReadCount reads the 8-byte little-endian count a counter file (eventfd,
// timerfd) returns, failing the test if a read that succeeds returns
// anything but 8 bytes.
func ReadCount(t testing.TB, ctx vfs.Context, fd *vfs.FileDescription) (uint64, error) {
	t.Helper()
	b := make([]byte, 8)
	n, err := fd.Read(ctx, b)
	if err == nil && n != 8 {
		t.Fatalf("read returned %d", n)
	}
	return binary.LittleEndian.Uint64(b), err
}
