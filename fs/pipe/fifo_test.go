package pipe

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/kernel/memfile"
)

func openFIFO(t *testing.T, f *FIFO, ctx vfs.Context, flags uint32) (*vfs.FileDescription, error) {
	t.Helper()
	impl, opts, err := f.Open(ctx, flags)
	if err != nil {
		return nil, err
	}
	return vfs.NewFileDescription(impl, flags, vfs.Path{}, opts), nil
}

func TestFIFONonblockingOpens(t *testing.T) {
	ctx := vfstest.Root()
	f := NewFIFO()
	if _, err := openFIFO(t, f, ctx, unix.O_WRONLY|unix.O_NONBLOCK); err != unix.ENXIO {
		t.Fatalf("O_WRONLY|O_NONBLOCK without reader: %v", err)
	}
	r, err := openFIFO(t, f, ctx, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	// No writer has ever come: EOF on read, but no POLLHUP yet.
	if n, err := r.Read(ctx, make([]byte, 1)); n != 0 || err != nil {
		t.Fatalf("read with no writer: %d, %v", n, err)
	}
	if got := r.Readiness(0xffff); got != 0 {
		t.Fatalf("reader before any writer: %#x", got)
	}
	w, err := openFIFO(t, f, ctx, unix.O_WRONLY|unix.O_NONBLOCK)
	if err != nil {
		t.Fatalf("writer with reader present: %v", err)
	}
	mustWrite(t, w, []byte("hi"))
	if _, err := r.Read(ctx, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(ctx, make([]byte, 10)); err != unix.EAGAIN {
		t.Fatalf("empty read with a writer: %v", err)
	}
	w.DecRef()
	if got := r.Readiness(0xffff); got != vfs.EventHUp {
		t.Fatalf("reader after the writer left: %#x", got)
	}
	r.DecRef()
	if _, err := openFIFO(t, f, ctx, unix.O_ACCMODE); err != unix.EINVAL {
		t.Fatalf("O_ACCMODE: %v", err)
	}
}

func TestFIFOBlockingOpensMeet(t *testing.T) {
	f := NewFIFO()
	type res struct {
		fd  *vfs.FileDescription
		err error
	}
	rc := make(chan res)
	go func() {
		fd, err := openFIFO(t, f, vfstest.Root(), unix.O_RDONLY)
		rc <- res{fd, err}
	}()
	select {
	case <-rc:
		t.Fatal("reader open did not wait for a writer")
	case <-time.After(20 * time.Millisecond):
	}
	w, err := openFIFO(t, f, vfstest.Root(), unix.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	r := <-rc
	if r.err != nil {
		t.Fatal(r.err)
	}
	mustWrite(t, w, []byte("data"))
	buf := make([]byte, 10)
	if n, _ := r.fd.Read(vfstest.Root(), buf); string(buf[:n]) != "data" {
		t.Fatalf("read %q", buf[:n])
	}
	w.DecRef()
	r.fd.DecRef()

	// And a writer waits for a reader.
	wc := make(chan res)
	go func() {
		fd, err := openFIFO(t, f, vfstest.Root(), unix.O_WRONLY)
		wc <- res{fd, err}
	}()
	time.Sleep(10 * time.Millisecond)
	rd, err := openFIFO(t, f, vfstest.Root(), unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	wr := <-wc
	if wr.err != nil {
		t.Fatal(wr.err)
	}
	wr.fd.DecRef()
	rd.DecRef()
}

func TestFIFOOpenInterrupted(t *testing.T) {
	f := NewFIFO()
	if _, err := openFIFO(t, f, interrupted(), unix.O_RDONLY); err != unix.EINTR {
		t.Fatalf("interrupted reader open: %v", err)
	}
	if _, err := openFIFO(t, f, interrupted(), unix.O_WRONLY); err != unix.EINTR {
		t.Fatalf("interrupted writer open: %v", err)
	}
	// The failed opens left no reader or writer behind.
	if _, err := openFIFO(t, f, vfstest.Root(), unix.O_WRONLY|unix.O_NONBLOCK); err != unix.ENXIO {
		t.Fatalf("reader count leaked: %v", err)
	}
	if !f.p.idle() {
		t.Fatalf("FIFO not idle after failed opens")
	}
}

func TestFIFORDWRAndReset(t *testing.T) {
	ctx := vfstest.Root()
	f := NewFIFO()
	rw, err := openFIFO(t, f, ctx, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Pipe().SetSize(ctx, PageSize); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, rw, []byte("self"))
	if got := rw.Readiness(0xffff); got != readEvents {
		t.Fatalf("O_RDWR end with data in a one-slot pipe: %#x", got)
	}
	rw.DecRef()
	// The last close dropped the contents and the size.
	r, _ := openFIFO(t, f, ctx, unix.O_RDONLY|unix.O_NONBLOCK)
	defer r.DecRef()
	if n, err := r.Read(ctx, make([]byte, 10)); n != 0 || err != nil {
		t.Fatalf("data survived the last close: %d, %v", n, err)
	}
	if f.Pipe().GetSize() != DefaultSize {
		t.Fatalf("size survived the last close: %d", f.Pipe().GetSize())
	}
}

// TestFIFORegistryOnTmpfs opens a FIFO node through the VFS, under two
// names (a hard link), with the registry installed as OpenFIFO.
func TestFIFORegistryOnTmpfs(t *testing.T) {
	mf, err := memfile.New(16 << 20)
	if err != nil {
		t.Fatalf("memfile: %v", err)
	}
	defer mf.Close()
	v := vfs.New()
	root := v.MountRoot(tmpfs.New(mf, tmpfs.Options{RootMode: 0o777}), "tmpfs", "rootfs", 0)
	reg := NewFIFORegistry()
	v.OpenFIFO = reg.Open
	at := vfs.NewFSContext(root).At(vfs.Path{})
	ctx := vfstest.User(1000, 1000)
	if err := v.MknodAt(ctx, at, "/fifo", unix.S_IFIFO|0o644, 0); err != nil {
		t.Fatal(err)
	}
	if err := v.LinkAt(ctx, at, "/fifo", at, "/link", 0); err != nil {
		t.Fatal(err)
	}
	r, err := v.OpenAt(ctx, at, "/fifo", unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	w, err := v.OpenAt(ctx, at, "/link", unix.O_WRONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("writer through the other name: %v", err)
	}
	if reg.Len() != 1 {
		t.Fatalf("registry has %d FIFOs", reg.Len())
	}
	mustWrite(t, w, []byte("linked"))
	buf := make([]byte, 10)
	if n, _ := r.Read(ctx, buf); string(buf[:n]) != "linked" {
		t.Fatalf("read %q", buf[:n])
	}
	st, err := r.Stat(ctx)
	if err != nil || st.Mode != unix.S_IFIFO|0o644 || st.UID != 1000 {
		t.Fatalf("stat of an opened FIFO node: %+v, %v", st, err)
	}
	r.DecRef()
	w.DecRef()
	if reg.Len() != 0 {
		t.Fatalf("registry kept an idle FIFO")
	}
}
