package inet

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"uk/fs/vfs"
	"uk/fs/vfs/vfstest"
	"uk/net/netdev"
	"uk/net/socket"
)

// budgetCtx is a task context whose sandbox has the memory budget b.
type budgetCtx struct {
	testCtx
	b *vfstest.Budget
}

func (c budgetCtx) MemoryBudget() vfs.Charger { return c.b }

// newBudgetSocket is a socket made in ctx's sandbox (the stack's account
// takes the budget of the first socket made).
func newBudgetSocket(t *testing.T, st *Stack, ctx socket.Context, typ int) *Socket {
	t.Helper()
	d, err := st.Provider(linux.AF_INET).Socket(ctx, typ, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.DecRef() })
	return d.Impl().(*Socket)
}

// newListener is a TCP socket listening on addr (a sockaddr_in), closed
// when the test ends.
func newListener(t *testing.T, st *Stack, ctx socket.Context, addr []byte) *Socket {
	t.Helper()
	l := newBudgetSocket(t, st, ctx, linux.SOCK_STREAM)
	if err := l.Bind(ctx, addr); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(ctx, 16); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSocketBuffersCharged: loopback connections filled without reading
// hold no more than the sandbox's budget: sends stop with EAGAIN once it
// is spent (ten pairs hold 20 MiB or more in tcpip without the account,
// against a budget of 6 MiB), and reading and closing them gives it all
// back.
func TestSocketBuffersCharged(t *testing.T) {
	st := newLoopbackStack(t)
	b := &vfstest.Budget{Limit: 6 << 20}
	ctx := budgetCtx{testCtx{vfstest.Root()}, b}
	l := newListener(t, st, ctx, sockaddrIn(4250))
	chunk := make([]byte, 64<<10)
	var clients, servers []*vfs.FileDescription
	sent := 0
	var each []int
	for i := 0; i < 10; i++ {
		cd, err := st.Provider(linux.AF_INET).Socket(ctx, linux.SOCK_STREAM, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, cd)
		c := cd.Impl().(*Socket)
		if err := c.Connect(ctx, sockaddrIn(4250), false); err != nil {
			t.Fatal(err)
		}
		sd, _, err := l.Accept(ctx, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, sd)
		before := sent
		for {
			n, err := c.SendMsg(ctx, &socket.SendRequest{Data: chunk, NonBlock: true})
			sent += n
			if errors.Is(err, linux.EAGAIN) {
				break
			}
			if err != nil {
				t.Fatalf("send: %v", err)
			}
		}
		each = append(each, sent-before)
	}
	if sent > int(b.Limit) {
		t.Errorf("ten filled connections took %d bytes with a budget of %d", sent, b.Limit)
	}
	if b.Used() > b.Limit || b.Used() == 0 {
		t.Errorf("%d bytes charged with %d sent, budget %d", b.Used(), sent, b.Limit)
	}
	t.Logf("sent %d KiB, charged %d KiB", sent>>10, b.Used()>>10)

	got := 0
	for i, sd := range servers {
		s := sd.Impl().(*Socket)
		// What is still on the sender's queue comes as the window opens.
		for n := 0; n < each[i]; {
			res, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: 1 << 20})
			if err != nil {
				t.Fatalf("recv: %v", err)
			}
			n += res.N
			got += res.N
		}
	}
	if got != sent {
		t.Errorf("read back %d bytes of %d", got, sent)
	}
	for _, d := range append(clients, servers...) {
		d.DecRef()
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.Used() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if b.Used() != 0 {
		t.Errorf("%d bytes still charged after every connection was read and closed", b.Used())
	}
}

