package netlink

import (
	"bytes"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/net/netdev"
	"uk/net/netdev/netdevtest"
	"uk/net/socket"
)

func TestSocketTypes(t *testing.T) {
	e := newEnv(t)
	ctx := userCtx(1)
	for _, tc := range []struct {
		typ, proto int
		want       error
	}{
		{linux.SOCK_RAW, linux.NETLINK_ROUTE, nil},
		{linux.SOCK_DGRAM, linux.NETLINK_ROUTE, nil},
		{linux.SOCK_RAW, linux.NETLINK_KOBJECT_UEVENT, nil},
		{linux.SOCK_STREAM, linux.NETLINK_ROUTE, linux.ESOCKTNOSUPPORT},
		{linux.SOCK_SEQPACKET, linux.NETLINK_ROUTE, linux.ESOCKTNOSUPPORT},
		{linux.SOCK_RAW, linux.NETLINK_GENERIC, linux.EPROTONOSUPPORT},
		{linux.SOCK_RAW, linux.NETLINK_AUDIT, linux.EPROTONOSUPPORT},
		{linux.SOCK_RAW, -1, linux.EPROTONOSUPPORT},
	} {
		fd, err := e.p.Socket(ctx, tc.typ, tc.proto, 0)
		if err != tc.want {
			t.Errorf("socket(%d, %d) = %v, want %v", tc.typ, tc.proto, err, tc.want)
		}
		if err == nil {
			s := fd.Impl().(*Socket)
			if s.Family() != linux.AF_NETLINK || s.Type() != tc.typ || s.Protocol() != tc.proto {
				t.Errorf("socket reports %d/%d/%d", s.Family(), s.Type(), s.Protocol())
			}
			fd.DecRef()
		}
	}
	if _, _, err := e.p.Pair(ctx, linux.SOCK_RAW, 0, 0); err != linux.EOPNOTSUPP {
		t.Errorf("socketpair: %v", err)
	}
	fd, _ := e.p.Socket(ctx, linux.SOCK_DGRAM, 0, linux.O_NONBLOCK)
	defer fd.DecRef()
	if !fd.NonBlocking() {
		t.Errorf("O_NONBLOCK lost")
	}
	st, err := fd.Impl().(*Socket).Stat(ctx, fd)
	if err != nil || st.Mode != linux.S_IFSOCK|0o777 {
		t.Errorf("stat %v %o", err, st.Mode)
	}
}

