package hostfs

import (
	"bytes"
	"container/list"
	"sync"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel/memmap"
)

// readAhead is how many pages a fault of a host file reads at once
// (128 KiB, Linux's default readahead): the mm maps ahead the pages a
// file already has, so one fault fills a run.
const readAhead = 32

// File is a host regular file. It is a memmap.Mappable whose pages are a
// cache of the host file in the memory file: filled from the host on
// fault, shared by every mapping, and given back (after no mapping is
// left, so no address space can reach them) when the last mapping goes.
// On a writable tree the cache is also what read and write see while it
// exists, and what mappings wrote goes back to the host when the last
// mapping goes and at fsync.
type File struct {
	node
	hdev, hino uint64

	cmu   sync.Mutex
	pages map[uint64]int64 // page index → memory-file offset; protected by cmu
	cfd   int              // host fd the cache is filled from, -1 without cache; protected by cmu
	csize int64            // the file size the cache knows; protected by cmu
	maps  memmap.MapperSet

	// writers counts the open descriptions that may write; mayDirty is
	// set when a mapping is added while one is open (only then can it be
	// a shared writable mapping: mmap needs an fd open for writing for
	// that) and cleared when the cache goes. Without it nothing but
	// write(2), which writes through to the host, changed the cache, and
	// there is nothing to write back (no pread and compare of every page
	// of a build cache's file, or of a program built in a bind, at its
	// last unmapping; and no stale page written over what a host process
	// changed meanwhile). Both protected by cmu.
	writers  int
	mayDirty bool

	// prefetched is set once a prefetch of the file was queued (it is
	// not queued again); gen counts the times the cache was dropped, cut
	// or reclaimed, which a prefetch copying outside cmu checks before it
	// installs its pages. Both protected by cmu.
	prefetched bool
	gen        uint64

	// On a read-only tree, a file keeps its cache after its last
	// mapping, on its filesystem's idle list (idle.go). idleGen counts
	// its stays there (protected by cmu); idleElem is its place on the
	// list, nil when it is not on it (protected by fs.idle.mu).
	idleGen  uint64
	idleElem *list.Element
}

var (
	_ memmap.Mappable   = (*File)(nil)
	_ memmap.PagePeeker = (*File)(nil)
	_ memmap.Prefetcher = (*File)(nil)
)

// SetStat implements vfs.Inode: a size change also cuts the cache.
func (f *File) SetStat(ctx vfs.Context, req vfs.SetStat) error {
	if err := f.node.SetStat(ctx, req); err != nil {
		return err
	}
	if req.Mask&unix.STATX_SIZE != 0 {
		f.truncated(req.Size)
	}
	return nil
}

// openHost opens the host file with the given access mode; st is what
// the host says of it as opened (one openat and one fstat in all).
func (f *File) openHost(acc int, st *unix.Stat_t) (int, error) {
	parent, name := f.where()
	var fd int
	err := parent.withFD(func(pfd int) error {
		var err error
		fd, err = openChild(pfd, name, acc, st)
		return err
	})
	if err != nil {
		return -1, err
	}
	if st.Dev != f.hdev || st.Ino != f.hino {
		unix.Close(fd)
		return -1, unix.ESTALE
	}
	return fd, nil
}

// Open implements vfs.Inode: a description with its own host fd.
func (f *File) Open(_ vfs.Context, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	acc := int(flags & unix.O_ACCMODE)
	if acc == unix.O_ACCMODE {
		acc = unix.O_RDWR
	}
	if acc != unix.O_RDONLY && !f.fs.writable {
		return nil, vfs.FileOptions{}, unix.EROFS
	}
	var st unix.Stat_t
	fd, err := f.openHost(acc, &st)
	if err != nil {
		return nil, vfs.FileOptions{}, err
	}
	o := &openFile{f: f, fd: fd, writer: acc != unix.O_RDONLY}
	if o.writer {
		f.cmu.Lock()
		f.writers++
		f.cmu.Unlock()
		// Mappings made from the host file (HostSize) go: from now on
		// a shared writable mapping may make the cache newer than the
		// host, and faults map the cache instead.
		f.maps.Invalidate(f, 0, ^uint64(0), false)
	}
	return o, vfs.FileOptions{Seekable: true, Regular: true}, nil
}

// Mappable returns the file's pages for mmap and the ELF loader.
func (f *File) Mappable() memmap.Mappable { return f }

// openCacheLocked opens the fd the cache is filled from.
func (f *File) openCacheLocked() error {
	if f.cfd >= 0 {
		return nil
	}
	var st unix.Stat_t
	fd, err := f.openHost(unix.O_RDONLY, &st)
	if err != nil {
		return err
	}
	f.cfd, f.csize = fd, st.Size
	if f.pages == nil {
		f.pages = make(map[uint64]int64)
	}
	if f.fs.idle != nil {
		f.fs.idle.mapped.add(f)
	}
	return nil
}