// TestSendWaitsForSocketMemory: a blocking stream send that finds the
// sockets' memory spent waits (Linux's sk_stream_wait_memory) and goes on
// once a reader frees some, instead of failing.
func TestSendWaitsForSocketMemory(t *testing.T) {
	st := newLoopbackStack(t)
	b := &vfstest.Budget{Limit: 1 << 20} // less than tcpip's own buffers: memory binds first
	ctx := budgetCtx{testCtx{vfstest.Root()}, b}
	l := newBudgetSocket(t, st, ctx, linux.SOCK_STREAM)
	if err := l.Bind(ctx, sockaddrIn(4251)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(ctx, 4); err != nil {
		t.Fatal(err)
	}
	c := newBudgetSocket(t, st, ctx, linux.SOCK_STREAM)
	if err := c.Connect(ctx, sockaddrIn(4251), false); err != nil {
		t.Fatal(err)
	}
	sd, _, err := l.Accept(ctx, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sd.DecRef()
	srv := sd.Impl().(*Socket)
	chunk := make([]byte, 64<<10)
	// Fill until sends keep failing: a first EAGAIN may come from the
	// estimates charged since the last count, which the next count
	// corrects.
	for fails := 0; fails < 5; {
		_, err := c.SendMsg(ctx, &socket.SendRequest{Data: chunk, NonBlock: true})
		switch {
		case errors.Is(err, linux.EAGAIN):
			fails++
			time.Sleep(10 * time.Millisecond)
		case err != nil:
			t.Fatal(err)
		default:
			fails = 0
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.SendMsg(ctx, &socket.SendRequest{Data: chunk})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a blocking send with the memory spent returned at once: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	deadline := time.After(10 * time.Second)
	for {
		if _, err := srv.RecvMsg(ctx, &socket.RecvRequest{Len: 1 << 20, NonBlock: true}); err != nil && !errors.Is(err, linux.EAGAIN) {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the blocking send, once the reader read: %v", err)
			}
			return
		case <-deadline:
			t.Fatal("the blocking send still waits after the reader read everything")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestIdleStackNotCounted: a stack whose sockets hold nothing, and whose
// links bring nothing in, is not counted at every tick: a count visits
// every endpoint, and connections opened and closed on loopback leave
// thousands in TIME_WAIT.
func TestIdleStackNotCounted(t *testing.T) {
	st := newLoopbackStack(t)
	ctx := budgetCtx{testCtx{vfstest.Root()}, &vfstest.Budget{Limit: 64 << 20}}
	l := newListener(t, st, ctx, sockaddrIn(4254))
	connectClose(t, st, ctx, l, 4254, 20)
	// Let the closes and the counts they ask for finish.
	time.Sleep(6 * pressureTick)
	st.mem.mu.Lock()
	before, charged := st.mem.counts, st.mem.charged
	st.mem.mu.Unlock()
	time.Sleep(5 * pressureTick)
	st.mem.mu.Lock()
	after := st.mem.counts
	st.mem.mu.Unlock()
	if charged != 0 {
		t.Fatalf("%d bytes charged with nothing sent", charged)
	}
	if after != before {
		t.Errorf("an idle stack was counted %d times in %v", after-before, 5*pressureTick)
	}
}

// TestClosedSocketsForgotten: sockets opened and closed without sending
// leave nothing in the stack's account (a program doing it forever must
// not grow uk).
func TestClosedSocketsForgotten(t *testing.T) {
	st := newLoopbackStack(t)
	ctx := testCtx{vfstest.Root()}
	for i := 0; i < 1000; i++ {
		d, err := st.Provider(linux.AF_INET).Socket(ctx, linux.SOCK_STREAM, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		d.DecRef()
	}
	st.mem.mu.Lock()
	n := len(st.mem.socks)
	st.mem.mu.Unlock()
	if n != 0 {
		t.Errorf("%d closed sockets still tracked", n)
	}
}

// TestTCPReceiveMemRead: tcpip's count of received segment memory is
// found and read (a tcpip whose fields moved would leave the account to
// its cruder estimate without a word otherwise): unread data shows in it,
// with overhead, and reading it all brings it back to zero.
func TestTCPReceiveMemRead(t *testing.T) {
	st := newLoopbackStack(t)
	ctx := testCtx{vfstest.Root()}
	l := newTestSocket(t, st, linux.SOCK_STREAM)
	if err := l.Bind(ctx, sockaddrIn(4252)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c := newTestSocket(t, st, linux.SOCK_STREAM)
	if err := c.Connect(ctx, sockaddrIn(4252), false); err != nil {
		t.Fatal(err)
	}
	sd, _, err := l.Accept(ctx, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sd.DecRef()
	srv := sd.Impl().(*Socket)
	inner := srv.ep
	if r, ok := inner.(*renewableEndpoint); ok {
		inner = r.get()
	}
	te, ok := inner.(*tcp.Endpoint)
	if !ok {
		t.Fatalf("endpoint is a %T", inner)
	}
	const n = 100 << 10
	if _, err := c.SendMsg(ctx, &socket.SendRequest{Data: make([]byte, n)}); err != nil {
		t.Fatal(err)
	}
	var mem int64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if mem, ok = tcpReceiveMem(te); !ok {
			t.Fatal("tcpip's rcvMemUsed was not found")
		}
		if mem > n {
			break
		}
	}
	if mem <= n {
		t.Fatalf("%d bytes unread, tcpip counts %d", n, mem)
	}
	for got := 0; got < n; {
		res, err := srv.RecvMsg(ctx, &socket.RecvRequest{Len: n})
		if err != nil {
			t.Fatal(err)
		}
		got += res.N
	}
	if mem, _ = tcpReceiveMem(te); mem != 0 {
		t.Errorf("everything read, tcpip still counts %d", mem)
	}
}

// sizedBudget is a budget with the size of a memory file, from which the
// sockets' share is taken.
type sizedBudget struct {
	*vfstest.Budget
	size int64
}

func (b sizedBudget) Size() int64 { return b.size }

type sizedCtx struct {
	testCtx
	b sizedBudget
}

func (c sizedCtx) MemoryBudget() vfs.Charger { return c.b }

// TestReceivePressure: data that reaches the sandbox's sockets without a
// send of its own (as a TAP peer's does; here written to tcpip directly)
// is counted by the periodic count even if the program never sends, and
// past the sockets' share their receive buffers are shrunk to what they
// hold, so that no more comes in; once read, they get their sizes back.
func TestReceivePressure(t *testing.T) {
	st := newLoopbackStack(t)
	ctx := sizedCtx{testCtx{vfstest.Root()}, sizedBudget{&vfstest.Budget{Limit: 16 << 20}, 16 << 20}}
	l := newListener(t, st, ctx, sockaddrIn4(4253, [4]byte{}))
	limit := socketMemLimit(ctx.b)
	// The peers send from outside, as a TAP peer does: from a second
	// stack over a link, with nothing charged for what they send.
	dial := farPeers(t, st)
	var peers []tcpip.Endpoint
	var servers []*Socket
	for i := 0; i < 8; i++ {
		peers = append(peers, dial(4253))
		sd, _, err := l.Accept(ctx, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer sd.DecRef()
		servers = append(servers, sd.Impl().(*Socket))
	}
	inject := func() {
		chunk := make([]byte, 64<<10)
		for _, ep := range peers {
			for k := 0; k < 64; k++ {
				if _, err := ep.Write(bytes.NewReader(chunk), tcpip.WriteOptions{}); err != nil {
					break
				}
			}
		}
	}
	held := func() int64 {
		var n int64
		for _, s := range servers {
			m, _ := tcpReceiveMem(innerTCP(t, s))
			n += m
		}
		return n
	}
	inject()
	time.Sleep(4 * pressureTick)
	before := held()
	if before <= limit {
		t.Fatalf("the peers put only %d bytes in the receive queues (the share is %d)", before, limit)
	}
	squeezed := 0
	for _, s := range servers {
		te := innerTCP(t, s)
		if m, _ := tcpReceiveMem(te); m > 0 && te.SocketOptions().GetReceiveBufferSize() <= max(m, minSqueezed) {
			squeezed++
		}
	}
	if squeezed == 0 {
		t.Fatalf("no receive buffer shrunk with %d bytes held against a share of %d", before, limit)
	}
	// What arrived from outside is charged at the counts (every
	// pressureTick): segments in flight when the buffers shrank may land
	// after the last one, at most a window a socket.
	if used := ctx.b.Used(); used < before-int64(len(servers))*(64<<10) {
		t.Errorf("%d bytes received, %d charged, though the program never sent", before, used)
	}
	inject()
	time.Sleep(4 * pressureTick)
	if after := held(); after > before+int64(len(servers))*(64<<10) {
		t.Errorf("receive queues grew from %d to %d bytes after they were shrunk", before, after)
	}
	// Read everything, including what the peers still had queued (it
	// comes through the shrunk windows), until the buffers are restored.
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, s := range servers {
			for {
				if _, err := s.RecvMsg(ctx, &socket.RecvRequest{Len: 1 << 20, NonBlock: true}); err != nil {
					break
				}
			}
		}
		restored := 0
		for _, s := range servers {
			if innerTCP(t, s).SocketOptions().GetReceiveBufferSize() > minSqueezed<<4 {
				restored++
			}
		}
		if restored == len(servers) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d receive buffers have their sizes back after everything was read", restored, len(servers))
		}
		time.Sleep(time.Millisecond)
	}
}

// innerTCP is the tcpip endpoint of a TCP socket.
func innerTCP(t *testing.T, s *Socket) *tcp.Endpoint {
	t.Helper()
	ep := s.ep
	if r, ok := ep.(*renewableEndpoint); ok {
		ep = r.get()
	}
	te, ok := ep.(*tcp.Endpoint)
	if !ok {
		t.Fatalf("endpoint is a %T", ep)
	}
	return te
}

// sockaddrIn4 is a sockaddr_in for addr:port.
func sockaddrIn4(port uint16, addr [4]byte) []byte {
	return []byte{linux.AF_INET, 0, byte(port >> 8), byte(port), addr[0], addr[1], addr[2], addr[3], 0, 0, 0, 0, 0, 0, 0, 0}
}

// farPeers links st (as 10.99.0.1/24 on a new eth0) to a second tcpip
// stack (10.99.0.2) over a pipe, which stands in for the far side of a
// TAP device, and returns a function that connects an endpoint of that
// stack to port on st.
func farPeers(t *testing.T, st *Stack) func(port uint16) tcpip.Endpoint {
	t.Helper()
	near, far := pipe.New("", "", 65536)
	idx, err := st.AttachEthernet("eth0", near, []byte{2, 0, 0, 0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetLinkUp(idx, true); err != nil {
		t.Fatal(err)
	}
	if err := st.AddAddr(netdev.Addr{LinkIndex: idx, Prefix: netip.MustParsePrefix("10.99.0.1/24")}); err != nil {
		t.Fatal(err)
	}
	ps := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
	})
	t.Cleanup(func() { ps.Close(); ps.Wait() })
	if err := ps.CreateNIC(1, far); err != nil {
		t.Fatal(err)
	}
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{10, 99, 0, 2}), PrefixLen: 24}}
	if err := ps.AddProtocolAddress(1, pa, stack.AddressProperties{}); err != nil {
		t.Fatal(err)
	}
	ps.SetRouteTable([]tcpip.Route{{Destination: pa.AddressWithPrefix.Subnet(), NIC: 1}})
	return func(port uint16) tcpip.Endpoint {
		t.Helper()
		var wq waiter.Queue
		ep, terr := ps.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
		if terr != nil {
			t.Fatal(terr)
		}
		t.Cleanup(ep.Close)
		we, ch := waiter.NewChannelEntry(waiter.WritableEvents)
		wq.EventRegister(&we)
		defer wq.EventUnregister(&we)
		switch terr := ep.Connect(tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{10, 99, 0, 1}), Port: port}); terr.(type) {
		case nil:
		case *tcpip.ErrConnectStarted:
			select {
			case <-ch:
			case <-time.After(10 * time.Second):
				t.Fatal("the far peer's connect did not finish")
			}
		default:
			t.Fatal(terr)
		}
		return ep
	}
}

// TestTimeWaitBounded: a program that connects and closes in a loop does
// not make the stack hold a TIME_WAIT endpoint per connection for a
// minute without end: past maxTimeWait of them, connections that close
// next skip TIME_WAIT, and once few are left TIME_WAIT is whole again.
func TestTimeWaitBounded(t *testing.T) {
	st := newLoopbackStack(t)
	// Sockets' share 4 MiB: maxTimeWait is its minimum, 64.
	ctx := sizedCtx{testCtx{vfstest.Root()}, sizedBudget{&vfstest.Budget{Limit: 64 << 20}, 16 << 20}}
	most := maxTimeWait(socketMemLimit(ctx.b))
	if most != minTimeWait {
		t.Fatalf("maxTimeWait of a 16 MiB budget: %d, want %d", most, minTimeWait)
	}
	l := newListener(t, st, ctx, sockaddrIn(4256))
	waitFor := func(what string, cond func(n int) bool) int {
		t.Helper()
		deadline := time.Now().Add(3 * timeWaitEvery * pressureTick)
		for {
			n := timeWaitCount(st.ts)
			if cond(n) {
				return n
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d endpoints in TIME_WAIT", what, n)
			}
			time.Sleep(pressureTick / 4)
		}
	}
	connectClose(t, st, ctx, l, 4256, 2*most)
	waitFor("after the first loop", func(n int) bool { return n >= most })
	// The guard's next count sees them and cuts TIME_WAIT short.
	deadline := time.Now().Add(3 * timeWaitEvery * pressureTick)
	for {
		st.mem.mu.Lock()
		short := st.mem.timeWaitShort
		st.mem.mu.Unlock()
		if short {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d endpoints in TIME_WAIT (most %d) and TIME_WAIT not cut short", timeWaitCount(st.ts), most)
		}
		time.Sleep(pressureTick / 4)
	}
	// What they hold is charged: at least most of them, at timeWaitCost.
	st.mem.mu.Lock()
	charged := st.mem.timeWaitCharged
	st.mem.mu.Unlock()
	if want := int64(most) * timeWaitCost; charged < want || ctx.b.Used() < charged {
		t.Errorf("TIME_WAIT charged %d (budget holds %d), want at least %d", charged, ctx.b.Used(), want)
	}
	before := timeWaitCount(st.ts)
	connectClose(t, st, ctx, l, 4256, 2*most)
	time.Sleep(pressureTick)
	if n := timeWaitCount(st.ts); n > before {
		t.Errorf("TIME_WAIT cut short, %d more connections closed: %d endpoints in TIME_WAIT, %d before", 2*most, n, before)
	}
}

// TestTimeWaitTightBudget: connections in TIME_WAIT that the budget cannot
// cover make the next ones skip it, fewer than maxTimeWait as they are.
func TestTimeWaitTightBudget(t *testing.T) {
	st := newLoopbackStack(t)
	// Sockets' share 4 MiB (maxTimeWait 64), but 100 KiB left in the
	// budget: 20 connections in TIME_WAIT (200 KiB) do not fit.
	ctx := sizedCtx{testCtx{vfstest.Root()}, sizedBudget{&vfstest.Budget{Limit: 100 << 10}, 16 << 20}}
	l := newListener(t, st, ctx, sockaddrIn(4257))
	connectClose(t, st, ctx, l, 4257, 20)
	deadline := time.Now().Add(3 * timeWaitEvery * pressureTick)
	for {
		st.mem.mu.Lock()
		short, charged := st.mem.timeWaitShort, st.mem.timeWaitCharged
		st.mem.mu.Unlock()
		if short {
			if ctx.b.Used() > ctx.b.Limit || charged > ctx.b.Limit {
				t.Errorf("budget holds %d (TIME_WAIT %d), over its limit %d", ctx.b.Used(), charged, ctx.b.Limit)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d endpoints in TIME_WAIT, %d charged, budget %d of %d: TIME_WAIT not cut short",
				timeWaitCount(st.ts), charged, ctx.b.Used(), ctx.b.Limit)
		}
		time.Sleep(pressureTick / 4)
	}
}

// connectClose makes n connections to the listener l (bound to port) and
// closes each, the connecting side first: its end goes to TIME_WAIT.
func connectClose(t *testing.T, st *Stack, ctx socket.Context, l *Socket, port uint16, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		cd, err := st.Provider(linux.AF_INET).Socket(ctx, linux.SOCK_STREAM, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := cd.Impl().(*Socket).Connect(ctx, sockaddrIn(port), false); err != nil {
			t.Fatal(err)
		}
		sd, _, err := l.Accept(ctx, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		cd.DecRef()
		sd.DecRef()
	}
}
