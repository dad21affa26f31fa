package tty

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/internal/testenv"
)

// hostPty opens a pty pair on the host (the terminal uk would run in).
func hostPty(t *testing.T) (master, slave int) {
	t.Helper()
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		testenv.Need(t, "a host pseudo-terminal (/dev/ptmx)", err.Error())
	}
	n, err := unix.IoctlGetInt(m, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	s, err := unix.Open(fmt.Sprintf("/dev/pts/%d", n), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Close(s)
		unix.Close(m)
	})
	return m, s
}

// readHost reads from a host fd until want bytes came or 5 s passed.
func readHost(t *testing.T, fd int, want int) string {
	t.Helper()
	var out []byte
	buf := make([]byte, 256)
	deadline := time.Now().Add(5 * time.Second)
	for len(out) < want && time.Now().Before(deadline) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(fds, 100); n <= 0 {
			continue
		}
		n, err := unix.Read(fd, buf)
		if err != nil {
			break
		}
		out = append(out, buf[:n]...)
	}
	return string(out)
}

func TestConsoleHostTerminal(t *testing.T) {
	hm, hs := hostPty(t)
	if err := unix.IoctlSetWinsize(hm, unix.TIOCSWINSZ, &unix.Winsize{Row: 33, Col: 101}); err != nil {
		t.Fatal(err)
	}
	orig, err := unix.IoctlGetTermios(hs, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConsole(hs, hs)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.HostIsTerminal() {
		t.Fatal("a pty is a terminal")
	}
	raw, _ := unix.IoctlGetTermios(hs, unix.TCGETS)
	if raw.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG|unix.IEXTEN) != 0 || raw.Oflag&unix.OPOST != 0 ||
		raw.Iflag&(unix.ICRNL|unix.IXON) != 0 || raw.Cc[unix.VMIN] != 1 {
		t.Fatalf("host terminal not raw: %+v", raw)
	}
	if ws := c.Terminal().Winsize(); ws.Row != 33 || ws.Col != 101 {
		t.Fatalf("window size %+v, want the host's", ws)
	}

	jc := newJC()
	init := jc.proc(1, 1, 1, vfs.RootCredentials())
	Register(vfs.NewDeviceRegistry(), c, jc)
	fd := c.NewDescription(unix.O_RDWR)
	defer fd.DecRef()
	if _, err := fd.Ioctl(init, TIOCSCTTY, 1); err != nil {
		t.Fatal(err)
	}
	// Host keystrokes go through the sandbox's line discipline.
	unix.Write(hm, []byte("hi\r"))
	buf := make([]byte, 10)
	if n, err := fd.Read(init, buf); string(buf[:n]) != "hi\n" || err != nil {
		t.Fatalf("console read %q %v", buf[:n], err)
	}
	if got := readHost(t, hm, 4); got != "hi\r\n" {
		t.Fatalf("echo on the host %q", got)
	}
	if n, err := fd.Write(init, []byte("out\n")); n != 4 || err != nil {
		t.Fatalf("write %d %v", n, err)
	}
	if got := readHost(t, hm, 5); got != "out\r\n" {
		t.Fatalf("output on the host %q", got)
	}
	// ^C arrives as a byte and becomes SIGINT for the foreground group,
	// even while nobody reads.
	jc.takeSent()
	unix.Write(hm, []byte{3})
	deadline := time.Now().Add(5 * time.Second)
	var s []sent
	for len(s) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		s = jc.takeSent()
	}
	if !reflect.DeepEqual(s, []sent{{true, 1, unix.SIGINT}}) {
		t.Fatalf("signals %v", s)
	}
	if err := c.RestoreHost(); err != nil {
		t.Fatal(err)
	}
	if err := c.RestoreHost(); err != nil {
		t.Fatalf("second RestoreHost: %v", err)
	}
	back, _ := unix.IoctlGetTermios(hs, unix.TCGETS)
	if *back != *orig {
		t.Fatalf("host terminal not restored:\n got %+v\nwant %+v", back, orig)
	}
}

