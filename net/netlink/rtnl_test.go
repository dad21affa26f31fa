package netlink

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	linux "golang.org/x/sys/unix"

	"uk/net/netdev"
)

// rtgen is struct rtgenmsg: what Go's syscall.NetlinkRIB sends (17 bytes
// in all, unpadded).
func rtgen(typ uint16, seq uint32, family uint8) []byte {
	b := nlreq(typ, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, seq, []byte{family})
	b = b[:17]
	binary.LittleEndian.PutUint32(b, 17)
	return b
}

func TestLinkDumpDecodesWithGo(t *testing.T) {
	e := newEnv(t)
	ctx := userCtx(42)
	s := e.open(ctx)
	send(t, s, ctx, rtgen(linux.RTM_GETLINK, 1, linux.AF_UNSPEC))
	dgrams := drain(t, s, ctx, 4096)
	if len(dgrams) != 2 {
		t.Fatalf("got %d datagrams, want the links then NLMSG_DONE alone", len(dgrams))
	}
	ms := parse(t, dgrams)
	if len(ms) != 3 {
		t.Fatalf("got %d messages, want 2 links + DONE", len(ms))
	}
	for i, m := range ms {
		if m.Header.Seq != 1 || m.Header.Pid != 42 {
			t.Errorf("message %d: seq %d pid %d, want 1 and the port id 42", i, m.Header.Seq, m.Header.Pid)
		}
		if m.Header.Flags&linux.NLM_F_MULTI == 0 {
			t.Errorf("message %d lacks NLM_F_MULTI", i)
		}
	}
	done := ms[2]
	if done.Header.Type != linux.NLMSG_DONE || done.Header.Len != 20 || !bytes.Equal(done.Data, []byte{0, 0, 0, 0}) {
		t.Errorf("DONE = %+v %x", done.Header, done.Data)
	}
	want := e.table.Links()
	for i, m := range ms[:2] {
		if m.Header.Type != linux.RTM_NEWLINK {
			t.Fatalf("type %d", m.Header.Type)
		}
		ifi := (*syscall.IfInfomsg)(nil)
		_ = ifi
		idx := int32(le32(m.Data[4:]))
		flags := le32(m.Data[8:])
		typ := binary.LittleEndian.Uint16(m.Data[2:])
		as := attrsOf(t, m)
		l := want[i]
		if idx != l.Index || flags != l.Flags || typ != l.Type {
			t.Errorf("link %d header: index %d flags %#x type %d", i, idx, flags, typ)
		}
		if got := string(as[linux.IFLA_IFNAME]); got != l.Name+"\x00" {
			t.Errorf("IFLA_IFNAME %q", got)
		}
		if got := le32(as[linux.IFLA_MTU]); got != l.MTU {
			t.Errorf("IFLA_MTU %d", got)
		}
		if !bytes.Equal(as[linux.IFLA_ADDRESS], l.HWAddr) {
			t.Errorf("IFLA_ADDRESS %x", as[linux.IFLA_ADDRESS])
		}
		if n := len(as[linux.IFLA_STATS64]); n != 200 {
			t.Errorf("IFLA_STATS64 is %d bytes, want 200", n)
		}
		if n := len(as[linux.IFLA_STATS]); n != 96 {
			t.Errorf("IFLA_STATS is %d bytes, want 96", n)
		}
		if got := binary.LittleEndian.Uint64(as[linux.IFLA_STATS64][16:]); got != l.Stats.RxBytes {
			t.Errorf("rx_bytes %d", got)
		}
		if got := string(as[linux.IFLA_QDISC]); got != map[string]string{"lo": "noqueue\x00", "eth0": "pfifo_fast\x00"}[l.Name] {
			t.Errorf("IFLA_QDISC %q", got)
		}
		for _, a := range []uint16{linux.IFLA_TXQLEN, linux.IFLA_OPERSTATE, linux.IFLA_LINKMODE, linux.IFLA_BROADCAST,
			linux.IFLA_GROUP, linux.IFLA_PROMISCUITY, linux.IFLA_NUM_TX_QUEUES, linux.IFLA_NUM_RX_QUEUES, linux.IFLA_CARRIER} {
			if _, ok := as[a]; !ok {
				t.Errorf("link %s lacks attribute %d", l.Name, a)
			}
		}
	}
	if got := as8(attrsOf(t, ms[0])[linux.IFLA_OPERSTATE]); got != operUnknown {
		t.Errorf("lo operstate %d, want UNKNOWN as Linux reports an up loopback", got)
	}
	if got := as8(attrsOf(t, ms[1])[linux.IFLA_OPERSTATE]); got != operUp {
		t.Errorf("eth0 operstate %d, want UP", got)
	}
}

func as8(b []byte) uint8 {
	if len(b) == 0 {
		return 0xff
	}
	return b[0]
}

