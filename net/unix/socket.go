package unix

import (
	"encoding/binary"
	"sync"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel/landlock"
	"uk/net/socket"
)

// Events.
const (
	eventFree   = vfs.EventMask(0x4000) // POLLFREE: the description is going away
	readEvents  = vfs.EventIn | vfs.EventRdNorm
	writeEvents = vfs.EventOut | vfs.EventWrNorm | vfs.EventMask(0x200) // POLLWRBAND
	allEvents   = vfs.EventMask(0xffffffff) &^ eventFree
)

// Shutdown bits (Linux's RCV_SHUTDOWN, SEND_SHUTDOWN).
const (
	shutRcv  = 1
	shutSend = 2
	shutBoth = shutRcv | shutSend
)

type state int

const (
	stateClosed    state = iota // TCP_CLOSE: unconnected
	stateListening              // TCP_LISTEN
	stateConnected              // TCP_ESTABLISHED
)

// message is one queued send: a datagram, a seqpacket record, or a piece
// of a stream. Its bytes are charged to the sender's wmem until read.
type message struct {
	data   []byte
	off    int // bytes of a stream message already read
	sender *Socket
	from   Address
	ctl    socket.Control
	// budget is the sandbox memory budget the message's bytes are
	// charged to until it leaves the queue (uncharge).
	budget vfs.Charger
}

// msgOverhead is what a queued message costs in uk's heap besides its
// bytes; it is charged with them.
const msgOverhead = 128

// newMessage copies data into a message charged to ctx's sandbox memory
// budget; ENOBUFS when the budget cannot cover it, as Linux's
// sock_alloc_send_pskb when the allocation fails.
func newMessage(ctx vfs.Context, data []byte, sender *Socket) (*message, error) {
	b := vfs.ChargerOf(ctx)
	if !b.Charge(int64(len(data)) + msgOverhead) {
		return nil, linux.ENOBUFS
	}
	return &message{data: append([]byte(nil), data...), sender: sender, from: sender.addr, budget: b}, nil
}

// uncharge gives the message's bytes back to the budget as it leaves the
// queue.
func (m *message) uncharge() {
	if m.budget != nil {
		m.budget.Uncharge(int64(len(m.data)) + msgOverhead)
		m.budget = nil
	}
}

// Socket is one AF_UNIX socket. It implements vfs.FileImpl and
// socket.Socket. All mutable fields are protected by ns.mu.
type Socket struct {
	vfs.FileBase
	ns    *Namespace
	typ   int
	inode socket.Inode

	bindMu sync.Mutex // serializes bind (which calls into the VFS unlocked)

	state   state
	addr    Address
	pathIno vfs.Inode // the inode a path name is bound to
	peer    *Socket
	closed  bool
	embryo  bool // accepted-side socket not yet accepted
	shut    int
	err     linux.Errno
	opts    socket.Options

	rq      []*message
	rqBytes int
	wmem    int // bytes this socket sent that are not yet read

	backlog int
	pending []*Socket // connections waiting for accept

	peerCred    socket.Cred
	hasPeerCred bool
	// landlock is the Landlock domain of the task that made the socket:
	// an abstract address reaches it only from the same domain or one
	// nested in it, when the connecter's domain scopes abstract sockets.
	landlock *landlock.Domain
	// net is the network namespace of the task that made the socket
	// (socket.Context.NetNamespace): where its abstract name lives and
	// where it looks abstract names up.
	net any

	// dgramFrom are the datagram sockets connected to this one: they are
	// told when the receive queue stops being full.
	dgramFrom map[*Socket]struct{}

	q      vfs.Queue // readiness of this socket
	spaceQ vfs.Queue // senders/connecters waiting for room here

	wmu     sync.Mutex
	waiters map[*vfs.Waiter]struct{} // registered through the description; protected by wmu
	wclosed bool                     // protected by wmu
}

// checkType validates a socket type (without SOCK_NONBLOCK/SOCK_CLOEXEC)
// and protocol for AF_UNIX.
func checkType(typ, protocol int) error {
	switch typ {
	case linux.SOCK_STREAM, linux.SOCK_DGRAM, linux.SOCK_SEQPACKET:
	case linux.SOCK_RAW:
		typ = linux.SOCK_DGRAM
	default:
		return linux.ESOCKTNOSUPPORT
	}
	if protocol != 0 && protocol != linux.AF_UNIX {
		return linux.EPROTONOSUPPORT
	}
	return nil
}

func (ns *Namespace) newSocket(ctx socket.Context, typ int) *Socket {
	s := &Socket{ns: ns, typ: typ, opts: socket.NewOptions(), net: ctx.NetNamespace()}
	var uid, gid uint32
	if c := ctx.Credentials(); c != nil {
		uid, gid = c.FSUID, c.FSGID
		s.landlock = landlock.Of(c)
	}
	s.inode = socket.NewInode(uid, gid)
	ns.liveMu.Lock()
	ns.live[s] = struct{}{}
	ns.liveMu.Unlock()
	return s
}