func TestPortIDs(t *testing.T) {
	e := newEnv(t)
	ctx := userCtx(100)
	a, b, c := e.open(ctx), e.open(ctx), e.open(ctx)
	name := func(s *Socket) []byte {
		n, err := s.SockName(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := name(a); !bytes.Equal(got, encodeAddr(0, 0)) {
		t.Errorf("unbound name %x", got)
	}
	if err := a.Bind(ctx, encodeAddr(0, 0)); err != nil {
		t.Fatal(err)
	}
	if got := name(a); !bytes.Equal(got, encodeAddr(100, 0)) {
		t.Errorf("first socket of pid 100 got %x, want port id 100", got)
	}
	if err := b.Bind(ctx, encodeAddr(0, 0)); err != nil {
		t.Fatal(err)
	}
	if got := le32(name(b)[4:]); int32(got) != -4097 {
		t.Errorf("second socket got port id %d, want -4097", int32(got))
	}
	// Sending autobinds.
	send(t, c, ctx, nlreq(linux.NLMSG_NOOP, linux.NLM_F_REQUEST, 1, nil))
	if got := le32(name(c)[4:]); int32(got) != -4098 {
		t.Errorf("autobound port id %d, want -4098", int32(got))
	}
	d, f := e.open(ctx), e.open(ctx)
	if err := d.Bind(ctx, encodeAddr(5000, 0)); err != nil {
		t.Fatal(err)
	}
	if err := f.Bind(ctx, encodeAddr(5000, 0)); err != linux.EADDRINUSE {
		t.Errorf("bind to a taken port id: %v", err)
	}
	if err := d.Bind(ctx, encodeAddr(5001, 0)); err != linux.EINVAL {
		t.Errorf("rebind to another port id: %v", err)
	}
	if err := d.Bind(ctx, encodeAddr(5000, 1<<4)); err != nil {
		t.Errorf("rebind with groups: %v", err)
	}
	if got := name(d); !bytes.Equal(got, encodeAddr(5000, 1<<4)) {
		t.Errorf("name with groups %x", got)
	}
	if err := f.Bind(ctx, encodeAddr(0, 0)[:8]); err != linux.EINVAL {
		t.Errorf("short address: %v", err)
	}
	if err := f.Bind(ctx, append([]byte{1, 0}, make([]byte, 10)...)); err != linux.EINVAL {
		t.Errorf("AF_UNIX address: %v", err)
	}
	// The port id comes free when the socket goes.
	e2 := newEnv(t)
	fd, _ := e2.p.Socket(ctx, linux.SOCK_RAW, 0, 0)
	s := fd.Impl().(*Socket)
	if err := s.Bind(ctx, encodeAddr(77, 0)); err != nil {
		t.Fatal(err)
	}
	fd.DecRef()
	if err := e2.open(ctx).Bind(ctx, encodeAddr(77, 0)); err != nil {
		t.Errorf("port id not released: %v", err)
	}
	// Port ids are per protocol.
	ue := e2.openProto(ctx, linux.NETLINK_KOBJECT_UEVENT)
	if err := ue.Bind(ctx, encodeAddr(77, 0)); err != nil {
		t.Errorf("uevent socket cannot share a route socket's port id: %v", err)
	}
}

// manyLinks makes a table with n interfaces.
func manyLinks(n int) *netdevtest.Table {
	tb := netdevtest.New()
	for i := 3; i < n+3; i++ {
		tb.AddLink(netdev.Link{Index: int32(i), Name: fmt.Sprintf("veth%d", i), Type: linux.ARPHRD_ETHER,
			Flags: netdevtest.EthFlags, MTU: 1500, HWAddr: []byte{2, 0, 0, 0, 0, byte(i)}})
	}
	return tb
}

func TestDumpDatagrams(t *testing.T) {
	ctx := userCtx(1)
	for _, tc := range []struct {
		name  string
		size  int
		first int // the largest size the first datagram may have
		later int // the largest size of later datagrams
		big   bool
	}{
		// Linux sizes later parts after the largest recvmsg buffer,
		// so a page-sized reader gets page-sized datagrams.
		{"page buffer", 4096, goodSize, 4096, true},
		{"large buffer", 65536, goodSize, maxRecvCap, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := manyLinks(100)
			p := newProvider(tb)
			fd, _ := p.Socket(ctx, linux.SOCK_RAW, 0, 0)
			defer fd.DecRef()
			s := fd.Impl().(*Socket)
			send(t, s, ctx, rtgen(linux.RTM_GETLINK, 9, 0))
			dgrams := drain(t, s, ctx, tc.size)
			if len(dgrams) < 3 {
				t.Fatalf("%d datagrams", len(dgrams))
			}
			sawBig := false
			for i, d := range dgrams {
				limit := tc.later
				if i == 0 {
					limit = tc.first
				}
				if len(d) > limit {
					t.Errorf("datagram %d has %d bytes, limit %d", i, len(d), limit)
				}
				sawBig = sawBig || len(d) > goodSize
			}
			if sawBig != tc.big {
				t.Errorf("datagrams beyond NLMSG_GOODSIZE: %v, want %v", sawBig, tc.big)
			}
			ms := parse(t, dgrams)
			if len(ms) != 103 {
				t.Fatalf("%d messages, want 102 links + DONE", len(ms))
			}
			for i, m := range ms[:102] {
				if idx := int32(le32(m.Data[4:])); idx != int32(i+1) {
					t.Fatalf("message %d is link %d", i, idx)
				}
			}
			if last := dgrams[len(dgrams)-1]; len(last) != 20 {
				t.Errorf("last datagram has %d bytes, want NLMSG_DONE alone", len(last))
			}
		})
	}
}

func TestRecvFlags(t *testing.T) {
	e := newEnv(t)
	ctx := userCtx(1)
	s := e.open(ctx)
	req := nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 1, ifinfomsgBytes(0, 1, 0, 0))
	send(t, s, ctx, req)
	peek, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: 65536, Flags: linux.MSG_PEEK, NonBlock: true})
	if err != nil {
		t.Fatal(err)
	}
	full := len(peek.Data)
	if full < 100 || peek.N != full {
		t.Fatalf("peek got %d/%d bytes", len(peek.Data), peek.N)
	}
	r, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: 16, Flags: linux.MSG_TRUNC, NonBlock: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != 16 || r.N != full || r.Flags&linux.MSG_TRUNC == 0 || !bytes.Equal(r.Data, peek.Data[:16]) {
		t.Errorf("truncated read: %d bytes, N %d, flags %#x", len(r.Data), r.N, r.Flags)
	}
	// The truncated datagram is gone; the ack is next. Without MSG_TRUNC
	// the result is the copied length.
	r, err = s.RecvMsg(ctx, &socket.RecvRequest{Len: 8, NonBlock: true})
	if err != nil || r.N != 8 || r.Flags&linux.MSG_TRUNC == 0 {
		t.Fatalf("short read of the ack: %v %+v", err, r)
	}
	if _, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: 8, NonBlock: true}); err != linux.EAGAIN {
		t.Errorf("empty queue: %v", err)
	}
	// SO_PASSCRED: kernel messages carry pid 0 and uid/gid 0.
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_PASSCRED, socket.Int(1)); err != nil {
		t.Fatal(err)
	}
	send(t, s, ctx, nlreq(linux.NLMSG_NOOP, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 2, nil))
	r, err = s.RecvMsg(ctx, &socket.RecvRequest{Len: 100, NonBlock: true})
	if err != nil || !r.PassCred || r.Control.Cred == nil || *r.Control.Cred != (socket.Cred{}) {
		t.Errorf("credentials %v %+v", err, r)
	}
	// Read and Write go to the kernel and back.
	fd, _ := e.p.Socket(ctx, linux.SOCK_RAW, 0, linux.O_NONBLOCK)
	defer fd.DecRef()
	w := fd.Impl().(*Socket)
	if n, err := w.Write(ctx, fd, req, 0); err != nil || n != len(req) {
		t.Fatalf("write: %d %v", n, err)
	}
	buf := make([]byte, 65536)
	n, err := w.Read(ctx, fd, buf, 0)
	if err != nil || n != full {
		t.Errorf("read: %d %v", n, err)
	}
}

