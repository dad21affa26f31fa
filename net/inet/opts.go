package inet

import (
	"encoding/binary"
	"time"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"uk/net/socket"
)

// TakeError implements socket.ErrorHolder: the error recvmmsg left comes
// first, then the endpoint's own (an ICMP error, a reset).
func (s *Socket) TakeError() error {
	s.mu.Lock()
	e := s.pendingErr
	s.pendingErr = 0
	s.mu.Unlock()
	if e != 0 {
		return e
	}
	if terr := s.takeEndpointError(); terr != nil {
		return errnoOf(terr)
	}
	return nil
}

// takeEndpointError reads and clears the endpoint's error. A failed TCP
// endpoint keeps the same error twice (as its hard error and its last
// error); Linux has one sk_err, so both go. Once a TCP endpoint in its
// error state has reported it, poll stops saying POLLERR.
func (s *Socket) takeEndpointError() tcpip.Error {
	terr := s.ep.LastError()
	if terr == nil || s.typ != linux.SOCK_STREAM {
		return terr
	}
	if again := s.ep.LastError(); again != nil && errnoOf(again) != errnoOf(terr) {
		s.ep.SocketOptions().SetLastError(again)
	}
	if tcp.EndpointState(s.ep.State()) == tcp.StateError {
		s.mu.Lock()
		s.errorReported = true
		s.mu.Unlock()
	}
	return terr
}

// SetError implements socket.ErrorHolder.
func (s *Socket) SetError(e linux.Errno) {
	s.mu.Lock()
	s.pendingErr = e
	s.mu.Unlock()
}

// GetSockOpt implements socket.Socket. Levels are tried as Linux's
// protocol handlers chain them: SOL_SOCKET, then the transport's own level
// (SOL_TCP, SOL_UDP, SOL_RAW), then the network layer's, which answers
// any other level with EOPNOTSUPP (IPv4) or ENOPROTOOPT (IPv6).
func (s *Socket) GetSockOpt(ctx socket.Context, level, name int, optlen int) ([]byte, error) {
	if level == linux.SOL_SOCKET {
		return s.getSocketOpt(name)
	}
	switch {
	case level == linux.SOL_TCP && s.typ == linux.SOCK_STREAM:
		return s.getTCPOpt(name, optlen)
	case level == linux.SOL_UDP && s.isUDP():
		return s.getUDPOpt(name)
	case s.isRawLevel(level):
		if v, ok := s.storedOpt(level, name); ok {
			return v, nil
		}
		return nil, linux.ENOPROTOOPT
	}
	if s.family == linux.AF_INET6 {
		switch {
		case level == linux.SOL_IPV6:
			return s.getIPv6Opt(name)
		case level == linux.SOL_IP && s.typ != linux.SOCK_RAW:
			return ipOptLen(s.getIPOpt(name))(optlen)
		}
		return nil, linux.ENOPROTOOPT
	}
	if level != linux.SOL_IP {
		return nil, linux.EOPNOTSUPP
	}
	return ipOptLen(s.getIPOpt(name))(optlen)
}

// ipOptLen applies do_ip_getsockopt's rule for int options read into
// less room than an int: a value that fits a byte comes back as one
// byte.
func ipOptLen(v []byte, err error) func(optlen int) ([]byte, error) {
	return func(optlen int) ([]byte, error) {
		if err != nil || len(v) != 4 || optlen <= 0 || optlen >= 4 {
			return v, err
		}
		if n := binary.LittleEndian.Uint32(v); n <= 255 {
			return v[:1], nil
		}
		return v, nil
	}
}

// isUDP reports whether s is a UDP or UDP-Lite socket (not a ping
// socket).
func (s *Socket) isUDP() bool {
	return s.typ == linux.SOCK_DGRAM && (s.protocol == linux.IPPROTO_UDP || s.protocol == linux.IPPROTO_UDPLITE)
}

// isRawLevel reports whether level is a raw socket's own: SOL_RAW, and
// for IPv6 also SOL_ICMPV6 (the ICMPv6 filter).
func (s *Socket) isRawLevel(level int) bool {
	if s.typ != linux.SOCK_RAW {
		return false
	}
	return level == linux.SOL_RAW || s.family == linux.AF_INET6 && level == linux.SOL_ICMPV6
}

