package tty

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/fs/vfs"
)

func ioctlInt(t *testing.T, ctx *task, fd *vfs.FileDescription, cmd uint32, v int32) error {
	t.Helper()
	if err := copyOutInt32(ctx, 0x400, v); err != nil {
		t.Fatal(err)
	}
	_, err := fd.Ioctl(ctx, cmd, 0x400)
	return err
}

func getInt(t *testing.T, ctx *task, fd *vfs.FileDescription, cmd uint32) (int32, error) {
	t.Helper()
	if _, err := fd.Ioctl(ctx, cmd, 0x500); err != nil {
		return 0, err
	}
	v, _ := copyInInt32(ctx, 0x500)
	return v, nil
}

func TestTIOCSCTTY(t *testing.T) {
	pp := newPair(t)
	slave := pp.p.slave
	leader := pp.ctx // pid 1, session 1
	member := pp.jc.proc(2, 1, 1, vfs.RootCredentials())
	other := pp.jc.proc(10, 10, 10, vfs.UserCredentials(1000, 1000))
	otherRoot := pp.jc.proc(20, 20, 20, vfs.RootCredentials())

	if _, err := pp.slave.Ioctl(member, TIOCSCTTY, 0); err != unix.EPERM {
		t.Fatalf("non-leader TIOCSCTTY: %v", err)
	}
	if _, err := pp.slave.Ioctl(leader, TIOCSCTTY, 0); err != nil {
		t.Fatalf("leader TIOCSCTTY: %v", err)
	}
	if pp.jc.ctty(1) != slave || slave.Session() != 1 || slave.ForegroundGroup() != 1 {
		t.Fatalf("after TIOCSCTTY: ctty %v sid %d pgrp %d", pp.jc.ctty(1), slave.Session(), slave.ForegroundGroup())
	}
	if _, err := pp.slave.Ioctl(leader, TIOCSCTTY, 0); err != nil {
		t.Fatalf("again by the same session: %v", err)
	}
	if _, err := pp.slave.Ioctl(other, TIOCSCTTY, 1); err != unix.EPERM {
		t.Fatalf("unprivileged steal: %v", err)
	}
	if _, err := pp.slave.Ioctl(otherRoot, TIOCSCTTY, 0); err != unix.EPERM {
		t.Fatalf("privileged without arg 1: %v", err)
	}
	if _, err := pp.slave.Ioctl(otherRoot, TIOCSCTTY, 1); err != nil {
		t.Fatalf("privileged steal: %v", err)
	}
	if pp.jc.ctty(1) != nil || pp.jc.ctty(20) != slave || slave.Session() != 20 {
		t.Fatalf("after steal: old %v new %v sid %d", pp.jc.ctty(1), pp.jc.ctty(20), slave.Session())
	}
	// A leader that already has a terminal cannot take another.
	pp2 := newPair(t)
	pp2.jc = pp.jc
	pp2.p.slave.devs.Store(pp.d)
	if _, err := pp2.slave.Ioctl(otherRoot, TIOCSCTTY, 1); err != unix.EPERM {
		t.Fatalf("second terminal: %v", err)
	}
	// Write-only descriptions give no terminal to the unprivileged.
	user := pp.jc.proc(30, 30, 30, vfs.UserCredentials(1000, 1000))
	wo := vfs.NewFileDescription(&ttyFile{t: pp2.p.slave}, unix.O_WRONLY, vfs.Path{}, vfs.FileOptions{})
	if _, err := wo.Ioctl(user, TIOCSCTTY, 0); err != unix.EPERM {
		t.Fatalf("write-only TIOCSCTTY: %v", err)
	}
}

