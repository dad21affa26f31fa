package inet

import (
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"uk/fs/vfs"
)

// Socket memory accounting: what tcpip holds in uk's heap for a sandbox's
// sockets (send queues, receive queues, segments in flight on loopback)
// is charged to the sandbox's memory budget, as Linux charges socket
// memory to tcp_mem/udp_mem and the memory cgroup. Without it a program
// that filled a hundred loopback connections without reading made uk hold
// gigabytes whatever --mem said.
//
// tcpip does not report its allocations, so the charge is a count: every
// so often (every pressureTick, recountEvery bytes sent or received, a
// send the budget cannot cover, a socket closing) memAcct adds up what
// every socket of the stack holds, and in between each send is charged up
// front at an estimate that covers what it can add (its bytes on the
// sender's queue and again on the receiver's, with a segment's overhead
// on each). So what tcpip holds is at most what is charged, give or take
// what arrived from outside through a TAP link since the last count; and
// past the sockets' share receive buffers shrink to what they hold, so
// that nothing more arrives (squeezeLocked). A send past the share waits
// for memory when it may block (a stream), else fails as Linux's do when
// socket memory is spent: EAGAIN without blocking, ENOBUFS for a
// datagram.

// recountEvery is how much may be sent or received between two counts.
// A count costs a few hundred nanoseconds per socket, so this keeps it
// well under 1% of the time spent moving the bytes.
const recountEvery = 4 << 20

// segCost is what one tcpip segment costs beyond its payload: the segment
// and packet buffer structures, headers, and the rounding of its chunk.
const segCost = int64(tcp.SegOverheadSize + 256)

// socketMemLimit is the most a stack's sockets may hold of a budget: a
// quarter of it (at least 4 MiB, at most half), as Linux's tcp_mem
// keeps socket buffers to a share of the memory (about a tenth there):
// sockets filled by a program that never reads then stop its sends, not
// its page faults, and the OOM killer stays out of it.
func socketMemLimit(b vfs.Charger) int64 {
	sz, ok := b.(interface{ Size() int64 })
	if !ok {
		return 1 << 62
	}
	return min(sz.Size()/2, max(sz.Size()/4, 4<<20))
}

// memAcct is a stack's socket memory account.
type memAcct struct {
	mu sync.Mutex
	// budget is the sandbox's memory (the first task's that sent); nil
	// until then, when nothing is charged.
	budget vfs.Charger
	// limit is the most the sockets may hold (socketMemLimit).
	limit int64
	// charged is what budget holds for this stack's sockets.
	charged int64
	// deficit is what the last count found in use beyond what budget
	// could cover: no send is accepted while it is positive.
	deficit int64
	// moved is how much was sent or received since the last count.
	moved int64
	// socks are the TCP sockets whose send queues are counted: open
	// ones, and closed ones until their queue has drained.
	socks map[*Socket]struct{}
	// recountQueued is set while a count after a close is pending.
	recountQueued atomic.Bool
	// ticking is set while the periodic count runs (opened).
	ticking bool
	// linkRx is what the stack's links (all but loopback) had received
	// at the last count, in packets: only they bring memory in that no
	// send was charged for.
	linkRx uint64
	// counts is how many counts were made (for tests).
	counts int
	// ticks counts the periodic counts' ticks; timeWaitShort is set while
	// guardTimeWaitLocked has cut TIME_WAIT short.
	ticks         int
	timeWaitShort bool
	// timeWaitCharged is what budget holds for the connections in
	// TIME_WAIT at the last guard (guardTimeWaitLocked).
	timeWaitCharged int64
	// squeezed are the TCP endpoints whose receive buffer a count under
	// pressure shrank, with the size each had (squeezeLocked).
	squeezed map[*tcp.Endpoint]int64
}

// track adds a TCP socket to the sockets whose send queue is counted.
func (m *memAcct) track(s *Socket) {
	m.mu.Lock()
	if m.socks == nil {
		m.socks = make(map[*Socket]struct{})
	}
	m.socks[s] = struct{}{}
	m.mu.Unlock()
}

// setBudgetLocked gives the account the sandbox's budget, once: at the
// first socket made or the first send.
func (m *memAcct) setBudgetLocked(ctx vfs.Context) {
	if m.budget == nil {
		m.budget = vfs.ChargerOf(ctx)
		m.limit = socketMemLimit(m.budget)
	}
}

