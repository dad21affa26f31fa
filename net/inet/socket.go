package inet

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"uk/fs/vfs"
	"uk/net/socket"
)

// eventFree is Linux's POLLFREE: sent to waiters when the socket goes
// away, so that epoll drops its entries.
const eventFree = vfs.EventMask(0x4000)

// Provider creates the sockets of one family (AF_INET or AF_INET6) on a
// stack. It implements socket.Provider.
type Provider struct {
	st     *Stack
	family int
}

// Provider returns the socket factory of family (AF_INET or AF_INET6).
func (s *Stack) Provider(family int) *Provider {
	return &Provider{st: s, family: family}
}

// ipprotoMax is Linux's IPPROTO_MAX: protocols at or above it are EINVAL,
// those below it that no transport serves EPROTONOSUPPORT.
const ipprotoMax = 263

// Socket implements socket.Provider: socket(2) with Linux's checks, in
// inet_create's order (the syscall layer has already refused types at or
// above SOCK_MAX).
func (p *Provider) Socket(ctx socket.Context, typ, protocol int, flags uint32) (*vfs.FileDescription, error) {
	if protocol < 0 || protocol >= ipprotoMax {
		return nil, linux.EINVAL
	}
	netProto := tcpip.NetworkProtocolNumber(ipv4.ProtocolNumber)
	icmpProto := linux.IPPROTO_ICMP
	if p.family == linux.AF_INET6 {
		netProto = ipv6.ProtocolNumber
		icmpProto = linux.IPPROTO_ICMPV6
	}
	wq := &waiter.Queue{}
	var ep tcpip.Endpoint
	var terr tcpip.Error
	switch typ {
	case linux.SOCK_STREAM:
		// MPTCP sockets are served by plain TCP, which is what Linux's
		// MPTCP falls back to when the peer does not speak it.
		if protocol != 0 && protocol != linux.IPPROTO_TCP && protocol != linux.IPPROTO_MPTCP {
			return nil, linux.EPROTONOSUPPORT
		}
		if protocol == 0 {
			protocol = linux.IPPROTO_TCP
		}
		ep, terr = p.st.ts.NewEndpoint(tcp.ProtocolNumber, netProto, wq)
		if terr == nil {
			// Nagle's algorithm is on until TCP_NODELAY, as in Linux.
			ep.SocketOptions().SetDelayOption(true)
			ep = newRenewable(ep)
		}
	case linux.SOCK_DGRAM:
		switch protocol {
		case 0, linux.IPPROTO_UDP, linux.IPPROTO_UDPLITE:
			// UDP-Lite sockets are UDP sockets here (full checksum
			// coverage, which UDP-Lite allows); they keep their
			// protocol number for SO_PROTOCOL.
			if protocol == 0 {
				protocol = linux.IPPROTO_UDP
			}
			ep, terr = p.st.ts.NewEndpoint(udp.ProtocolNumber, netProto, wq)
		case icmpProto:
			ep, terr = p.st.ts.NewEndpoint(icmpTransport(p.family), netProto, wq)
		default:
			return nil, linux.EPROTONOSUPPORT
		}
	case linux.SOCK_RAW:
		if protocol == 0 {
			return nil, linux.EPROTONOSUPPORT
		}
		if !ctx.Credentials().Privileged {
			return nil, linux.EPERM
		}
		ep, terr = p.st.ts.NewRawEndpoint(tcpip.TransportProtocolNumber(protocol), netProto, wq, protocol != linux.IPPROTO_RAW)
	default:
		return nil, linux.ESOCKTNOSUPPORT
	}
	if terr != nil {
		return nil, errnoOf(terr)
	}
	s := newSocket(p.st, p.family, typ, protocol, ep, wq, ctx.Credentials(), socket.NetOf(ctx))
	p.st.mem.opened(ctx, p.st)
	return vfs.NewFileDescription(s, linux.O_RDWR|flags&linux.O_NONBLOCK, vfs.Path{}, vfs.FileOptions{}), nil
}

// icmpTransport is the ICMP transport of a family (ping sockets).
func icmpTransport(family int) tcpip.TransportProtocolNumber {
	if family == linux.AF_INET6 {
		return icmp.ProtocolNumber6
	}
	return icmp.ProtocolNumber4
}

// Pair implements socket.Provider: Internet sockets have no pairs.
func (p *Provider) Pair(socket.Context, int, int, uint32) (*vfs.FileDescription, *vfs.FileDescription, error) {
	return nil, nil, linux.EOPNOTSUPP
}

