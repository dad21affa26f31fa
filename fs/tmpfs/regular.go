package tmpfs

import (
	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
	"uk/kernel/memmap"
)

// Regular is a tmpfs regular file. Its contents are pages of the memory
// file, indexed by page number; missing pages are holes that read as
// zeros. The file holds one memfile reference on each page.
//
// It is a memmap.Mappable: mmap maps these very pages. The pages go back
// when the file is truncated (after every mapping of the truncated range is
// invalidated) or when the file is unreferenced: no link, no open
// description and no mapping left.
type Regular struct {
	attrs
	size  int64            // protected by mu
	pages map[uint64]int64 // page index → memfile offset; protected by mu
	opens int              // open descriptions; protected by mu
	maps  memmap.MapperSet // the mappings of the file (its reverse map)
	seals uint32           // F_ADD_SEALS's, XOR SealSeal (seals.go); protected by mu
	// orphaned: the filesystem's last mount is gone (FS.Unmounted), so
	// no path reaches the file: like an unlinked one, its contents live
	// only while it is open or mapped. Protected by mu.
	orphaned bool
}

var _ memmap.Mappable = (*Regular)(nil)

func (fs *FS) newRegular(o vfs.CreateOptions) *Regular {
	r := &Regular{pages: make(map[uint64]int64)}
	fs.initAttrs(&r.attrs, o, 1)
	return r
}

// Stat implements vfs.Inode.
func (r *Regular) Stat(vfs.Context) (vfs.Stat, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.statLocked()
	s.Size = r.size
	s.Blocks = int64(len(r.pages)) * (arch.PageSize / 512)
	return s, nil
}

// Size returns the file size.
func (r *Regular) Size() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.size
}

// SetStat implements vfs.Inode.
func (r *Regular) SetStat(_ vfs.Context, req vfs.SetStat) error {
	r.mu.Lock()
	var cut truncation
	if req.Mask&unix.STATX_SIZE != 0 {
		if err := r.resizeSealedLocked(req.Size); err != nil {
			r.mu.Unlock()
			return err
		}
		if req.Size != r.size {
			cut = r.truncateLocked(req.Size)
		}
		// Linux's do_truncate stamps the file even when the size stays.
		t := now()
		r.mtime, r.ctime = t, t
	}
	if req.Mask&^unix.STATX_SIZE != 0 || req.Mask == 0 {
		// An empty change is chown(-1, -1): it stamps ctime.
		r.setAttrsLocked(req)
	}
	r.mu.Unlock()
	r.finish(cut)
	return nil
}

// truncation is the pages a truncation detached from the file: they are
// unreachable through the file, but mappings may still map them until
// finish has invalidated those.
type truncation struct {
	first uint64  // first page index past the new end
	dead  []int64 // detached pages, still referenced by the file
	valid bool    // the size went down: mappings past first must go
}

// truncateLocked sets the size, detaching pages wholly past the end and
// zeroing the tail of a partial last page (so a later extension reads
// zeros there, as POSIX requires). The caller must call finish with the
// result after dropping r.mu.
func (r *Regular) truncateLocked(size int64) truncation {
	var cut truncation
	if size < r.size {
		cut.first = uint64((size + arch.PageMask) >> arch.PageShift)
		cut.valid = true
		for idx, off := range r.pages {
			if idx >= cut.first {
				cut.dead = append(cut.dead, off)
				delete(r.pages, idx)
			}
		}
		if in := size & arch.PageMask; in != 0 {
			if off, ok := r.pages[uint64(size>>arch.PageShift)]; ok {
				r.fs.mf.Zero(off+in, int(arch.PageSize-in))
			}
		}
	}
	r.size = size
	return cut
}

// finish completes a truncation: every mapping of the cut range is
// removed from its address space first (an access there now faults and
// gets SIGBUS), and only then are the pages released, so that no page the
// file gave up is reachable when it is freed.
//
// Preconditions: r.mu is not held (mappers lock before objects).
func (r *Regular) finish(cut truncation) {
	if !cut.valid {
		return
	}
	r.maps.Invalidate(r, cut.first, ^uint64(0), true)
	if len(cut.dead) > 0 {
		r.fs.mf.DecRef(cut.dead...)
		r.fs.usedPages.Add(-int64(len(cut.dead)))
	}
}

