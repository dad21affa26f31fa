package inet

import (
	"encoding/binary"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"

	"uk/fs/vfs"
	"uk/net/socket"
)

// sizeofSockaddrLL is the size of struct sockaddr_ll.
const sizeofSockaddrLL = 20

// PacketProvider creates AF_PACKET sockets: raw (SOCK_RAW, whole Ethernet
// frames) and cooked (SOCK_DGRAM, network-layer packets) access to the
// sandbox's links, for programs such as DHCP clients that must send
// before they have an address.
type PacketProvider struct{ st *Stack }

// PacketProvider returns the AF_PACKET socket factory.
func (s *Stack) PacketProvider() *PacketProvider { return &PacketProvider{st: s} }

// Socket implements socket.Provider. protocol is an ETH_P_* value in
// network byte order, as for Linux; 0 receives nothing until bind names a
// protocol.
func (p *PacketProvider) Socket(ctx socket.Context, typ, protocol int, flags uint32) (*vfs.FileDescription, error) {
	if typ != linux.SOCK_RAW && typ != linux.SOCK_DGRAM {
		return nil, linux.ESOCKTNOSUPPORT
	}
	if !ctx.Credentials().Privileged {
		return nil, linux.EPERM
	}
	proto := tcpip.NetworkProtocolNumber(ntohs(uint16(protocol)))
	wq := &waiter.Queue{}
	ep, terr := p.st.ts.NewPacketEndpoint(typ == linux.SOCK_DGRAM, proto, wq)
	if terr != nil {
		return nil, errnoOf(terr)
	}
	s := &PacketSocket{Socket: newSocket(p.st, linux.AF_PACKET, typ, protocol, ep, wq, ctx.Credentials(), socket.NetOf(ctx))}
	return vfs.NewFileDescription(s, linux.O_RDWR|flags&linux.O_NONBLOCK, vfs.Path{}, vfs.FileOptions{}), nil
}

// Pair implements socket.Provider.
func (p *PacketProvider) Pair(socket.Context, int, int, uint32) (*vfs.FileDescription, *vfs.FileDescription, error) {
	return nil, nil, linux.EOPNOTSUPP
}

// PacketSocket is an AF_PACKET socket. It shares the endpoint plumbing of
// Socket and speaks struct sockaddr_ll.
type PacketSocket struct {
	*Socket
}

func ntohs(v uint16) uint16 { return v<<8 | v>>8 }

// parseLL decodes a struct sockaddr_ll into tcpip's form: the interface,
// the protocol (in host order) and the link address.
func parseLL(b []byte) (tcpip.FullAddress, error) {
	if len(b) < sizeofSockaddrLL {
		return tcpip.FullAddress{}, linux.EINVAL
	}
	if binary.LittleEndian.Uint16(b) != linux.AF_PACKET {
		return tcpip.FullAddress{}, linux.EINVAL
	}
	fa := tcpip.FullAddress{
		Port: binary.BigEndian.Uint16(b[2:]),
		NIC:  tcpip.NICID(int32(binary.LittleEndian.Uint32(b[4:]))),
	}
	if n := int(b[11]); n > 0 {
		fa.LinkAddr = tcpip.LinkAddress(b[12 : 12+min(n, 8)])
	}
	return fa, nil
}

// encodeLL is the sockaddr_ll of a link-layer address.
func (s *PacketSocket) encodeLL(fa tcpip.FullAddress) []byte {
	b := make([]byte, sizeofSockaddrLL)
	binary.LittleEndian.PutUint16(b, linux.AF_PACKET)
	binary.BigEndian.PutUint16(b[2:], fa.Port)
	binary.LittleEndian.PutUint32(b[4:], uint32(fa.NIC))
	hatype := uint16(linux.ARPHRD_ETHER)
	if fa.NIC == LoopbackIndex {
		hatype = linux.ARPHRD_LOOPBACK
	}
	binary.LittleEndian.PutUint16(b[8:], hatype)
	b[11] = byte(len(fa.LinkAddr))
	copy(b[12:], fa.LinkAddr)
	return b
}

// Bind implements socket.Socket: sll_ifindex picks the interface (0: all)
// and sll_protocol the packets received (0: keep the socket's).
func (s *PacketSocket) Bind(ctx socket.Context, addr []byte) error {
	fa, err := parseLL(addr)
	if err != nil {
		return err
	}
	if fa.Port == 0 {
		fa.Port = ntohs(uint16(s.protocol))
	}
	if fa.NIC != 0 {
		if _, ok := s.st.linkName(int32(fa.NIC)); !ok {
			return linux.ENODEV
		}
	}
	if terr := s.ep.Bind(fa); terr != nil {
		return errnoOf(terr)
	}
	return nil
}

