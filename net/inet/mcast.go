package inet

import (
	"encoding/binary"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// membership is one multicast group a socket joined, with the
// interface as the caller named it (an index, or an address when the
// index is 0).
type membership struct {
	group   tcpip.Address
	ifindex int32
	ifaddr  tcpip.Address
}

// sizeofGroupReq is struct group_req on 64-bit Linux: gr_interface, 4
// bytes of padding, a struct sockaddr_storage.
const sizeofGroupReq = 136

// parseGroupReq decodes a struct group_req for family: it sets m's
// interface and returns the group's sockaddr. A sockaddr of another family
// gives badFamily (the two protocols' Linux code differ there).
func parseGroupReq(val []byte, family uint16, badFamily error, m *membership) ([]byte, error) {
	if len(val) < sizeofGroupReq {
		return nil, linux.EINVAL
	}
	sa := val[8:sizeofGroupReq]
	if binary.LittleEndian.Uint16(sa) != family {
		return nil, badFamily
	}
	m.ifindex = int32(binary.LittleEndian.Uint32(val))
	return sa, nil
}

// parseMembership decodes the value of IP_ADD_MEMBERSHIP and
// IP_DROP_MEMBERSHIP (struct ip_mreq or ip_mreqn) or of MCAST_JOIN_GROUP
// and MCAST_LEAVE_GROUP (struct group_req).
func parseMembership(name int, val []byte) (membership, error) {
	var m membership
	switch name {
	case linux.MCAST_JOIN_GROUP, linux.MCAST_LEAVE_GROUP:
		sa, err := parseGroupReq(val, linux.AF_INET, linux.EINVAL, &m)
		if err != nil {
			return m, err
		}
		m.group = tcpip.AddrFrom4Slice(sa[4:8])
	default:
		if len(val) < 8 {
			return m, linux.EINVAL
		}
		m.group = tcpip.AddrFrom4Slice(val[0:4])
		m.ifaddr = tcpip.AddrFrom4Slice(val[4:8])
		if len(val) >= 12 {
			m.ifindex = int32(binary.LittleEndian.Uint32(val[8:]))
		}
	}
	return m, nil
}

// sizeofIPv6Mreq is struct ipv6_mreq: the group, then an ifindex.
const sizeofIPv6Mreq = 20

// parseMembership6 decodes IPV6_ADD_MEMBERSHIP and IPV6_DROP_MEMBERSHIP
// (struct ipv6_mreq) and SOL_IPV6's MCAST_JOIN_GROUP and
// MCAST_LEAVE_GROUP (struct group_req holding a sockaddr_in6, whose
// family must be AF_INET6: EADDRNOTAVAIL otherwise, as Linux).
func parseMembership6(name int, val []byte) (membership, error) {
	var m membership
	switch name {
	case linux.MCAST_JOIN_GROUP, linux.MCAST_LEAVE_GROUP:
		sa, err := parseGroupReq(val, linux.AF_INET6, linux.EADDRNOTAVAIL, &m)
		if err != nil {
			return m, err
		}
		m.group = tcpip.AddrFrom16Slice(sa[in6AddrOffset : in6AddrOffset+16])
	default:
		if len(val) < sizeofIPv6Mreq {
			return m, linux.EINVAL
		}
		m.group = tcpip.AddrFrom16Slice(val[:16])
		m.ifindex = int32(binary.LittleEndian.Uint32(val[16:]))
	}
	return m, nil
}

// isMulticast reports whether a is an IPv4 (224/4) or IPv6 (ff00::/8)
// multicast address.
func isMulticast(a tcpip.Address) bool {
	b := a.AsSlice()
	switch len(b) {
	case 4:
		return b[0]&0xf0 == 0xe0
	case 16:
		return b[0] == 0xff
	}
	return false
}

// setMembership6 is setMembership for IPv6 sockets: IPV6_ADD_MEMBERSHIP
// on TCP is EPROTO; MCAST_JOIN_GROUP is kept for any socket.
func (s *Socket) setMembership6(name int, val []byte) error {
	join := name == linux.IPV6_ADD_MEMBERSHIP || name == linux.MCAST_JOIN_GROUP
	if name == linux.IPV6_ADD_MEMBERSHIP || name == linux.IPV6_DROP_MEMBERSHIP {
		if len(val) < sizeofIPv6Mreq {
			return linux.EINVAL
		}
		if s.typ == linux.SOCK_STREAM {
			return linux.EPROTO
		}
	}
	m, err := parseMembership6(name, val)
	if err != nil {
		return err
	}
	return s.changeMembership(m, join)
}

// setMembership joins or leaves a multicast group as Linux's
// ip_mc_join_group and ip_mc_leave_group: a group that is not multicast
// is EINVAL, joining twice EADDRINUSE, leaving a group not joined
// EADDRNOTAVAIL. Linux keeps memberships of any IPv4 socket (a TCP socket
// may join with MCAST_JOIN_GROUP, though IP_ADD_MEMBERSHIP on it is
// EPROTO); tcpip delivers multicast only to datagram endpoints, so only
// theirs reach it.
func (s *Socket) setMembership(name int, val []byte) error {
	join := name == linux.IP_ADD_MEMBERSHIP || name == linux.MCAST_JOIN_GROUP
	if s.typ == linux.SOCK_STREAM && (name == linux.IP_ADD_MEMBERSHIP || name == linux.IP_DROP_MEMBERSHIP) {
		return linux.EPROTO
	}
	m, err := parseMembership(name, val)
	if err != nil {
		return err
	}
	return s.changeMembership(m, join)
}

// changeMembership records a join or leave and passes it to tcpip for
// datagram sockets.
func (s *Socket) changeMembership(m membership, join bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if join {
		if !isMulticast(m.group) {
			return linux.EINVAL
		}
		for _, j := range s.groups {
			if j == m {
				return linux.EADDRINUSE
			}
		}
		if s.typ != linux.SOCK_STREAM {
			opt := tcpip.AddMembershipOption{NIC: tcpip.NICID(m.ifindex), InterfaceAddr: m.ifaddr, MulticastAddr: m.group}
			if terr := s.ep.SetSockOpt(&opt); terr != nil {
				return errnoOf(terr)
			}
		}
		s.groups = append(s.groups, m)
		return nil
	}
	for i, j := range s.groups {
		if j.group != m.group || m.ifindex != 0 && j.ifindex != m.ifindex ||
			m.ifaddr.BitLen() != 0 && !m.ifaddr.Unspecified() && j.ifaddr != m.ifaddr {
			continue
		}
		if s.typ != linux.SOCK_STREAM {
			opt := tcpip.RemoveMembershipOption{NIC: tcpip.NICID(j.ifindex), InterfaceAddr: j.ifaddr, MulticastAddr: j.group}
			s.ep.SetSockOpt(&opt)
		}
		s.groups = append(s.groups[:i], s.groups[i+1:]...)
		return nil
	}
	return linux.EADDRNOTAVAIL
}
