package netdev

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Layouts of the ioctl arguments on x86-64.
const (
	// IfreqSize is sizeof(struct ifreq): a 16-byte name and a 24-byte
	// union (a struct sockaddr, a short of flags, an int, struct ifmap).
	IfreqSize = 40
	// IfconfSize is sizeof(struct ifconf): int ifc_len, padding, and the
	// ifc_buf pointer.
	IfconfSize = 16
	ifnamsiz   = unix.IFNAMSIZ
)

// txQueueLen is the transmit queue length every interface reports
// (SIOCGIFTXQLEN), as rtnetlink's IFLA_TXQLEN does.
const txQueueLen = 1000

// inetOnly are the commands Linux answers only on AF_INET sockets
// (devinet_ioctl); other families fall through to dev_ioctl, which does
// not know them and returns ENOTTY.
var inetOnly = map[uint32]bool{
	unix.SIOCGIFADDR: true, unix.SIOCSIFADDR: true,
	unix.SIOCGIFNETMASK: true, unix.SIOCSIFNETMASK: true,
	unix.SIOCGIFBRDADDR: true, unix.SIOCSIFBRDADDR: true,
	unix.SIOCGIFDSTADDR: true,
}

// InetOnly reports whether Linux answers cmd only on AF_INET sockets: a
// caller serving another family should return ENOTTY for it instead of
// calling Ioctl.
func InetOnly(cmd uint32) bool { return inetOnly[cmd] }

// Ioctl performs the interface ioctls (SIOCGIF*, SIOCSIF*) that Linux's
// sock_ioctl hands to dev_ioctl and devinet_ioctl, against t. arg is the
// address of the caller's struct ifreq (struct ifconf for SIOCGIFCONF),
// read and written with ctx.CopyIn/CopyOut (EFAULT). Errors are those of
// Linux: ENODEV for an unknown interface name or index, EADDRNOTAVAIL when
// the interface has no IPv4 address to report or change, EPERM for
// changes without privilege, EINVAL for malformed values, and ENOTTY for
// commands this does not implement (the caller may try others).
func Ioctl(t Table, ctx vfs.Context, cmd uint32, arg uint64) (uintptr, error) {
	switch cmd {
	case unix.SIOCGIFCONF:
		return 0, ifconf(t, ctx, arg)
	case unix.SIOCGIFNAME, unix.SIOCGIFINDEX, unix.SIOCGIFFLAGS, unix.SIOCSIFFLAGS,
		unix.SIOCGIFMTU, unix.SIOCSIFMTU, unix.SIOCGIFHWADDR, unix.SIOCGIFTXQLEN,
		unix.SIOCGIFMETRIC, unix.SIOCGIFMAP:
	default:
		if !inetOnly[cmd] {
			return 0, unix.ENOTTY
		}
	}
	var ifr ifreq
	if err := ctx.CopyIn(arg, ifr[:]); err != nil {
		return 0, err
	}
	set := false
	switch cmd {
	case unix.SIOCSIFFLAGS, unix.SIOCSIFMTU, unix.SIOCSIFADDR, unix.SIOCSIFNETMASK, unix.SIOCSIFBRDADDR:
		set = true
		if !ctx.Credentials().Privileged {
			return 0, unix.EPERM
		}
	}
	var err error
	if inetOnly[cmd] {
		err = inetIoctl(t, cmd, &ifr)
	} else {
		err = devIoctl(t, cmd, &ifr)
	}
	if err != nil {
		return 0, err
	}
	if set {
		return 0, nil // Linux copies the ifreq back only for queries
	}
	return 0, ctx.CopyOut(arg, ifr[:])
}

// ifreq is struct ifreq as bytes.
type ifreq [IfreqSize]byte

// name is ifr_name up to its NUL (the last byte is ignored, as Linux
// forces it to NUL).
func (r *ifreq) name() string {
	n := r[:ifnamsiz-1]
	if i := bytes.IndexByte(n, 0); i >= 0 {
		n = n[:i]
	}
	return string(n)
}

func (r *ifreq) setName(s string) {
	clear(r[:ifnamsiz])
	copy(r[:ifnamsiz-1], s)
}

// union is the 24 bytes after the name.
func (r *ifreq) union() []byte { return r[ifnamsiz:] }

func (r *ifreq) int32() int32 { return int32(binary.LittleEndian.Uint32(r.union())) }

func (r *ifreq) setInt32(v int32) { binary.LittleEndian.PutUint32(r.union(), uint32(v)) }

// sockaddrIn reads ifr_addr as struct sockaddr_in: family and address.
func (r *ifreq) sockaddrIn() (uint16, netip.Addr) {
	u := r.union()
	return binary.LittleEndian.Uint16(u), netip.AddrFrom4([4]byte(u[4:8]))
}

