// Package netdevtest provides a netdev.Table for the tests of the code
// that serves one to applications (netdev's ioctls, netlink's rtnetlink):
// a table kept in slices that follows the Table contract's error rules,
// starting as a typical boot configures the sandbox. It is for tests only;
// nothing in uk's binary imports it.
package netdevtest

import (
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"

	"uk/net/netdev"
)

// Flags of the starting links: what an up interface shows, and loopback's
// and Ethernet's full sets.
const (
	UpFlags  = unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_LOWER_UP
	LoFlags  = UpFlags | unix.IFF_LOOPBACK
	EthFlags = UpFlags | unix.IFF_BROADCAST | unix.IFF_MULTICAST
)

// EthMAC is eth0's hardware address.
var EthMAC = []byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

// Table is a netdev.Table kept in slices. It is safe for concurrent use;
// the slices the methods return are copies.
type Table struct {
	mu     sync.Mutex
	links  []netdev.Link  // protected by mu
	addrs  []netdev.Addr  // protected by mu
	routes []netdev.Route // protected by mu
}

var _ netdev.Table = (*Table)(nil)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

// New returns the sandbox as configured by a typical boot: lo (index 1)
// and eth0 (index 2) with IPv4 and IPv6 addresses, a default route,
// connected and local routes.
func New() *Table {
	return &Table{
		links: []netdev.Link{
			{Index: 1, Name: "lo", Type: unix.ARPHRD_LOOPBACK, Flags: LoFlags, MTU: 65536, HWAddr: make([]byte, 6)},
			{Index: 2, Name: "eth0", Type: unix.ARPHRD_ETHER, Flags: EthFlags, MTU: 1500, HWAddr: EthMAC,
				Stats: netdev.Stats{RxPackets: 2, TxPackets: 1, RxBytes: 176, TxBytes: 90}},
		},
		addrs: []netdev.Addr{
			{LinkIndex: 1, Prefix: pfx("127.0.0.1/8"), Scope: unix.RT_SCOPE_HOST, Flags: unix.IFA_F_PERMANENT},
			{LinkIndex: 1, Prefix: pfx("::1/128"), Scope: unix.RT_SCOPE_HOST, Flags: unix.IFA_F_PERMANENT},
			{LinkIndex: 2, Prefix: pfx("10.0.2.15/24"), Broadcast: ip("10.0.2.255"), Flags: unix.IFA_F_PERMANENT},
			{LinkIndex: 2, Prefix: pfx("fe80::5054:ff:fe12:3456/64"), Scope: unix.RT_SCOPE_LINK, Flags: unix.IFA_F_PERMANENT},
		},
		routes: []netdev.Route{
			{Dst: pfx("127.0.0.0/8"), Src: ip("127.0.0.1"), LinkIndex: 1, Table: unix.RT_TABLE_LOCAL,
				Protocol: unix.RTPROT_KERNEL, Scope: unix.RT_SCOPE_HOST, Type: unix.RTN_LOCAL},
			{Dst: pfx("0.0.0.0/0"), Gateway: ip("10.0.2.2"), LinkIndex: 2, Table: unix.RT_TABLE_MAIN,
				Protocol: unix.RTPROT_BOOT, Scope: unix.RT_SCOPE_UNIVERSE, Type: unix.RTN_UNICAST},
			{Dst: pfx("10.0.2.0/24"), Src: ip("10.0.2.15"), LinkIndex: 2, Table: unix.RT_TABLE_MAIN,
				Protocol: unix.RTPROT_KERNEL, Scope: unix.RT_SCOPE_LINK, Type: unix.RTN_UNICAST},
			{Dst: pfx("10.0.2.15/32"), Src: ip("10.0.2.15"), LinkIndex: 2, Table: unix.RT_TABLE_LOCAL,
				Protocol: unix.RTPROT_KERNEL, Scope: unix.RT_SCOPE_HOST, Type: unix.RTN_LOCAL},
			{Dst: pfx("fe80::/64"), LinkIndex: 2, Table: unix.RT_TABLE_MAIN, Metric: 256,
				Protocol: unix.RTPROT_KERNEL, Type: unix.RTN_UNICAST},
		},
	}
}

