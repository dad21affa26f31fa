package netlink

import (
	"encoding/binary"

	linux "golang.org/x/sys/unix"

	"uk/net/netdev"
)

// RFC 2863 operational states (IF_OPER_*).
const (
	operUnknown = 0
	operDown    = 2
	operUp      = 6
)

// Fixed link properties the sandbox's interfaces report as a virtual
// Linux device does.
const (
	txQueueLen = 1000
	gsoMaxSegs = 65535
	gsoMaxSize = 65536
	groMaxSize = 65536
	tsoMaxSize = 524280
	tsoMaxSegs = 65535
	ethMinMTU  = 68
	ethMaxMTU  = 65535
	altNameMax = 127 // ALTIFNAMSIZ - 1
)

// linkMsg encodes an interface as rtnl_fill_ifinfo does: struct ifinfomsg
// then the attributes in Linux's order.
func linkMsg(c *call, l netdev.Link, flags uint16) []byte {
	m := c.newMsg(linux.RTM_NEWLINK, flags)
	hdr := make([]byte, ifinfoLen)
	hdr[0] = linux.AF_UNSPEC
	binary.LittleEndian.PutUint16(hdr[2:], l.Type)
	binary.LittleEndian.PutUint32(hdr[4:], uint32(l.Index))
	binary.LittleEndian.PutUint32(hdr[8:], l.Flags)
	m.raw(hdr)

	loopback := l.Flags&linux.IFF_LOOPBACK != 0
	up := l.Flags&linux.IFF_UP != 0
	carrier := loopback || l.Flags&linux.IFF_LOWER_UP != 0 || l.Flags&linux.IFF_RUNNING != 0
	oper := uint8(operDown)
	switch {
	case up && loopback:
		oper = operUnknown
	case up && carrier:
		oper = operUp
	}
	var minMTU, maxMTU uint32
	if !loopback {
		minMTU, maxMTU = ethMinMTU, ethMaxMTU
	}

	m.str(linux.IFLA_IFNAME, l.Name)
	m.u32(linux.IFLA_TXQLEN, txQueueLen)
	m.u8(linux.IFLA_OPERSTATE, oper)
	m.u8(linux.IFLA_LINKMODE, 0)
	m.u32(linux.IFLA_MTU, l.MTU)
	m.u32(linux.IFLA_MIN_MTU, minMTU)
	m.u32(linux.IFLA_MAX_MTU, maxMTU)
	m.u32(linux.IFLA_GROUP, 0)
	m.u32(linux.IFLA_PROMISCUITY, 0)
	m.u32(linux.IFLA_ALLMULTI, 0)
	m.u32(linux.IFLA_NUM_TX_QUEUES, 1)
	m.u32(linux.IFLA_GSO_MAX_SEGS, gsoMaxSegs)
	m.u32(linux.IFLA_GSO_MAX_SIZE, gsoMaxSize)
	m.u32(linux.IFLA_GRO_MAX_SIZE, groMaxSize)
	m.u32(linux.IFLA_TSO_MAX_SIZE, tsoMaxSize)
	m.u32(linux.IFLA_TSO_MAX_SEGS, tsoMaxSegs)
	m.u32(linux.IFLA_NUM_RX_QUEUES, 1)
	m.u8(linux.IFLA_CARRIER, b2u8(carrier))
	m.u32(linux.IFLA_CARRIER_CHANGES, 0)
	m.u32(linux.IFLA_CARRIER_UP_COUNT, 0)
	m.u32(linux.IFLA_CARRIER_DOWN_COUNT, 0)
	m.u8(linux.IFLA_PROTO_DOWN, 0)
	if len(l.HWAddr) > 0 {
		m.attr(linux.IFLA_ADDRESS, l.HWAddr)
		brd := make([]byte, len(l.HWAddr))
		if l.Type == linux.ARPHRD_ETHER {
			for i := range brd {
				brd[i] = 0xff
			}
		}
		m.attr(linux.IFLA_BROADCAST, brd)
	}
	m.attr(linux.IFLA_STATS64, stats64(l.Stats))
	m.attr(linux.IFLA_STATS, stats32(l.Stats))
	x := m.nest(linux.IFLA_XDP)
	m.u8(linux.IFLA_XDP_ATTACHED, 0)
	m.end(x)
	qdisc := "pfifo_fast"
	if loopback {
		qdisc = "noqueue"
	}
	m.str(linux.IFLA_QDISC, qdisc)
	return m.bytes()
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// statsWords are the counters in the order of struct rtnl_link_stats64
// (and rtnl_link_stats): the eight the table keeps, then zeros up to the
// structure's 25 (24) fields.
func statsWords(st netdev.Stats) []uint64 {
	w := make([]uint64, 25)
	copy(w, []uint64{st.RxPackets, st.TxPackets, st.RxBytes, st.TxBytes,
		st.RxErrors, st.TxErrors, st.RxDropped, st.TxDropped})
	return w
}

// stats64 is struct rtnl_link_stats64 (200 bytes).
func stats64(st netdev.Stats) []byte {
	var b []byte
	for _, v := range statsWords(st) {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// stats32 is struct rtnl_link_stats (96 bytes; counters wrap at 32 bits).
func stats32(st netdev.Stats) []byte {
	var b []byte
	for _, v := range statsWords(st)[:24] {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b
}

// ifinfo is the decoded struct ifinfomsg of a request.
type ifinfo struct {
	index  int32
	flags  uint32
	change uint32
}

// parseIfinfo decodes a request's ifinfomsg and attributes (EINVAL when
// the header is short).
func parseIfinfo(payload []byte) (ifinfo, attrs, error) {
	if len(payload) < ifinfoLen {
		return ifinfo{}, nil, linux.EINVAL
	}
	h := ifinfo{
		index:  int32(binary.LittleEndian.Uint32(payload[4:])),
		flags:  binary.LittleEndian.Uint32(payload[8:]),
		change: binary.LittleEndian.Uint32(payload[12:]),
	}
	return h, parseAttrs(payload[ifinfoLen:]), nil
}

// findLink resolves the interface a link request names: ifi_index when
// positive, else IFLA_IFNAME or IFLA_ALT_IFNAME. named is false when the
// request names none.
func (c *call) findLink(h ifinfo, as attrs) (l netdev.Link, named bool, err error) {
	if h.index > 0 {
		l, ok := netdev.LinkByIndex(c.p.table, h.index)
		if !ok {
			return l, true, linux.ENODEV
		}
		return l, true, nil
	}
	name, present, err := as.str(linux.IFLA_IFNAME, linux.IFNAMSIZ-1)
	if err == nil && !present {
		name, present, err = as.str(linux.IFLA_ALT_IFNAME, altNameMax)
	}
	if err != nil {
		return l, true, err
	}
	if present {
		l, ok := netdev.LinkByName(c.p.table, name)
		if !ok {
			return l, true, linux.ENODEV
		}
		return l, true, nil
	}
	return l, false, nil
}

// getLink is rtnl_getlink: one interface by index or name.
func (c *call) getLink() ([][]byte, error) {
	h, as, err := parseIfinfo(c.req.Payload)
	if err != nil {
		return nil, err
	}
	l, named, err := c.findLink(h, as)
	if err != nil {
		return nil, err
	}
	if !named {
		return nil, linux.EINVAL
	}
	return [][]byte{linkMsg(c, l, 0)}, nil
}

// dumpLinks is rtnl_dump_ifinfo: every interface in index order. A request
// may carry only struct rtgenmsg (Go's syscall.NetlinkRIB sends that).
func (c *call) dumpLinks() ([][]byte, error) {
	if c.strict && len(c.req.Payload) < ifinfoLen {
		return nil, linux.EINVAL
	}
	var out [][]byte
	for _, l := range c.p.table.Links() {
		out = append(out, linkMsg(c, l, c.multi()))
	}
	return out, nil
}

// setLink is rtnl_newlink and rtnl_setlink on an existing interface:
// IFF_UP through ifi_flags/ifi_change and IFLA_MTU. Creating interfaces
// is not supported (EOPNOTSUPP).
func (c *call) setLink() ([][]byte, error) {
	h, as, err := parseIfinfo(c.req.Payload)
	if err != nil {
		return nil, err
	}
	l, named, err := c.findLink(h, as)
	isNew := c.req.Type == linux.RTM_NEWLINK
	switch {
	case err != nil && err != linux.ENODEV:
		return nil, err
	case !named && !isNew:
		return nil, linux.EINVAL
	case err != nil || !named:
		if isNew && c.req.Flags&linux.NLM_F_CREATE != 0 {
			return nil, linux.EOPNOTSUPP
		}
		return nil, linux.ENODEV
	}
	if isNew {
		if c.req.Flags&linux.NLM_F_EXCL != 0 {
			return nil, linux.EEXIST
		}
		if c.req.Flags&linux.NLM_F_REPLACE != 0 {
			return nil, linux.EOPNOTSUPP
		}
	}
	mtu, hasMTU, err := as.u32(linux.IFLA_MTU)
	if err != nil {
		return nil, err
	}
	if h.index > 0 {
		if name, present, err := as.str(linux.IFLA_IFNAME, linux.IFNAMSIZ-1); err != nil {
			return nil, err
		} else if present && name != l.Name {
			return nil, linux.EOPNOTSUPP // renaming
		}
	}
	if hw, ok := as[linux.IFLA_ADDRESS]; ok && string(hw) != string(l.HWAddr) {
		return nil, linux.EOPNOTSUPP
	}
	if hasMTU && mtu != l.MTU {
		if err := c.p.table.SetLinkMTU(l.Index, mtu); err != nil {
			return nil, err
		}
	}
	if h.flags != 0 || h.change != 0 {
		// rtnl_dev_combine_flags: ifi_change selects the bits to take
		// from ifi_flags; zero means all of them.
		want := h.flags
		if h.change != 0 {
			want = l.Flags&^h.change | h.flags&h.change
		}
		if (want^l.Flags)&linux.IFF_UP != 0 {
			if err := c.p.table.SetLinkUp(l.Index, want&linux.IFF_UP != 0); err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}

// delLink is rtnl_dellink: the sandbox's interfaces cannot be deleted.
func (c *call) delLink() ([][]byte, error) {
	h, as, err := parseIfinfo(c.req.Payload)
	if err != nil {
		return nil, err
	}
	_, named, err := c.findLink(h, as)
	if err != nil {
		return nil, err
	}
	if !named {
		return nil, linux.EINVAL
	}
	return nil, linux.EOPNOTSUPP
}