// setSockaddrIn writes ifr_addr as an AF_INET struct sockaddr_in with port
// 0 and zero padding.
func (r *ifreq) setSockaddrIn(a netip.Addr) {
	u := r.union()
	clear(u[:16])
	binary.LittleEndian.PutUint16(u, unix.AF_INET)
	if a.Is4() {
		b := a.As4()
		copy(u[4:8], b[:])
	}
}

// devName strips an alias suffix ("eth0:1" names eth0), as dev_ioctl and
// devinet_ioctl do before looking the device up.
func devName(name string) string {
	if i := bytes.IndexByte([]byte(name), ':'); i >= 0 {
		return name[:i]
	}
	return name
}

// devIoctl is dev_ioctl's part: the commands that need only the link.
func devIoctl(t Table, cmd uint32, r *ifreq) error {
	if cmd == unix.SIOCGIFNAME {
		l, ok := LinkByIndex(t, r.int32())
		if !ok {
			return unix.ENODEV
		}
		r.setName(l.Name)
		return nil
	}
	l, ok := LinkByName(t, devName(r.name()))
	if !ok {
		return unix.ENODEV
	}
	u := r.union()
	switch cmd {
	case unix.SIOCGIFINDEX:
		r.setInt32(l.Index)
	case unix.SIOCGIFFLAGS:
		// ifr_flags is a short: IFF_LOWER_UP and above do not fit.
		binary.LittleEndian.PutUint16(u, uint16(l.Flags))
	case unix.SIOCSIFFLAGS:
		want := uint32(binary.LittleEndian.Uint16(u))
		if (want^l.Flags)&unix.IFF_UP != 0 {
			return t.SetLinkUp(l.Index, want&unix.IFF_UP != 0)
		}
	case unix.SIOCGIFMTU:
		r.setInt32(int32(l.MTU))
	case unix.SIOCSIFMTU:
		mtu := r.int32()
		if mtu < 0 {
			return unix.EINVAL
		}
		if uint32(mtu) != l.MTU {
			return t.SetLinkMTU(l.Index, uint32(mtu))
		}
	case unix.SIOCGIFHWADDR:
		// struct sockaddr with sa_family = the ARPHRD type and up to 14
		// bytes of hardware address.
		clear(u[:16])
		binary.LittleEndian.PutUint16(u, l.Type)
		copy(u[2:16], l.HWAddr)
	case unix.SIOCGIFTXQLEN:
		r.setInt32(txQueueLen)
	case unix.SIOCGIFMETRIC:
		r.setInt32(0)
	case unix.SIOCGIFMAP:
		clear(u) // struct ifmap: no memory, I/O base, IRQ or DMA
	}
	return nil
}

// ipv4Addrs are the IPv4 addresses of a link, in the table's order.
func ipv4Addrs(t Table, index int32) []Addr {
	var as []Addr
	for _, a := range t.Addrs() {
		if a.LinkIndex == index && a.Prefix.Addr().Is4() {
			as = append(as, a)
		}
	}
	return as
}

// maskOf is the IPv4 netmask of a prefix length.
func maskOf(bits int) netip.Addr {
	m := ^uint32(0) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, m)))
}

// broadcastOf is the directed broadcast address of a prefix.
func broadcastOf(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) | ^uint32(0)>>p.Bits()
	if p.Bits() == 0 {
		v = ^uint32(0)
	}
	return netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, v)))
}

// classfulLen is inet_abc_len: the prefix length SIOCSIFADDR gives an
// address (by its old class), or -1 for multicast addresses.
func classfulLen(a netip.Addr) int {
	b := a.As4()
	v := binary.BigEndian.Uint32(b[:])
	switch {
	case b[0] == 0 || v == 0xffffffff:
		return 0
	case v>>31 == 0:
		return 8
	case v>>30 == 2:
		return 16
	case v>>29 == 6:
		return 24
	case v>>28 == 15:
		return 32
	}
	return -1
}

// maskLen returns the prefix length of a contiguous netmask (bad_mask).
func maskLen(m netip.Addr) (int, bool) {
	b := m.As4()
	inv := ^binary.BigEndian.Uint32(b[:])
	if inv&(inv+1) != 0 {
		return 0, false
	}
	n := 32
	for inv != 0 {
		inv >>= 1
		n--
	}
	return n, true
}