// AddLink appends a link, as a device appearing would (its index must be
// new).
func (t *Table) AddLink(l netdev.Link) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.links = append(t.links, l)
}

// KeepRoutes drops every route for which keep is false, as a table that
// keeps only some routing tables would hold.
func (t *Table) KeepRoutes(keep func(netdev.Route) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var kept []netdev.Route
	for _, r := range t.routes {
		if keep(r) {
			kept = append(kept, r)
		}
	}
	t.routes = kept
}

// Links implements netdev.Table.
func (t *Table) Links() []netdev.Link {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]netdev.Link(nil), t.links...)
}

// link returns the link with index, or nil. t.mu is held.
func (t *Table) link(index int32) *netdev.Link {
	for i := range t.links {
		if t.links[i].Index == index {
			return &t.links[i]
		}
	}
	return nil
}

// SetLinkUp implements netdev.Table.
func (t *Table) SetLinkUp(index int32, up bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.link(index)
	if l == nil {
		return unix.ENODEV
	}
	if up {
		l.Flags |= UpFlags
	} else {
		l.Flags &^= UpFlags
	}
	return nil
}

// SetLinkMTU implements netdev.Table.
func (t *Table) SetLinkMTU(index int32, mtu uint32) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.link(index)
	if l == nil {
		return unix.ENODEV
	}
	if mtu < 68 {
		return unix.EINVAL
	}
	l.MTU = mtu
	return nil
}

// Addrs implements netdev.Table.
func (t *Table) Addrs() []netdev.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]netdev.Addr(nil), t.addrs...)
}

// AddAddr implements netdev.Table.
func (t *Table) AddAddr(a netdev.Addr) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.link(a.LinkIndex) == nil {
		return unix.ENODEV
	}
	for _, e := range t.addrs {
		if e.LinkIndex == a.LinkIndex && e.Prefix.Addr() == a.Prefix.Addr() {
			return unix.EEXIST
		}
	}
	t.addrs = append(t.addrs, a)
	return nil
}

// DelAddr implements netdev.Table.
func (t *Table) DelAddr(a netdev.Addr) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, e := range t.addrs {
		if e.LinkIndex == a.LinkIndex && e.Prefix == a.Prefix {
			t.addrs = append(t.addrs[:i], t.addrs[i+1:]...)
			return nil
		}
	}
	return unix.EADDRNOTAVAIL
}

// Routes implements netdev.Table.
func (t *Table) Routes() []netdev.Route {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]netdev.Route(nil), t.routes...)
}

// AddRoute implements netdev.Table.
func (t *Table) AddRoute(r netdev.Route) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r.LinkIndex != 0 && t.link(r.LinkIndex) == nil {
		return unix.ENODEV
	}
	for _, e := range t.routes {
		if e.Dst == r.Dst && e.Table == r.Table && e.Metric == r.Metric {
			return unix.EEXIST
		}
	}
	t.routes = append(t.routes, r)
	return nil
}

// DelRoute implements netdev.Table: the first route matching every field
// of r that is set (Dst always).
func (t *Table) DelRoute(r netdev.Route) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, e := range t.routes {
		if e.Dst != r.Dst || (r.Table != 0 && e.Table != r.Table) ||
			(r.Gateway.IsValid() && e.Gateway != r.Gateway) ||
			(r.LinkIndex != 0 && e.LinkIndex != r.LinkIndex) ||
			(r.Metric != 0 && e.Metric != r.Metric) ||
			(r.Protocol != 0 && e.Protocol != r.Protocol) ||
			(r.Scope != 0 && e.Scope != r.Scope) ||
			(r.Type != 0 && e.Type != r.Type) {
			continue
		}
		t.routes = append(t.routes[:i], t.routes[i+1:]...)
		return nil
	}
	return unix.ESRCH
}