func TestBlockingRecv(t *testing.T) {
	e := newEnv(t)
	root := rootCtx(1)
	ctx := userCtx(2)
	s := e.open(ctx)
	if err := s.Bind(ctx, encodeAddr(0, 0)); err != nil {
		t.Fatal(err)
	}
	// SO_RCVTIMEO: EAGAIN after the timeout.
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVTIMEO_OLD, socket.Timeval(30*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: 100}); err != linux.EAGAIN {
		t.Errorf("timed out recv: %v", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("recv returned after %v", d)
	}
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVTIMEO_OLD, socket.Timeval(0)); err != nil {
		t.Fatal(err)
	}
	// A message from another socket wakes a blocked reader, and says who
	// sent it.
	o := e.open(root)
	if err := o.Bind(root, encodeAddr(900, 0)); err != nil {
		t.Fatal(err)
	}
	w, ch := vfs.NewChannelWaiter(vfs.EventIn)
	s.EventRegister(w)
	defer s.EventUnregister(w)
	if got := s.Readiness(vfs.EventIn | vfs.EventOut); got != vfs.EventOut {
		t.Errorf("idle readiness %#x", got)
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		if _, err := o.SendMsg(root, &socket.SendRequest{Data: []byte("hello"), To: encodeAddr(2, 0)}); err != nil {
			t.Errorf("send to port 2: %v", err)
		}
	}()
	r, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: 100, WantAddr: true})
	if err != nil || string(r.Data) != "hello" || !bytes.Equal(r.From, encodeAddr(900, 0)) {
		t.Fatalf("woken recv: %v %+v", err, r)
	}
	select {
	case <-ch:
	default:
		t.Errorf("no readiness notification")
	}
	// A signal interrupts a blocked recv.
	go func() {
		time.Sleep(10 * time.Millisecond)
		close(ctx.Interrupt)
	}()
	if _, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: 100}); err != linux.EINTR {
		t.Errorf("interrupted recv: %v", err)
	}
	// Unprivileged sockets may only talk to the kernel.
	u := e.open(ctx)
	if _, err := u.SendMsg(ctx, &socket.SendRequest{Data: []byte("x"), To: encodeAddr(900, 0)}); err != linux.EPERM {
		t.Errorf("unprivileged unicast: %v", err)
	}
	if _, err := o.SendMsg(root, &socket.SendRequest{Data: []byte("x"), To: encodeAddr(12345, 0)}); err != linux.ECONNREFUSED {
		t.Errorf("send to an unbound port id: %v", err)
	}
}

