package inet

import (
	"encoding/binary"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// Sockaddr sizes: struct sockaddr_in, struct sockaddr_in6, and the
// RFC 2133 sockaddr_in6 without sin6_scope_id that Linux still accepts.
const (
	sizeofSockaddrIn     = 16
	sizeofSockaddrIn6    = 28
	sizeofSockaddrIn6Old = 24
	familyOffset         = 0
	portOffset           = 2
	in4AddrOffset        = 4
	in6FlowOffset        = 4
	in6AddrOffset        = 8
	in6ScopeOffset       = 24
)

// parseAddr decodes a sockaddr given to a socket of family fam. It
// returns the tcpip address (the unspecified address becomes tcpip's
// empty "any" address), the sockaddr's own family (AF_UNSPEC is legal for
// connect and, for AF_INET, bind), and EINVAL for a short address or
// EAFNOSUPPORT for another family.
func parseAddr(fam int, b []byte) (tcpip.FullAddress, int, error) {
	if len(b) < 2 {
		return tcpip.FullAddress{}, 0, linux.EINVAL
	}
	af := int(binary.LittleEndian.Uint16(b[familyOffset:]))
	if af == linux.AF_UNSPEC {
		return tcpip.FullAddress{}, af, nil
	}
	if af != fam {
		if fam == linux.AF_INET6 && af == linux.AF_INET {
			return tcpip.FullAddress{}, af, linux.EINVAL
		}
		return tcpip.FullAddress{}, af, linux.EAFNOSUPPORT
	}
	var fa tcpip.FullAddress
	switch af {
	case linux.AF_INET:
		if len(b) < sizeofSockaddrIn {
			return fa, af, linux.EINVAL
		}
		fa.Port = binary.BigEndian.Uint16(b[portOffset:])
		fa.Addr = tcpip.AddrFrom4Slice(b[in4AddrOffset : in4AddrOffset+4])
	case linux.AF_INET6:
		if len(b) < sizeofSockaddrIn6Old {
			return fa, af, linux.EINVAL
		}
		fa.Port = binary.BigEndian.Uint16(b[portOffset:])
		fa.Addr = tcpip.AddrFrom16Slice(b[in6AddrOffset : in6AddrOffset+16])
		if len(b) >= sizeofSockaddrIn6 {
			fa.NIC = tcpip.NICID(binary.LittleEndian.Uint32(b[in6ScopeOffset:]))
		}
		if !isLinkLocal6(fa.Addr) {
			fa.NIC = 0
		}
	}
	if fa.Addr.Unspecified() {
		fa.Addr = tcpip.Address{}
	}
	return fa, af, nil
}

// isLinkLocal6 reports whether a is an IPv6 link-local unicast address,
// the only kind whose sin6_scope_id names an interface.
func isLinkLocal6(a tcpip.Address) bool {
	b := a.AsSlice()
	return len(b) == 16 && b[0] == 0xfe && b[1]&0xc0 == 0x80
}

// encodeAddr is the sockaddr of fa as a socket of family fam reports it:
// IPv4 addresses seen by an AF_INET6 socket become v4-mapped.
func encodeAddr(fam int, fa tcpip.FullAddress) []byte {
	if fam == linux.AF_INET {
		b := make([]byte, sizeofSockaddrIn)
		binary.LittleEndian.PutUint16(b[familyOffset:], linux.AF_INET)
		binary.BigEndian.PutUint16(b[portOffset:], fa.Port)
		if a := fa.Addr.AsSlice(); len(a) == 4 {
			copy(b[in4AddrOffset:], a)
		} else if len(a) == 16 {
			copy(b[in4AddrOffset:], a[12:])
		}
		return b
	}
	b := make([]byte, sizeofSockaddrIn6)
	binary.LittleEndian.PutUint16(b[familyOffset:], linux.AF_INET6)
	binary.BigEndian.PutUint16(b[portOffset:], fa.Port)
	switch a := fa.Addr.AsSlice(); len(a) {
	case 4:
		b[in6AddrOffset+10], b[in6AddrOffset+11] = 0xff, 0xff
		copy(b[in6AddrOffset+12:], a)
	case 16:
		copy(b[in6AddrOffset:], a)
		if isLinkLocal6(fa.Addr) {
			binary.LittleEndian.PutUint32(b[in6ScopeOffset:], uint32(fa.NIC))
		}
	}
	return b
}

// loopbackOf is the loopback address of a family: what the unspecified
// address stands for as a destination.
func loopbackOf(fam int) tcpip.Address {
	if fam == linux.AF_INET6 {
		return tcpip.AddrFrom16([16]byte{15: 1})
	}
	return tcpip.AddrFrom4([4]byte{127, 0, 0, 1})
}
