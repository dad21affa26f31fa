// Package netns is one sandbox's network namespace: the Internet stack
// (net/inet) with its loopback and optional TAP link, configured from uk's
// command line, and the socket families that live on it (AF_INET,
// AF_INET6, AF_NETLINK). The stack is built on first use unless a TAP
// device is attached, so a program that never touches the network pays
// nothing for it at start.
package netns

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	linux "golang.org/x/sys/unix"

	"uk/net/inet"
	"uk/net/netdev"
	"uk/net/netlink"
	"uk/net/socket"
	"uk/net/tap"
)

// Config is the network the sandbox starts with.
type Config struct {
	// TAP, when set, becomes interface eth0; the namespace owns it.
	TAP *tap.Device
	// Addr, when valid, is assigned to eth0, which is then brought up.
	Addr netip.Prefix
	// Gateway, when valid, is the default route's next hop.
	Gateway netip.Addr
	// LoopbackDown leaves lo down, as in a network namespace Linux makes
	// at run time (the sandbox's first has it up).
	LoopbackDown bool
}

// Namespace is a sandbox's network namespace. It is safe for concurrent
// use.
type Namespace struct {
	cfg   Config
	once  sync.Once
	stack *inet.Stack
	err   error
	// nl is the AF_NETLINK family: one provider, so that port ids are
	// unique across the namespace.
	nlOnce sync.Once
	nl     socket.Provider
}

// New returns a namespace for c. With a TAP device the stack is built at
// once, in the background, so that the sandbox answers ARP and ping
// before its programs open a socket.
func New(c Config) *Namespace {
	n := &Namespace{cfg: c}
	if c.TAP != nil {
		go n.Stack()
	}
	return n
}

// Stack returns the Internet stack, building it on first use.
func (n *Namespace) Stack() (*inet.Stack, error) {
	n.once.Do(func() { n.stack, n.err = build(n.cfg) })
	return n.stack, n.err
}

// build makes the stack and applies the configuration.
func build(c Config) (*inet.Stack, error) {
	st, err := inet.NewStack()
	if err != nil {
		return nil, fmt.Errorf("network stack: %w", err)
	}
	if c.LoopbackDown {
		if err := st.SetLinkUp(inet.LoopbackIndex, false); err != nil {
			return nil, fmt.Errorf("lo down: %w", err)
		}
	}
	if c.TAP == nil {
		return st, nil
	}
	ep, err := c.TAP.LinkEndpoint()
	if err != nil {
		return nil, err
	}
	idx, err := st.AttachEthernet("eth0", ep, c.TAP.MAC)
	if err != nil {
		return nil, err
	}
	if c.Addr.IsValid() {
		if err := st.AddAddr(netdev.Addr{LinkIndex: idx, Prefix: c.Addr, Broadcast: broadcastOf(c.Addr)}); err != nil {
			return nil, fmt.Errorf("--ip %v: %w", c.Addr, err)
		}
		if err := st.SetLinkUp(idx, true); err != nil {
			return nil, fmt.Errorf("eth0 up: %w", err)
		}
	}
	if c.Gateway.IsValid() {
		def := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if c.Gateway.Is6() {
			def = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		r := netdev.Route{Dst: def, Gateway: c.Gateway, Protocol: linux.RTPROT_BOOT, Scope: linux.RT_SCOPE_UNIVERSE}
		if err := st.AddRoute(r); err != nil {
			return nil, fmt.Errorf("--gateway %v: %w", c.Gateway, err)
		}
	}
	return st, nil
}

// broadcastOf is the IPv4 broadcast address of a prefix (invalid for IPv6
// and for /31 and /32).
func broadcastOf(p netip.Prefix) netip.Addr {
	if !p.Addr().Is4() || p.Bits() >= 31 {
		return netip.Addr{}
	}
	a := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Provider returns the socket family's implementation (EAFNOSUPPORT for
// families this namespace does not have).
func (n *Namespace) Provider(family int) (socket.Provider, error) {
	switch family {
	case linux.AF_INET, linux.AF_INET6:
		st, err := n.Stack()
		if err != nil {
			return nil, linux.ENOBUFS
		}
		return st.Provider(family), nil
	case linux.AF_PACKET:
		st, err := n.Stack()
		if err != nil {
			return nil, linux.ENOBUFS
		}
		return st.PacketProvider(), nil
	case linux.AF_NETLINK:
		st, err := n.Stack()
		if err != nil {
			return nil, linux.ENOBUFS
		}
		n.nlOnce.Do(func() { n.nl = netlink.NewProvider(st) })
		return n.nl, nil
	}
	return nil, linux.EAFNOSUPPORT
}

// Interfaces returns the interface table (for netlink and SIOCGIF*).
func (n *Namespace) Interfaces() (netdev.Table, error) {
	st, err := n.Stack()
	if err != nil {
		return nil, err
	}
	return st, nil
}

// InetSockets lists the sockets of family (AF_INET, AF_INET6) and
// protocol (IPPROTO_TCP, IPPROTO_UDP), for /proc/net's tables.
func (n *Namespace) InetSockets(family, protocol int) []socket.InetInfo {
	st, err := n.Stack()
	if err != nil {
		return nil
	}
	return st.InetSockets(family, protocol)
}

// Close lets closed TCP connections finish sending (for up to drain), as
// Linux would after their programs exit, then stops the stack, if it was
// built.
func (n *Namespace) Close(drain time.Duration) {
	n.once.Do(func() { n.err = fmt.Errorf("closed") })
	if n.stack != nil {
		n.stack.Drain(drain)
		n.stack.Close()
	}
}

// Fresh returns a new namespace with only its loopback device (down, as
// Linux makes it), for unshare and clone with CLONE_NEWNET. Its stack is
// built on first use like any other's.
func (n *Namespace) Fresh() *Namespace { return New(Config{LoopbackDown: true}) }