func TestConnect(t *testing.T) {
	e := newEnv(t)
	ctx := userCtx(3)
	fd, _ := e.p.Socket(ctx, linux.SOCK_DGRAM, 0, linux.O_NONBLOCK)
	defer fd.DecRef()
	s := fd.Impl().(*Socket)
	if err := s.Connect(ctx, encodeAddr(0, 0), false); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.SockName(ctx); le32(n[4:]) != 3 {
		t.Errorf("connect did not autobind: %x", n)
	}
	if p, _ := s.PeerName(ctx); !bytes.Equal(p, encodeAddr(0, 0)) {
		t.Errorf("peer %x", p)
	}
	if _, err := s.Write(ctx, fd, nlreq(linux.NLMSG_NOOP, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 1, nil), 0); err != nil {
		t.Fatal(err)
	}
	if got := s.Readiness(vfs.EventIn | vfs.EventOut); got&vfs.EventIn == 0 {
		t.Errorf("no POLLIN with a queued reply: %#x", got)
	}
	if err := s.Connect(ctx, encodeAddr(0, 1), false); err != linux.EPERM {
		t.Errorf("unprivileged connect to a group: %v", err)
	}
	if err := s.Connect(ctx, []byte{0, 0}, false); err != nil {
		t.Errorf("AF_UNSPEC disconnect: %v", err)
	}
	if err := s.Listen(ctx, 1); err != linux.EOPNOTSUPP {
		t.Errorf("listen: %v", err)
	}
	if err := s.Shutdown(ctx, 0); err != linux.EOPNOTSUPP {
		t.Errorf("shutdown: %v", err)
	}
	if _, err := s.SendMsg(ctx, &socket.SendRequest{Data: []byte{1}, Flags: linux.MSG_OOB}); err != linux.EOPNOTSUPP {
		t.Errorf("MSG_OOB: %v", err)
	}
	if _, err := s.SendMsg(ctx, &socket.SendRequest{Data: make([]byte, socket.DefaultBuf)}); err != linux.EMSGSIZE {
		t.Errorf("oversized send: %v", err)
	}
}