// udpOptions are the SOL_UDP options Linux knows (udp_lib_setsockopt);
// tcpip implements none of them, so they are stored and read back.
var udpOptions = map[int]bool{
	linux.UDP_CORK: true, linux.UDP_ENCAP: true, linux.UDP_NO_CHECK6_TX: true,
	linux.UDP_NO_CHECK6_RX: true, linux.UDP_SEGMENT: true, linux.UDP_GRO: true,
}

func (s *Socket) getUDPOpt(name int) ([]byte, error) {
	if !udpOptions[name] {
		return nil, linux.ENOPROTOOPT
	}
	if v, ok := s.storedOpt(linux.SOL_UDP, name); ok {
		return v, nil
	}
	return socket.Int(0), nil
}

func (s *Socket) setUDPOpt(name int, val []byte) error {
	if !udpOptions[name] {
		return linux.ENOPROTOOPT
	}
	v, err := socket.ParseInt(val)
	if err != nil {
		return err
	}
	s.store(linux.SOL_UDP, name, socket.Int(v))
	return nil
}

func (s *Socket) storedOpt(level, name int) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.stored[[2]int{level, name}]
	return v, ok
}

func (s *Socket) store(level, name int, val []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stored == nil {
		s.stored = make(map[[2]int][]byte)
	}
	s.stored[[2]int{level, name}] = append([]byte(nil), val...)
}

func (s *Socket) getSocketOpt(name int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case linux.SO_ERROR:
		if err := s.TakeError(); err != nil {
			return socket.Int(int32(err.(linux.Errno))), nil
		}
		return socket.Int(0), nil
	case linux.SO_ACCEPTCONN:
		return socket.Bool(so.GetAcceptConn()), nil
	case linux.SO_BINDTODEVICE:
		idx := so.GetBindToDevice()
		if idx == 0 {
			return nil, nil
		}
		for _, l := range s.st.Links() {
			if l.Index == idx {
				return append([]byte(l.Name), 0), nil
			}
		}
		return nil, nil
	case linux.SO_PEERCRED:
		return socket.NoPeerCred.Ucred(), nil // an IP peer has none
	case linux.SO_PEEK_OFF:
		// Peeking at an offset is off (-1), the default; uk does not
		// implement setting it.
		return socket.Int(-1), nil
	case linux.SO_TIMESTAMP_OLD, linux.SO_TIMESTAMPNS_OLD, linux.SO_NO_CHECK, linux.SO_BUSY_POLL,
		linux.SO_INCOMING_CPU, linux.SO_ZEROCOPY:
		if v, ok := s.storedOpt(linux.SOL_SOCKET, name); ok {
			return v, nil
		}
		if name == linux.SO_INCOMING_CPU {
			return socket.Int(-1), nil // no packet has come in yet
		}
		return socket.Int(0), nil
	}
	s.mu.Lock()
	v, ok := socket.GetCommon(s, &s.opts, name)
	s.mu.Unlock()
	if !ok {
		return nil, linux.ENOPROTOOPT
	}
	return v, nil
}

