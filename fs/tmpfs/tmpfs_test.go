package tmpfs_test

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/kernel/memfile"
)

func setup(t *testing.T, opts tmpfs.Options) (*vfs.VFS, vfs.At, *memfile.File) {
	t.Helper()
	mf, err := memfile.New(32 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	v := vfs.New()
	root := v.MountRoot(tmpfs.New(mf, opts), "tmpfs", "rootfs", 0)
	return v, vfs.At{Root: root, Dir: root}, mf
}

func TestReadWriteTruncateSparse(t *testing.T) {
	v, at, mf := setup(t, tmpfs.Options{})
	ctx := vfstest.Root()
	fd, err := v.OpenAt(ctx, at, "f", unix.O_RDWR|unix.O_CREAT, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	// A write far out leaves a hole.
	const far = 10*4096 + 100
	if n, err := fd.PWrite(ctx, []byte("tail"), far); n != 4 || err != nil {
		t.Fatalf("pwrite %d %v", n, err)
	}
	st, _ := fd.Stat(ctx)
	if st.Size != far+4 || st.Blocks != 8 || st.Blksize != 4096 {
		t.Fatalf("sparse stat size %d blocks %d", st.Size, st.Blocks)
	}
	buf := make([]byte, 8)
	if n, _ := fd.PRead(ctx, buf, 5000); n != 8 || !bytes.Equal(buf, make([]byte, 8)) {
		t.Fatalf("hole reads %v", buf[:n])
	}
	if off, err := fd.Seek(ctx, 0, unix.SEEK_DATA); off != 10*4096 || err != nil {
		t.Errorf("SEEK_DATA %d %v", off, err)
	}
	if off, err := fd.Seek(ctx, 0, unix.SEEK_HOLE); off != 0 || err != nil {
		t.Errorf("SEEK_HOLE %d %v", off, err)
	}
	if _, err := fd.Seek(ctx, far+4, unix.SEEK_DATA); err != unix.ENXIO {
		t.Errorf("SEEK_DATA at EOF %v", err)
	}
	if _, err := fd.Seek(ctx, -1, unix.SEEK_SET); err != unix.EINVAL {
		t.Errorf("negative seek %v", err)
	}
	// Reads at and past EOF.
	if n, err := fd.PRead(ctx, buf, far+2); n != 2 || string(buf[:2]) != "il" || err != nil {
		t.Errorf("read at EOF-2: %q %v", buf[:n], err)
	}
	if n, err := fd.PRead(ctx, buf, far+100); n != 0 || err != nil {
		t.Errorf("read past EOF %d %v", n, err)
	}
	// Data across a page boundary.
	data := bytes.Repeat([]byte("0123456789"), 1000)
	fd.PWrite(ctx, data, 4090)
	got := make([]byte, len(data))
	fd.PRead(ctx, got, 4090)
	if !bytes.Equal(got, data) {
		t.Fatal("cross-page data mismatch")
	}
	// Shrink to mid-page, extend: the cut part reads as zeros.
	if err := fd.Truncate(ctx, 4100); err != nil {
		t.Fatal(err)
	}
	if err := fd.Truncate(ctx, 8192); err != nil {
		t.Fatal(err)
	}
	fd.PRead(ctx, buf, 4096)
	if !bytes.Equal(buf, append([]byte("6789"), 0, 0, 0, 0)) {
		t.Errorf("after truncate/extend %q", buf)
	}
	st, _ = fd.Stat(ctx)
	if st.Size != 8192 || st.Blocks != 16 {
		t.Errorf("after truncate size %d blocks %d", st.Size, st.Blocks)
	}
	// PageAt: an existing page, a hole (allocated on demand) and a page
	// past the end (EFAULT: a fault there is SIGBUS).
	r := tmpfs.RegularOf(fd)
	off, err := r.PageAt(1)
	if err != nil || off == 0 || !bytes.Equal(mf.Bytes(off, 4), []byte("6789")) {
		t.Errorf("PageAt(1) %#x %v", off, err)
	}
	if off, _ := r.PageAt(1); mf.RefCount(off) != 1 {
		t.Errorf("page refcount %d", mf.RefCount(off))
	}
	if off, ok := r.PeekPage(1); !ok || off == 0 {
		t.Errorf("PeekPage(1) %#x %v", off, ok)
	}
	if off, err := r.PageAt(2); off != 0 || err != unix.EFAULT {
		t.Errorf("PageAt past the end %#x %v, want EFAULT", off, err)
	}
	if err := r.Allocate(5<<12, 1); err != nil {
		t.Errorf("Allocate(page 5) %v", err)
	}
	if _, ok := r.PeekPage(5); ok {
		t.Errorf("PeekPage past the end found a page")
	}
	// ftruncate needs a writable description, and a non-negative size.
	ro, _ := v.OpenAt(ctx, at, "f", unix.O_RDONLY, 0)
	if err := ro.Truncate(ctx, 0); err != unix.EINVAL {
		t.Errorf("ftruncate on O_RDONLY %v", err)
	}
	ro.DecRef()
	if err := v.TruncateAt(ctx, at, "f", 0); err != nil {
		t.Fatal(err)
	}
	if err := v.TruncateAt(ctx, at, "/", 0); err != unix.EISDIR {
		t.Errorf("truncate dir %v", err)
	}
	if r.Size() != 0 {
		t.Errorf("size after truncate %d", r.Size())
	}
}

func TestTimestampsAndSizes(t *testing.T) {
	v, at, _ := setup(t, tmpfs.Options{})
	ctx := vfstest.Root()
	if err := v.MkdirAt(ctx, at, "d", 0o755); err != nil {
		t.Fatal(err)
	}
	d0, _ := v.StatAt(ctx, at, "d", 0)
	if d0.Size != 40 || d0.Nlink != 2 || d0.Blocks != 0 {
		t.Errorf("empty dir size %d nlink %d", d0.Size, d0.Nlink)
	}
	past := [2]unix.Timespec{{Sec: 100}, {Sec: 100}}
	v.UtimensAt(ctx, at, "d", &past, 0)
	fd, err := v.OpenAt(ctx, at, "d/f", unix.O_CREAT|unix.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := v.StatAt(ctx, at, "d", 0)
	if d1.Mtime.Sec <= 100 || d1.Size != 60 {
		t.Errorf("dir after create: mtime %d size %d", d1.Mtime.Sec, d1.Size)
	}
	v.UtimensAt(ctx, at, "d/f", &past, 0)
	fd.Write(ctx, []byte("x"))
	f1, _ := fd.Stat(ctx)
	if f1.Mtime.Sec <= 100 || f1.Ctime.Sec <= 100 || f1.Atime.Sec != 100 {
		t.Errorf("after write: a %d m %d c %d", f1.Atime.Sec, f1.Mtime.Sec, f1.Ctime.Sec)
	}
	fd.PRead(ctx, make([]byte, 1), 0)
	f2, _ := fd.Stat(ctx)
	if f2.Atime.Sec <= 100 {
		t.Errorf("read did not update an old atime (relatime)")
	}
	fd.DecRef()
	if l := "target"; v.SymlinkAt(ctx, l, at, "d/l") == nil {
		st, _ := v.StatAt(ctx, at, "d/l", unix.AT_SYMLINK_NOFOLLOW)
		if st.Size != int64(len(l)) || st.Mode&0o777 != 0o777 {
			t.Errorf("symlink size %d mode %#o", st.Size, st.Mode)
		}
	}
	sf, _ := v.StatfsAt(ctx, at, "/")
	if sf.Type != unix.TMPFS_MAGIC || sf.Bsize != 4096 || sf.Namelen != 255 || sf.Blocks != (16<<20)/4096 {
		t.Errorf("statfs %+v", sf)
	}
}

func TestInodeLimit(t *testing.T) {
	v, at, _ := setup(t, tmpfs.Options{MaxInodes: 3})
	ctx := vfstest.Root()
	var err error
	for i := 0; i < 5 && err == nil; i++ {
		err = v.MkdirAt(ctx, at, string(rune('a'+i)), 0o755)
	}
	if err != unix.ENOSPC {
		t.Errorf("inode limit: %v", err)
	}
}

func TestParseOptions(t *testing.T) {
	cases := []struct {
		in   string
		want tmpfs.Options
		bad  bool
	}{
		{"", tmpfs.Options{}, false},
		{"size=64m,mode=1777", tmpfs.Options{MaxBytes: 64 << 20, RootMode: 0o1777}, false},
		{"size=10k,nr_inodes=2k,uid=5,gid=6", tmpfs.Options{MaxBytes: 10 << 10, MaxInodes: 2048, RootUID: 5, RootGID: 6}, false},
		{"mode=999", tmpfs.Options{}, true},
		{"size=-1", tmpfs.Options{}, true},
		{"bogus", tmpfs.Options{}, true},
	}
	for _, c := range cases {
		got, err := tmpfs.ParseOptions(c.in)
		if (err != nil) != c.bad || (!c.bad && got != c.want) {
			t.Errorf("ParseOptions(%q) = %+v, %v", c.in, got, err)
		}
	}
}

// TestSeekHugeSparse: SEEK_DATA and SEEK_HOLE on a file of 2^50 bytes
// with a few pages answer from the pages that exist; walking the 2^38
// empty slots under the file's lock took uk minutes.
func TestSeekHugeSparse(t *testing.T) {
	v, at, _ := setup(t, tmpfs.Options{})
	ctx := vfstest.Root()
	fd, err := v.OpenAt(ctx, at, "huge", unix.O_RDWR|unix.O_CREAT, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	const huge = int64(1) << 50
	if err := fd.Truncate(ctx, huge); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := fd.Seek(ctx, 0, unix.SEEK_DATA); err != unix.ENXIO {
		t.Errorf("SEEK_DATA in an empty huge file: %v, want ENXIO", err)
	}
	if off, err := fd.Seek(ctx, 12345, unix.SEEK_HOLE); off != 12345 || err != nil {
		t.Errorf("SEEK_HOLE = %d, %v; want 12345", off, err)
	}
	// Pages near the end and in the middle.
	for _, off := range []int64{huge - 10, huge / 2, huge/2 + 4096, 3 * 4096} {
		if _, err := fd.PWrite(ctx, []byte("x"), off); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		off, want int64
		whence    int
	}{
		{0, 3 * 4096, unix.SEEK_DATA},
		{3*4096 + 7, 3*4096 + 7, unix.SEEK_DATA},
		{4 * 4096, huge / 2, unix.SEEK_DATA},
		{huge/2 + 100, huge/2 + 100, unix.SEEK_DATA},
		{huge/2 + 5000, huge/2 + 5000, unix.SEEK_DATA},
		{huge/2 + 8192, huge - 4096, unix.SEEK_DATA},
		{huge / 2, huge/2 + 8192, unix.SEEK_HOLE},
		{huge - 4096, huge, unix.SEEK_HOLE},
		{3 * 4096, 4 * 4096, unix.SEEK_HOLE},
	} {
		if got, err := fd.Seek(ctx, c.off, c.whence); got != c.want || err != nil {
			t.Errorf("Seek(%d, %d) = %d, %v; want %d", c.off, c.whence, got, err, c.want)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("seeks in a huge sparse file took %v", d)
	}
}

// TestFallocateBounded: fallocate of a length larger than the whole
// filesystem fails at once with ENOSPC instead of allocating page by
// page until the filesystem is full; a fitting one allocates.
func TestFallocateBounded(t *testing.T) {
	v, at, _ := setup(t, tmpfs.Options{MaxBytes: 1 << 20})
	ctx := vfstest.Root()
	fd, err := v.OpenAt(ctx, at, "f", unix.O_RDWR|unix.O_CREAT, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	r := tmpfs.RegularOf(fd)
	start := time.Now()
	if err := r.Allocate(0, 1<<50); err != unix.ENOSPC {
		t.Errorf("Allocate(2^50) = %v, want ENOSPC", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusing a huge fallocate took %v", d)
	}
	if err := r.Allocate(4096, 64<<10); err != nil {
		t.Fatal(err)
	}
	if st, _ := fd.Stat(ctx); st.Blocks != 16*8 || st.Size != 0 {
		t.Errorf("after fallocate: blocks %d size %d, want 128 and 0", st.Blocks, st.Size)
	}
	// What does not fit fails with ENOSPC (after filling what fits).
	if err := r.Allocate(1<<20, 1<<20-4096); err != unix.ENOSPC {
		t.Errorf("Allocate past the filesystem's free space = %v, want ENOSPC", err)
	}
}
