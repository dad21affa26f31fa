package proc

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/net/netdev"
)

// netDir is /proc/PID/net (and /proc/net through the self link): the
// interface counters, the IPv4 routing table and the IPv6 addresses, in
// the formats ifconfig, route and netstat parse, and the socket tables
// (tcp, tcp6, udp, udp6, unix).
func (fs *FS) netDir(path string, owner func() (uint32, uint32)) vfs.Inode {
	f := func(name string, g func(vfs.Context) string) entry {
		return entry{name, func() vfs.Inode {
			n := fs.newFile(path+"/"+name, 0o444, text(g))
			n.owner = owner
			return n
		}}
	}
	d := fs.newDir(path, 0o555, []entry{
		f("dev", fs.netDev),
		f("route", fs.netRoute),
		f("if_inet6", fs.netIfInet6),
		f("unix", fs.netUnix),
		f("tcp", fs.netInet(unix.AF_INET, unix.IPPROTO_TCP)),
		f("tcp6", fs.netInet(unix.AF_INET6, unix.IPPROTO_TCP)),
		f("udp", fs.netInet(unix.AF_INET, unix.IPPROTO_UDP)),
		f("udp6", fs.netInet(unix.AF_INET6, unix.IPPROTO_UDP)),
	})
	d.owner = owner
	return d
}

