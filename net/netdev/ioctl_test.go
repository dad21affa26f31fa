package netdev_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs/vfstest"
	"uk/net/netdev"
	"uk/net/netdev/netdevtest"
)

const reqAddr = 0x10000

// ifr builds a struct ifreq with a name and union bytes.
func ifr(name string, union ...byte) []byte {
	b := make([]byte, netdev.IfreqSize)
	copy(b, name)
	copy(b[16:], union)
	return b
}

func sin(a string) []byte {
	b := []byte{linux.AF_INET, 0, 0, 0}
	ip := netip.MustParseAddr(a).As4()
	return append(b, ip[:]...)
}

func i32(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

// do runs an ioctl on an ifreq placed in ctx's memory and returns the
// ifreq afterwards.
func do(t *testing.T, tb netdev.Table, ctx *vfstest.Ctx, cmd uint32, req []byte) ([]byte, error) {
	t.Helper()
	if err := ctx.CopyOut(reqAddr, req); err != nil {
		t.Fatal(err)
	}
	_, err := netdev.Ioctl(tb, ctx, cmd, reqAddr)
	return ctx.Mem(reqAddr, netdev.IfreqSize), err
}

func TestIoctlQueries(t *testing.T) {
	tb := newTable()
	mustAddAddr(t, tb, netdev.Addr{LinkIndex: 2, Prefix: pfx("10.0.3.15/16"), Broadcast: ip("10.0.255.255")})
	ctx := vfstest.User(1000, 1000)
	for _, tc := range []struct {
		name  string
		cmd   uint32
		req   []byte
		want  []byte // the union after the call (compared over its length)
		err   error
		wname string
	}{
		{"index", linux.SIOCGIFINDEX, ifr("eth0"), i32(2), nil, ""},
		{"index alias", linux.SIOCGIFINDEX, ifr("eth0:1"), i32(2), nil, ""},
		{"index unknown", linux.SIOCGIFINDEX, ifr("wlan0"), nil, linux.ENODEV, ""},
		{"name", linux.SIOCGIFNAME, ifr("", i32(1)...), nil, nil, "lo"},
		{"name unknown", linux.SIOCGIFNAME, ifr("", i32(7)...), nil, linux.ENODEV, ""},
		{"flags", linux.SIOCGIFFLAGS, ifr("eth0"), []byte{netdevtest.EthFlags & 0xff, netdevtest.EthFlags >> 8 & 0xff}, nil, ""},
		{"mtu", linux.SIOCGIFMTU, ifr("lo"), i32(65536), nil, ""},
		{"txqlen", linux.SIOCGIFTXQLEN, ifr("lo"), i32(1000), nil, ""},
		{"hwaddr", linux.SIOCGIFHWADDR, ifr("eth0"), append([]byte{linux.ARPHRD_ETHER, 0}, append(netdevtest.EthMAC, make([]byte, 8)...)...), nil, ""},
		{"hwaddr lo", linux.SIOCGIFHWADDR, ifr("lo"), append([]byte{byte(linux.ARPHRD_LOOPBACK & 0xff), linux.ARPHRD_LOOPBACK >> 8}, make([]byte, 14)...), nil, ""},
		{"addr", linux.SIOCGIFADDR, ifr("eth0"), append(sin("10.0.2.15"), make([]byte, 8)...), nil, ""},
		{"addr matching", linux.SIOCGIFADDR, ifr("eth0", sin("10.0.3.15")...), sin("10.0.3.15"), nil, ""},
		{"netmask", linux.SIOCGIFNETMASK, ifr("eth0"), sin("255.255.255.0"), nil, ""},
		{"netmask second", linux.SIOCGIFNETMASK, ifr("eth0", sin("10.0.3.15")...), sin("255.255.0.0"), nil, ""},
		{"brdaddr", linux.SIOCGIFBRDADDR, ifr("eth0"), sin("10.0.2.255"), nil, ""},
		{"dstaddr", linux.SIOCGIFDSTADDR, ifr("eth0"), sin("10.0.2.15"), nil, ""},
		{"addr lo", linux.SIOCGIFADDR, ifr("lo"), sin("127.0.0.1"), nil, ""},
		{"addr of alias", linux.SIOCGIFADDR, ifr("eth0:1"), nil, linux.EADDRNOTAVAIL, ""},
		{"addr unknown", linux.SIOCGIFADDR, ifr("wlan0"), nil, linux.ENODEV, ""},
		{"addr none", linux.SIOCGIFADDR, ifr("eth1"), nil, linux.EADDRNOTAVAIL, ""},
		{"unknown command", linux.SIOCGIFPFLAGS, ifr("eth0"), nil, linux.ENOTTY, ""},
		{"tty command", linux.TCGETS, ifr("eth0"), nil, linux.ENOTTY, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := do(t, tb, ctx, tc.cmd, tc.req)
			if err != tc.err {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if tc.want != nil && !bytes.Equal(got[16:16+len(tc.want)], tc.want) {
				t.Errorf("union %x, want %x", got[16:16+len(tc.want)], tc.want)
			}
			if tc.wname != "" && string(bytes.TrimRight(got[:16], "\x00")) != tc.wname {
				t.Errorf("name %q, want %q", got[:16], tc.wname)
			}
		})
	}
	// Bad addresses fault.
	if _, err := netdev.Ioctl(tb, ctx, linux.SIOCGIFINDEX, 0); err != linux.EFAULT {
		t.Errorf("NULL ifreq: %v", err)
	}
	if _, err := netdev.Ioctl(tb, ctx, linux.SIOCGIFCONF, 0); err != linux.EFAULT {
		t.Errorf("NULL ifconf: %v", err)
	}
}

func TestIoctlChanges(t *testing.T) {
	tb := newTable()
	user := vfstest.User(1000, 1000)
	root := vfstest.Root()
	flags := func(f uint16) []byte { return binary.LittleEndian.AppendUint16(nil, f) }
	for _, cmd := range []struct {
		cmd uint32
		req []byte
	}{
		{linux.SIOCSIFFLAGS, ifr("eth0", flags(0)...)},
		{linux.SIOCSIFMTU, ifr("eth0", i32(1400)...)},
		{linux.SIOCSIFADDR, ifr("eth0", sin("10.0.2.16")...)},
		{linux.SIOCSIFNETMASK, ifr("eth0", sin("255.255.0.0")...)},
	} {
		if _, err := do(t, tb, user, cmd.cmd, cmd.req); err != linux.EPERM {
			t.Errorf("unprivileged %#x: %v", cmd.cmd, err)
		}
	}
	if _, err := do(t, tb, root, linux.SIOCSIFFLAGS, ifr("eth0", flags(linux.IFF_BROADCAST)...)); err != nil {
		t.Fatal(err)
	}
	if l, _ := netdev.LinkByName(tb, "eth0"); l.Flags&linux.IFF_UP != 0 {
		t.Errorf("eth0 up after SIOCSIFFLAGS without IFF_UP")
	}
	if _, err := do(t, tb, root, linux.SIOCSIFFLAGS, ifr("eth0", flags(linux.IFF_UP|linux.IFF_BROADCAST)...)); err != nil {
		t.Fatal(err)
	}
	if l, _ := netdev.LinkByName(tb, "eth0"); l.Flags&linux.IFF_UP == 0 {
		t.Errorf("eth0 down after SIOCSIFFLAGS with IFF_UP")
	}
	if _, err := do(t, tb, root, linux.SIOCSIFFLAGS, ifr("eth9", flags(linux.IFF_UP)...)); err != linux.ENODEV {
		t.Errorf("SIOCSIFFLAGS of an unknown interface: %v", err)
	}
	if _, err := do(t, tb, root, linux.SIOCSIFMTU, ifr("eth0", i32(1400)...)); err != nil {
		t.Fatal(err)
	}
	if l, _ := netdev.LinkByName(tb, "eth0"); l.MTU != 1400 {
		t.Errorf("mtu %d", l.MTU)
	}
	for _, bad := range []int32{-1, 10} {
		if _, err := do(t, tb, root, linux.SIOCSIFMTU, ifr("eth0", i32(bad)...)); err != linux.EINVAL {
			t.Errorf("mtu %d: %v", bad, err)
		}
	}
	// A set does not write the ifreq back.
	got, err := do(t, tb, root, linux.SIOCSIFADDR, ifr("eth0", sin("192.168.1.20")...))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, ifr("eth0", sin("192.168.1.20")...)) {
		t.Errorf("SIOCSIFADDR changed the ifreq: %x", got)
	}
	want := netdev.Addr{LinkIndex: 2, Prefix: pfx("192.168.1.20/24"), Broadcast: ip("192.168.1.255"), Flags: linux.IFA_F_PERMANENT}
	if as := netdev.IPv4Addrs(tb, 2); len(as) != 1 || as[0] != want {
		t.Fatalf("after SIOCSIFADDR: %+v", as)
	}
	if _, err := do(t, tb, root, linux.SIOCSIFNETMASK, ifr("eth0", sin("255.255.0.0")...)); err != nil {
		t.Fatal(err)
	}
	want.Prefix, want.Broadcast = pfx("192.168.1.20/16"), ip("192.168.255.255")
	if as := netdev.IPv4Addrs(tb, 2); len(as) != 1 || as[0] != want {
		t.Fatalf("after SIOCSIFNETMASK: %+v", as)
	}
	if _, err := do(t, tb, root, linux.SIOCSIFBRDADDR, ifr("eth0", sin("192.168.1.255")...)); err != nil {
		t.Fatal(err)
	}
	if as := netdev.IPv4Addrs(tb, 2); as[0].Broadcast != ip("192.168.1.255") {
		t.Fatalf("after SIOCSIFBRDADDR: %+v", as)
	}
	for _, tc := range []struct {
		name string
		cmd  uint32
		req  []byte
		err  error
	}{
		{"non-contiguous mask", linux.SIOCSIFNETMASK, ifr("eth0", sin("255.0.255.0")...), linux.EINVAL},
		{"multicast address", linux.SIOCSIFADDR, ifr("eth0", sin("224.0.0.1")...), linux.EINVAL},
		{"wrong family", linux.SIOCSIFADDR, ifr("eth0", 10, 0, 0, 0, 1, 2, 3, 4), linux.EINVAL},
		{"mask without address", linux.SIOCSIFNETMASK, ifr("lo:1", sin("255.0.0.0")...), linux.EADDRNOTAVAIL},
	} {
		if _, err := do(t, tb, root, tc.cmd, tc.req); err != tc.err {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	// 0.0.0.0 removes the address.
	if _, err := do(t, tb, root, linux.SIOCSIFADDR, ifr("eth0", sin("0.0.0.0")...)); err != nil {
		t.Fatal(err)
	}
	if as := netdev.IPv4Addrs(tb, 2); len(as) != 0 {
		t.Errorf("after setting 0.0.0.0: %+v", as)
	}
	if _, err := do(t, tb, root, linux.SIOCGIFADDR, ifr("eth0")); err != linux.EADDRNOTAVAIL {
		t.Errorf("SIOCGIFADDR without an address: %v", err)
	}
	// A class A address gets /8 and its loopback form host scope.
	if _, err := do(t, tb, root, linux.SIOCSIFADDR, ifr("eth1", sin("127.0.0.2")...)); err != nil {
		t.Fatal(err)
	}
	if as := netdev.IPv4Addrs(tb, 3); len(as) != 1 || as[0].Prefix != pfx("127.0.0.2/8") || as[0].Scope != linux.RT_SCOPE_HOST {
		t.Errorf("eth1: %+v", as)
	}
}

func TestIoctlIfconf(t *testing.T) {
	tb := newTable()
	mustAddAddr(t, tb, netdev.Addr{LinkIndex: 2, Prefix: pfx("10.0.3.15/16")})
	ctx := vfstest.User(1000, 1000)
	const confAddr, bufAddr = 0x1000, 0x20000
	ifconfAt := func(n int32, buf uint64) []byte {
		b := binary.LittleEndian.AppendUint32(nil, uint32(n))
		b = append(b, 0, 0, 0, 0)
		return binary.LittleEndian.AppendUint64(b, buf)
	}
	run := func(n int32, buf uint64) int32 {
		t.Helper()
		if err := ctx.CopyOut(confAddr, ifconfAt(n, buf)); err != nil {
			t.Fatal(err)
		}
		if _, err := netdev.Ioctl(tb, ctx, linux.SIOCGIFCONF, confAddr); err != nil {
			t.Fatalf("SIOCGIFCONF: %v", err)
		}
		out := ctx.Mem(confAddr, netdev.IfconfSize)
		if binary.LittleEndian.Uint64(out[8:]) != buf {
			t.Errorf("ifc_buf changed")
		}
		return int32(binary.LittleEndian.Uint32(out))
	}
	if got := run(0, 0); got != 3*netdev.IfreqSize {
		t.Errorf("needed length %d, want three IPv4 addresses", got)
	}
	if got := run(1000, bufAddr); got != 3*netdev.IfreqSize {
		t.Fatalf("filled %d bytes", got)
	}
	want := [][]byte{ifr("lo", sin("127.0.0.1")...), ifr("eth0", sin("10.0.2.15")...), ifr("eth0", sin("10.0.3.15")...)}
	for i, w := range want {
		if got := ctx.Mem(bufAddr+uint64(i*netdev.IfreqSize), netdev.IfreqSize); !bytes.Equal(got, w) {
			t.Errorf("entry %d: %x, want %x", i, got, w)
		}
	}
	if got := run(netdev.IfreqSize*2-1, bufAddr); got != netdev.IfreqSize {
		t.Errorf("room for 1.97 entries filled %d bytes", got)
	}
	if got := run(10, bufAddr); got != 0 {
		t.Errorf("room for no entry filled %d bytes", got)
	}
}
