package netdev_test

import (
	"errors"
	"testing"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs/vfstest"
	"uk/net/netdev"
)

// ioctlCmds are the commands FuzzIoctl exercises.
var ioctlCmds = []uint32{
	linux.SIOCGIFNAME, linux.SIOCGIFINDEX, linux.SIOCGIFFLAGS, linux.SIOCSIFFLAGS,
	linux.SIOCGIFMTU, linux.SIOCSIFMTU, linux.SIOCGIFHWADDR, linux.SIOCGIFTXQLEN,
	linux.SIOCGIFMETRIC, linux.SIOCGIFMAP, linux.SIOCGIFADDR, linux.SIOCSIFADDR,
	linux.SIOCGIFNETMASK, linux.SIOCSIFNETMASK, linux.SIOCGIFBRDADDR, linux.SIOCSIFBRDADDR,
	linux.SIOCGIFDSTADDR, linux.SIOCGIFCONF,
}

// FuzzIoctl runs every interface ioctl as root on an arbitrary struct
// ifreq (or struct ifconf) and checks that it fails only with an errno and
// leaves the table consistent: every address on an existing interface.
func FuzzIoctl(f *testing.F) {
	f.Add(uint8(0), ifr("eth0"))
	f.Add(uint8(11), ifr("eth0", sin("192.168.1.1")...))
	f.Add(uint8(13), ifr("eth0", sin("255.255.0.0")...))
	f.Add(uint8(17), append([]byte{0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0}, make([]byte, 24)...))
	f.Fuzz(func(t *testing.T, which uint8, req []byte) {
		cmd := ioctlCmds[int(which)%len(ioctlCmds)]
		tb := newTable()
		ctx := vfstest.Root()
		if len(req) > netdev.IfreqSize {
			req = req[:netdev.IfreqSize]
		}
		if cmd == linux.SIOCGIFCONF && len(req) >= 16 {
			// Keep ifc_buf inside the fake memory's valid range.
			req[8], req[9], req[10], req[11] = 0, 0, 2, 0
			clear(req[12:16])
		}
		if err := ctx.CopyOut(reqAddr, req); err != nil {
			t.Fatal(err)
		}
		_, err := netdev.Ioctl(tb, ctx, cmd, reqAddr)
		var errno linux.Errno
		if err != nil && !errors.As(err, &errno) {
			t.Fatalf("non-errno error %v", err)
		}
		for _, a := range tb.Addrs() {
			if _, ok := netdev.LinkByIndex(tb, a.LinkIndex); !ok || !a.Prefix.IsValid() {
				t.Fatalf("bad address %+v", a)
			}
		}
	})
}