// PageAt implements memmap.Mappable: the cached page, read from the host
// (with the pages after it, up to readAhead) if it is not cached yet. A
// page past the end of the file is EFAULT (SIGBUS for the fault).
func (f *File) PageAt(index uint64) (int64, error) {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	if err := f.openCacheLocked(); err != nil {
		return 0, unix.EIO
	}
	npages := uint64((f.csize + arch.PageMask) >> arch.PageShift)
	if index >= npages {
		return 0, unix.EFAULT
	}
	if p, ok := f.pages[index]; ok {
		return p, nil
	}
	if err := f.fillLocked(index, npages); err != nil {
		return 0, err
	}
	return f.pages[index], nil
}

// fillLocked reads the pages from index on, up to readAhead of them and
// stopping at one the cache has or at npages (the file's end), from the
// host into the cache.
//
// Preconditions: cmu is held; the cache is open; page index is missing.
func (f *File) fillLocked(index, npages uint64) error {
	var idx []uint64
	for i := index; i < npages && i < index+readAhead; i++ {
		if _, ok := f.pages[i]; ok {
			break
		}
		idx = append(idx, i)
	}
	offs, err := f.fs.mf.Allocate(len(idx))
	if err != nil {
		return unix.ENOMEM
	}
	copyPages(offs, f.cfd, index, f.csize, f.fs.mf.CopyFromFile)
	for i, x := range idx {
		f.pages[x] = offs[i]
	}
	return nil
}

// copyPages fills offs, memory-file pages for the file's pages from index
// on, from the host file open at src (size bytes long), with fill: one
// sendfile per run of pages contiguous in the memory file (the host
// kernel moves the bytes, none pass through uk). A file shrunk on the host
// under uk leaves zeros where it ended: the pages were zeroed when
// allocated.
func copyPages(offs []int64, src int, index uint64, size int64, fill func(off int64, src int, srcOff, n int64) error) {
	for i := 0; i < len(offs); {
		j := i + 1
		for j < len(offs) && offs[j] == offs[i]+int64(j-i)*arch.PageSize {
			j++
		}
		from := int64(index+uint64(i)) << arch.PageShift
		if n := min(int64(j-i)<<arch.PageShift, size-from); n > 0 {
			_ = fill(offs[i], src, from, n)
		}
		i = j
	}
}

// PeekPage implements memmap.PagePeeker.
func (f *File) PeekPage(index uint64) (int64, bool) {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	p, ok := f.pages[index]
	return p, ok && index < uint64((f.csize+arch.PageMask)>>arch.PageShift)
}

// AddMapping implements memmap.Mappable. An idle file leaves the idle
// list: its cache is mapped again.
func (f *File) AddMapping(m memmap.Mapper) {
	f.cmu.Lock()
	if f.writers > 0 && !f.mayDirty {
		f.mayDirty = true
		f.fs.dirty.add(f)
	}
	if f.fs.idle != nil {
		f.fs.idle.remove(f)
	}
	// Under cmu, so that RemoveMapping's and the idle list's "no
	// mapping left" is exact.
	f.maps.Add(m)
	f.cmu.Unlock()
}

// RemoveMapping implements memmap.Mappable: the last mapping gives the
// cache back, or, on a read-only tree, puts the file on the idle list
// with its cache. No mapper is left to invalidate, and one added since
// then finds the cache already empty (both hold cmu).
func (f *File) RemoveMapping(m memmap.Mapper) {
	if f.maps.Remove(m) > 0 {
		return
	}
	f.cmu.Lock()
	if f.maps.Count() > 0 {
		f.cmu.Unlock()
		return
	}
	if f.fs.idle != nil && len(f.pages) > 0 {
		f.fs.idle.push(f, int64(len(f.pages)))
		f.cmu.Unlock()
		f.fs.idle.trim()
		return
	}
	dead := f.dropCacheLocked()
	f.cmu.Unlock()
	if len(dead) > 0 {
		f.fs.mf.DecRef(dead...)
	}
}

// dropCacheLocked writes back what mappings may have changed, empties the
// cache and closes its fd; it returns the pages, whose references the
// caller drops once it has let go of cmu. No mapping may be left.
func (f *File) dropCacheLocked() []int64 {
	f.writeBackLocked()
	if f.mayDirty {
		f.mayDirty = false
		f.fs.dirty.remove(f)
	}
	f.prefetched = false
	f.gen++
	dead := make([]int64, 0, len(f.pages))
	for _, p := range f.pages {
		dead = append(dead, p)
	}
	f.pages = nil
	if f.cfd >= 0 {
		unix.Close(f.cfd)
		f.cfd = -1
	}
	if f.fs.idle != nil {
		f.fs.idle.mapped.remove(f)
	}
	return dead
}

