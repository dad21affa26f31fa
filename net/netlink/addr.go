package netlink

import (
	"encoding/binary"
	"net/netip"
	"sort"
	"time"

	linux "golang.org/x/sys/unix"

	"uk/net/netdev"
)

// infiniteLifetime is INFINITY_LIFE_TIME: a permanent address's
// preferred and valid lifetimes.
const infiniteLifetime = 0xffffffff

// ipv6UserFlags are the IFA_F_* bits a request may set on an IPv6 address
// (inet6_rtm_newaddr's mask).
const ipv6UserFlags = linux.IFA_F_NODAD | linux.IFA_F_HOMEADDRESS | linux.IFA_F_MANAGETEMPADDR |
	linux.IFA_F_NOPREFIXROUTE | linux.IFA_F_MCAUTOJOIN | linux.IFA_F_OPTIMISTIC

// familyOf is the AF_* family of an address.
func familyOf(a netip.Addr) uint8 {
	if a.Is4() {
		return linux.AF_INET
	}
	return linux.AF_INET6
}

// centisecs is a timestamp of struct ifa_cacheinfo: hundredths of a second
// since boot.
func (p *Provider) centisecs() uint32 {
	return uint32(time.Since(p.boot) / (10 * time.Millisecond))
}

// addrMsg encodes an address as inet_fill_ifaddr (IPv4) or
// inet6_fill_ifaddr (IPv6) does.
func addrMsg(c *call, a netdev.Addr, label string, flags uint16) []byte {
	m := c.newMsg(linux.RTM_NEWADDR, flags)
	ip := a.Prefix.Addr()
	hdr := make([]byte, ifaddrLen)
	hdr[0] = familyOf(ip)
	hdr[1] = uint8(a.Prefix.Bits())
	hdr[2] = uint8(a.Flags)
	hdr[3] = a.Scope
	binary.LittleEndian.PutUint32(hdr[4:], uint32(a.LinkIndex))
	m.raw(hdr)
	now := c.p.centisecs()
	ci := binary.LittleEndian.AppendUint32(nil, infiniteLifetime)
	ci = binary.LittleEndian.AppendUint32(ci, infiniteLifetime)
	ci = binary.LittleEndian.AppendUint32(ci, now)
	ci = binary.LittleEndian.AppendUint32(ci, now)
	if ip.Is4() {
		m.attr(linux.IFA_ADDRESS, ip.AsSlice())
		m.attr(linux.IFA_LOCAL, ip.AsSlice())
		if a.Broadcast.IsValid() {
			m.attr(linux.IFA_BROADCAST, a.Broadcast.AsSlice())
		}
		m.str(linux.IFA_LABEL, label)
		m.u32(linux.IFA_FLAGS, a.Flags)
		m.attr(linux.IFA_CACHEINFO, ci)
	} else {
		m.attr(linux.IFA_ADDRESS, ip.AsSlice())
		m.attr(linux.IFA_CACHEINFO, ci)
		m.u32(linux.IFA_FLAGS, a.Flags)
	}
	return m.bytes()
}

// linkNames maps interface indexes to names (the IPv4 address label).
func (c *call) linkNames() map[int32]string {
	names := map[int32]string{}
	for _, l := range c.p.table.Links() {
		names[l.Index] = l.Name
	}
	return names
}

// dumpAddrs is inet_dump_ifaddr and inet6_dump_ifaddr: the addresses of
// the requested family, or of both (IPv4 first, as rtnl_dump_all walks the
// families) for AF_UNSPEC and families without a handler of their own.
// Within a family, addresses go by interface index. Under
// NETLINK_GET_STRICT_CHK a nonzero ifa_index filters.
func (c *call) dumpAddrs() ([][]byte, error) {
	family := c.req.Payload[0]
	var index int32
	if c.strict {
		if len(c.req.Payload) < ifaddrLen {
			return nil, linux.EINVAL
		}
		index = int32(binary.LittleEndian.Uint32(c.req.Payload[4:]))
		if index != 0 {
			c.answerFlags = linux.NLM_F_DUMP_FILTERED
		}
	}
	addrs := c.p.table.Addrs()
	sort.SliceStable(addrs, func(i, j int) bool { return addrs[i].LinkIndex < addrs[j].LinkIndex })
	names := c.linkNames()
	var out [][]byte
	for _, fam := range []uint8{linux.AF_INET, linux.AF_INET6} {
		if (family == linux.AF_INET || family == linux.AF_INET6) && family != fam {
			continue
		}
		for _, a := range addrs {
			if familyOf(a.Prefix.Addr()) != fam || (index != 0 && a.LinkIndex != index) {
				continue
			}
			out = append(out, addrMsg(c, a, names[a.LinkIndex], c.multi()))
		}
	}
	return out, nil
}

// ipAttr decodes an address attribute of the family (EINVAL when too
// short for it).
func ipAttr(as attrs, typ uint16, family uint8) (netip.Addr, bool, error) {
	b, ok := as[typ]
	if !ok {
		return netip.Addr{}, false, nil
	}
	n := 4
	if family == linux.AF_INET6 {
		n = 16
	}
	if len(b) < n {
		return netip.Addr{}, true, linux.EINVAL
	}
	a, _ := netip.AddrFromSlice(b[:n])
	return a, true, nil
}