// Listen implements socket.Socket.
func (s *PacketSocket) Listen(socket.Context, int) error { return linux.EOPNOTSUPP }

// Accept implements socket.Socket.
func (s *PacketSocket) Accept(socket.Context, bool, uint32) (*vfs.FileDescription, []byte, error) {
	return nil, nil, linux.EOPNOTSUPP
}

// Connect implements socket.Socket.
func (s *PacketSocket) Connect(socket.Context, []byte, bool) error { return linux.EOPNOTSUPP }

// Shutdown implements socket.Socket.
func (s *PacketSocket) Shutdown(socket.Context, int) error { return linux.EOPNOTSUPP }

// SockName implements socket.Socket.
func (s *PacketSocket) SockName(socket.Context) ([]byte, error) {
	fa, terr := s.ep.GetLocalAddress()
	if terr != nil {
		return nil, errnoOf(terr)
	}
	return s.encodeLL(fa), nil
}

// PeerName implements socket.Socket.
func (s *PacketSocket) PeerName(socket.Context) ([]byte, error) { return nil, linux.EOPNOTSUPP }

// SendMsg implements socket.Socket: a cooked socket needs a destination
// naming the interface, protocol and link address; a raw one sends the
// frame as given.
func (s *PacketSocket) SendMsg(ctx socket.Context, req *socket.SendRequest) (int, error) {
	req.Control.Release()
	var to *tcpip.FullAddress
	if req.To != nil {
		fa, err := parseLL(req.To)
		if err != nil {
			return 0, err
		}
		to = &fa
	} else if s.typ == linux.SOCK_DGRAM {
		return 0, linux.EDESTADDRREQ
	}
	return s.send(ctx, req.Data, to, req.Flags, req.NonBlock)
}

// RecvMsg implements socket.Socket.
func (s *PacketSocket) RecvMsg(ctx socket.Context, req *socket.RecvRequest) (*socket.RecvResult, error) {
	buf := make([]byte, min(req.Len, recvBufMax))
	r, err := s.recv(ctx, buf, req.Flags, req.NonBlock, req.WantAddr)
	if err != nil {
		return nil, err
	}
	res := &socket.RecvResult{Data: buf[:r.Count], N: r.Count}
	if r.Total > r.Count {
		res.Flags |= linux.MSG_TRUNC
		if req.Flags&linux.MSG_TRUNC != 0 {
			res.N = r.Total
		}
	}
	if req.WantAddr {
		res.From = s.encodeLL(r.RemoteAddr)
	}
	return res, nil
}

// linkName is the name of an interface.
func (s *Stack) linkName(index int32) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if li := s.links[index]; li != nil {
		return li.name, true
	}
	return "", false
}

// SetSockOpt implements socket.Socket. AF_PACKET's memory-mapped rings
// (PACKET_VERSION, PACKET_RX_RING, PACKET_TX_RING, PACKET_RESERVE) are
// not provided: they answer EINVAL, which is how programs and tests learn
// a kernel lacks them. Membership changes are accepted (the link delivers
// every frame addressed to it already). Other levels are Socket's.
func (s *PacketSocket) SetSockOpt(ctx socket.Context, level, name int, val []byte) error {
	if level != linux.SOL_PACKET {
		return s.Socket.SetSockOpt(ctx, level, name, val)
	}
	switch name {
	case linux.PACKET_VERSION, linux.PACKET_RX_RING, linux.PACKET_TX_RING, linux.PACKET_RESERVE:
		return linux.EINVAL
	case linux.PACKET_ADD_MEMBERSHIP, linux.PACKET_DROP_MEMBERSHIP:
		if len(val) < 16 {
			return linux.EINVAL
		}
		return nil
	case linux.PACKET_AUXDATA, linux.PACKET_IGNORE_OUTGOING:
		if _, err := socket.ParseInt(val); err != nil {
			return err
		}
		s.store(linux.SOL_PACKET, name, val[:4])
		return nil
	}
	return linux.ENOPROTOOPT
}

// GetSockOpt implements socket.Socket.
func (s *PacketSocket) GetSockOpt(ctx socket.Context, level, name int, optlen int) ([]byte, error) {
	if level != linux.SOL_PACKET {
		return s.Socket.GetSockOpt(ctx, level, name, optlen)
	}
	switch name {
	case linux.PACKET_AUXDATA, linux.PACKET_IGNORE_OUTGOING:
		if v, ok := s.storedOpt(linux.SOL_PACKET, name); ok {
			return v, nil
		}
		return socket.Int(0), nil
	case linux.PACKET_VERSION:
		return socket.Int(linux.TPACKET_V1), nil
	}
	return nil, linux.ENOPROTOOPT
}
