package inet

import (
	"bytes"
	"errors"
	"time"

	linux "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"uk/fs/vfs"
	"uk/net/socket"
)

// Event sets blocking calls wait for.
const (
	readEvents  = vfs.EventIn | vfs.EventRdNorm
	writeEvents = vfs.EventOut | vfs.EventWrNorm
)

func wouldBlock(err tcpip.Error) bool {
	_, ok := err.(*tcpip.ErrWouldBlock)
	return ok
}

func (s *Socket) sndTimeo() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.SndTimeo
}

func (s *Socket) rcvTimeo() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.RcvTimeo
}

// send writes data to the connected peer or to (a datagram socket's
// destination). A stream send blocks until everything is queued, and
// returns the count so far when a signal or timeout interrupts it after
// some data went.
func (s *Socket) send(ctx vfs.Context, data []byte, to *tcpip.FullAddress, flags int, nonblock bool) (int, error) {
	return s.sendWith(ctx, data, to, tcpip.SendableControlMessages{}, flags, nonblock)
}

// sendWith is send with per-packet overrides from control messages and
// MSG_MORE (cork.go).
func (s *Socket) sendWith(ctx vfs.Context, data []byte, to *tcpip.FullAddress, cm tcpip.SendableControlMessages, flags int, nonblock bool) (int, error) {
	more := flags&linux.MSG_MORE != 0
	switch {
	case s.typ == linux.SOCK_STREAM:
		s.tcpMoreBefore(more)
		n, err := s.write(ctx, data, nil, cm, flags, nonblock)
		s.tcpMoreAfter(more)
		return n, err
	case s.isUDP():
		if n, ok, err := s.udpMore(ctx, data, to, cm, flags, nonblock); ok {
			return n, err
		}
	}
	return s.write(ctx, data, to, cm, flags, nonblock)
}

