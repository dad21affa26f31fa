package inet

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"uk/net/socket"
)

// Sockets are listed for /proc/net/tcp, tcp6, udp and udp6 from the set
// of sockets a descriptor holds (Stack.socks). Linux lists its hash
// tables instead, so it also shows connections no socket holds any more
// (the TIME_WAIT record of a closed one, with inode 0) and those waiting
// in a listener's queue: those of tcpip's endpoints that no socket holds
// are not shown here.

// register adds s to the stack's sockets.
func (st *Stack) register(s *Socket) {
	st.sockMu.Lock()
	if st.socks == nil {
		st.socks = make(map[*Socket]struct{})
	}
	st.socks[s] = struct{}{}
	st.sockMu.Unlock()
}

// unregister removes s (Release).
func (st *Stack) unregister(s *Socket) {
	st.sockMu.Lock()
	delete(st.socks, s)
	st.sockMu.Unlock()
}

// InetSockets lists the family's (AF_INET or AF_INET6) sockets of
// protocol (IPPROTO_TCP or IPPROTO_UDP) that Linux's tables would hold: a
// TCP socket connecting, connected, listening or closing; a UDP socket
// with a local port. They are ordered by inode number.
func (st *Stack) InetSockets(family, protocol int) []socket.InetInfo {
	st.sockMu.Lock()
	var socks []*Socket
	for s := range st.socks {
		if s.family == family && s.protocol == protocol && !s.released.Load() {
			socks = append(socks, s)
		}
	}
	st.sockMu.Unlock()
	var out []socket.InetInfo
	for _, s := range socks {
		info, ok := s.inetInfo()
		if ok {
			out = append(out, info)
		}
	}
	slices.SortFunc(out, func(a, b socket.InetInfo) int { return cmp.Compare(a.Inode, b.Inode) })
	return out
}

// inetInfo describes s for the tables, or reports that Linux's would not
// hold it.
func (s *Socket) inetInfo() (socket.InetInfo, bool) {
	info := socket.InetInfo{UID: s.inode.UID, Inode: s.inode.Ino}
	local, terr := s.ep.GetLocalAddress()
	if terr != nil {
		return info, false
	}
	info.Local = s.addrPort(local)
	info.Remote = s.addrPort(tcpip.FullAddress{})
	if remote, terr := s.ep.GetRemoteAddress(); terr == nil {
		info.Remote = s.addrPort(remote)
	}
	switch s.typ {
	case linux.SOCK_STREAM:
		return s.tcpInetInfo(info)
	case linux.SOCK_DGRAM:
		if info.Local.Port() == 0 {
			return info, false // not in the UDP table until bound
		}
		info.State = linux.BPF_TCP_CLOSE
		if transport.DatagramEndpointState(s.ep.State()) == transport.DatagramEndpointStateConnected {
			info.State = linux.BPF_TCP_ESTABLISHED
		}
		if n, terr := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption); terr == nil {
			info.RxQueue = n
		}
		return info, true
	}
	return info, false
}

// tcpInetInfo completes info for a TCP socket.
func (s *Socket) tcpInetInfo(info socket.InetInfo) (socket.InetInfo, bool) {
	state := tcp.EndpointState(s.ep.State())
	if state == tcp.StateTimeWait {
		// Linux hands the connection to a time-wait record that no
		// socket holds (the socket itself reports CLOSE).
		info.State, info.Inode = linux.BPF_TCP_TIME_WAIT, 0
		return info, true
	}
	if info.State = int(linuxTCPState(state)); info.State == linux.BPF_TCP_CLOSE {
		return info, false // in no table
	}
	if state == tcp.StateListen {
		// Linux's RxQueue here is the connections waiting for accept,
		// which tcpip does not count: 0.
		info.RTO, info.Cwnd = int(time.Second/(10*time.Millisecond)), 10 // TCP_TIMEOUT_INIT, TCP_INIT_CWND
		return info, true
	}
	info.TxQueue = sendQueued(s.ep)
	if n, terr := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption); terr == nil {
		info.RxQueue = n
	}
	var ti tcpip.TCPInfoOption
	if terr := s.ep.GetSockOpt(&ti); terr == nil {
		info.RTO = int(ti.RTO / (10 * time.Millisecond))
		info.Cwnd = int(ti.SndCwnd)
		info.Ssthresh = int(ti.SndSsthresh)
		if ti.SndSsthresh >= 0x7fffffff {
			info.Ssthresh = -1
		}
	}
	return info, true
}

// addrPort converts a tcpip address of s to the family's form: the
// unspecified address when none is set, IPv4-mapped on an AF_INET6
// socket.
func (s *Socket) addrPort(fa tcpip.FullAddress) netip.AddrPort {
	a, ok := netip.AddrFromSlice(fa.Addr.AsSlice())
	switch {
	case !ok && s.family == linux.AF_INET6:
		a = netip.IPv6Unspecified()
	case !ok:
		a = netip.IPv4Unspecified()
	case s.family == linux.AF_INET6 && a.Is4():
		a = netip.AddrFrom16(a.As16())
	}
	return netip.AddrPortFrom(a, fa.Port)
}
