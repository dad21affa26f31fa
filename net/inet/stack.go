package inet

import (
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/link/qdisc/fifo"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"uk/net/netdev"
)

// LoopbackIndex is the interface index of lo, as on Linux.
const LoopbackIndex = 1

// Stack is one sandbox's network stack: a tcpip stack, the loopback
// interface, and at most a few attached Ethernet links. It also keeps the
// configuration as Linux reports it (addresses with their broadcast and
// flags, routes with their table, protocol and metric), which tcpip does
// not record; mu guards that record and every change that must keep it
// and the tcpip stack in step.
type Stack struct {
	ts *stack.Stack

	mu     sync.Mutex
	links  map[int32]*linkInfo
	addrs  []netdev.Addr
	routes []netdev.Route // the main table

	// mem charges what the sockets hold to the sandbox's memory
	// (memacct.go).
	mem memAcct

	// socks are the sockets descriptors hold, for /proc/net's tables
	// (proctable.go).
	sockMu sync.Mutex
	socks  map[*Socket]struct{} // protected by sockMu
}

// linkInfo is what Stack keeps of one interface beyond tcpip's NICInfo.
type linkInfo struct {
	name   string
	typ    uint16
	hwaddr []byte
}

// NewStack returns a stack with the loopback interface up and holding
// 127.0.0.1/8 and ::1/128.
func NewStack() (*Stack, error) {
	ts := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		RawFactory:         raw.EndpointFactory{},
		HandleLocal:        true,
		// AF_PACKET sockets send too (DHCP clients send before they have an address).
		AllowPacketEndpointWrite: true,
	})
	tuneTCP(ts)
	s := &Stack{ts: ts, links: make(map[int32]*linkInfo)}
	if err := ts.CreateNICWithOptions(LoopbackIndex, loopback.New(), stack.NICOptions{Name: "lo", DeliverLinkPackets: true}); err != nil {
		return nil, fmt.Errorf("creating lo: %s", err)
	}
	s.links[LoopbackIndex] = &linkInfo{name: "lo", typ: linux.ARPHRD_LOOPBACK, hwaddr: make([]byte, 6)}
	for _, a := range []netdev.Addr{
		{LinkIndex: LoopbackIndex, Prefix: netip.MustParsePrefix("127.0.0.1/8"), Scope: linux.RT_SCOPE_HOST, Flags: linux.IFA_F_PERMANENT},
		{LinkIndex: LoopbackIndex, Prefix: netip.MustParsePrefix("::1/128"), Scope: linux.RT_SCOPE_HOST, Flags: linux.IFA_F_PERMANENT},
	} {
		if err := s.AddAddr(a); err != nil {
			return nil, fmt.Errorf("adding %v to lo: %w", a.Prefix, err)
		}
	}
	return s, nil
}

// tuneTCP sets the TCP options Linux has on by default and buffer sizes
// that let one connection fill a TAP link.
func tuneTCP(ts *stack.Stack) {
	// CUBIC is Linux's default congestion control (TCP_CONGESTION reads it).
	cc := tcpip.CongestionControlOption("cubic")
	ts.SetTransportProtocolOption(tcp.ProtocolNumber, &cc)
	sack := tcpip.TCPSACKEnabled(true)
	ts.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	ts.SetTransportProtocolOption(tcp.ProtocolNumber, &moderate)
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: 6 << 20}
	ts.SetTransportProtocolOption(tcp.ProtocolNumber, &rcv)
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: 4 << 20}
	ts.SetTransportProtocolOption(tcp.ProtocolNumber, &snd)
}

// txQueueLen is how many packets an Ethernet link queues for the device.
const txQueueLen = 1000

// AttachEthernet adds an Ethernet interface named name on the link
// endpoint ep, down and without addresses, and returns its index.
func (s *Stack) AttachEthernet(name string, ep stack.LinkEndpoint, hwaddr []byte) (int32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := int32(len(s.links) + 1)
	for s.links[idx] != nil {
		idx++
	}
	// Outgoing packets go through a FIFO queue (Linux's txqueuelen of
	// 1000) that a goroutine of the link's own writes to the device: a
	// write to a TAP costs the host's whole receive path, and without the
	// queue the task or netstack goroutine that sent waited for it
	// (TAP throughput 15-20% lower both ways).
	qdisc := fifo.New(ep, 1, txQueueLen)
	if err := s.ts.CreateNICWithOptions(tcpip.NICID(idx), ep, stack.NICOptions{Name: name, Disabled: true, DeliverLinkPackets: true, QDisc: qdisc}); err != nil {
		qdisc.Close()
		return 0, fmt.Errorf("creating %s: %s", name, err)
	}
	s.links[idx] = &linkInfo{name: name, typ: linux.ARPHRD_ETHER, hwaddr: append([]byte(nil), hwaddr...)}
	return idx, nil
}