// opened is called for every socket made in the sandbox: the account
// takes its budget, and counts every pressureTick while the stack has TCP
// sockets, so that what arrives from outside (a TAP peer sending to a
// program that does not read) is charged, and squeezed when the sockets
// hold more than their share, even if the program never sends.
func (m *memAcct) opened(ctx vfs.Context, st *Stack) {
	m.mu.Lock()
	m.setBudgetLocked(ctx)
	start := !m.ticking && len(m.socks) > 0
	m.ticking = m.ticking || start
	m.mu.Unlock()
	if start {
		m.tick(st)
	}
}

// pressureTick is how often the account counts while sockets exist.
const pressureTick = 100 * time.Millisecond

func (m *memAcct) tick(st *Stack) {
	time.AfterFunc(pressureTick, func() {
		m.mu.Lock()
		// The count stops with the last socket, unless connections in
		// TIME_WAIT are still charged: the guard gives their memory back
		// as they go.
		if len(m.socks) == 0 && m.timeWaitCharged == 0 {
			m.ticking = false
			m.mu.Unlock()
			return
		}
		if !m.settledLocked(st) {
			m.recountLocked(st)
		}
		if m.ticks++; m.ticks%timeWaitEvery == 0 {
			m.guardTimeWaitLocked(st)
		}
		m.mu.Unlock()
		m.tick(st)
	})
}

// settledLocked reports whether a count would find what the last one
// did, and change nothing: nothing is charged or owed, no receive buffer
// is squeezed, nothing was sent or read since, and no link has received a
// packet. Loopback traffic is charged when it is sent, so a stack that
// only opens and closes connections (thousands of them in TIME_WAIT,
// which every count visits) is not counted ten times a second for
// nothing.
func (m *memAcct) settledLocked(st *Stack) bool {
	return m.charged == 0 && m.deficit == 0 && m.moved == 0 && len(m.squeezed) == 0 &&
		st.linkRxPackets() == m.linkRx
}

// reserve charges the estimate of what sending n bytes on s may make
// tcpip hold; false when the budget cannot cover it even after a count.
func (m *memAcct) reserve(ctx vfs.Context, st *Stack, s *Socket, n int) bool {
	if n <= 0 {
		return true
	}
	if s.typ == linux.SOCK_STREAM {
		// A stream write takes what fits in the send buffer; a datagram
		// goes whole or not at all.
		n = min(n, int(s.ep.SocketOptions().GetSendBufferSize()))
	}
	est := 2 * (int64(n) + segCost)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setBudgetLocked(ctx)
	if m.moved+est > recountEvery || m.deficit > 0 || m.charged+est > m.limit {
		m.recountLocked(st)
	}
	if m.deficit > 0 || m.charged+est > m.limit {
		return false
	}
	if !m.budget.Charge(est) {
		m.recountLocked(st)
		if m.deficit > 0 || !m.budget.Charge(est) {
			return false
		}
	}
	m.charged += est
	m.moved += est
	return true
}

// received notes n bytes read from a socket: their memory is free, which
// the next count gives back to the budget.
func (m *memAcct) received(st *Stack, n int) {
	if n <= 0 {
		return
	}
	m.mu.Lock()
	m.moved += int64(n)
	if m.moved > recountEvery && m.budget != nil {
		m.recountLocked(st)
	}
	m.mu.Unlock()
}

// closed is called when s is released: a socket with nothing queued is
// forgotten at once (so that opening and closing sockets grows nothing),
// and a count soon after gives the memory back once tcpip has let go of
// it (a TCP connection finishes closing in the background).
func (m *memAcct) closed(st *Stack, s *Socket) {
	m.mu.Lock()
	if s.typ == linux.SOCK_STREAM && sendQueued(s.ep) == 0 {
		delete(m.socks, s)
	}
	charged := m.charged
	m.mu.Unlock()
	if charged == 0 || !m.recountQueued.CompareAndSwap(false, true) {
		return
	}
	m.recountLater(st, 20*time.Millisecond, 0)
}

// recountLater counts after d, and again (each time twice as late, for
// nearly three minutes in all from 20 ms) while closed sockets still hold
// memory: a connection whose peer does not read lingers until it times
// out.
func (m *memAcct) recountLater(st *Stack, d time.Duration, tries int) {
	time.AfterFunc(d, func() {
		m.mu.Lock()
		m.recountLocked(st)
		lingering := false
		for s := range m.socks {
			lingering = lingering || s.released.Load()
		}
		m.mu.Unlock()
		if lingering && tries < 12 {
			m.recountLater(st, 2*d, tries+1)
			return
		}
		m.recountQueued.Store(false)
	})
}

