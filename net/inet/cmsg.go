package inet

import (
	"encoding/binary"
	"time"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"uk/net/socket"
)

// IPv6 ancillary data types that golang.org/x/sys/unix does not name.
const (
	ipv6FlowInfo      = 11
	ipv6_2292HopLimit = 8
	ipv6PacketInfo    = 50
)

// sendControl checks a datagram sendmsg's control messages of the IP
// levels as Linux's udp_cmsg_send, ip_cmsg_send (IPv4) and
// ip6_datagram_send_ctl (IPv6) do: a type they do not know, or a known
// one with a bad length or value, is EINVAL. It returns the overrides
// tcpip can apply to the packet (the TTL or hop limit). Messages of
// other levels are ignored, as there.
func (s *Socket) sendControl(msgs []socket.Cmsg) (tcpip.SendableControlMessages, error) {
	var cm tcpip.SendableControlMessages
	for _, m := range msgs {
		var err error
		switch {
		case m.Level == linux.SOL_UDP && s.isUDP():
			err = checkUDPCmsg(m)
		case m.Level == linux.SOL_IP && s.family == linux.AF_INET:
			err = checkIPCmsg(m, &cm)
		case m.Level == linux.SOL_IPV6 && s.family == linux.AF_INET6:
			err = checkIPv6Cmsg(m, &cm)
		}
		if err != nil {
			return cm, err
		}
	}
	return cm, nil
}

// cmsgInt is the int a control message carries; ok is false when its
// data is not exactly an int.
func cmsgInt(m socket.Cmsg) (v int32, ok bool) {
	if len(m.Data) != 4 {
		return 0, false
	}
	return int32(binary.LittleEndian.Uint32(m.Data)), true
}

// checkUDPCmsg: SOL_UDP has only UDP_SEGMENT (a __u16 segment size).
func checkUDPCmsg(m socket.Cmsg) error {
	if m.Type != linux.UDP_SEGMENT || len(m.Data) != 2 {
		return linux.EINVAL
	}
	return nil
}

// maxIPOptions is the room for IPv4 options in a header.
const maxIPOptions = 40

func checkIPCmsg(m socket.Cmsg, cm *tcpip.SendableControlMessages) error {
	switch m.Type {
	case linux.IP_RETOPTS:
		if len(m.Data) > maxIPOptions {
			return linux.EINVAL
		}
	case linux.IP_PKTINFO:
		if len(m.Data) != 12 { // struct in_pktinfo
			return linux.EINVAL
		}
	case linux.IP_TTL:
		v, ok := cmsgInt(m)
		if !ok || v < 1 || v > 255 {
			return linux.EINVAL
		}
		cm.HasTTL, cm.TTL = true, uint8(v)
	case linux.IP_TOS:
		v, ok := cmsgInt(m)
		if len(m.Data) == 1 {
			v, ok = int32(m.Data[0]), true
		}
		if !ok || v < 0 || v > 255 {
			return linux.EINVAL
		}
	case linux.IP_PROTOCOL:
		v, ok := cmsgInt(m)
		if !ok || v < 1 || v > 255 {
			return linux.EINVAL
		}
	default:
		return linux.EINVAL
	}
	return nil
}

func checkIPv6Cmsg(m socket.Cmsg, cm *tcpip.SendableControlMessages) error {
	switch m.Type {
	case ipv6PacketInfo:
		if len(m.Data) < 20 { // struct in6_pktinfo
			return linux.EINVAL
		}
	case ipv6FlowInfo:
		if len(m.Data) < 4 {
			return linux.EINVAL
		}
	case linux.IPV6_2292HOPOPTS, linux.IPV6_HOPOPTS, linux.IPV6_2292DSTOPTS, linux.IPV6_DSTOPTS,
		linux.IPV6_RTHDRDSTOPTS, linux.IPV6_2292RTHDR, linux.IPV6_RTHDR:
		// An extension header: at least its 8-byte start, and as long as
		// its own length field says.
		if len(m.Data) < 8 || len(m.Data) < (int(m.Data[1])+1)*8 {
			return linux.EINVAL
		}
	case ipv6_2292HopLimit, linux.IPV6_HOPLIMIT:
		v, ok := cmsgInt(m)
		if !ok || v < -1 || v > 255 {
			return linux.EINVAL
		}
		if v >= 0 {
			cm.HasHopLimit, cm.HopLimit = true, uint8(v)
		}
	case linux.IPV6_TCLASS:
		v, ok := cmsgInt(m)
		if !ok || v < -1 || v > 255 {
			return linux.EINVAL
		}
	case linux.IPV6_DONTFRAG:
		if _, ok := cmsgInt(m); !ok {
			return linux.EINVAL
		}
	default:
		return linux.EINVAL
	}
	return nil
}

