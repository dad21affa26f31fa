package proc

import (
	"fmt"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"uk/net/netdev"
	"uk/net/socket"
	unixsock "uk/net/unix"
)

// fakeTable is an interface table with lo and eth0, one IPv4 address on
// eth0 with its connected route, a default route and ::1 on lo.
type fakeTable struct{ netdev.Table }

func (fakeTable) Links() []netdev.Link {
	return []netdev.Link{
		{Index: 1, Name: "lo", Stats: netdev.Stats{RxBytes: 100, RxPackets: 2, TxBytes: 100, TxPackets: 2}},
		{Index: 2, Name: "eth0", Stats: netdev.Stats{RxBytes: 1500, RxPackets: 1}},
	}
}

func (fakeTable) Addrs() []netdev.Addr {
	return []netdev.Addr{
		{LinkIndex: 1, Prefix: netip.MustParsePrefix("::1/128")},
		{LinkIndex: 2, Prefix: netip.MustParsePrefix("10.0.2.15/24")},
	}
}

func (fakeTable) Routes() []netdev.Route {
	return []netdev.Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("10.0.2.2"), LinkIndex: 2},
		{Dst: netip.MustParsePrefix("10.0.2.0/24"), LinkIndex: 2},
	}
}

// fakeUnixSockets are a listener on a path, a connection not accepted
// yet, an unbound stream socket and a datagram socket with an abstract
// name holding a NUL.
var fakeUnixSockets = []unixsock.SocketInfo{
	{Listening: true, Type: unix.SOCK_STREAM, State: 1, Inode: 10001, Addr: unixsock.Address{Name: "/run/l.sock"}},
	{Type: unix.SOCK_STREAM, State: 2, Inode: 0, Addr: unixsock.Address{Name: "/run/l.sock"}},
	{Type: unix.SOCK_STREAM, State: 1, Inode: 10002},
	{Type: unix.SOCK_DGRAM, State: 3, Inode: 123456, Addr: unixsock.Address{Abstract: true, Name: "a\x00b"}},
}

// fakeInetSockets are a TCP listener on 127.0.0.1:8080, an IPv6
// connection from [::1]:40000 to [::1]:22 with 5 bytes unread, and a UDP
// socket bound to 0.0.0.0:53.
var fakeInetSockets = map[[2]int][]socket.InetInfo{
	{unix.AF_INET, unix.IPPROTO_TCP}: {{
		Local: netip.MustParseAddrPort("127.0.0.1:8080"), Remote: netip.MustParseAddrPort("0.0.0.0:0"),
		State: 10, RTO: 100, Cwnd: 10, UID: 1000, Inode: 4242,
	}},
	{unix.AF_INET6, unix.IPPROTO_TCP}: {{
		Local: netip.MustParseAddrPort("[::1]:40000"), Remote: netip.MustParseAddrPort("[::1]:22"),
		State: 1, RxQueue: 5, RTO: 20, Cwnd: 10, Ssthresh: -1, Inode: 77,
	}},
	{unix.AF_INET, unix.IPPROTO_UDP}: {{
		Local: netip.MustParseAddrPort("0.0.0.0:53"), Remote: netip.MustParseAddrPort("0.0.0.0:0"),
		State: 7, Inode: 99,
	}},
}

// TestProcNet checks /proc/net's files, the IPv4 socket tables' lines
// at Linux's fixed widths.
func TestProcNet(t *testing.T) {
	v, at := setup(t)
	pad := func(s string, n int) string { return fmt.Sprintf("%-*s\n", n, s) }
	cases := []struct{ path, want string }{
		{"/proc/7/net/tcp", pad("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", 149) +
			pad("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0", 149)},
		{"/proc/7/net/tcp6", "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
			"   0: 00000000000000000000000001000000:9C40 00000000000000000000000001000000:0016 01 00000000:00000005 00:00000000 00000000     0        0 77 1 0000000000000000 20 0 0 10 -1\n"},
		{"/proc/7/net/udp", pad("   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops", 127) +
			pad("    0: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 99 2 0000000000000000 0", 127)},
		{"/proc/7/net/udp6", "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"},
		{"/proc/7/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
			"eth0\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
			"eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"},
		{"/proc/7/net/unix", "Num       RefCount Protocol Flags    Type St Inode Path\n" +
			"0000000000000000: 00000002 00000000 00010000 0001 01 10001 /run/l.sock\n" +
			"0000000000000000: 00000002 00000000 00000000 0001 02     0 /run/l.sock\n" +
			"0000000000000000: 00000002 00000000 00000000 0001 01 10002\n" +
			"0000000000000000: 00000002 00000000 00000000 0002 03 123456 @a@b\n"},
		{"/proc/7/net/if_inet6", "00000000000000000000000000000001 01 80 10 80       lo\n"},
		{"/proc/7/net/dev", "Inter-|   Receive                                                |  Transmit\n" +
			" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
			"    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n" +
			"  eth0:    1500       1    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n"},
	}
	for _, c := range cases {
		got, err := read(t, v, at, c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.path, got, c.want)
		}
	}
}
