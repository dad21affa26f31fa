package netlink

import (
	"net/netip"
	"syscall"
	"testing"

	linux "golang.org/x/sys/unix"
)

// fuzzSeeds are the requests the traced tools send (u-root ip, Go's
// net.Interfaces, vishvananda/netlink) and a few malformed ones.
func fuzzSeeds() [][]byte {
	const ack = linux.NLM_F_REQUEST | linux.NLM_F_ACK
	const dump = linux.NLM_F_REQUEST | linux.NLM_F_DUMP
	a := func(typ uint16, s string) rattr { return rattr{typ, netip.MustParseAddr(s).AsSlice()} }
	batch := append(nlreq(linux.RTM_GETLINK, ack, 1, ifinfomsgBytes(0, 1, 0, 0)),
		nlreq(linux.RTM_GETADDR, dump, 2, ifaddrmsgBytes(0, 0, 0, 0, 0))...)
	return [][]byte{
		nlreq(linux.RTM_GETLINK, ack, 1, ifinfomsgBytes(0, 0, 0, 0), u32a(linux.IFLA_EXT_MASK, 1), stra(linux.IFLA_IFNAME, "lo")),
		nlreq(linux.RTM_NEWLINK, ack, 1, ifinfomsgBytes(0, 1, linux.IFF_UP, linux.IFF_UP)),
		nlreq(linux.RTM_NEWLINK, ack, 2, ifinfomsgBytes(0, 2, 0, 0), u32a(linux.IFLA_MTU, 1400)),
		nlreq(linux.RTM_GETLINK, dump, 1, ifinfomsgBytes(0, 0, 0, 0), u32a(linux.IFLA_EXT_MASK, 1)),
		rtgen(linux.RTM_GETLINK, 1, 0),
		rtgen(linux.RTM_GETADDR, 1, 0),
		nlreq(linux.RTM_NEWADDR, ack|linux.NLM_F_CREATE|linux.NLM_F_EXCL, 1, ifaddrmsgBytes(linux.AF_INET, 24, 0, 0, 2),
			a(linux.IFA_LOCAL, "10.0.3.15"), a(linux.IFA_ADDRESS, "10.0.3.15"), a(linux.IFA_BROADCAST, "10.0.3.255")),
		nlreq(linux.RTM_DELADDR, ack, 1, ifaddrmsgBytes(linux.AF_INET, 24, 0, 0, 2), a(linux.IFA_LOCAL, "10.0.2.15")),
		nlreq(linux.RTM_NEWADDR, ack|linux.NLM_F_CREATE, 1, ifaddrmsgBytes(linux.AF_INET6, 64, 0, 0, 2), a(linux.IFA_ADDRESS, "fd00::1")),
		nlreq(linux.RTM_NEWROUTE, ack|linux.NLM_F_CREATE|linux.NLM_F_EXCL, 1,
			rtmsgBytes(linux.AF_INET, 0, linux.RT_TABLE_MAIN, linux.RTPROT_BOOT, 0, linux.RTN_UNICAST, 0),
			a(linux.RTA_GATEWAY, "10.0.2.3"), u32a(linux.RTA_OIF, 0)),
		nlreq(linux.RTM_NEWROUTE, ack|linux.NLM_F_CREATE|linux.NLM_F_EXCL, 1,
			rtmsgBytes(linux.AF_INET, 24, linux.RT_TABLE_MAIN, linux.RTPROT_BOOT, 0, linux.RTN_UNICAST, 0),
			a(linux.RTA_DST, "192.168.7.0"), u32a(linux.RTA_OIF, 2)),
		nlreq(linux.RTM_DELROUTE, ack, 1, rtmsgBytes(linux.AF_INET, 0, 0, 0, linux.RT_SCOPE_NOWHERE, 0, 0)),
		nlreq(linux.RTM_GETROUTE, dump, 1, rtmsgBytes(0xff, 0, 0, 0, 0, 0, 0)),
		nlreq(linux.RTM_GETROUTE, linux.NLM_F_REQUEST, 1, rtmsgBytes(linux.AF_INET, 32, 0, 0, 0, 0, 0), a(linux.RTA_DST, "1.1.1.1")),
		nlreq(linux.RTM_GETNEIGH, dump, 1, []byte{0, 0, 0, 0}),
		batch,
		{16, 0, 0, 0, 16, 0, 1, 0},
		nlreq(linux.RTM_GETLINK, ack, 1, ifinfomsgBytes(0, 0, 0, 0), rattr{linux.IFLA_IFNAME, make([]byte, 40)}),
	}
}

// FuzzRequest sends arbitrary bytes to the NETLINK_ROUTE kernel side as
// root and checks that it neither panics nor emits a reply Go's parser
// rejects, misaddresses or leaves unaligned.
func FuzzRequest(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e := newEnv(t)
		ctx := rootCtx(10)
		s := e.open(ctx)
		send(t, s, ctx, data)
		for _, d := range drain(t, s, ctx, 65536) {
			if len(d)%4 != 0 {
				t.Fatalf("datagram of %d bytes", len(d))
			}
			ms, err := syscall.ParseNetlinkMessage(d)
			if err != nil {
				t.Fatalf("reply does not parse: %v", err)
			}
			for _, m := range ms {
				if m.Header.Pid != 10 {
					t.Fatalf("reply to port %d", m.Header.Pid)
				}
				switch m.Header.Type {
				case linux.RTM_NEWLINK, linux.RTM_NEWADDR, linux.RTM_NEWROUTE:
					if _, err := syscall.ParseNetlinkRouteAttr(&m); err != nil {
						t.Fatalf("attributes of type %d do not parse: %v", m.Header.Type, err)
					}
				case linux.NLMSG_ERROR, linux.NLMSG_DONE:
				default:
					t.Fatalf("unexpected reply type %d", m.Header.Type)
				}
			}
		}
	})
}
