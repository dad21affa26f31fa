package netlink

import (
	"math/rand/v2"

	"time"
	"uk/kernel/cbpf"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/net/socket"
)

// Dump datagram sizes, as Linux's netlink_dump allocates them:
// NLMSG_GOODSIZE (a 4 KiB page less struct skb_shared_info) at least, the
// largest buffer recvmsg was given when larger, capped at 32 KiB less the
// same overhead.
const (
	goodSize   = 4096 - 320
	maxRecvCap = 32768 - 320
)

// dump is a dump in progress: the messages not yet queued, and the
// NLMSG_DONE that ends them.
type dump struct {
	parts [][]byte
	done  []byte
}

// SendMsg implements socket.Socket.
func (s *Socket) SendMsg(ctx socket.Context, req *socket.SendRequest) (int, error) {
	return s.send(ctx, req)
}

// RecvMsg implements socket.Socket.
func (s *Socket) RecvMsg(ctx socket.Context, req *socket.RecvRequest) (*socket.RecvResult, error) {
	return s.recv(ctx, req)
}

// send is netlink_sendmsg. A message to port 0 goes to the kernel side of
// the protocol and is answered before send returns; a message to another
// port id is queued on that socket; a destination group reaches every
// other member.
func (s *Socket) send(ctx vfs.Context, req *socket.SendRequest) (int, error) {
	claimed := req.Control.Cred
	req.Control.Release() // netlink ignores SCM_RIGHTS
	if req.Flags&linux.MSG_OOB != 0 {
		return 0, linux.EOPNOTSUPP
	}
	if claimed != nil {
		if err := socket.CheckCred(ctx, claimed); err != nil {
			return 0, err
		}
	}
	var dstPid, dstGroup uint32
	if req.To != nil {
		pid, groups, err := decodeAddr(req.To)
		if err != nil {
			return 0, err
		}
		dstPid, dstGroup = pid, firstGroup(groups)
		if (dstPid != 0 || dstGroup != 0) && !ctx.Credentials().Privileged {
			// Neither NETLINK_ROUTE nor uevents allow unprivileged
			// sends to anyone but the kernel (NL_CFG_F_NONROOT_SEND).
			return 0, linux.EPERM
		}
	} else {
		s.mu.Lock()
		dstPid, dstGroup = s.dstPid, s.dstGroup
		s.mu.Unlock()
	}
	portid := s.autobind(ctx)
	s.mu.Lock()
	sndbuf := s.opts.SndBuf
	s.mu.Unlock()
	if len(req.Data) > sndbuf-32 {
		return 0, linux.EMSGSIZE
	}
	d := datagram{data: append([]byte(nil), req.Data...), from: portid, group: dstGroup,
		cred: socket.DefaultCred(ctx)}
	if claimed != nil {
		d.cred = *claimed
	}
	if dstGroup != 0 {
		for _, o := range s.p.members(s.protocol, dstGroup) {
			if o != s {
				o.deliverKernel(d)
			}
		}
	}
	if dstPid != 0 {
		o := s.p.lookup(s.protocol, dstPid)
		if o == nil {
			return 0, linux.ECONNREFUSED
		}
		if err := o.deliverUser(ctx, d, req.NonBlock || dstGroup != 0, s.sndTimeo()); err != nil {
			return 0, err
		}
		return len(req.Data), nil
	}
	if s.protocol != linux.NETLINK_ROUTE {
		// The uevent kernel socket has no input function.
		return 0, linux.ECONNREFUSED
	}
	s.rtnetlinkRcv(ctx, req.Data, portid)
	return len(req.Data), nil
}

func (s *Socket) sndTimeo() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.SndTimeo
}

// fullLocked is the overrun test of netlink_attachskb: the queue already
// holds more than the receive buffer.
func (s *Socket) fullLocked() bool { return s.rqBytes > s.opts.RcvBuf }

// enqueueLocked appends a datagram that the socket's filter, if it has
// one, lets through (cut to the length it returns; dropped at 0, as
// Linux's sk_filter); the caller notifies s.q after unlocking.
func (s *Socket) enqueueLocked(d datagram) {
	if s.filter != nil {
		keep := cbpf.RunSocket(s.filter.Prog, d.data, rand.Uint32)
		if keep == 0 {
			return
		}
		if uint64(keep) < uint64(len(d.data)) {
			d.data = d.data[:keep]
		}
	}
	s.rq = append(s.rq, d)
	s.rqBytes += len(d.data)
}

// deliverKernel queues a message the way the kernel's unicast and
// broadcast do: never waiting; a full queue drops it and records ENOBUFS
// for the next recvmsg (unless NETLINK_NO_ENOBUFS).
func (s *Socket) deliverKernel(d datagram) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if s.fullLocked() {
		if !s.flags.has(linux.NETLINK_NO_ENOBUFS) {
			s.err = linux.ENOBUFS
		}
		s.mu.Unlock()
		s.q.Notify(vfs.EventErr)
		return
	}
	s.enqueueLocked(d)
	s.mu.Unlock()
	s.q.Notify(readEvents)
}

