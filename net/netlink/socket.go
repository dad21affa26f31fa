package netlink

import (
	"encoding/binary"
	"math/bits"
	"sync"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/net/socket"
)

// Readiness events.
const (
	readEvents  = vfs.EventIn | vfs.EventRdNorm
	writeEvents = vfs.EventOut | vfs.EventWrNorm | vfs.EventMask(0x200) // POLLWRBAND
)

// sockaddrLen is sizeof(struct sockaddr_nl).
const sockaddrLen = 12

// datagram is one queued message: a reply of the kernel (from 0) or a
// message another socket sent.
type datagram struct {
	data  []byte
	from  uint32 // sender's port id
	group uint32 // destination group mask (nl_groups of the source address)
	cred  socket.Cred
}

// Socket is one AF_NETLINK socket. It implements vfs.FileImpl and
// socket.Socket.
type Socket struct {
	vfs.FileBase
	p        *Provider
	typ      int
	protocol int
	inode    socket.Inode
	net      socket.NetHolder // the namespace the socket keeps; nil for none

	// bindMu serializes bind, connect and autobinding sends, which take the
	// provider's lock before mu.
	bindMu sync.Mutex

	mu       sync.Mutex
	bound    bool                // protected by mu
	portid   uint32              // protected by mu
	groups   map[uint32]struct{} // joined multicast groups, 1-based; protected by mu
	dstPid   uint32              // connect's destination; protected by mu
	dstGroup uint32              // group number (not mask); protected by mu
	opts     socket.Options      // protected by mu
	flags    nlFlags             // SOL_NETLINK options; protected by mu
	rq       []datagram          // protected by mu
	rqBytes  int                 // protected by mu
	err      linux.Errno         // pending error (ENOBUFS after an overrun); protected by mu
	dump     *dump               // dump in progress; protected by mu
	// maxRecv is the largest buffer recvmsg was given, capped as Linux's
	// max_recvmsg_len; dump datagrams are sized after it.
	maxRecv int  // protected by mu
	closed  bool // protected by mu
	// filter is the socket filter (SO_ATTACH_FILTER) every queued
	// message goes through; filterLocked is SO_LOCK_FILTER. Protected by
	// mu.
	filter       *socket.Filter
	filterLocked bool

	q      vfs.Queue // readiness of this socket
	spaceQ vfs.Queue // senders waiting for room in this socket's queue
}

var (
	_ socket.Socket   = (*Socket)(nil)
	_ socket.Provider = (*Provider)(nil)
)

// nlFlags are the boolean SOL_NETLINK options: bit n is option n. The
// one set serves getsockopt, setsockopt and the code that obeys them.
type nlFlags uint32

// flagOptions are the options nlFlags holds.
const flagOptions nlFlags = 1<<linux.NETLINK_PKTINFO | 1<<linux.NETLINK_BROADCAST_ERROR |
	1<<linux.NETLINK_NO_ENOBUFS | 1<<linux.NETLINK_LISTEN_ALL_NSID | 1<<linux.NETLINK_CAP_ACK |
	1<<linux.NETLINK_EXT_ACK | 1<<linux.NETLINK_GET_STRICT_CHK

// isFlag reports whether option name is one of nlFlags.
func isFlag(name int) bool { return name >= 0 && name < 32 && flagOptions&(1<<name) != 0 }

// has reports whether option name is on.
func (f nlFlags) has(name int) bool { return isFlag(name) && f&(1<<name) != 0 }

// set turns option name, one of nlFlags, on or off.
func (f *nlFlags) set(name int, on bool) {
	if on {
		*f |= 1 << name
	} else {
		*f &^= 1 << name
	}
}

// Family implements socket.Socket.
func (s *Socket) Family() int { return linux.AF_NETLINK }

// Type implements socket.Socket.
func (s *Socket) Type() int { return s.typ }

// Protocol implements socket.Socket.
func (s *Socket) Protocol() int { return s.protocol }

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
	return copy(dst, r.Data), nil
}

// Write implements vfs.FileImpl: send to the default destination.
func (s *Socket) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, _ int64) (int, error) {
	return s.send(ctx, &socket.SendRequest{Data: src, NonBlock: fd.NonBlocking()})
}

// Readiness implements vfs.FileImpl as datagram_poll: readable when a
// datagram is queued, always writable (the kernel side never blocks).
func (s *Socket) Readiness(mask vfs.EventMask) vfs.EventMask {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := writeEvents
	if len(s.rq) > 0 {
		m |= readEvents
	}
	if s.err != 0 {
		m |= vfs.EventErr
	}
	return m & (mask | vfs.EventErr | vfs.EventHUp)
}

// EventRegister implements vfs.FileImpl.
func (s *Socket) EventRegister(w *vfs.Waiter) { s.q.Register(w) }

// EventUnregister implements vfs.FileImpl.
func (s *Socket) EventUnregister(w *vfs.Waiter) { s.q.Unregister(w) }

// Release implements vfs.FileImpl: the port id goes and queued messages
// are dropped.
func (s *Socket) Release() {
	s.mu.Lock()
	s.closed = true
	bound, id := s.bound, s.portid
	s.rq, s.rqBytes, s.dump = nil, 0, nil
	s.mu.Unlock()
	if bound {
		s.p.remove(s, id)
	}
	if s.net != nil {
		s.net.Unhold()
	}
	s.spaceQ.Notify(writeEvents)
}

