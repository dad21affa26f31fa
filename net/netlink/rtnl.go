package netlink

import (
	"encoding/binary"
	"errors"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/net/netdev"
)

// Message kinds of rtnetlink types (rtnl_msgtype_kind: the low two bits of
// type - RTM_BASE).
const (
	kindNew = 0
	kindDel = 1
	kindGet = 2
	kindSet = 3
)

// handler answers one rtnetlink request. A "doit" handler returns the
// messages to queue (before the ack); a dump handler returns the parts of
// the dump.
type handler func(c *call) ([][]byte, error)

// call is one rtnetlink request being answered.
type call struct {
	ctx    vfs.Context
	p      *Provider
	req    request
	portid uint32 // the requester, which replies are addressed to
	strict bool   // NETLINK_GET_STRICT_CHK
	// answerFlags are added to every part of a dump and its NLMSG_DONE
	// (NLM_F_DUMP_FILTERED when a strict request's filter applied).
	answerFlags uint16
}

// newMsg starts a reply to the request: its sequence number echoed and
// addressed to the requester's port id.
func (c *call) newMsg(typ, flags uint16) *msg {
	return newMsg(typ, flags, c.req.Seq, c.portid)
}

// rtnetlinkRcv is netlink_rcv_skb with rtnetlink_rcv_msg: each message is
// handled in order; an error, or success when NLM_F_ACK asks for it, is
// answered with NLMSG_ERROR; a dump queues its first part at once.
func (s *Socket) rtnetlinkRcv(ctx vfs.Context, b []byte, portid uint32) {
	s.mu.Lock()
	strict, capAck := s.flags.has(linux.NETLINK_GET_STRICT_CHK), s.flags.has(linux.NETLINK_CAP_ACK)
	s.mu.Unlock()
	for _, r := range splitRequests(b) {
		c := &call{ctx: ctx, p: s.p, req: r, portid: portid, strict: strict}
		var err error
		switch {
		case r.Flags&linux.NLM_F_REQUEST == 0, r.Type < linux.NLMSG_MIN_TYPE:
			// Not a request, or a control message: only acked.
		default:
			var out [][]byte
			var d *dump
			out, d, err = c.dispatch()
			for _, m := range out {
				s.reply(m)
			}
			if d != nil {
				if err = s.startDump(d); err == nil {
					continue // a dump is acked by its NLMSG_DONE
				}
			}
		}
		if err != nil || r.Flags&linux.NLM_F_ACK != 0 {
			s.reply(ackMsg(r, portid, err, capAck))
		}
	}
}

// errnoOf maps a handler's error to the errno of NLMSG_ERROR.
func errnoOf(err error) linux.Errno {
	var e linux.Errno
	if errors.As(err, &e) {
		return e
	}
	return linux.EINVAL
}

// ackMsg is netlink_ack: NLMSG_ERROR carrying -errno and the request's
// header; an error also echoes the request's payload unless
// NETLINK_CAP_ACK is set, and NLM_F_CAPPED marks the reply when the
// payload is left out.
func ackMsg(r request, portid uint32, err error, capAck bool) []byte {
	var flags uint16
	var e int32
	if err != nil {
		e = -int32(errnoOf(err))
	}
	echo := r.Raw
	if err == nil || capAck {
		flags |= linux.NLM_F_CAPPED
		echo = r.Raw[:hdrLen]
	}
	m := newMsg(linux.NLMSG_ERROR, flags, r.Seq, portid)
	m.raw(binary.LittleEndian.AppendUint32(nil, uint32(e)))
	m.raw(echo)
	n := len(m.b)
	for len(m.b)%4 != 0 {
		m.b = append(m.b, 0)
	}
	b := m.bytes()
	// nlmsg_put records the unpadded size; the padding still follows in
	// the datagram (an echoed 17-byte rtgenmsg request gives 37).
	binary.LittleEndian.PutUint32(b, uint32(n))
	return b
}

// multi are the flags of a dump part.
func (c *call) multi() uint16 { return linux.NLM_F_MULTI | c.answerFlags }

// doneMsg is the NLMSG_DONE ending a dump: NLM_F_MULTI and a 4-byte 0.
func (c *call) doneMsg() []byte {
	m := c.newMsg(linux.NLMSG_DONE, c.multi())
	m.raw([]byte{0, 0, 0, 0})
	return m.bytes()
}