func (s *Socket) getTCPOpt(name, optlen int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case linux.TCP_NODELAY:
		return socket.Bool(!so.GetDelayOption()), nil
	case linux.TCP_CORK:
		return socket.Bool(s.userCork()), nil
	case linux.TCP_QUICKACK:
		return socket.Bool(so.GetQuickAck()), nil
	case linux.TCP_MAXSEG:
		return socket.Int(int32(s.tcpMSS())), nil
	case linux.TCP_KEEPIDLE:
		var v tcpip.KeepaliveIdleOption
		if terr := s.ep.GetSockOpt(&v); terr != nil {
			return nil, errnoOf(terr)
		}
		return socket.Int(int32(time.Duration(v) / time.Second)), nil
	case linux.TCP_KEEPINTVL:
		var v tcpip.KeepaliveIntervalOption
		if terr := s.ep.GetSockOpt(&v); terr != nil {
			return nil, errnoOf(terr)
		}
		return socket.Int(int32(time.Duration(v) / time.Second)), nil
	case linux.TCP_KEEPCNT:
		v, terr := s.ep.GetSockOptInt(tcpip.KeepaliveCountOption)
		if terr != nil {
			return nil, errnoOf(terr)
		}
		return socket.Int(int32(v)), nil
	case linux.TCP_USER_TIMEOUT:
		var v tcpip.TCPUserTimeoutOption
		if terr := s.ep.GetSockOpt(&v); terr != nil {
			return nil, errnoOf(terr)
		}
		return socket.Int(int32(time.Duration(v) / time.Millisecond)), nil
	case linux.TCP_CONGESTION:
		var v tcpip.CongestionControlOption
		if terr := s.ep.GetSockOpt(&v); terr != nil {
			return nil, errnoOf(terr)
		}
		b := make([]byte, 16)
		copy(b, v)
		return b, nil
	case linux.TCP_INFO:
		return s.tcpInfo(), nil
	case linux.TCP_SYNCNT, linux.TCP_LINGER2, linux.TCP_DEFER_ACCEPT, linux.TCP_WINDOW_CLAMP,
		linux.TCP_NOTSENT_LOWAT, linux.TCP_FASTOPEN:
		if v, ok := s.storedOpt(linux.SOL_TCP, name); ok {
			return v, nil
		}
		defaults := map[int]int32{linux.TCP_SYNCNT: 6, linux.TCP_LINGER2: 60, linux.TCP_DEFER_ACCEPT: 0, linux.TCP_WINDOW_CLAMP: 0}
		return socket.Int(defaults[name]), nil
	}
	return nil, linux.ENOPROTOOPT
}

// tcpInfo is struct tcp_info as far as tcpip knows it: the state, the
// RTO and RTT, the congestion window and the MSS. Fields it cannot know
// are zero.
func (s *Socket) tcpInfo() []byte {
	b := make([]byte, 232)
	var info tcpip.TCPInfoOption
	if terr := s.ep.GetSockOpt(&info); terr != nil {
		return b
	}
	b[0] = linuxTCPState(tcp.EndpointState(info.State))
	b[1] = uint8(info.CcState)
	binary.LittleEndian.PutUint32(b[8:], uint32(info.RTO/time.Microsecond))
	binary.LittleEndian.PutUint32(b[16:], uint32(s.tcpMSS())) // tcpi_snd_mss
	binary.LittleEndian.PutUint32(b[20:], tcpDefaultMSS)      // tcpi_rcv_mss: none measured yet
	if mtu, ok := s.connectedMTU(); ok {
		binary.LittleEndian.PutUint32(b[60:], uint32(mtu))                // tcpi_pmtu
		binary.LittleEndian.PutUint32(b[84:], uint32(mtu-s.tcpHeaders())) // tcpi_advmss
	}
	binary.LittleEndian.PutUint32(b[68:], uint32(info.RTT/time.Microsecond))
	binary.LittleEndian.PutUint32(b[72:], uint32(info.RTTVar/time.Microsecond))
	binary.LittleEndian.PutUint32(b[76:], info.SndSsthresh)
	binary.LittleEndian.PutUint32(b[80:], info.SndCwnd)
	return b
}

// tcpDefaultMSS is TCP's default segment size (RFC 1122), what Linux's
// TCP_MAXSEG says before a connection has a route.
const tcpDefaultMSS = 536

// tcpTimestampOption is the room TCP timestamps take in every segment
// (both stacks use them).
const tcpTimestampOption = 12

// tcpHeaders is the IP and TCP header bytes of a segment of s.
func (s *Socket) tcpHeaders() int {
	if s.family == linux.AF_INET6 {
		if r, err := s.ep.GetRemoteAddress(); err == nil && len(r.Addr.AsSlice()) == 4 {
			return 40 // an IPv4 peer of a dual-stack socket
		}
		return 60
	}
	return 40
}