// ipv6Scope is ipv6_addr_scope as rtnetlink reports it.
func ipv6Scope(a netip.Addr) uint8 {
	switch {
	case a.IsLoopback():
		return linux.RT_SCOPE_HOST
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return linux.RT_SCOPE_LINK
	}
	return linux.RT_SCOPE_UNIVERSE
}

// changeAddr is inet_rtm_newaddr/inet_rtm_deladdr and their IPv6
// counterparts.
func (c *call) changeAddr() ([][]byte, error) {
	p := c.req.Payload
	if len(p) < ifaddrLen {
		return nil, linux.EINVAL
	}
	family, plen, hflags, scope := p[0], int(p[1]), uint32(p[2]), p[3]
	index := int32(binary.LittleEndian.Uint32(p[4:]))
	as := parseAttrs(p[ifaddrLen:])
	maxLen := 32
	if family == linux.AF_INET6 {
		maxLen = 128
	}
	if plen > maxLen {
		return nil, linux.EINVAL
	}
	local, hasLocal, err := ipAttr(as, linux.IFA_LOCAL, family)
	if err != nil {
		return nil, err
	}
	address, hasAddress, err := ipAttr(as, linux.IFA_ADDRESS, family)
	if err != nil {
		return nil, err
	}
	brd, _, err := ipAttr(as, linux.IFA_BROADCAST, family)
	if err != nil {
		return nil, err
	}
	flags, hasFlags, err := as.u32(linux.IFA_FLAGS)
	if err != nil {
		return nil, err
	}
	if !hasFlags {
		flags = hflags
	}
	link, ok := netdev.LinkByIndex(c.p.table, index)
	if c.req.Type == linux.RTM_DELADDR {
		if !ok {
			return nil, linux.ENODEV
		}
		return nil, c.delAddr(family, plen, index, local, hasLocal, address, hasAddress, as, link.Name)
	}
	ip := local
	if !hasLocal {
		if family == linux.AF_INET || !hasAddress {
			return nil, linux.EINVAL
		}
		ip = address
	}
	if !ok {
		return nil, linux.ENODEV
	}
	a := netdev.Addr{LinkIndex: index, Prefix: netip.PrefixFrom(ip, plen), Broadcast: brd, Scope: scope,
		Flags: flags | linux.IFA_F_PERMANENT}
	if family == linux.AF_INET6 {
		a.Broadcast = netip.Addr{}
		a.Scope = ipv6Scope(ip)
		a.Flags = flags&ipv6UserFlags | linux.IFA_F_PERMANENT
	}
	for _, e := range c.p.table.Addrs() {
		if e.LinkIndex != index || e.Prefix.Addr() != ip || (family == linux.AF_INET && e.Prefix.Bits() != plen) {
			continue
		}
		// The address exists: EEXIST unless NLM_F_REPLACE asks to
		// update it in place.
		if c.req.Flags&linux.NLM_F_EXCL != 0 || c.req.Flags&linux.NLM_F_REPLACE == 0 {
			return nil, linux.EEXIST
		}
		if e == a {
			return nil, nil
		}
		if err := c.p.table.DelAddr(e); err != nil {
			return nil, err
		}
		break
	}
	return nil, c.p.table.AddAddr(a)
}

// delAddr finds the address a RTM_DELADDR names on interface index and
// removes it. IPv4 (inet_rtm_deladdr) matches the first address agreeing
// with whichever of IFA_LOCAL, IFA_LABEL and IFA_ADDRESS (with the prefix
// length) are given; IPv6 (inet6_rtm_deladdr) needs the address and
// matches it with its prefix length.
func (c *call) delAddr(family uint8, plen int, index int32, local netip.Addr, hasLocal bool,
	address netip.Addr, hasAddress bool, as attrs, linkName string) error {
	label, hasLabel, err := as.str(linux.IFA_LABEL, linux.IFNAMSIZ-1)
	if err != nil {
		return err
	}
	if family == linux.AF_INET6 {
		ip := local
		if !hasLocal {
			if !hasAddress {
				return linux.EINVAL
			}
			ip = address
		}
		for _, e := range c.p.table.Addrs() {
			if e.LinkIndex == index && e.Prefix.Addr() == ip && e.Prefix.Bits() == plen {
				return c.p.table.DelAddr(e)
			}
		}
		return linux.EADDRNOTAVAIL
	}
	for _, e := range c.p.table.Addrs() {
		if e.LinkIndex != index || !e.Prefix.Addr().Is4() {
			continue
		}
		if hasLocal && e.Prefix.Addr() != local {
			continue
		}
		if hasLabel && label != linkName {
			continue
		}
		if hasAddress && (e.Prefix.Bits() != plen || !e.Prefix.Masked().Contains(address)) {
			continue
		}
		return c.p.table.DelAddr(e)
	}
	return linux.EADDRNOTAVAIL
}
