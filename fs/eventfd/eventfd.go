// Package eventfd implements eventfd(2) files for uk: a 64-bit counter that
// write(2) adds to and read(2) takes (all of it, or one at a time with
// EFD_SEMAPHORE), with poll readiness, as Linux's fs/eventfd.c.
package eventfd

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Max is the largest value the counter holds through write(2)
// (0xfffffffffffffffe); a write that would pass it waits.
const Max = ^uint64(0) - 1

// eventFree is Linux's POLLFREE: told to waiters when the file goes away.
const eventFree = vfs.EventMask(0x4000)

// File is an eventfd's open file description (it has no other opens: dup
// shares the description). It implements vfs.FileImpl.
type File struct {
	vfs.AnonFileBase
	semaphore bool

	mu    sync.Mutex
	count uint64 // protected by mu
	q     vfs.Queue
}

// New is eventfd2(2): a counter starting at initval. flags may hold
// EFD_SEMAPHORE, EFD_NONBLOCK (O_NONBLOCK on the description) and
// EFD_CLOEXEC (the fd table's business, ignored here); anything else is
// EINVAL. The description is O_RDWR and holds one reference.
func New(initval uint32, flags int) (*vfs.FileDescription, error) {
	if flags&^(unix.EFD_SEMAPHORE|unix.EFD_NONBLOCK|unix.EFD_CLOEXEC) != 0 {
		return nil, unix.EINVAL
	}
	f := &File{semaphore: flags&unix.EFD_SEMAPHORE != 0, count: uint64(initval)}
	st := uint32(unix.O_RDWR)
	if flags&unix.EFD_NONBLOCK != 0 {
		st |= unix.O_NONBLOCK
	}
	return vfs.NewFileDescription(f, st, vfs.Path{}, vfs.FileOptions{}), nil
}

// Of returns the eventfd behind a description, or nil.
func Of(fd *vfs.FileDescription) *File {
	f, _ := fd.Impl().(*File)
	return f
}

// Name is what /proc/PID/fd/N links to.
func (f *File) Name() string { return "anon_inode:[eventfd]" }

// Value returns the counter (/proc/PID/fdinfo's eventfd-count).
func (f *File) Value() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count
}

// Semaphore reports whether the eventfd has EFD_SEMAPHORE semantics.
func (f *File) Semaphore() bool { return f.semaphore }

// Signal adds n to the counter from inside the kernel (eventfd_signal),
// saturating at 2^64-1 (which makes the file report POLLERR) instead of
// waiting.
func (f *File) Signal(n uint64) {
	f.mu.Lock()
	if room := ^uint64(0) - f.count; n > room {
		n = room
	}
	f.count += n
	f.mu.Unlock()
	f.q.Notify(vfs.EventIn)
}

// Read implements vfs.FileImpl: it needs an 8-byte buffer (EINVAL
// otherwise), waits while the counter is 0 (EAGAIN under O_NONBLOCK), then
// stores the counter (resetting it to 0), or 1 (decrementing it) with
// EFD_SEMAPHORE, as a little-endian uint64, and returns 8.
func (f *File) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	if len(dst) < 8 {
		return 0, unix.EINVAL
	}
	f.mu.Lock()
	if err := vfs.WaitUntil(ctx, &f.q, vfs.EventIn, &f.mu, fd.NonBlocking(), func() bool { return f.count != 0 }); err != nil {
		f.mu.Unlock()
		return 0, err
	}
	v := f.count
	if f.semaphore {
		v = 1
	}
	f.count -= v
	f.mu.Unlock()
	binary.LittleEndian.PutUint64(dst, v)
	f.q.Notify(vfs.EventOut)
	return 8, nil
}

// Write implements vfs.FileImpl: it needs an 8-byte buffer holding a
// little-endian uint64 other than 2^64-1 (EINVAL otherwise), waits while
// adding it would take the counter past Max (EAGAIN under O_NONBLOCK),
// adds it and returns 8. Writing 0 succeeds and wakes pollers.
func (f *File) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, _ int64) (int, error) {
	if len(src) < 8 {
		return 0, unix.EINVAL
	}
	v := binary.LittleEndian.Uint64(src)
	if v == ^uint64(0) {
		return 0, unix.EINVAL
	}
	f.mu.Lock()
	if err := vfs.WaitUntil(ctx, &f.q, vfs.EventOut, &f.mu, fd.NonBlocking(), func() bool { return ^uint64(0)-f.count > v }); err != nil {
		f.mu.Unlock()
		return 0, err
	}
	f.count += v
	f.mu.Unlock()
	f.q.Notify(vfs.EventIn)
	return 8, nil
}

// Stat implements vfs.FileImpl: the shared anonymous inode.
func (f *File) Stat(vfs.Context, *vfs.FileDescription) (vfs.Stat, error) { return AnonStat(), nil }

// Readiness implements vfs.FileImpl as Linux's eventfd_poll: IN while the
// counter is non-zero, OUT while it is below Max, ERR at 2^64-1 (reached
// only through Signal).
func (f *File) Readiness(mask vfs.EventMask) vfs.EventMask {
	f.mu.Lock()
	c := f.count
	f.mu.Unlock()
	var m vfs.EventMask
	if c > 0 {
		m |= vfs.EventIn
	}
	if c == ^uint64(0) {
		m |= vfs.EventErr
	}
	if c < Max {
		m |= vfs.EventOut
	}
	return m & (mask | vfs.EventErr | vfs.EventHUp)
}

// EventRegister implements vfs.FileImpl.
func (f *File) EventRegister(w *vfs.Waiter) { f.q.Register(w) }

// EventUnregister implements vfs.FileImpl.
func (f *File) EventUnregister(w *vfs.Waiter) { f.q.Unregister(w) }

// Release implements vfs.FileImpl: waiters still registered hear POLLFREE
// (0x4000) if they asked for it, so that epoll drops its entries.
func (f *File) Release() { f.q.Notify(eventFree) }
