package netlink

import (
	"encoding/binary"
	"net/netip"
	"sort"

	linux "golang.org/x/sys/unix"

	"uk/net/netdev"
)

// ip6DefaultMetric is IP6_RT_PRIO_USER: the metric of an IPv6 route added
// without RTA_PRIORITY.
const ip6DefaultMetric = 1024

// rtaCacheinfoLen is sizeof(struct rta_cacheinfo).
const rtaCacheinfoLen = 32

// Route cache flags (RTCF_*) Linux reports in the high bits of rtm_flags
// of a route lookup.
const (
	rtcfLocal     = 0x80000000
	rtcfBroadcast = 0x10000000
)

// rtmsg is the decoded struct rtmsg of a request.
type rtmsg struct {
	family, dstLen, srcLen, tos, table, protocol, scope, typ uint8
	flags                                                    uint32
}

func parseRtmsg(p []byte) (rtmsg, attrs, error) {
	if len(p) < rtmsgLen {
		return rtmsg{}, nil, linux.EINVAL
	}
	return rtmsg{family: p[0], dstLen: p[1], srcLen: p[2], tos: p[3], table: p[4], protocol: p[5],
		scope: p[6], typ: p[7], flags: binary.LittleEndian.Uint32(p[8:])}, parseAttrs(p[rtmsgLen:]), nil
}

func appendRtmsg(m *msg, h rtmsg) {
	b := []byte{h.family, h.dstLen, h.srcLen, h.tos, h.table, h.protocol, h.scope, h.typ}
	m.raw(binary.LittleEndian.AppendUint32(b, h.flags))
}

// routeMsg encodes a route as fib_dump_info (IPv4) or rt6_fill_node
// (IPv6) does for a dump.
func routeMsg(c *call, r netdev.Route, flags uint16) []byte {
	m := c.newMsg(linux.RTM_NEWROUTE, flags)
	dst := r.Dst.Addr()
	appendRtmsg(m, rtmsg{family: familyOf(dst), dstLen: uint8(r.Dst.Bits()), table: r.Table,
		protocol: r.Protocol, scope: r.Scope, typ: r.Type})
	m.u32(linux.RTA_TABLE, uint32(r.Table))
	if r.Dst.Bits() > 0 {
		m.attr(linux.RTA_DST, dst.AsSlice())
	}
	if dst.Is4() {
		if r.Metric != 0 {
			m.u32(linux.RTA_PRIORITY, r.Metric)
		}
		if r.Src.IsValid() {
			m.attr(linux.RTA_PREFSRC, r.Src.AsSlice())
		}
		if r.Gateway.IsValid() {
			m.attr(linux.RTA_GATEWAY, r.Gateway.AsSlice())
		}
		if r.LinkIndex != 0 {
			m.u32(linux.RTA_OIF, uint32(r.LinkIndex))
		}
		return m.bytes()
	}
	if r.Src.IsValid() {
		m.attr(linux.RTA_PREFSRC, r.Src.AsSlice())
	}
	m.u32(linux.RTA_PRIORITY, r.Metric)
	if r.Gateway.IsValid() {
		m.attr(linux.RTA_GATEWAY, r.Gateway.AsSlice())
	}
	if r.LinkIndex != 0 {
		m.u32(linux.RTA_OIF, uint32(r.LinkIndex))
	}
	m.attr(linux.RTA_CACHEINFO, make([]byte, rtaCacheinfoLen))
	m.u8(linux.RTA_PREF, 0) // ICMPV6_ROUTER_PREF_MEDIUM
	return m.bytes()
}

// sortRoutes orders routes as a dump walks them: IPv4 before IPv6, and
// within a family by table id (Linux walks its table hash by id).
func sortRoutes(rs []netdev.Route) {
	sort.SliceStable(rs, func(i, j int) bool {
		fi, fj := familyOf(rs[i].Dst.Addr()), familyOf(rs[j].Dst.Addr())
		if fi != fj {
			return fi < fj
		}
		return rs[i].Table < rs[j].Table
	})
}

