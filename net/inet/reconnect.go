package inet

import (
	"io"
	"sync/atomic"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// renewableEndpoint is a TCP socket's endpoint that can be replaced by a
// fresh one. Linux lets a socket whose connection attempt failed (refused,
// timed out, reset) connect again: it is back in the CLOSE state. A tcpip
// endpoint in its error state refuses every later connect, so the socket
// swaps in a new endpoint for the next attempt. Every method reads the
// current endpoint atomically; calls in flight on the old one finish on
// it.
type renewableEndpoint struct {
	cur atomic.Pointer[tcpip.Endpoint]
}

func newRenewable(ep tcpip.Endpoint) *renewableEndpoint {
	r := &renewableEndpoint{}
	r.cur.Store(&ep)
	return r
}

func (r *renewableEndpoint) get() tcpip.Endpoint { return *r.cur.Load() }

// noteConnectResult remembers that a connect reported the failure of
// the connection attempt (the endpoint is in its error state), so that
// the next connect starts afresh.
func (s *Socket) noteConnectResult(err error) {
	if err == nil || err == linux.EINPROGRESS || err == linux.EALREADY {
		return
	}
	if tcp.EndpointState(s.ep.State()) != tcp.StateError {
		return
	}
	// The failure is reported now: the endpoint's copy of the error goes
	// (SO_ERROR then reads 0) and poll stops saying POLLERR.
	s.ep.LastError()
	s.mu.Lock()
	s.connectFailed = true
	s.errorReported = true
	s.mu.Unlock()
}

// renewTCP replaces the endpoint of a TCP socket whose connection attempt
// failed, and that a connect already reported, with a fresh one on the
// same waiter queue, carrying the socket's options and its explicit bind
// over, and closes the old one. A socket whose established connection
// was reset is not renewed: Linux answers its connect with EISCONN (tcpip
// does likewise).
func (s *Socket) renewTCP() {
	r, ok := s.ep.(*renewableEndpoint)
	if !ok {
		return
	}
	s.mu.Lock()
	failed := s.connectFailed
	s.connectFailed = false
	s.mu.Unlock()
	old := r.get()
	if !failed || tcp.EndpointState(old.State()) != tcp.StateError {
		return
	}
	netProto := tcpip.NetworkProtocolNumber(0x0800)
	if s.family == linux.AF_INET6 {
		netProto = 0x86dd
	}
	ep, terr := s.st.ts.NewEndpoint(tcp.ProtocolNumber, netProto, s.wq)
	if terr != nil {
		return
	}
	copyOptions(old, ep)
	s.mu.Lock()
	bound := s.boundTo
	s.mu.Unlock()
	if bound != nil {
		ep.Bind(*bound)
	}
	r.cur.Store(&ep)
	s.mu.Lock()
	s.errorReported = false
	s.shut = 0
	s.mu.Unlock()
	old.Close()
}

// copyOptions carries the options a program may have set over to a new
// endpoint.
func copyOptions(from, to tcpip.Endpoint) {
	f, t := from.SocketOptions(), to.SocketOptions()
	t.SetReuseAddress(f.GetReuseAddress())
	t.SetReusePort(f.GetReusePort())
	t.SetKeepAlive(f.GetKeepAlive())
	t.SetLinger(f.GetLinger())
	t.SetDelayOption(f.GetDelayOption())
	t.SetCorkOption(f.GetCorkOption())
	t.SetQuickAck(f.GetQuickAck())
	t.SetV6Only(f.GetV6Only())
	t.SetBindToDevice(f.GetBindToDevice())
	t.SetRcvlowat(f.GetRcvlowat())
	t.SetSendBufferSize(f.GetSendBufferSize(), true)
	t.SetReceiveBufferSize(f.GetReceiveBufferSize(), true)
	for _, o := range []tcpip.SockOptInt{tcpip.IPv4TTLOption, tcpip.IPv4TOSOption, tcpip.IPv6HopLimitOption,
		tcpip.IPv6TrafficClassOption, tcpip.KeepaliveCountOption, tcpip.MaxSegOption} {
		if v, err := from.GetSockOptInt(o); err == nil {
			to.SetSockOptInt(o, v)
		}
	}
	var idle tcpip.KeepaliveIdleOption
	if from.GetSockOpt(&idle) == nil {
		to.SetSockOpt(&idle)
	}
	var intvl tcpip.KeepaliveIntervalOption
	if from.GetSockOpt(&intvl) == nil {
		to.SetSockOpt(&intvl)
	}
	var uto tcpip.TCPUserTimeoutOption
	if from.GetSockOpt(&uto) == nil {
		to.SetSockOpt(&uto)
	}
}

// Close implements tcpip.Endpoint.
func (r *renewableEndpoint) Close() { r.get().Close() }

// Abort implements tcpip.Endpoint.
func (r *renewableEndpoint) Abort() { r.get().Abort() }

// Read implements tcpip.Endpoint.
func (r *renewableEndpoint) Read(w io.Writer, o tcpip.ReadOptions) (tcpip.ReadResult, tcpip.Error) {
	return r.get().Read(w, o)
}

// Write implements tcpip.Endpoint.
func (r *renewableEndpoint) Write(p tcpip.Payloader, o tcpip.WriteOptions) (int64, tcpip.Error) {
	return r.get().Write(p, o)
}

// Connect implements tcpip.Endpoint.
func (r *renewableEndpoint) Connect(a tcpip.FullAddress) tcpip.Error { return r.get().Connect(a) }

// Disconnect implements tcpip.Endpoint.
func (r *renewableEndpoint) Disconnect() tcpip.Error { return r.get().Disconnect() }

// Shutdown implements tcpip.Endpoint.
func (r *renewableEndpoint) Shutdown(f tcpip.ShutdownFlags) tcpip.Error { return r.get().Shutdown(f) }

// Listen implements tcpip.Endpoint.
func (r *renewableEndpoint) Listen(backlog int) tcpip.Error { return r.get().Listen(backlog) }

// Accept implements tcpip.Endpoint.
func (r *renewableEndpoint) Accept(peer *tcpip.FullAddress) (tcpip.Endpoint, *waiter.Queue, tcpip.Error) {
	return r.get().Accept(peer)
}

// Bind implements tcpip.Endpoint.
func (r *renewableEndpoint) Bind(a tcpip.FullAddress) tcpip.Error { return r.get().Bind(a) }

// GetLocalAddress implements tcpip.Endpoint.
func (r *renewableEndpoint) GetLocalAddress() (tcpip.FullAddress, tcpip.Error) {
	return r.get().GetLocalAddress()
}

// GetRemoteAddress implements tcpip.Endpoint.
func (r *renewableEndpoint) GetRemoteAddress() (tcpip.FullAddress, tcpip.Error) {
	return r.get().GetRemoteAddress()
}

// Readiness implements tcpip.Endpoint.
func (r *renewableEndpoint) Readiness(m waiter.EventMask) waiter.EventMask {
	return r.get().Readiness(m)
}

// SetSockOpt implements tcpip.Endpoint.
func (r *renewableEndpoint) SetSockOpt(o tcpip.SettableSocketOption) tcpip.Error {
	return r.get().SetSockOpt(o)
}

// SetSockOptInt implements tcpip.Endpoint.
func (r *renewableEndpoint) SetSockOptInt(o tcpip.SockOptInt, v int) tcpip.Error {
	return r.get().SetSockOptInt(o, v)
}

// GetSockOpt implements tcpip.Endpoint.
func (r *renewableEndpoint) GetSockOpt(o tcpip.GettableSocketOption) tcpip.Error {
	return r.get().GetSockOpt(o)
}

// GetSockOptInt implements tcpip.Endpoint.
func (r *renewableEndpoint) GetSockOptInt(o tcpip.SockOptInt) (int, tcpip.Error) {
	return r.get().GetSockOptInt(o)
}

// State implements tcpip.Endpoint.
func (r *renewableEndpoint) State() uint32 { return r.get().State() }

// ModerateRecvBuf implements tcpip.Endpoint.
func (r *renewableEndpoint) ModerateRecvBuf(copied int) { r.get().ModerateRecvBuf(copied) }

// Info implements tcpip.Endpoint.
func (r *renewableEndpoint) Info() tcpip.EndpointInfo { return r.get().Info() }

// Stats implements tcpip.Endpoint.
func (r *renewableEndpoint) Stats() tcpip.EndpointStats { return r.get().Stats() }

// SetOwner implements tcpip.Endpoint.
func (r *renewableEndpoint) SetOwner(o tcpip.PacketOwner) { r.get().SetOwner(o) }

// LastError implements tcpip.Endpoint.
func (r *renewableEndpoint) LastError() tcpip.Error { return r.get().LastError() }

// SocketOptions implements tcpip.Endpoint.
func (r *renewableEndpoint) SocketOptions() *tcpip.SocketOptions { return r.get().SocketOptions() }

var _ tcpip.Endpoint = (*renewableEndpoint)(nil)
