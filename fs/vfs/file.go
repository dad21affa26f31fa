package vfs

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"uk/fs/lock"
)

// FileImpl is implemented by each kind of open file (regular tmpfs file,
// directory, device, pipe end, socket, host stream...). Embed FileBase to
// get Linux's default answers for the operations a type does not have.
//
// Offsets: for a seekable description (FileOptions.Seekable) the description
// keeps the file offset and its lock, and passes the position explicitly:
// Read/Write get off >= 0. For a stream they get off = -1 and ignore it.
// An O_APPEND write on a seekable file gets off = AppendOffset: the
// implementation writes at its end atomically; the description then moves
// its offset to the new end with Seek(SEEK_END).
type FileImpl interface {
	// Read reads into dst at off (see above). It returns 0, nil at end of
	// file. A read that would block returns unix.EAGAIN when the description
	// has O_NONBLOCK, else waits with ctx.Block.
	Read(ctx Context, fd *FileDescription, dst []byte, off int64) (int, error)
	// Write writes src at off (see above).
	Write(ctx Context, fd *FileDescription, src []byte, off int64) (int, error)
	// Seek computes a new offset from the current one; the description stores it.
	Seek(ctx Context, fd *FileDescription, cur, off int64, whence int) (int64, error)
	// Stat reports the file's attributes.
	Stat(ctx Context, fd *FileDescription) (Stat, error)
	// Getdents emits directory entries starting at the directory offset off,
	// until emit returns false. Each entry carries the offset of the entry
	// after it (Dirent.Next); the description keeps the Next of the last
	// entry emit accepted.
	Getdents(ctx Context, fd *FileDescription, off int64, emit func(Dirent) bool) error
	// Ioctl performs a device-specific request; arg is usually an address
	// used with ctx.CopyIn/CopyOut.
	Ioctl(ctx Context, fd *FileDescription, cmd uint32, arg uint64) (uintptr, error)
	// Readiness returns which events of mask are ready now.
	Readiness(mask EventMask) EventMask
	// EventRegister and EventUnregister add and remove a waiter told about
	// readiness changes (poll, epoll, blocking reads).
	EventRegister(w *Waiter)
	EventUnregister(w *Waiter)
	// Truncate sets the file's size (ftruncate).
	Truncate(ctx Context, fd *FileDescription, size int64) error
	// Fsync flushes the file (fsync/fdatasync).
	Fsync(ctx Context, fd *FileDescription) error
	// Release is called once, when the last reference to the description goes.
	Release()
}

// OLargeFile is Linux's O_LARGEFILE on x86-64 (x/sys/unix says 0 there,
// glibc's value); open on 64-bit Linux always sets it, so F_GETFL shows it.
const OLargeFile = 0x8000

// AppendOffset is the off an O_APPEND write of a seekable file receives.
const AppendOffset = -1

// FileOptions describe properties of a description fixed at creation.
type FileOptions struct {
	// Seekable files have a file offset and allow pread/pwrite; streams
	// (pipes, sockets, ttys) get ESPIPE for those.
	Seekable bool
	// Regular files are bound by the writer's file size limit
	// (RLIMIT_FSIZE, FileSizeLimiter).
	Regular bool
}

// FileSizeLimiter is a Context with a file size limit (RLIMIT_FSIZE): a
// write that would pass it is cut short, or refused with EFBIG and the
// signal SIGXFSZ when it would begin at or past it, as are a truncation
// or fallocate beyond it. Contexts without one have no limit.
type FileSizeLimiter interface {
	FileSizeLimit() uint64
	// FileSizeExceeded sends the caller SIGXFSZ.
	FileSizeExceeded()
}

// limitWrite cuts a write of src at off (AppendOffset: the end of the
// file) to the caller's file size limit. Preconditions: fd.offMu held for
// appends.
func (fd *FileDescription) limitWrite(ctx Context, src []byte, off int64) ([]byte, error) {
	l, ok := ctx.(FileSizeLimiter)
	if !ok || !fd.opts.Regular || len(src) == 0 {
		return src, nil
	}
	limit := l.FileSizeLimit()
	if limit >= 1<<63 {
		return src, nil
	}
	if off == AppendOffset {
		end, err := fd.impl.Seek(ctx, fd, fd.off, 0, unix.SEEK_END)
		if err != nil {
			return src, nil
		}
		off = end
	}
	if uint64(off) >= limit {
		l.FileSizeExceeded()
		return nil, unix.EFBIG
	}
	if room := limit - uint64(off); uint64(len(src)) > room {
		src = src[:room]
	}
	return src, nil
}

