package tty

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// ttyFile is one open description of a Terminal. Each open makes a new
// one, so that a hangup kills exactly the descriptions opened before it.
type ttyFile struct {
	vfs.FileBase
	t   *Terminal
	gen uint64
	// console descriptions (opened through /dev/console, or the kernel's
	// own for init) survive hangups and are exempt from background
	// checks, as Linux's redirected console files.
	console bool
}

// newFile opens t: the port counts the file.
func (t *Terminal) newFile(console bool) (*ttyFile, error) {
	if err := t.port.open(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return &ttyFile{t: t, gen: t.gen, console: console}, nil
}

func (f *ttyFile) hungUpLocked() bool { return !f.console && f.gen != f.t.gen }

func (f *ttyFile) hungUp() bool {
	f.t.mu.Lock()
	defer f.t.mu.Unlock()
	return f.hungUpLocked()
}

// Release implements vfs.FileImpl.
func (f *ttyFile) Release() { f.t.port.release() }

// Read implements vfs.FileImpl: canonical reads return at most one line;
// noncanonical reads follow VMIN/VTIME.
func (f *ttyFile) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	t := f.t
	if f.hungUp() {
		return 0, nil
	}
	if !f.console {
		if err := t.checkChange(ctx, unix.SIGTTIN); err != nil {
			return 0, err
		}
	}
	if len(dst) == 0 {
		return 0, nil
	}
	var (
		b        = vfs.NewBlocker(vfs.EventIn | vfs.EventHUp)
		copied   int
		start    = time.Now()
		deadline time.Time // VTIME's, once one is running
	)
	defer b.Done()
	t.mu.Lock()
	for {
		if f.hungUpLocked() {
			t.unlock()
			return copied, nil
		}
		if t.canonical() {
			if len(t.ends) > 0 {
				end := t.ends[0]
				n := copy(dst, t.buf[:end])
				t.consumeLocked(n)
				if n == end {
					t.ends = t.ends[1:]
				}
				t.processLocked()
				t.unlock()
				return n, nil
			}
			if t.eof {
				t.unlock()
				return 0, nil
			}
		} else {
			vmin := int(t.termios.CC[VMIN])
			vtime := time.Duration(t.termios.CC[VTIME]) * 100 * time.Millisecond
			n := copy(dst[copied:], t.buf)
			if n > 0 {
				t.consumeLocked(n)
				copied += n
				t.processLocked()
			}
			want := min(max(vmin, 1), len(dst))
			if copied >= want || t.eof || (vmin == 0 && vtime == 0) {
				t.unlock()
				return copied, nil
			}
			switch {
			case vmin == 0:
				deadline = start.Add(vtime) // overall timeout
			case vtime > 0 && n > 0:
				deadline = time.Now().Add(vtime) // inter-byte timer
			}
			if !deadline.IsZero() && !time.Now().Before(deadline) {
				t.unlock()
				return copied, nil
			}
		}
		if fd != nil && fd.NonBlocking() {
			t.unlock()
			return vfs.Partial(copied, unix.EAGAIN)
		}
		// The first Wait registers; the loop checks again (and returns
		// at the deadline, so ETIMEDOUT needs nothing of its own).
		b.SetDeadline(deadline)
		t.unlock()
		if err := b.Wait(ctx, &t.rq); err != nil && err != unix.ETIMEDOUT {
			return vfs.Partial(copied, err)
		}
		t.mu.Lock()
	}
}

// Write implements vfs.FileImpl: output processing, then the port. It
// blocks while output is stopped or the other side is full.
func (f *ttyFile) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, _ int64) (int, error) {
	t := f.t
	if f.hungUp() {
		return 0, unix.EIO
	}
	if !f.console && t.Termios().Lflag&unix.TOSTOP != 0 {
		if err := t.checkChange(ctx, unix.SIGTTOU); err != nil {
			return 0, err
		}
	}
	b := vfs.NewBlocker(vfs.EventOut | vfs.EventHUp)
	defer b.Done()
	written := 0
	for written < len(src) {
		t.mu.Lock()
		if f.hungUpLocked() {
			t.unlock()
			return vfs.Partial(written, unix.EIO)
		}
		room := t.port.room()
		if room < 0 {
			room = 4096 + opostLen
		}
		room -= len(t.out)
		n := 0
		if !t.stopped {
			for written+n < len(src) && room >= opostLen {
				before := len(t.out)
				t.out = t.opost(t.out, src[written+n])
				room -= len(t.out) - before
				n++
			}
		}
		if n > 0 {
			written += n
			t.mu.Unlock() // nothing but output was queued: drain reports its errors
			if err := t.drain(); err != nil {
				if written-n > 0 {
					return written - n, nil
				}
				return 0, unix.EIO
			}
			continue
		}
		if fd != nil && fd.NonBlocking() {
			t.unlock()
			return vfs.Partial(written, unix.EAGAIN)
		}
		t.unlock()
		if err := b.Wait(ctx, &t.rq); err != nil {
			return vfs.Partial(written, err)
		}
	}
	return written, nil
}