func (s *Socket) description(flags uint32) *vfs.FileDescription {
	return vfs.NewFileDescription(s, linux.O_RDWR|flags&linux.O_NONBLOCK, vfs.Path{}, vfs.FileOptions{})
}

// Socket implements socket.Provider: a new unbound socket. SOCK_RAW is
// accepted as SOCK_DGRAM, as Linux does.
func (ns *Namespace) Socket(ctx socket.Context, typ, protocol int, flags uint32) (*vfs.FileDescription, error) {
	if err := checkType(typ, protocol); err != nil {
		return nil, err
	}
	if typ == linux.SOCK_RAW {
		typ = linux.SOCK_DGRAM
	}
	return ns.newSocket(ctx, typ).description(flags), nil
}

// Pair implements socket.Provider: two connected, unnamed sockets whose
// peer credentials are the caller's.
func (ns *Namespace) Pair(ctx socket.Context, typ, protocol int, flags uint32) (*vfs.FileDescription, *vfs.FileDescription, error) {
	if err := checkType(typ, protocol); err != nil {
		return nil, nil, err
	}
	if typ == linux.SOCK_RAW {
		typ = linux.SOCK_DGRAM
	}
	a, b := ns.newSocket(ctx, typ), ns.newSocket(ctx, typ)
	a.peer, b.peer = b, a
	a.state, b.state = stateConnected, stateConnected
	cred := credOf(ctx)
	a.peerCred, b.peerCred = cred, cred
	a.hasPeerCred, b.hasPeerCred = true, true
	if typ == linux.SOCK_DGRAM {
		a.dgramFrom = map[*Socket]struct{}{b: {}}
		b.dgramFrom = map[*Socket]struct{}{a: {}}
	}
	return a.description(flags), b.description(flags), nil
}

// credOf is SO_PEERCRED's view of the caller: pid and effective ids.
func credOf(ctx socket.Context) socket.Cred {
	c := ctx.Credentials()
	return socket.Cred{PID: ctx.PID(), UID: c.EUID, GID: c.EGID}
}

// Family implements socket.Socket.
func (s *Socket) Family() int { return linux.AF_UNIX }

// Type implements socket.Socket.
func (s *Socket) Type() int { return s.typ }

// Protocol implements socket.Socket.
func (s *Socket) Protocol() int { return 0 }

// Name is what /proc/PID/fd/N links to.
func (s *Socket) Name() string { return s.inode.Name() }

// Stat implements vfs.FileImpl: the socket's sockfs inode.
func (s *Socket) Stat(vfs.Context, *vfs.FileDescription) (vfs.Stat, error) {
	return s.inode.Stat(), nil
}

// Read implements vfs.FileImpl: recv with no flags.
func (s *Socket) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	r, err := s.recv(ctx, &socket.RecvRequest{Len: len(dst), NonBlock: fd.NonBlocking()})
	if err != nil {
		return 0, err
	}
	r.Control.Release()
	return copy(dst, r.Data), nil
}

// Write implements vfs.FileImpl: send with no flags (EPIPE makes the
// kernel send SIGPIPE, as for write(2) on Linux).
func (s *Socket) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, _ int64) (int, error) {
	return s.send(ctx, &socket.SendRequest{Data: src, NonBlock: fd.NonBlocking()})
}

// Ioctl numbers.
const (
	ioctlSIOCINQ  = 0x541B // FIONREAD
	ioctlSIOCOUTQ = 0x5411 // TIOCOUTQ
)

// Ioctl implements vfs.FileImpl: SIOCINQ/FIONREAD (unread bytes; for a
// datagram socket the size of the next datagram) and SIOCOUTQ (sent bytes
// not yet read by the peer).
func (s *Socket) Ioctl(ctx vfs.Context, _ *vfs.FileDescription, cmd uint32, arg uint64) (uintptr, error) {
	var v int
	s.ns.lock()
	switch cmd {
	case ioctlSIOCINQ:
		if s.state == stateListening {
			s.ns.unlock()
			return 0, linux.EINVAL
		}
		if s.typ == linux.SOCK_DGRAM {
			if len(s.rq) > 0 {
				v = len(s.rq[0].data)
			}
		} else {
			v = s.rqBytes
		}
	case ioctlSIOCOUTQ:
		v = s.wmem
	default:
		s.ns.unlock()
		return 0, linux.ENOTTY
	}
	s.ns.unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return 0, ctx.CopyOut(arg, b[:])
}

// writableLocked is unix_writable: not listening, and at most a quarter
// of the send buffer in flight.
func (s *Socket) writableLocked() bool {
	return s.state != stateListening && s.wmem*4 <= s.opts.SndBuf
}