// encodeAddr is struct sockaddr_nl.
func encodeAddr(pid, groups uint32) []byte {
	b := binary.LittleEndian.AppendUint16(make([]byte, 0, sockaddrLen), linux.AF_NETLINK)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, pid)
	return binary.LittleEndian.AppendUint32(b, groups)
}

// decodeAddr checks and decodes a struct sockaddr_nl (EINVAL when short or
// of another family).
func decodeAddr(b []byte) (pid, groups uint32, err error) {
	if len(b) < sockaddrLen || binary.LittleEndian.Uint16(b) != linux.AF_NETLINK {
		return 0, 0, linux.EINVAL
	}
	return binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:]), nil
}

// groupMask masks a bind/connect group bitmap to the protocol's
// groups, as netlink_bind does.
func (s *Socket) groupMask(groups uint32) uint32 {
	if n := groupsOf(s.protocol); n < 32 {
		groups &= 1<<n - 1
	}
	return groups
}

// Bind implements socket.Socket (netlink_bind): nl_pid 0 picks a port id
// unless the socket has one; a different nl_pid on a bound socket is
// EINVAL; nl_groups replaces the first 32 group memberships.
func (s *Socket) Bind(ctx socket.Context, addr []byte) error {
	pid, groups, err := decodeAddr(addr)
	if err != nil {
		return err
	}
	groups = s.groupMask(groups)
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	s.mu.Lock()
	bound, cur := s.bound, s.portid
	s.mu.Unlock()
	if bound && pid != cur {
		return linux.EINVAL
	}
	if !bound {
		s.p.mu.Lock()
		id := pid
		if pid != 0 {
			if err := s.p.insertLocked(s, pid); err != nil {
				s.p.mu.Unlock()
				return err
			}
		} else {
			id = s.p.autobindLocked(s, ctx.PID())
		}
		s.mu.Lock()
		s.bound, s.portid = true, id
		s.mu.Unlock()
		s.p.mu.Unlock()
	}
	s.mu.Lock()
	for g := uint32(1); g <= 32; g++ {
		if groups&(1<<(g-1)) != 0 {
			s.groups[g] = struct{}{}
		} else {
			delete(s.groups, g)
		}
	}
	s.mu.Unlock()
	return nil
}

// autobind gives an unbound socket a port id (sendmsg, connect) and
// returns the socket's port id.
func (s *Socket) autobind(ctx vfs.Context) uint32 {
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	s.mu.Lock()
	if s.bound {
		id := s.portid
		s.mu.Unlock()
		return id
	}
	s.mu.Unlock()
	s.p.mu.Lock()
	id := s.p.autobindLocked(s, socket.PIDOf(ctx))
	s.mu.Lock()
	s.bound, s.portid = true, id
	s.mu.Unlock()
	s.p.mu.Unlock()
	return id
}

// Listen implements socket.Socket: netlink sockets do not listen.
func (s *Socket) Listen(socket.Context, int) error { return linux.EOPNOTSUPP }

// Accept implements socket.Socket.
func (s *Socket) Accept(socket.Context, bool, uint32) (*vfs.FileDescription, []byte, error) {
	return nil, nil, linux.EOPNOTSUPP
}

// Shutdown implements socket.Socket (sock_no_shutdown).
func (s *Socket) Shutdown(socket.Context, int) error { return linux.EOPNOTSUPP }

// Connect implements socket.Socket (netlink_connect): it sets the default
// destination; AF_UNSPEC clears it. Sending to groups needs privilege for
// NETLINK_ROUTE.
func (s *Socket) Connect(ctx socket.Context, addr []byte, _ bool) error {
	if len(addr) < 2 {
		return linux.EINVAL
	}
	if binary.LittleEndian.Uint16(addr) == linux.AF_UNSPEC {
		s.mu.Lock()
		s.dstPid, s.dstGroup = 0, 0
		s.mu.Unlock()
		return nil
	}
	pid, groups, err := decodeAddr(addr)
	if err != nil {
		return err
	}
	if groups != 0 && !ctx.Credentials().Privileged {
		return linux.EPERM
	}
	s.autobind(ctx)
	s.mu.Lock()
	s.dstPid, s.dstGroup = pid, firstGroup(groups)
	s.mu.Unlock()
	return nil
}

// firstGroup is ffs(mask): the one group a destination address names.
func firstGroup(mask uint32) uint32 {
	return uint32(bits.TrailingZeros32(mask)+1) % 33
}

// groupBit is netlink_group_mask: the nl_groups bit of a group number.
func groupBit(g uint32) uint32 {
	if g == 0 || g > 32 {
		return 0
	}
	return 1 << (g - 1)
}

// SockName implements socket.Socket: the port id (0 before binding) and
// the first 32 groups.
func (s *Socket) SockName(socket.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var mask uint32
	for g := range s.groups {
		if g <= 32 {
			mask |= 1 << (g - 1)
		}
	}
	return encodeAddr(s.portid, mask), nil
}

// PeerName implements socket.Socket: the default destination (all zero
// when unconnected; netlink never reports ENOTCONN).
func (s *Socket) PeerName(socket.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return encodeAddr(s.dstPid, groupBit(s.dstGroup)), nil
}
