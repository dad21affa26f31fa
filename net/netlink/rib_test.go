package netlink

import (
	"net"
	"syscall"
	"testing"

	linux "golang.org/x/sys/unix"

	"uk/net/socket"
)

// ribOf runs what syscall.NetlinkRIB does against a socket: bind, a
// 17-byte rtgenmsg request with seq 1, then page-sized reads until
// NLMSG_DONE, rejecting any message whose seq or pid differ.
func ribOf(t *testing.T, e *env, ctx *tctx, proto int) []syscall.NetlinkMessage {
	t.Helper()
	s := e.open(ctx)
	if err := s.Bind(ctx, encodeAddr(0, 0)); err != nil {
		t.Fatal(err)
	}
	send(t, s, ctx, rtgen(uint16(proto), 1, linux.AF_UNSPEC))
	sa, _ := s.SockName(ctx)
	pid := le32(sa[4:])
	var out []syscall.NetlinkMessage
	for {
		d := drain1(t, s, ctx, 4096)
		ms, err := syscall.ParseNetlinkMessage(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Header.Seq != 1 || m.Header.Pid != pid {
				t.Fatalf("NetlinkRIB would fail: seq %d pid %d (port %d)", m.Header.Seq, m.Header.Pid, pid)
			}
			if m.Header.Type == linux.NLMSG_DONE {
				return out
			}
			if m.Header.Type == linux.NLMSG_ERROR {
				t.Fatalf("NetlinkRIB would fail: NLMSG_ERROR")
			}
			out = append(out, m)
		}
	}
}

// drain1 reads one datagram, which must be there, as recvfrom does.
func drain1(t *testing.T, s *Socket, ctx *tctx, size int) []byte {
	t.Helper()
	r, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: size, NonBlock: true})
	if err != nil {
		t.Fatalf("recvfrom: %v", err)
	}
	if r.Flags&linux.MSG_TRUNC != 0 {
		t.Fatalf("datagram of %d bytes does not fit %d", r.N, size)
	}
	return r.Data
}

// TestGoNetInterfaces decodes the link and address dumps as Go's net
// package does for net.Interfaces and Interface.Addrs (interface_linux.go:
// newLink and newAddr), attribute by attribute.
func TestGoNetInterfaces(t *testing.T) {
	e := newEnv(t)
	ctx := userCtx(31)
	type iface struct {
		index int
		name  string
		mtu   int
		hw    net.HardwareAddr
		flags uint32
	}
	var ifs []iface
	for _, m := range ribOf(t, e, ctx, linux.RTM_GETLINK) {
		if m.Header.Type != syscall.RTM_NEWLINK {
			continue
		}
		as, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			t.Fatal(err)
		}
		it := iface{index: int(int32(le32(m.Data[4:]))), flags: le32(m.Data[8:])}
		for _, a := range as {
			switch a.Attr.Type {
			case syscall.IFLA_ADDRESS:
				nonzero := false
				for _, b := range a.Value {
					nonzero = nonzero || b != 0
				}
				if nonzero {
					it.hw = a.Value
				}
			case syscall.IFLA_IFNAME:
				it.name = string(a.Value[:len(a.Value)-1])
			case syscall.IFLA_MTU:
				it.mtu = int(le32(a.Value[:4]))
			}
		}
		ifs = append(ifs, it)
	}
	if len(ifs) != 2 || ifs[0].name != "lo" || ifs[0].hw != nil || ifs[0].mtu != 65536 ||
		ifs[1].name != "eth0" || ifs[1].hw.String() != "52:54:00:12:34:56" || ifs[1].mtu != 1500 ||
		ifs[1].flags&syscall.IFF_UP == 0 {
		t.Fatalf("interfaces %+v", ifs)
	}
	var addrs []string
	for _, m := range ribOf(t, e, ctx, linux.RTM_GETADDR) {
		if m.Header.Type != syscall.RTM_NEWADDR {
			continue
		}
		as, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			t.Fatal(err)
		}
		family, plen, index := m.Data[0], int(m.Data[1]), int(le32(m.Data[4:]))
		p2p := false
		for _, a := range as {
			p2p = p2p || a.Attr.Type == syscall.IFA_LOCAL
		}
		for _, a := range as {
			if p2p && a.Attr.Type == syscall.IFA_ADDRESS {
				continue
			}
			var n net.IPNet
			switch family {
			case syscall.AF_INET:
				n = net.IPNet{IP: net.IPv4(a.Value[0], a.Value[1], a.Value[2], a.Value[3]), Mask: net.CIDRMask(plen, 32)}
			case syscall.AF_INET6:
				n = net.IPNet{IP: net.IP(append([]byte(nil), a.Value[:16]...)), Mask: net.CIDRMask(plen, 128)}
			}
			addrs = append(addrs, ifs[index-1].name+" "+n.String())
			break
		}
	}
	want := []string{"lo 127.0.0.1/8", "eth0 10.0.2.15/24", "lo ::1/128", "eth0 fe80::5054:ff:fe12:3456/64"}
	if len(addrs) != len(want) {
		t.Fatalf("addresses %v, want %v", addrs, want)
	}
	for i := range want {
		if addrs[i] != want[i] {
			t.Errorf("addresses %v, want %v", addrs, want)
			break
		}
	}
}
