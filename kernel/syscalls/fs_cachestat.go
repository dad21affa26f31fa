package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/kernel"
)

// sysCachestat is cachestat(2): the page-cache state of a range of a
// file. A tmpfs file's pages are all in memory, cached and never evicted
// (shmem's pages count as dirty only when swap-backed and written; uk has
// no swap, so none is). Other files have no page cache in uk (a host
// file's pages are the host's, or a mapping's private cache): all zeros,
// as Linux gives for a pipe or socket. Checks in Linux's order: the fd
// (EBADF, also for O_PATH), the right to see the file's cache (EPERM:
// opened for writing, or owned, or writable by the caller), the range
// (EFAULT), flags (EINVAL), the result (EFAULT).
// capFowner is CAP_FOWNER: an owner's rights over any file.
const capFowner = 3

func sysCachestat(t *kernel.Task, a [6]uint64) (uint64, error) {
	d, err := t.FileFD(int32(a[0]), kernel.FDNotPath)
	if err != nil {
		return 0, err
	}
	defer d.DecRef()
	if !d.Writable() {
		st, err := d.Stat(t)
		if err != nil {
			return 0, err
		}
		c := t.Credentials()
		if c.FSUID != st.UID && !c.HasCap(capFowner) && vfs.MayAccess(c, &st, vfs.MayWrite) != nil {
			return 0, unix.EPERM
		}
	}
	var rng [16]byte
	if err := t.CopyIn(a[1], rng[:]); err != nil {
		return 0, unix.EFAULT
	}
	if uint32(a[3]) != 0 {
		return 0, unix.EINVAL
	}
	off, length := binary.LittleEndian.Uint64(rng[0:]), binary.LittleEndian.Uint64(rng[8:])
	first := off >> arch.PageShift
	last := ^uint64(0)
	if length != 0 {
		last = (off + length - 1) >> arch.PageShift
	}
	var cached uint64
	if r := tmpfs.RegularOf(d); r != nil && last >= first {
		cached = r.CachedPages(first, last)
	}
	var out [40]byte // nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted
	binary.LittleEndian.PutUint64(out[0:], cached)
	if err := t.CopyOut(a[2], out[:]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}
