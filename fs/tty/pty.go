package tty

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// ptyOutCap bounds slave output the master has not read yet; slave
// writers wait when it is full.
const ptyOutCap = 32 << 10

// pty is a pseudo-terminal pair: the slave is a Terminal whose port is
// the master's read buffer; master writes are the slave's input.
type pty struct {
	index int
	d     *Devices
	slave *Terminal
	node  *ptsNode

	mu           sync.Mutex
	toMaster     []byte // slave output not yet read by the master
	locked       bool   // TIOCSPTLCK: the slave cannot be opened
	masterClosed bool
	slaveOpens   int  // open slave files
	slaveClosed  bool // TTY_OTHER_CLOSED on the master: the last slave file closed
	pkt          bool // TIOCPKT packet mode
	masterQ      vfs.Queue
}

// slavePort is the slave Terminal's port.
type slavePort struct{ p *pty }

func (s slavePort) room() int {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	return ptyOutCap - len(s.p.toMaster)
}

func (s slavePort) write(b []byte) error {
	p := s.p
	p.mu.Lock()
	p.toMaster = append(p.toMaster, b...)
	p.mu.Unlock()
	p.masterQ.Notify(vfs.EventIn | vfs.EventRdNorm)
	return nil
}

func (s slavePort) flushOutput() {
	s.p.mu.Lock()
	s.p.toMaster = nil
	s.p.mu.Unlock()
}

func (s slavePort) open() error {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.masterClosed {
		return unix.EIO
	}
	p.slaveOpens++
	p.slaveClosed = false
	return nil
}

func (s slavePort) release() {
	p := s.p
	p.mu.Lock()
	p.slaveOpens--
	last := p.slaveOpens == 0
	if last {
		p.slaveClosed = true
	}
	p.mu.Unlock()
	if last {
		p.masterQ.Notify(vfs.EventIn | vfs.EventHUp | vfs.EventRdNorm)
	}
}

func newPty(d *Devices, index int) *pty {
	p := &pty{index: index, d: d, locked: true}
	p.slave = newTerminal(fmt.Sprintf("pts/%d", index), unix.Mkdev(ptsMajor, uint32(index)), slavePort{p})
	p.slave.pty = p
	p.slave.devs.Store(d)
	return p
}

// openSlave opens the slave side (EIO while locked or after the master
// closed).
func (p *pty) openSlave(ctx vfs.Context, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	p.mu.Lock()
	locked := p.locked
	p.mu.Unlock()
	if locked {
		return nil, vfs.FileOptions{}, unix.EIO
	}
	f, err := p.slave.newFile(false)
	if err != nil {
		return nil, vfs.FileOptions{}, err
	}
	p.slave.acquireOnOpen(ctx, flags)
	return f, vfs.FileOptions{}, nil
}

// masterFile is an open pty master (one per pty: /dev/ptmx makes a new
// pair each time).
type masterFile struct {
	vfs.FileBase
	p *pty
}

// Read implements vfs.FileImpl: slave output; EIO once no slave file is
// open and everything was read.
func (m *masterFile) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	p := m.p
	b := vfs.NewBlocker(vfs.EventIn | vfs.EventHUp)
	defer b.Done()
	for {
		p.mu.Lock()
		if len(p.toMaster) > 0 {
			var n int
			if p.pkt {
				if len(dst) < 2 {
					p.mu.Unlock()
					return 0, unix.EINVAL
				}
				dst[0] = 0 // TIOCPKT_DATA
				n = 1 + copy(dst[1:], p.toMaster)
				p.toMaster = p.toMaster[n-1:]
			} else {
				n = copy(dst, p.toMaster)
				p.toMaster = p.toMaster[n:]
			}
			if len(p.toMaster) == 0 {
				p.toMaster = nil
			}
			p.mu.Unlock()
			p.slave.rq.Notify(vfs.EventOut | vfs.EventWrNorm)
			return n, nil
		}
		if p.slaveClosed {
			p.mu.Unlock()
			return 0, unix.EIO
		}
		if len(dst) == 0 {
			p.mu.Unlock()
			return 0, nil
		}
		if fd != nil && fd.NonBlocking() {
			p.mu.Unlock()
			return 0, unix.EAGAIN
		}
		p.mu.Unlock()
		if err := b.Wait(ctx, &p.masterQ); err != nil {
			return 0, err
		}
	}
}

// Write implements vfs.FileImpl: the bytes are the slave's input.
func (m *masterFile) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, _ int64) (int, error) {
	t := m.p.slave
	b := vfs.NewBlocker(vfs.EventOut)
	defer b.Done()
	written := 0
	for written < len(src) {
		n := t.input(src[written:])
		written += n
		if n > 0 {
			continue
		}
		if fd != nil && fd.NonBlocking() {
			return vfs.Partial(written, unix.EAGAIN)
		}
		if err := b.Wait(ctx, &t.roomQ); err != nil {
			return vfs.Partial(written, err)
		}
	}
	return written, nil
}