// Readiness implements vfs.FileImpl.
func (f *ttyFile) Readiness(mask vfs.EventMask) vfs.EventMask {
	t := f.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if f.hungUpLocked() {
		return mask & (vfs.EventIn | vfs.EventOut | vfs.EventErr | vfs.EventHUp | vfs.EventRdNorm | vfs.EventWrNorm)
	}
	var r vfs.EventMask
	if t.readableLocked() {
		r |= vfs.EventIn | vfs.EventRdNorm
	}
	if !t.stopped && (t.port.room() < 0 || t.port.room()-len(t.out) >= opostLen) {
		r |= vfs.EventOut | vfs.EventWrNorm
	}
	return r & mask
}

// EventRegister implements vfs.FileImpl.
func (f *ttyFile) EventRegister(w *vfs.Waiter) { f.t.rq.Register(w) }

// EventUnregister implements vfs.FileImpl.
func (f *ttyFile) EventUnregister(w *vfs.Waiter) { f.t.rq.Unregister(w) }

// Fsync implements vfs.FileImpl (a tty has nothing to flush).
func (f *ttyFile) Fsync(vfs.Context, *vfs.FileDescription) error { return nil }

// Stat implements vfs.FileImpl: the node it was opened through, or a
// character device for the kernel's own (anonymous) descriptions.
func (f *ttyFile) Stat(ctx vfs.Context, fd *vfs.FileDescription) (vfs.Stat, error) {
	if fd != nil && !fd.Path().IsZero() {
		return f.FileBase.Stat(ctx, fd)
	}
	return anonStat(f.t.rdev, 0o600, 0), nil
}

var bootTime = func() unix.Timespec {
	now := time.Now()
	return unix.Timespec{Sec: now.Unix(), Nsec: int64(now.Nanosecond())}
}()

// anonStat describes a device file that is not in the tree.
func anonStat(rdev uint64, perm uint32, gid uint32) vfs.Stat {
	return vfs.Stat{
		Mask: unix.STATX_BASIC_STATS, Dev: unix.Mkdev(0, 6), Ino: rdev + 1<<32,
		Mode: unix.S_IFCHR | perm, Nlink: 1, GID: gid, Rdev: rdev, Blksize: 1024,
		Atime: bootTime, Mtime: bootTime, Ctime: bootTime,
	}
}

// Ioctl implements vfs.FileImpl.
func (f *ttyFile) Ioctl(ctx vfs.Context, fd *vfs.FileDescription, cmd uint32, arg uint64) (uintptr, error) {
	if f.hungUp() {
		if cmd == TIOCSPGRP {
			return 0, unix.ENOTTY
		}
		return 0, unix.EIO
	}
	return f.t.ioctl(ctx, fd, cmd, arg, false, f.console)
}

func copyOutInt32(ctx vfs.Context, addr uint64, v int32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return ctx.CopyOut(addr, b[:])
}

func copyInInt32(ctx vfs.Context, addr uint64) (int32, error) {
	var b [4]byte
	if err := ctx.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(b[:])), nil
}

