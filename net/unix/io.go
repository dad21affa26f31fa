package unix

import (
	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/net/socket"
)

// ScmMaxFD is SCM_MAX_FD: the most descriptions one message may carry.
const ScmMaxFD = 253

// SendMsg implements socket.Socket.
func (s *Socket) SendMsg(ctx socket.Context, req *socket.SendRequest) (int, error) {
	return s.send(ctx, req)
}

// RecvMsg implements socket.Socket.
func (s *Socket) RecvMsg(ctx socket.Context, req *socket.RecvRequest) (*socket.RecvResult, error) {
	return s.recv(ctx, req)
}

// send is unix_stream_sendmsg / unix_dgram_sendmsg / unix_seqpacket_sendmsg.
// It owns req.Control's references whatever happens.
func (s *Socket) send(ctx vfs.Context, req *socket.SendRequest) (int, error) {
	ctl := req.Control
	req.Control = socket.Control{}
	ns := s.ns
	drop := func() {
		ns.lock()
		ns.dropLocked(&ctl)
		ns.unlock()
	}
	if req.Flags&linux.MSG_OOB != 0 {
		drop()
		return 0, linux.EOPNOTSUPP
	}
	if len(ctl.Rights) > ScmMaxFD {
		drop()
		return 0, linux.EINVAL
	}
	if len(ctl.Rights) > 0 {
		ns.lock()
		ns.noteSentLocked(ctl.Rights)
		ns.unlock()
	}
	if ctl.Cred != nil {
		if err := socket.CheckCred(ctx, ctl.Cred); err != nil {
			drop()
			return 0, err
		}
	}
	if s.typ == linux.SOCK_STREAM {
		return s.sendStream(ctx, req, ctl)
	}
	return s.sendDgram(ctx, req, ctl)
}

// defaultCred is what maybe_add_creds attaches.
func defaultCred(ctx vfs.Context) *socket.Cred {
	c := socket.DefaultCred(ctx)
	return &c
}

func (s *Socket) sendStream(ctx vfs.Context, req *socket.SendRequest, ctl socket.Control) (int, error) {
	ns := s.ns
	ns.lock()
	defer ns.unlock()
	defer ns.dropLocked(&ctl)
	if req.To != nil {
		if s.state == stateConnected {
			return 0, linux.EISCONN
		}
		return 0, linux.EOPNOTSUPP
	}
	if s.state != stateConnected || s.peer == nil {
		return 0, linux.ENOTCONN
	}
	data := req.Data
	sent := 0
	bl := socket.NewBlocker(writeEvents|vfs.EventErr|vfs.EventHUp, s.opts.SndTimeo)
	defer bl.Done()
	for {
		o := s.peer
		if s.shut&shutSend != 0 || o.closed || o.shut&shutRcv != 0 {
			if sent > 0 {
				return sent, nil
			}
			return 0, linux.EPIPE
		}
		if sent == len(data) && (sent > 0 || len(data) == 0) {
			if len(data) == 0 && (ctl.Rights != nil || ctl.Cred != nil) {
				// A zero-length stream send carries no data and so no
				// control message either (Linux sends nothing).
			}
			return sent, nil
		}
		if s.wmem >= s.opts.SndBuf {
			if req.NonBlock {
				if sent > 0 {
					return sent, nil
				}
				return 0, linux.EAGAIN
			}
			if err := bl.WaitReleasing(ctx, &s.q, (*nsLocker)(ns)); err != nil {
				if sent > 0 {
					return sent, nil
				}
				return 0, err
			}
			continue
		}
		chunk := min(len(data)-sent, max(s.opts.SndBuf/2-64, 1))
		m, err := newMessage(ctx, data[sent:sent+chunk], s)
		if err != nil {
			if sent > 0 {
				return sent, nil
			}
			return 0, err
		}
		if sent == 0 {
			m.ctl = ctl
			ctl = socket.Control{}
		}
		if m.ctl.Cred == nil && (s.opts.PassCred || o.opts.PassCred) {
			m.ctl.Cred = defaultCred(ctx)
		}
		o.enqueueLocked(m)
		s.wmem += chunk
		sent += chunk
	}
}

// enqueueLocked appends m to s's receive queue and wakes readers.
func (s *Socket) enqueueLocked(m *message) {
	s.rq = append(s.rq, m)
	s.rqBytes += len(m.data) - m.off
	s.ns.notifyLocked(&s.q, readEvents)
}

