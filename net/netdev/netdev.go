// Package netdev is the sandbox's view of its network interfaces, addresses
// and routes, as the two configuration interfaces Linux offers see them:
// NETLINK_ROUTE (net/netlink) and the SIOCGIF*/SIOCSIF* ioctls on any socket
// (Ioctl in this package). The network stack (net/inet) implements Table;
// the readers here never touch the stack directly, so either side can be
// tested with a fake.
//
// Errors returned by a Table are unix.Errno values, as Linux's rtnetlink
// reports them (EEXIST, ESRCH, ENODEV, EADDRNOTAVAIL, EPERM).
package netdev

import "net/netip"

// Link is one network interface.
type Link struct {
	// Index is the interface index (ifindex), ≥ 1; loopback is 1.
	Index int32
	// Name is the interface name (lo, eth0).
	Name string
	// Type is the ARPHRD_* hardware type (ARPHRD_LOOPBACK, ARPHRD_ETHER).
	Type uint16
	// Flags are the IFF_* flags (IFF_UP, IFF_RUNNING, IFF_LOOPBACK,
	// IFF_BROADCAST, IFF_MULTICAST, IFF_LOWER_UP).
	Flags uint32
	// MTU is the link MTU in bytes.
	MTU uint32
	// HWAddr is the hardware address (6 zero bytes for loopback).
	HWAddr []byte
	// Stats are the interface counters.
	Stats Stats
}

// Stats are the counters of one interface (struct rtnl_link_stats64's first
// fields).
type Stats struct {
	RxPackets, TxPackets uint64
	RxBytes, TxBytes     uint64
	RxErrors, TxErrors   uint64
	RxDropped, TxDropped uint64
}

// Addr is one address assigned to an interface.
type Addr struct {
	// LinkIndex is the interface the address is on.
	LinkIndex int32
	// Prefix is the address with its prefix length (10.0.2.15/24).
	Prefix netip.Prefix
	// Broadcast is the IPv4 broadcast address (invalid when none).
	Broadcast netip.Addr
	// Scope is the RT_SCOPE_* scope (RT_SCOPE_HOST for loopback addresses,
	// RT_SCOPE_LINK for IPv6 link-local, RT_SCOPE_UNIVERSE otherwise).
	Scope uint8
	// Flags are the IFA_F_* flags (IFA_F_PERMANENT for static addresses).
	Flags uint32
}

// Route is one entry of a routing table.
type Route struct {
	// Dst is the destination prefix; 0.0.0.0/0 or ::/0 is the default
	// route. Its address family is the route's family.
	Dst netip.Prefix
	// Gateway is the next hop (invalid for a directly connected route).
	Gateway netip.Addr
	// Src is the preferred source address (invalid when unset).
	Src netip.Addr
	// LinkIndex is the output interface (0 when the stack picks it from the
	// gateway).
	LinkIndex int32
	// Table is the RT_TABLE_* table (RT_TABLE_MAIN or RT_TABLE_LOCAL).
	Table uint8
	// Protocol is the RTPROT_* origin (RTPROT_KERNEL, RTPROT_BOOT,
	// RTPROT_STATIC).
	Protocol uint8
	// Scope is the RT_SCOPE_* scope (RT_SCOPE_LINK for a connected route,
	// RT_SCOPE_UNIVERSE for a route via a gateway, RT_SCOPE_HOST for local).
	Scope uint8
	// Type is the RTN_* type (RTN_UNICAST, RTN_LOCAL, RTN_BROADCAST).
	Type uint8
	// Metric is the route priority (RTA_PRIORITY); lower wins.
	Metric uint32
}

// Table is the interface configuration of one network stack. Its methods
// are safe for concurrent use. The slices returned are copies the caller
// may keep.
type Table interface {
	// Links lists the interfaces in index order.
	Links() []Link
	// SetLinkUp brings an interface up or down (ENODEV for an unknown
	// index).
	SetLinkUp(index int32, up bool) error
	// SetLinkMTU changes an interface's MTU (ENODEV, EINVAL).
	SetLinkMTU(index int32, mtu uint32) error
	// Addrs lists the addresses of every interface, in the order they
	// were added per interface.
	Addrs() []Addr
	// AddAddr assigns an address (EEXIST when the interface has it,
	// ENODEV for an unknown interface). Adding an address also adds its
	// connected route, as Linux does.
	AddAddr(a Addr) error
	// DelAddr removes an address (EADDRNOTAVAIL when absent) and its
	// connected route.
	DelAddr(a Addr) error
	// Routes lists the routes of all tables.
	Routes() []Route
	// AddRoute adds a route (EEXIST when the same destination, table and
	// metric exist; ENETUNREACH when the gateway is not reachable through
	// any interface; ENODEV for an unknown interface).
	AddRoute(r Route) error
	// DelRoute removes the first route matching r's destination and those
	// of r's other fields that are set (ESRCH when none matches).
	DelRoute(r Route) error
}

// LinkByIndex returns the interface with the given index.
func LinkByIndex(t Table, index int32) (Link, bool) {
	for _, l := range t.Links() {
		if l.Index == index {
			return l, true
		}
	}
	return Link{}, false
}

// LinkByName returns the interface with the given name.
func LinkByName(t Table, name string) (Link, bool) {
	for _, l := range t.Links() {
		if l.Name == name {
			return l, true
		}
	}
	return Link{}, false
}