// dumpRoutes is inet_dump_fib and inet6_dump_fib: the routes of the
// family, or of both for AF_UNSPEC and any family without a handler of
// its own (ip route sends 0xff; Linux falls back to rtnl_dump_all).
// RTM_F_CLONED asks for the route cache, which the sandbox does not
// have. Under NETLINK_GET_STRICT_CHK, rtm_table/RTA_TABLE, rtm_protocol,
// rtm_type and RTA_OIF filter.
func (c *call) dumpRoutes() ([][]byte, error) {
	family := c.req.Payload[0]
	var filter rtmsg
	var oif uint32
	if len(c.req.Payload) >= rtmsgLen {
		h, as, _ := parseRtmsg(c.req.Payload)
		if h.flags&linux.RTM_F_CLONED != 0 {
			return nil, nil
		}
		if c.strict {
			filter = h
			if t, ok, err := as.u32(linux.RTA_TABLE); err != nil {
				return nil, err
			} else if ok {
				filter.table = uint8(t)
			}
			var err error
			if oif, _, err = as.u32(linux.RTA_OIF); err != nil {
				return nil, err
			}
		}
	} else if c.strict {
		return nil, linux.EINVAL
	}
	if filter.table != 0 || filter.protocol != 0 || filter.typ != 0 || oif != 0 {
		c.answerFlags = linux.NLM_F_DUMP_FILTERED
	}
	rs := c.withLocalRoutes(c.p.table.Routes())
	sortRoutes(rs)
	var out [][]byte
	for _, r := range rs {
		f := familyOf(r.Dst.Addr())
		if (family == linux.AF_INET || family == linux.AF_INET6) && family != f {
			continue
		}
		if (filter.table != 0 && r.Table != filter.table) ||
			(filter.protocol != 0 && r.Protocol != filter.protocol) ||
			(filter.typ != 0 && r.Type != filter.typ) ||
			(oif != 0 && uint32(r.LinkIndex) != oif) {
			continue
		}
		out = append(out, routeMsg(c, r, c.multi()))
	}
	return out, nil
}

// routeInput is the decoded content of a RTM_NEWROUTE/RTM_DELROUTE/
// RTM_GETROUTE request.
type routeInput struct {
	h                     rtmsg
	dst, gw, prefsrc, src netip.Addr
	hasDst, hasGw, hasSrc bool
	oif, metric, table    uint32
	hasMetric             bool
}

// parseRouteInput decodes a route request of family IPv4 or IPv6.
func parseRouteInput(p []byte) (routeInput, error) {
	h, as, err := parseRtmsg(p)
	if err != nil {
		return routeInput{}, err
	}
	in := routeInput{h: h, table: uint32(h.table)}
	bits := 32
	if h.family == linux.AF_INET6 {
		bits = 128
	}
	if int(h.dstLen) > bits || int(h.srcLen) > bits {
		return in, linux.EINVAL
	}
	for _, t := range []uint16{linux.RTA_MULTIPATH, linux.RTA_VIA, linux.RTA_ENCAP} {
		if _, ok := as[t]; ok {
			return in, linux.EOPNOTSUPP
		}
	}
	if in.dst, in.hasDst, err = ipAttr(as, linux.RTA_DST, h.family); err != nil {
		return in, err
	}
	if !in.hasDst {
		in.dst = netip.IPv4Unspecified()
		if h.family == linux.AF_INET6 {
			in.dst = netip.IPv6Unspecified()
		}
	}
	if in.gw, in.hasGw, err = ipAttr(as, linux.RTA_GATEWAY, h.family); err != nil {
		return in, err
	}
	if in.prefsrc, _, err = ipAttr(as, linux.RTA_PREFSRC, h.family); err != nil {
		return in, err
	}
	if in.src, in.hasSrc, err = ipAttr(as, linux.RTA_SRC, h.family); err != nil {
		return in, err
	}
	if in.oif, _, err = as.u32(linux.RTA_OIF); err != nil {
		return in, err
	}
	if in.metric, in.hasMetric, err = as.u32(linux.RTA_PRIORITY); err != nil {
		return in, err
	}
	if t, ok, err := as.u32(linux.RTA_TABLE); err != nil {
		return in, err
	} else if ok {
		in.table = t
	}
	if in.table == 0 {
		in.table = linux.RT_TABLE_MAIN
	}
	if in.table > 255 {
		// netdev.Route keeps 8-bit table ids.
		return in, linux.EINVAL
	}
	return in, nil
}