// Links implements netdev.Table.
func (s *Stack) Links() []netdev.Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	infos := s.ts.NICInfo()
	var out []netdev.Link
	for idx, li := range s.links {
		ni, ok := infos[tcpip.NICID(idx)]
		if !ok {
			continue
		}
		l := netdev.Link{Index: idx, Name: li.name, Type: li.typ, MTU: ni.MTU, HWAddr: append([]byte(nil), li.hwaddr...)}
		if li.typ == linux.ARPHRD_LOOPBACK {
			l.Flags |= linux.IFF_LOOPBACK
		} else {
			l.Flags |= linux.IFF_BROADCAST | linux.IFF_MULTICAST
		}
		// tcpip reports every NIC as up; enabled is what up means here.
		if ni.Flags.Running {
			l.Flags |= linux.IFF_UP | linux.IFF_RUNNING | linux.IFF_LOWER_UP
		}
		st := ni.Stats
		l.Stats = netdev.Stats{
			RxPackets: st.Rx.Packets.Value(), TxPackets: st.Tx.Packets.Value(),
			RxBytes: st.Rx.Bytes.Value(), TxBytes: st.Tx.Bytes.Value(),
			TxErrors:  st.TxPacketsDroppedNoBufferSpace.Value(),
			RxDropped: st.MalformedL4RcvdPackets.Value(),
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// SetLinkUp implements netdev.Table.
func (s *Stack) SetLinkUp(index int32, up bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.links[index] == nil {
		return linux.ENODEV
	}
	var err tcpip.Error
	if up {
		err = s.ts.EnableNIC(tcpip.NICID(index))
	} else {
		err = s.ts.DisableNIC(tcpip.NICID(index))
	}
	if err != nil {
		return errnoOf(err)
	}
	if up && s.links[index].typ == linux.ARPHRD_ETHER {
		s.addLinkLocalLocked(index)
	}
	return nil
}

// loopbackDown reports whether addr is a loopback address while lo is
// down: Linux then has no route to it (ENETUNREACH at once), where tcpip
// would send into the disabled device and a TCP connect would time out.
func (s *Stack) loopbackDown(addr tcpip.Address) bool {
	if s == nil {
		return false
	}
	return isLoopback(addr) && !s.ts.CheckNIC(LoopbackIndex)
}

// addLinkLocalLocked gives an Ethernet interface that comes up its IPv6
// link-local address (fe80::/64 with the EUI-64 of its MAC), as Linux
// does, unless it has one.
func (s *Stack) addLinkLocalLocked(index int32) {
	mac := s.links[index].hwaddr
	if len(mac) != 6 {
		return
	}
	for _, a := range s.addrs {
		if a.LinkIndex == index && a.Prefix.Addr().IsLinkLocalUnicast() {
			return
		}
	}
	var b [16]byte
	b[0], b[1] = 0xfe, 0x80
	b[8], b[9], b[10] = mac[0]^2, mac[1], mac[2]
	b[11], b[12] = 0xff, 0xfe
	b[13], b[14], b[15] = mac[3], mac[4], mac[5]
	a := netdev.Addr{LinkIndex: index, Prefix: netip.PrefixFrom(netip.AddrFrom16(b), 64),
		Scope: linux.RT_SCOPE_LINK, Flags: linux.IFA_F_PERMANENT}
	s.addAddrLocked(a)
}

// SetLinkMTU implements netdev.Table.
func (s *Stack) SetLinkMTU(index int32, mtu uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.links[index] == nil {
		return linux.ENODEV
	}
	if mtu < 68 {
		return linux.EINVAL
	}
	if err := s.ts.SetNICMTU(tcpip.NICID(index), mtu); err != nil {
		return errnoOf(err)
	}
	return nil
}

// Addrs implements netdev.Table.
func (s *Stack) Addrs() []netdev.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]netdev.Addr(nil), s.addrs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].LinkIndex < out[j].LinkIndex })
	return out
}

// AddAddr implements netdev.Table.
func (s *Stack) AddAddr(a netdev.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addAddrLocked(a)
}

