package tty

import (
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Console is the sandbox's console terminal, backed by uk's own host file
// descriptors: a goroutine reads host input continuously into the line
// discipline (so ^C interrupts a program that is not reading; at most the
// input queue is read ahead), and output goes to the host after output
// processing. When host input ends (a pipe or file reaches EOF), the
// sandbox reads end of file, for good.
//
// When the host input is a terminal, NewConsole puts it in raw mode
// (cfmakeraw: no host echo, no host signals, so ^C arrives as a byte and
// the sandbox's own termios decide), copies its window size and follows
// host SIGWINCH; RestoreHost puts the host terminal back. When it is not
// a terminal the emulated line discipline still runs: echo goes to the
// host output only if the application's termios ask for it (the default
// termios does, as a serial console would).
type Console struct {
	t       *Terminal
	in, out int
	isTTY   bool
	saved   *unix.Termios // the host terminal's state before raw mode

	restoreMu sync.Mutex
	restored  bool

	stopFD   int // eventfd: wakes the reader's poll to stop it
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	winch    chan os.Signal
}

// consolePort writes console output to the host.
type consolePort struct{ c *Console }

func (consolePort) room() int { return -1 }

func (p consolePort) write(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(p.c.out, b)
		switch err {
		case nil:
			b = b[n:]
		case unix.EINTR:
		case unix.EAGAIN:
			fds := []unix.PollFd{{Fd: int32(p.c.out), Events: unix.POLLOUT}}
			_, _ = unix.Poll(fds, -1)
		default:
			return err
		}
	}
	return nil
}

func (consolePort) flushOutput() {}
func (consolePort) open() error  { return nil }
func (consolePort) release()     {}

// NewConsole makes the console on host fds hostIn and hostOut (usually 0
// and 1) and starts reading hostIn. If hostIn is a terminal it is switched
// to raw mode now: the caller must call RestoreHost on every exit path.
func NewConsole(hostIn, hostOut int) (*Console, error) {
	c := &Console{in: hostIn, out: hostOut, stop: make(chan struct{}), done: make(chan struct{})}
	c.t = newTerminal("console", unix.Mkdev(ttyMajor, 1), consolePort{c})
	if tio, err := unix.IoctlGetTermios(hostIn, unix.TCGETS); err == nil {
		saved := *tio
		raw := *tio
		makeRaw(&raw)
		if err := unix.IoctlSetTermios(hostIn, unix.TCSETS, &raw); err != nil {
			return nil, &os.SyscallError{Syscall: "ioctl(TCSETS) on host stdin", Err: err}
		}
		c.isTTY, c.saved = true, &saved
		c.updateWinsize()
		c.winch = make(chan os.Signal, 1)
		signal.Notify(c.winch, syscall.SIGWINCH)
		go c.followResize(c.winch)
	}
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = c.RestoreHost()
		return nil, &os.SyscallError{Syscall: "eventfd", Err: err}
	}
	c.stopFD = fd
	go c.reader()
	return c, nil
}

// makeRaw is cfmakeraw.
func makeRaw(t *unix.Termios) {
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
}

// Terminal returns the console's terminal.
func (c *Console) Terminal() *Terminal { return c.t }

// HostIsTerminal reports whether the host input is a terminal (and so in
// raw mode until RestoreHost).
func (c *Console) HostIsTerminal() bool { return c.isTTY }

// NewDescription returns a description of the console opened with flags,
// as the kernel gives init its fds 0-2 (like files opened through
// /dev/console, it survives hangups).
func (c *Console) NewDescription(flags uint32) *vfs.FileDescription {
	f, _ := c.t.newFile(true) // the console port never refuses
	return vfs.NewFileDescription(f, flags, vfs.Path{}, vfs.FileOptions{})
}

// RestoreHost puts the host terminal back in the mode it had before
// NewConsole. Idempotent; safe to call from any goroutine and when the
// host input is not a terminal.
func (c *Console) RestoreHost() error {
	c.restoreMu.Lock()
	defer c.restoreMu.Unlock()
	if c.restored || c.saved == nil {
		c.restored = true
		return nil
	}
	c.restored = true
	if c.winch != nil {
		signal.Stop(c.winch)
		close(c.winch)
	}
	if err := unix.IoctlSetTermios(c.in, unix.TCSETS, c.saved); err != nil {
		return &os.SyscallError{Syscall: "ioctl(TCSETS) restoring host stdin", Err: err}
	}
	return nil
}

// Close stops reading host input and restores the host terminal.
func (c *Console) Close() error {
	c.stopOnce.Do(func() {
		close(c.stop)
		var one [8]byte
		one[0] = 1
		_, _ = unix.Write(c.stopFD, one[:])
		<-c.done
		_ = unix.Close(c.stopFD)
	})
	return c.RestoreHost()
}

func (c *Console) updateWinsize() {
	ws, err := unix.IoctlGetWinsize(c.in, unix.TIOCGWINSZ)
	if err != nil || ws.Row == 0 || ws.Col == 0 {
		ws, err = unix.IoctlGetWinsize(c.out, unix.TIOCGWINSZ)
	}
	if err == nil && ws.Row != 0 && ws.Col != 0 {
		c.t.SetWinsize(Winsize{Row: ws.Row, Col: ws.Col, Xpixel: ws.Xpixel, Ypixel: ws.Ypixel})
	}
}

// followResize copies host window size changes (SIGWINCH to the
// foreground group comes with them).
func (c *Console) followResize(ch chan os.Signal) {
	for range ch {
		c.updateWinsize()
	}
}

// reader moves host input into the terminal until host EOF or Close.
func (c *Console) reader() {
	defer close(c.done)
	buf := make([]byte, 4096)
	// Not a task: no vfs.Context to Block with, so a plain waiter and a
	// select with c.stop instead of a vfs.Blocker.
	var w *vfs.Waiter
	var room <-chan struct{}
	defer func() {
		if w != nil {
			c.t.roomQ.Unregister(w)
		}
	}()
	for {
		fds := []unix.PollFd{{Fd: int32(c.in), Events: unix.POLLIN}, {Fd: int32(c.stopFD), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			c.t.endInput()
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		n, err := unix.Read(c.in, buf)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil || n <= 0 {
			c.t.endInput()
			return
		}
		data := buf[:n]
		for len(data) > 0 {
			k := c.t.input(data)
			data = data[k:]
			if k > 0 || len(data) == 0 {
				continue
			}
			if w == nil {
				w, room = vfs.NewChannelWaiter(vfs.EventOut)
				c.t.roomQ.Register(w)
				continue
			}
			select {
			case <-room:
			case <-c.stop:
				return
			}
		}
	}
}