// changeRoute is inet_rtm_newroute/inet_rtm_delroute and the IPv6
// counterparts, with fib_table_insert's NLM_F_EXCL/REPLACE/CREATE rules.
func (c *call) changeRoute() ([][]byte, error) {
	in, err := parseRouteInput(c.req.Payload)
	if err != nil {
		return nil, err
	}
	h := in.h
	if h.typ > linux.RTN_MAX {
		return nil, linux.EINVAL
	}
	v6 := h.family == linux.AF_INET6
	dst := netip.PrefixFrom(in.dst, int(h.dstLen))
	if dst.Masked() != dst {
		if !v6 {
			return nil, linux.EINVAL // fib_table_insert: host bits set
		}
		dst = dst.Masked()
	}
	r := netdev.Route{Dst: dst, Gateway: in.gw, Src: in.prefsrc, LinkIndex: int32(in.oif),
		Table: uint8(in.table), Protocol: h.protocol, Scope: h.scope, Type: h.typ, Metric: in.metric}
	if c.req.Type == linux.RTM_DELROUTE {
		if h.scope == linux.RT_SCOPE_NOWHERE || v6 {
			r.Scope = 0
		}
		return nil, c.p.table.DelRoute(r)
	}
	if v6 {
		r.Scope = linux.RT_SCOPE_UNIVERSE
		if !in.hasMetric {
			r.Metric = ip6DefaultMetric
		}
		if r.Protocol == linux.RTPROT_UNSPEC {
			r.Protocol = linux.RTPROT_BOOT
		}
	}
	var existing *netdev.Route
	for _, e := range c.p.table.Routes() {
		if e.Dst == r.Dst && e.Table == r.Table && e.Metric == r.Metric {
			existing = &e
			break
		}
	}
	flags := c.req.Flags
	switch {
	case existing != nil && flags&linux.NLM_F_EXCL != 0:
		return nil, linux.EEXIST
	case existing != nil && flags&linux.NLM_F_REPLACE != 0:
		if err := c.p.table.DelRoute(*existing); err != nil {
			return nil, err
		}
		if err := c.p.table.AddRoute(r); err != nil {
			_ = c.p.table.AddRoute(*existing)
			return nil, err
		}
		return nil, nil
	case existing == nil && flags&linux.NLM_F_CREATE == 0 && (!v6 || flags&linux.NLM_F_REPLACE != 0):
		return nil, linux.ENOENT
	}
	return nil, c.p.table.AddRoute(r)
}

// lookupOrder is the order the default policy rules consult tables in:
// local, main, default.
var lookupOrder = []uint8{linux.RT_TABLE_LOCAL, linux.RT_TABLE_MAIN, linux.RT_TABLE_DEFAULT}

// lookup finds the route to dst: the longest prefix match (lowest metric
// among equals) in the first table of lookupOrder that has one. oif, when
// nonzero, restricts the search to routes through that interface.
func lookup(rs []netdev.Route, dst netip.Addr, oif int32) (netdev.Route, bool) {
	for _, t := range lookupOrder {
		var best netdev.Route
		found := false
		for _, r := range rs {
			if r.Table != t || !r.Dst.Contains(dst) || (oif != 0 && r.LinkIndex != 0 && r.LinkIndex != oif) {
				continue
			}
			if !found || r.Dst.Bits() > best.Dst.Bits() ||
				(r.Dst.Bits() == best.Dst.Bits() && r.Metric < best.Metric) {
				best, found = r, true
			}
		}
		if found {
			return best, true
		}
	}
	return netdev.Route{}, false
}