// ioctl is the terminal's ioctl, from a file of its own or (master) from
// a pty master, which reaches the slave's settings.
func (t *Terminal) ioctl(ctx vfs.Context, fd *vfs.FileDescription, cmd uint32, arg uint64, master, console bool) (uintptr, error) {
	check := func() error {
		if console || master {
			return nil
		}
		return t.checkChange(ctx, unix.SIGTTOU)
	}
	switch cmd {
	case TCGETS, TCGETS2:
		t.mu.Lock()
		b := t.termios.Marshal()
		t.mu.Unlock()
		if cmd == TCGETS {
			return 0, ctx.CopyOut(arg, b[:])
		}
		var b2 [termios2Size]byte
		copy(b2[:], b[:])
		binary.LittleEndian.PutUint32(b2[36:], 38400)
		binary.LittleEndian.PutUint32(b2[40:], 38400)
		return 0, ctx.CopyOut(arg, b2[:])
	case TCSETS, TCSETSW, TCSETSF, TCSETS2, TCSETSW2, TCSETSF2:
		if err := check(); err != nil {
			return 0, err
		}
		var b [TermiosSize]byte
		if err := ctx.CopyIn(arg, b[:]); err != nil {
			return 0, err
		}
		t.mu.Lock()
		t.setTermiosLocked(UnmarshalTermios(b[:]), cmd == TCSETSF || cmd == TCSETSF2)
		t.unlock()
		return 0, nil
	case TIOCGWINSZ:
		b := t.Winsize().marshal()
		return 0, ctx.CopyOut(arg, b[:])
	case TIOCSWINSZ:
		var b [8]byte
		if err := ctx.CopyIn(arg, b[:]); err != nil {
			return 0, err
		}
		t.SetWinsize(unmarshalWinsize(b[:]))
		return 0, nil
	case FIONREAD:
		t.mu.Lock()
		n := t.commit
		if !t.canonical() {
			n = len(t.buf)
		}
		t.mu.Unlock()
		return 0, copyOutInt32(ctx, arg, int32(n))
	case TIOCOUTQ:
		return 0, copyOutInt32(ctx, arg, 0)
	case TCFLSH:
		if err := check(); err != nil {
			return 0, err
		}
		if arg > unix.TCIOFLUSH {
			return 0, unix.EINVAL
		}
		t.mu.Lock()
		if arg == unix.TCIFLUSH || arg == unix.TCIOFLUSH {
			t.flushInputLocked()
			t.inq = t.inq[:0]
		}
		if arg == unix.TCOFLUSH || arg == unix.TCIOFLUSH {
			t.flushOutputLocked()
		}
		t.notify |= vfs.EventOut | vfs.EventWrNorm
		t.unlock()
		return 0, nil
	case TCXONC:
		if err := check(); err != nil {
			return 0, err
		}
		t.mu.Lock()
		switch arg {
		case unix.TCOOFF:
			t.stopped, t.tcoStop = true, true
		case unix.TCOON:
			t.tcoStop = false
			t.startLocked()
		case unix.TCIOFF, unix.TCION:
		default:
			t.mu.Unlock()
			return 0, unix.EINVAL
		}
		t.unlock()
		return 0, nil
	case TCSBRK, TCSBRKP, TIOCSBRK, TIOCCBRK, TIOCEXCL, TIOCNXCL:
		return 0, nil
	case TIOCGEXCL, TIOCGETD:
		return 0, copyOutInt32(ctx, arg, 0)
	case TIOCSETD:
		d, err := copyInInt32(ctx, arg)
		if err != nil {
			return 0, err
		}
		if d != 0 { // only N_TTY
			return 0, unix.EINVAL
		}
		return 0, nil
	case TIOCGDEV:
		return 0, copyOutInt32(ctx, arg, int32(t.rdev))
	case TIOCSCTTY:
		return 0, t.tiocsctty(ctx, fd, arg)
	case TIOCNOTTY:
		if master {
			return 0, unix.ENOTTY
		}
		return 0, t.tiocnotty(ctx)
	case TIOCGPGRP, TIOCGSID:
		return 0, t.getJob(ctx, cmd, arg, master)
	case TIOCSPGRP:
		return 0, t.tiocspgrp(ctx, arg)
	case TIOCSTI:
		jc := t.jobControl()
		if !ctx.Credentials().Privileged && (jc == nil || jc.ControllingTerminal(ctx) != t) {
			return 0, unix.EPERM
		}
		var b [1]byte
		if err := ctx.CopyIn(arg, b[:]); err != nil {
			return 0, err
		}
		t.input(b[:])
		return 0, nil
	case TIOCVHANGUP:
		if !ctx.Credentials().Privileged {
			return 0, unix.EPERM
		}
		t.hangup(false)
		return 0, nil
	}
	return 0, unix.ENOTTY
}
