package netlink

import (
	"sync"
	"time"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/net/netdev"
	"uk/net/socket"
)

// Multicast group counts per protocol (struct netlink_kernel_cfg.groups):
// RTNLGRP_MAX of Linux 6.x for NETLINK_ROUTE, one group for uevents.
const (
	routeGroups  = 39
	ueventGroups = 1
)

// Provider is the AF_NETLINK family of one sandbox: the port ids in use per
// protocol and the interface table NETLINK_ROUTE reports and changes. It
// implements socket.Provider and is safe for concurrent use.
type Provider struct {
	table netdev.Table
	// boot is when the provider was made; address timestamps
	// (IFA_CACHEINFO) count from it, as Linux's count from boot.
	boot time.Time

	mu    sync.Mutex
	ports map[int]map[uint32]*Socket // protocol → port id → bound socket; protected by mu
	rover int32                      // next negative port id to try; protected by mu
}

// NewProvider returns the AF_NETLINK family over t. A nil t stands for a
// sandbox without network interfaces: dumps are empty and changes fail
// with ENODEV.
func NewProvider(t netdev.Table) socket.Provider {
	if t == nil {
		t = noInterfaces{}
	}
	return newProvider(t)
}

// noInterfaces is the table of a sandbox without a network stack.
type noInterfaces struct{}

func (noInterfaces) Links() []netdev.Link           { return nil }
func (noInterfaces) SetLinkUp(int32, bool) error    { return linux.ENODEV }
func (noInterfaces) SetLinkMTU(int32, uint32) error { return linux.ENODEV }
func (noInterfaces) Addrs() []netdev.Addr           { return nil }
func (noInterfaces) AddAddr(netdev.Addr) error      { return linux.ENODEV }
func (noInterfaces) DelAddr(netdev.Addr) error      { return linux.EADDRNOTAVAIL }
func (noInterfaces) Routes() []netdev.Route         { return nil }
func (noInterfaces) AddRoute(netdev.Route) error    { return linux.ENETUNREACH }
func (noInterfaces) DelRoute(netdev.Route) error    { return linux.ESRCH }

func newProvider(t netdev.Table) *Provider {
	return &Provider{table: t, boot: time.Now(), ports: map[int]map[uint32]*Socket{}, rover: -4097}
}

// groupsOf is the number of multicast groups of a protocol.
func groupsOf(protocol int) uint32 {
	if protocol == linux.NETLINK_KOBJECT_UEVENT {
		return ueventGroups
	}
	return routeGroups
}

// Socket implements socket.Provider: SOCK_RAW and SOCK_DGRAM (which behave
// the same), protocols NETLINK_ROUTE and NETLINK_KOBJECT_UEVENT.
func (p *Provider) Socket(ctx socket.Context, typ, protocol int, flags uint32) (*vfs.FileDescription, error) {
	if typ != linux.SOCK_RAW && typ != linux.SOCK_DGRAM {
		return nil, linux.ESOCKTNOSUPPORT
	}
	switch protocol {
	case linux.NETLINK_ROUTE, linux.NETLINK_KOBJECT_UEVENT:
	default:
		return nil, linux.EPROTONOSUPPORT
	}
	var uid, gid uint32
	if c := ctx.Credentials(); c != nil {
		uid, gid = c.FSUID, c.FSGID
	}
	s := &Socket{p: p, typ: typ, protocol: protocol, inode: socket.NewInode(uid, gid),
		opts: socket.NewOptions(), groups: map[uint32]struct{}{}, net: socket.NetOf(ctx)}
	if s.net != nil {
		s.net.Hold() // the namespace's links and routes are what it reads
	}
	return vfs.NewFileDescription(s, linux.O_RDWR|flags&linux.O_NONBLOCK, vfs.Path{}, vfs.FileOptions{}), nil
}

// Pair implements socket.Provider: netlink has no socketpair.
func (p *Provider) Pair(ctx socket.Context, typ, protocol int, flags uint32) (*vfs.FileDescription, *vfs.FileDescription, error) {
	return nil, nil, linux.EOPNOTSUPP
}

// insertLocked binds s to port id, EADDRINUSE when another socket of the
// protocol has it.
func (p *Provider) insertLocked(s *Socket, id uint32) error {
	m := p.ports[s.protocol]
	if m == nil {
		m = map[uint32]*Socket{}
		p.ports[s.protocol] = m
	}
	if _, ok := m[id]; ok {
		return linux.EADDRINUSE
	}
	m[id] = s
	return nil
}

// autobindLocked is netlink_autobind: the caller's thread group id when
// free, else a negative id counting down from -4097.
func (p *Provider) autobindLocked(s *Socket, pid int32) uint32 {
	if pid > 0 && p.insertLocked(s, uint32(pid)) == nil {
		return uint32(pid)
	}
	for {
		id := p.rover
		p.rover--
		if p.rover >= -4096 {
			p.rover = -4097
		}
		if p.insertLocked(s, uint32(id)) == nil {
			return uint32(id)
		}
	}
}

// lookup returns the socket bound to a port id of a protocol.
func (p *Provider) lookup(protocol int, id uint32) *Socket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ports[protocol][id]
}

// members returns the sockets of a protocol that joined group (1-based).
func (p *Provider) members(protocol int, group uint32) []*Socket {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ss []*Socket
	for _, s := range p.ports[protocol] {
		s.mu.Lock()
		_, ok := s.groups[group]
		s.mu.Unlock()
		if ok {
			ss = append(ss, s)
		}
	}
	return ss
}

// remove unbinds s.
func (p *Provider) remove(s *Socket, id uint32) {
	p.mu.Lock()
	if m := p.ports[s.protocol]; m != nil && m[id] == s {
		delete(m, id)
	}
	p.mu.Unlock()
}