// connectedMTU is the MTU of the route a connected socket's segments
// take (IPv4 capped at 65535); ok is false when not connected.
func (s *Socket) connectedMTU() (int, bool) {
	b, err := s.pathMTU()
	if err != nil {
		return 0, false
	}
	return int(binary.LittleEndian.Uint32(b)), true
}

// tcpMSS is TCP_MAXSEG as Linux reports it: 536 until connected, then the
// route's MTU less the headers and the timestamp option, at most half the
// largest window (64K) as tcp_bound_to_half_wnd keeps it (tcpip itself
// only reports the default).
func (s *Socket) tcpMSS() int {
	mtu, ok := s.connectedMTU()
	if !ok {
		return tcpDefaultMSS
	}
	return min(mtu-s.tcpHeaders(), 32768) - tcpTimestampOption
}

// linuxTCPState is Linux's TCP_* state number of a tcpip endpoint state.
func linuxTCPState(st tcp.EndpointState) uint8 {
	switch st {
	case tcp.StateEstablished:
		return linux.BPF_TCP_ESTABLISHED
	case tcp.StateSynSent, tcp.StateConnecting:
		// tcpip's Connecting (connect called, no SYN sent yet) is
		// Linux's SYN_SENT, which connect enters at once.
		return linux.BPF_TCP_SYN_SENT
	case tcp.StateSynRecv:
		return linux.BPF_TCP_SYN_RECV
	case tcp.StateFinWait1:
		return linux.BPF_TCP_FIN_WAIT1
	case tcp.StateFinWait2:
		return linux.BPF_TCP_FIN_WAIT2
	case tcp.StateTimeWait:
		// The socket reports CLOSE: Linux has handed the connection to
		// a time-wait record.
		return linux.BPF_TCP_CLOSE
	case tcp.StateClose, tcp.StateInitial, tcp.StateBound, tcp.StateError:
		return linux.BPF_TCP_CLOSE
	case tcp.StateCloseWait:
		return linux.BPF_TCP_CLOSE_WAIT
	case tcp.StateLastAck:
		return linux.BPF_TCP_LAST_ACK
	case tcp.StateListen:
		return linux.BPF_TCP_LISTEN
	case tcp.StateClosing:
		return linux.BPF_TCP_CLOSING
	}
	return linux.BPF_TCP_CLOSE
}

func (s *Socket) getIPOpt(name int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case linux.IP_TTL:
		v, terr := s.ep.GetSockOptInt(tcpip.IPv4TTLOption)
		if terr != nil {
			return nil, errnoOf(terr)
		}
		if v == 0 {
			v = 64
		}
		return socket.Int(int32(v)), nil
	case linux.IP_TOS:
		v, terr := s.ep.GetSockOptInt(tcpip.IPv4TOSOption)
		if terr != nil {
			return nil, errnoOf(terr)
		}
		return socket.Int(int32(v)), nil
	case linux.IP_MULTICAST_TTL:
		v, terr := s.ep.GetSockOptInt(tcpip.MulticastTTLOption)
		if terr != nil {
			return nil, errnoOf(terr)
		}
		return socket.Int(int32(v)), nil
	case linux.IP_MULTICAST_LOOP:
		return socket.Bool(so.GetMulticastLoop()), nil
	case linux.IP_PKTINFO:
		return socket.Bool(so.GetReceivePacketInfo()), nil
	case linux.IP_RECVTOS:
		return socket.Bool(so.GetReceiveTOS()), nil
	case linux.IP_RECVTTL:
		return socket.Bool(so.GetReceiveTTL()), nil
	case linux.IP_RECVERR:
		return socket.Bool(so.GetIPv4RecvError()), nil
	case linux.IP_HDRINCL:
		// Only raw sockets can set it; any socket reads it.
		return socket.Bool(s.typ == linux.SOCK_RAW && so.GetHeaderIncluded()), nil
	case linux.IP_RECVORIGDSTADDR:
		return socket.Bool(so.GetReceiveOriginalDstAddress()), nil
	case linux.IP_OPTIONS:
		return []byte{}, nil
	case linux.IP_MTU:
		return s.pathMTU()
	case linux.IP_MULTICAST_IF:
		if v, ok := s.storedOpt(linux.SOL_IP, name); ok {
			return v, nil
		}
		return make([]byte, 4), nil
	case linux.IP_MTU_DISCOVER, linux.IP_FREEBIND, linux.IP_TRANSPARENT, linux.IP_BIND_ADDRESS_NO_PORT,
		linux.IP_MULTICAST_ALL, linux.IP_RECVOPTS:
		if v, ok := s.storedOpt(linux.SOL_IP, name); ok {
			return v, nil
		}
		switch name {
		case linux.IP_MTU_DISCOVER:
			// net.ipv4.ip_no_pmtu_disc is 0: every socket starts
			// with IP_PMTUDISC_WANT.
			return socket.Int(linux.IP_PMTUDISC_WANT), nil
		case linux.IP_MULTICAST_ALL:
			return socket.Int(1), nil
		}
		return socket.Int(0), nil
	}
	return nil, linux.ENOPROTOOPT
}