func (s *Socket) sendDgram(ctx vfs.Context, req *socket.SendRequest, ctl socket.Control) (int, error) {
	ns := s.ns
	var target *Socket
	if req.To != nil && s.typ == linux.SOCK_DGRAM {
		sctx, ok := ctx.(socket.Context)
		var o *Socket
		var err error = linux.EINVAL
		if ok {
			o, err = s.resolve(sctx, req.To)
		}
		if err != nil {
			ns.lock()
			ns.dropLocked(&ctl)
			ns.unlock()
			return 0, err
		}
		target = o
	}
	ns.lock()
	defer ns.unlock()
	defer ns.dropLocked(&ctl)
	if s.typ == linux.SOCK_SEQPACKET && s.state != stateConnected {
		return 0, linux.ENOTCONN
	}
	if len(req.Data) > s.opts.SndBuf-32 {
		return 0, linux.EMSGSIZE
	}
	if target == nil {
		target = s.peer
		if target == nil {
			return 0, linux.ENOTCONN
		}
	}
	if s.opts.PassCred && s.addr.Unnamed() && s.typ == linux.SOCK_DGRAM {
		if err := ns.autobindLocked(s); err != nil {
			return 0, err
		}
	}
	bl := socket.NewBlocker(writeEvents|vfs.EventErr|vfs.EventHUp, s.opts.SndTimeo)
	defer bl.Done()
	for {
		o := target
		if o.closed {
			if s.typ == linux.SOCK_SEQPACKET {
				return 0, socket.ErrPipeNoSignal
			}
			if s.peer == o {
				s.disconnectLocked()
			}
			return 0, linux.ECONNREFUSED
		}
		if s.typ == linux.SOCK_DGRAM && o.peer != nil && o.peer != s && !o.peer.closed {
			return 0, linux.EPERM
		}
		if o.shut&shutRcv != 0 || s.shut&shutSend != 0 {
			return 0, socket.ErrPipeNoSignal
		}
		var q *vfs.Queue
		switch {
		case s.wmem >= s.opts.SndBuf:
			q = &s.q
		case o.peer != s && o.recvqFullLocked():
			q = &o.spaceQ
		}
		if q == nil {
			break
		}
		if req.NonBlock {
			return 0, linux.EAGAIN
		}
		if err := bl.WaitReleasing(ctx, q, (*nsLocker)(ns)); err != nil {
			return 0, err
		}
	}
	m, err := newMessage(ctx, req.Data, s)
	if err != nil {
		return 0, err
	}
	m.ctl = ctl
	ctl = socket.Control{}
	if m.ctl.Cred == nil && (s.opts.PassCred || target.opts.PassCred) {
		m.ctl.Cred = defaultCred(ctx)
	}
	target.enqueueLocked(m)
	s.wmem += len(m.data)
	return len(req.Data), nil
}

// recv is unix_stream_recvmsg / unix_dgram_recvmsg.
func (s *Socket) recv(ctx vfs.Context, req *socket.RecvRequest) (*socket.RecvResult, error) {
	if req.Flags&linux.MSG_OOB != 0 {
		return nil, linux.EOPNOTSUPP
	}
	ns := s.ns
	ns.lock()
	defer ns.unlock()
	switch s.typ {
	case linux.SOCK_STREAM:
		if s.state != stateConnected {
			return nil, linux.EINVAL
		}
		return s.recvStream(ctx, req)
	case linux.SOCK_SEQPACKET:
		if s.state != stateConnected {
			return nil, linux.ENOTCONN
		}
	}
	return s.recvDgram(ctx, req)
}

// takeErrLocked returns and clears the pending socket error.
func (s *Socket) takeErrLocked() error {
	e := s.err
	s.err = 0
	if e == 0 {
		return nil
	}
	return e
}

// dupRights gives a peeking reader its own references.
func dupRights(r []*vfs.FileDescription) []*vfs.FileDescription {
	if len(r) == 0 {
		return nil
	}
	out := make([]*vfs.FileDescription, len(r))
	for i, d := range r {
		d.IncRef()
		out[i] = d
	}
	return out
}

func sameCred(a, b *socket.Cred) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// recvSmall is how much a stream receive may gather without a charge to
// the sandbox's memory budget; beyond it the buffer is charged as it
// grows, so a receive of a gigabyte queued in a socket does not hold a
// second, uncharged copy of it.
const recvSmall = 16 << 10

// recvCharge is the budget charged for a stream receive's buffer.
type recvCharge struct {
	budget  vfs.Charger
	charged int
}

// allow returns how many of want more bytes a buffer already holding
// have may take: all while the total stays within recvSmall or what is
// charged; else the charge grows (by 64 KiB at least), or, when the
// budget refuses, only up to what is covered.
func (c *recvCharge) allow(have, want int) int {
	need := have + want
	if need <= recvSmall || need <= c.charged {
		return want
	}
	if step := max(need-c.charged, 64<<10); c.budget.Charge(int64(step)) {
		c.charged += step
		return want
	}
	return max(0, max(c.charged, recvSmall)-have)
}