func TestGetLink(t *testing.T) {
	e := newEnv(t)
	ctx := rootCtx(7)
	s := e.open(ctx)
	for _, tc := range []struct {
		name  string
		req   []byte
		index int32
		err   linux.Errno
	}{
		{"by name", nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 5, ifinfomsgBytes(0, 0, 0, 0),
			u32a(linux.IFLA_EXT_MASK, 1), stra(linux.IFLA_IFNAME, "eth0")), 2, 0},
		{"by index", nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 6, ifinfomsgBytes(0, 1, 0, 0)), 1, 0},
		{"by alt name", nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST, 7, ifinfomsgBytes(0, 0, 0, 0),
			stra(linux.IFLA_ALT_IFNAME, "lo")), 1, 0},
		{"unknown name", nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 8, ifinfomsgBytes(0, 0, 0, 0),
			stra(linux.IFLA_IFNAME, "wlan0")), 0, linux.ENODEV},
		{"unknown index", nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST, 9, ifinfomsgBytes(0, 9, 0, 0)), 0, linux.ENODEV},
		{"no name", nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST, 10, ifinfomsgBytes(0, 0, 0, 0)), 0, linux.EINVAL},
		{"short header", nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST, 11, []byte{0, 0, 0, 0}), 0, linux.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq := le32(tc.req[8:])
			ms := roundTrip(t, s, ctx, tc.req)
			ack := binary.LittleEndian.Uint16(tc.req[6:])&linux.NLM_F_ACK != 0
			if tc.err != 0 {
				if len(ms) != 1 {
					t.Fatalf("got %d replies, want one error", len(ms))
				}
				errno, h := errnoIn(t, ms[0])
				if errno != tc.err || h.Seq != seq || h.Type != linux.RTM_GETLINK {
					t.Fatalf("error %v for %+v, want %v", errno, h, tc.err)
				}
				// An error echoes the whole request and is not capped.
				if ms[0].Header.Flags&linux.NLM_F_CAPPED != 0 || !bytes.Equal(ms[0].Data[4:], tc.req) {
					t.Errorf("error reply does not echo the request: flags %#x data %x", ms[0].Header.Flags, ms[0].Data)
				}
				return
			}
			want := 1
			if ack {
				want = 2
			}
			if len(ms) != want {
				t.Fatalf("got %d replies, want %d", len(ms), want)
			}
			m := ms[0]
			if m.Header.Type != linux.RTM_NEWLINK || m.Header.Flags != 0 || m.Header.Seq != seq || m.Header.Pid != 7 {
				t.Errorf("reply header %+v", m.Header)
			}
			if idx := int32(le32(m.Data[4:])); idx != tc.index {
				t.Errorf("index %d, want %d", idx, tc.index)
			}
			if ack {
				errno, h := errnoIn(t, ms[1])
				if errno != 0 || h.Seq != seq || ms[1].Header.Flags != linux.NLM_F_CAPPED || ms[1].Header.Len != 36 {
					t.Errorf("ack %v %+v, header %+v", errno, h, ms[1].Header)
				}
			}
		})
	}
}