// CheckFileSize refuses a size beyond the caller's file size limit (EFBIG
// and SIGXFSZ), for truncate and fallocate.
func CheckFileSize(ctx Context, size int64) error {
	if l, ok := ctx.(FileSizeLimiter); ok && uint64(size) > l.FileSizeLimit() {
		l.FileSizeExceeded()
		return unix.EFBIG
	}
	return nil
}

// FileDescription is an open file description: what open(2) creates and
// dup(2) shares. It holds the status flags, the file offset (guarded by its
// own lock so that concurrent read/write on one description serialize as on
// Linux), where it was opened (Path, zero for anonymous files), and the
// FileImpl. It is reference counted: FDTable entries, in-flight syscalls and
// mappings each hold a reference.
type FileDescription struct {
	refs  atomic.Int64
	flags atomic.Uint32 // access mode and status flags (O_*)

	offMu sync.Mutex
	off   int64 // protected by offMu

	path  Path
	impl  FileImpl
	opts  FileOptions
	close sync.Once
	// budget is the memory budget DescriptionCost was charged to when the
	// description was first installed in a descriptor table (nil: not
	// charged); the last DecRef gives it back.
	budget atomic.Pointer[Charger]
	// writer: the open counted the description in the file's write
	// count (writecount.go); the release gives it back.
	writer bool
	// quiet descriptions generate no events (OpenQuiet); openerPID and
	// openerTID are the process and thread that opened the description,
	// whose close fanotify reports as theirs.
	quiet                bool
	openerPID, openerTID int32
	// llDenied are the rights of Landlock's AccessTruncate and
	// AccessIoctlDev the opener's domain denied at the open: the
	// description keeps them, whoever uses it later.
	llDenied uint64
	// async is the description's SIGIO state (async.go); nil until
	// F_SETOWN, F_SETSIG or O_ASYNC first touches it.
	async atomic.Pointer[asyncState]
}

// DescriptionCost is what one open file description is charged to the
// sandbox's memory budget: the description, its file's state (a pipe, a
// socket, an open regular file) and the inode of a file made for it,
// rounded up. It bounds what a program can make uk hold by opening files
// (Linux charges struct file and its inode to the memory cgroup).
const DescriptionCost = 1024

// chargeTo charges DescriptionCost to b once, the first time the
// description goes into a charged table; false when b refuses.
func (fd *FileDescription) chargeTo(b Charger) bool {
	if fd.budget.Load() != nil {
		return true
	}
	if !b.Charge(DescriptionCost) {
		return false
	}
	if !fd.budget.CompareAndSwap(nil, &b) {
		b.Uncharge(DescriptionCost) // another table charged it first
	}
	return true
}

// settableFlags are the status flags F_SETFL may change.
const settableFlags = unix.O_APPEND | unix.O_ASYNC | unix.O_DIRECT | unix.O_NOATIME | unix.O_NONBLOCK

// NewFileDescription returns a description with one reference. flags are
// the open flags: the access mode and status flags are kept, creation flags
// (O_CREAT, O_EXCL, O_TRUNC, O_CLOEXEC, O_NOCTTY) dropped. As on Linux,
// O_DIRECTORY, O_NOFOLLOW and O_TMPFILE stay: F_GETFL shows them.
// path may be the zero Path for files not in the filesystem tree.
func NewFileDescription(impl FileImpl, flags uint32, path Path, opts FileOptions) *FileDescription {
	fd := &FileDescription{impl: impl, path: path, opts: opts}
	fd.refs.Store(1)
	if path.Dentry != nil {
		path.Dentry.fileOpened()
	}
	keep := uint32(unix.O_ACCMODE | unix.O_PATH | OLargeFile | unix.O_SYNC | unix.O_DSYNC | settableFlags |
		unix.O_DIRECTORY | unix.O_NOFOLLOW | oTmpfile)
	fd.flags.Store(flags & keep)
	return fd
}

// Impl returns the file's implementation (the syscall layer type-asserts it
// for pipes, sockets, epoll...).
func (fd *FileDescription) Impl() FileImpl { return fd.impl }

// Path returns where the file was opened (zero for anonymous files).
func (fd *FileDescription) Path() Path { return fd.path }

// Options returns the options the description was created with.
func (fd *FileDescription) Options() FileOptions { return fd.opts }

// IncRef adds a reference.
func (fd *FileDescription) IncRef() { fd.refs.Add(1) }

// Refs returns the references held now: descriptor tables, messages in
// flight, the kernel's own. Only a caller that knows none can be taken
// or dropped meanwhile may act on it (AF_UNIX's collector of descriptions
// in flight, under its namespace lock).
func (fd *FileDescription) Refs() int64 { return fd.refs.Load() }