// Dumps that the sandbox answers with no entries: neighbours, rules,
// traffic control, netconf and the like, so tools listing them succeed.
var emptyDumps = map[uint16]bool{
	linux.RTM_GETNEIGH:         true,
	linux.RTM_GETRULE:          true,
	linux.RTM_GETQDISC:         true,
	linux.RTM_GETTCLASS:        true,
	linux.RTM_GETTFILTER:       true,
	linux.RTM_GETACTION:        true,
	linux.RTM_GETNEIGHTBL:      true,
	linux.RTM_GETNETCONF:       true,
	linux.RTM_GETMDB:           true,
	linux.RTM_GETNSID:          true,
	linux.RTM_GETADDRLABEL:     true,
	linux.RTM_GETMULTICAST:     true,
	linux.RTM_GETANYCAST:       true,
	linux.RTM_GETSTATS:         true,
	linux.RTM_GETCHAIN:         true,
	linux.RTM_GETNEXTHOP:       true,
	linux.RTM_GETLINKPROP:      true,
	linux.RTM_GETVLAN:          true,
	linux.RTM_GETNEXTHOPBUCKET: true,
}

// dispatch is rtnetlink_rcv_msg: type range, privilege for changes, then
// the dump or "doit" handler of the type.
func (c *call) dispatch() ([][]byte, *dump, error) {
	typ := c.req.Type
	if typ > linux.RTM_MAX {
		return nil, nil, linux.EOPNOTSUPP
	}
	if typ < linux.RTM_BASE {
		return nil, nil, nil
	}
	kind := (typ - linux.RTM_BASE) & 3
	// Every message has at least the family byte of struct rtgenmsg.
	if len(c.req.Payload) < 1 {
		return nil, nil, nil
	}
	if kind != kindGet && !c.ctx.Credentials().Privileged {
		return nil, nil, linux.EPERM
	}
	family := c.req.Payload[0]
	if kind == kindGet && c.req.Flags&linux.NLM_F_DUMP != 0 {
		var h handler
		switch typ {
		case linux.RTM_GETLINK:
			h = (*call).dumpLinks
		case linux.RTM_GETADDR:
			h = (*call).dumpAddrs
		case linux.RTM_GETROUTE:
			h = (*call).dumpRoutes
		default:
			if !emptyDumps[typ] {
				return nil, nil, linux.EOPNOTSUPP
			}
			h = func(*call) ([][]byte, error) { return nil, nil }
		}
		parts, err := h(c)
		if err != nil {
			return nil, nil, err
		}
		return nil, &dump{parts: parts, done: c.doneMsg()}, nil
	}
	var h handler
	switch typ {
	case linux.RTM_GETLINK:
		h = (*call).getLink
	case linux.RTM_NEWLINK, linux.RTM_SETLINK:
		h = (*call).setLink
	case linux.RTM_DELLINK:
		h = (*call).delLink
	case linux.RTM_NEWADDR, linux.RTM_DELADDR:
		if family != linux.AF_INET && family != linux.AF_INET6 {
			return nil, nil, linux.EOPNOTSUPP
		}
		h = (*call).changeAddr
	case linux.RTM_NEWROUTE, linux.RTM_DELROUTE:
		if family != linux.AF_INET && family != linux.AF_INET6 {
			return nil, nil, linux.EOPNOTSUPP
		}
		h = (*call).changeRoute
	case linux.RTM_GETROUTE:
		if family != linux.AF_INET && family != linux.AF_INET6 {
			return nil, nil, linux.EOPNOTSUPP
		}
		h = (*call).getRoute
	case linux.RTM_GETNEIGH:
		h = (*call).getNeigh
	default:
		return nil, nil, linux.EOPNOTSUPP
	}
	out, err := h(c)
	return out, nil, err
}

// getNeigh is neigh_get: the sandbox keeps no neighbour entries the
// configuration interfaces can see, so a well-formed lookup finds none.
func (c *call) getNeigh() ([][]byte, error) {
	const ndmsgLen = 12 // struct ndmsg
	p := c.req.Payload
	if len(p) < ndmsgLen {
		return nil, linux.EINVAL
	}
	if _, ok := parseAttrs(p[ndmsgLen:])[linux.NDA_DST]; !ok {
		return nil, linux.EINVAL
	}
	if index := int32(binary.LittleEndian.Uint32(p[4:])); index != 0 {
		if _, ok := netdev.LinkByIndex(c.p.table, index); !ok {
			return nil, linux.ENODEV
		}
	}
	return nil, linux.ENOENT
}