// withLocalRoutes adds, when the table keeps no RT_TABLE_LOCAL routes,
// the local table Linux derives from the addresses, so that dumps show it
// and lookups of the sandbox's own addresses resolve. For IPv4
// (fib_add_ifaddr): a local host route per address, the whole prefix as
// local for an address on a loopback interface, and a broadcast route for
// the address's broadcast address. For IPv6: a local host route per
// address and the ff00::/8 multicast route of each interface with IPv6.
// The derived routes go in address order, as Linux's trie walks them.
func (c *call) withLocalRoutes(rs []netdev.Route) []netdev.Route {
	for _, r := range rs {
		if r.Table == linux.RT_TABLE_LOCAL {
			return rs
		}
	}
	loopback := map[int32]bool{}
	for _, l := range c.p.table.Links() {
		loopback[l.Index] = l.Flags&linux.IFF_LOOPBACK != 0
	}
	var local []netdev.Route
	v6links := map[int32]bool{}
	add := func(r netdev.Route) {
		for _, o := range local {
			if o.Dst == r.Dst && o.Type == r.Type && o.LinkIndex == r.LinkIndex {
				return
			}
		}
		r.Table, r.Protocol = linux.RT_TABLE_LOCAL, linux.RTPROT_KERNEL
		local = append(local, r)
	}
	for _, a := range c.p.table.Addrs() {
		ip := a.Prefix.Addr()
		if ip.Is6() {
			add(netdev.Route{Dst: netip.PrefixFrom(ip, 128), LinkIndex: a.LinkIndex, Type: linux.RTN_LOCAL})
			v6links[a.LinkIndex] = true
			continue
		}
		r := netdev.Route{Dst: netip.PrefixFrom(ip, 32), Src: ip, LinkIndex: a.LinkIndex,
			Scope: linux.RT_SCOPE_HOST, Type: linux.RTN_LOCAL}
		add(r)
		if loopback[a.LinkIndex] && a.Prefix.Bits() < 32 {
			r.Dst = a.Prefix.Masked()
			add(r)
		}
		if b := a.Broadcast; b.IsValid() && b != netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			add(netdev.Route{Dst: netip.PrefixFrom(b, 32), Src: ip, LinkIndex: a.LinkIndex,
				Scope: linux.RT_SCOPE_LINK, Type: linux.RTN_BROADCAST})
		}
	}
	for _, l := range c.p.table.Links() {
		if v6links[l.Index] && !loopback[l.Index] {
			add(netdev.Route{Dst: netip.MustParsePrefix("ff00::/8"), LinkIndex: l.Index,
				Type: linux.RTN_MULTICAST, Metric: 256})
		}
	}
	sort.SliceStable(local, func(i, j int) bool {
		a, b := local[i].Dst, local[j].Dst
		if a.Addr().Is4() != b.Addr().Is4() {
			return a.Addr().Is4()
		}
		if c := a.Masked().Addr().Compare(b.Masked().Addr()); c != 0 {
			return c < 0
		}
		return a.Bits() < b.Bits()
	})
	return append(rs, local...)
}

// sourceFor picks the preferred source address of a route: its own
// RTA_PREFSRC, else an address of the family on the output interface
// (one whose subnet holds the next hop first).
func (c *call) sourceFor(r netdev.Route, oif int32, hop netip.Addr) (netip.Addr, bool) {
	if r.Src.IsValid() {
		return r.Src, true
	}
	var first netip.Addr
	for _, a := range c.p.table.Addrs() {
		if a.LinkIndex != oif || a.Prefix.Addr().Is4() != hop.Is4() {
			continue
		}
		if a.Prefix.Masked().Contains(hop) {
			return a.Prefix.Addr(), true
		}
		if !first.IsValid() {
			first = a.Prefix.Addr()
		}
	}
	return first, first.IsValid()
}