func (s *Socket) recvStream(ctx vfs.Context, req *socket.RecvRequest) (*socket.RecvResult, error) {
	charge := recvCharge{budget: vfs.ChargerOf(ctx)}
	defer func() { charge.budget.Uncharge(int64(charge.charged)) }()
	ns := s.ns
	peek := req.Flags&linux.MSG_PEEK != 0
	target := 1
	if req.Flags&linux.MSG_WAITALL != 0 {
		target = max(req.Len, 1)
	}
	res := &socket.RecvResult{PassCred: s.opts.PassCred}
	buf := make([]byte, 0, min(req.Len, max(s.rqBytes, 512), recvSmall))
	bl := socket.NewBlocker(readEvents|vfs.EventRdHUp|vfs.EventErr|vfs.EventHUp, s.opts.RcvTimeo)
	defer bl.Done()
	var cred *socket.Cred
	credSet := false
	for {
		if peek {
			// A peek starts from the head every time round.
			buf = buf[:0]
			res.Control.Release()
			res.From = nil
			credSet = false
		}
		stop := false // a message with descriptions ends a read, as do other writers' credentials
		for i := 0; i < len(s.rq) && len(buf) < req.Len && !stop; {
			m := s.rq[i]
			if s.opts.PassCred {
				if credSet && !sameCred(cred, m.ctl.Cred) {
					stop = true
					break
				}
				cred, credSet = m.ctl.Cred, true
			}
			if len(buf) == 0 && req.WantAddr && !m.from.Unnamed() {
				res.From = m.from.Sockaddr()
			}
			n := charge.allow(len(buf), min(len(m.data)-m.off, req.Len-len(buf)))
			if n == 0 {
				stop = true // the sandbox's memory is spent: return what is here
				break
			}
			buf = append(buf, m.data[m.off:m.off+n]...)
			if m.ctl.Rights != nil {
				if peek {
					res.Control.Rights = dupRights(m.ctl.Rights)
				} else {
					res.Control.Rights = m.ctl.Rights
					m.ctl.Rights = nil
				}
				stop = true
			}
			if peek {
				i++
				continue
			}
			m.off += n
			s.consumeLocked(m, n)
			if m.off == len(m.data) {
				s.rq[0] = nil
				s.rq = s.rq[1:]
				m.uncharge()
			}
		}
		if len(buf) >= target || (stop && len(buf) > 0) {
			break
		}
		if len(buf) == 0 {
			if err := s.takeErrLocked(); err != nil {
				return nil, err
			}
		}
		if s.shut&shutRcv != 0 {
			break
		}
		if req.NonBlock {
			if len(buf) > 0 {
				break
			}
			return nil, linux.EAGAIN
		}
		if err := bl.WaitReleasing(ctx, &s.q, (*nsLocker)(ns)); err != nil {
			if len(buf) > 0 {
				break
			}
			return nil, err
		}
	}
	if res.PassCred {
		res.Control.Cred = credOrNone(cred)
	}
	res.Data = buf
	res.N = len(buf)
	return res, nil
}

func credOrNone(c *socket.Cred) *socket.Cred {
	if c == nil {
		n := socket.NoCred
		return &n
	}
	return c
}

func (s *Socket) recvDgram(ctx vfs.Context, req *socket.RecvRequest) (*socket.RecvResult, error) {
	ns := s.ns
	bl := socket.NewBlocker(readEvents|vfs.EventRdHUp|vfs.EventErr|vfs.EventHUp, s.opts.RcvTimeo)
	defer bl.Done()
	for len(s.rq) == 0 {
		if err := s.takeErrLocked(); err != nil {
			return nil, err
		}
		if s.shut&shutRcv != 0 && (!req.NonBlock || s.typ == linux.SOCK_SEQPACKET) {
			return &socket.RecvResult{PassCred: s.opts.PassCred, Control: socket.Control{Cred: s.eofCred()}}, nil
		}
		if req.NonBlock {
			return nil, linux.EAGAIN
		}
		if err := bl.WaitReleasing(ctx, &s.q, (*nsLocker)(ns)); err != nil {
			return nil, err
		}
	}
	m := s.rq[0]
	res := socket.Datagram(m.data, req)
	res.PassCred = s.opts.PassCred
	if req.WantAddr && !m.from.Unnamed() {
		res.From = m.from.Sockaddr()
	}
	if res.PassCred {
		res.Control.Cred = credOrNone(m.ctl.Cred)
	}
	if req.Flags&linux.MSG_PEEK != 0 {
		res.Control.Rights = dupRights(m.ctl.Rights)
		return res, nil
	}
	res.Control.Rights = m.ctl.Rights
	m.ctl.Rights = nil
	wasFull := s.recvqFullLocked()
	s.rq[0] = nil
	s.rq = s.rq[1:]
	s.consumeLocked(m, len(m.data))
	m.uncharge()
	if wasFull && !s.recvqFullLocked() {
		ns.notifyLocked(&s.spaceQ, writeEvents)
		for o := range s.dgramFrom {
			ns.notifyLocked(&o.q, writeEvents)
		}
	}
	return res, nil
}

// eofCred is the credential an end-of-file read reports with SO_PASSCRED.
func (s *Socket) eofCred() *socket.Cred {
	if s.opts.PassCred {
		n := socket.NoCred
		return &n
	}
	return nil
}