func TestForegroundGroup(t *testing.T) {
	pp := newPair(t)
	leader := pp.ctx
	job := pp.jc.proc(5, 5, 1, vfs.RootCredentials())
	stranger := pp.jc.proc(9, 9, 9, vfs.RootCredentials())
	if _, err := getInt(t, leader, pp.slave, TIOCGPGRP); err != unix.ENOTTY {
		t.Fatalf("TIOCGPGRP without ctty: %v", err)
	}
	if _, err := pp.slave.Ioctl(leader, TIOCSCTTY, 0); err != nil {
		t.Fatal(err)
	}
	pp.jc.SetControllingTerminal(job, pp.p.slave) // inherited at fork
	if g, err := getInt(t, leader, pp.slave, TIOCGPGRP); g != 1 || err != nil {
		t.Fatalf("TIOCGPGRP = %d %v", g, err)
	}
	if s, err := getInt(t, job, pp.slave, TIOCGSID); s != 1 || err != nil {
		t.Fatalf("TIOCGSID = %d %v", s, err)
	}
	if err := ioctlInt(t, leader, pp.slave, TIOCSPGRP, 5); err != nil {
		t.Fatalf("TIOCSPGRP 5: %v", err)
	}
	if err := ioctlInt(t, leader, pp.slave, TIOCSPGRP, 9); err != unix.EPERM {
		t.Fatalf("TIOCSPGRP to another session's group: %v", err)
	}
	if err := ioctlInt(t, leader, pp.slave, TIOCSPGRP, 77); err != unix.ESRCH {
		t.Fatalf("TIOCSPGRP to no group: %v", err)
	}
	if err := ioctlInt(t, leader, pp.slave, TIOCSPGRP, -1); err != unix.EINVAL {
		t.Fatalf("TIOCSPGRP -1: %v", err)
	}
	if err := ioctlInt(t, stranger, pp.slave, TIOCSPGRP, 9); err != unix.ENOTTY {
		t.Fatalf("TIOCSPGRP by a stranger: %v", err)
	}
	// The master sees the slave's group without being controlled by it.
	if g, err := getInt(t, stranger, pp.master, TIOCGPGRP); g != 5 || err != nil {
		t.Fatalf("TIOCGPGRP on master = %d %v", g, err)
	}
	// ^C, ^\ and ^Z go to the foreground group.
	pp.jc.takeSent()
	pp.type_(t, "x\x03\x1c\x1a")
	want := []sent{{true, 5, unix.SIGINT}, {true, 5, unix.SIGQUIT}, {true, 5, unix.SIGTSTP}}
	if got := pp.jc.takeSent(); !reflect.DeepEqual(got, want) {
		t.Fatalf("signals %v, want %v", got, want)
	}
	if got := pp.masterOut(t); got != "^Z" {
		t.Fatalf("echo %q (each signal flushes unread output)", got)
	}
	pp.type_(t, "\n")
	if got := pp.mustRead(t, 10); got != "\n" {
		t.Fatalf("input after ^C: %q", got)
	}
	// NOFLSH keeps the input.
	pp.setTermios(t, func(tio *Termios) { tio.Lflag |= unix.NOFLSH })
	pp.type_(t, "ab\x03c\n")
	if got := pp.mustRead(t, 10); got != "abc\n" {
		t.Fatalf("NOFLSH input %q", got)
	}
	// Window size changes signal the foreground group.
	pp.jc.takeSent()
	ws := Winsize{Row: 50, Col: 132}.marshal()
	_ = stranger.CopyOut(0x600, ws[:])
	if _, err := pp.master.Ioctl(stranger, TIOCSWINSZ, 0x600); err != nil {
		t.Fatal(err)
	}
	if _, err := pp.master.Ioctl(stranger, TIOCSWINSZ, 0x600); err != nil { // unchanged: no signal
		t.Fatal(err)
	}
	if got := pp.jc.takeSent(); !reflect.DeepEqual(got, []sent{{true, 5, unix.SIGWINCH}}) {
		t.Fatalf("signals %v", got)
	}
	if _, err := pp.slave.Ioctl(job, TIOCGWINSZ, 0x700); err != nil {
		t.Fatal(err)
	}
	if got := unmarshalWinsize(job.Mem(0x700, 8)); got != (Winsize{Row: 50, Col: 132}) {
		t.Fatalf("winsize %+v", got)
	}
}