// getRoute is inet_rtm_getroute/inet6_rtm_getroute: the route the
// sandbox would use for RTA_DST, as a cloned (RTM_F_CLONED) /32 or /128
// entry, or the matching table entry itself under RTM_F_FIB_MATCH.
func (c *call) getRoute() ([][]byte, error) {
	in, err := parseRouteInput(c.req.Payload)
	if err != nil {
		return nil, err
	}
	h := in.h
	r, ok := lookup(c.withLocalRoutes(c.p.table.Routes()), in.dst, int32(in.oif))
	if !ok {
		return nil, linux.ENETUNREACH
	}
	switch r.Type {
	case linux.RTN_UNREACHABLE:
		return nil, linux.EHOSTUNREACH
	case linux.RTN_PROHIBIT:
		return nil, linux.EACCES
	case linux.RTN_BLACKHOLE:
		return nil, linux.EINVAL
	}
	if h.flags&linux.RTM_F_FIB_MATCH != 0 {
		return [][]byte{routeMsg(c, r, 0)}, nil
	}
	oif := r.LinkIndex
	if r.Type == linux.RTN_LOCAL {
		for _, l := range c.p.table.Links() {
			if l.Flags&linux.IFF_LOOPBACK != 0 {
				oif = l.Index
				break
			}
		}
	}
	hop := in.dst
	if r.Gateway.IsValid() {
		hop = r.Gateway
	}
	if oif == 0 {
		for _, a := range c.p.table.Addrs() {
			if a.Prefix.Masked().Contains(hop) {
				oif = a.LinkIndex
				break
			}
		}
	}
	src, hasSrc := c.sourceFor(r, oif, hop)
	if r.Type == linux.RTN_LOCAL && !r.Src.IsValid() {
		src, hasSrc = in.dst, true
	}
	v6 := h.family == linux.AF_INET6
	m := c.newMsg(linux.RTM_NEWROUTE, 0)
	if v6 {
		// rt6_fill_node: the matched route's table, protocol and
		// type, with the flow's addresses as /128 destination and
		// source (:: when none was given).
		saddr := netip.IPv6Unspecified()
		if in.hasSrc {
			saddr = in.src
		}
		appendRtmsg(m, rtmsg{family: h.family, dstLen: 128, srcLen: 128, table: r.Table, protocol: r.Protocol, typ: r.Type})
		m.u32(linux.RTA_TABLE, uint32(r.Table))
		m.attr(linux.RTA_DST, in.dst.AsSlice())
		m.attr(linux.RTA_SRC, saddr.AsSlice())
	} else {
		// rt_fill_info: a cloned cache entry reported in the main
		// table, its rt_flags' high bits telling local and broadcast
		// destinations.
		out := rtmsg{family: h.family, dstLen: 32, table: linux.RT_TABLE_MAIN, typ: r.Type, flags: linux.RTM_F_CLONED}
		switch r.Type {
		case linux.RTN_LOCAL:
			out.flags |= rtcfLocal
		case linux.RTN_BROADCAST:
			out.flags |= rtcfBroadcast
		}
		if in.hasSrc {
			out.srcLen = 32
		}
		appendRtmsg(m, out)
		m.u32(linux.RTA_TABLE, linux.RT_TABLE_MAIN)
		m.attr(linux.RTA_DST, in.dst.AsSlice())
		if in.hasSrc {
			m.attr(linux.RTA_SRC, in.src.AsSlice())
		}
	}
	if v6 {
		if hasSrc {
			m.attr(linux.RTA_PREFSRC, src.AsSlice())
		}
		m.u32(linux.RTA_PRIORITY, r.Metric)
		if r.Gateway.IsValid() {
			m.attr(linux.RTA_GATEWAY, r.Gateway.AsSlice())
		}
		if oif != 0 {
			m.u32(linux.RTA_OIF, uint32(oif))
		}
		m.attr(linux.RTA_CACHEINFO, make([]byte, rtaCacheinfoLen))
		m.u8(linux.RTA_PREF, 0)
		return [][]byte{m.bytes()}, nil
	}
	if oif != 0 {
		m.u32(linux.RTA_OIF, uint32(oif))
	}
	if hasSrc && (!in.hasSrc || src != in.src) {
		m.attr(linux.RTA_PREFSRC, src.AsSlice())
	}
	if r.Gateway.IsValid() {
		m.attr(linux.RTA_GATEWAY, r.Gateway.AsSlice())
	}
	m.u32(linux.RTA_UID, c.ctx.Credentials().UID)
	m.attr(linux.RTA_CACHEINFO, make([]byte, rtaCacheinfoLen))
	return [][]byte{m.bytes()}, nil
}