// Socket is one AF_INET or AF_INET6 socket: a tcpip endpoint and what
// Linux keeps beside it. It implements vfs.FileImpl and socket.Socket.
type Socket struct {
	vfs.FileBase
	st       *Stack
	family   int
	typ      int
	protocol int
	ep       tcpip.Endpoint
	wq       *waiter.Queue
	net      socket.NetHolder // the namespace the socket keeps; nil for none
	bridge   waiter.Entry
	q        vfs.Queue
	inode    socket.Inode

	mu   sync.Mutex // guards opts and the fields below
	opts socket.Options
	// stored options tcpip has no place for, echoed back by getsockopt.
	stored map[[2]int][]byte
	// pendingErr is an error recvmmsg left for the next call (Linux's
	// sk_err); errors of the endpoint itself wait in tcpip.
	pendingErr linux.Errno
	// groups are the multicast groups joined (mcast.go).
	groups []membership
	// cork is what MSG_MORE holds back (cork.go).
	cork corkState
	// boundTo is the address of an explicit bind, which a renewed TCP
	// endpoint keeps (reconnect.go).
	boundTo *tcpip.FullAddress
	// connectFailed is set once a connect reported a failed connection
	// attempt: the next connect renews the endpoint (reconnect.go).
	connectFailed bool
	// errorReported is set once the error of a TCP endpoint in its
	// error state was returned (by connect or SO_ERROR): poll no longer
	// says POLLERR.
	errorReported bool
	// shut are the directions shutdown(2) closed on a TCP socket.
	shut tcpip.ShutdownFlags

	// sndSegs counts the writes since the send queue was last seen
	// empty, and released is set by Release: the stack's memory
	// account reads both (memacct.go).
	sndSegs  atomic.Int64
	released atomic.Bool
}

// newSocket wraps a tcpip endpoint, holding the network namespace net
// (nil: none to hold) until Release. The bridge entry forwards every
// readiness change of the endpoint's queue to the description's queue,
// where poll, epoll and blocking calls wait.
func newSocket(st *Stack, family, typ, protocol int, ep tcpip.Endpoint, wq *waiter.Queue, cred *vfs.Credentials, net socket.NetHolder) *Socket {
	var uid, gid uint32
	if cred != nil {
		uid, gid = cred.EUID, cred.EGID
	}
	if net != nil {
		net.Hold()
	}
	s := &Socket{st: st, family: family, typ: typ, protocol: protocol, ep: ep, wq: wq,
		inode: socket.NewInode(uid, gid), opts: socket.NewOptions(), net: net}
	s.bridge = waiter.NewFunctionEntry(waiter.EventMask(0xffffffff)&^waiter.EventInternal, func(m waiter.EventMask) {
		s.q.Notify(vfs.EventMask(m.ToLinux()))
	})
	wq.EventRegister(&s.bridge)
	if typ == linux.SOCK_STREAM {
		// Linux's TCP sockets start with SO_SNDBUF/SO_RCVBUF of the tcp_wmem
		// and tcp_rmem defaults, not the core defaults.
		s.opts.SndBuf = 16384
		s.opts.RcvBuf = 131072
		if st != nil {
			st.mem.track(s)
		}
	}
	if st != nil {
		st.register(s)
	}
	return s
}

// Family implements socket.Socket.
func (s *Socket) Family() int { return s.family }

// Type implements socket.Socket.
func (s *Socket) Type() int { return s.typ }

// Protocol implements socket.Socket.
func (s *Socket) Protocol() int { return s.protocol }

// Stat implements vfs.FileImpl: the socket's sockfs inode.
func (s *Socket) Stat(vfs.Context, *vfs.FileDescription) (vfs.Stat, error) {
	return s.inode.Stat(), nil
}

// Read implements vfs.FileImpl: recv with no flags, except that reading
// nothing returns 0 at once (sock_read_iter), where recv waits for data.
func (s *Socket) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	return s.recvInto(ctx, dst, 0, fd.NonBlocking(), nil)
}

// Write implements vfs.FileImpl: send with no flags.
func (s *Socket) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, _ int64) (int, error) {
	return s.send(ctx, src, nil, 0, fd.NonBlocking())
}

// Readiness implements vfs.FileImpl.
func (s *Socket) Readiness(mask vfs.EventMask) vfs.EventMask {
	m := s.ep.Readiness(waiter.EventMaskFromLinux(uint32(mask)))
	if s.typ == linux.SOCK_STREAM {
		m = s.tcpReadiness(m)
	}
	return vfs.EventMask(m.ToLinux()) & mask
}

