package pipe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

func newPipe2(t *testing.T, flags int) (r, w *vfs.FileDescription) {
	t.Helper()
	r, w, err := New(vfstest.Root(), flags)
	if err != nil {
		t.Fatal(err)
	}
	return r, w
}

// interrupted returns a context whose Block fails at once with EINTR, as a
// task with a signal pending.
func interrupted() *vfstest.Ctx {
	c := vfstest.Root()
	close(c.Interrupt)
	return c
}

func mustWrite(t *testing.T, fd *vfs.FileDescription, b []byte) {
	t.Helper()
	n, err := fd.Write(vfstest.Root(), b)
	if err != nil || n != len(b) {
		t.Fatalf("write %d bytes: %d, %v", len(b), n, err)
	}
}

func TestNewFlags(t *testing.T) {
	for _, tc := range []struct {
		flags int
		err   error
	}{
		{0, nil},
		{unix.O_NONBLOCK | unix.O_CLOEXEC, nil},
		{unix.O_DIRECT, nil},
		{unix.O_APPEND, unix.EINVAL},
		{unix.O_RDWR, unix.EINVAL},
	} {
		r, w, err := New(vfstest.Root(), tc.flags)
		if err != tc.err {
			t.Errorf("flags %#x: err %v, want %v", tc.flags, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if !r.Readable() || r.Writable() || w.Readable() || !w.Writable() {
			t.Errorf("flags %#x: access modes r=%#x w=%#x", tc.flags, r.StatusFlags(), w.StatusFlags())
		}
		if want := tc.flags&unix.O_NONBLOCK != 0; r.NonBlocking() != want || w.NonBlocking() != want {
			t.Errorf("flags %#x: nonblocking r=%v w=%v", tc.flags, r.NonBlocking(), w.NonBlocking())
		}
		if r.StatusFlags()&unix.O_CLOEXEC != 0 {
			t.Errorf("O_CLOEXEC leaked into status flags")
		}
		r.DecRef()
		w.DecRef()
	}
}

func TestReadWriteEOF(t *testing.T) {
	ctx := vfstest.Root()
	r, w := newPipe2(t, 0)
	mustWrite(t, w, []byte("hello "))
	mustWrite(t, w, []byte("world"))
	buf := make([]byte, 100)
	n, err := r.Read(ctx, buf)
	if err != nil || string(buf[:n]) != "hello world" {
		t.Fatalf("read: %q, %v", buf[:n], err)
	}
	mustWrite(t, w, []byte("abc"))
	n, _ = r.Read(ctx, buf[:2])
	if string(buf[:n]) != "ab" {
		t.Fatalf("short read: %q", buf[:n])
	}
	if n, err := r.Read(ctx, nil); n != 0 || err != nil {
		t.Fatalf("zero-length read: %d, %v", n, err)
	}
	w.DecRef()
	// Buffered data is still read after the writer is gone, then EOF.
	n, err = r.Read(ctx, buf)
	if err != nil || string(buf[:n]) != "c" {
		t.Fatalf("read after close: %q, %v", buf[:n], err)
	}
	for range 2 {
		if n, err := r.Read(ctx, buf); n != 0 || err != nil {
			t.Fatalf("EOF read: %d, %v", n, err)
		}
	}
	r.DecRef()
}

func TestWrongEnd(t *testing.T) {
	ctx := vfstest.Root()
	r, w := newPipe2(t, 0)
	defer r.DecRef()
	defer w.DecRef()
	if _, err := r.Write(ctx, []byte("x")); err != unix.EBADF {
		t.Errorf("write to read end: %v", err)
	}
	if _, err := w.Read(ctx, make([]byte, 1)); err != unix.EBADF {
		t.Errorf("read from write end: %v", err)
	}
	if _, err := r.Seek(ctx, 0, unix.SEEK_CUR); err != unix.ESPIPE {
		t.Errorf("lseek: %v", err)
	}
	if _, err := r.PRead(ctx, make([]byte, 1), 0); err != unix.ESPIPE {
		t.Errorf("pread: %v", err)
	}
}

func TestNonblocking(t *testing.T) {
	ctx := vfstest.Root()
	r, w := newPipe2(t, unix.O_NONBLOCK)
	defer r.DecRef()
	defer w.DecRef()
	if _, err := r.Read(ctx, make([]byte, 10)); err != unix.EAGAIN {
		t.Fatalf("empty nonblocking read: %v", err)
	}
	// One-byte writes merge: the pipe takes exactly DefaultSize of them.
	total := 0
	for {
		n, err := w.Write(ctx, []byte{byte(total)})
		if err == unix.EAGAIN {
			break
		}
		if err != nil || n != 1 {
			t.Fatalf("write %d: %d, %v", total, n, err)
		}
		total++
	}
	if total != DefaultSize {
		t.Fatalf("pipe took %d one-byte writes, want %d", total, DefaultSize)
	}
	// Drain one page: a big nonblocking write fills just that page.
	big := make([]byte, 3*PageSize)
	if n, _ := r.Read(ctx, big[:PageSize]); n != PageSize {
		t.Fatalf("read %d", n)
	}
	if n, err := w.Write(ctx, big); n != PageSize || err != nil {
		t.Fatalf("partial nonblocking write: %d, %v", n, err)
	}
	if n, err := w.Write(ctx, big); n != 0 || err != unix.EAGAIN {
		t.Fatalf("write into full pipe: %d, %v", n, err)
	}
}

func TestLargeNonblockingWriteIsPartial(t *testing.T) {
	ctx := vfstest.Root()
	r, w := newPipe2(t, unix.O_NONBLOCK)
	defer r.DecRef()
	defer w.DecRef()
	n, err := w.Write(ctx, make([]byte, 100000))
	if err != nil || n != DefaultSize {
		t.Fatalf("write 100000: %d, %v", n, err)
	}
}

// TestAtomicWrites runs concurrent writers of PipeBuf-sized and small
// records through a small pipe: every record must arrive contiguous.
func TestAtomicWrites(t *testing.T) {
	for _, size := range []int{PipeBuf, 100, 1} {
		r, w := newPipe2(t, 0)
		if _, err := Of(r).SetSize(vfstest.Root(), 2*PageSize); err != nil {
			t.Fatal(err)
		}
		const writers, records = 4, 50
		var wg sync.WaitGroup
		for id := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec := bytes.Repeat([]byte{byte('A' + id)}, size)
				for range records {
					if n, err := w.Write(vfstest.Root(), rec); n != size || err != nil {
						t.Errorf("writer %d: %d, %v", id, n, err)
						return
					}
				}
			}()
		}
		go func() { wg.Wait(); w.DecRef() }()
		var got []byte
		buf := make([]byte, 3000) // reads not aligned with records
		for {
			n, err := r.Read(vfstest.Root(), buf)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			got = append(got, buf[:n]...)
		}
		r.DecRef()
		if len(got) != writers*records*size {
			t.Fatalf("size %d: read %d bytes, want %d", size, len(got), writers*records*size)
		}
		count := map[byte]int{}
		for i := 0; i < len(got); i += size {
			rec := got[i : i+size]
			if bytes.Count(rec, rec[:1]) != size {
				t.Fatalf("size %d: record at %d interleaved: %q...", size, i, rec[:min(len(rec), 40)])
			}
			count[rec[0]]++
		}
		for id := range writers {
			if count[byte('A'+id)] != records {
				t.Errorf("size %d: writer %d has %d records", size, id, count[byte('A'+id)])
			}
		}
	}
}

