package unix

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/net/socket"
)

// fakeInode stands for a socket node in a filesystem.
type fakeInode struct{ vfs.Inode }

// fakeFS is a flat "filesystem" of socket nodes shared by test contexts.
type fakeFS struct {
	mu    sync.Mutex
	nodes map[string]*fakeInode
}

// ctx is a socket.Context over vfstest.Ctx.
type ctx struct {
	*vfstest.Ctx
	pid int32
	fs  *fakeFS
	net any // the network namespace (NetNamespace)
}

func (c *ctx) PID() int32 { return c.pid }

func (c *ctx) NetNamespace() any { return c.net }

func (c *ctx) MknodSocket(path string, mode uint32) (vfs.Inode, error) {
	c.fs.mu.Lock()
	defer c.fs.mu.Unlock()
	if _, ok := c.fs.nodes[path]; ok {
		return nil, linux.EEXIST
	}
	n := &fakeInode{}
	c.fs.nodes[path] = n
	return n, nil
}

func (c *ctx) LookupSocket(path string) (vfs.Inode, uint32, error) {
	c.fs.mu.Lock()
	defer c.fs.mu.Unlock()
	n, ok := c.fs.nodes[path]
	if !ok {
		return nil, 0, linux.ENOENT
	}
	return n, linux.S_IFSOCK, nil
}

func newCtx(pid int32) *ctx {
	return &ctx{Ctx: vfstest.User(1000, 1000), pid: pid, fs: &fakeFS{nodes: map[string]*fakeInode{}}}
}

func sockOf(t *testing.T, d *vfs.FileDescription) *Socket {
	t.Helper()
	s, ok := d.Impl().(*Socket)
	if !ok {
		t.Fatalf("description is not a unix socket")
	}
	return s
}

func pathAddr(p string) []byte { return Address{Name: p}.Sockaddr() }

func TestAddressRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want Address
		auto bool
		err  error
	}{
		{"family only", []byte{1, 0}, Address{}, true, nil},
		{"path", append([]byte{1, 0}, "a/b\x00"...), Address{Name: "a/b"}, false, nil},
		{"path without NUL", append([]byte{1, 0}, "abc"...), Address{Name: "abc"}, false, nil},
		{"path with junk after NUL", append([]byte{1, 0}, "ab\x00zz"...), Address{Name: "ab"}, false, nil},
		{"abstract", append([]byte{1, 0}, "\x00x\x00y"...), Address{Abstract: true, Name: "x\x00y"}, false, nil},
		{"empty abstract", []byte{1, 0, 0}, Address{Abstract: true}, false, nil},
		{"too short", []byte{1}, Address{}, false, linux.EINVAL},
		{"wrong family", []byte{2, 0, 'a'}, Address{}, false, linux.EINVAL},
		{"too long", append([]byte{1, 0}, bytes.Repeat([]byte{'a'}, 109)...), Address{}, false, linux.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, auto, err := ParseAddress(tc.in)
			if err != tc.err || a != tc.want || auto != tc.auto {
				t.Fatalf("ParseAddress = %+v, %v, %v; want %+v, %v, %v", a, auto, err, tc.want, tc.auto, tc.err)
			}
		})
	}
	if got := len(Address{}.Sockaddr()); got != 2 {
		t.Errorf("unnamed sockaddr length %d, want 2", got)
	}
	if got := len(Address{Name: "ab"}.Sockaddr()); got != 5 {
		t.Errorf("path sockaddr length %d, want 5", got)
	}
	if got := len(Address{Abstract: true, Name: "ab"}.Sockaddr()); got != 5 {
		t.Errorf("abstract sockaddr length %d, want 5", got)
	}
}

func FuzzParseAddress(f *testing.F) {
	f.Add([]byte{1, 0})
	f.Add(append([]byte{1, 0}, "/tmp/x.sock\x00"...))
	f.Add(append([]byte{1, 0}, "\x00abstract"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, auto, err := ParseAddress(b)
		if err != nil || auto {
			return
		}
		// A parsed name encodes to a sockaddr that parses to itself.
		enc := a.Sockaddr()
		if len(enc) > sockaddrSize {
			t.Fatalf("encoding of %q is %d bytes", a.Name, len(enc))
		}
		if a.Abstract || len(enc) > 2 {
			b, _, err := ParseAddress(enc)
			if err != nil || b != a {
				t.Fatalf("round trip of %+v gave %+v, %v", a, b, err)
			}
		}
	})
}