func (s *Stack) addAddrLocked(a netdev.Addr) error {
	if s.links[a.LinkIndex] == nil {
		return linux.ENODEV
	}
	if !a.Prefix.IsValid() {
		return linux.EINVAL
	}
	for _, o := range s.addrs {
		if o.LinkIndex == a.LinkIndex && o.Prefix.Addr() == a.Prefix.Addr() {
			return linux.EEXIST
		}
	}
	pa := tcpip.ProtocolAddress{
		Protocol: protoOf(a.Prefix.Addr()),
		AddressWithPrefix: tcpip.AddressWithPrefix{
			Address:   tcpipAddr(a.Prefix.Addr()),
			PrefixLen: a.Prefix.Bits(),
		},
	}
	if err := s.ts.AddProtocolAddress(tcpip.NICID(a.LinkIndex), pa, stack.AddressProperties{}); err != nil {
		return errnoOf(err)
	}
	if a.Scope == 0 && a.Prefix.Addr().Is6() && a.Prefix.Addr().IsLinkLocalUnicast() {
		a.Scope = linux.RT_SCOPE_LINK
	}
	if a.Flags == 0 {
		a.Flags = linux.IFA_F_PERMANENT
	}
	s.addrs = append(s.addrs, a)
	if r, ok := connectedRoute(a); ok && (a.Prefix.Addr().Is6() || s.links[a.LinkIndex].typ != linux.ARPHRD_LOOPBACK) {
		// IPv4 loopback routes live in the local table only; IPv6
		// ones (::1) are in the main table too, as on Linux.
		s.routes = append(s.routes, r)
	}
	s.syncRoutesLocked()
	return nil
}

// connectedRoute is the route Linux adds with an address: its prefix,
// directly on its interface.
func connectedRoute(a netdev.Addr) (netdev.Route, bool) {
	p := a.Prefix.Masked()
	if p.Addr().Is4() && p.Bits() == 32 {
		return netdev.Route{}, false
	}
	r := netdev.Route{Dst: p, LinkIndex: a.LinkIndex, Table: linux.RT_TABLE_MAIN,
		Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_LINK, Type: linux.RTN_UNICAST}
	if p.Addr().Is4() {
		r.Src = a.Prefix.Addr()
	} else {
		// IPv6 prefix routes: universe scope, metric 256 (Linux's
		// IP6_RT_PRIO_ADDRCONF).
		r.Scope = linux.RT_SCOPE_UNIVERSE
		r.Metric = 256
	}
	return r, true
}

// DelAddr implements netdev.Table.
func (s *Stack) DelAddr(a netdev.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, o := range s.addrs {
		if o.LinkIndex != a.LinkIndex || o.Prefix.Addr() != a.Prefix.Addr() {
			continue
		}
		if err := s.ts.RemoveAddress(tcpip.NICID(o.LinkIndex), tcpipAddr(o.Prefix.Addr())); err != nil {
			return errnoOf(err)
		}
		s.addrs = append(s.addrs[:i], s.addrs[i+1:]...)
		if r, ok := connectedRoute(o); ok {
			s.removeRoutesLocked(func(x netdev.Route) bool {
				return x.Dst == r.Dst && x.LinkIndex == r.LinkIndex && x.Protocol == linux.RTPROT_KERNEL
			})
		}
		s.syncRoutesLocked()
		return nil
	}
	return linux.EADDRNOTAVAIL
}

// Routes implements netdev.Table. The routes come in the order Linux's
// FIB dump walks them: IPv4 before IPv6, then by destination address and
// prefix length.
func (s *Stack) Routes() []netdev.Route {
	s.mu.Lock()
	out := append([]netdev.Route(nil), s.routes...)
	s.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Dst, out[j].Dst
		if a.Addr().Is4() != b.Addr().Is4() {
			return a.Addr().Is4()
		}
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c < 0
		}
		return a.Bits() < b.Bits()
	})
	return out
}

// AddRoute implements netdev.Table.
func (s *Stack) AddRoute(r netdev.Route) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !r.Dst.IsValid() {
		return linux.EINVAL
	}
	r.Dst = r.Dst.Masked()
	if r.LinkIndex != 0 && s.links[r.LinkIndex] == nil {
		return linux.ENODEV
	}
	if r.Gateway.IsValid() {
		if r.Gateway.Is4() != r.Dst.Addr().Is4() {
			return linux.EINVAL
		}
		if r.LinkIndex == 0 {
			r.LinkIndex = s.linkForGatewayLocked(r.Gateway)
			if r.LinkIndex == 0 {
				return linux.ENETUNREACH
			}
		}
	} else if r.LinkIndex == 0 {
		return linux.ENODEV
	}
	if r.Table == 0 {
		r.Table = linux.RT_TABLE_MAIN
	}
	if r.Type == 0 {
		r.Type = linux.RTN_UNICAST
	}
	if r.Dst.Addr().Is6() && r.Metric == 0 {
		r.Metric = 1024
	}
	for _, o := range s.routes {
		if o.Dst == r.Dst && o.Table == r.Table && o.Metric == r.Metric {
			return linux.EEXIST
		}
	}
	s.routes = append(s.routes, r)
	s.syncRoutesLocked()
	return nil
}