// PunchHole makes [off, off+n) a hole (fallocate's PUNCH_HOLE): the pages
// wholly inside go back to the memory file after every mapping of them is
// invalidated (a shared mapping then sees the hole's zeros; private copies
// made from them stay, as on Linux), and the partial pages at either end
// are zeroed in place. The work is bounded by the pages the file has, not
// by n. The size does not change.
func (r *Regular) PunchHole(off, n int64) {
	if off < 0 || n <= 0 || off+n < off {
		return
	}
	end := off + n
	r.mu.Lock()
	end = min(end, r.size)
	if off >= end {
		r.mu.Unlock()
		return
	}
	zero := func(from, to int64) { // within one page
		if pg, ok := r.pages[uint64(from>>arch.PageShift)]; ok && to > from {
			r.fs.mf.Zero(pg+from&arch.PageMask, int(to-from))
		}
	}
	first := uint64((off + arch.PageMask) >> arch.PageShift) // first whole page
	last := uint64(end >> arch.PageShift)                    // first page not wholly inside
	if first > last {                                        // within one page
		zero(off, end)
		r.mu.Unlock()
		return
	}
	zero(off, int64(first)<<arch.PageShift)
	zero(int64(last)<<arch.PageShift, end)
	var dead []int64
	if last-first > uint64(len(r.pages)) {
		for idx, p := range r.pages {
			if idx >= first && idx < last {
				dead = append(dead, p)
				delete(r.pages, idx)
			}
		}
	} else {
		for idx := first; idx < last; idx++ {
			if p, ok := r.pages[idx]; ok {
				dead = append(dead, p)
				delete(r.pages, idx)
			}
		}
	}
	t := now()
	r.mtime, r.ctime = t, t
	r.mu.Unlock()
	r.maps.Invalidate(r, first, last, false)
	if len(dead) > 0 {
		r.fs.mf.DecRef(dead...)
		r.fs.usedPages.Add(-int64(len(dead)))
	}
}

// pageCountLocked is the number of pages the file's size covers.
func (r *Regular) pageCountLocked() uint64 {
	return uint64((r.size + arch.PageMask) >> arch.PageShift)
}

// PageAt implements memmap.Mappable: the file's page index, allocated if
// it is a hole. A page wholly past the end of the file is EFAULT (the
// fault gets SIGBUS, as on Linux); a full filesystem is ENOSPC, a full
// memory file ENOMEM.
func (r *Regular) PageAt(index uint64) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if index >= r.pageCountLocked() {
		return 0, unix.EFAULT
	}
	return r.pageLocked(index)
}

// fallocBatch is how many pages Allocate gives the file per hold of its
// lock, so that readers and faults get in between on a large request.
const fallocBatch = 512

