package pipe

import (
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// FIFO is the pipe all opens of one named FIFO share. Open follows Linux's
// fifo_open: a reader waits for a writer and a writer for a reader unless
// O_NONBLOCK (then a reader opens at once and a writer fails with ENXIO);
// O_RDWR never waits. When the last open end closes the contents are
// dropped and the size returns to the default.
type FIFO struct {
	p *Pipe
}

// NewFIFO returns a FIFO with no opens.
func NewFIFO() *FIFO { return &FIFO{p: newPipe()} }

// Pipe returns the FIFO's pipe.
func (f *FIFO) Pipe() *Pipe { return f.p }

// Open opens one end of the FIFO for a new open file description (flags
// are open(2)'s; the access mode picks the end). It returns the FileImpl
// and options to pass to vfs.NewFileDescription, as vfs.VFS.OpenFIFO
// wants. A wait for the partner end is interrupted by ctx.Block's error,
// returned unchanged.
func (f *FIFO) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	p := f.p
	nonblock := flags&unix.O_NONBLOCK != 0
	file := &File{p: p}
	var partner *uint64 // counter whose change ends the wait
	var start uint64
	p.mu.Lock()
	p.setBudgetLocked(ctx)
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		file.read = true
		p.rCounter++
		p.readers++
		if p.writers == 0 {
			if nonblock {
				// No POLLHUP until a writer has come and gone.
				file.wSeen = p.wCounter
			} else {
				partner, start = &p.wCounter, p.wCounter
			}
		}
	case unix.O_WRONLY:
		if p.readers == 0 && nonblock {
			p.mu.Unlock()
			return nil, vfs.FileOptions{}, unix.ENXIO
		}
		file.write = true
		p.wCounter++
		p.writers++
		if p.readers == 0 {
			partner, start = &p.rCounter, p.rCounter
		}
	case unix.O_RDWR:
		file.read, file.write = true, true
		p.rCounter++
		p.wCounter++
		p.readers++
		p.writers++
	default:
		p.mu.Unlock()
		return nil, vfs.FileOptions{}, unix.EINVAL
	}
	// The first open of an idle FIFO makes its pipe (fifo_open's
	// alloc_pipe_info), counted against the opener.
	p.accountUserLocked(ctx)
	p.mu.Unlock()
	p.openQ.Notify(allEvents &^ eventFree)
	p.rq.Notify(allEvents &^ eventFree)
	p.wq.Notify(allEvents &^ eventFree)
	if partner != nil {
		if err := p.waitCounter(ctx, partner, start); err != nil {
			p.release(file.read, file.write)
			return nil, vfs.FileOptions{}, err
		}
	}
	return file, vfs.FileOptions{}, nil
}

// waitCounter waits until *c (protected by p.mu) differs from start: a
// partner has opened since (even if it has closed again), as Linux's
// wait_for_partner.
func (p *Pipe) waitCounter(ctx vfs.Context, c *uint64, start uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return vfs.WaitUntil(ctx, &p.openQ, allEvents&^eventFree, &p.mu, false, func() bool { return *c != start })
}

func (p *Pipe) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.readers == 0 && p.writers == 0
}

// FIFORegistry gives every FIFO inode its FIFO, so that opens through any
// of its names share one pipe; FIFOs nobody has open are forgotten. Its
// Open method is what the kernel installs as vfs.VFS.OpenFIFO.
type FIFORegistry struct {
	mu sync.Mutex
	m  map[fifoKey]*fifoEntry // protected by mu
}

// fifoKey names an inode: its filesystem instance and inode number.
type fifoKey struct {
	sb  *vfs.Superblock
	ino uint64
}

type fifoEntry struct {
	f       *FIFO
	opening int // Opens in progress; protected by FIFORegistry.mu
}

// NewFIFORegistry returns an empty registry.
func NewFIFORegistry() *FIFORegistry {
	return &FIFORegistry{m: make(map[fifoKey]*fifoEntry)}
}

// Open opens the FIFO node at path p (see FIFO.Open). It has the signature
// of vfs.VFS.OpenFIFO.
func (r *FIFORegistry) Open(ctx vfs.Context, p vfs.Path, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	if p.Dentry == nil {
		return nil, vfs.FileOptions{}, unix.ENXIO
	}
	st, err := p.Dentry.Inode().Stat(ctx)
	if err != nil {
		return nil, vfs.FileOptions{}, err
	}
	key := fifoKey{p.Dentry.Superblock(), st.Ino}
	r.mu.Lock()
	e := r.m[key]
	if e == nil {
		e = &fifoEntry{f: NewFIFO()}
		e.f.p.uid, e.f.p.gid = st.UID, st.GID
		e.f.p.onIdle = func() { r.forgetIfIdle(key, e) }
		r.m[key] = e
	}
	e.opening++
	r.mu.Unlock()
	impl, opts, err := e.f.Open(ctx, flags)
	r.mu.Lock()
	e.opening--
	r.mu.Unlock()
	r.forgetIfIdle(key, e)
	return impl, opts, err
}

func (r *FIFORegistry) forgetIfIdle(key fifoKey, e *fifoEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[key] == e && e.opening == 0 && e.f.p.idle() {
		delete(r.m, key)
	}
}

// Len returns how many FIFOs are open or being opened.
func (r *FIFORegistry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}