// recountLocked adds up what the stack's sockets hold and makes the
// charge match it.
func (m *memAcct) recountLocked(st *Stack) {
	m.moved = 0
	if m.budget == nil {
		return
	}
	m.linkRx = st.linkRxPackets()
	m.counts++
	var inUse int64
	for s := range m.socks {
		n, keep := s.sendHeld()
		inUse += n
		if !keep {
			delete(m.socks, s)
		}
	}
	eps := st.ts.RegisteredEndpoints()
	for _, te := range eps {
		if ep, ok := te.(tcpip.Endpoint); ok {
			inUse += receiveHeld(ep)
		}
	}
	m.squeezeLocked(eps, inUse)
	switch {
	case inUse < m.charged:
		m.budget.Uncharge(m.charged - inUse)
		m.charged, m.deficit = inUse, 0
	case inUse > m.charged:
		if m.budget.Charge(inUse - m.charged) {
			m.charged, m.deficit = inUse, 0
		} else {
			m.deficit = inUse - m.charged
		}
	default:
		m.deficit = 0
	}
}

// squeezeLocked is Linux's answer to TCP memory pressure on the receive
// side (tcp_clamp_window): while the sockets hold more than their share,
// each TCP receive buffer holding data is shrunk to what it holds, so that
// its window closes and no peer can add to it; sends are refused by then
// too. Once the sockets hold less than half their share the buffers get
// their sizes back. inUse is what the count found.
func (m *memAcct) squeezeLocked(eps []stack.TransportEndpoint, inUse int64) {
	for ep := range m.squeezed {
		if st := ep.EndpointState(); st == tcp.StateClose || st == tcp.StateError {
			delete(m.squeezed, ep)
		}
	}
	switch {
	case inUse > m.limit:
		for _, te := range eps {
			ep, ok := te.(*tcp.Endpoint)
			if !ok {
				continue
			}
			held, ok := tcpReceiveMem(ep)
			so := ep.SocketOptions()
			size := so.GetReceiveBufferSize()
			if !ok || held <= 0 || held >= size {
				continue
			}
			if m.squeezed == nil {
				m.squeezed = make(map[*tcp.Endpoint]int64)
			}
			if _, seen := m.squeezed[ep]; !seen {
				m.squeezed[ep] = size
			}
			so.SetReceiveBufferSize(max(held, minSqueezed), true)
		}
	case inUse < m.limit/2 && len(m.squeezed) > 0:
		for ep, size := range m.squeezed {
			ep.SocketOptions().SetReceiveBufferSize(size, true)
			delete(m.squeezed, ep)
		}
	}
}

// minSqueezed is the least a squeezed receive buffer keeps (Linux's
// SOCK_MIN_RCVBUF is about this).
const minSqueezed = 4096

// sendHeld is what s's send queue holds in tcpip: its bytes and a
// segment for each write since the queue was last seen empty (each write
// is a segment until tcpip merges it when sending; each holds a byte at
// least). keep is false once s is released and its queue is empty.
func (s *Socket) sendHeld() (n int64, keep bool) {
	q := sendQueued(s.ep)
	if q <= 0 {
		s.sndSegs.Store(0)
		return 0, !s.released.Load()
	}
	segs := min(s.sndSegs.Load(), int64(q))
	s.sndSegs.Store(segs)
	return int64(q) + segs*segCost, true
}

// receiveHeld is what a tcpip endpoint's receive queue holds: for TCP,
// what tcpip counts itself (segments with their overhead); otherwise
// nothing when the queue is empty, else up to its receive buffer, which
// tcpip fills with packets and their overhead (a queue of one-byte
// segments holds a kilobyte per byte), capped by a segment's cost per
// byte queued.
func receiveHeld(ep tcpip.Endpoint) int64 {
	if te, ok := ep.(*tcp.Endpoint); ok {
		if n, ok := tcpReceiveMem(te); ok {
			return n
		}
	}
	q, err := ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
	if err != nil || q <= 0 {
		return 0
	}
	// A datagram queue reports only its first datagram: count it full.
	limit := ep.SocketOptions().GetReceiveBufferSize() + 64<<10 + segCost
	if _, ok := ep.(*tcp.Endpoint); !ok {
		return limit
	}
	return min(limit, int64(q)*(1+segCost))
}