// Allocate gives every hole in [off, off+n) a page (fallocate's default
// mode), whatever the file's size, which it does not change. As Linux's
// shmem_fallocate, a range larger than the whole filesystem is ENOSPC
// before any work, so the work is bounded by what the filesystem can
// hold, never by the length the program chose; pages given before a
// later ENOSPC stay.
func (r *Regular) Allocate(off, n int64) error {
	if off < 0 || n <= 0 || off+n < off {
		return unix.EINVAL
	}
	first := uint64(off >> arch.PageShift)
	end := uint64((off + n + arch.PageMask) >> arch.PageShift)
	if end-first > uint64(r.fs.maxPages) {
		return unix.ENOSPC
	}
	r.mu.Lock()
	grow := r.sealsLocked()&SealGrow != 0 && off+n > r.size
	r.mu.Unlock()
	if grow {
		return unix.EPERM
	}
	for idx := first; idx < end; {
		stop := min(end, idx+fallocBatch)
		r.mu.Lock()
		var missing []uint64
		for ; idx < stop; idx++ {
			if _, ok := r.pages[idx]; !ok {
				missing = append(missing, idx)
			}
		}
		var err error
		if len(missing) > 0 {
			err = r.allocLocked(missing)
		}
		r.mu.Unlock()
		if err == unix.ENOMEM {
			err = unix.ENOSPC
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *Regular) pageLocked(index uint64) (int64, error) {
	if off, ok := r.pages[index]; ok {
		return off, nil
	}
	if err := r.allocLocked([]uint64{index}); err != nil {
		return 0, err
	}
	return r.pages[index], nil
}

// ResidentIn implements memmap.ResidentCounter.
func (r *Regular) ResidentIn(first, end uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return memmap.CountIn(r.pages, first, end)
}

// MapperCount implements memmap.ResidentCounter.
func (r *Regular) MapperCount() int { return r.maps.Len() }

// PeekPage implements memmap.PagePeeker: the file's page at index, if it
// has one inside the file's size.
func (r *Regular) PeekPage(index uint64) (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if index >= r.pageCountLocked() {
		return 0, false
	}
	off, ok := r.pages[index]
	return off, ok
}

// AddMapping implements memmap.Mappable: a mapping keeps the file's
// contents alive, as an open description does.
func (r *Regular) AddMapping(m memmap.Mapper) { r.maps.Add(m) }

// RemoveMapping implements memmap.Mappable: the last mapping of a file
// with no link and no open description frees its contents.
func (r *Regular) RemoveMapping(m memmap.Mapper) {
	if r.maps.Remove(m) == 0 {
		r.freeIfUnreferenced()
	}
}

// freeIfUnreferenced frees the contents once nothing references the file
// (no mapping is left then, so nothing needs invalidating).
func (r *Regular) freeIfUnreferenced() {
	r.mu.Lock()
	var cut truncation
	if r.unreferencedLocked() {
		cut = r.truncateLocked(0)
	}
	r.mu.Unlock()
	r.finish(cut)
}

// unreferencedLocked reports whether nothing can reach the file's
// contents any more: no link (or no mount of its filesystem), no open
// description, no mapping.
func (r *Regular) unreferencedLocked() bool {
	return (r.nlink == 0 || r.orphaned) && r.opens == 0 && r.maps.Count() == 0
}

// allocLocked gives each index a fresh zeroed page.
func (r *Regular) allocLocked(idx []uint64) error {
	if err := r.fs.reservePages(int64(len(idx))); err != nil {
		return err
	}
	offs, err := r.fs.mf.Allocate(len(idx))
	if err != nil {
		r.fs.usedPages.Add(-int64(len(idx)))
		return unix.ENOMEM
	}
	for i, x := range idx {
		r.pages[x] = offs[i]
	}
	return nil
}

// readAt copies file contents at off into dst (up to the size).
func (r *Regular) readAtLocked(dst []byte, off int64) int {
	if off >= r.size {
		return 0
	}
	if rem := r.size - off; int64(len(dst)) > rem {
		dst = dst[:rem]
	}
	n := 0
	for n < len(dst) {
		pos := off + int64(n)
		in := pos & arch.PageMask
		chunk := int(arch.PageSize - in)
		if chunk > len(dst)-n {
			chunk = len(dst) - n
		}
		if p, ok := r.pages[uint64(pos>>arch.PageShift)]; ok {
			copy(dst[n:n+chunk], r.fs.mf.Bytes(p+in, chunk))
		} else {
			clear(dst[n : n+chunk])
		}
		n += chunk
	}
	return n
}

// writeAtLocked writes src at off, allocating pages; on ENOSPC it writes
// what fits (a short write) and reports the error only if nothing fit.
func (r *Regular) writeAtLocked(src []byte, off int64) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	end := off + int64(len(src))
	if end < off {
		return 0, unix.EINVAL // past the largest offset (rw_verify_area)
	}
	var missing []uint64
	for i := uint64(off >> arch.PageShift); i <= uint64((end-1)>>arch.PageShift); i++ {
		if _, ok := r.pages[i]; !ok {
			missing = append(missing, i)
		}
	}
	var allocErr error
	if len(missing) > 0 {
		if err := r.allocLocked(missing); err != nil {
			// Allocate what fits, page by page, for a short write.
			allocErr = err
			for _, i := range missing {
				if r.allocLocked([]uint64{i}) != nil {
					break
				}
			}
		}
	}
	fresh := make(map[uint64]bool, len(missing))
	for _, i := range missing {
		fresh[i] = true
	}
	n := 0
	for n < len(src) {
		pos := off + int64(n)
		in := pos & arch.PageMask
		chunk := int(arch.PageSize - in)
		if chunk > len(src)-n {
			chunk = len(src) - n
		}
		idx := uint64(pos >> arch.PageShift)
		p, ok := r.pages[idx]
		if !ok {
			break
		}
		if fresh[idx] {
			// A page never touched through uk's mapping: let the host
			// kernel fill it (one pwrite for the run of contiguous new
			// pages) instead of faulting it in page by page.
			run := chunk
			for next := idx + 1; n+run < len(src) && fresh[next] && r.pages[next] == p+int64(next-idx)*arch.PageSize; next++ {
				run = min(run+arch.PageSize, len(src)-n)
			}
			if err := r.fs.mf.WriteAt(src[n:n+run], p+in); err == nil {
				n += run
				continue
			}
		}
		copy(r.fs.mf.Bytes(p+in, chunk), src[n:n+chunk])
		n += chunk
	}
	if n == 0 && allocErr != nil {
		return 0, allocErr
	}
	if e := off + int64(n); e > r.size {
		r.size = e
	}
	t := now()
	r.mtime, r.ctime = t, t
	return n, nil
}

// Open implements vfs.Inode.
func (r *Regular) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	r.mu.Lock()
	r.opens++
	r.mu.Unlock()
	return &regularFile{r: r}, vfs.FileOptions{Seekable: true, Regular: true}, nil
}