// writeBackLocked writes to the host every cached page whose contents
// differ from it: what shared mappings wrote (if one may have).
func (f *File) writeBackLocked() {
	if !f.fs.writable || !f.mayDirty || f.cfd < 0 || len(f.pages) == 0 {
		return
	}
	var st unix.Stat_t
	wfd, err := f.openHost(unix.O_WRONLY, &st)
	if err != nil {
		return
	}
	defer unix.Close(wfd)
	buf := make([]byte, arch.PageSize)
	for idx, p := range f.pages {
		off := int64(idx) << arch.PageShift
		n := int(min(arch.PageSize, f.csize-off))
		if n <= 0 {
			continue
		}
		mem := f.fs.mf.Bytes(p, n)
		m, _ := unix.Pread(f.cfd, buf[:n], off)
		if m == n && bytes.Equal(buf[:n], mem) {
			continue
		}
		_, _ = unix.Pwrite(wfd, mem, off)
	}
}

// truncated cuts the cache at size after the host file was truncated:
// the pages past the end leave every mapping before they are freed.
func (f *File) truncated(size int64) {
	f.cmu.Lock()
	if f.cfd < 0 {
		f.cmu.Unlock()
		// No cache, but maybe mappings from the host file (HostSize):
		// what lay past the new end goes, copies too, as with a cache.
		f.maps.Invalidate(f, uint64((size+arch.PageMask)>>arch.PageShift), ^uint64(0), true)
		return
	}
	first := uint64((size + arch.PageMask) >> arch.PageShift)
	var dead []int64
	if size < f.csize {
		for idx, p := range f.pages {
			if idx >= first {
				dead = append(dead, p)
				delete(f.pages, idx)
			}
		}
		if in := size & arch.PageMask; in != 0 {
			if p, ok := f.pages[uint64(size>>arch.PageShift)]; ok {
				f.fs.mf.Zero(p+in, int(arch.PageSize-in))
			}
		}
	}
	shrunk := size < f.csize
	if size != f.csize {
		f.gen++
	}
	f.csize = size
	f.cmu.Unlock()
	if shrunk {
		f.maps.Invalidate(f, first, ^uint64(0), true)
	}
	if len(dead) > 0 {
		f.fs.mf.DecRef(dead...)
	}
}

// readAt reads through the cache where it has pages (writable trees,
// where mappings may have written them), else from the host fd.
func (f *File) readAt(fd int, dst []byte, off int64) (int, error) {
	if f.fs.writable {
		f.cmu.Lock()
		if len(f.pages) > 0 {
			defer f.cmu.Unlock()
			n := 0
			for n < len(dst) {
				pos := off + int64(n)
				if pos >= f.csize {
					break
				}
				in := pos & arch.PageMask
				chunk := int(min(int64(arch.PageSize-in), int64(len(dst)-n), f.csize-pos))
				if p, ok := f.pages[uint64(pos>>arch.PageShift)]; ok {
					copy(dst[n:n+chunk], f.fs.mf.Bytes(p+in, chunk))
				} else if m, err := preadFull(fd, dst[n:n+chunk], pos); err != nil || m < chunk {
					return n + m, err
				}
				n += chunk
			}
			return n, nil
		}
		f.cmu.Unlock()
	}
	return preadFull(fd, dst, off)
}