func TestSockOpts(t *testing.T) {
	e := newEnv(t)
	ctx := userCtx(3)
	s := e.open(ctx)
	get := func(level, name int) []byte {
		t.Helper()
		v, err := s.GetSockOpt(ctx, level, name, 64)
		if err != nil {
			t.Fatalf("getsockopt(%d, %d): %v", level, name, err)
		}
		return v
	}
	for _, tc := range []struct {
		name int
		want int32
	}{{linux.SO_TYPE, linux.SOCK_RAW}, {linux.SO_DOMAIN, linux.AF_NETLINK}, {linux.SO_PROTOCOL, 0}, {linux.SO_RCVBUF, socket.DefaultBuf}} {
		if got := int32(le32(get(linux.SOL_SOCKET, tc.name))); got != tc.want {
			t.Errorf("SOL_SOCKET %d = %d, want %d", tc.name, got, tc.want)
		}
	}
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVBUF, socket.Int(32768)); err != nil {
		t.Fatal(err)
	}
	if got := le32(get(linux.SOL_SOCKET, linux.SO_RCVBUF)); got != 65536 {
		t.Errorf("SO_RCVBUF %d", got)
	}
	for _, name := range []int{linux.NETLINK_EXT_ACK, linux.NETLINK_GET_STRICT_CHK, linux.NETLINK_CAP_ACK,
		linux.NETLINK_NO_ENOBUFS, linux.NETLINK_PKTINFO, linux.NETLINK_BROADCAST_ERROR} {
		if got := le32(get(linux.SOL_NETLINK, name)); got != 0 {
			t.Errorf("option %d starts at %d", name, got)
		}
		if err := s.SetSockOpt(ctx, linux.SOL_NETLINK, name, socket.Int(1)); err != nil {
			t.Errorf("set %d: %v", name, err)
		}
		if got := le32(get(linux.SOL_NETLINK, name)); got != 1 {
			t.Errorf("option %d reads %d after setting", name, got)
		}
	}
	for _, g := range []uint32{linux.RTNLGRP_LINK, linux.RTNLGRP_IPV4_IFADDR, 33} {
		if err := s.SetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_ADD_MEMBERSHIP, socket.Int(int32(g))); err != nil {
			t.Errorf("join %d: %v", g, err)
		}
	}
	if err := s.SetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_DROP_MEMBERSHIP, socket.Int(linux.RTNLGRP_LINK)); err != nil {
		t.Error(err)
	}
	if got := get(linux.SOL_NETLINK, linux.NETLINK_LIST_MEMBERSHIPS); !bytes.Equal(got, []byte{1 << 4, 0, 0, 0, 1, 0, 0, 0}) {
		t.Errorf("memberships %x", got)
	}
	if n, _ := s.SockName(ctx); le32(n[8:]) != 1<<4 {
		t.Errorf("nl_groups %x", n)
	}
	for _, tc := range []struct {
		level, name int
		val         []byte
		want        error
	}{
		{linux.SOL_NETLINK, linux.NETLINK_ADD_MEMBERSHIP, socket.Int(0), linux.EINVAL},
		{linux.SOL_NETLINK, linux.NETLINK_ADD_MEMBERSHIP, socket.Int(1000), linux.EINVAL},
		{linux.SOL_NETLINK, linux.NETLINK_LISTEN_ALL_NSID, socket.Int(1), linux.EPERM},
		{linux.SOL_NETLINK, 99, socket.Int(1), linux.ENOPROTOOPT},
		{linux.SOL_IP, linux.IP_TOS, socket.Int(1), linux.ENOPROTOOPT},
		{linux.SOL_SOCKET, linux.SO_TYPE, socket.Int(1), linux.ENOPROTOOPT},
	} {
		if err := s.SetSockOpt(ctx, tc.level, tc.name, tc.val); err != tc.want {
			t.Errorf("setsockopt(%d, %d) = %v, want %v", tc.level, tc.name, err, tc.want)
		}
	}
	if _, err := s.GetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_EXT_ACK, 2); err != linux.EINVAL {
		t.Errorf("short getsockopt: %v", err)
	}
	if _, err := s.GetSockOpt(ctx, linux.SOL_IP, linux.IP_TOS, 4); err != linux.ENOPROTOOPT {
		t.Errorf("SOL_IP getsockopt: %v", err)
	}
}

func TestUevent(t *testing.T) {
	e := newEnv(t)
	ctx := userCtx(4)
	s := e.openProto(ctx, linux.NETLINK_KOBJECT_UEVENT)
	if err := s.Bind(ctx, encodeAddr(0, 0xffffffff)); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.SockName(ctx); !bytes.Equal(n, encodeAddr(4, 1)) {
		t.Errorf("uevent name %x, want group 1 only", n)
	}
	if _, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: 100, NonBlock: true}); err != linux.EAGAIN {
		t.Errorf("uevent recv: %v", err)
	}
	if _, err := s.SendMsg(ctx, &socket.SendRequest{Data: []byte("x"), To: kernelAddr}); err != linux.ECONNREFUSED {
		t.Errorf("uevent send to the kernel: %v", err)
	}
	if got := s.Readiness(vfs.EventIn | vfs.EventOut); got != vfs.EventOut {
		t.Errorf("readiness %#x", got)
	}
}