// dropped (its last link is gone) frees the contents if nothing else
// references the file.
func (r *Regular) dropped() { r.freeIfUnreferenced() }

// regularFile is an open description of a Regular file.
type regularFile struct {
	vfs.FileBase
	r *Regular
}

// Read implements vfs.FileImpl (atime as Linux's relatime).
func (f *regularFile) Read(_ vfs.Context, fd *vfs.FileDescription, dst []byte, off int64) (int, error) {
	r := f.r
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.readAtLocked(dst, off)
	if fd.StatusFlags()&unix.O_NOATIME == 0 && r.flags.Load()&vfs.FlagNoatime == 0 {
		t := now()
		if tsLE(r.atime, r.mtime) || tsLE(r.atime, r.ctime) || t.Sec-r.atime.Sec >= 24*3600 {
			r.atime = t
		}
	}
	return n, nil
}

func tsLE(a, b unix.Timespec) bool { return a.Sec < b.Sec || (a.Sec == b.Sec && a.Nsec <= b.Nsec) }

// Write implements vfs.FileImpl (off == vfs.AppendOffset appends).
func (f *regularFile) Write(ctx vfs.Context, _ *vfs.FileDescription, src []byte, off int64) (int, error) {
	r := f.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if off == vfs.AppendOffset {
		off = r.size
	}
	allowed, err := r.writeSealedLocked(off, int64(len(src)))
	if err != nil {
		return 0, err
	}
	n, err := r.writeAtLocked(src[:allowed], off)
	if n > 0 && r.mode&(unix.S_ISUID|unix.S_ISGID) != 0 && !ctx.Credentials().Privileged {
		// An unprivileged write clears the set-id bits (file_remove_privs).
		r.mode &^= unix.S_ISUID
		if r.mode&unix.S_IXGRP != 0 {
			r.mode &^= unix.S_ISGID
		}
	}
	return n, err
}

// Seek implements vfs.FileImpl with holes: SEEK_DATA/SEEK_HOLE look at
// which pages exist.
func (f *regularFile) Seek(_ vfs.Context, _ *vfs.FileDescription, cur, off int64, whence int) (int64, error) {
	r := f.r
	r.mu.Lock()
	defer r.mu.Unlock()
	switch whence {
	case unix.SEEK_DATA, unix.SEEK_HOLE:
		if off < 0 || off >= r.size {
			return 0, unix.ENXIO
		}
		first := uint64(off >> arch.PageShift)
		var idx uint64
		if whence == unix.SEEK_DATA {
			var ok bool
			if idx, ok = r.nextPageLocked(first); !ok {
				return 0, unix.ENXIO
			}
		} else {
			idx = r.nextHoleLocked(first)
		}
		if idx == first {
			return off, nil
		}
		return min(int64(idx)<<arch.PageShift, r.size), nil
	}
	return vfs.GenericSeek(cur, off, whence, r.size)
}

