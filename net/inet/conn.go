package inet

import (
	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"uk/fs/vfs"
	"uk/kernel/landlock"
	"uk/net/socket"
)

// Bind implements socket.Socket.
func (s *Socket) Bind(ctx socket.Context, addr []byte) error {
	fa, af, err := s.parseAddrFor(useBind, addr)
	if err != nil {
		return err
	}
	if af == linux.AF_UNSPEC {
		// Linux accepts AF_UNSPEC with INADDR_ANY on AF_INET sockets, for
		// old programs; anything else is EAFNOSUPPORT.
		if s.family != linux.AF_INET || len(addr) < sizeofSockaddrIn || !allZero(addr[in4AddrOffset:in4AddrOffset+4]) {
			return linux.EAFNOSUPPORT
		}
		fa.Port = portOf(addr)
	}
	if s.typ == linux.SOCK_STREAM && landlock.Of(ctx.Credentials()).NetDenied(landlock.AccessBindTCP, fa.Port) {
		return linux.EACCES
	}
	if fa.Port != 0 && fa.Port < 1024 && !ctx.Credentials().Privileged {
		return linux.EACCES
	}
	if terr := s.ep.Bind(fa); terr != nil {
		if _, ok := terr.(*tcpip.ErrBadLocalAddress); ok {
			return linux.EADDRNOTAVAIL
		}
		return errnoOf(terr)
	}
	s.mu.Lock()
	s.boundTo = &fa
	s.mu.Unlock()
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func portOf(b []byte) uint16 { return uint16(b[portOffset])<<8 | uint16(b[portOffset+1]) }

// Listen implements socket.Socket. The backlog is clamped as Linux clamps
// it to net.core.somaxconn.
func (s *Socket) Listen(ctx socket.Context, backlog int) error {
	if s.typ != linux.SOCK_STREAM {
		return linux.EOPNOTSUPP
	}
	if backlog < 0 || backlog > 4096 {
		backlog = 4096
	}
	if terr := s.ep.Listen(backlog); terr != nil {
		return errnoOf(terr)
	}
	// Listening again after a shutdown starts afresh, as from Linux's
	// CLOSE state.
	s.mu.Lock()
	s.shut = 0
	s.mu.Unlock()
	return nil
}

// Accept implements socket.Socket.
func (s *Socket) Accept(ctx socket.Context, nonblock bool, flags uint32) (*vfs.FileDescription, []byte, error) {
	if s.typ != linux.SOCK_STREAM {
		return nil, nil, linux.EOPNOTSUPP
	}
	var b *socket.Blocker
	defer func() {
		if b != nil {
			b.Done()
		}
	}()
	if s.listenerShut() {
		return nil, nil, linux.EINVAL
	}
	for {
		var peer tcpip.FullAddress
		ep, wq, terr := s.ep.Accept(&peer)
		if terr == nil {
			// The connection lives in the listener's namespace, whatever
			// the accepting task's.
			n := newSocket(s.st, s.family, s.typ, s.protocol, ep, wq, ctx.Credentials(), s.net)
			s.mu.Lock()
			n.opts = s.opts
			s.mu.Unlock()
			d := vfs.NewFileDescription(n, linux.O_RDWR|flags&linux.O_NONBLOCK, vfs.Path{}, vfs.FileOptions{})
			return d, encodeAddr(s.family, peer), nil
		}
		if !wouldBlock(terr) {
			return nil, nil, errnoOf(terr)
		}
		if nonblock {
			return nil, nil, linux.EAGAIN
		}
		if b == nil {
			b = socket.NewBlocker(readEvents|vfs.EventErr|vfs.EventHUp, s.rcvTimeo())
		}
		if err := b.Wait(ctx, &s.q); err != nil {
			return nil, nil, err
		}
	}
}

// Connect implements socket.Socket. A blocking TCP connect waits for the
// handshake and reports its error; a non-blocking one returns EINPROGRESS
// and leaves the result to SO_ERROR. AF_UNSPEC dissolves a datagram
// socket's association.
func (s *Socket) Connect(ctx socket.Context, addr []byte, nonblock bool) error {
	if s.typ != linux.SOCK_STREAM {
		return s.connect(ctx, addr, nonblock)
	}
	s.renewTCP()
	err := s.connect(ctx, addr, nonblock)
	s.noteConnectResult(err)
	return err
}

func (s *Socket) connect(ctx socket.Context, addr []byte, nonblock bool) error {
	fa, af, err := s.parseAddrFor(useConnect, addr)
	if err != nil {
		return err
	}
	if af == linux.AF_UNSPEC {
		if s.typ == linux.SOCK_STREAM {
			// Linux disconnects a TCP socket (tcp_disconnect) and
			// returns 0; tcpip has no such state change, so only an
			// unconnected socket gets here cleanly.
			if terr := s.ep.Disconnect(); terr != nil {
				return nil
			}
			return nil
		}
		if terr := s.ep.Disconnect(); terr != nil {
			return errnoOf(terr)
		}
		return nil
	}
	if s.typ == linux.SOCK_STREAM && landlock.Of(ctx.Credentials()).NetDenied(landlock.AccessConnectTCP, fa.Port) {
		// Landlock refuses before the stack sees the connect.
		return linux.EACCES
	}
	if s.st.loopbackDown(fa.Addr) {
		return linux.ENETUNREACH
	}
	if s.typ != linux.SOCK_STREAM {
		if terr := s.ep.Connect(fa); terr != nil {
			return errnoOf(terr)
		}
		return nil
	}
	if tcp.EndpointState(s.ep.State()) == tcp.StateListen {
		// A listener is not in the CLOSE state a connect starts from.
		return linux.EISCONN
	}
	var b *socket.Blocker
	defer func() {
		if b != nil {
			b.Done()
		}
	}()
	// Register before starting, so the handshake's completion cannot be
	// missed between Connect and the wait.
	b = socket.NewBlocker(writeEvents|vfs.EventErr|vfs.EventHUp, s.sndTimeo())
	if !nonblock {
		b.Wait(ctx, &s.q)
	}
	terr := s.ep.Connect(fa)
	switch terr.(type) {
	case nil:
		return nil
	case *tcpip.ErrConnectStarted:
		if nonblock {
			return linux.EINPROGRESS
		}
	case *tcpip.ErrAlreadyConnecting:
		if nonblock {
			return linux.EALREADY
		}
	default:
		return errnoOf(terr)
	}
	for s.ep.Readiness(waiter.WritableEvents|waiter.EventErr|waiter.EventHUp) == 0 {
		if err := b.Wait(ctx, &s.q); err != nil {
			if err == linux.EAGAIN {
				return linux.EINPROGRESS
			}
			return err
		}
	}
	if terr := s.takeEndpointError(); terr != nil {
		return errnoOf(terr)
	}
	// tcpip answers the first connect after the handshake with success
	// (a non-blocking caller learns of the connection that way); this
	// caller already has, so the next connect must say EISCONN.
	s.ep.Connect(fa)
	return nil
}

// SockName implements socket.Socket.
func (s *Socket) SockName(ctx socket.Context) ([]byte, error) {
	fa, terr := s.ep.GetLocalAddress()
	if terr != nil {
		return nil, errnoOf(terr)
	}
	return encodeAddr(s.family, fa), nil
}

// PeerName implements socket.Socket.
func (s *Socket) PeerName(ctx socket.Context) ([]byte, error) {
	fa, terr := s.ep.GetRemoteAddress()
	if terr != nil {
		return nil, errnoOf(terr)
	}
	return encodeAddr(s.family, fa), nil
}

// Shutdown implements socket.Socket.
func (s *Socket) Shutdown(ctx socket.Context, how int) error {
	var f tcpip.ShutdownFlags
	switch how {
	case linux.SHUT_RD:
		f = tcpip.ShutdownRead
	case linux.SHUT_WR:
		f = tcpip.ShutdownWrite
	case linux.SHUT_RDWR:
		f = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return linux.EINVAL
	}
	if s.typ == linux.SOCK_STREAM {
		// Linux records the shutdown even on a socket that is not
		// connected (which says ENOTCONN); poll shows it.
		s.mu.Lock()
		s.shut |= f
		s.mu.Unlock()
	}
	if terr := s.ep.Shutdown(f); terr != nil {
		return errnoOf(terr)
	}
	return nil
}