// pathMTU is IP_MTU and IPV6_MTU: the MTU of the interface a connected
// socket's packets leave by (ENOTCONN when it is not connected).
func (s *Socket) pathMTU() ([]byte, error) {
	remote, terr := s.ep.GetRemoteAddress()
	if terr != nil {
		return nil, linux.ENOTCONN
	}
	local, _ := s.ep.GetLocalAddress()
	for _, l := range s.st.Links() {
		if local.NIC != 0 && int32(local.NIC) == l.Index || local.NIC == 0 && isLoopback(remote.Addr) == (l.Flags&linux.IFF_LOOPBACK != 0) {
			mtu := l.MTU
			if s.family == linux.AF_INET || len(remote.Addr.AsSlice()) == 4 {
				mtu = min(mtu, 0xffff) // IP_MAX_MTU: an IPv4 length field's limit
			}
			return socket.Int(int32(mtu)), nil
		}
	}
	return nil, linux.ENOTCONN
}

// isLoopback reports whether a is a loopback address (127/8, ::1, or a
// v4-mapped 127/8).
func isLoopback(a tcpip.Address) bool {
	b := a.AsSlice()
	switch len(b) {
	case 4:
		return b[0] == 127
	case 16:
		if string(b[:12]) == "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff" {
			return b[12] == 127
		}
		return a == loopbackOf(linux.AF_INET6)
	}
	return false
}

func (s *Socket) getIPv6Opt(name int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case linux.IPV6_V6ONLY:
		return socket.Bool(so.GetV6Only()), nil
	case linux.IPV6_UNICAST_HOPS:
		v, terr := s.ep.GetSockOptInt(tcpip.IPv6HopLimitOption)
		if terr != nil {
			return nil, errnoOf(terr)
		}
		if v < 0 {
			v = 64
		}
		return socket.Int(int32(v)), nil
	case linux.IPV6_TCLASS:
		v, terr := s.ep.GetSockOptInt(tcpip.IPv6TrafficClassOption)
		if terr != nil {
			return nil, errnoOf(terr)
		}
		return socket.Int(int32(v)), nil
	case linux.IPV6_RECVPKTINFO:
		return socket.Bool(so.GetIPv6ReceivePacketInfo()), nil
	case linux.IPV6_RECVERR:
		return socket.Bool(so.GetIPv6RecvError()), nil
	case linux.IPV6_MULTICAST_LOOP:
		return socket.Bool(so.GetMulticastLoop()), nil
	case linux.IPV6_MULTICAST_HOPS:
		if v, ok := s.storedOpt(linux.SOL_IPV6, name); ok {
			return v, nil
		}
		return socket.Int(1), nil
	case linux.IPV6_RECVHOPLIMIT:
		return socket.Bool(so.GetReceiveHopLimit()), nil
	case linux.IPV6_RECVTCLASS:
		return socket.Bool(so.GetReceiveTClass()), nil
	case linux.IPV6_MTU:
		return s.pathMTU()
	case linux.IPV6_MULTICAST_IF:
		if v, ok := s.storedOpt(linux.SOL_IPV6, name); ok {
			return v, nil
		}
		return socket.Int(0), nil
	}
	return nil, linux.ENOPROTOOPT
}