func TestSetLink(t *testing.T) {
	e := newEnv(t)
	root, user := rootCtx(1), userCtx(2)
	s := e.open(root)
	u := e.open(user)
	ackOf := func(s *Socket, ctx *tctx, b []byte) linux.Errno {
		t.Helper()
		ms := roundTrip(t, s, ctx, b)
		if len(ms) != 1 {
			t.Fatalf("got %d replies, want one ack", len(ms))
		}
		errno, _ := errnoIn(t, ms[0])
		return errno
	}
	const ackf = linux.NLM_F_REQUEST | linux.NLM_F_ACK
	down := nlreq(linux.RTM_NEWLINK, ackf, 1, ifinfomsgBytes(0, 2, 0, linux.IFF_UP))
	if got := ackOf(u, user, down); got != linux.EPERM {
		t.Fatalf("unprivileged link down: %v, want EPERM", got)
	}
	if got := ackOf(s, root, down); got != 0 {
		t.Fatalf("link down: %v", got)
	}
	if l, _ := netdev.LinkByIndex(e.table, 2); l.Flags&linux.IFF_UP != 0 {
		t.Fatalf("eth0 still up")
	}
	up := nlreq(linux.RTM_SETLINK, ackf, 2, ifinfomsgBytes(0, 0, linux.IFF_UP, linux.IFF_UP), stra(linux.IFLA_IFNAME, "eth0"))
	if got := ackOf(s, root, up); got != 0 {
		t.Fatalf("link up by name: %v", got)
	}
	if l, _ := netdev.LinkByIndex(e.table, 2); l.Flags&linux.IFF_UP == 0 {
		t.Fatalf("eth0 not up")
	}
	mtu := nlreq(linux.RTM_NEWLINK, ackf, 3, ifinfomsgBytes(0, 2, 0, 0), u32a(linux.IFLA_MTU, 9000))
	if got := ackOf(s, root, mtu); got != 0 {
		t.Fatalf("mtu: %v", got)
	}
	if l, _ := netdev.LinkByIndex(e.table, 2); l.MTU != 9000 {
		t.Fatalf("mtu %d", l.MTU)
	}
	for _, tc := range []struct {
		name string
		req  []byte
		want linux.Errno
	}{
		{"bad mtu", nlreq(linux.RTM_NEWLINK, ackf, 4, ifinfomsgBytes(0, 2, 0, 0), u32a(linux.IFLA_MTU, 10)), linux.EINVAL},
		{"create", nlreq(linux.RTM_NEWLINK, ackf|linux.NLM_F_CREATE|linux.NLM_F_EXCL, 5, ifinfomsgBytes(0, 0, 0, 0),
			stra(linux.IFLA_IFNAME, "dummy0")), linux.EOPNOTSUPP},
		{"missing", nlreq(linux.RTM_NEWLINK, ackf, 6, ifinfomsgBytes(0, 0, 0, 0), stra(linux.IFLA_IFNAME, "dummy0")), linux.ENODEV},
		{"excl existing", nlreq(linux.RTM_NEWLINK, ackf|linux.NLM_F_EXCL, 7, ifinfomsgBytes(0, 1, 0, 0)), linux.EEXIST},
		{"setlink unnamed", nlreq(linux.RTM_SETLINK, ackf, 8, ifinfomsgBytes(0, 0, 0, 0)), linux.EINVAL},
		{"setlink bad index", nlreq(linux.RTM_SETLINK, ackf, 9, ifinfomsgBytes(0, 99, 0, 0)), linux.ENODEV},
		{"dellink", nlreq(linux.RTM_DELLINK, ackf, 10, ifinfomsgBytes(0, 1, 0, 0)), linux.EOPNOTSUPP},
		{"rename", nlreq(linux.RTM_NEWLINK, ackf, 11, ifinfomsgBytes(0, 2, 0, 0), stra(linux.IFLA_IFNAME, "wan")), linux.EOPNOTSUPP},
		{"short mtu", nlreq(linux.RTM_NEWLINK, ackf, 12, ifinfomsgBytes(0, 2, 0, 0), rattr{linux.IFLA_MTU, []byte{1}}), linux.EINVAL},
	} {
		if got := ackOf(s, root, tc.req); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// ifi_change 0 with nonzero ifi_flags replaces the flags: no IFF_UP
	// bit means down.
	if got := ackOf(s, root, nlreq(linux.RTM_NEWLINK, ackf, 13, ifinfomsgBytes(0, 2, linux.IFF_BROADCAST, 0))); got != 0 {
		t.Fatalf("flags without change: %v", got)
	}
	if l, _ := netdev.LinkByIndex(e.table, 2); l.Flags&linux.IFF_UP != 0 {
		t.Fatalf("eth0 still up after ifi_flags without IFF_UP and ifi_change 0")
	}
}

func TestAddrDump(t *testing.T) {
	e := newEnv(t)
	ctx := userCtx(3)
	s := e.open(ctx)
	for _, tc := range []struct {
		family uint8
		want   []string
	}{
		{linux.AF_UNSPEC, []string{"127.0.0.1/8", "10.0.2.15/24", "::1/128", "fe80::5054:ff:fe12:3456/64"}},
		{linux.AF_INET, []string{"127.0.0.1/8", "10.0.2.15/24"}},
		{linux.AF_INET6, []string{"::1/128", "fe80::5054:ff:fe12:3456/64"}},
		{linux.AF_PACKET, []string{"127.0.0.1/8", "10.0.2.15/24", "::1/128", "fe80::5054:ff:fe12:3456/64"}},
	} {
		ms := roundTrip(t, s, ctx, nlreq(linux.RTM_GETADDR, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 2,
			ifaddrmsgBytes(tc.family, 0, 0, 0, 0)))
		if last := ms[len(ms)-1]; last.Header.Type != linux.NLMSG_DONE {
			t.Fatalf("family %d: dump does not end in DONE", tc.family)
		}
		var got []string
		for _, m := range ms[:len(ms)-1] {
			if m.Header.Type != linux.RTM_NEWADDR || m.Header.Flags != linux.NLM_F_MULTI {
				t.Fatalf("header %+v", m.Header)
			}
			as := attrsOf(t, m)
			a, _ := netip.AddrFromSlice(as[linux.IFA_ADDRESS])
			got = append(got, netip.PrefixFrom(a, int(m.Data[1])).String())
			if a.Is4() {
				if !bytes.Equal(as[linux.IFA_LOCAL], as[linux.IFA_ADDRESS]) {
					t.Errorf("%v: IFA_LOCAL %x", a, as[linux.IFA_LOCAL])
				}
				label := map[uint32]string{1: "lo\x00", 2: "eth0\x00"}[le32(m.Data[4:])]
				if string(as[linux.IFA_LABEL]) != label {
					t.Errorf("%v: IFA_LABEL %q", a, as[linux.IFA_LABEL])
				}
			} else if _, ok := as[linux.IFA_LOCAL]; ok {
				t.Errorf("%v: IPv6 address with IFA_LOCAL", a)
			}
			if le32(as[linux.IFA_FLAGS]) != linux.IFA_F_PERMANENT || m.Data[2] != linux.IFA_F_PERMANENT {
				t.Errorf("%v: flags %x/%x", a, m.Data[2], as[linux.IFA_FLAGS])
			}
			if ci := as[linux.IFA_CACHEINFO]; len(ci) != 16 || le32(ci) != infiniteLifetime || le32(ci[4:]) != infiniteLifetime {
				t.Errorf("%v: IFA_CACHEINFO %x", a, ci)
			}
		}
		if len(got) != len(tc.want) {
			t.Fatalf("family %d: %v, want %v", tc.family, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("family %d: %v, want %v", tc.family, got, tc.want)
				break
			}
		}
	}
	// The broadcast address of eth0's IPv4 address.
	ms := roundTrip(t, s, ctx, nlreq(linux.RTM_GETADDR, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 3, ifaddrmsgBytes(linux.AF_INET, 0, 0, 0, 0)))
	if b := attrsOf(t, ms[1])[linux.IFA_BROADCAST]; !bytes.Equal(b, []byte{10, 0, 2, 255}) {
		t.Errorf("IFA_BROADCAST %v", b)
	}
}

func TestAddrChange(t *testing.T) {
	e := newEnv(t)
	ctx := rootCtx(1)
	s := e.open(ctx)
	const ackf = linux.NLM_F_REQUEST | linux.NLM_F_ACK
	v4 := func(a string) rattr { return rattr{0, netip.MustParseAddr(a).AsSlice()} }
	at := func(typ uint16, r rattr) rattr { r.typ = typ; return r }
	add := func(flags uint16, index int32, plen uint8, addr string, extra ...rattr) []byte {
		as := append([]rattr{at(linux.IFA_LOCAL, v4(addr)), at(linux.IFA_ADDRESS, v4(addr))}, extra...)
		return nlreq(linux.RTM_NEWADDR, ackf|flags, 1, ifaddrmsgBytes(linux.AF_INET, plen, 0, 0, index), as...)
	}
	steps := []struct {
		name string
		req  []byte
		want linux.Errno
	}{
		{"add", add(linux.NLM_F_CREATE|linux.NLM_F_EXCL, 2, 24, "192.168.7.1", at(linux.IFA_BROADCAST, v4("192.168.7.255"))), 0},
		{"add again excl", add(linux.NLM_F_CREATE|linux.NLM_F_EXCL, 2, 24, "192.168.7.1"), linux.EEXIST},
		{"add again plain", add(linux.NLM_F_CREATE, 2, 24, "192.168.7.1"), linux.EEXIST},
		{"replace", add(linux.NLM_F_CREATE|linux.NLM_F_REPLACE, 2, 24, "192.168.7.1", at(linux.IFA_BROADCAST, v4("192.168.7.255"))), 0},
		{"unknown link", add(linux.NLM_F_CREATE, 9, 24, "192.168.8.1"), linux.ENODEV},
		{"prefix too long", add(linux.NLM_F_CREATE, 2, 33, "192.168.8.1"), linux.EINVAL},
		{"no local", nlreq(linux.RTM_NEWADDR, ackf, 1, ifaddrmsgBytes(linux.AF_INET, 24, 0, 0, 2), at(linux.IFA_ADDRESS, v4("192.168.9.1"))), linux.EINVAL},
		{"unspec family", nlreq(linux.RTM_NEWADDR, ackf, 1, ifaddrmsgBytes(0, 24, 0, 0, 2), at(linux.IFA_LOCAL, v4("192.168.9.1"))), linux.EOPNOTSUPP},
		{"v6", nlreq(linux.RTM_NEWADDR, ackf|linux.NLM_F_CREATE, 1, ifaddrmsgBytes(linux.AF_INET6, 64, 0, 0, 2),
			at(linux.IFA_ADDRESS, v4("fd00::15"))), 0},
		{"v6 short", nlreq(linux.RTM_NEWADDR, ackf|linux.NLM_F_CREATE, 1, ifaddrmsgBytes(linux.AF_INET6, 64, 0, 0, 2),
			rattr{linux.IFA_ADDRESS, []byte{0xfd, 0, 0, 1}}), linux.EINVAL},
		{"del", nlreq(linux.RTM_DELADDR, ackf, 1, ifaddrmsgBytes(linux.AF_INET, 24, 0, 0, 2), at(linux.IFA_LOCAL, v4("192.168.7.1"))), 0},
		{"del again", nlreq(linux.RTM_DELADDR, ackf, 1, ifaddrmsgBytes(linux.AF_INET, 24, 0, 0, 2), at(linux.IFA_LOCAL, v4("192.168.7.1"))), linux.EADDRNOTAVAIL},
		{"del wrong link", nlreq(linux.RTM_DELADDR, ackf, 1, ifaddrmsgBytes(linux.AF_INET, 24, 0, 0, 1), at(linux.IFA_LOCAL, v4("10.0.2.15"))), linux.EADDRNOTAVAIL},
		{"del no link", nlreq(linux.RTM_DELADDR, ackf, 1, ifaddrmsgBytes(linux.AF_INET, 24, 0, 0, 7), at(linux.IFA_LOCAL, v4("10.0.2.15"))), linux.ENODEV},
		{"del v6 wrong plen", nlreq(linux.RTM_DELADDR, ackf, 1, ifaddrmsgBytes(linux.AF_INET6, 48, 0, 0, 2), at(linux.IFA_ADDRESS, v4("fd00::15"))), linux.EADDRNOTAVAIL},
		{"del v6", nlreq(linux.RTM_DELADDR, ackf, 1, ifaddrmsgBytes(linux.AF_INET6, 64, 0, 0, 2), at(linux.IFA_ADDRESS, v4("fd00::15"))), 0},
	}
	for _, st := range steps {
		ms := roundTrip(t, s, ctx, st.req)
		if len(ms) != 1 {
			t.Fatalf("%s: %d replies", st.name, len(ms))
		}
		if got, _ := errnoIn(t, ms[0]); got != st.want {
			t.Fatalf("%s: %v, want %v", st.name, got, st.want)
		}
		if st.name == "add" {
			var found *netdev.Addr
			for _, a := range e.table.Addrs() {
				if a.Prefix == pfx("192.168.7.1/24") {
					found = &a
				}
			}
			if found == nil || found.LinkIndex != 2 || found.Broadcast != ip("192.168.7.255") || found.Flags != linux.IFA_F_PERMANENT {
				t.Fatalf("added address %+v", found)
			}
		}
		if st.name == "v6" {
			ok := false
			for _, a := range e.table.Addrs() {
				ok = ok || a.Prefix == pfx("fd00::15/64") && a.Scope == linux.RT_SCOPE_UNIVERSE
			}
			if !ok {
				t.Fatalf("IPv6 address not added: %+v", e.table.Addrs())
			}
		}
	}
	if len(e.table.Addrs()) != 4 {
		t.Errorf("addresses left: %+v", e.table.Addrs())
	}
}

func TestRouteDump(t *testing.T) {
	e := newEnv(t)
	ctx := userCtx(5)
	s := e.open(ctx)
	dump := func(family uint8, flags uint32) []syscall.NetlinkMessage {
		ms := roundTrip(t, s, ctx, nlreq(linux.RTM_GETROUTE, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 1,
			rtmsgBytes(family, 0, 0, 0, 0, 0, flags)))
		if last := ms[len(ms)-1]; last.Header.Type != linux.NLMSG_DONE {
			t.Fatalf("no DONE")
		}
		return ms[:len(ms)-1]
	}
	all := dump(0xff, 0)
	if len(all) != 5 {
		t.Fatalf("family 0xff dumped %d routes, want all 5", len(all))
	}
	// IPv4 main, IPv4 local, then IPv6.
	wantDst := []string{"0.0.0.0/0", "10.0.2.0/24", "127.0.0.0/8", "10.0.2.15/32", "fe80::/64"}
	for i, m := range all {
		as := attrsOf(t, m)
		fam, dl, table := m.Data[0], int(m.Data[1]), m.Data[4]
		var d netip.Addr
		if v, ok := as[linux.RTA_DST]; ok {
			d, _ = netip.AddrFromSlice(v)
		} else if fam == linux.AF_INET {
			d = netip.IPv4Unspecified()
		} else {
			d = netip.IPv6Unspecified()
		}
		if got := netip.PrefixFrom(d, dl).String(); got != wantDst[i] {
			t.Errorf("route %d: %s, want %s", i, got, wantDst[i])
		}
		if le32(as[linux.RTA_TABLE]) != uint32(table) {
			t.Errorf("route %d: RTA_TABLE %x vs rtm_table %d", i, as[linux.RTA_TABLE], table)
		}
	}
	def := attrsOf(t, all[0])
	if !bytes.Equal(def[linux.RTA_GATEWAY], []byte{10, 0, 2, 2}) || le32(def[linux.RTA_OIF]) != 2 {
		t.Errorf("default route attrs %v", def)
	}
	if _, ok := def[linux.RTA_DST]; ok {
		t.Errorf("default route has RTA_DST")
	}
	if all[0].Data[5] != linux.RTPROT_BOOT || all[0].Data[6] != linux.RT_SCOPE_UNIVERSE || all[0].Data[7] != linux.RTN_UNICAST {
		t.Errorf("default route rtmsg %x", all[0].Data[:12])
	}
	if got := attrsOf(t, all[1])[linux.RTA_PREFSRC]; !bytes.Equal(got, []byte{10, 0, 2, 15}) {
		t.Errorf("connected route RTA_PREFSRC %v", got)
	}
	if got := len(dump(linux.AF_INET, 0)); got != 4 {
		t.Errorf("AF_INET dump: %d routes", got)
	}
	if got := len(dump(linux.AF_INET6, 0)); got != 1 {
		t.Errorf("AF_INET6 dump: %d routes", got)
	}
	if got := len(dump(linux.AF_UNSPEC, 0)); got != 5 {
		t.Errorf("AF_UNSPEC dump: %d routes", got)
	}
	if got := len(dump(linux.AF_INET, linux.RTM_F_CLONED)); got != 0 {
		t.Errorf("cache dump: %d routes", got)
	}
	v6 := attrsOf(t, dump(linux.AF_INET6, 0)[0])
	if le32(v6[linux.RTA_PRIORITY]) != 256 || len(v6[linux.RTA_CACHEINFO]) != 32 {
		t.Errorf("IPv6 route attrs %v", v6)
	}
}

func TestRouteChange(t *testing.T) {
	e := newEnv(t)
	ctx := rootCtx(1)
	s := e.open(ctx)
	const ackf = linux.NLM_F_REQUEST | linux.NLM_F_ACK
	const create = linux.NLM_F_CREATE | linux.NLM_F_EXCL
	a4 := func(typ uint16, s string) rattr { return rattr{typ, netip.MustParseAddr(s).AsSlice()} }
	rt := func(typ, flags uint16, family, dl uint8, as ...rattr) []byte {
		return nlreq(typ, ackf|flags, 1, rtmsgBytes(family, dl, linux.RT_TABLE_MAIN, linux.RTPROT_BOOT,
			linux.RT_SCOPE_UNIVERSE, linux.RTN_UNICAST, 0), as...)
	}
	steps := []struct {
		name string
		req  []byte
		want linux.Errno
	}{
		{"add net", rt(linux.RTM_NEWROUTE, create, linux.AF_INET, 24, a4(linux.RTA_DST, "192.168.7.0"), u32a(linux.RTA_OIF, 2)), 0},
		{"add net again", rt(linux.RTM_NEWROUTE, create, linux.AF_INET, 24, a4(linux.RTA_DST, "192.168.7.0"), u32a(linux.RTA_OIF, 2)), linux.EEXIST},
		{"replace", rt(linux.RTM_NEWROUTE, linux.NLM_F_CREATE|linux.NLM_F_REPLACE, linux.AF_INET, 24,
			a4(linux.RTA_DST, "192.168.7.0"), a4(linux.RTA_GATEWAY, "10.0.2.3"), u32a(linux.RTA_OIF, 2)), 0},
		{"no create", rt(linux.RTM_NEWROUTE, 0, linux.AF_INET, 24, a4(linux.RTA_DST, "192.168.9.0"), u32a(linux.RTA_OIF, 2)), linux.ENOENT},
		{"host bits", rt(linux.RTM_NEWROUTE, create, linux.AF_INET, 24, a4(linux.RTA_DST, "192.168.9.1"), u32a(linux.RTA_OIF, 2)), linux.EINVAL},
		{"bad oif", rt(linux.RTM_NEWROUTE, create, linux.AF_INET, 24, a4(linux.RTA_DST, "192.168.9.0"), u32a(linux.RTA_OIF, 99)), linux.ENODEV},
		{"multipath", rt(linux.RTM_NEWROUTE, create, linux.AF_INET, 24, a4(linux.RTA_DST, "192.168.9.0"), rattr{linux.RTA_MULTIPATH, make([]byte, 8)}), linux.EOPNOTSUPP},
		{"dst len", rt(linux.RTM_NEWROUTE, create, linux.AF_INET, 40), linux.EINVAL},
		{"family", rt(linux.RTM_NEWROUTE, create, linux.AF_UNSPEC, 0), linux.EOPNOTSUPP},
		{"add v6", rt(linux.RTM_NEWROUTE, create, linux.AF_INET6, 48, a4(linux.RTA_DST, "fd00::"), u32a(linux.RTA_OIF, 2)), 0},
		{"del", rt(linux.RTM_DELROUTE, 0, linux.AF_INET, 24, a4(linux.RTA_DST, "192.168.7.0")), 0},
		{"del again", rt(linux.RTM_DELROUTE, 0, linux.AF_INET, 24, a4(linux.RTA_DST, "192.168.7.0")), linux.ESRCH},
		{"del v6", rt(linux.RTM_DELROUTE, 0, linux.AF_INET6, 48, a4(linux.RTA_DST, "fd00::")), 0},
	}
	for _, st := range steps {
		ms := roundTrip(t, s, ctx, st.req)
		if len(ms) != 1 {
			t.Fatalf("%s: %d replies", st.name, len(ms))
		}
		if got, _ := errnoIn(t, ms[0]); got != st.want {
			t.Fatalf("%s: %v, want %v", st.name, got, st.want)
		}
		switch st.name {
		case "replace":
			var gw netip.Addr
			for _, r := range e.table.Routes() {
				if r.Dst == pfx("192.168.7.0/24") {
					gw = r.Gateway
				}
			}
			if gw != ip("10.0.2.3") {
				t.Fatalf("replace left gateway %v", gw)
			}
		case "add v6":
			var r netdev.Route
			for _, x := range e.table.Routes() {
				if x.Dst == pfx("fd00::/48") {
					r = x
				}
			}
			if r.Metric != ip6DefaultMetric || r.Table != linux.RT_TABLE_MAIN || r.LinkIndex != 2 {
				t.Fatalf("IPv6 route %+v", r)
			}
		}
	}
	if n := len(e.table.Routes()); n != 5 {
		t.Errorf("%d routes left, want the original 5", n)
	}
	// Unprivileged changes are refused before anything else.
	u := userCtx(9)
	us := e.open(u)
	ms := roundTrip(t, us, u, rt(linux.RTM_NEWROUTE, create, linux.AF_INET, 24, a4(linux.RTA_DST, "192.168.7.0")))
	if got, _ := errnoIn(t, ms[0]); got != linux.EPERM {
		t.Errorf("unprivileged route add: %v", got)
	}
}

func TestRouteGet(t *testing.T) {
	e := newEnv(t)
	ctx := userCtx(6)
	s := e.open(ctx)
	get := func(dst string, flags uint32) []syscall.NetlinkMessage {
		a := netip.MustParseAddr(dst)
		fam := uint8(linux.AF_INET)
		if a.Is6() {
			fam = linux.AF_INET6
		}
		return roundTrip(t, s, ctx, nlreq(linux.RTM_GETROUTE, linux.NLM_F_REQUEST, 4,
			rtmsgBytes(fam, uint8(a.BitLen()), 0, 0, 0, 0, flags), rattr{linux.RTA_DST, a.AsSlice()}))
	}
	ms := get("8.8.8.8", 0)
	if len(ms) != 1 || ms[0].Header.Type != linux.RTM_NEWROUTE || ms[0].Header.Seq != 4 || ms[0].Header.Pid != 6 {
		t.Fatalf("route get: %+v", ms)
	}
	as := attrsOf(t, ms[0])
	if !bytes.Equal(as[linux.RTA_DST], []byte{8, 8, 8, 8}) || !bytes.Equal(as[linux.RTA_GATEWAY], []byte{10, 0, 2, 2}) ||
		le32(as[linux.RTA_OIF]) != 2 || !bytes.Equal(as[linux.RTA_PREFSRC], []byte{10, 0, 2, 15}) ||
		le32(as[linux.RTA_UID]) != 1000 || ms[0].Data[1] != 32 || le32(ms[0].Data[8:]) != linux.RTM_F_CLONED {
		t.Errorf("8.8.8.8: rtmsg %x attrs %v", ms[0].Data[:12], as)
	}
	ms = get("10.0.2.7", 0)
	as = attrsOf(t, ms[0])
	if _, ok := as[linux.RTA_GATEWAY]; ok || le32(as[linux.RTA_OIF]) != 2 || ms[0].Data[4] != linux.RT_TABLE_MAIN {
		t.Errorf("10.0.2.7 (connected): %v", as)
	}
	ms = get("10.0.2.15", 0)
	as = attrsOf(t, ms[0])
	if ms[0].Data[7] != linux.RTN_LOCAL || ms[0].Data[4] != linux.RT_TABLE_MAIN || le32(ms[0].Data[8:]) != linux.RTM_F_CLONED|rtcfLocal || le32(as[linux.RTA_OIF]) != 1 {
		t.Errorf("10.0.2.15 (local): rtmsg %x attrs %v", ms[0].Data[:12], as)
	}
	ms = get("8.8.8.8", linux.RTM_F_FIB_MATCH)
	if ms[0].Data[1] != 0 || !bytes.Equal(attrsOf(t, ms[0])[linux.RTA_GATEWAY], []byte{10, 0, 2, 2}) {
		t.Errorf("fib match: rtmsg %x", ms[0].Data[:12])
	}
	ms = get("2001:db8::1", 0)
	if got, _ := errnoIn(t, ms[0]); got != linux.ENETUNREACH {
		t.Errorf("IPv6 without a default route: %v", got)
	}
	ms = get("fe80::1", 0)
	as = attrsOf(t, ms[0])
	// IPv6 reports the matched route's table and protocol, and the flow's
	// source as a /128 (:: here).
	if ms[0].Header.Type != linux.RTM_NEWROUTE || le32(as[linux.RTA_OIF]) != 2 ||
		!bytes.Equal(ms[0].Data[:8], []byte{linux.AF_INET6, 128, 128, 0, linux.RT_TABLE_MAIN, linux.RTPROT_KERNEL, 0, linux.RTN_UNICAST}) ||
		!bytes.Equal(as[linux.RTA_SRC], make([]byte, 16)) || le32(as[linux.RTA_PRIORITY]) != 256 {
		t.Errorf("fe80::1: rtmsg %x attrs %v", ms[0].Data[:12], as)
	}
}

func TestControlAndUnknownMessages(t *testing.T) {
	e := newEnv(t)
	ctx := rootCtx(8)
	s := e.open(ctx)
	for _, tc := range []struct {
		name    string
		req     []byte
		replies int
		errno   linux.Errno
	}{
		{"noop with ack", nlreq(linux.NLMSG_NOOP, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 1, nil), 1, 0},
		{"noop", nlreq(linux.NLMSG_NOOP, linux.NLM_F_REQUEST, 1, nil), 0, 0},
		{"not a request", nlreq(linux.RTM_GETLINK, 0, 1, ifinfomsgBytes(0, 1, 0, 0)), 0, 0},
		{"not a request, ack", nlreq(linux.RTM_GETLINK, linux.NLM_F_ACK, 1, ifinfomsgBytes(0, 1, 0, 0)), 1, 0},
		{"type beyond RTM_MAX", nlreq(linux.RTM_MAX+1, linux.NLM_F_REQUEST, 1, []byte{0, 0, 0, 0}), 1, linux.EOPNOTSUPP},
		{"no doit", nlreq(linux.RTM_GETANYCAST, linux.NLM_F_REQUEST, 1, []byte{0, 0, 0, 0}), 1, linux.EOPNOTSUPP},
		{"neigh short", nlreq(linux.RTM_GETNEIGH, linux.NLM_F_REQUEST, 1, []byte{0, 0, 0, 0}), 1, linux.EINVAL},
		{"neigh lookup", nlreq(linux.RTM_GETNEIGH, linux.NLM_F_REQUEST, 1, make([]byte, 12), rattr{linux.NDA_DST, []byte{10, 0, 2, 2}}), 1, linux.ENOENT},
		{"no dump", nlreq(linux.RTM_NEWLINK, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 1, ifinfomsgBytes(0, 0, 0, 0)), 1, linux.ENODEV},
		{"empty payload", nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST, 1, nil), 0, 0},
	} {
		ms := roundTrip(t, s, ctx, tc.req)
		if len(ms) != tc.replies {
			t.Errorf("%s: %d replies, want %d", tc.name, len(ms), tc.replies)
			continue
		}
		if tc.replies == 1 {
			if got, _ := errnoIn(t, ms[0]); got != tc.errno {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.errno)
			}
		}
	}
	// Dumps the sandbox has nothing for end at once.
	for _, typ := range []uint16{linux.RTM_GETNEIGH, linux.RTM_GETRULE, linux.RTM_GETQDISC} {
		ms := roundTrip(t, s, ctx, nlreq(typ, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 3, []byte{0, 0, 0, 0}))
		if len(ms) != 1 || ms[0].Header.Type != linux.NLMSG_DONE || ms[0].Header.Seq != 3 {
			t.Errorf("dump of type %d: %+v", typ, ms)
		}
	}
	// Several requests in one buffer are answered in order.
	var b []byte
	b = append(b, nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST, 10, ifinfomsgBytes(0, 1, 0, 0))...)
	b = append(b, nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 11, ifinfomsgBytes(0, 5, 0, 0))...)
	b = append(b, nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 12, ifinfomsgBytes(0, 2, 0, 0))...)
	ms := roundTrip(t, s, ctx, b)
	var seqs []uint32
	for _, m := range ms {
		seqs = append(seqs, m.Header.Seq)
	}
	if len(ms) != 4 || ms[0].Header.Type != linux.RTM_NEWLINK || ms[1].Header.Type != linux.NLMSG_ERROR ||
		ms[2].Header.Type != linux.RTM_NEWLINK || ms[3].Header.Type != linux.NLMSG_ERROR ||
		seqs[0] != 10 || seqs[1] != 11 || seqs[2] != 12 || seqs[3] != 12 {
		t.Errorf("batched replies: seqs %v", seqs)
	}
	// A truncated trailing message is ignored, as netlink_rcv_skb does.
	ms = roundTrip(t, s, ctx, append(nlreq(linux.NLMSG_NOOP, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 1, nil), 0xff, 0xff, 0, 0, 0, 0, 0, 0))
	if len(ms) != 1 {
		t.Errorf("garbage tail: %d replies", len(ms))
	}
}

