package netlink

import (
	"bytes"
	"encoding/binary"

	linux "golang.org/x/sys/unix"
)

// Wire sizes (include/uapi/linux/netlink.h, rtnetlink.h, if_addr.h).
const (
	hdrLen       = linux.SizeofNlMsghdr  // struct nlmsghdr
	attrHdrLen   = linux.SizeofRtAttr    // struct nlattr / rtattr
	ifinfoLen    = linux.SizeofIfInfomsg // struct ifinfomsg
	ifaddrLen    = linux.SizeofIfAddrmsg // struct ifaddrmsg
	rtmsgLen     = linux.SizeofRtMsg     // struct rtmsg
	errPayload   = 4 + hdrLen            // struct nlmsgerr without the echoed payload
	attrTypeMask = 0x3fff                // NLA_TYPE_MASK: drops NLA_F_NESTED, NLA_F_NET_BYTEORDER
)

// align4 rounds n up to NLMSG_ALIGNTO/NLA_ALIGNTO (4).
func align4(n int) int { return (n + 3) &^ 3 }

// header is struct nlmsghdr.
type header struct {
	Len   uint32
	Type  uint16
	Flags uint16
	Seq   uint32
	Pid   uint32
}

// parseHeader decodes the nlmsghdr at the start of b (which must hold at
// least hdrLen bytes).
func parseHeader(b []byte) header {
	return header{
		Len:   binary.LittleEndian.Uint32(b),
		Type:  binary.LittleEndian.Uint16(b[4:]),
		Flags: binary.LittleEndian.Uint16(b[6:]),
		Seq:   binary.LittleEndian.Uint32(b[8:]),
		Pid:   binary.LittleEndian.Uint32(b[12:]),
	}
}

// appendHeader appends h in wire order.
func appendHeader(b []byte, h header) []byte {
	b = binary.LittleEndian.AppendUint32(b, h.Len)
	b = binary.LittleEndian.AppendUint16(b, h.Type)
	b = binary.LittleEndian.AppendUint16(b, h.Flags)
	b = binary.LittleEndian.AppendUint32(b, h.Seq)
	return binary.LittleEndian.AppendUint32(b, h.Pid)
}

// request is one message of a sendmsg buffer addressed to the kernel.
type request struct {
	header
	// Payload is the message after its header (nlmsg_len - 16 bytes).
	Payload []byte
	// Raw is the whole message as sent (the part an error reply echoes).
	Raw []byte
}

// splitRequests is the framing loop of Linux's netlink_rcv_skb: it walks
// the buffer message by message and stops silently at the first header
// that is truncated or claims a length outside the buffer. Each message is
// followed by padding up to the next 4-byte boundary.
func splitRequests(b []byte) []request {
	var rs []request
	for len(b) >= hdrLen {
		h := parseHeader(b)
		if h.Len < hdrLen || int(h.Len) > len(b) {
			break
		}
		rs = append(rs, request{header: h, Payload: b[hdrLen:h.Len], Raw: b[:h.Len]})
		n := min(align4(int(h.Len)), len(b))
		b = b[n:]
	}
	return rs
}

// msg builds one outgoing netlink message; its length field is patched
// when the message is finished.
type msg struct {
	b []byte
}

// newMsg starts a message with the given header fields.
func newMsg(typ, flags uint16, seq, pid uint32) *msg {
	m := &msg{b: make([]byte, 0, 256)}
	m.b = appendHeader(m.b, header{Type: typ, Flags: flags, Seq: seq, Pid: pid})
	return m
}

// raw appends a fixed-size structure (already padded as the C layout is).
func (m *msg) raw(p []byte) { m.b = append(m.b, p...) }

// attr appends one attribute: nla_len counts the header and the value but
// not the padding that follows, as nla_put does.
func (m *msg) attr(typ uint16, val []byte) {
	m.b = binary.LittleEndian.AppendUint16(m.b, uint16(attrHdrLen+len(val)))
	m.b = binary.LittleEndian.AppendUint16(m.b, typ)
	m.b = append(m.b, val...)
	for len(m.b)%4 != 0 {
		m.b = append(m.b, 0)
	}
}

func (m *msg) u8(typ uint16, v uint8) { m.attr(typ, []byte{v}) }

func (m *msg) u32(typ uint16, v uint32) {
	m.attr(typ, binary.LittleEndian.AppendUint32(nil, v))
}

// str appends a NUL-terminated string attribute (NLA_NUL_STRING/nla_put_string).
func (m *msg) str(typ uint16, s string) { m.attr(typ, append([]byte(s), 0)) }

// nest opens a nested attribute; the returned offset goes to end.
func (m *msg) nest(typ uint16) int {
	off := len(m.b)
	m.b = binary.LittleEndian.AppendUint16(m.b, 0)
	m.b = binary.LittleEndian.AppendUint16(m.b, typ|linux.NLA_F_NESTED)
	return off
}

// end closes the nested attribute opened at off.
func (m *msg) end(off int) {
	binary.LittleEndian.PutUint16(m.b[off:], uint16(len(m.b)-off))
}

// bytes finishes the message: nlmsg_len is the whole length, which is a
// multiple of 4 because every part is padded.
func (m *msg) bytes() []byte {
	binary.LittleEndian.PutUint32(m.b, uint32(len(m.b)))
	return m.b
}

// attrs are the attributes of a request, indexed by type (without the
// NLA_F_* bits). As Linux's nla_parse, a later attribute of the same type
// wins.
type attrs map[uint16][]byte

// parseAttrs decodes the attributes in b. As the kernel's lenient
// (deprecated) parser it stops at the first malformed attribute instead of
// failing; the caller checks the lengths of the attributes it uses.
func parseAttrs(b []byte) attrs {
	as := attrs{}
	for len(b) >= attrHdrLen {
		n := int(binary.LittleEndian.Uint16(b))
		if n < attrHdrLen || n > len(b) {
			break
		}
		as[binary.LittleEndian.Uint16(b[2:])&attrTypeMask] = b[attrHdrLen:n]
		b = b[min(align4(n), len(b)):]
	}
	return as
}

// u32 returns a 32-bit attribute; present is false when it is absent and
// err is EINVAL when it is shorter than 4 bytes (the NLA_U32 policy).
func (as attrs) u32(typ uint16) (v uint32, present bool, err error) {
	b, ok := as[typ]
	if !ok {
		return 0, false, nil
	}
	if len(b) < 4 {
		return 0, true, linux.EINVAL
	}
	return binary.LittleEndian.Uint32(b), true, nil
}

// str returns a string attribute up to its first NUL; EINVAL when longer
// than max bytes (the NLA_STRING policy with a length limit).
func (as attrs) str(typ uint16, max int) (s string, present bool, err error) {
	b, ok := as[typ]
	if !ok {
		return "", false, nil
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) > max {
		return "", true, linux.EINVAL
	}
	return string(b), true, nil
}