// tcpReadiness corrects tcpip's readiness of a TCP socket where it
// differs from Linux's tcp_poll: POLLERR only while an error waits to be
// reported; a socket in the CLOSE state (never connected, or a listener
// that was shut down) is writable and hung up, and readable once shut
// for reading.
func (s *Socket) tcpReadiness(m waiter.EventMask) waiter.EventMask {
	if m&waiter.EventErr != 0 && !s.tcpErrorPending() {
		m &^= waiter.EventErr
	}
	s.mu.Lock()
	shut := s.shut
	s.mu.Unlock()
	switch tcp.EndpointState(s.ep.State()) {
	case tcp.StateInitial, tcp.StateBound:
		m |= waiter.EventHUp | waiter.WritableEvents
		if shut&tcpip.ShutdownRead != 0 {
			m |= waiter.ReadableEvents | waiter.EventRdHUp
		}
	case tcp.StateListen:
		if shut&tcpip.ShutdownRead != 0 {
			m = waiter.EventHUp | waiter.WritableEvents
		}
	}
	return m
}

// listenerShut reports whether s is a listener that shutdown(SHUT_RD)
// closed: Linux has put it back in the CLOSE state, where accept is
// EINVAL.
func (s *Socket) listenerShut() bool {
	if s.typ != linux.SOCK_STREAM || tcp.EndpointState(s.ep.State()) != tcp.StateListen {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shut&tcpip.ShutdownRead != 0
}

// tcpErrorPending reports whether a TCP socket has an error to report,
// which is when Linux's poll says POLLERR: tcpip's endpoint is "ready for
// anything" once closed, even in TIME_WAIT after an orderly close, and
// stays so after its error was read.
func (s *Socket) tcpErrorPending() bool {
	if tcp.EndpointState(s.ep.State()) != tcp.StateError {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.errorReported
}

// EventRegister implements vfs.FileImpl.
func (s *Socket) EventRegister(w *vfs.Waiter) { s.q.Register(w) }

// EventUnregister implements vfs.FileImpl.
func (s *Socket) EventUnregister(w *vfs.Waiter) { s.q.Unregister(w) }

// Release implements vfs.FileImpl: the endpoint closes (a TCP connection
// then finishes in the background, or resets when SO_LINGER says 0), and
// epoll hears POLLFREE.
func (s *Socket) Release() {
	s.wq.EventUnregister(&s.bridge)
	s.ep.Close()
	s.released.Store(true)
	if s.st != nil {
		s.st.mem.closed(s.st, s)
		s.st.unregister(s)
	}
	s.q.Notify(eventFree)
	if s.net != nil {
		s.net.Unhold() // the last holder gone, the namespace's stack stops
	}
}

// Ioctl numbers of socket queues.
const (
	ioctlSIOCINQ    = 0x541B // FIONREAD
	ioctlSIOCOUTQ   = 0x5411 // TIOCOUTQ
	ioctlSIOCATMARK = 0x8905
)

// Ioctl implements vfs.FileImpl: SIOCINQ/FIONREAD and SIOCOUTQ. Interface
// ioctls (SIOCGIF*) answer ENOTTY here; the syscall layer sends them to
// netdev.Ioctl.
func (s *Socket) Ioctl(ctx vfs.Context, _ *vfs.FileDescription, cmd uint32, arg uint64) (uintptr, error) {
	var v int
	var terr tcpip.Error
	switch cmd {
	case ioctlSIOCINQ:
		if s.typ == linux.SOCK_STREAM && s.ep.State() == uint32(tcp.StateListen) {
			return 0, linux.EINVAL
		}
		v, terr = s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
	case ioctlSIOCOUTQ:
		if s.typ == linux.SOCK_STREAM && s.ep.State() == uint32(tcp.StateListen) {
			return 0, linux.EINVAL
		}
		if s.typ == linux.SOCK_STREAM {
			// tcpip answers this only for datagram endpoints.
			v = sendQueued(s.ep)
			break
		}
		v, terr = s.ep.GetSockOptInt(tcpip.SendQueueSizeOption)
	case ioctlSIOCATMARK:
		// Whether the read position is at the urgent mark: a TCP
		// socket's question only. uk's stack keeps urgent data
		// inline, so no mark is ever pending there.
		if s.typ != linux.SOCK_STREAM {
			return 0, linux.ENOTTY
		}
		v = 0
	default:
		return 0, linux.ENOTTY
	}
	if terr != nil {
		return 0, errnoOf(terr)
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return 0, ctx.CopyOut(arg, b[:])
}

var (
	_ socket.Socket      = (*Socket)(nil)
	_ socket.ErrorHolder = (*Socket)(nil)
)