// inetIoctl is devinet_ioctl: the IPv4 address of an interface. With
// several addresses the one whose local address equals the ifr_addr given
// (when it is AF_INET) is used, else the first, as Linux's 4.4BSD-style
// match and its fallback do.
func inetIoctl(t Table, cmd uint32, r *ifreq) error {
	fam, given := r.sockaddrIn()
	switch cmd {
	case unix.SIOCSIFADDR, unix.SIOCSIFNETMASK, unix.SIOCSIFBRDADDR:
		if fam != unix.AF_INET {
			return unix.EINVAL
		}
	}
	name := r.name()
	l, ok := LinkByName(t, devName(name))
	if !ok {
		return unix.ENODEV
	}
	var cur *Addr
	if name == l.Name {
		as := ipv4Addrs(t, l.Index)
		if fam == unix.AF_INET && cmd != unix.SIOCSIFADDR && cmd != unix.SIOCSIFNETMASK && cmd != unix.SIOCSIFBRDADDR {
			for i := range as {
				if as[i].Prefix.Addr() == given {
					cur = &as[i]
					break
				}
			}
		}
		if cur == nil && len(as) > 0 {
			cur = &as[0]
		}
	}
	if cur == nil && cmd != unix.SIOCSIFADDR {
		return unix.EADDRNOTAVAIL
	}
	switch cmd {
	case unix.SIOCGIFADDR, unix.SIOCGIFDSTADDR:
		r.setSockaddrIn(cur.Prefix.Addr())
	case unix.SIOCGIFNETMASK:
		r.setSockaddrIn(maskOf(cur.Prefix.Bits()))
	case unix.SIOCGIFBRDADDR:
		r.setSockaddrIn(cur.Broadcast)
	case unix.SIOCSIFADDR:
		return setAddr(t, l, cur, given)
	case unix.SIOCSIFNETMASK:
		bits, ok := maskLen(given)
		if !ok {
			return unix.EINVAL
		}
		if bits == cur.Prefix.Bits() {
			return nil
		}
		n := *cur
		n.Prefix = netip.PrefixFrom(cur.Prefix.Addr(), bits)
		// A broadcast address derived from the old mask follows the
		// new one; one the user chose stays.
		if l.Flags&unix.IFF_BROADCAST != 0 && bits < 31 && cur.Broadcast == broadcastOf(cur.Prefix) {
			n.Broadcast = broadcastOf(n.Prefix)
		}
		return replaceAddr(t, *cur, n)
	case unix.SIOCSIFBRDADDR:
		if cur.Broadcast == given {
			return nil
		}
		n := *cur
		n.Broadcast = given
		return replaceAddr(t, *cur, n)
	}
	return nil
}

// setAddr is SIOCSIFADDR: the interface's (first) IPv4 address becomes a,
// with its classful prefix length and broadcast address; 0.0.0.0 removes
// the address.
func setAddr(t Table, l Link, cur *Addr, a netip.Addr) error {
	bits := classfulLen(a)
	if bits < 0 {
		return unix.EINVAL
	}
	if cur != nil && cur.Prefix.Addr() == a {
		return nil
	}
	n := Addr{LinkIndex: l.Index, Prefix: netip.PrefixFrom(a, bits), Scope: unix.RT_SCOPE_UNIVERSE,
		Flags: unix.IFA_F_PERMANENT}
	if a.IsLoopback() {
		n.Scope = unix.RT_SCOPE_HOST
	}
	if l.Flags&unix.IFF_BROADCAST != 0 && bits < 31 {
		n.Broadcast = broadcastOf(n.Prefix)
	}
	if cur != nil {
		if err := t.DelAddr(*cur); err != nil {
			return err
		}
	}
	if a.IsUnspecified() {
		return nil
	}
	return t.AddAddr(n)
}

// replaceAddr swaps an address for an updated copy, restoring the old one
// if the table refuses the new one.
func replaceAddr(t Table, old, n Addr) error {
	if err := t.DelAddr(old); err != nil {
		return err
	}
	if err := t.AddAddr(n); err != nil {
		_ = t.AddAddr(old)
		return err
	}
	return nil
}

// ifconf is SIOCGIFCONF (dev_ifconf with inet_gifconf): one struct ifreq
// per IPv4 address, named by its interface and holding the address as a
// struct sockaddr_in, for as many as fit in ifc_len bytes; with a NULL
// ifc_buf only the length needed. ifc_len returns the bytes used.
func ifconf(t Table, ctx vfs.Context, arg uint64) error {
	var ifc [IfconfSize]byte
	if err := ctx.CopyIn(arg, ifc[:]); err != nil {
		return err
	}
	room := int64(int32(binary.LittleEndian.Uint32(ifc[:])))
	buf := binary.LittleEndian.Uint64(ifc[8:])
	total := int64(0)
	for _, l := range t.Links() {
		for _, a := range ipv4Addrs(t, l.Index) {
			if buf == 0 {
				total += IfreqSize
				continue
			}
			if room-total < IfreqSize {
				break
			}
			var r ifreq
			r.setName(l.Name)
			r.setSockaddrIn(a.Prefix.Addr())
			if err := ctx.CopyOut(buf+uint64(total), r[:]); err != nil {
				return err
			}
			total += IfreqSize
		}
	}
	binary.LittleEndian.PutUint32(ifc[:], uint32(total))
	return ctx.CopyOut(arg, ifc[:])
}
