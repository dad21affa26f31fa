package netlink

import (
	"encoding/binary"
	"errors"
	"syscall"
	"testing"

	linux "golang.org/x/sys/unix"

	"uk/net/netdev/netdevtest"
	"uk/net/socket"
)

// rattr is one request attribute.
type rattr struct {
	typ uint16
	val []byte
}

func u32a(typ uint16, v uint32) rattr {
	return rattr{typ, binary.LittleEndian.AppendUint32(nil, v)}
}

func stra(typ uint16, s string) rattr { return rattr{typ, append([]byte(s), 0)} }

// nlreq builds a request the way user space libraries do, independently
// of the package's own encoder.
func nlreq(typ, flags uint16, seq uint32, hdr []byte, as ...rattr) []byte {
	b := make([]byte, 16, 64)
	b = append(b, hdr...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	for _, a := range as {
		b = binary.LittleEndian.AppendUint16(b, uint16(4+len(a.val)))
		b = binary.LittleEndian.AppendUint16(b, a.typ)
		b = append(b, a.val...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint16(b[4:], typ)
	binary.LittleEndian.PutUint16(b[6:], flags)
	binary.LittleEndian.PutUint32(b[8:], seq)
	return b
}

func ifinfomsgBytes(family uint8, index int32, flags, change uint32) []byte {
	b := make([]byte, 16)
	b[0] = family
	binary.LittleEndian.PutUint32(b[4:], uint32(index))
	binary.LittleEndian.PutUint32(b[8:], flags)
	binary.LittleEndian.PutUint32(b[12:], change)
	return b
}

func ifaddrmsgBytes(family, plen, flags, scope uint8, index int32) []byte {
	b := []byte{family, plen, flags, scope}
	return binary.LittleEndian.AppendUint32(b, uint32(index))
}

func rtmsgBytes(family, dstLen, table, proto, scope, typ uint8, flags uint32) []byte {
	b := []byte{family, dstLen, 0, 0, table, proto, scope, typ}
	return binary.LittleEndian.AppendUint32(b, flags)
}

var kernelAddr = encodeAddr(0, 0)

// env is a provider over a fake table.
type env struct {
	t     *testing.T
	table *netdevtest.Table
	p     *Provider
}

func newEnv(t *testing.T) *env {
	tb := netdevtest.New()
	return &env{t: t, table: tb, p: newProvider(tb)}
}

// open makes a NETLINK_ROUTE socket.
func (e *env) open(ctx socket.Context) *Socket {
	e.t.Helper()
	return e.openProto(ctx, linux.NETLINK_ROUTE)
}

func (e *env) openProto(ctx socket.Context, proto int) *Socket {
	e.t.Helper()
	fd, err := e.p.Socket(ctx, linux.SOCK_RAW, proto, 0)
	if err != nil {
		e.t.Fatalf("socket: %v", err)
	}
	e.t.Cleanup(fd.DecRef)
	return fd.Impl().(*Socket)
}

// send sends b to the kernel.
func send(t *testing.T, s *Socket, ctx socket.Context, b []byte) {
	t.Helper()
	n, err := s.SendMsg(ctx, &socket.SendRequest{Data: b, To: kernelAddr})
	if err != nil || n != len(b) {
		t.Fatalf("sendmsg = %d, %v; want %d", n, err, len(b))
	}
}

// drain reads every queued datagram without blocking, with a buffer of
// size bytes.
func drain(t *testing.T, s *Socket, ctx socket.Context, size int) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		r, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: size, NonBlock: true, WantAddr: true})
		if errors.Is(err, linux.EAGAIN) {
			return out
		}
		if err != nil {
			t.Fatalf("recvmsg: %v", err)
		}
		if string(r.From) != string(encodeAddr(0, 0)) {
			t.Fatalf("source address %x, want the kernel's", r.From)
		}
		if r.Flags&linux.MSG_TRUNC != 0 {
			t.Fatalf("datagram of %d bytes truncated", r.N)
		}
		out = append(out, r.Data)
		if len(out) > 10000 {
			t.Fatalf("endless replies")
		}
	}
}

// parse decodes datagrams with Go's own netlink parser.
func parse(t *testing.T, dgrams [][]byte) []syscall.NetlinkMessage {
	t.Helper()
	var ms []syscall.NetlinkMessage
	for _, d := range dgrams {
		m, err := syscall.ParseNetlinkMessage(d)
		if err != nil {
			t.Fatalf("ParseNetlinkMessage(%x): %v", d, err)
		}
		ms = append(ms, m...)
	}
	return ms
}

// roundTrip sends one request and returns the parsed replies.
func roundTrip(t *testing.T, s *Socket, ctx socket.Context, b []byte) []syscall.NetlinkMessage {
	t.Helper()
	send(t, s, ctx, b)
	return parse(t, drain(t, s, ctx, 65536))
}

// errnoIn returns the error of an NLMSG_ERROR (0 for an ack) and the
// echoed header.
func errnoIn(t *testing.T, m syscall.NetlinkMessage) (linux.Errno, syscall.NlMsghdr) {
	t.Helper()
	if m.Header.Type != linux.NLMSG_ERROR || len(m.Data) < 20 {
		t.Fatalf("not an NLMSG_ERROR: %+v", m.Header)
	}
	e := int32(binary.LittleEndian.Uint32(m.Data))
	h := syscall.NlMsghdr{
		Len: binary.LittleEndian.Uint32(m.Data[4:]), Type: binary.LittleEndian.Uint16(m.Data[8:]),
		Flags: binary.LittleEndian.Uint16(m.Data[10:]), Seq: binary.LittleEndian.Uint32(m.Data[12:]),
		Pid: binary.LittleEndian.Uint32(m.Data[16:]),
	}
	return linux.Errno(-e), h
}

// attrsOf decodes a route message's attributes with Go's parser.
func attrsOf(t *testing.T, m syscall.NetlinkMessage) map[uint16][]byte {
	t.Helper()
	as, err := syscall.ParseNetlinkRouteAttr(&m)
	if err != nil {
		t.Fatalf("ParseNetlinkRouteAttr: %v", err)
	}
	out := map[uint16][]byte{}
	for _, a := range as {
		out[a.Attr.Type] = a.Value
	}
	return out
}

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