// SetSockOpt implements socket.Socket, with GetSockOpt's chain of
// levels; the network layer answers unknown levels with ENOPROTOOPT.
func (s *Socket) SetSockOpt(ctx socket.Context, level, name int, val []byte) error {
	if level == linux.SOL_SOCKET {
		return s.setSocketOpt(ctx, name, val)
	}
	switch {
	case level == linux.SOL_TCP && s.typ == linux.SOCK_STREAM:
		return s.setTCPOpt(name, val)
	case level == linux.SOL_UDP && s.isUDP():
		return s.setUDPOpt(name, val)
	case s.isRawLevel(level):
		s.store(level, name, val)
		return nil
	}
	switch {
	case level == linux.SOL_IPV6 && s.family == linux.AF_INET6:
		return s.setIPv6Opt(name, val)
	case level == linux.SOL_IP && (s.family == linux.AF_INET || s.typ != linux.SOCK_RAW):
		return s.setIPOpt(name, val)
	}
	return linux.ENOPROTOOPT
}

func (s *Socket) setSocketOpt(ctx socket.Context, name int, val []byte) error {
	so := s.ep.SocketOptions()
	switch name {
	case linux.SO_BINDTODEVICE:
		n := len(val)
		for i, c := range val {
			if c == 0 {
				n = i
				break
			}
		}
		if n == 0 {
			so.SetBindToDevice(0)
			return nil
		}
		for _, l := range s.st.Links() {
			if l.Name == string(val[:n]) {
				if terr := so.SetBindToDevice(l.Index); terr != nil {
					return errnoOf(terr)
				}
				return nil
			}
		}
		return linux.ENODEV
	case linux.SO_TIMESTAMP_OLD, linux.SO_TIMESTAMPNS_OLD, linux.SO_NO_CHECK, linux.SO_ZEROCOPY:
		if _, err := socket.ParseInt(val); err != nil {
			return err
		}
		s.store(linux.SOL_SOCKET, name, socket.Bool(val[0]|val[1]|val[2]|val[3] != 0))
		return nil
	case linux.SO_BUSY_POLL, linux.SO_INCOMING_CPU:
		// Stored only: uk has no busy polling and no CPU steering.
		v, err := socket.ParseInt(val)
		if err != nil {
			return err
		}
		if name == linux.SO_BUSY_POLL && (v < 0 || v > 0 && !ctx.Credentials().Privileged) {
			if v < 0 {
				return linux.EINVAL
			}
			return linux.EPERM
		}
		s.store(linux.SOL_SOCKET, name, socket.Int(v))
		return nil
	}
	s.mu.Lock()
	err := s.opts.Set(name, val, ctx.Credentials().Privileged)
	o := s.opts
	s.mu.Unlock()
	if err != nil {
		return err
	}
	switch name {
	case linux.SO_REUSEADDR:
		so.SetReuseAddress(o.ReuseAddr)
	case linux.SO_REUSEPORT:
		so.SetReusePort(o.ReusePort)
	case linux.SO_KEEPALIVE:
		so.SetKeepAlive(o.KeepAlive)
	case linux.SO_BROADCAST:
		so.SetBroadcast(o.Broadcast)
	case linux.SO_PASSCRED:
		so.SetPassCred(o.PassCred)
	case linux.SO_LINGER:
		so.SetLinger(tcpip.LingerOption{Enabled: o.Linger[0] != 0, Timeout: time.Duration(o.Linger[1]) * time.Second})
	case linux.SO_SNDBUF, linux.SO_SNDBUFFORCE:
		so.SetSendBufferSize(int64(o.SndBuf), true)
	case linux.SO_RCVBUF, linux.SO_RCVBUFFORCE:
		so.SetReceiveBufferSize(int64(o.RcvBuf), true)
	case linux.SO_RCVLOWAT:
		so.SetRcvlowat(int32(o.RcvLowat))
	}
	return nil
}