// write hands data to the endpoint, waiting for room as blocking sends
// do.
func (s *Socket) write(ctx vfs.Context, data []byte, to *tcpip.FullAddress, cm tcpip.SendableControlMessages, flags int, nonblock bool) (int, error) {
	stream := s.typ == linux.SOCK_STREAM
	opts := tcpip.WriteOptions{To: to, EndOfRecord: flags&linux.MSG_EOR != 0, ControlMessages: cm}
	var b *socket.Blocker
	defer func() {
		if b != nil {
			b.Done()
		}
	}()
	total := 0
	var memWait time.Time // when this call began waiting for socket memory
	for {
		if s.st != nil && !s.st.mem.reserve(ctx, s.st, s, len(data)-total) {
			// The sockets of the sandbox hold all the memory they may.
			var err error
			switch {
			case nonblock:
				err = linux.EAGAIN
			case !stream:
				err = linux.ENOBUFS
			default:
				// A blocking stream send waits for memory as long as
				// SO_SNDTIMEO allows (Linux's sk_stream_wait_memory).
				if memWait.IsZero() {
					memWait = time.Now()
				}
				if to := s.sndTimeo(); to > 0 && time.Since(memWait) >= to {
					err = linux.EAGAIN
				} else {
					err = s.sleepForMemory(ctx)
				}
			}
			if err == nil {
				continue
			}
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
		r := bytes.NewReader(data[total:])
		n, terr := s.ep.Write(r, opts)
		total += int(n)
		if n > 0 {
			s.sndSegs.Add(1)
		}
		if terr == nil {
			if !stream || total == len(data) {
				return total, nil
			}
			continue
		}
		if !wouldBlock(terr) {
			if total > 0 {
				return total, nil
			}
			return 0, s.sendErr(terr)
		}
		if nonblock {
			if total > 0 {
				return total, nil
			}
			return 0, linux.EAGAIN
		}
		if b == nil {
			b = socket.NewBlocker(writeEvents|vfs.EventErr|vfs.EventHUp, s.sndTimeo())
		}
		if err := b.Wait(ctx, &s.q); err != nil {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
	}
}

// memoryRetry is how long a send waiting for socket memory sleeps before
// it asks again: memory comes back when any socket of the sandbox is read
// or closed, which this socket's queue does not hear of.
const memoryRetry = 10 * time.Millisecond

// sleepForMemory sleeps until the socket's state changes or memoryRetry
// has passed; an error only for a signal.
func (s *Socket) sleepForMemory(ctx vfs.Context) error {
	b := socket.NewBlocker(writeEvents|vfs.EventErr|vfs.EventHUp, memoryRetry)
	defer b.Done()
	for i := 0; i < 2; i++ { // the first Wait only registers
		if err := b.Wait(ctx, &s.q); err != nil {
			if errors.Is(err, linux.EAGAIN) {
				return nil
			}
			return err
		}
	}
	return nil
}

// sendErr is the errno of a failed send: EPIPE raises SIGPIPE only on
// stream sockets.
func (s *Socket) sendErr(terr tcpip.Error) error {
	e := errnoOf(terr)
	if _, ok := terr.(*tcpip.ErrClosedForSend); ok && s.typ != linux.SOCK_STREAM {
		return socket.ErrPipeNoSignal
	}
	if _, ok := terr.(*tcpip.ErrNotConnected); ok && s.typ == linux.SOCK_STREAM {
		return linux.EPIPE
	}
	if _, ok := terr.(*tcpip.ErrClosedForReceive); ok {
		return linux.EPIPE
	}
	return e
}

// truncWriter keeps the first len(buf) bytes written and counts the rest,
// so that a datagram longer than the caller's buffer is truncated, not
// refused.
type truncWriter struct {
	buf []byte
	n   int
}

func (w *truncWriter) Write(p []byte) (int, error) {
	if w.n < len(w.buf) {
		copy(w.buf[w.n:], p)
	}
	w.n += len(p)
	return len(p), nil
}

// recvOnce is one receive attempt into dst.
func (s *Socket) recvOnce(dst []byte, peek, wantAddr bool) (tcpip.ReadResult, tcpip.Error) {
	opts := tcpip.ReadOptions{Peek: peek, NeedRemoteAddr: wantAddr}
	if s.typ == linux.SOCK_STREAM {
		w := tcpip.SliceWriter(dst)
		return s.ep.Read(&w, opts)
	}
	w := &truncWriter{buf: dst}
	r, err := s.ep.Read(w, opts)
	if r.Count > len(dst) {
		r.Count = len(dst)
	}
	return r, err
}

// recv is recvmsg's core: it fills dst, blocking as flags and nonblock
// say. It returns the bytes copied, the datagram's full length, and the
// sender.
func (s *Socket) recv(ctx vfs.Context, dst []byte, flags int, nonblock, wantAddr bool) (tcpip.ReadResult, error) {
	peek := flags&linux.MSG_PEEK != 0
	waitAll := flags&linux.MSG_WAITALL != 0 && s.typ == linux.SOCK_STREAM && !peek
	var b *socket.Blocker
	defer func() {
		if b != nil {
			b.Done()
		}
	}()
	var got tcpip.ReadResult
	for {
		r, terr := s.recvOnce(dst[got.Count:], peek, wantAddr && got.Count == 0)
		if terr == nil {
			if got.Count == 0 {
				got.RemoteAddr = r.RemoteAddr
				got.ControlMessages = r.ControlMessages
			}
			got.Count += r.Count
			got.Total += r.Total
			if s.st != nil && !peek {
				s.st.mem.received(s.st, r.Count)
			}
			if s.typ == linux.SOCK_STREAM && !peek && r.Count > 0 {
				// Receive buffer autotuning (Linux's
				// tcp_rcv_space_adjust after every read): tcpip
				// grows the buffer to what the reader takes per
				// round trip only when told what was copied. Without
				// it the buffer stays at its default (1 MiB) and a
				// fast sender keeps stalling on the window, which
				// costs wake-ups on both sides. SO_RCVBUF, or a
				// squeeze under memory pressure, turns it off as in
				// Linux.
				s.ep.ModerateRecvBuf(r.Count)
			}
			if !waitAll || got.Count == len(dst) || r.Count == 0 {
				return got, nil
			}
			continue
		}
		if _, ok := terr.(*tcpip.ErrClosedForReceive); ok {
			return got, nil
		}
		if !wouldBlock(terr) {
			if got.Count > 0 {
				return got, nil
			}
			if _, ok := terr.(*tcpip.ErrBadBuffer); ok {
				return got, nil
			}
			return got, errnoOf(terr)
		}
		if nonblock {
			if got.Count > 0 {
				return got, nil
			}
			return got, linux.EAGAIN
		}
		if b == nil {
			b = socket.NewBlocker(readEvents|vfs.EventErr|vfs.EventHUp, s.rcvTimeo())
		}
		if err := b.Wait(ctx, &s.q); err != nil {
			if got.Count > 0 {
				return got, nil
			}
			return got, err
		}
	}
}

// recvInto is read(2)'s form of recv.
func (s *Socket) recvInto(ctx vfs.Context, dst []byte, flags int, nonblock bool, from *tcpip.FullAddress) (int, error) {
	r, err := s.recv(ctx, dst, flags, nonblock, from != nil)
	if err != nil {
		return 0, err
	}
	if from != nil {
		*from = r.RemoteAddr
	}
	return r.Count, nil
}

// SendMsg implements socket.Socket.
func (s *Socket) SendMsg(ctx socket.Context, req *socket.SendRequest) (int, error) {
	req.Control.Release()
	if s.typ != linux.SOCK_STREAM {
		// udp_sendmsg's and raw_sendmsg's first checks: the IP length
		// field's limit, then out-of-band data, which only TCP has.
		if len(req.Data) > 0xffff {
			return 0, linux.EMSGSIZE
		}
		if req.Flags&linux.MSG_OOB != 0 {
			return 0, linux.EOPNOTSUPP
		}
	}
	var to *tcpip.FullAddress
	if req.To != nil && s.typ != linux.SOCK_STREAM {
		fa, af, err := s.parseAddrFor(useSend, req.To)
		if err != nil {
			return 0, err
		}
		if af == linux.AF_UNSPEC && s.family == linux.AF_INET && len(req.To) >= sizeofSockaddrIn {
			// udp_sendmsg and raw_sendmsg take an AF_UNSPEC
			// destination's address and port as IPv4 ones.
			af = linux.AF_INET
			fa.Port = portOf(req.To)
			fa.Addr = tcpip.AddrFrom4Slice(req.To[in4AddrOffset : in4AddrOffset+4])
			if fa.Addr.Unspecified() {
				fa.Addr = tcpip.Address{}
			}
		}
		if s.st.loopbackDown(fa.Addr) {
			return 0, linux.ENETUNREACH
		}
		if af != linux.AF_UNSPEC {
			// (An AF_UNSPEC destination on IPv6 means the peer.)
			if fa.Addr.BitLen() == 0 && s.typ == linux.SOCK_RAW {
				// The any address means this host, as in Linux's
				// routing; tcpip's raw endpoints need it spelled out.
				fa.Addr = loopbackOf(s.family)
			}
			to = &fa
		}
	}
	var cm tcpip.SendableControlMessages
	if s.typ != linux.SOCK_STREAM {
		var err error
		if cm, err = s.sendControl(req.Control.Other); err != nil {
			return 0, err
		}
	}
	// TCP's urgent data has no place in tcpip: MSG_OOB data goes in
	// band, which is what a receiver with SO_OOBINLINE would see.
	return s.sendWith(ctx, req.Data, to, cm, req.Flags, req.NonBlock)
}

// recvBufMax bounds the buffer a receive allocates before any data has
// arrived, whatever length the application asks for (up to 2 GiB): the
// largest datagram or packet (IP's 64 KiB, a link frame) fits whole, and
// a stream receive may return less than asked for anyway.
const recvBufMax = 256 << 10

// recvBufSmall is the buffer a receive starts with when the sandbox's
// memory budget cannot cover a larger one: receive buffers above it are
// charged to the budget while the receive holds them (a thread blocked in
// recv keeps its buffer, and MSG_WAITALL gathers up to req.Len).
const recvBufSmall = 16 << 10

// recvCharge charges n bytes of receive buffer to budget, adding them to
// *charged; false when the budget cannot cover them.
func recvCharge(budget vfs.Charger, n int, charged *int64) bool {
	if n <= recvBufSmall {
		return true
	}
	if !budget.Charge(int64(n)) {
		return false
	}
	*charged += int64(n)
	return true
}

// RecvMsg implements socket.Socket.
func (s *Socket) RecvMsg(ctx socket.Context, req *socket.RecvRequest) (*socket.RecvResult, error) {
	if req.Flags&linux.MSG_OOB != 0 && s.typ == linux.SOCK_STREAM {
		// tcp_recv_urg: there is never urgent data to read (tcpip keeps
		// none). Datagram sockets ignore the flag.
		return nil, linux.EINVAL
	}
	if req.Flags&linux.MSG_ERRQUEUE != 0 {
		return nil, linux.EAGAIN
	}
	if s.typ != linux.SOCK_STREAM {
		// A datagram receive reports a pending error before any data.
		s.mu.Lock()
		e := s.pendingErr
		s.pendingErr = 0
		s.mu.Unlock()
		if e != 0 {
			return nil, e
		}
	}
	budget := vfs.ChargerOf(ctx)
	var charged int64
	defer func() { budget.Uncharge(charged) }()
	size := min(req.Len, recvBufMax)
	if !recvCharge(budget, size, &charged) {
		size = min(size, recvBufSmall)
	}
	buf := make([]byte, size)
	r, err := s.recv(ctx, buf, req.Flags, req.NonBlock, req.WantAddr)
	if err != nil {
		return nil, err
	}
	buf = buf[:r.Count]
	// MSG_WAITALL on a stream wants all req.Len bytes: go on in more
	// buffers of the same bound, each allocated only once the one before
	// it is full. recv returns less than a full buffer when something
	// (EOF, an error, a signal) ends the wait, and then so does this.
	waitAll := req.Flags&linux.MSG_WAITALL != 0 && s.typ == linux.SOCK_STREAM && req.Flags&linux.MSG_PEEK == 0
	for more := r.Count; waitAll && more == size && len(buf) < req.Len; {
		if !recvCharge(budget, min(req.Len-len(buf), size), &charged) {
			break // memory is spent: return what arrived, as a signal would
		}
		next := make([]byte, min(req.Len-len(buf), size))
		r2, err := s.recv(ctx, next, req.Flags, req.NonBlock, false)
		if err != nil {
			break // the bytes already received are the result
		}
		buf = append(buf, next[:r2.Count]...)
		r.Count += r2.Count
		r.Total += r2.Total
		more = r2.Count
	}
	res := &socket.RecvResult{Data: buf, N: r.Count}
	if s.typ == linux.SOCK_STREAM && req.Flags&(linux.MSG_TRUNC|linux.MSG_PEEK) == linux.MSG_TRUNC {
		// TCP's MSG_TRUNC discards what it receives: nothing is copied
		// out (the buffer may even be NULL).
		res.Data = nil
	}
	if s.typ != linux.SOCK_STREAM && r.Total > r.Count {
		res.Flags |= linux.MSG_TRUNC
		if req.Flags&linux.MSG_TRUNC != 0 {
			res.N = r.Total
		}
	}
	if req.WantAddr && s.typ != linux.SOCK_STREAM && r.RemoteAddr.Port|uint16(len(r.RemoteAddr.Addr.AsSlice())) != 0 {
		res.From = encodeAddr(s.family, r.RemoteAddr)
	}
	res.Control.Other = s.recvControl(r.ControlMessages)
	return res, nil
}