// sndBufUsedIndex is the field index path of tcp.Endpoint's
// sndQueueInfo.TCPSndBufState.SndBufUsed (the bytes on its send queue:
// written and not yet acknowledged), which tcpip reports nowhere (its
// SendQueueSizeOption is not implemented for TCP). It is looked up once:
// by name it cost a microsecond at every close and count. ok is false
// when this tcpip keeps no such integer field.
var sndBufUsedIndex = sync.OnceValues(func() ([]int, bool) {
	t := reflect.TypeFor[tcp.Endpoint]()
	var index []int
	for _, name := range []string{"sndQueueInfo", "TCPSndBufState", "SndBufUsed"} {
		if t.Kind() != reflect.Struct {
			return nil, false
		}
		f, found := t.FieldByName(name)
		if !found {
			return nil, false
		}
		index = append(index, f.Index...)
		t = f.Type
	}
	return index, t.Kind() == reflect.Int
})

// sendQueued returns the bytes on a TCP endpoint's send queue (Linux's
// SIOCOUTQ), read under the endpoint's lock, which tcpip holds whenever
// it changes them. An endpoint of another kind, or a tcpip whose fields
// moved, reports its whole send buffer: counted as full, never as empty.
func sendQueued(ep tcpip.Endpoint) int {
	if r, ok := ep.(*renewableEndpoint); ok {
		ep = r.get()
	}
	te, ok := ep.(*tcp.Endpoint)
	index, known := sndBufUsedIndex()
	if !ok || !known {
		return int(ep.SocketOptions().GetSendBufferSize())
	}
	v := reflect.ValueOf(te).Elem().FieldByIndex(index)
	te.LockUser()
	n := v.Int()
	te.UnlockUser()
	return int(n)
}

// Connections in TIME_WAIT. tcpip keeps a whole endpoint for each (about
// 10 KiB of uk's heap, measured: 10,000 closed connections held 118 MB) for
// a minute, which a program that connects and closes in a loop could
// make uk hold gigabytes of. They are charged to the budget (their count
// times timeWaitCost, made to match once a second), and, as Linux with
// tcp_max_tw_buckets (past which a closing socket skips TIME_WAIT), once a
// stack holds more than maxTimeWait of them, or the budget cannot cover
// them, connections that close from then on leave TIME_WAIT at once, until
// fewer than half that many are left.
const (
	timeWaitCost  = 10 << 10
	timeWaitEvery = 10 // ticks: once a second
	minTimeWait   = 64
	// shortTimeWait is TIME_WAIT's length while cut short (tcpip takes
	// 0 for its default).
	shortTimeWait = time.Millisecond
)

// maxTimeWait is how many connections may be in TIME_WAIT before new ones
// skip it: their memory within an eighth of the sockets' share (limit).
func maxTimeWait(limit int64) int {
	return int(max(minTimeWait, min(limit/8/timeWaitCost, 1<<20)))
}

// guardTimeWaitLocked counts the stack's connections in TIME_WAIT and cuts
// TIME_WAIT short for the next ones while there are too many.
func (m *memAcct) guardTimeWaitLocked(st *Stack) {
	limit := m.limit
	if m.budget == nil {
		limit = 1 << 62
	}
	n := timeWaitCount(st.ts)
	tight := !m.chargeTimeWaitLocked(n)
	most := maxTimeWait(limit)
	var d tcpip.TCPTimeWaitTimeoutOption
	switch {
	case (n >= most || tight) && !m.timeWaitShort:
		d = tcpip.TCPTimeWaitTimeoutOption(shortTimeWait)
	case n < most/2 && !tight && m.timeWaitShort:
		d = tcpip.TCPTimeWaitTimeoutOption(tcp.DefaultTCPTimeWaitTimeout)
	default:
		return
	}
	if err := st.ts.SetTransportProtocolOption(tcp.ProtocolNumber, &d); err == nil {
		m.timeWaitShort = !m.timeWaitShort
	}
}

// chargeTimeWaitLocked makes the budget hold timeWaitCost for each of n
// connections in TIME_WAIT; false when it cannot cover them (they then
// stay charged at what it could, the old amount).
func (m *memAcct) chargeTimeWaitLocked(n int) bool {
	if m.budget == nil {
		return true
	}
	want := int64(n) * timeWaitCost
	switch {
	case want < m.timeWaitCharged:
		m.budget.Uncharge(m.timeWaitCharged - want)
	case want > m.timeWaitCharged:
		if !m.budget.Charge(want - m.timeWaitCharged) {
			return false
		}
	}
	m.timeWaitCharged = want
	return true
}

// timeWaitCount is how many of the stack's TCP endpoints are in TIME_WAIT.
func timeWaitCount(ts *stack.Stack) int {
	n := 0
	for _, te := range ts.RegisteredEndpoints() {
		if ep, ok := te.(*tcp.Endpoint); ok && ep.EndpointState() == tcp.StateTimeWait {
			n++
		}
	}
	return n
}
