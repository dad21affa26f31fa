package inet

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"uk/fs/vfs/vfstest"
	"uk/net/netdev"
	"uk/net/socket"
)

func newTestStack(t *testing.T) (*Stack, int32) {
	t.Helper()
	s, err := NewStack()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	// A second loopback link stands in for an Ethernet device: the table
	// logic does not look at the link type beyond loopback-ness.
	idx, err := s.AttachEthernet("eth0", loopback.New(), []byte{2, 0, 0, 0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	return s, idx
}

func TestStackStartsWithLoopback(t *testing.T) {
	s, eth := newTestStack(t)
	links := s.Links()
	if len(links) != 2 || links[0].Name != "lo" || links[0].Index != LoopbackIndex || links[1].Index != eth {
		t.Fatalf("links %+v", links)
	}
	if links[0].Flags&linux.IFF_UP == 0 || links[0].Flags&linux.IFF_LOOPBACK == 0 {
		t.Errorf("lo flags %#x", links[0].Flags)
	}
	if links[1].Flags&linux.IFF_UP != 0 {
		t.Errorf("eth0 starts up: %#x", links[1].Flags)
	}
	var got []string
	for _, a := range s.Addrs() {
		got = append(got, a.Prefix.String())
	}
	if len(got) != 2 || got[0] != "127.0.0.1/8" || got[1] != "::1/128" {
		t.Errorf("addrs %v", got)
	}
	// 127.0.0.0/8 lives in the local table only; ::1 is in the main
	// table too, as `ip -6 route` shows on Linux.
	if r := s.Routes(); len(r) != 1 || r[0].Dst.String() != "::1/128" || r[0].Metric != 256 {
		t.Errorf("main table starts with %+v, want only ::1/128 metric 256", r)
	}
}

func TestStackAddressesAndRoutes(t *testing.T) {
	s, eth := newTestStack(t)
	a := netdev.Addr{LinkIndex: eth, Prefix: netip.MustParsePrefix("10.0.2.15/24")}
	if err := s.AddAddr(a); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddr(a); !errors.Is(err, linux.EEXIST) {
		t.Errorf("second add: %v, want EEXIST", err)
	}
	if err := s.AddAddr(netdev.Addr{LinkIndex: 9, Prefix: a.Prefix}); !errors.Is(err, linux.ENODEV) {
		t.Errorf("unknown link: %v, want ENODEV", err)
	}
	rs := v4Routes(s)
	if len(rs) != 1 || rs[0].Dst.String() != "10.0.2.0/24" || rs[0].Protocol != linux.RTPROT_KERNEL || rs[0].Src.String() != "10.0.2.15" {
		t.Fatalf("connected route %+v", rs)
	}
	def := netdev.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("10.0.2.2")}
	if err := s.AddRoute(def); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRoute(def); !errors.Is(err, linux.EEXIST) {
		t.Errorf("duplicate route: %v, want EEXIST", err)
	}
	far := netdev.Route{Dst: netip.MustParsePrefix("192.168.0.0/16"), Gateway: netip.MustParseAddr("172.16.0.1")}
	if err := s.AddRoute(far); !errors.Is(err, linux.ENETUNREACH) {
		t.Errorf("unreachable gateway: %v, want ENETUNREACH", err)
	}
	rs = v4Routes(s)
	if len(rs) != 2 || rs[0].Dst.Bits() != 0 || rs[0].LinkIndex != eth || rs[1].Dst.Bits() != 24 {
		t.Fatalf("routes %+v: want the default route first (FIB order), resolved to eth0", rs)
	}
	if err := s.DelRoute(netdev.Route{Dst: netip.MustParsePrefix("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
	if err := s.DelRoute(netdev.Route{Dst: netip.MustParsePrefix("0.0.0.0/0")}); !errors.Is(err, linux.ESRCH) {
		t.Errorf("second delete: %v, want ESRCH", err)
	}
	if err := s.DelAddr(a); err != nil {
		t.Fatal(err)
	}
	if rs := v4Routes(s); len(rs) != 0 {
		t.Errorf("connected route outlived its address: %+v", rs)
	}
	if err := s.DelAddr(a); !errors.Is(err, linux.EADDRNOTAVAIL) {
		t.Errorf("second delete: %v, want EADDRNOTAVAIL", err)
	}
}

func v4Routes(s *Stack) []netdev.Route {
	var out []netdev.Route
	for _, r := range s.Routes() {
		if r.Dst.Addr().Is4() {
			out = append(out, r)
		}
	}
	return out
}

func TestStackLinkUpDown(t *testing.T) {
	s, eth := newTestStack(t)
	if err := s.SetLinkUp(eth, true); err != nil {
		t.Fatal(err)
	}
	// Coming up gives eth0 its EUI-64 link-local address (MAC 02:00:00:00:00:01).
	var ll []string
	for _, a := range s.Addrs() {
		if a.LinkIndex == eth {
			ll = append(ll, a.Prefix.String())
		}
	}
	if len(ll) != 1 || ll[0] != "fe80::ff:fe00:1/64" {
		t.Errorf("eth0 addresses after up: %v, want [fe80::ff:fe00:1/64]", ll)
	}
	if l, _ := netdev.LinkByIndex(s, eth); l.Flags&linux.IFF_UP == 0 {
		t.Errorf("eth0 not up: %#x", l.Flags)
	}
	if err := s.SetLinkUp(42, true); !errors.Is(err, linux.ENODEV) {
		t.Errorf("unknown link: %v", err)
	}
	if err := s.SetLinkMTU(eth, 10); !errors.Is(err, linux.EINVAL) {
		t.Errorf("tiny MTU: %v", err)
	}
}

// blockingLink is a link whose device writes wait until release is
// closed, as a write to a busy TAP makes the writer wait.
type blockingLink struct {
	*channel.Endpoint
	release chan struct{}
}

func (l *blockingLink) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	<-l.release
	return pkts.Len(), nil
}

// TestEthernetSendsDoNotWaitForTheDevice: a packet sent on an Ethernet
// link is queued for the device, so that the sender does not wait for the
// device write (the host's whole receive path, for a TAP).
func TestEthernetSendsDoNotWaitForTheDevice(t *testing.T) {
	st := newLoopbackStack(t)
	l := &blockingLink{Endpoint: channel.New(16, 1500, "\x02\x00\x00\x00\x00\x01"), release: make(chan struct{})}
	idx, err := st.AttachEthernet("eth0", l, []byte{2, 0, 0, 0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	defer close(l.release) // before the stack closes (cleanups run last)
	if err := st.SetLinkUp(idx, true); err != nil {
		t.Fatal(err)
	}
	if err := st.AddAddr(netdev.Addr{LinkIndex: idx, Prefix: netip.MustParsePrefix("10.98.0.1/24")}); err != nil {
		t.Fatal(err)
	}
	s := newTestSocket(t, st, linux.SOCK_DGRAM)
	ctx := testCtx{vfstest.Root()}
	to := []byte{linux.AF_INET, 0, 0, 9, 10, 98, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}
	done := make(chan error, 1)
	go func() {
		_, err := s.SendMsg(ctx, &socket.SendRequest{Data: []byte("hello"), To: to})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sendto waited for the device write")
	}
}