func send(t *testing.T, c *ctx, s *Socket, data string, ctl socket.Control) {
	t.Helper()
	n, err := s.SendMsg(c, &socket.SendRequest{Data: []byte(data), Control: ctl})
	if err != nil || n != len(data) {
		t.Fatalf("send %q = %d, %v", data, n, err)
	}
}

func recv(t *testing.T, c *ctx, s *Socket, n int, flags int) *socket.RecvResult {
	t.Helper()
	r, err := s.RecvMsg(c, &socket.RecvRequest{Len: n, Flags: flags, NonBlock: true, WantAddr: true})
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	return r
}

func TestPairBoundaries(t *testing.T) {
	c := newCtx(10)
	ns := NewNamespace()
	for _, tc := range []struct {
		typ  int
		want []string
	}{
		{linux.SOCK_STREAM, []string{"abcdef"}},
		{linux.SOCK_DGRAM, []string{"abc", "def"}},
		{linux.SOCK_SEQPACKET, []string{"abc", "def"}},
	} {
		a, b, err := ns.Pair(c, tc.typ, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		sa, sb := sockOf(t, a), sockOf(t, b)
		send(t, c, sa, "abc", socket.Control{})
		send(t, c, sa, "def", socket.Control{})
		for _, w := range tc.want {
			if r := recv(t, c, sb, 100, 0); string(r.Data) != w {
				t.Errorf("type %d: read %q, want %q", tc.typ, r.Data, w)
			}
		}
		if _, err := sb.RecvMsg(c, &socket.RecvRequest{Len: 10, NonBlock: true}); err != linux.EAGAIN {
			t.Errorf("type %d: empty nonblocking read: %v, want EAGAIN", tc.typ, err)
		}
		a.DecRef()
		b.DecRef()
	}
}

func TestConnectAcceptAndNames(t *testing.T) {
	c := newCtx(10)
	ns := NewNamespace()
	ld, _ := ns.Socket(c, linux.SOCK_STREAM, 0, 0)
	l := sockOf(t, ld)
	cd, _ := ns.Socket(c, linux.SOCK_STREAM, 0, 0)
	cl := sockOf(t, cd)
	if err := cl.Connect(c, pathAddr("srv"), false); err != linux.ENOENT {
		t.Fatalf("connect to a missing name: %v, want ENOENT", err)
	}
	if err := l.Listen(c, 1); err != linux.EINVAL {
		t.Fatalf("listen unbound: %v, want EINVAL", err)
	}
	if err := l.Bind(c, pathAddr("srv")); err != nil {
		t.Fatal(err)
	}
	if err := cl.Connect(c, pathAddr("srv"), false); err != linux.ECONNREFUSED {
		t.Fatalf("connect to a non-listener: %v, want ECONNREFUSED", err)
	}
	if err := l.Listen(c, 1); err != nil {
		t.Fatal(err)
	}
	dd, _ := ns.Socket(c, linux.SOCK_DGRAM, 0, 0)
	if err := sockOf(t, dd).Connect(c, pathAddr("srv"), false); err != linux.EPROTOTYPE {
		t.Fatalf("dgram connect to stream: %v, want EPROTOTYPE", err)
	}
	dd.DecRef()
	if _, _, err := l.Accept(c, true, 0); err != linux.EAGAIN {
		t.Fatalf("accept with nothing pending: %v", err)
	}
	c2 := &ctx{Ctx: c.Ctx, pid: 20, fs: c.fs}
	if err := cl.Connect(c2, pathAddr("srv"), false); err != nil {
		t.Fatal(err)
	}
	ad, peer, err := l.Accept(c, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(peer) != 2 {
		t.Errorf("peer of an unbound client: %d bytes, want 2", len(peer))
	}
	as := sockOf(t, ad)
	name, _ := as.SockName(c)
	if a, _, _ := ParseAddress(name); a.Name != "srv" {
		t.Errorf("accepted socket's name %+v, want srv", a)
	}
	cr, _ := as.GetSockOpt(c, linux.SOL_SOCKET, linux.SO_PEERCRED, 12)
	if pid := int32(binary.LittleEndian.Uint32(cr)); pid != 20 {
		t.Errorf("SO_PEERCRED pid %d, want the connecting pid 20", pid)
	}
	send(t, c, cl, "ping", socket.Control{})
	if r := recv(t, c, as, 10, 0); string(r.Data) != "ping" {
		t.Errorf("got %q", r.Data)
	}
	// The server closes with unread data: the client sees ECONNRESET, then EOF.
	send(t, c, cl, "unread", socket.Control{})
	ad.DecRef()
	if _, err := cl.RecvMsg(c, &socket.RecvRequest{Len: 10, NonBlock: true}); err != linux.ECONNRESET {
		t.Errorf("after reset: %v, want ECONNRESET", err)
	}
	if r := recv(t, c, cl, 10, 0); r.N != 0 {
		t.Errorf("after reset, second read %d bytes, want EOF", r.N)
	}
	if _, err := cl.SendMsg(c, &socket.SendRequest{Data: []byte("x")}); !errors.Is(err, linux.EPIPE) || !socket.WantsSIGPIPE(err) {
		t.Errorf("send to a closed peer: %v, want EPIPE with SIGPIPE", err)
	}
	// Abstract names are released on close.
	xd, _ := ns.Socket(c, linux.SOCK_DGRAM, 0, 0)
	abs := Address{Abstract: true, Name: "n"}.Sockaddr()
	if err := sockOf(t, xd).Bind(c, abs); err != nil {
		t.Fatal(err)
	}
	yd, _ := ns.Socket(c, linux.SOCK_DGRAM, 0, 0)
	if err := sockOf(t, yd).Bind(c, abs); err != linux.EADDRINUSE {
		t.Errorf("second bind of an abstract name: %v", err)
	}
	xd.DecRef()
	if err := sockOf(t, yd).Bind(c, abs); err != nil {
		t.Errorf("bind after the owner closed: %v", err)
	}
	yd.DecRef()
	cd.DecRef()
	ld.DecRef()
}

func TestBlockingAndTimeouts(t *testing.T) {
	c := newCtx(10)
	ns := NewNamespace()
	a, b, _ := ns.Pair(c, linux.SOCK_STREAM, 0, 0)
	sa, sb := sockOf(t, a), sockOf(t, b)
	go func() {
		time.Sleep(10 * time.Millisecond)
		send(t, c, sa, "late", socket.Control{})
	}()
	r, err := sb.RecvMsg(c, &socket.RecvRequest{Len: 10})
	if err != nil || string(r.Data) != "late" {
		t.Fatalf("blocking read: %q, %v", r.Data, err)
	}
	tv := socket.Timeval(20 * time.Millisecond)
	if err := sb.SetSockOpt(c, linux.SOL_SOCKET, linux.SO_RCVTIMEO_OLD, tv); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := sb.RecvMsg(c, &socket.RecvRequest{Len: 10}); err != linux.EAGAIN {
		t.Fatalf("read with SO_RCVTIMEO: %v, want EAGAIN", err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("timed out after %v, before the 20ms timeout", d)
	}
	// An interrupted wait returns the context's error; with a timeout in
	// force, EINTR (the fake's Block already says EINTR).
	ic := newCtx(10)
	close(ic.Interrupt)
	if _, err := sb.RecvMsg(ic, &socket.RecvRequest{Len: 10}); err != linux.EINTR {
		t.Errorf("interrupted read: %v, want EINTR", err)
	}
	a.DecRef()
	b.DecRef()
}

// countingFile records its release.
type countingFile struct {
	vfs.FileBase
	released chan struct{}
}

func (f *countingFile) Release() { close(f.released) }

func TestRightsLifetime(t *testing.T) {
	c := newCtx(10)
	ns := NewNamespace()
	a, b, _ := ns.Pair(c, linux.SOCK_DGRAM, 0, 0)
	f := &countingFile{released: make(chan struct{})}
	fd := vfs.NewFileDescription(f, linux.O_RDONLY, vfs.Path{}, vfs.FileOptions{})
	fd.IncRef() // the message's own reference, as sendmsg takes one per fd
	send(t, c, sockOf(t, a), "x", socket.Control{Rights: []*vfs.FileDescription{fd}})
	// Peeking gives an extra reference, which the reader drops.
	r := recv(t, c, sockOf(t, b), 1, linux.MSG_PEEK)
	if len(r.Control.Rights) != 1 || r.Control.Rights[0] != fd {
		t.Fatalf("peek did not see the description")
	}
	r.Control.Release()
	select {
	case <-f.released:
		t.Fatal("released while still in flight")
	default:
	}
	// Closing the receiver with the message unread drops the in-flight
	// reference; the sender's own is the last.
	b.DecRef()
	select {
	case <-f.released:
		t.Fatal("released while the sender still holds it")
	default:
	}
	fd.DecRef()
	select {
	case <-f.released:
	case <-time.After(time.Second):
		t.Fatal("the description was never released")
	}
	a.DecRef()
}

func TestReadiness(t *testing.T) {
	c := newCtx(10)
	ns := NewNamespace()
	all := vfs.EventIn | vfs.EventOut | vfs.EventRdHUp
	sd, _ := ns.Socket(c, linux.SOCK_STREAM, 0, 0)
	if got := sockOf(t, sd).Readiness(all); got != vfs.EventOut|vfs.EventHUp {
		t.Errorf("unconnected stream: %#x, want OUT|HUP", got)
	}
	sd.DecRef()
	a, b, _ := ns.Pair(c, linux.SOCK_STREAM, 0, 0)
	sa, sb := sockOf(t, a), sockOf(t, b)
	w, ch := vfs.NewChannelWaiter(vfs.EventIn)
	sb.EventRegister(w)
	send(t, c, sa, "x", socket.Control{})
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("no readiness notification for data")
	}
	if got := sb.Readiness(all); got != vfs.EventIn|vfs.EventOut {
		t.Errorf("with data: %#x", got)
	}
	a.DecRef()
	if got := sb.Readiness(all); got != vfs.EventIn|vfs.EventOut|vfs.EventHUp|vfs.EventRdHUp {
		t.Errorf("peer closed: %#x", got)
	}
	sb.EventUnregister(w)
	b.DecRef()
}

// budgetCtx is a ctx whose sandbox has a memory budget of limit bytes.
type budgetCtx struct {
	*ctx
	b *vfstest.Budget
}

func (c budgetCtx) MemoryBudget() vfs.Charger { return c.b }

// TestStreamChargesBudget: queued stream data is charged to the sandbox's
// memory budget until read (a send past it is ENOBUFS), and a receive does
// not gather a second, uncharged copy of what is queued: with the budget
// spent it returns what the budget covers.
func TestStreamChargesBudget(t *testing.T) {
	b := &vfstest.Budget{Limit: 1 << 20}
	c := budgetCtx{newCtx(1), b}
	a, z, err := NewNamespace().Pair(c, linux.SOCK_STREAM, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	sa, sz := sockOf(t, a), sockOf(t, z)
	sa.opts.SndBuf = 1 << 30
	chunk := make([]byte, 256<<10)
	sent := 0
	for {
		n, err := sa.SendMsg(c, &socket.SendRequest{Data: chunk, NonBlock: true})
		sent += n
		if err != nil {
			if err != linux.ENOBUFS {
				t.Fatalf("send past the budget: %v, want ENOBUFS", err)
			}
			break
		}
	}
	if sent < 512<<10 || b.Charged > b.Limit {
		t.Fatalf("sent %d, charged %d of %d", sent, b.Charged, b.Limit)
	}
	res, err := sz.RecvMsg(c, &socket.RecvRequest{Len: 1 << 30, NonBlock: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.N >= sent || res.N < recvSmall {
		t.Errorf("receive with the budget spent got %d of %d queued bytes; want a short read of at least %d", res.N, sent, recvSmall)
	}
	a.DecRef()
	z.DecRef()
	if b.Charged != 0 {
		t.Errorf("charged %d after both ends closed", b.Charged)
	}
}

// TestAbstractNamesPerNetNamespace: an abstract name lives in the network
// namespace of the socket bound to it: a socket made in another one
// neither reaches it (ECONNREFUSED) nor collides with it, and binds the
// same name for itself; a filesystem name reaches across.
func TestAbstractNamesPerNetNamespace(t *testing.T) {
	ns := NewNamespace()
	ca, cb := newCtx(10), newCtx(20)
	ca.net, cb.net = "a", "b"
	cb.fs = ca.fs // one filesystem, two network namespaces
	socketIn := func(c *ctx) *Socket {
		d, err := ns.Socket(c, linux.SOCK_STREAM, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.DecRef)
		return sockOf(t, d)
	}
	listenIn := func(c *ctx, addr []byte) {
		s := socketIn(c)
		if err := s.Bind(c, addr); err != nil {
			t.Fatal(err)
		}
		if err := s.Listen(c, 4); err != nil {
			t.Fatal(err)
		}
	}
	abs := Address{Abstract: true, Name: "srv"}.Sockaddr()
	listenIn(ca, abs)
	if err := socketIn(cb).Connect(cb, abs, true); err != linux.ECONNREFUSED {
		t.Errorf("connect from another network namespace: %v, want ECONNREFUSED", err)
	}
	if err := socketIn(cb).Bind(cb, abs); err != nil {
		t.Errorf("bind of the same abstract name in another network namespace: %v", err)
	}
	if err := socketIn(ca).Connect(ca, abs, true); err != nil {
		t.Errorf("connect in the name's own network namespace: %v", err)
	}
	// A path name: bound from a, reached from b.
	listenIn(ca, pathAddr("/sock"))
	if err := socketIn(cb).Connect(cb, pathAddr("/sock"), true); err != nil {
		t.Errorf("connect to a path name from another network namespace: %v", err)
	}
}
