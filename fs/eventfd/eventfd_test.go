package eventfd

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
)

func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func newEFD(t *testing.T, init uint32, flags int) *vfs.FileDescription {
	t.Helper()
	fd, err := New(init, flags)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fd.DecRef)
	return fd
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		flags    int
		err      error
		nonblock bool
	}{
		{0, nil, false},
		{unix.EFD_SEMAPHORE, nil, false},
		{unix.EFD_NONBLOCK | unix.EFD_CLOEXEC, nil, true},
		{unix.O_APPEND, unix.EINVAL, false},
		{1 << 30, unix.EINVAL, false},
	} {
		fd, err := New(0, tc.flags)
		if err != tc.err {
			t.Errorf("flags %#x: %v, want %v", tc.flags, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if !fd.Readable() || !fd.Writable() || fd.NonBlocking() != tc.nonblock {
			t.Errorf("flags %#x: status %#x", tc.flags, fd.StatusFlags())
		}
		if Of(fd).Semaphore() != (tc.flags&unix.EFD_SEMAPHORE != 0) {
			t.Errorf("flags %#x: semaphore %v", tc.flags, Of(fd).Semaphore())
		}
		fd.DecRef()
	}
}

func TestCounter(t *testing.T) {
	ctx := vfstest.Root()
	fd := newEFD(t, 5, unix.EFD_NONBLOCK)
	if v, err := vfstest.ReadCount(t, ctx, fd); v != 5 || err != nil {
		t.Fatalf("initial value: %d, %v", v, err)
	}
	if _, err := vfstest.ReadCount(t, ctx, fd); err != unix.EAGAIN {
		t.Fatalf("read at 0: %v", err)
	}
	for _, v := range []uint64{1, 2, 3} {
		if n, err := fd.Write(ctx, u64(v)); n != 8 || err != nil {
			t.Fatalf("write %d: %d, %v", v, n, err)
		}
	}
	if Of(fd).Value() != 6 {
		t.Fatalf("Value %d", Of(fd).Value())
	}
	if v, _ := vfstest.ReadCount(t, ctx, fd); v != 6 {
		t.Fatalf("sum %d", v)
	}
}

func TestSemaphore(t *testing.T) {
	ctx := vfstest.Root()
	fd := newEFD(t, 3, unix.EFD_SEMAPHORE|unix.EFD_NONBLOCK)
	for i := range 3 {
		if v, err := vfstest.ReadCount(t, ctx, fd); v != 1 || err != nil {
			t.Fatalf("read %d: %d, %v", i, v, err)
		}
	}
	if _, err := vfstest.ReadCount(t, ctx, fd); err != unix.EAGAIN {
		t.Fatalf("after 3 reads: %v", err)
	}
}

func TestSizesAndLimits(t *testing.T) {
	ctx := vfstest.Root()
	fd := newEFD(t, 0, unix.EFD_NONBLOCK)
	for _, tc := range []struct {
		name string
		op   func() (int, error)
		n    int
		err  error
	}{
		{"short read", func() (int, error) { return fd.Read(ctx, make([]byte, 7)) }, 0, unix.EINVAL},
		{"short write", func() (int, error) { return fd.Write(ctx, make([]byte, 4)) }, 0, unix.EINVAL},
		{"write 2^64-1", func() (int, error) { return fd.Write(ctx, u64(^uint64(0))) }, 0, unix.EINVAL},
		{"write Max", func() (int, error) { return fd.Write(ctx, u64(Max)) }, 8, nil},
		{"overflow", func() (int, error) { return fd.Write(ctx, u64(1)) }, 0, unix.EAGAIN},
		{"write 0 at Max", func() (int, error) { return fd.Write(ctx, u64(0)) }, 8, nil},
		{"long read", func() (int, error) { return fd.Read(ctx, make([]byte, 16)) }, 8, nil},
		{"long write", func() (int, error) { return fd.Write(ctx, append(u64(7), 1, 2, 3)) }, 8, nil},
	} {
		n, err := tc.op()
		if n != tc.n || err != tc.err {
			t.Errorf("%s: %d, %v; want %d, %v", tc.name, n, err, tc.n, tc.err)
		}
	}
	if Of(fd).Value() != 7 {
		t.Errorf("value %d", Of(fd).Value())
	}
}

func TestReadiness(t *testing.T) {
	const all = vfs.EventMask(0xffff)
	ctx := vfstest.Root()
	fd := newEFD(t, 0, unix.EFD_NONBLOCK)
	if got := fd.Readiness(all); got != vfs.EventOut {
		t.Errorf("at 0: %#x", got)
	}
	fd.Write(ctx, u64(Max))
	if got := fd.Readiness(all); got != vfs.EventIn {
		t.Errorf("at Max: %#x", got)
	}
	Of(fd).Signal(10)
	if got := fd.Readiness(all); got != vfs.EventIn|vfs.EventErr {
		t.Errorf("saturated: %#x", got)
	}
	if Of(fd).Value() != ^uint64(0) {
		t.Errorf("Signal did not saturate: %#x", Of(fd).Value())
	}
}

func TestBlocking(t *testing.T) {
	fd := newEFD(t, 0, 0)
	got := make(chan uint64)
	go func() {
		v, err := vfstest.ReadCount(t, vfstest.Root(), fd)
		if err != nil {
			t.Error(err)
		}
		got <- v
	}()
	time.Sleep(10 * time.Millisecond)
	fd.Write(vfstest.Root(), u64(42))
	if v := <-got; v != 42 {
		t.Fatalf("woken read got %d", v)
	}
	// A write that would overflow waits for a read.
	fd.Write(vfstest.Root(), u64(Max))
	done := make(chan error)
	go func() {
		_, err := fd.Write(vfstest.Root(), u64(5))
		done <- err
	}()
	select {
	case <-done:
		t.Fatal("overflowing write did not wait")
	case <-time.After(10 * time.Millisecond):
	}
	if v, _ := vfstest.ReadCount(t, vfstest.Root(), fd); v != Max {
		t.Fatalf("read %d", v)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, _ := vfstest.ReadCount(t, vfstest.Root(), fd); v != 5 {
		t.Fatalf("read %d after blocked write", v)
	}
}

func TestInterrupted(t *testing.T) {
	ctx := vfstest.Root()
	close(ctx.Interrupt)
	fd := newEFD(t, 0, 0)
	if _, err := vfstest.ReadCount(t, ctx, fd); err != unix.EINTR {
		t.Fatalf("read: %v", err)
	}
	fd.Write(ctx, u64(Max))
	if _, err := fd.Write(ctx, u64(1)); err != unix.EINTR {
		t.Fatalf("write: %v", err)
	}
}

func TestStatAndFree(t *testing.T) {
	fd, _ := New(0, 0)
	st, err := fd.Stat(vfstest.Root())
	if err != nil || st.Mode != 0o600 || st.Dev != AnonDev || st.Ino != AnonIno {
		t.Fatalf("stat %+v, %v", st, err)
	}
	var got vfs.EventMask
	fd.EventRegister(&vfs.Waiter{Mask: eventFree, Callback: func(m vfs.EventMask) { got |= m }})
	fd.DecRef()
	if got != eventFree {
		t.Fatalf("release told %#x", got)
	}
}
