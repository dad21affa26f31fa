package dev

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/internal/testenv"
)

func pipe(t *testing.T) (r, w int) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

func TestHostStreamReadWrite(t *testing.T) {
	r, w := pipe(t)
	ctx := vfstest.Root()
	in := NewHostStream(r, "stdin").NewDescription(unix.O_RDONLY)
	out := NewHostStream(w, "stdout").NewDescription(unix.O_WRONLY)
	if n, err := out.Write(ctx, []byte("hello")); n != 5 || err != nil {
		t.Fatalf("write %d %v", n, err)
	}
	buf := make([]byte, 16)
	if n, err := in.Read(ctx, buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q %v", buf[:n], err)
	}
	if _, err := in.Write(ctx, buf); err != unix.EBADF {
		t.Fatalf("write on O_RDONLY = %v", err)
	}
	if _, err := in.PRead(ctx, buf, 0); err != unix.ESPIPE {
		t.Fatalf("pread = %v", err)
	}
	if _, err := in.Seek(ctx, 0, unix.SEEK_SET); err != unix.ESPIPE {
		t.Fatalf("lseek = %v", err)
	}
	// A pipe is not a terminal.
	if _, err := in.Ioctl(ctx, ioctlTCGETS, 0x1000); err != unix.ENOTTY {
		t.Fatalf("TCGETS on pipe = %v", err)
	}
	st, err := in.Stat(ctx)
	if err != nil || st.Type() != unix.S_IFCHR || st.Rdev != unix.Mkdev(5, 1) {
		t.Fatalf("stat %+v %v", st, err)
	}
}

func TestHostStreamBlockingInterruptAndEOF(t *testing.T) {
	r, w := pipe(t)
	ctx := vfstest.Root()
	s := NewHostStream(r, "stdin")
	in := s.NewDescription(unix.O_RDONLY)
	// Nonblocking with nothing available.
	in.SetStatusFlags(unix.O_NONBLOCK)
	if _, err := in.Read(ctx, make([]byte, 4)); err != unix.EAGAIN {
		t.Fatalf("nonblocking read = %v", err)
	}
	in.SetStatusFlags(0)
	// A blocked read is interrupted.
	errc := make(chan error, 1)
	go func() { _, err := in.Read(ctx, make([]byte, 4)); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	close(ctx.Interrupt)
	if err := <-errc; err != unix.EINTR {
		t.Fatalf("interrupted read = %v", err)
	}
	// Poll readiness: a waiter is told when input arrives.
	wt, ch := vfs.NewChannelWaiter(vfs.EventIn)
	in.EventRegister(wt)
	defer in.EventUnregister(wt)
	// The request started by the interrupted read is still pending.
	unix.Write(w, []byte("abc"))
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
		t.Fatal("no readiness notification")
	}
	if in.Readiness(vfs.EventIn) == 0 {
		t.Fatal("not readable after data arrived")
	}
	ctx2 := vfstest.Root()
	buf := make([]byte, 8)
	if n, err := in.Read(ctx2, buf); err != nil || string(buf[:n]) != "abc" {
		t.Fatalf("read after interrupt %q %v", buf[:n], err)
	}
	unix.Close(w)
	if n, err := in.Read(ctx2, buf); n != 0 || err != nil {
		t.Fatalf("EOF read %d %v", n, err)
	}
}

func TestHostStreamEmulatedTerminal(t *testing.T) {
	r, _ := pipe(t)
	ctx := vfstest.Root()
	s := NewHostStream(r, "console")
	s.EmulateTerminal()
	fd := s.NewDescription(unix.O_RDWR)
	if _, err := fd.Ioctl(ctx, ioctlTCGETS, 0x1000); err != nil {
		t.Fatal(err)
	}
	got := ctx.Mem(0x1000, termiosSize)
	if binary.LittleEndian.Uint32(got[12:])&unix.ICANON == 0 {
		t.Fatal("default termios not canonical")
	}
	// Raw mode sticks.
	binary.LittleEndian.PutUint32(got[12:], 0)
	ctx.CopyOut(0x2000, got)
	if _, err := fd.Ioctl(ctx, ioctlTCSETS, 0x2000); err != nil {
		t.Fatal(err)
	}
	fd.Ioctl(ctx, ioctlTCGETS, 0x3000)
	if binary.LittleEndian.Uint32(ctx.Mem(0x3000, 16)[12:]) != 0 {
		t.Fatal("TCSETS not kept")
	}
	if _, err := fd.Ioctl(ctx, ioctlTIOCGWINSZ, 0x4000); err != nil {
		t.Fatal(err)
	}
	if rows := binary.LittleEndian.Uint16(ctx.Mem(0x4000, 2)); rows != 24 {
		t.Fatalf("rows %d", rows)
	}
	if _, err := fd.Ioctl(ctx, ioctlTIOCSCTTY, 1); err != nil {
		t.Fatalf("TIOCSCTTY = %v", err)
	}
	if _, err := fd.Ioctl(ctx, ioctlTCGETS, 0); err != unix.EFAULT {
		t.Fatalf("TCGETS bad address = %v", err)
	}
}

func TestHostStreamRealTerminal(t *testing.T) {
	// A pseudo-terminal from the host: TCGETS is answered by the host.
	ptm, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		testenv.Need(t, "a host pseudo-terminal (/dev/ptmx)", err.Error())
	}
	defer unix.Close(ptm)
	if err := unix.IoctlSetPointerInt(ptm, unix.TIOCSPTLCK, 0); err != nil {
		testenv.Need(t, "a host pseudo-terminal (unlockpt)", err.Error())
	}
	n, err := unix.IoctlGetInt(ptm, unix.TIOCGPTN)
	if err != nil {
		testenv.Need(t, "a host pseudo-terminal (ptsname)", err.Error())
	}
	pts, err := unix.Open("/dev/pts/"+itoa(n), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		testenv.Need(t, "a host pseudo-terminal (devpts)", err.Error())
	}
	defer unix.Close(pts)
	ctx := vfstest.Root()
	s := NewHostStream(pts, "tty")
	if !s.IsTerminal() {
		t.Fatal("pty not detected as terminal")
	}
	fd := s.NewDescription(unix.O_RDWR)
	if _, err := fd.Ioctl(ctx, ioctlTCGETS, 0x1000); err != nil {
		t.Fatal(err)
	}
	if _, err := fd.Ioctl(ctx, ioctlTIOCGWINSZ, 0x2000); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