// IPv6 receive-side types x/sys/unix names differently.
const ipv6HopLimitCmsg = 52

// recvControl is the ancillary data a receive returns, in the order
// Linux writes it: the SOL_SOCKET timestamp (SO_TIMESTAMP or
// SO_TIMESTAMPNS), then the network layer's messages the socket asked
// for (IP_PKTINFO, IP_TTL, IP_TOS; IPV6_PKTINFO, IPV6_HOPLIMIT,
// IPV6_TCLASS), as tcpip collected them.
func (s *Socket) recvControl(cm tcpip.ReceivableControlMessages) []socket.Cmsg {
	var out []socket.Cmsg
	le := binary.LittleEndian
	ts := cm.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	if v, ok := s.storedOpt(linux.SOL_SOCKET, linux.SO_TIMESTAMPNS_OLD); ok && v[0] != 0 {
		b := le.AppendUint64(nil, uint64(ts.Unix()))
		out = append(out, socket.Cmsg{Level: linux.SOL_SOCKET, Type: linux.SO_TIMESTAMPNS_OLD,
			Data: le.AppendUint64(b, uint64(ts.Nanosecond()))})
	} else if v, ok := s.storedOpt(linux.SOL_SOCKET, linux.SO_TIMESTAMP_OLD); ok && v[0] != 0 {
		b := le.AppendUint64(nil, uint64(ts.Unix()))
		out = append(out, socket.Cmsg{Level: linux.SOL_SOCKET, Type: linux.SO_TIMESTAMP_OLD,
			Data: le.AppendUint64(b, uint64(ts.Nanosecond()/1000))})
	}
	if s.typ == linux.SOCK_STREAM {
		return out
	}
	if s.family == linux.AF_INET {
		if cm.HasIPPacketInfo {
			b := le.AppendUint32(nil, uint32(cm.PacketInfo.NIC))
			b = append(b, addr4(cm.PacketInfo.LocalAddr)...)
			b = append(b, addr4(cm.PacketInfo.DestinationAddr)...)
			out = append(out, socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_PKTINFO, Data: b})
		}
		if cm.HasTTL {
			out = append(out, socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TTL, Data: le.AppendUint32(nil, uint32(cm.TTL))})
		}
		if cm.HasTOS {
			out = append(out, socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TOS, Data: []byte{cm.TOS}})
		}
		return out
	}
	if cm.HasIPv6PacketInfo {
		b := append([]byte(nil), addr16(cm.IPv6PacketInfo.Addr)...)
		out = append(out, socket.Cmsg{Level: linux.SOL_IPV6, Type: ipv6PacketInfo,
			Data: le.AppendUint32(b, uint32(cm.IPv6PacketInfo.NIC))})
	}
	if cm.HasHopLimit {
		out = append(out, socket.Cmsg{Level: linux.SOL_IPV6, Type: ipv6HopLimitCmsg, Data: le.AppendUint32(nil, uint32(cm.HopLimit))})
	}
	if cm.HasTClass {
		out = append(out, socket.Cmsg{Level: linux.SOL_IPV6, Type: linux.IPV6_TCLASS, Data: le.AppendUint32(nil, cm.TClass)})
	}
	return out
}

// addr4 is an IPv4 address's 4 bytes (zeros when unset).
func addr4(a tcpip.Address) []byte {
	b := a.AsSlice()
	if len(b) == 16 {
		return b[12:]
	}
	if len(b) != 4 {
		return make([]byte, 4)
	}
	return b
}

// addr16 is an IPv6 address's 16 bytes (IPv4 ones mapped).
func addr16(a tcpip.Address) []byte {
	b := a.AsSlice()
	switch len(b) {
	case 16:
		return b
	case 4:
		return append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, b...)
	}
	return make([]byte, 16)
}