// nextPageLocked returns the lowest index >= first of a page the file has
// inside its size. The work is bounded by the pages that exist, never by
// the size of the holes: a file truncated to 2^50 bytes has 2^38 page
// slots, and walking them held the file's lock for hours.
func (r *Regular) nextPageLocked(first uint64) (uint64, bool) {
	end := r.pageCountLocked()
	if first >= end {
		return 0, false
	}
	if end-first <= uint64(len(r.pages)) {
		for idx := first; idx < end; idx++ {
			if _, ok := r.pages[idx]; ok {
				return idx, true
			}
		}
		return 0, false
	}
	best, found := uint64(0), false
	for idx := range r.pages {
		if idx >= first && idx < end && (!found || idx < best) {
			best, found = idx, true
		}
	}
	return best, found
}

// nextHoleLocked returns the lowest index >= first the file has no page
// for (possibly the page count: the implicit hole at the end). A run of
// present pages is at most every page, so this too is bounded by what
// exists.
func (r *Regular) nextHoleLocked(first uint64) uint64 {
	idx := first
	for {
		if _, ok := r.pages[idx]; !ok {
			return idx
		}
		idx++
	}
}

// Truncate implements vfs.FileImpl.
func (f *regularFile) Truncate(ctx vfs.Context, _ *vfs.FileDescription, size int64) error {
	return f.r.SetStat(ctx, vfs.SetStat{Mask: unix.STATX_SIZE, Size: size})
}

// Fsync implements vfs.FileImpl: nothing to flush.
func (f *regularFile) Fsync(vfs.Context, *vfs.FileDescription) error { return nil }

// Release implements vfs.FileImpl: the last close of an unlinked,
// unmapped file frees its pages.
func (f *regularFile) Release() {
	r := f.r
	r.mu.Lock()
	r.opens--
	r.mu.Unlock()
	r.freeIfUnreferenced()
}

// Regular returns the tmpfs file behind an open description, for mmap
// (nil if fd is not a tmpfs regular file).
func RegularOf(fd *vfs.FileDescription) *Regular {
	if f, ok := fd.Impl().(*regularFile); ok {
		return f.r
	}
	return nil
}

// FillFromHost makes the (empty) file a copy of the first size bytes of
// the host file src, letting the host kernel move the bytes straight
// into the memory file (sendfile): no page of it passes through uk.
func (r *Regular) FillFromHost(src int, size int64) error {
	if size <= 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.size != 0 || len(r.pages) != 0 {
		return unix.EINVAL
	}
	n := uint64((size + arch.PageMask) >> arch.PageShift)
	// Sized once: growing the map page by page would allocate (and touch)
	// about twice its final size.
	r.pages = make(map[uint64]int64, n)
	idx := make([]uint64, n)
	for i := range idx {
		idx[i] = uint64(i)
	}
	if err := r.allocLocked(idx); err != nil {
		return err
	}
	// One sendfile per run of contiguous memory-file pages.
	for i := uint64(0); i < n; {
		j := i + 1
		for j < n && r.pages[j] == r.pages[i]+int64(j-i)*arch.PageSize {
			j++
		}
		off := int64(i) << arch.PageShift
		length := min(int64(j-i)<<arch.PageShift, size-off)
		if err := r.fs.mf.CopyFromFile(r.pages[i], src, off, length); err != nil {
			return err
		}
		i = j
	}
	r.size = size
	return nil
}

// CachedPages counts the file's pages with an index from first to last
// (inclusive) that hold memory: cachestat(2)'s nr_cache, since tmpfs
// files live in memory and nothing of them is ever evicted.
func (r *Regular) CachedPages(first, last uint64) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n uint64
	if last-first < uint64(len(r.pages)) {
		for i := first; ; i++ {
			if _, ok := r.pages[i]; ok {
				n++
			}
			if i == last {
				break
			}
		}
		return n
	}
	for i := range r.pages {
		if i >= first && i <= last {
			n++
		}
	}
	return n
}