// Readiness implements vfs.FileImpl.
func (m *masterFile) Readiness(mask vfs.EventMask) vfs.EventMask {
	p := m.p
	var r vfs.EventMask
	if p.slave.inputRoom() {
		r |= vfs.EventOut | vfs.EventWrNorm
	}
	p.mu.Lock()
	if len(p.toMaster) > 0 {
		r |= vfs.EventIn | vfs.EventRdNorm
	}
	if p.slaveClosed {
		r |= vfs.EventHUp
	}
	p.mu.Unlock()
	return r & mask
}

// EventRegister implements vfs.FileImpl: the master hears about slave
// output (its queue) and input room (the slave's room queue).
func (m *masterFile) EventRegister(w *vfs.Waiter) {
	m.p.masterQ.Register(w)
	m.p.slave.roomQ.Register(w)
}

// EventUnregister implements vfs.FileImpl.
func (m *masterFile) EventUnregister(w *vfs.Waiter) {
	m.p.masterQ.Unregister(w)
	m.p.slave.roomQ.Unregister(w)
}

// Fsync implements vfs.FileImpl.
func (m *masterFile) Fsync(vfs.Context, *vfs.FileDescription) error { return nil }

// Stat implements vfs.FileImpl: the ptmx node it was opened through.
func (m *masterFile) Stat(ctx vfs.Context, fd *vfs.FileDescription) (vfs.Stat, error) {
	if fd != nil && !fd.Path().IsZero() {
		return m.FileBase.Stat(ctx, fd)
	}
	return anonStat(unix.Mkdev(5, 2), 0o666, 0), nil
}

// Release implements vfs.FileImpl: closing the master hangs up the slave
// and removes /dev/pts/N.
func (m *masterFile) Release() {
	p := m.p
	p.mu.Lock()
	p.masterClosed = true
	p.toMaster = nil
	p.mu.Unlock()
	p.d.removePty(p)
	p.slave.hangup(false)
}

// Ioctl implements vfs.FileImpl: the pty ioctls, the master's own queue,
// and the slave's settings and job control (as Linux's real_tty).
func (m *masterFile) Ioctl(ctx vfs.Context, fd *vfs.FileDescription, cmd uint32, arg uint64) (uintptr, error) {
	p := m.p
	switch cmd {
	case TIOCGPTN:
		return 0, copyOutInt32(ctx, arg, int32(p.index))
	case TIOCSPTLCK, TIOCPKT:
		v, err := copyInInt32(ctx, arg)
		if err != nil {
			return 0, err
		}
		p.mu.Lock()
		if cmd == TIOCSPTLCK {
			p.locked = v != 0
		} else {
			p.pkt = v != 0
		}
		p.mu.Unlock()
		return 0, nil
	case TIOCGPTLCK, TIOCGPKT:
		p.mu.Lock()
		v := p.locked
		if cmd == TIOCGPKT {
			v = p.pkt
		}
		p.mu.Unlock()
		var i int32
		if v {
			i = 1
		}
		return 0, copyOutInt32(ctx, arg, i)
	case FIONREAD:
		p.mu.Lock()
		n := len(p.toMaster)
		p.mu.Unlock()
		return 0, copyOutInt32(ctx, arg, int32(n))
	case TCFLSH:
		if arg > unix.TCIOFLUSH {
			return 0, unix.EINVAL
		}
		if arg == unix.TCIFLUSH || arg == unix.TCIOFLUSH {
			slavePort{p}.flushOutput()
			p.slave.rq.Notify(vfs.EventOut | vfs.EventWrNorm)
		}
		if arg == unix.TCOFLUSH || arg == unix.TCIOFLUSH {
			t := p.slave
			t.mu.Lock()
			t.inq = t.inq[:0]
			t.room = true
			t.unlock()
		}
		return 0, nil
	case TIOCGPTPEER:
		return 0, unix.ENOTTY // the syscall layer implements it with OpenPeer
	}
	return p.slave.ioctl(ctx, fd, cmd, arg, true, false)
}

// OpenPeer opens the slave of the pty whose master is fd (TIOCGPTPEER,
// which the syscall layer implements since it installs a new fd). flags
// are the open flags (O_RDWR, O_NOCTTY, ...). ENOTTY if fd is not a pty
// master.
func OpenPeer(ctx vfs.Context, fd *vfs.FileDescription, flags uint32) (*vfs.FileDescription, error) {
	m, ok := fd.Impl().(*masterFile)
	if !ok {
		return nil, unix.ENOTTY
	}
	impl, opts, err := m.p.openSlave(ctx, flags)
	if err != nil {
		return nil, err
	}
	return vfs.NewFileDescription(impl, flags, vfs.Path{}, opts), nil
}