// preadFull reads until dst is full or the file ends.
func preadFull(fd int, dst []byte, off int64) (int, error) {
	n := 0
	for n < len(dst) {
		m, err := unix.Pread(fd, dst[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

// wrote keeps the cache in step with a write to the host.
func (f *File) wrote(src []byte, off int64) {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	if f.cfd < 0 {
		return
	}
	for n := 0; n < len(src); {
		pos := off + int64(n)
		in := pos & arch.PageMask
		chunk := int(min(int64(arch.PageSize-in), int64(len(src)-n)))
		if p, ok := f.pages[uint64(pos>>arch.PageShift)]; ok {
			copy(f.fs.mf.Bytes(p+in, chunk), src[n:n+chunk])
		}
		n += chunk
	}
	if end := off + int64(len(src)); end > f.csize {
		f.csize = end
	}
}

// openFile is an open description of a host file, with its own host fd.
type openFile struct {
	vfs.FileBase
	f      *File
	fd     int
	writer bool // opened for writing: counted in f.writers
}

// Mappable returns the file's pages for mmap.
func (o *openFile) Mappable() memmap.Mappable { return o.f }

// Read implements vfs.FileImpl.
func (o *openFile) Read(_ vfs.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	return o.f.readAt(o.fd, dst, off)
}

// Write implements vfs.FileImpl (writable trees only: a description of a
// read-only tree is never writable).
func (o *openFile) Write(_ vfs.Context, _ *vfs.FileDescription, src []byte, off int64) (int, error) {
	if !o.f.fs.writable {
		return 0, unix.EBADF
	}
	if off == vfs.AppendOffset {
		var st unix.Stat_t
		if err := unix.Fstat(o.fd, &st); err != nil {
			return 0, err
		}
		off = st.Size
	}
	n := 0
	for n < len(src) {
		m, err := unix.Pwrite(o.fd, src[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if n > 0 {
				break
			}
			return 0, err
		}
		n += m
	}
	o.f.wrote(src[:n], off)
	return n, nil
}

// Seek implements vfs.FileImpl; SEEK_DATA and SEEK_HOLE ask the host.
// The size SEEK_END needs is the cached one on a read-only tree (which
// does not change while the sandbox runs: python seeks every module it
// reads), the host's on a writable one.
func (o *openFile) Seek(_ vfs.Context, _ *vfs.FileDescription, cur, off int64, whence int) (int64, error) {
	if whence == unix.SEEK_DATA || whence == unix.SEEK_HOLE {
		return unix.Seek(o.fd, off, whence)
	}
	if whence != unix.SEEK_END {
		return vfs.GenericSeek(cur, off, whence, 0)
	}
	if !o.f.fs.writable {
		st, _ := o.f.hostStat()
		return vfs.GenericSeek(cur, off, whence, st.Size)
	}
	var st unix.Stat_t
	if err := unix.Fstat(o.fd, &st); err != nil {
		return 0, err
	}
	return vfs.GenericSeek(cur, off, whence, st.Size)
}

// Stat implements vfs.FileImpl. On a read-only tree it is what stat of
// the file's path says (the cached attributes, with the device number the
// VFS gives and what an overlay keeps over them, chmod in the sandbox
// included): no host call, and fstat and stat agree on st_dev, as
// programs comparing (st_dev, st_ino) need. A writable tree's file is
// asked through its open fd (it may have lost its name), with the
// device number of the tree.
func (o *openFile) Stat(ctx vfs.Context, fd *vfs.FileDescription) (vfs.Stat, error) {
	named := fd != nil && !fd.Path().IsZero()
	if named && !o.f.fs.writable {
		return o.FileBase.Stat(ctx, fd)
	}
	var st unix.Stat_t
	if err := unix.Fstat(o.fd, &st); err != nil {
		return vfs.Stat{}, err
	}
	s := o.f.fs.convert(&st)
	if named {
		s.Dev = fd.Path().Dentry.Superblock().Dev()
	}
	return s, nil
}

// Truncate implements vfs.FileImpl.
func (o *openFile) Truncate(_ vfs.Context, _ *vfs.FileDescription, size int64) error {
	if !o.f.fs.writable {
		return unix.EINVAL
	}
	if err := unix.Ftruncate(o.fd, size); err != nil {
		return err
	}
	o.f.truncated(size)
	return nil
}

// Fsync implements vfs.FileImpl: what mappings wrote, then the host's
// fsync.
func (o *openFile) Fsync(vfs.Context, *vfs.FileDescription) error {
	if o.f.fs.writable {
		o.f.cmu.Lock()
		o.f.writeBackLocked()
		o.f.cmu.Unlock()
		return unix.Fsync(o.fd)
	}
	return nil
}

// Release implements vfs.FileImpl.
func (o *openFile) Release() {
	if o.writer {
		o.f.cmu.Lock()
		o.f.writers--
		o.f.cmu.Unlock()
	}
	unix.Close(o.fd)
}

var _ memmap.HostBacked = (*File)(nil)

// HostSize implements memmap.HostBacked. A read-only tree's file, whose
// size and contents nothing in the sandbox can change, may always be
// mapped from the host. A writable tree's may while no description may
// write it and no shared writable mapping can have made its cache newer
// than the host (mayDirty): write(2) writes through to the host, whose
// page cache such a mapping shows, as a cached page is updated too. Open
// for writing invalidates what was mapped from the host (Open). The size
// is the one last seen, a hint: a page mapped past the real end is a
// SIGBUS, as natively, and one past the hint maps from the cache.
func (f *File) HostSize() (int64, bool) {
	if f.fs.writable {
		f.cmu.Lock()
		busy := f.writers > 0 || f.mayDirty
		f.cmu.Unlock()
		if busy {
			return 0, false
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Size, true
}

// OpenHost implements memmap.HostBacked: the host file, opened read-only.
func (f *File) OpenHost() (int, error) {
	var st unix.Stat_t
	return f.openHost(unix.O_RDONLY, &st)
}