func TestTIOCNOTTY(t *testing.T) {
	pp := newPair(t)
	member := pp.jc.proc(2, 2, 1, vfs.RootCredentials())
	if _, err := pp.slave.Ioctl(pp.ctx, TIOCNOTTY, 0); err != unix.ENOTTY {
		t.Fatalf("TIOCNOTTY without ctty: %v", err)
	}
	if _, err := pp.slave.Ioctl(pp.ctx, TIOCSCTTY, 0); err != nil {
		t.Fatal(err)
	}
	pp.jc.SetControllingTerminal(member, pp.p.slave)
	if err := ioctlInt(t, pp.ctx, pp.slave, TIOCSPGRP, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := pp.slave.Ioctl(member, TIOCNOTTY, 0); err != nil || pp.jc.ctty(2) != nil || pp.jc.ctty(1) == nil {
		t.Fatalf("member TIOCNOTTY: %v", err)
	}
	pp.jc.SetControllingTerminal(member, pp.p.slave)
	pp.jc.takeSent()
	if _, err := pp.slave.Ioctl(pp.ctx, TIOCNOTTY, 0); err != nil {
		t.Fatal(err)
	}
	if pp.jc.ctty(1) != nil || pp.jc.ctty(2) != nil || pp.p.slave.Session() != 0 {
		t.Fatal("leader TIOCNOTTY must detach the session")
	}
	want := []sent{{true, 2, unix.SIGHUP}, {true, 2, unix.SIGCONT}}
	if got := pp.jc.takeSent(); !reflect.DeepEqual(got, want) {
		t.Fatalf("signals %v, want %v", got, want)
	}
}

func TestAcquireOnOpen(t *testing.T) {
	pp := newPair(t)
	f, _, err := pp.p.openSlave(pp.ctx, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	if pp.jc.ctty(1) != pp.p.slave {
		t.Fatal("a session leader opening a free terminal without O_NOCTTY acquires it")
	}
	// /dev/tty opens the controlling terminal, ENXIO without one.
	impl, _, err := pp.d.openTTY(pp.ctx, vfs.Path{}, unix.O_RDWR)
	if err != nil || impl.(*ttyFile).t != pp.p.slave {
		t.Fatalf("/dev/tty: %v", err)
	}
	impl.Release()
	lone := pp.jc.proc(3, 3, 3, vfs.RootCredentials())
	if _, _, err := pp.d.openTTY(lone, vfs.Path{}, unix.O_RDWR); err != unix.ENXIO {
		t.Fatalf("/dev/tty without ctty: %v", err)
	}
}

func TestBackgroundJobs(t *testing.T) {
	pp := newPair(t)
	pp.d.SetJobControl(bgJC{pp.jc})
	bg := pp.jc.proc(7, 7, 1, vfs.RootCredentials())
	if _, err := pp.slave.Ioctl(pp.ctx, TIOCSCTTY, 0); err != nil {
		t.Fatal(err)
	}
	pp.jc.SetControllingTerminal(bg, pp.p.slave)
	pp.jc.takeSent()
	buf := make([]byte, 4)
	if _, err := pp.slave.Read(bg, buf); err != arch.ERESTARTSYS {
		t.Fatalf("background read: %v", err)
	}
	if got := pp.jc.takeSent(); !reflect.DeepEqual(got, []sent{{true, 7, unix.SIGTTIN}}) {
		t.Fatalf("signals %v", got)
	}
	pp.jc.procs[7].ignored[unix.SIGTTIN] = true
	if _, err := pp.slave.Read(bg, buf); err != unix.EIO {
		t.Fatalf("background read ignoring SIGTTIN: %v", err)
	}
	// Writes are free unless TOSTOP.
	if n, err := pp.slave.Write(bg, []byte("x")); n != 1 || err != nil {
		t.Fatalf("background write: %d %v", n, err)
	}
	pp.setTermios(t, func(tio *Termios) { tio.Lflag |= unix.TOSTOP })
	if _, err := pp.slave.Write(bg, []byte("x")); err != arch.ERESTARTSYS {
		t.Fatalf("background write with TOSTOP: %v", err)
	}
	pp.jc.procs[7].orphan = true
	if _, err := pp.slave.Write(bg, []byte("x")); err != unix.EIO {
		t.Fatalf("orphaned background write with TOSTOP: %v", err)
	}
	// The foreground group reads normally.
	pp.type_(t, "ok\n")
	if got := pp.mustRead(t, 10); got != "ok\n" {
		t.Fatalf("foreground read %q", got)
	}
}