// linkForGatewayLocked finds the interface whose connected prefix holds
// gw (0 when none does).
func (s *Stack) linkForGatewayLocked(gw netip.Addr) int32 {
	for _, a := range s.addrs {
		if a.Prefix.Masked().Contains(gw) && s.links[a.LinkIndex].typ != linux.ARPHRD_LOOPBACK {
			return a.LinkIndex
		}
	}
	for _, r := range s.routes {
		if !r.Gateway.IsValid() && r.Dst.Contains(gw) {
			return r.LinkIndex
		}
	}
	return 0
}

// DelRoute implements netdev.Table.
func (s *Stack) DelRoute(r netdev.Route) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dst := r.Dst.Masked()
	n := s.removeRoutesLocked(func(o netdev.Route) bool {
		return o.Dst == dst &&
			(!r.Gateway.IsValid() || o.Gateway == r.Gateway) &&
			(r.LinkIndex == 0 || o.LinkIndex == r.LinkIndex) &&
			(r.Metric == 0 || o.Metric == r.Metric) &&
			(r.Table == 0 || o.Table == r.Table)
	})
	if n == 0 {
		return linux.ESRCH
	}
	s.syncRoutesLocked()
	return nil
}

// removeRoutesLocked drops the first route match accepts and reports how
// many it dropped (0 or 1, as one RTM_DELROUTE removes one route).
func (s *Stack) removeRoutesLocked(match func(netdev.Route) bool) int {
	for i, o := range s.routes {
		if match(o) {
			s.routes = append(s.routes[:i], s.routes[i+1:]...)
			return 1
		}
	}
	return 0
}

// syncRoutesLocked gives tcpip the route table: the main table plus the
// local routes Linux keeps in its local table (loopback), most specific
// first, since tcpip takes the first route that matches.
func (s *Stack) syncRoutesLocked() {
	all := append([]netdev.Route(nil), s.routes...)
	for _, a := range s.addrs {
		if s.links[a.LinkIndex].typ == linux.ARPHRD_LOOPBACK {
			all = append(all, netdev.Route{Dst: a.Prefix.Masked(), LinkIndex: a.LinkIndex})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Dst.Bits() != all[j].Dst.Bits() {
			return all[i].Dst.Bits() > all[j].Dst.Bits()
		}
		return all[i].Metric < all[j].Metric
	})
	table := make([]tcpip.Route, 0, len(all))
	for _, r := range all {
		sub := tcpip.AddressWithPrefix{Address: tcpipAddr(r.Dst.Addr()), PrefixLen: r.Dst.Bits()}.Subnet()
		tr := tcpip.Route{Destination: sub, NIC: tcpip.NICID(r.LinkIndex)}
		if r.Gateway.IsValid() {
			tr.Gateway = tcpipAddr(r.Gateway)
		}
		table = append(table, tr)
	}
	s.ts.SetRouteTable(table)
}

// tcpipAddr converts a netip address to tcpip's form.
func tcpipAddr(a netip.Addr) tcpip.Address {
	return tcpip.AddrFromSlice(a.AsSlice())
}

// protoOf is the network protocol of an address.
func protoOf(a netip.Addr) tcpip.NetworkProtocolNumber {
	if a.Is4() {
		return ipv4.ProtocolNumber
	}
	return ipv6.ProtocolNumber
}

// Close stops the stack: connections abort, and every link is removed,
// which closes it (tcpip leaves stopping links to their owner).
func (s *Stack) Close() {
	s.ts.Close()
	s.mu.Lock()
	for idx := range s.links {
		s.ts.RemoveNIC(tcpip.NICID(idx))
	}
	s.links = map[int32]*linkInfo{}
	s.mu.Unlock()
	s.ts.Wait()
}

// Drain waits, at most until timeout, for closed TCP connections to
// finish sending: Linux keeps sending a closed socket's queued data and
// FIN after the program has gone, and uk must not cut that short when
// the sandbox ends. It returns whether everything was delivered.
func (s *Stack) Drain(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if !s.sending() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// linkRxPackets is how many packets the stack's links other than
// loopback have received (the memory account's sign of data from
// outside).
func (s *Stack) linkRxPackets() uint64 {
	var n uint64
	for id, ni := range s.ts.NICInfo() {
		if id != LoopbackIndex {
			n += ni.Stats.Rx.Packets.Value()
		}
	}
	return n
}

// sending reports whether a TCP endpoint still has a FIN (and the data
// before it) unacknowledged.
func (s *Stack) sending() bool {
	for _, list := range [][]stack.TransportEndpoint{s.ts.RegisteredEndpoints(), s.ts.CleanupEndpoints()} {
		for _, te := range list {
			ep, ok := te.(*tcp.Endpoint)
			if !ok {
				continue
			}
			switch ep.EndpointState() {
			case tcp.StateFinWait1, tcp.StateClosing, tcp.StateLastAck:
				return true
			}
		}
	}
	return false
}
