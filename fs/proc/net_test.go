package proc

import (
	"net/netip"
	"testing"

	"uk/net/netdev"
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

func TestProcNet(t *testing.T) {
	v, at := setup(t)
	cases := []struct{ path, want string }{
		{"/proc/7/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
			"eth0\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
			"eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"},
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