// DecRef drops a reference; the last one releases the file.
func (fd *FileDescription) DecRef() {
	switch n := fd.refs.Add(-1); {
	case n == 0:
		fd.stopAsync()
		fd.close.Do(fd.release)
		if b := fd.budget.Swap(nil); b != nil {
			(*b).Uncharge(DescriptionCost)
		}
	case n < 0:
		panic("vfs: FileDescription released more often than referenced")
	}
}

// TryIncRef adds a reference unless the description is already released.
func (fd *FileDescription) TryIncRef() bool {
	for {
		n := fd.refs.Load()
		if n <= 0 {
			return false
		}
		if fd.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// StatusFlags returns the access mode and status flags (F_GETFL).
func (fd *FileDescription) StatusFlags() uint32 { return fd.flags.Load() }

// SetStatusFlags changes the settable status flags (F_SETFL); other bits of
// flags are ignored, as on Linux.
func (fd *FileDescription) SetStatusFlags(flags uint32) {
	for {
		old := fd.flags.Load()
		nw := old&^settableFlags | flags&settableFlags
		if fd.flags.CompareAndSwap(old, nw) {
			return
		}
	}
}

// NonBlocking reports whether O_NONBLOCK is set.
func (fd *FileDescription) NonBlocking() bool { return fd.flags.Load()&unix.O_NONBLOCK != 0 }

// IsPath reports whether this is an O_PATH description (no I/O allowed).
func (fd *FileDescription) IsPath() bool { return fd.flags.Load()&unix.O_PATH != 0 }

// Readable reports whether the description was opened for reading.
func (fd *FileDescription) Readable() bool {
	f := fd.flags.Load()
	return f&unix.O_PATH == 0 && (f&unix.O_ACCMODE == unix.O_RDONLY || f&unix.O_ACCMODE == unix.O_RDWR)
}

// Writable reports whether the description was opened for writing.
func (fd *FileDescription) Writable() bool {
	f := fd.flags.Load()
	return f&unix.O_PATH == 0 && (f&unix.O_ACCMODE == unix.O_WRONLY || f&unix.O_ACCMODE == unix.O_RDWR)
}

// Offset returns the current file offset.
func (fd *FileDescription) Offset() int64 {
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	return fd.off
}

// Read is read(2): at and advancing the file offset for seekable files.
func (fd *FileDescription) Read(ctx Context, dst []byte) (int, error) {
	n, err := fd.read(ctx, dst)
	if n > 0 {
		fd.notify(ctx, InAccess)
	}
	return n, err
}

func (fd *FileDescription) read(ctx Context, dst []byte) (int, error) {
	if !fd.Readable() {
		return 0, unix.EBADF
	}
	if err := fd.accessPermission(ctx); err != nil {
		return 0, err
	}
	if !fd.opts.Seekable {
		return fd.impl.Read(ctx, fd, dst, -1)
	}
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	if fd.off+int64(len(dst)) < 0 {
		return 0, unix.EINVAL // past the largest offset (Linux's rw_verify_area)
	}
	n, err := fd.impl.Read(ctx, fd, dst, fd.off)
	fd.off += int64(n)
	return n, err
}

// PRead is pread64(2); ESPIPE for streams, EINVAL for a negative offset.
func (fd *FileDescription) PRead(ctx Context, dst []byte, off int64) (int, error) {
	n, err := fd.pread(ctx, dst, off)
	if n > 0 {
		fd.notify(ctx, InAccess)
	}
	return n, err
}

func (fd *FileDescription) pread(ctx Context, dst []byte, off int64) (int, error) {
	if !fd.Readable() {
		return 0, unix.EBADF
	}
	if !fd.opts.Seekable {
		return 0, unix.ESPIPE
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	if err := fd.accessPermission(ctx); err != nil {
		return 0, err
	}
	return fd.impl.Read(ctx, fd, dst, off)
}

// Write is write(2): at and advancing the file offset (or at the end with
// O_APPEND) for seekable files.
func (fd *FileDescription) Write(ctx Context, src []byte) (int, error) {
	return fd.WriteFlags(ctx, src, false, false)
}

// WriteFlags is Write with pwritev2's RWF_APPEND (append, as with
// O_APPEND) and RWF_NOAPPEND (write at the offset even with O_APPEND).
func (fd *FileDescription) WriteFlags(ctx Context, src []byte, appendMode, noAppend bool) (int, error) {
	n, err := fd.writeFlags(ctx, src, appendMode, noAppend)
	if n > 0 {
		fd.notify(ctx, InModify)
	}
	return n, err
}

func (fd *FileDescription) writeFlags(ctx Context, src []byte, appendMode, noAppend bool) (int, error) {
	if !fd.Writable() {
		return 0, unix.EBADF
	}
	if !fd.opts.Seekable {
		return fd.impl.Write(ctx, fd, src, -1)
	}
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	if appendMode || fd.flags.Load()&unix.O_APPEND != 0 && !noAppend {
		src, err := fd.limitWrite(ctx, src, AppendOffset)
		if err != nil {
			return 0, err
		}
		n, err := fd.impl.Write(ctx, fd, src, AppendOffset)
		if end, serr := fd.impl.Seek(ctx, fd, fd.off, 0, unix.SEEK_END); serr == nil {
			fd.off = end
		}
		return n, err
	}
	src, err := fd.limitWrite(ctx, src, fd.off)
	if err != nil {
		return 0, err
	}
	n, err := fd.impl.Write(ctx, fd, src, fd.off)
	fd.off += int64(n)
	return n, err
}

// PWrite is pwrite64(2). As on Linux, O_APPEND makes it append anyway.
func (fd *FileDescription) PWrite(ctx Context, src []byte, off int64) (int, error) {
	return fd.PWriteFlags(ctx, src, off, false, false)
}

// PWriteFlags is PWrite with pwritev2's RWF_APPEND and RWF_NOAPPEND (see
// WriteFlags); neither moves the file offset.
func (fd *FileDescription) PWriteFlags(ctx Context, src []byte, off int64, appendMode, noAppend bool) (int, error) {
	n, err := fd.pwriteFlags(ctx, src, off, appendMode, noAppend)
	if n > 0 {
		fd.notify(ctx, InModify)
	}
	return n, err
}

func (fd *FileDescription) pwriteFlags(ctx Context, src []byte, off int64, appendMode, noAppend bool) (int, error) {
	if !fd.Writable() {
		return 0, unix.EBADF
	}
	if !fd.opts.Seekable {
		return 0, unix.ESPIPE
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	if appendMode || fd.flags.Load()&unix.O_APPEND != 0 && !noAppend {
		off = AppendOffset
	}
	if off == AppendOffset {
		fd.offMu.Lock()
		defer fd.offMu.Unlock()
	}
	src, err := fd.limitWrite(ctx, src, off)
	if err != nil {
		return 0, err
	}
	return fd.impl.Write(ctx, fd, src, off)
}

// Seek is lseek(2).
func (fd *FileDescription) Seek(ctx Context, off int64, whence int) (int64, error) {
	if fd.IsPath() {
		return 0, unix.EBADF
	}
	if whence < unix.SEEK_SET || whence > unix.SEEK_HOLE {
		return 0, unix.EINVAL
	}
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	n, err := fd.impl.Seek(ctx, fd, fd.off, off, whence)
	if err != nil {
		return 0, err
	}
	fd.off = n
	return n, nil
}

// Stat is fstat(2) (allowed on O_PATH descriptions).
func (fd *FileDescription) Stat(ctx Context) (Stat, error) {
	return fd.impl.Stat(ctx, fd)
}

// Getdents emits entries from the directory offset on and advances the
// offset past each entry emit accepts.
func (fd *FileDescription) Getdents(ctx Context, emit func(Dirent) bool) error {
	if fd.IsPath() {
		return unix.EBADF
	}
	if err := fd.accessPermission(ctx); err != nil {
		return err
	}
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	err := fd.impl.Getdents(ctx, fd, fd.off, func(d Dirent) bool {
		if !emit(d) {
			return false
		}
		fd.off = d.Next
		return true
	})
	if err == nil {
		fd.notify(ctx, InAccess) // Linux's iterate_dir, even at the end
	}
	return err
}

// Ioctl is ioctl(2). FIONBIO and FIOASYNC are handled here for every file;
// FIOCLEX/FIONCLEX belong to the fd table and are the syscall layer's.
func (fd *FileDescription) Ioctl(ctx Context, cmd uint32, arg uint64) (uintptr, error) {
	if fd.IsPath() {
		return 0, unix.EBADF
	}
	switch cmd {
	case ioctlFIONBIO, ioctlFIOASYNC:
		var b [4]byte
		if err := ctx.CopyIn(arg, b[:]); err != nil {
			return 0, err
		}
		bit := uint32(unix.O_NONBLOCK)
		if cmd == ioctlFIOASYNC {
			bit = unix.O_ASYNC
		}
		f := fd.StatusFlags() &^ bit
		if binary.LittleEndian.Uint32(b[:]) != 0 {
			f |= bit
		}
		fd.SetStatusFlags(f)
		return 0, nil
	}
	if fd.llDenied&AccessIoctlDev != 0 && !landlockIoctlFree(cmd) {
		return 0, unix.EACCES
	}
	return fd.impl.Ioctl(ctx, fd, cmd, arg)
}

// Readiness returns the ready events among mask (poll). O_PATH files report
// POLLNVAL's absence as nothing ready.
func (fd *FileDescription) Readiness(mask EventMask) EventMask {
	if fd.IsPath() {
		return 0
	}
	return fd.impl.Readiness(mask) & (mask | EventErr | EventHUp)
}

// EventRegister adds a readiness waiter.
func (fd *FileDescription) EventRegister(w *Waiter) { fd.impl.EventRegister(w) }

// EventUnregister removes a readiness waiter.
func (fd *FileDescription) EventUnregister(w *Waiter) { fd.impl.EventUnregister(w) }

// Truncate is ftruncate(2): EINVAL unless open for writing.
func (fd *FileDescription) Truncate(ctx Context, size int64) error {
	if fd.IsPath() {
		return unix.EBADF
	}
	if !fd.Writable() || size < 0 {
		return unix.EINVAL
	}
	if fd.llDenied&AccessTruncate != 0 {
		return unix.EACCES
	}
	if err := CheckFileSize(ctx, size); err != nil {
		return err
	}
	if err := fd.impl.Truncate(ctx, fd, size); err != nil {
		return err
	}
	fd.notify(ctx, InModify)
	return nil
}

// Fsync is fsync(2)/fdatasync(2).
func (fd *FileDescription) Fsync(ctx Context) error {
	if fd.IsPath() {
		return unix.EBADF
	}
	return fd.impl.Fsync(ctx, fd)
}

// GenericSeek computes an lseek result for a file of the given size whose
// contents are all data (no holes reported).
func GenericSeek(cur, off int64, whence int, size int64) (int64, error) {
	var n int64
	switch whence {
	case unix.SEEK_SET:
		n = off
	case unix.SEEK_CUR:
		n = cur + off
	case unix.SEEK_END:
		n = size + off
	case unix.SEEK_DATA:
		if off < 0 || off >= size {
			return 0, unix.ENXIO
		}
		n = off
	case unix.SEEK_HOLE:
		if off < 0 || off >= size {
			return 0, unix.ENXIO
		}
		n = size
	default:
		return 0, unix.EINVAL
	}
	if n < 0 {
		return 0, unix.EINVAL
	}
	return n, nil
}

// Generic ioctl numbers (x86-64) that x/sys/unix does not export.
const (
	ioctlFIONBIO  = 0x5421
	ioctlFIOASYNC = 0x5452
)

// IoctlFIONREAD is FIONREAD (x/sys/unix does not export it): the number of
// bytes a read would return, stored as an int at the argument address.
const IoctlFIONREAD = 0x541b

// release ends the description: its file hears the close (InCloseWrite or
// InCloseNowrite, none for O_PATH), then the implementation lets go, then
// the file's deletion, if its unlinking waited for this close, reaches
// its watches.
func (fd *FileDescription) release() {
	lock.Global.Release(fd.LockKey(), fd) // its OFD and flock locks
	if fd.writer {
		putWriteAccess(fd.path.Dentry.inode)
	}
	d := fd.path.Dentry
	if d != nil && !fd.IsPath() {
		if fd.Writable() {
			fd.notify(nil, InCloseWrite)
		} else {
			fd.notify(nil, InCloseNowrite)
		}
	}
	fd.impl.Release()
	if d != nil {
		d.fileClosed()
	}
}

// LockKey is the file a lock taken through fd is on (package lock): the
// inode, or for a file outside the tree (a pipe, a socket) its state.
func (fd *FileDescription) LockKey() any {
	if d := fd.path.Dentry; d != nil {
		return d.inode
	}
	return fd.impl
}

// notify reports an event of the file fd was opened at to its watches
// and fanotify groups (nothing for anonymous files), as caused by ctx's
// task, or without ctx (a close), by the description's opener.
func (fd *FileDescription) notify(ctx Context, mask uint32) {
	d := fd.path.Dentry
	if d == nil || fd.quiet {
		return
	}
	v := d.sb.v
	if !v.watched() && !v.fanWatched() {
		return
	}
	pid, tid := fd.openerPID, fd.openerTID
	if ctx != nil {
		pid, tid = ActorOf(ctx)
	}
	v.notifyPath(fd.path, mask, pid, tid)
}
