package proc

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Memory is a process's memory as /proc/PID/mem reaches it: addresses
// are file offsets, and access is a debugger's (what the mappings'
// protection forbids the program itself may still be read and written).
type Memory interface {
	// Access reads (write false) or writes buf at addr, stopping at the
	// first page it cannot reach; it returns the bytes done, and EIO when
	// none were.
	Access(addr uint64, buf []byte, write bool) (int, error)
	// Release lets the memory go; the open file calls it once.
	Release()
	// PageMap fills out with the /proc/PID/pagemap entries of the pages
	// from start (page-aligned) on.
	PageMap(start uint64, out []uint64)
	// UserEnd is the end of the process's user address space.
	UserEnd() uint64
}

// memFile is /proc/PID/mem. Opening it takes the process's memory, if the
// opener may ptrace the process (Task.OpenMemory); the open file keeps
// that memory, even once the process has exec'd another, as Linux's.
type memFile struct {
	attrs
	tid int32
}

func (fs *FS) newMemFile(path string, tid int32, owner func() (uint32, uint32)) *memFile {
	f := &memFile{attrs: attrs{fs: fs, ino: inoOf(path), mode: unix.S_IFREG | 0o600}, tid: tid}
	f.owner = owner
	return f
}

// Stat implements vfs.Inode (size 0, as Linux's).
func (f *memFile) Stat(vfs.Context) (vfs.Stat, error) { return f.stat(0, 1), nil }

// Open implements vfs.Inode.
func (f *memFile) Open(ctx vfs.Context, _ uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	t, err := f.fs.get(f.tid)
	if err != nil {
		return nil, vfs.FileOptions{}, err
	}
	m, err := t.OpenMemory(ctx)
	if err != nil {
		return nil, vfs.FileOptions{}, err
	}
	return &openMem{m: m}, vfs.FileOptions{Seekable: true}, nil
}

// openMem is an open /proc/PID/mem.
type openMem struct {
	vfs.FileBase
	m Memory
}

func (o *openMem) Read(_ vfs.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	return o.m.Access(uint64(off), dst, false)
}

func (o *openMem) Write(_ vfs.Context, _ *vfs.FileDescription, src []byte, off int64) (int, error) {
	return o.m.Access(uint64(off), src, true)
}

// Seek moves to any address: offsets are unsigned here, as Linux's
// FMODE_UNSIGNED_OFFSET makes them.
func (o *openMem) Seek(_ vfs.Context, _ *vfs.FileDescription, cur, off int64, whence int) (int64, error) {
	switch whence {
	case unix.SEEK_SET:
		return off, nil
	case unix.SEEK_CUR:
		return cur + off, nil
	}
	return 0, unix.EINVAL
}

func (o *openMem) Release() { o.m.Release() }

// pagemapFile is /proc/PID/pagemap: a 64-bit entry per page of the address
// space, at offset page number * 8 (Memory.PageMap says what each holds).
// It opens as /proc/PID/mem does.
type pagemapFile struct{ memFile }

func (fs *FS) newPagemapFile(path string, tid int32, owner func() (uint32, uint32)) *pagemapFile {
	f := &pagemapFile{memFile{attrs: attrs{fs: fs, ino: inoOf(path), mode: unix.S_IFREG | 0o400}, tid: tid}}
	f.owner = owner
	return f
}

// Open implements vfs.Inode.
func (f *pagemapFile) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	impl, opts, err := f.memFile.Open(ctx, flags)
	if err != nil {
		return nil, opts, err
	}
	return &openPagemap{openMem: *impl.(*openMem)}, opts, nil
}

// openPagemap is an open /proc/PID/pagemap.
type openPagemap struct{ openMem }

// pagemapBatch bounds the entries one read gathers at a time.
const pagemapBatch = 512

// Read implements vfs.FileImpl: whole entries from an entry's offset,
// EINVAL otherwise (Linux's pagemap_read); nothing past the end of the
// user address space.
func (o *openPagemap) Read(_ vfs.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	if off%8 != 0 || len(dst)%8 != 0 {
		return 0, unix.EINVAL
	}
	page := uint64(off) / 8
	end := o.m.UserEnd() >> 12
	n := 0
	var ents [pagemapBatch]uint64
	for n+8 <= len(dst) && page < end {
		k := min((len(dst)-n)/8, pagemapBatch, int(end-page))
		o.m.PageMap(page<<12, ents[:k])
		for _, e := range ents[:k] {
			binary.LittleEndian.PutUint64(dst[n:], e)
			n += 8
		}
		page += uint64(k)
	}
	return n, nil
}

// Write implements vfs.FileImpl: pagemap is read-only.
func (o *openPagemap) Write(vfs.Context, *vfs.FileDescription, []byte, int64) (int, error) {
	return 0, unix.EBADF
}