// deliverUser queues a message another socket sent to this one's port
// id, waiting for room (up to timeo) unless nonblock.
func (s *Socket) deliverUser(ctx vfs.Context, d datagram, nonblock bool, timeo time.Duration) error {
	var b *socket.Blocker
	defer func() {
		if b != nil {
			b.Done()
		}
	}()
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return linux.ECONNREFUSED
		}
		if !s.fullLocked() {
			s.enqueueLocked(d)
			s.mu.Unlock()
			s.q.Notify(readEvents)
			return nil
		}
		s.mu.Unlock()
		if nonblock {
			return linux.EAGAIN
		}
		if b == nil {
			b = socket.NewBlocker(writeEvents, timeo)
		}
		if err := b.Wait(ctx, &s.spaceQ); err != nil {
			return err
		}
	}
}

// reply queues a kernel reply on s (see deliverKernel).
func (s *Socket) reply(b []byte) {
	s.deliverKernel(datagram{data: b})
}

// startDump begins a dump: EBUSY when one is already running on the
// socket (netlink_dump_start), else the first datagram is queued now.
func (s *Socket) startDump(d *dump) error {
	s.mu.Lock()
	if s.dump != nil {
		s.mu.Unlock()
		return linux.EBUSY
	}
	s.dump = d
	queued := s.dumpStepLocked()
	s.mu.Unlock()
	if queued {
		s.q.Notify(readEvents)
	}
	return nil
}

// dumpStepLocked is one netlink_dump round: as many remaining messages as
// fit in one datagram of the current dump size, or NLMSG_DONE alone once
// none remain. It reports whether something was queued.
func (s *Socket) dumpStepLocked() bool {
	d := s.dump
	if d == nil || s.closed {
		return false
	}
	if s.fullLocked() {
		if !s.flags.has(linux.NETLINK_NO_ENOBUFS) {
			s.err = linux.ENOBUFS
		}
		s.dump = nil
		return false
	}
	if len(d.parts) == 0 {
		s.enqueueLocked(datagram{data: d.done})
		s.dump = nil
		return true
	}
	limit := max(goodSize, s.maxRecv)
	var buf []byte
	for len(d.parts) > 0 && (len(buf) == 0 || len(buf)+len(d.parts[0]) <= limit) {
		buf = append(buf, d.parts[0]...)
		d.parts = d.parts[1:]
	}
	s.enqueueLocked(datagram{data: buf})
	return true
}

// recv is netlink_recvmsg: one datagram per call, truncated to the
// caller's buffer (MSG_TRUNC in the flags; the full length as the result
// when MSG_TRUNC was asked for), then the next part of a running dump.
func (s *Socket) recv(ctx vfs.Context, req *socket.RecvRequest) (*socket.RecvResult, error) {
	if req.Flags&linux.MSG_OOB != 0 {
		return nil, linux.EOPNOTSUPP
	}
	var b *socket.Blocker
	defer func() {
		if b != nil {
			b.Done()
		}
	}()
	s.mu.Lock()
	for {
		if s.err != 0 {
			e := s.err
			s.err = 0
			s.mu.Unlock()
			return nil, e
		}
		if len(s.rq) > 0 {
			break
		}
		if req.NonBlock {
			s.mu.Unlock()
			return nil, linux.EAGAIN
		}
		if b == nil {
			b = socket.NewBlocker(readEvents|vfs.EventErr, s.opts.RcvTimeo)
		}
		s.mu.Unlock()
		err := b.Wait(ctx, &s.q)
		s.mu.Lock()
		// A datagram or error that came with the deadline is still
		// taken: __skb_recv_datagram looks once more after its wait.
		ready := len(s.rq) > 0 || s.err != 0
		if err != nil && !(err == linux.EAGAIN && ready) {
			s.mu.Unlock()
			return nil, err
		}
	}
	d := s.rq[0]
	r := socket.Datagram(d.data, req)
	r.PassCred = s.opts.PassCred
	if req.WantAddr {
		r.From = encodeAddr(d.from, groupBit(d.group))
	}
	if s.opts.PassCred {
		c := d.cred
		r.Control.Cred = &c
	}
	s.maxRecv = min(max(s.maxRecv, req.Len), maxRecvCap)
	popped := req.Flags&linux.MSG_PEEK == 0
	if popped {
		s.rq[0] = datagram{}
		s.rq = s.rq[1:]
		s.rqBytes -= len(d.data)
	}
	queued := false
	if s.dump != nil && s.rqBytes <= s.opts.RcvBuf/2 {
		queued = s.dumpStepLocked()
	}
	s.mu.Unlock()
	if popped {
		s.spaceQ.Notify(writeEvents)
	}
	if queued {
		s.q.Notify(readEvents)
	}
	return r, nil
}

// DeliverFromKernel queues b on the socket as a message from the kernel
// (port 0), as Linux's netlink_sendskb does for mq_notify's SIGEV_THREAD
// cookies: dropped when the socket is closed or its queue is full.
func (s *Socket) DeliverFromKernel(b []byte) {
	s.deliverKernel(datagram{data: b})
}