func TestCapAckAndStrict(t *testing.T) {
	e := newEnv(t)
	ctx := rootCtx(8)
	s := e.open(ctx)
	if err := s.SetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_CAP_ACK, []byte{1, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	req := nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST, 1, ifinfomsgBytes(0, 9, 0, 0))
	ms := roundTrip(t, s, ctx, req)
	if ms[0].Header.Len != 36 || ms[0].Header.Flags != linux.NLM_F_CAPPED {
		t.Errorf("capped error reply %+v", ms[0].Header)
	}
	if err := s.SetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_GET_STRICT_CHK, []byte{1, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	ms = roundTrip(t, s, ctx, nlreq(linux.RTM_GETADDR, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 2, ifaddrmsgBytes(0, 0, 0, 0, 2)))
	if len(ms) != 3 {
		t.Errorf("strict address dump of eth0: %d messages, want 2 + DONE", len(ms))
	}
	for _, m := range ms {
		if m.Header.Flags != linux.NLM_F_MULTI|linux.NLM_F_DUMP_FILTERED {
			t.Errorf("filtered dump part flags %#x", m.Header.Flags)
		}
	}
	ms = roundTrip(t, s, ctx, nlreq(linux.RTM_GETROUTE, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 5,
		rtmsgBytes(linux.AF_INET, 0, linux.RT_TABLE_LOCAL, 0, 0, 0, 0)))
	if len(ms) != 3 || ms[0].Data[4] != linux.RT_TABLE_LOCAL || ms[1].Data[4] != linux.RT_TABLE_LOCAL ||
		ms[2].Header.Flags != linux.NLM_F_MULTI|linux.NLM_F_DUMP_FILTERED {
		t.Errorf("strict local table dump: %d messages", len(ms))
	}
	ms = roundTrip(t, s, ctx, rtgen(linux.RTM_GETADDR, 3, 0))
	if got, _ := errnoIn(t, ms[0]); got != linux.EINVAL {
		t.Errorf("strict dump with a short header: %v", got)
	}
	if err := s.SetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_CAP_ACK, []byte{0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	// The error echoes the 17-byte request: nlmsg_len 37, padded to 40
	// in the datagram.
	send(t, s, ctx, rtgen(linux.RTM_GETADDR, 4, 0))
	d := drain(t, s, ctx, 1000)
	if len(d) != 1 || len(d[0]) != 40 || le32(d[0]) != 37 {
		t.Errorf("unaligned error reply: %x", d)
	}
}

// TestRouteGetDerivesLocalRoutes: a table that keeps only the main table
// still resolves the sandbox's own addresses as local.
func TestRouteGetDerivesLocalRoutes(t *testing.T) {
	e := newEnv(t)
	e.table.KeepRoutes(func(r netdev.Route) bool { return r.Table == linux.RT_TABLE_MAIN })
	ctx := userCtx(6)
	s := e.open(ctx)
	for _, tc := range []struct {
		dst string
		typ uint8
		oif uint32
	}{
		{"127.0.0.9", linux.RTN_LOCAL, 1},
		{"10.0.2.15", linux.RTN_LOCAL, 1},
		{"::1", linux.RTN_LOCAL, 1},
		{"10.0.2.9", linux.RTN_UNICAST, 2},
	} {
		a := netip.MustParseAddr(tc.dst)
		fam := uint8(linux.AF_INET)
		if a.Is6() {
			fam = linux.AF_INET6
		}
		ms := roundTrip(t, s, ctx, nlreq(linux.RTM_GETROUTE, linux.NLM_F_REQUEST, 1,
			rtmsgBytes(fam, uint8(a.BitLen()), 0, 0, 0, 0, 0), rattr{linux.RTA_DST, a.AsSlice()}))
		if len(ms) != 1 || ms[0].Header.Type != linux.RTM_NEWROUTE {
			t.Errorf("%s: %+v", tc.dst, ms)
			continue
		}
		if ms[0].Data[7] != tc.typ || le32(attrsOf(t, ms[0])[linux.RTA_OIF]) != tc.oif {
			t.Errorf("%s: type %d oif %d", tc.dst, ms[0].Data[7], le32(attrsOf(t, ms[0])[linux.RTA_OIF]))
		}
	}
}

// TestRouteDumpDerivesLocalTable: a table that keeps only the main table
// dumps the local table Linux would have, in Linux's order.
func TestRouteDumpDerivesLocalTable(t *testing.T) {
	e := newEnv(t)
	e.table.KeepRoutes(func(r netdev.Route) bool { return r.Table == linux.RT_TABLE_MAIN })
	ctx := userCtx(6)
	s := e.open(ctx)
	ms := roundTrip(t, s, ctx, nlreq(linux.RTM_GETROUTE, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 1, rtmsgBytes(0, 0, 0, 0, 0, 0, 0)))
	var got []string
	for _, m := range ms[:len(ms)-1] {
		as := attrsOf(t, m)
		d, ok := netip.AddrFromSlice(as[linux.RTA_DST])
		if !ok {
			d = netip.IPv4Unspecified()
		}
		got = append(got, fmt.Sprintf("%d %d %s dev %d src %x scope %d", m.Data[4], m.Data[7],
			netip.PrefixFrom(d, int(m.Data[1])), le32(as[linux.RTA_OIF]), as[linux.RTA_PREFSRC], m.Data[6]))
	}
	want := []string{
		"254 1 0.0.0.0/0 dev 2 src  scope 0",
		"254 1 10.0.2.0/24 dev 2 src 0a00020f scope 253",
		"255 2 10.0.2.15/32 dev 2 src 0a00020f scope 254",
		"255 3 10.0.2.255/32 dev 2 src 0a00020f scope 253",
		"255 2 127.0.0.0/8 dev 1 src 7f000001 scope 254",
		"255 2 127.0.0.1/32 dev 1 src 7f000001 scope 254",
		"254 1 fe80::/64 dev 2 src  scope 0",
		"255 2 ::1/128 dev 1 src  scope 0",
		"255 2 fe80::5054:ff:fe12:3456/128 dev 2 src  scope 0",
		"255 5 ff00::/8 dev 2 src  scope 0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("dump:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