func TestBlockingReadWakesOnWrite(t *testing.T) {
	r, w := newPipe2(t, 0)
	defer r.DecRef()
	defer w.DecRef()
	done := make(chan string)
	go func() {
		buf := make([]byte, 10)
		n, err := r.Read(vfstest.Root(), buf)
		if err != nil {
			done <- err.Error()
			return
		}
		done <- string(buf[:n])
	}()
	time.Sleep(10 * time.Millisecond)
	mustWrite(t, w, []byte("ping"))
	if got := <-done; got != "ping" {
		t.Fatalf("got %q", got)
	}
}

func TestBlockingReadWakesOnClose(t *testing.T) {
	r, w := newPipe2(t, 0)
	defer r.DecRef()
	done := make(chan error)
	go func() {
		n, err := r.Read(vfstest.Root(), make([]byte, 10))
		if n != 0 {
			err = errors.New("data from nowhere")
		}
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	w.DecRef()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestBlockingWriteWaitsForRoom(t *testing.T) {
	ctx := vfstest.Root()
	r, w := newPipe2(t, 0)
	defer r.DecRef()
	defer w.DecRef()
	const size = 3*DefaultSize + 123
	done := make(chan error)
	go func() {
		n, err := w.Write(vfstest.Root(), bytes.Repeat([]byte("x"), size))
		if err == nil && n != size {
			err = errors.New("short write")
		}
		done <- err
	}()
	got := 0
	buf := make([]byte, 5000)
	for got < size {
		n, err := r.Read(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestEPIPE(t *testing.T) {
	ctx := vfstest.Root()
	r, w := newPipe2(t, 0)
	defer w.DecRef()
	r.DecRef()
	if n, err := w.Write(ctx, []byte("x")); n != 0 || err != unix.EPIPE {
		t.Fatalf("write without reader: %d, %v", n, err)
	}
	if n, err := w.Write(ctx, nil); n != 0 || err != nil {
		t.Fatalf("empty write without reader: %d, %v", n, err)
	}
}

func TestEPIPEWhileBlocked(t *testing.T) {
	r, w := newPipe2(t, 0)
	defer w.DecRef()
	done := make(chan struct {
		n   int
		err error
	})
	go func() {
		n, err := w.Write(vfstest.Root(), make([]byte, DefaultSize+PageSize))
		done <- struct {
			n   int
			err error
		}{n, err}
	}()
	time.Sleep(10 * time.Millisecond)
	r.DecRef()
	res := <-done
	if res.n != DefaultSize || res.err != unix.EPIPE {
		t.Fatalf("write when reader left: %d, %v (want %d, EPIPE)", res.n, res.err, DefaultSize)
	}
}

func TestInterruptedBlocking(t *testing.T) {
	ctx := interrupted()
	r, w := newPipe2(t, 0)
	defer r.DecRef()
	defer w.DecRef()
	if n, err := r.Read(ctx, make([]byte, 1)); n != 0 || err != unix.EINTR {
		t.Fatalf("interrupted read: %d, %v", n, err)
	}
	// A big write that gets some bytes in reports them, not the signal.
	if n, err := w.Write(ctx, make([]byte, DefaultSize+1)); n != DefaultSize || err != nil {
		t.Fatalf("interrupted partial write: %d, %v", n, err)
	}
	if n, err := w.Write(ctx, []byte("x")); n != 0 || err != unix.EINTR {
		t.Fatalf("interrupted write into full pipe: %d, %v", n, err)
	}
}

// TestBlockErrorPropagates checks that whatever Block returns (here the
// kernel-internal ERESTARTSYS) comes back unchanged.
func TestBlockErrorPropagates(t *testing.T) {
	r, w := newPipe2(t, 0)
	defer r.DecRef()
	defer w.DecRef()
	ctx := &errCtx{Ctx: vfstest.Root(), err: unix.Errno(512)}
	if _, err := r.Read(ctx, make([]byte, 1)); err != unix.Errno(512) {
		t.Fatalf("read: %v", err)
	}
}

type errCtx struct {
	*vfstest.Ctx
	err error
}

func (c *errCtx) Block(<-chan struct{}) error { return c.err }

func TestSetSize(t *testing.T) {
	root := vfstest.Root()
	user := vfstest.User(1000, 1000)
	for _, tc := range []struct {
		size uint64
		ctx  vfs.Context
		want int64
		err  error
	}{
		{0, user, PageSize, nil},
		{1, user, PageSize, nil},
		{4096, user, 4096, nil},
		{4097, user, 8192, nil},
		{5000, user, 8192, nil},
		{65536, user, 65536, nil},
		{100000, user, 131072, nil},
		{MaxSize, user, MaxSize, nil},
		{MaxSize + 1, user, 0, unix.EPERM},
		{MaxSize + 1, root, 2 * MaxSize, nil},
		{1<<31 + 1, root, 0, unix.EINVAL},
		{1<<32 + 4096, user, 4096, nil}, // fcntl's argument is an unsigned int
	} {
		r, w := newPipe2(t, 0)
		p := Of(r)
		got, err := p.SetSize(tc.ctx, tc.size)
		if got != tc.want || err != tc.err {
			t.Errorf("SetSize(%d): %d, %v; want %d, %v", tc.size, got, err, tc.want, tc.err)
		}
		if err == nil && p.GetSize() != tc.want {
			t.Errorf("GetSize after SetSize(%d) = %d", tc.size, p.GetSize())
		}
		r.DecRef()
		w.DecRef()
	}
}

func TestSetSizeBusyAndKeepsData(t *testing.T) {
	ctx := vfstest.Root()
	r, w := newPipe2(t, unix.O_NONBLOCK)
	defer r.DecRef()
	defer w.DecRef()
	p := Of(w)
	if p.GetSize() != DefaultSize {
		t.Fatalf("default size %d", p.GetSize())
	}
	data := make([]byte, 3*PageSize)
	for i := range data {
		data[i] = byte(i * 7)
	}
	mustWrite(t, w, data)
	if _, err := p.SetSize(ctx, 2*PageSize); err != unix.EBUSY {
		t.Fatalf("shrink below contents: %v", err)
	}
	// Read a little so the ring does not start at slot 0, then resize.
	head := make([]byte, 100)
	r.Read(ctx, head)
	if n, err := p.SetSize(ctx, 4*PageSize); n != 4*PageSize || err != nil {
		t.Fatalf("shrink to 4 pages: %d, %v", n, err)
	}
	if n, err := w.Write(ctx, make([]byte, 2*PageSize)); n != PageSize || err != nil {
		t.Fatalf("write into 1 free slot: %d, %v", n, err)
	}
	rest := make([]byte, len(data))
	n, _ := r.Read(ctx, rest)
	if got := append(head, rest[:len(data)-100]...); !bytes.Equal(got, data) || n < len(data)-100 {
		t.Fatalf("data changed by resize")
	}
	if Of(vfs.NewFileDescription(vfs.FileBase{}, 0, vfs.Path{}, vfs.FileOptions{})) != nil {
		t.Fatalf("Of of a non-pipe")
	}
}

func TestFIONREAD(t *testing.T) {
	ctx := vfstest.Root()
	r, w := newPipe2(t, 0)
	defer r.DecRef()
	defer w.DecRef()
	mustWrite(t, w, make([]byte, 5000))
	mustWrite(t, w, make([]byte, 17))
	if _, err := r.Ioctl(ctx, vfs.IoctlFIONREAD, 0x1000); err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint32(ctx.Mem(0x1000, 4)); got != 5017 {
		t.Fatalf("FIONREAD = %d", got)
	}
	if _, err := w.Ioctl(ctx, vfs.IoctlFIONREAD, 0); err != unix.EFAULT {
		t.Fatalf("FIONREAD to NULL: %v", err)
	}
	if _, err := r.Ioctl(ctx, 0x5401, 0x1000); err != unix.ENOTTY {
		t.Fatalf("TCGETS: %v", err)
	}
}

func TestReadiness(t *testing.T) {
	ctx := vfstest.Root()
	const all = vfs.EventMask(0xffff)
	in, out := readEvents, writeEvents
	r, w := newPipe2(t, unix.O_NONBLOCK)
	check := func(what string, fd *vfs.FileDescription, want vfs.EventMask) {
		t.Helper()
		if got := fd.Readiness(all); got != want {
			t.Errorf("%s: readiness %#x, want %#x", what, got, want)
		}
	}
	check("fresh read end", r, 0)
	check("fresh write end", w, out)
	mustWrite(t, w, []byte("x"))
	check("read end with data", r, in)
	w.Write(ctx, make([]byte, DefaultSize))
	check("full write end", w, 0)
	w.DecRef()
	check("read end, data, no writer", r, in|vfs.EventHUp)
	for {
		if n, _ := r.Read(ctx, make([]byte, PageSize)); n == 0 {
			break
		}
	}
	check("read end, empty, no writer", r, vfs.EventHUp)
	if got := r.Readiness(vfs.EventIn); got != vfs.EventHUp {
		t.Errorf("HUP must be reported whatever the mask: %#x", got)
	}
	r.DecRef()

	r, w = newPipe2(t, 0)
	r.DecRef()
	check("write end, no reader", w, out|vfs.EventErr)
	w.DecRef()
}

func TestWaitersNotified(t *testing.T) {
	ctx := vfstest.Root()
	r, w := newPipe2(t, 0)
	defer r.DecRef()
	var mu sync.Mutex
	var rgot, wgot vfs.EventMask
	rw := &vfs.Waiter{Mask: 0xffff, Callback: func(m vfs.EventMask) { mu.Lock(); rgot |= m; mu.Unlock() }}
	ww := &vfs.Waiter{Mask: 0xffff, Callback: func(m vfs.EventMask) { mu.Lock(); wgot |= m; mu.Unlock() }}
	r.EventRegister(rw)
	w.EventRegister(ww)
	mustWrite(t, w, []byte("ab"))
	mustWrite(t, w, []byte("cd")) // every write notifies, for EPOLLET
	if rgot&vfs.EventIn == 0 || wgot != 0 {
		t.Fatalf("after write: reader %#x writer %#x", rgot, wgot)
	}
	rgot = 0
	r.Read(ctx, make([]byte, 1))
	if wgot&vfs.EventOut == 0 || rgot != 0 {
		t.Fatalf("after read: reader %#x writer %#x", rgot, wgot)
	}
	// Closing the write end wakes the reader and frees the writer's waiter.
	wgot = 0
	ww.Mask |= eventFree
	w.DecRef()
	if rgot&vfs.EventHUp == 0 {
		t.Fatalf("reader not told about HUP: %#x", rgot)
	}
	if wgot&eventFree == 0 {
		t.Fatalf("writer's waiter not freed: %#x", wgot)
	}
	r.EventUnregister(rw)
}

func TestStat(t *testing.T) {
	ctx := vfstest.User(1000, 100)
	r, w, err := New(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.DecRef()
	defer w.DecRef()
	rs, err := r.Stat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ws, _ := w.Stat(ctx)
	if rs.Mode != unix.S_IFIFO|0o600 || rs.Dev != Dev || rs.UID != 1000 || rs.GID != 100 ||
		rs.Nlink != 1 || rs.Blksize != ioBlksize || rs.Size != 0 {
		t.Fatalf("stat: %+v", rs)
	}
	if rs.Ino != ws.Ino || rs.Ino == 0 {
		t.Fatalf("ends have inodes %d and %d", rs.Ino, ws.Ino)
	}
	r2, w2 := newPipe2(t, 0)
	defer r2.DecRef()
	defer w2.DecRef()
	if s2, _ := r2.Stat(ctx); s2.Ino == rs.Ino {
		t.Fatalf("two pipes share inode %d", rs.Ino)
	}
	if name := r.Impl().(*File).Name(); name != "pipe:["+itoa(rs.Ino)+"]" {
		t.Fatalf("name %q", name)
	}
}

func itoa(n uint64) string {
	var b []byte
	for ; n > 0 || len(b) == 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestPacketMode(t *testing.T) {
	ctx := vfstest.Root()
	r, w := newPipe2(t, unix.O_DIRECT|unix.O_NONBLOCK)
	defer r.DecRef()
	defer w.DecRef()
	mustWrite(t, w, []byte("abc"))
	mustWrite(t, w, []byte("defgh"))
	mustWrite(t, w, []byte("ij"))
	buf := make([]byte, 100)
	n, _ := r.Read(ctx, buf)
	if string(buf[:n]) != "abc" {
		t.Fatalf("packet 1: %q", buf[:n])
	}
	n, _ = r.Read(ctx, buf[:2])
	if string(buf[:n]) != "de" {
		t.Fatalf("packet 2 truncated: %q", buf[:n])
	}
	n, _ = r.Read(ctx, buf)
	if string(buf[:n]) != "ij" {
		t.Fatalf("packet 3 (rest of packet 2 dropped): %q", buf[:n])
	}
	if _, err := r.Read(ctx, buf); err != unix.EAGAIN {
		t.Fatalf("empty: %v", err)
	}
	// Clearing O_DIRECT on the writer makes writes merge again.
	w.SetStatusFlags(unix.O_NONBLOCK)
	mustWrite(t, w, []byte("kl"))
	mustWrite(t, w, []byte("mn"))
	n, _ = r.Read(ctx, buf)
	if string(buf[:n]) != "klmn" {
		t.Fatalf("stream after packets: %q", buf[:n])
	}
}

// budgetCtx is a task whose sandbox has a memory budget of limit bytes.
type budgetCtx struct {
	*vfstest.Ctx
	b *vfstest.Budget
}

func (c budgetCtx) MemoryBudget() vfs.Charger { return c.b }

// TestPipeChargesBudget: a pipe's pages count against the sandbox's
// memory budget while they hold data; a write that finds the budget spent
// is short, or ENOMEM when nothing fit, as Linux's pipe_write when
// alloc_page fails; a huge ring is charged; closing gives everything back.
func TestPipeChargesBudget(t *testing.T) {
	b := &vfstest.Budget{Limit: 3 * PageSize}
	ctx := budgetCtx{vfstest.Root(), b}
	r, w, err := New(ctx, unix.O_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write(ctx, make([]byte, 5*PageSize)); n != 3*PageSize || err != nil {
		t.Fatalf("write past the budget = %d, %v; want a short write of 3 pages", n, err)
	}
	if n, err := w.Write(ctx, []byte("x")); n != 0 || err != unix.ENOMEM {
		t.Fatalf("write with the budget spent = %d, %v; want ENOMEM", n, err)
	}
	if b.Used() != 3*PageSize {
		t.Errorf("charged %d, want 3 pages", b.Used())
	}
	buf := make([]byte, PageSize)
	if n, _ := r.Read(ctx, buf); n != PageSize {
		t.Fatalf("read %d", n)
	}
	if b.Used() != 2*PageSize {
		t.Errorf("charged %d after reading a page, want 2 pages", b.Used())
	}
	// A ring of 2^19 slots (privileged F_SETPIPE_SZ) is charged: the
	// budget cannot cover it.
	if _, err := Of(w).SetSize(ctx, 1<<31); err != unix.ENOMEM {
		t.Errorf("F_SETPIPE_SZ 2 GiB with a small budget = %v, want ENOMEM", err)
	}
	b.Limit = 1 << 30
	if _, err := Of(w).SetSize(ctx, 1<<30); err != nil {
		t.Fatal(err)
	}
	if want := int64(2*PageSize) + ringCharge(1<<18); b.Used() != want {
		t.Errorf("charged %d with a 1 GiB ring, want %d", b.Used(), want)
	}
	r.DecRef()
	w.DecRef()
	if b.Used() != 0 {
		t.Errorf("charged %d after both ends closed, want 0", b.Used())
	}
}
