package pipe

import (
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// File is one open file description of a pipe: a read end, a write end,
// or (for a FIFO opened O_RDWR) both. It implements vfs.FileImpl; the
// kernel finds the Pipe behind a description with Of.
type File struct {
	vfs.FileBase
	p           *Pipe
	read, write bool
	wSeen       uint64 // p.wCounter when opened for reading

	mu      sync.Mutex
	waiters map[*vfs.Waiter]struct{} // registered through this description; protected by mu
	closed  bool                     // protected by mu
}

// New is pipe2(2): a new pipe and its read and write ends, each with one
// reference. flags may hold O_NONBLOCK (set on both descriptions),
// O_DIRECT (packet mode: each write of up to PipeBuf bytes is a packet a
// read returns whole) and O_CLOEXEC (ignored here: the fd table's
// business); anything else is EINVAL. The pipe's owner is ctx's fsuid and
// fsgid.
func New(ctx vfs.Context, flags int) (r, w *vfs.FileDescription, err error) {
	if flags&^(unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_DIRECT) != 0 {
		return nil, nil, unix.EINVAL
	}
	p := newPipe()
	p.budget = vfs.ChargerOf(ctx)
	p.accountUserLocked(ctx)
	if c := ctx.Credentials(); c != nil {
		p.uid, p.gid = c.FSUID, c.FSGID
	}
	p.readers, p.writers = 1, 1
	p.rCounter, p.wCounter = 1, 1
	// O_DIRECT is the writer's (packets are made by writes); the read
	// end does not show it, as Linux's create_pipe_files.
	st := uint32(flags) & (unix.O_NONBLOCK | unix.O_DIRECT)
	r = vfs.NewFileDescription(&File{p: p, read: true}, unix.O_RDONLY|st&^unix.O_DIRECT, vfs.Path{}, vfs.FileOptions{})
	w = vfs.NewFileDescription(&File{p: p, write: true}, unix.O_WRONLY|st, vfs.Path{}, vfs.FileOptions{})
	return r, w, nil
}

// Of returns the pipe behind a description, or nil if it is not a pipe or
// FIFO (fcntl F_GETPIPE_SZ/F_SETPIPE_SZ then fail with EBADF).
func Of(fd *vfs.FileDescription) *Pipe {
	if f, ok := fd.Impl().(*File); ok {
		return f.p
	}
	return nil
}

// Pipe returns the pipe this end belongs to.
func (f *File) Pipe() *Pipe { return f.p }

// Name is what /proc/PID/fd/N links to: "pipe:[ino]".
func (f *File) Name() string { return fmt.Sprintf("pipe:[%d]", f.p.ino) }

// Read implements vfs.FileImpl: it returns what is buffered (at most one
// packet in packet mode), 0 at end of file (empty and no writer left),
// EAGAIN if empty under O_NONBLOCK, else waits for data.
func (f *File) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	return f.p.read(ctx, dst, fd.NonBlocking())
}

// Write implements vfs.FileImpl. Writes of at most PipeBuf bytes are
// atomic; larger ones may be split around other writers' data. It waits
// for room unless O_NONBLOCK, where it writes what fits (EAGAIN if
// nothing). A signal (an error from ctx.Block) after some bytes were
// written ends the write with that count and no error.
//
// With no reader it returns unix.EPIPE, possibly with n > 0 when the last
// reader went away part way through: the kernel must then send SIGPIPE to
// the calling thread, and return n if n > 0, else EPIPE, as Linux does.
func (f *File) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, _ int64) (int, error) {
	return f.p.write(ctx, src, fd.NonBlocking(), fd.StatusFlags()&unix.O_DIRECT != 0)
}

// Stat implements vfs.FileImpl: a FIFO opened from the tree reports its
// inode; an anonymous pipe reports S_IFIFO|0600 on the pipefs device,
// owned by its creator, with size 0.
func (f *File) Stat(ctx vfs.Context, fd *vfs.FileDescription) (vfs.Stat, error) {
	if fd.Path().Dentry != nil {
		return f.FileBase.Stat(ctx, fd)
	}
	return f.p.stat(), nil
}

// Ioctl implements vfs.FileImpl: FIONREAD; anything else is ENOTTY.
func (f *File) Ioctl(ctx vfs.Context, _ *vfs.FileDescription, cmd uint32, arg uint64) (uintptr, error) {
	if cmd != vfs.IoctlFIONREAD {
		return 0, unix.ENOTTY
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(f.p.Buffered()))
	return 0, ctx.CopyOut(arg, b[:])
}

// Readiness implements vfs.FileImpl as Linux's pipe_poll: a read end is
// readable (IN|RDNORM) when data is buffered and reports HUP when no writer
// is left (for a FIFO reader: once a writer has come and gone since it
// opened); a write end is writable (OUT|WRNORM) while a slot is free and
// reports ERR when no reader is left.
func (f *File) Readiness(mask vfs.EventMask) vfs.EventMask {
	return f.p.readiness(f.read, f.write, f.wSeen) & (mask | vfs.EventErr | vfs.EventHUp)
}

// EventRegister implements vfs.FileImpl.
func (f *File) EventRegister(w *vfs.Waiter) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	if f.waiters == nil {
		f.waiters = make(map[*vfs.Waiter]struct{})
	}
	f.waiters[w] = struct{}{}
	f.mu.Unlock()
	if f.read {
		f.p.rq.Register(w)
	}
	if f.write {
		f.p.wq.Register(w)
	}
}

// EventUnregister implements vfs.FileImpl.
func (f *File) EventUnregister(w *vfs.Waiter) {
	f.mu.Lock()
	delete(f.waiters, w)
	f.mu.Unlock()
	f.p.rq.Unregister(w)
	f.p.wq.Unregister(w)
}

// Release implements vfs.FileImpl: the end closes (the other end then sees
// EOF/HUP or EPIPE/ERR), and waiters still registered through this
// description hear POLLFREE (0x4000) if their mask asks for it, so that
// epoll drops its entries for the description.
func (f *File) Release() {
	f.mu.Lock()
	f.closed = true
	ws := f.waiters
	f.waiters = nil
	f.mu.Unlock()
	for w := range ws {
		f.p.rq.Unregister(w)
		f.p.wq.Unregister(w)
	}
	f.p.release(f.read, f.write)
	for w := range ws {
		if w.Mask&eventFree != 0 {
			w.Callback(eventFree)
		}
	}
}

// ReadFrom reads from the pipe as a read of a description does, waiting
// unless nonblock (vmsplice to user memory, with SPLICE_F_NONBLOCK or
// the description's O_NONBLOCK).
func (p *Pipe) ReadFrom(ctx vfs.Context, dst []byte, nonblock bool) (int, error) {
	return p.read(ctx, dst, nonblock)
}

// WriteTo writes into the pipe as a write of a description does
// (vmsplice from user memory).
func (p *Pipe) WriteTo(ctx vfs.Context, src []byte, nonblock, packet bool) (int, error) {
	return p.write(ctx, src, nonblock, packet)
}
