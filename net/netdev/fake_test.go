package netdev_test

import (
	"net/netip"
	"testing"

	linux "golang.org/x/sys/unix"

	"uk/net/netdev"
	"uk/net/netdev/netdevtest"
)

var (
	pfx = netip.MustParsePrefix
	ip  = netip.MustParseAddr
)

// newTable is netdevtest's boot table with eth1 added (index 3), down and
// unconfigured, for the ioctls that configure an interface from nothing.
func newTable() *netdevtest.Table {
	tb := netdevtest.New()
	tb.AddLink(netdev.Link{Index: 3, Name: "eth1", Type: linux.ARPHRD_ETHER,
		Flags: linux.IFF_BROADCAST | linux.IFF_MULTICAST, MTU: 1500, HWAddr: []byte{0x52, 0x54, 0, 0, 0, 2}})
	return tb
}

// mustAddAddr adds an address to tb, failing the test if it cannot.
func mustAddAddr(t *testing.T, tb *netdevtest.Table, a netdev.Addr) {
	t.Helper()
	if err := tb.AddAddr(a); err != nil {
		t.Fatalf("AddAddr %v: %v", a.Prefix, err)
	}
}