// recvqFullLocked is unix_recvq_full: more queued entries than the backlog
// (pending connections of a listener, datagrams of a receiver).
func (s *Socket) recvqFullLocked() bool {
	if s.state == stateListening {
		return len(s.pending) > s.backlog
	}
	return len(s.rq) > MaxDgramQlen
}

// Readiness implements vfs.FileImpl as Linux's unix_poll (stream) and
// unix_dgram_poll (datagram, seqpacket).
func (s *Socket) Readiness(mask vfs.EventMask) vfs.EventMask {
	s.ns.lock()
	defer s.ns.unlock()
	var m vfs.EventMask
	if s.err != 0 {
		m |= vfs.EventErr
	}
	if s.shut == shutBoth {
		m |= vfs.EventHUp
	}
	if s.shut&shutRcv != 0 {
		m |= vfs.EventRdHUp | readEvents
	}
	if len(s.rq) > 0 || len(s.pending) > 0 {
		m |= readEvents
	}
	switch s.typ {
	case linux.SOCK_STREAM:
		if s.state == stateClosed {
			m |= vfs.EventHUp
		}
		if s.writableLocked() {
			m |= writeEvents
		}
	default:
		if s.typ == linux.SOCK_SEQPACKET && s.state == stateClosed {
			m |= vfs.EventHUp
		}
		w := s.writableLocked()
		if w && s.typ == linux.SOCK_DGRAM && s.peer != nil && s.peer.peer != s && !s.peer.closed && s.peer.recvqFullLocked() {
			w = false
		}
		if w {
			m |= writeEvents
		}
	}
	return m & (mask | vfs.EventErr | vfs.EventHUp)
}

// EventRegister implements vfs.FileImpl.
func (s *Socket) EventRegister(w *vfs.Waiter) {
	s.wmu.Lock()
	if s.wclosed {
		s.wmu.Unlock()
		return
	}
	if s.waiters == nil {
		s.waiters = map[*vfs.Waiter]struct{}{}
	}
	s.waiters[w] = struct{}{}
	s.wmu.Unlock()
	s.q.Register(w)
}

// EventUnregister implements vfs.FileImpl.
func (s *Socket) EventUnregister(w *vfs.Waiter) {
	s.wmu.Lock()
	delete(s.waiters, w)
	s.wmu.Unlock()
	s.q.Unregister(w)
}

// Release implements vfs.FileImpl: close(2) of the last descriptor.
func (s *Socket) Release() {
	s.wmu.Lock()
	s.wclosed = true
	ws := s.waiters
	s.waiters = nil
	s.wmu.Unlock()
	for w := range ws {
		s.q.Unregister(w)
	}
	s.ns.lock()
	s.releaseLocked()
	s.ns.unlock()
	for w := range ws {
		if w.Mask&eventFree != 0 {
			w.Callback(eventFree)
		}
	}
}

// releaseLocked is unix_release_sock: the name goes, pending connections
// are reset, a connected peer sees EOF (and ECONNRESET if this socket had
// unread data), queued messages and their descriptions are dropped.
func (s *Socket) releaseLocked() {
	if s.closed {
		return
	}
	ns := s.ns
	s.closed = true
	s.shut = shutBoth
	ns.liveMu.Lock()
	delete(ns.live, s)
	ns.liveMu.Unlock()
	if k := (abstractName{s.net, s.addr.Name}); s.addr.Abstract && ns.abstract[k] == s {
		delete(ns.abstract, k)
	}
	if s.pathIno != nil && ns.paths[s.pathIno] == s {
		delete(ns.paths, s.pathIno)
	}
	embryos := s.pending
	s.pending = nil
	for _, e := range embryos {
		e.releaseLocked()
	}
	if p := s.peer; p != nil {
		if s.typ != linux.SOCK_DGRAM {
			p.shut = shutBoth
			if len(s.rq) > 0 || s.embryo {
				p.err = linux.ECONNRESET
			}
			ns.notifyLocked(&p.q, allEvents)
		} else if p.dgramFrom != nil {
			delete(p.dgramFrom, s)
		}
	}
	for o := range s.dgramFrom {
		ns.notifyLocked(&o.q, allEvents)
	}
	s.dgramFrom = nil
	for _, m := range s.rq {
		s.consumeLocked(m, len(m.data)-m.off)
		ns.dropLocked(&m.ctl)
		m.uncharge()
	}
	s.rq, s.rqBytes = nil, 0
	ns.notifyLocked(&s.q, allEvents)
	ns.notifyLocked(&s.spaceQ, allEvents)
}

// consumeLocked accounts n bytes of m as read: the sender's wmem drops and
// a blocked or polling sender hears about it.
func (s *Socket) consumeLocked(m *message, n int) {
	s.rqBytes -= n
	if m.sender != nil {
		m.sender.wmem -= n
		s.ns.notifyLocked(&m.sender.q, writeEvents)
	}
}
