package tmpfs_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/kernel/memfile"
	"uk/kernel/memmap"
)

// checkingMapper is a mapper that, when told to drop pages, checks that
// they are still alive: an object must invalidate before it frees.
type checkingMapper struct {
	t      *testing.T
	mf     *memfile.File
	held   map[uint64]int64 // page index → offset the mapper maps
	calls  int
	ranges [][2]uint64
}

func (c *checkingMapper) Invalidate(obj memmap.Mappable, first, end uint64, evenPrivate bool) {
	c.calls++
	c.ranges = append(c.ranges, [2]uint64{first, end})
	for idx, off := range c.held {
		if idx >= first && idx < end {
			if c.mf.RefCount(off) == 0 {
				c.t.Errorf("page %d was freed before its mapper was told", idx)
			}
			delete(c.held, idx)
		}
	}
}

// TestMappingKeepsFileAndTruncationInvalidates: a mapped file keeps its
// pages past its last link and close; truncation tells the mapper before
// the pages go; the last mapping of an unreferenced file frees them.
func TestMappingKeepsFileAndTruncationInvalidates(t *testing.T) {
	v, at, mf := setup(t, tmpfs.Options{})
	ctx := vfstest.Root()
	fd, err := v.OpenAt(ctx, at, "f", unix.O_RDWR|unix.O_CREAT, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := fd.Truncate(ctx, 4*4096); err != nil {
		t.Fatal(err)
	}
	r := tmpfs.RegularOf(fd)
	m := &checkingMapper{t: t, mf: mf, held: map[uint64]int64{}}
	r.AddMapping(m)
	for i := uint64(0); i < 4; i++ {
		off, err := r.PageAt(i)
		if err != nil {
			t.Fatal(err)
		}
		m.held[i] = off
	}
	kept := m.held[0]
	if err := v.UnlinkAt(ctx, at, "f", 0); err != nil {
		t.Fatal(err)
	}
	fd.DecRef()
	if mf.RefCount(kept) != 1 {
		t.Fatalf("page 0 refs = %d after unlink and close of a mapped file, want 1", mf.RefCount(kept))
	}
	if m.calls != 0 {
		t.Errorf("unlink and close invalidated %v", m.ranges)
	}
	// Truncation (through the inode, as ftruncate by another fd would).
	if err := r.SetStat(ctx, vfs.SetStat{Mask: unix.STATX_SIZE, Size: 4096}); err != nil {
		t.Fatal(err)
	}
	if m.calls != 1 || m.ranges[0][0] != 1 {
		t.Errorf("truncation to one page invalidated %v, want [1, ...)", m.ranges)
	}
	if _, err := r.PageAt(2); err != unix.EFAULT {
		t.Errorf("PageAt past the new end = %v, want EFAULT", err)
	}
	r.RemoveMapping(m)
	if mf.RefCount(kept) != 0 {
		t.Errorf("page 0 refs = %d after the last mapping of an unlinked, closed file, want 0", mf.RefCount(kept))
	}
}