func TestConsolePipes(t *testing.T) {
	var in, out [2]int
	if err := unix.Pipe2(in[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	if err := unix.Pipe2(out[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(in[0])
	defer unix.Close(out[0])
	defer unix.Close(out[1])
	c, err := NewConsole(in[0], out[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.HostIsTerminal() {
		t.Fatal("a pipe is no terminal")
	}
	jc := newJC()
	ctx := jc.proc(1, 1, 1, vfs.RootCredentials())
	d := Register(vfs.NewDeviceRegistry(), c, jc)
	impl, _, err := d.openConsole(ctx, vfs.Path{}, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	fd := vfs.NewFileDescription(impl, unix.O_RDWR, vfs.Path{}, vfs.FileOptions{})
	defer fd.DecRef()
	if st, err := fd.Stat(ctx); err != nil || st.Rdev != unix.Mkdev(5, 1) || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		t.Fatalf("fstat %+v %v", st, err)
	}
	unix.Write(in[1], []byte("abc\nde"))
	unix.Close(in[1])
	buf := make([]byte, 100)
	for _, want := range []string{"abc\n", "de", "", ""} {
		n, err := fd.Read(ctx, buf)
		if string(buf[:n]) != want || err != nil {
			t.Fatalf("read %q %v, want %q", buf[:n], err, want)
		}
	}
	if r := fd.Readiness(vfs.EventIn); r != vfs.EventIn {
		t.Fatalf("readiness at EOF %#x", r)
	}
	fd.Write(ctx, []byte("x\n"))
	if got := readHost(t, out[0], 9); got != "abc\r\ndex\r\n" {
		t.Fatalf("host output %q (echo, then output)", got)
	}
}

// TestConsoleHangup: when the session leader controlling the console
// exits, /dev/tty files die but /dev/console files keep working.
func TestConsoleHangup(t *testing.T) {
	var in, out [2]int
	unix.Pipe2(in[:], unix.O_CLOEXEC)
	unix.Pipe2(out[:], unix.O_CLOEXEC|unix.O_NONBLOCK)
	defer unix.Close(in[0])
	defer unix.Close(in[1])
	defer unix.Close(out[0])
	defer unix.Close(out[1])
	c, err := NewConsole(in[0], out[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	jc := newJC()
	init := jc.proc(1, 1, 1, vfs.RootCredentials())
	uinit := jc.proc(5, 5, 5, vfs.RootCredentials())
	d := Register(vfs.NewDeviceRegistry(), c, jc)
	cons := c.NewDescription(unix.O_RDWR)
	defer cons.DecRef()
	if _, err := cons.Ioctl(uinit, TIOCSCTTY, 1); err != nil {
		t.Fatal(err)
	}
	impl, _, err := d.openTTY(uinit, vfs.Path{}, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	tty := vfs.NewFileDescription(impl, unix.O_RDWR, vfs.Path{}, vfs.FileOptions{})
	defer tty.DecRef()
	jc.takeSent()
	d.LeaderExited(5, c.Terminal())
	want := []sent{{false, 5, unix.SIGHUP}, {false, 5, unix.SIGCONT}, {true, 5, unix.SIGHUP}}
	if s := jc.takeSent(); !reflect.DeepEqual(s, want) {
		t.Fatalf("signals %v, want %v", s, want)
	}
	if _, err := tty.Write(init, []byte("x")); err != unix.EIO {
		t.Fatalf("/dev/tty write after hangup: %v", err)
	}
	if n, err := cons.Write(init, []byte("y")); n != 1 || err != nil {
		t.Fatalf("console write after hangup: %d %v", n, err)
	}
	// The next session can take the console.
	sh := jc.proc(6, 6, 6, vfs.RootCredentials())
	if _, err := cons.Ioctl(sh, TIOCSCTTY, 0); err != nil {
		t.Fatalf("TIOCSCTTY after hangup: %v", err)
	}
}

func TestConsoleHostWriteError(t *testing.T) {
	var in, out [2]int
	unix.Pipe2(in[:], unix.O_CLOEXEC)
	unix.Pipe2(out[:], unix.O_CLOEXEC)
	defer unix.Close(in[1])
	c, err := NewConsole(in[0], out[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer unix.Close(in[0])
	unix.Close(out[0])
	defer unix.Close(out[1])
	fd := c.NewDescription(unix.O_RDWR)
	defer fd.DecRef()
	jc := newJC()
	ctx := jc.proc(1, 1, 1, vfs.RootCredentials())
	if _, err := fd.Write(ctx, []byte("x")); err != unix.EIO {
		t.Fatalf("write to a closed host pipe: %v", err)
	}
}
