package inet

import (
	"encoding/binary"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// addrUse says which call a sockaddr was given to: Linux checks a
// sockaddr's length and family in a different order, and with different
// errors, in each.
type addrUse int

const (
	useBind addrUse = iota
	useConnect
	useSend
)

// minSockaddrLen is the shortest sockaddr a socket of family fam accepts
// for its own family (IPv6 takes the RFC 2133 form without a scope).
func minSockaddrLen(fam int) int {
	if fam == linux.AF_INET6 {
		return sizeofSockaddrIn6Old
	}
	return sizeofSockaddrIn
}

// parseAddrFor checks and decodes a sockaddr as Linux's inet_bind,
// inet6_bind, tcp_v4/v6_connect, ip4/ip6_datagram_connect, udp_sendmsg
// and udpv6_sendmsg do, in their order: the length against the socket's
// own family's sockaddr comes before the family (so a short sockaddr of
// another family is EINVAL, a long enough one EAFNOSUPPORT). AF_UNSPEC
// comes back as such for the caller's rules (disconnect, bind to any,
// send to the peer). An IPv6 datagram socket may connect and send to an
// AF_INET sockaddr, which becomes a v4-mapped address (ENETUNREACH or
// EAFNOSUPPORT on an IPV6_V6ONLY socket).
func (s *Socket) parseAddrFor(use addrUse, b []byte) (tcpip.FullAddress, int, error) {
	if len(b) < 2 {
		return tcpip.FullAddress{}, 0, linux.EINVAL
	}
	af := int(binary.LittleEndian.Uint16(b[familyOffset:]))
	dgram := s.typ != linux.SOCK_STREAM
	if use != useBind && af == linux.AF_UNSPEC && (use == useConnect || s.family == linux.AF_INET6) {
		// connect(AF_UNSPEC) disconnects; udpv6_sendmsg ignores an
		// AF_UNSPEC destination. (udp_sendmsg reads one as IPv4,
		// below.)
		return tcpip.FullAddress{}, af, nil
	}
	if s.family == linux.AF_INET6 && dgram && use != useBind && af == linux.AF_INET {
		if len(b) < sizeofSockaddrIn {
			return tcpip.FullAddress{}, af, linux.EINVAL
		}
		if s.ep.SocketOptions().GetV6Only() {
			if use == useSend {
				return tcpip.FullAddress{}, af, linux.ENETUNREACH
			}
			return tcpip.FullAddress{}, af, linux.EAFNOSUPPORT
		}
		fa, _, err := parseAddr(linux.AF_INET, b)
		if err != nil {
			return fa, af, err
		}
		if fa.Addr.BitLen() != 0 {
			fa.Addr = tcpip.AddrFrom16Slice(addr16(fa.Addr))
		}
		return fa, linux.AF_INET6, nil
	}
	if len(b) < minSockaddrLen(s.family) {
		return tcpip.FullAddress{}, af, linux.EINVAL
	}
	if use == useSend && s.family == linux.AF_INET6 && af != linux.AF_INET6 {
		return tcpip.FullAddress{}, af, linux.EINVAL
	}
	if af != s.family && af != linux.AF_UNSPEC {
		return tcpip.FullAddress{}, af, linux.EAFNOSUPPORT
	}
	return parseAddr(s.family, b)
}
