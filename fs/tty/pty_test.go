package tty

import (
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/tmpfs"
	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/kernel/memfile"
)

func TestPtyRoundTrip(t *testing.T) {
	pp := newPair(t)
	pp.setTermios(t, func(tio *Termios) { tio.Lflag &^= unix.ECHO })
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	// Slave output larger than the master's buffer: the writer waits for
	// the reader.
	done := make(chan error, 1)
	go func() {
		n, err := pp.slave.Write(pp.ctx, big)
		if err == nil && n != len(big) {
			err = unix.EIO
		}
		done <- err
	}()
	var got []byte
	buf := make([]byte, 7000)
	for len(got) < len(big) {
		n, err := pp.master.Read(pp.ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if err := <-done; err != nil || string(got) != string(big) {
		t.Fatalf("slave→master: %v, %d bytes", err, len(got))
	}
	// Master input larger than the line discipline buffer, read raw.
	pp.setTermios(t, func(tio *Termios) { tio.Lflag &^= unix.ICANON })
	go func() {
		n, err := pp.master.Write(pp.ctx, big)
		if err == nil && n != len(big) {
			err = unix.EIO
		}
		done <- err
	}()
	got = got[:0]
	for len(got) < len(big) {
		n, err := pp.slave.Read(pp.ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if err := <-done; err != nil || string(got) != string(big) {
		t.Fatalf("master→slave: %v, %d bytes", err, len(got))
	}
}

func TestPtyReadiness(t *testing.T) {
	pp := newPair(t)
	all := vfs.EventIn | vfs.EventOut | vfs.EventHUp | vfs.EventErr
	if r := pp.master.Readiness(all); r != vfs.EventOut {
		t.Fatalf("idle master %#x", r)
	}
	if r := pp.slave.Readiness(all); r != vfs.EventOut {
		t.Fatalf("idle slave %#x", r)
	}
	w, ch := vfs.NewChannelWaiter(vfs.EventIn)
	pp.slave.EventRegister(w)
	defer pp.slave.EventUnregister(w)
	pp.type_(t, "x\n")
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no readiness notification for a line")
	}
	if r := pp.slave.Readiness(all); r != vfs.EventIn|vfs.EventOut {
		t.Fatalf("slave with a line %#x", r)
	}
	if r := pp.master.Readiness(all); r != vfs.EventIn|vfs.EventOut {
		t.Fatalf("master with echo %#x", r)
	}
}

func TestPtySlaveClose(t *testing.T) {
	pp := newPair(t)
	pp.slave.Write(pp.ctx, []byte("bye"))
	pp.closeSlave()
	all := vfs.EventIn | vfs.EventOut | vfs.EventHUp
	if r := pp.master.Readiness(all); r != all {
		t.Fatalf("master after slave close %#x", r)
	}
	buf := make([]byte, 10)
	if n, err := pp.master.Read(pp.ctx, buf); string(buf[:n]) != "bye" || err != nil {
		t.Fatalf("buffered output: %q %v", buf[:n], err)
	}
	if _, err := pp.master.Read(pp.ctx, buf); err != unix.EIO {
		t.Fatalf("master read after slave close: %v", err)
	}
	if n, err := pp.master.Write(pp.ctx, []byte("y")); n != 1 || err != nil {
		t.Fatalf("master write after slave close: %d %v (Linux accepts it)", n, err)
	}
}

func TestPtyHangup(t *testing.T) {
	pp := newPair(t)
	if _, err := pp.slave.Ioctl(pp.ctx, TIOCSCTTY, 0); err != nil {
		t.Fatal(err)
	}
	job := pp.jc.proc(4, 4, 1, vfs.RootCredentials())
	pp.jc.SetControllingTerminal(job, pp.p.slave)
	if err := ioctlInt(t, pp.ctx, pp.slave, TIOCSPGRP, 4); err != nil {
		t.Fatal(err)
	}
	// A reader blocked on the slave wakes up with 0.
	got := make(chan error, 1)
	go func() {
		buf := make([]byte, 10)
		n, err := pp.slave.Read(job, buf)
		if err == nil && n != 0 {
			err = unix.E2BIG
		}
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	pp.jc.takeSent()
	pp.closeMaster()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("blocked read after hangup: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("blocked reader not woken by hangup")
	}
	want := []sent{{false, 1, unix.SIGHUP}, {false, 1, unix.SIGCONT}}
	if s := pp.jc.takeSent(); !reflect.DeepEqual(s, want) {
		t.Fatalf("signals %v, want %v", s, want)
	}
	if pp.jc.ctty(1) != nil || pp.jc.ctty(4) != nil {
		t.Fatal("the session keeps a hung-up terminal")
	}
	if r := pp.slave.Readiness(0xffff); r&(vfs.EventIn|vfs.EventOut|vfs.EventErr|vfs.EventHUp) != vfs.EventIn|vfs.EventOut|vfs.EventErr|vfs.EventHUp {
		t.Fatalf("hung-up readiness %#x", r)
	}
	if s, err := pp.read(t, 10); s != "" || err != nil {
		t.Fatalf("read after hangup: %q %v", s, err)
	}
	if _, err := pp.slave.Write(pp.ctx, []byte("x")); err != unix.EIO {
		t.Fatalf("write after hangup: %v", err)
	}
	if _, err := pp.slave.Ioctl(pp.ctx, TCGETS, 0x100); err != unix.EIO {
		t.Fatalf("ioctl after hangup: %v", err)
	}
	if _, _, err := pp.p.openSlave(pp.ctx, unix.O_RDWR); err != unix.EIO {
		t.Fatalf("open after master close: %v", err)
	}
	// When the leader exits later, the old foreground group gets SIGHUP.
	pp.d.LeaderExited(1, nil)
	want = []sent{{true, 4, unix.SIGHUP}, {true, 4, unix.SIGCONT}}
	if s := pp.jc.takeSent(); !reflect.DeepEqual(s, want) {
		t.Fatalf("signals at leader exit %v, want %v", s, want)
	}
}

func TestLeaderExitPty(t *testing.T) {
	pp := newPair(t)
	if _, err := pp.slave.Ioctl(pp.ctx, TIOCSCTTY, 0); err != nil {
		t.Fatal(err)
	}
	pp.jc.takeSent()
	pp.d.LeaderExited(1, pp.p.slave)
	if s := pp.jc.takeSent(); !reflect.DeepEqual(s, []sent{{true, 1, unix.SIGHUP}}) {
		t.Fatalf("signals %v", s)
	}
	if pp.p.slave.Session() != 0 || pp.jc.ctty(1) != nil {
		t.Fatal("terminal still attached")
	}
	// The pty itself still works.
	pp.type_(t, "a\n")
	if got := pp.mustRead(t, 10); got != "a\n" {
		t.Fatalf("read %q", got)
	}
}

func TestLockedSlave(t *testing.T) {
	jc := newJC()
	ctx := jc.proc(1, 1, 1, vfs.RootCredentials())
	d := Register(vfs.NewDeviceRegistry(), nil, jc)
	mi, _, err := d.openPtmx(ctx, vfs.Path{}, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	m := vfs.NewFileDescription(mi, unix.O_RDWR, vfs.Path{}, vfs.FileOptions{})
	defer m.DecRef()
	p := mi.(*masterFile).p
	if _, _, err := p.openSlave(ctx, unix.O_RDWR); err != unix.EIO {
		t.Fatalf("open locked: %v", err)
	}
	if l, err := getInt(t, ctx, m, TIOCGPTLCK); l != 1 || err != nil {
		t.Fatalf("TIOCGPTLCK %d %v", l, err)
	}
	unlock(t, ctx, m)
	peer, err := OpenPeer(ctx, m, unix.O_RDWR|unix.O_NOCTTY)
	if err != nil {
		t.Fatalf("TIOCGPTPEER: %v", err)
	}
	peer.DecRef()
	if n, err := getInt(t, ctx, m, TIOCGPTN); n != 0 || err != nil {
		t.Fatalf("TIOCGPTN %d %v", n, err)
	}
}

func TestPacketMode(t *testing.T) {
	pp := newPair(t)
	if err := ioctlInt(t, pp.ctx, pp.master, TIOCPKT, 1); err != nil {
		t.Fatal(err)
	}
	pp.slave.Write(pp.ctx, []byte("hi"))
	if got := pp.masterOut(t); got != "\x00hi" {
		t.Fatalf("packet %q", got)
	}
}

// TestDevpts mounts devpts in a VFS as u-root's init does and uses the
// nodes by path.
func TestDevpts(t *testing.T) {
	mf, err := memfile.New(16 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	v := vfs.New()
	jc := newJC()
	ctx := jc.proc(1, 1, 1, vfs.RootCredentials())
	user := jc.proc(2, 2, 2, vfs.UserCredentials(1000, 1000))
	d := Register(v.Devices, nil, jc)
	v.RegisterType("devpts", d)
	root := v.MountRoot(tmpfs.New(mf, tmpfs.Options{}), "tmpfs", "rootfs", 0)
	at := vfs.At{Root: root, Dir: root}
	for _, dir := range []string{"/dev", "/dev/pts"} {
		if err := v.MkdirAt(ctx, at, dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Mount(ctx, nil, at, "devpts", "/dev/pts", "devpts", 0, "bogus=1"); err != unix.EINVAL {
		t.Fatalf("bogus option: %v", err)
	}
	if err := v.Mount(ctx, nil, at, "devpts", "/dev/pts", "devpts", 0, "newinstance,ptmxmode=666,gid=5,mode=620"); err != nil {
		t.Fatal(err)
	}
	if err := v.SymlinkAt(ctx, "/dev/pts/ptmx", at, "/dev/ptmx"); err != nil {
		t.Fatal(err)
	}
	ctx.Mask = 0
	if err := v.MknodAt(ctx, at, "/dev/tty", unix.S_IFCHR|0o666, unix.Mkdev(5, 0)); err != nil {
		t.Fatal(err)
	}
	st, err := v.StatAt(ctx, at, "/dev/pts/ptmx", 0)
	if err != nil || st.Mode != unix.S_IFCHR|0o666 || st.Rdev != unix.Mkdev(5, 2) || st.Ino != 2 {
		t.Fatalf("ptmx %+v %v", st, err)
	}
	if sf, err := v.StatfsAt(ctx, at, "/dev/pts"); err != nil || sf.Type != devptsMagic {
		t.Fatalf("statfs %+v %v", sf, err)
	}
	m, err := v.OpenAt(user, at, "/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	n, err := getInt(t, user, m, TIOCGPTN)
	if err != nil || n != 0 {
		t.Fatalf("TIOCGPTN %d %v", n, err)
	}
	if st, err := m.Stat(user); err != nil || st.Rdev != unix.Mkdev(5, 2) {
		t.Fatalf("master fstat %+v %v", st, err)
	}
	st, err = v.StatAt(ctx, at, "/dev/pts/0", 0)
	if err != nil || st.Mode != unix.S_IFCHR|0o620 || st.UID != 1000 || st.GID != 5 || st.Rdev != unix.Mkdev(136, 0) || st.Ino != 3 {
		t.Fatalf("/dev/pts/0 %+v %v", st, err)
	}
	if _, err := v.OpenAt(user, at, "/dev/pts/0", unix.O_RDWR, 0); err != unix.EIO {
		t.Fatalf("open of a locked slave: %v", err)
	}
	unlock(t, user, m)
	s, err := v.OpenAt(user, at, "/dev/pts/0", unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if jc.ctty(2) == nil {
		t.Fatal("opening the slave without O_NOCTTY as a session leader acquires it")
	}
	tty, err := v.OpenAt(user, at, "/dev/tty", unix.O_RDWR, 0)
	if err != nil {
		t.Fatalf("/dev/tty: %v", err)
	}
	if _, err := m.Write(user, []byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if n, err := tty.Read(user, buf); string(buf[:n]) != "hi\n" || err != nil {
		t.Fatalf("/dev/tty read %q %v", buf[:n], err)
	}
	var names []string
	dir, err := v.OpenAt(ctx, at, "/dev/pts", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	dir.Getdents(ctx, func(d vfs.Dirent) bool { names = append(names, d.Name); return true })
	dir.DecRef()
	if !reflect.DeepEqual(names, []string{".", "..", "ptmx", "0"}) {
		t.Fatalf("ls /dev/pts: %v", names)
	}
	if err := v.UnlinkAt(ctx, at, "/dev/pts/0", 0); err != unix.EPERM {
		t.Fatalf("unlink: %v", err)
	}
	if err := v.ChmodAt(user, at, "/dev/pts/0", 0o600, 0); err != nil {
		t.Fatalf("chmod by owner: %v", err)
	}
	// A second pty gets the next index; closing the first frees its node.
	m2, err := v.OpenAt(ctx, at, "/dev/ptmx", unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := getInt(t, ctx, m2, TIOCGPTN); n != 1 {
		t.Fatalf("second index %d", n)
	}
	m.DecRef()
	if _, err := v.StatAt(ctx, at, "/dev/pts/0", 0); err != unix.ENOENT {
		t.Fatalf("stat after master close: %v", err)
	}
	if n, err := tty.Write(user, []byte("x")); err != unix.EIO {
		t.Fatalf("/dev/tty write after hangup: %d %v", n, err)
	}
	s.DecRef()
	tty.DecRef()
	m3, err := v.OpenAt(ctx, at, "/dev/ptmx", unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := getInt(t, ctx, m3, TIOCGPTN); n != 0 {
		t.Fatalf("reused index %d", n)
	}
	m3.DecRef()
	m2.DecRef()
	_ = vfstest.Root
}