func (s *Socket) setTCPOpt(name int, val []byte) error {
	so := s.ep.SocketOptions()
	if name == linux.TCP_ULP {
		// No upper-layer protocol (kTLS, MPTCP's) is available: Linux
		// says ENOENT when it cannot find the named one.
		return linux.ENOENT
	}
	if name == linux.TCP_CONGESTION {
		n := len(val)
		for i, c := range val {
			if c == 0 {
				n = i
				break
			}
		}
		if terr := s.ep.SetSockOpt(ptrTo(tcpip.CongestionControlOption(val[:n]))); terr != nil {
			return linux.ENOENT
		}
		return nil
	}
	v, err := socket.ParseInt(val)
	if err != nil {
		return err
	}
	var terr tcpip.Error
	switch name {
	case linux.TCP_NODELAY:
		so.SetDelayOption(v == 0)
	case linux.TCP_CORK:
		s.setUserCork(v != 0)
	case linux.TCP_QUICKACK:
		so.SetQuickAck(v != 0)
	case linux.TCP_MAXSEG:
		terr = s.ep.SetSockOptInt(tcpip.MaxSegOption, int(v))
	case linux.TCP_KEEPIDLE:
		if v < 1 || v > 32767 {
			return linux.EINVAL
		}
		terr = s.ep.SetSockOpt(ptrTo(tcpip.KeepaliveIdleOption(time.Duration(v) * time.Second)))
	case linux.TCP_KEEPINTVL:
		if v < 1 || v > 32767 {
			return linux.EINVAL
		}
		terr = s.ep.SetSockOpt(ptrTo(tcpip.KeepaliveIntervalOption(time.Duration(v) * time.Second)))
	case linux.TCP_KEEPCNT:
		if v < 1 || v > 127 {
			return linux.EINVAL
		}
		terr = s.ep.SetSockOptInt(tcpip.KeepaliveCountOption, int(v))
	case linux.TCP_USER_TIMEOUT:
		if v < 0 {
			return linux.EINVAL
		}
		terr = s.ep.SetSockOpt(ptrTo(tcpip.TCPUserTimeoutOption(time.Duration(v) * time.Millisecond)))
	case linux.TCP_SYNCNT, linux.TCP_LINGER2, linux.TCP_DEFER_ACCEPT, linux.TCP_WINDOW_CLAMP, linux.TCP_FASTOPEN, linux.TCP_NOTSENT_LOWAT:
		s.store(linux.SOL_TCP, name, val[:4])
	default:
		return linux.ENOPROTOOPT
	}
	if terr != nil {
		return errnoOf(terr)
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }

func (s *Socket) setIPOpt(name int, val []byte) error {
	switch name {
	case linux.IP_ADD_MEMBERSHIP, linux.IP_DROP_MEMBERSHIP, linux.MCAST_JOIN_GROUP, linux.MCAST_LEAVE_GROUP:
		return s.setMembership(name, val)
	}
	so := s.ep.SocketOptions()
	var v int32
	if len(val) >= 4 {
		v = int32(binary.LittleEndian.Uint32(val))
	} else if len(val) >= 1 {
		v = int32(val[0]) // Linux accepts a single byte for the boolean IP options
	} else {
		return linux.EINVAL
	}
	var terr tcpip.Error
	switch name {
	case linux.IP_TTL:
		if v != -1 && (v < 1 || v > 255) {
			return linux.EINVAL
		}
		if v == -1 {
			v = 0 // tcpip's "use the default"
		}
		terr = s.ep.SetSockOptInt(tcpip.IPv4TTLOption, int(v))
	case linux.IP_TOS:
		terr = s.ep.SetSockOptInt(tcpip.IPv4TOSOption, int(v&0xff))
	case linux.IP_MULTICAST_TTL:
		if v == -1 {
			v = 1
		}
		if v < 0 || v > 255 {
			return linux.EINVAL
		}
		terr = s.ep.SetSockOptInt(tcpip.MulticastTTLOption, int(v))
	case linux.IP_MULTICAST_LOOP:
		so.SetMulticastLoop(v != 0)
	case linux.IP_PKTINFO:
		so.SetReceivePacketInfo(v != 0)
	case linux.IP_RECVTOS:
		so.SetReceiveTOS(v != 0)
	case linux.IP_RECVTTL:
		so.SetReceiveTTL(v != 0)
	case linux.IP_RECVERR:
		so.SetIPv4RecvError(v != 0)
	case linux.IP_HDRINCL:
		if s.typ != linux.SOCK_RAW {
			return linux.ENOPROTOOPT
		}
		so.SetHeaderIncluded(v != 0)
	case linux.IP_RECVORIGDSTADDR:
		so.SetReceiveOriginalDstAddress(v != 0)
	case linux.IP_MULTICAST_IF:
		// struct in_addr, ip_mreq or ip_mreqn: the interface address
		// is what getsockopt returns.
		if s.typ == linux.SOCK_STREAM {
			return linux.EINVAL
		}
		if len(val) < 4 {
			return linux.EINVAL
		}
		addr := val[:4]
		if len(val) >= 8 {
			addr = val[4:8]
		}
		s.store(linux.SOL_IP, name, addr)
	case linux.IP_MTU_DISCOVER:
		if v < linux.IP_PMTUDISC_DONT || v > linux.IP_PMTUDISC_OMIT {
			return linux.EINVAL
		}
		s.store(linux.SOL_IP, name, socket.Int(v))
	case linux.IP_FREEBIND, linux.IP_TRANSPARENT, linux.IP_BIND_ADDRESS_NO_PORT, linux.IP_MULTICAST_ALL, linux.IP_RECVOPTS:
		s.store(linux.SOL_IP, name, socket.Bool(v != 0))
	default:
		return linux.ENOPROTOOPT
	}
	if terr != nil {
		return errnoOf(terr)
	}
	return nil
}

func (s *Socket) setIPv6Opt(name int, val []byte) error {
	switch name {
	case linux.IPV6_ADD_MEMBERSHIP, linux.IPV6_DROP_MEMBERSHIP, linux.MCAST_JOIN_GROUP, linux.MCAST_LEAVE_GROUP:
		return s.setMembership6(name, val)
	}
	so := s.ep.SocketOptions()
	v, err := socket.ParseInt(val)
	if err != nil {
		return err
	}
	var terr tcpip.Error
	switch name {
	case linux.IPV6_V6ONLY:
		if _, e := s.ep.GetLocalAddress(); e == nil && s.ep.State() != uint32(tcp.StateInitial) && s.typ == linux.SOCK_STREAM {
			return linux.EINVAL
		}
		so.SetV6Only(v != 0)
	case linux.IPV6_UNICAST_HOPS:
		if v < -1 || v > 255 {
			return linux.EINVAL
		}
		terr = s.ep.SetSockOptInt(tcpip.IPv6HopLimitOption, int(v))
	case linux.IPV6_TCLASS:
		if v < -1 || v > 255 {
			return linux.EINVAL
		}
		if v == -1 {
			v = 0
		}
		terr = s.ep.SetSockOptInt(tcpip.IPv6TrafficClassOption, int(v))
	case linux.IPV6_RECVPKTINFO:
		so.SetIPv6ReceivePacketInfo(v != 0)
	case linux.IPV6_RECVERR:
		so.SetIPv6RecvError(v != 0)
	case linux.IPV6_MULTICAST_LOOP:
		so.SetMulticastLoop(v != 0)
	case linux.IPV6_MULTICAST_HOPS:
		s.store(linux.SOL_IPV6, name, socket.Int(v))
	case linux.IPV6_RECVHOPLIMIT:
		so.SetReceiveHopLimit(v != 0)
	case linux.IPV6_RECVTCLASS:
		so.SetReceiveTClass(v != 0)
	case linux.IPV6_MULTICAST_IF:
		if s.typ == linux.SOCK_STREAM {
			return linux.EINVAL
		}
		s.store(linux.SOL_IPV6, name, socket.Int(v))
	default:
		return linux.ENOPROTOOPT
	}
	if terr != nil {
		return errnoOf(terr)
	}
	return nil
}