// netUnix is /proc/net/unix, as Linux's unix_seq_show prints it. Num,
// the socket's kernel address, is zeros, as Linux shows it to a reader
// kptr_restrict keeps from kernel addresses; RefCount is the description
// and the table.
func (fs *FS) netUnix(ctx vfs.Context) string {
	var b strings.Builder
	b.WriteString("Num       RefCount Protocol Flags    Type St Inode Path\n")
	for _, s := range fs.k.UnixSockets(ctx) {
		flags := 0
		if s.Listening {
			flags = 1 << 16 // __SO_ACCEPTCON
		}
		fmt.Fprintf(&b, "%016x: %08X %08X %08X %04X %02X %5d", 0, 2, 0, flags, s.Type, s.State, s.Inode)
		if !s.Addr.Unnamed() {
			b.WriteByte(' ')
			name := s.Addr.Name
			if s.Addr.Abstract {
				// The leading NUL, and any inside the name, print as '@'.
				name = "@" + strings.ReplaceAll(name, "\x00", "@")
			}
			b.WriteString(name)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// netInet is /proc/net/tcp, tcp6, udp or udp6, as Linux's tcp4_seq_show,
// tcp6_seq_show, udp4_seq_show and udp6_seq_show print them: the IPv4
// files' lines padded with spaces to a fixed width, kernel addresses as
// zeros, and the fields uk does not keep (timers, retransmits, probes,
// the delayed-ACK state, UDP drops) as 0.
func (fs *FS) netInet(family, protocol int) func(vfs.Context) string {
	tcp := protocol == unix.IPPROTO_TCP
	var header string
	var width int // the IPv4 files' fixed line width, without the newline
	switch {
	case tcp && family == unix.AF_INET:
		header, width = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", 149
	case tcp:
		header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
	case family == unix.AF_INET:
		header, width = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops", 127
	default:
		header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops"
	}
	return func(ctx vfs.Context) string {
		var b strings.Builder
		line := func(s string) {
			b.WriteString(s)
			for n := len(s); n < width; n++ {
				b.WriteByte(' ')
			}
			b.WriteByte('\n')
		}
		line(header)
		for i, s := range fs.k.InetSockets(ctx, family, protocol) {
			slot := fmt.Sprintf("%4d", i)
			if !tcp && family == unix.AF_INET {
				slot = fmt.Sprintf("%5d", i)
			}
			row := fmt.Sprintf("%s: %s %s %02X %08X:%08X 00:00000000 00000000 %5d %8d %d",
				slot, inetAddr(s.Local), inetAddr(s.Remote), s.State, s.TxQueue, s.RxQueue, s.UID, 0, s.Inode)
			switch {
			case tcp && s.Inode == 0: // a time-wait record
				row += " 1 0000000000000000"
			case tcp:
				row += fmt.Sprintf(" 1 0000000000000000 %d 0 0 %d %d", s.RTO, s.Cwnd, s.Ssthresh)
			default:
				row += " 2 0000000000000000 0"
			}
			line(row)
		}
		return b.String()
	}
}

// inetAddr prints an address and port as /proc/net's tables do: each
// 32-bit word of the address in network byte order read as a
// little-endian number, in hex, and the port.
func inetAddr(ap netip.AddrPort) string {
	var raw []byte
	if a := ap.Addr(); a.Is4() {
		b := a.As4()
		raw = b[:]
	} else {
		b := a.As16()
		raw = b[:]
	}
	var b strings.Builder
	for i := 0; i+4 <= len(raw); i += 4 {
		fmt.Fprintf(&b, "%08X", binary.LittleEndian.Uint32(raw[i:]))
	}
	fmt.Fprintf(&b, ":%04X", ap.Port())
	return b.String()
}

// table is the interface table of the reader's network namespace, or nil
// without a network.
func (fs *FS) table(ctx vfs.Context) netdev.Table {
	return fs.k.Interfaces(ctx)
}

// netDev is /proc/net/dev.
func (fs *FS) netDev(ctx vfs.Context) string {
	var b strings.Builder
	b.WriteString("Inter-|   Receive                                                |  Transmit\n")
	b.WriteString(" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
	if t := fs.table(ctx); t != nil {
		for _, l := range t.Links() {
			s := l.Stats
			fmt.Fprintf(&b, "%6s: %7d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n",
				l.Name, s.RxBytes, s.RxPackets, s.RxErrors, s.RxDropped, 0, 0, 0, 0,
				s.TxBytes, s.TxPackets, s.TxErrors, s.TxDropped, 0, 0, 0, 0)
		}
	}
	return b.String()
}

// netRoute is /proc/net/route: the IPv4 main table, addresses in host
// (little-endian) byte order as Linux prints them.
func (fs *FS) netRoute(ctx vfs.Context) string {
	var b strings.Builder
	b.WriteString("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n")
	t := fs.table(ctx)
	if t == nil {
		return b.String()
	}
	names := map[int32]string{}
	for _, l := range t.Links() {
		names[l.Index] = l.Name
	}
	for _, r := range t.Routes() {
		if !r.Dst.Addr().Is4() {
			continue
		}
		flags := 0x1 // RTF_UP
		gw := uint32(0)
		if r.Gateway.IsValid() {
			flags |= 0x2 // RTF_GATEWAY
			gw = le32(r.Gateway.As4())
		}
		if r.Dst.Bits() == 32 {
			flags |= 0x4 // RTF_HOST
		}
		mask := uint32(0)
		if r.Dst.Bits() > 0 {
			m := ^uint32(0) << (32 - r.Dst.Bits())
			mask = le32([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
		}
		fmt.Fprintf(&b, "%s\t%08X\t%08X\t%04X\t%d\t%d\t%d\t%08X\t%d\t%d\t%d\n",
			names[r.LinkIndex], le32(r.Dst.Addr().As4()), gw, flags, 0, 0, r.Metric, mask, 0, 0, 0)
	}
	return b.String()
}

func le32(a [4]byte) uint32 {
	return uint32(a[0]) | uint32(a[1])<<8 | uint32(a[2])<<16 | uint32(a[3])<<24
}

// netIfInet6 is /proc/net/if_inet6: address, index, prefix, scope, flags,
// name.
func (fs *FS) netIfInet6(ctx vfs.Context) string {
	var b strings.Builder
	t := fs.table(ctx)
	if t == nil {
		return ""
	}
	names := map[int32]string{}
	for _, l := range t.Links() {
		names[l.Index] = l.Name
	}
	for _, a := range t.Addrs() {
		if !a.Prefix.Addr().Is6() {
			continue
		}
		raw := a.Prefix.Addr().As16()
		scope := 0
		switch {
		case a.Prefix.Addr().IsLoopback():
			scope = 0x10
		case a.Prefix.Addr().IsLinkLocalUnicast():
			scope = 0x20
		}
		fmt.Fprintf(&b, "%x %02x %02x %02x %02x %8s\n", raw[:], a.LinkIndex, a.Prefix.Bits(), scope, 0x80, names[a.LinkIndex])
	}
	return b.String()
}