func TestDumpBusyAndOverrun(t *testing.T) {
	e := newEnv(t)
	ctx := userCtx(5)
	s := e.open(ctx)
	send(t, s, ctx, rtgen(linux.RTM_GETLINK, 1, 0))
	send(t, s, ctx, rtgen(linux.RTM_GETADDR, 2, 0))
	ms := parse(t, drain(t, s, ctx, 65536))
	var kinds []string
	for _, m := range ms {
		kinds = append(kinds, fmt.Sprintf("%d/%d", m.Header.Type, m.Header.Seq))
	}
	if len(ms) != 4 || ms[2].Header.Type != linux.NLMSG_ERROR || ms[3].Header.Type != linux.NLMSG_DONE {
		t.Fatalf("two dumps at once: %v", kinds)
	}
	if errno, _ := errnoIn(t, ms[2]); errno != linux.EBUSY {
		t.Errorf("second dump: %v", errno)
	}
	// Once the first dump is done another may start.
	ms = roundTrip(t, s, ctx, rtgen(linux.RTM_GETADDR, 3, 0))
	if len(ms) != 5 {
		t.Errorf("address dump after a dump: %d messages", len(ms))
	}

	// Replies beyond the receive buffer are dropped and the next recv
	// reports ENOBUFS.
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVBUF, socket.Int(0)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		send(t, s, ctx, nlreq(linux.RTM_GETLINK, linux.NLM_F_REQUEST, uint32(i), ifinfomsgBytes(0, 2, 0, 0)))
	}
	if got := s.Readiness(vfs.EventIn); got&vfs.EventErr == 0 {
		t.Errorf("overrun readiness %#x", got)
	}
	if _, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: 65536, NonBlock: true}); !errors.Is(err, linux.ENOBUFS) {
		t.Fatalf("after an overrun: %v", err)
	}
	got := parse(t, drain(t, s, ctx, 65536))
	if len(got) == 0 || len(got) >= 20 {
		t.Errorf("%d replies survived an overrun of 20", len(got))
	}
}

// TestConcurrentRequests runs dumps and changes from many sockets and
// goroutines at once (meaningful under -race): every dump still arrives
// whole and in order.
func TestConcurrentRequests(t *testing.T) {
	e := newEnv(t)
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func(g int) {
			ctx := rootCtx(int32(100 + g))
			fd, err := e.p.Socket(ctx, linux.SOCK_RAW, 0, 0)
			if err != nil {
				done <- err
				return
			}
			defer fd.DecRef()
			s := fd.Impl().(*Socket)
			for i := 0; i < 50; i++ {
				up := uint32(0)
				if i%2 == 0 {
					up = linux.IFF_UP
				}
				if _, err := s.SendMsg(ctx, &socket.SendRequest{Data: nlreq(linux.RTM_NEWLINK, linux.NLM_F_REQUEST, 1,
					ifinfomsgBytes(0, 2, up, linux.IFF_UP)), To: kernelAddr}); err != nil {
					done <- err
					return
				}
				if _, err := s.SendMsg(ctx, &socket.SendRequest{Data: rtgen(linux.RTM_GETLINK, uint32(i), 0), To: kernelAddr}); err != nil {
					done <- err
					return
				}
				n := 0
				for {
					r, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: 65536})
					if err != nil {
						done <- err
						return
					}
					ms, err := syscall.ParseNetlinkMessage(r.Data)
					if err != nil {
						done <- err
						return
					}
					for _, m := range ms {
						if m.Header.Seq != uint32(i) {
							done <- fmt.Errorf("goroutine %d: seq %d, want %d", g, m.Header.Seq, i)
							return
						}
						n++
					}
					if ms[len(ms)-1].Header.Type == linux.NLMSG_DONE {
						break
					}
				}
				if n != 3 {
					done <- fmt.Errorf("goroutine %d: dump of %d messages", g, n)
					return
				}
			}
			done <- nil
		}(g)
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestNoTable(t *testing.T) {
	p := NewProvider(nil)
	ctx := rootCtx(1)
	fd, err := p.Socket(ctx, linux.SOCK_RAW, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	s := fd.Impl().(*Socket)
	ms := roundTrip(t, s, ctx, rtgen(linux.RTM_GETLINK, 1, 0))
	if len(ms) != 1 || ms[0].Header.Type != linux.NLMSG_DONE {
		t.Errorf("link dump without a table: %+v", ms)
	}
	ms = roundTrip(t, s, ctx, nlreq(linux.RTM_NEWLINK, linux.NLM_F_REQUEST, 2, ifinfomsgBytes(0, 1, linux.IFF_UP, linux.IFF_UP)))
	if got, _ := errnoIn(t, ms[0]); got != linux.ENODEV {
		t.Errorf("link up without a table: %v", got)
	}
}
