package netdev

import (
	"net/netip"
	"sync"

	linux "golang.org/x/sys/unix"
)

// fakeTable is a Table kept in slices, following the contract's
// error rules.
type fakeTable struct {
	mu     sync.Mutex
	links  []Link
	addrs  []Addr
	routes []Route
}

const (
	upFlags  = linux.IFF_UP | linux.IFF_RUNNING | linux.IFF_LOWER_UP
	loFlags  = upFlags | linux.IFF_LOOPBACK
	ethFlags = upFlags | linux.IFF_BROADCAST | linux.IFF_MULTICAST
)

var ethMAC = []byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

// newFakeTable is the sandbox as configured by a typical boot: lo and
// eth0 (and eth1, down and unconfigured) with IPv4 and IPv6 addresses, a default route, connected and
// local routes.
func newFakeTable() *fakeTable {
	return &fakeTable{
		links: []Link{
			{Index: 1, Name: "lo", Type: linux.ARPHRD_LOOPBACK, Flags: loFlags, MTU: 65536, HWAddr: make([]byte, 6)},
			{Index: 2, Name: "eth0", Type: linux.ARPHRD_ETHER, Flags: ethFlags, MTU: 1500, HWAddr: ethMAC,
				Stats: Stats{RxPackets: 2, TxPackets: 1, RxBytes: 176, TxBytes: 90}},
			{Index: 3, Name: "eth1", Type: linux.ARPHRD_ETHER, Flags: linux.IFF_BROADCAST | linux.IFF_MULTICAST, MTU: 1500,
				HWAddr: []byte{0x52, 0x54, 0, 0, 0, 2}},
		},
		addrs: []Addr{
			{LinkIndex: 1, Prefix: pfx("127.0.0.1/8"), Scope: linux.RT_SCOPE_HOST, Flags: linux.IFA_F_PERMANENT},
			{LinkIndex: 1, Prefix: pfx("::1/128"), Scope: linux.RT_SCOPE_HOST, Flags: linux.IFA_F_PERMANENT},
			{LinkIndex: 2, Prefix: pfx("10.0.2.15/24"), Broadcast: ip("10.0.2.255"), Flags: linux.IFA_F_PERMANENT},
			{LinkIndex: 2, Prefix: pfx("fe80::5054:ff:fe12:3456/64"), Scope: linux.RT_SCOPE_LINK, Flags: linux.IFA_F_PERMANENT},
		},
		routes: []Route{
			{Dst: pfx("127.0.0.0/8"), Src: ip("127.0.0.1"), LinkIndex: 1, Table: linux.RT_TABLE_LOCAL,
				Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_HOST, Type: linux.RTN_LOCAL},
			{Dst: pfx("0.0.0.0/0"), Gateway: ip("10.0.2.2"), LinkIndex: 2, Table: linux.RT_TABLE_MAIN,
				Protocol: linux.RTPROT_BOOT, Scope: linux.RT_SCOPE_UNIVERSE, Type: linux.RTN_UNICAST},
			{Dst: pfx("10.0.2.0/24"), Src: ip("10.0.2.15"), LinkIndex: 2, Table: linux.RT_TABLE_MAIN,
				Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_LINK, Type: linux.RTN_UNICAST},
			{Dst: pfx("10.0.2.15/32"), Src: ip("10.0.2.15"), LinkIndex: 2, Table: linux.RT_TABLE_LOCAL,
				Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_HOST, Type: linux.RTN_LOCAL},
			{Dst: pfx("fe80::/64"), LinkIndex: 2, Table: linux.RT_TABLE_MAIN, Metric: 256,
				Protocol: linux.RTPROT_KERNEL, Type: linux.RTN_UNICAST},
		},
	}
}

func (t *fakeTable) Links() []Link {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Link(nil), t.links...)
}

func (t *fakeTable) link(index int32) *Link {
	for i := range t.links {
		if t.links[i].Index == index {
			return &t.links[i]
		}
	}
	return nil
}

func (t *fakeTable) SetLinkUp(index int32, up bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.link(index)
	if l == nil {
		return linux.ENODEV
	}
	if up {
		l.Flags |= upFlags
	} else {
		l.Flags &^= upFlags
	}
	return nil
}

func (t *fakeTable) SetLinkMTU(index int32, mtu uint32) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.link(index)
	if l == nil {
		return linux.ENODEV
	}
	if mtu < 68 {
		return linux.EINVAL
	}
	l.MTU = mtu
	return nil
}

func (t *fakeTable) Addrs() []Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Addr(nil), t.addrs...)
}

func (t *fakeTable) AddAddr(a Addr) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.link(a.LinkIndex) == nil {
		return linux.ENODEV
	}
	for _, e := range t.addrs {
		if e.LinkIndex == a.LinkIndex && e.Prefix.Addr() == a.Prefix.Addr() {
			return linux.EEXIST
		}
	}
	t.addrs = append(t.addrs, a)
	return nil
}

func (t *fakeTable) DelAddr(a Addr) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, e := range t.addrs {
		if e.LinkIndex == a.LinkIndex && e.Prefix == a.Prefix {
			t.addrs = append(t.addrs[:i], t.addrs[i+1:]...)
			return nil
		}
	}
	return linux.EADDRNOTAVAIL
}

func (t *fakeTable) Routes() []Route {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Route(nil), t.routes...)
}

func (t *fakeTable) AddRoute(r Route) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r.LinkIndex != 0 && t.link(r.LinkIndex) == nil {
		return linux.ENODEV
	}
	for _, e := range t.routes {
		if e.Dst == r.Dst && e.Table == r.Table && e.Metric == r.Metric {
			return linux.EEXIST
		}
	}
	t.routes = append(t.routes, r)
	return nil
}

func (t *fakeTable) DelRoute(r Route) error {
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
	return linux.ESRCH
}
