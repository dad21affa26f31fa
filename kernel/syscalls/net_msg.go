package syscalls

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel"
	"uk/net/socket"
)

// Layout of struct msghdr, struct mmsghdr and struct cmsghdr on x86-64.
const (
	msghdrSize     = 56
	mmsghdrSize    = 64
	cmsghdrSize    = 16
	msgNameOff     = 0
	msgNamelenOff  = 8
	msgIovOff      = 16
	msgIovlenOff   = 24
	msgControlOff  = 32
	msgCtrllenOff  = 40
	msgFlagsOff    = 48
	mmsgLenOff     = 56
	uioMaxIOV      = 1024
	msgWaitForOne  = 0x10000
	msgCmsgCloexec = unix.MSG_CMSG_CLOEXEC
	// msgCmsgCompat is MSG_CMSG_COMPAT, the kernel's internal mark of a
	// 32-bit caller: a flags argument with it is EINVAL.
	msgCmsgCompat = 0x80000000
)

func cmsgAlign(n int) int { return (n + 7) &^ 7 }

// msghdr is a decoded struct msghdr.
type msghdr struct {
	name, namelen    uint64
	iov, iovlen      uint64
	control, ctrllen uint64
}

func readMsghdr(t *kernel.Task, addr uint64) (msghdr, error) {
	var b [msghdrSize]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return msghdr{}, err
	}
	le := binary.LittleEndian
	return msghdr{
		name: le.Uint64(b[msgNameOff:]), namelen: uint64(le.Uint32(b[msgNamelenOff:])),
		iov: le.Uint64(b[msgIovOff:]), iovlen: le.Uint64(b[msgIovlenOff:]),
		control: le.Uint64(b[msgControlOff:]), ctrllen: le.Uint64(b[msgCtrllenOff:]),
	}, nil
}

// msgIovecs reads a message's iovec array and returns it with the total
// length of its buffers (at most maxRW).
func msgIovecs(t *kernel.Task, iov, cnt uint64) ([][2]uint64, uint64, error) {
	if cnt > uioMaxIOV {
		return nil, 0, unix.EMSGSIZE
	}
	v, err := iovecs(t, iov, cnt)
	if err != nil {
		return nil, 0, err
	}
	var total uint64
	for _, iv := range v {
		if total+iv[1] > maxRW {
			return nil, 0, unix.EINVAL
		}
		total += iv[1]
	}
	return v, total, nil
}

// sendCopyMax bounds what one send copies in before the socket sees it.
const sendCopyMax = 4 << 20

// sendData copies in the total bytes of src and sends them with req (its
// To, Control and Flags set). The socket owns req.Control whatever
// happens.
//
// The data never sits in uk whole when it is big: a stream takes it in
// pieces of sendCopyMax (each send blocking as the socket's buffer
// drains, as Linux's does; a piece that goes in part ends the send), and
// a message longer than sendCopyMax and than the socket's send buffer is
// EMSGSIZE before any copy, since no Linux datagram socket takes one
// (their limit is the send buffer or less). Copying first would let one
// call make uk allocate and fill 2 GiB.
func sendData(t *kernel.Task, s socket.Socket, d *vfs.FileDescription, req *socket.SendRequest, total uint64, src copySource) (int, error) {
	if s.Type() != unix.SOCK_STREAM || total <= sendCopyMax {
		if total > sendCopyMax && total > sendBufSize(t, s) {
			req.Control.Release()
			return 0, unix.EMSGSIZE
		}
		data, release, err := copyInAllCharged(t, src, total)
		if err != nil {
			req.Control.Release()
			return 0, err
		}
		defer release()
		req.Data = data
		return sendOne(t, s, d, req)
	}
	sent := 0
	// The pieces are charged to the sandbox's memory while the send holds
	// them (a thread blocked on a full socket keeps its piece); with the
	// budget spent, they are kernel.SmallIO bytes.
	buf, release := t.CopyBuffer(total, sendCopyMax)
	defer release()
	for off := uint64(0); off < total; {
		c, cerr := src(off, buf[:min(total-off, uint64(len(buf)))])
		if c == 0 {
			if off == 0 {
				req.Control.Release()
				return 0, cerr
			}
			break
		}
		piece := *req
		piece.Data = buf[:c]
		if off > 0 {
			// The control messages go with the first piece, and once
			// some data is sent an error is not reported, so neither is
			// its SIGPIPE (Linux's stream sends likewise).
			piece.Control = socket.Control{}
			piece.Flags |= unix.MSG_NOSIGNAL
		}
		n, err := sendOne(t, s, d, &piece)
		sent += n
		if err != nil {
			if sent > 0 {
				break
			}
			return 0, err
		}
		if n < c || cerr != nil {
			break
		}
		off += uint64(c)
	}
	return sent, nil
}

// sendBufSize is the socket's SO_SNDBUF (0 if it has none).
func sendBufSize(t *kernel.Task, s socket.Socket) uint64 {
	b, err := s.GetSockOpt(sockCtx{t}, unix.SOL_SOCKET, unix.SO_SNDBUF, 4)
	if err != nil || len(b) < 4 {
		return 0
	}
	return uint64(binary.LittleEndian.Uint32(b))
}

// parseControl decodes sendmsg's control messages: SOL_SOCKET's
// SCM_RIGHTS and SCM_CREDENTIALS (other SOL_SOCKET types are EINVAL);
// other levels go to the family in Control.Other. On success the
// descriptions carry a reference each.
func parseControl(t *kernel.Task, b []byte) (socket.Control, error) {
	var c socket.Control
	le := binary.LittleEndian
	for off := 0; off+cmsghdrSize <= len(b); {
		clen := le.Uint64(b[off:])
		if clen < cmsghdrSize || clen > uint64(len(b)-off) {
			c.Release()
			return socket.Control{}, unix.EINVAL
		}
		level, typ := int32(le.Uint32(b[off+8:])), int32(le.Uint32(b[off+12:]))
		data := b[off+cmsghdrSize : off+int(clen)]
		off += cmsgAlign(int(clen))
		if level != unix.SOL_SOCKET {
			c.Other = append(c.Other, socket.Cmsg{Level: level, Type: typ, Data: data})
			continue
		}
		switch typ {
		case unix.SCM_RIGHTS:
			n := len(data) / 4
			if len(c.Rights)+n > 253 {
				c.Release()
				return socket.Control{}, unix.EINVAL
			}
			for i := 0; i < n; i++ {
				d, err := t.FD(int32(le.Uint32(data[4*i:])))
				if err != nil {
					c.Release()
					return socket.Control{}, err
				}
				c.Rights = append(c.Rights, d)
			}
		case unix.SCM_CREDENTIALS:
			if len(data) != 12 {
				c.Release()
				return socket.Control{}, unix.EINVAL
			}
			c.Cred = &socket.Cred{PID: int32(le.Uint32(data)), UID: le.Uint32(data[4:]), GID: le.Uint32(data[8:])}
		default:
			c.Release()
			return socket.Control{}, unix.EINVAL
		}
	}
	return c, nil
}

// sendOne is the common part of sendto, sendmsg and sendmmsg. It raises
// SIGPIPE itself for an EPIPE that calls for one, unless MSG_NOSIGNAL.
func sendOne(t *kernel.Task, s socket.Socket, d *vfs.FileDescription, req *socket.SendRequest) (int, error) {
	req.NonBlock = d.NonBlocking() || req.Flags&unix.MSG_DONTWAIT != 0
	n, err := s.SendMsg(sockCtx{t}, req)
	if err != nil && req.Flags&unix.MSG_NOSIGNAL == 0 && socket.WantsSIGPIPE(err) {
		t.SendSIGPIPE()
	}
	return n, err
}

func sysSendto(t *kernel.Task, a [6]uint64) (uint64, error) {
	if !accessOK(a[1], min(a[2], maxRW)) {
		return 0, unix.EFAULT
	}
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		var err error
		req := &socket.SendRequest{Flags: int(int32(a[3]))}
		if a[4] != 0 && a[5] != 0 {
			if req.To, err = copyInAddr(t, a[4], a[5]); err != nil {
				return 0, err
			}
		}
		n, err := sendData(t, s, d, req, min(a[2], maxRW), bufferSource(t, a[1]))
		return uint64(n), err
	})
}

// sendMsg is sendmsg on an already resolved socket.
func sendMsg(t *kernel.Task, s socket.Socket, d *vfs.FileDescription, addr uint64, flags int) (int, error) {
	n, _, err := sendMsgLen(t, s, d, addr, flags)
	return n, err
}

// sendMsgLen is sendMsg that also returns how many bytes the message
// had (sendmmsg stops after a message that went only in part).
func sendMsgLen(t *kernel.Task, s socket.Socket, d *vfs.FileDescription, addr uint64, flags int) (int, int, error) {
	h, err := readMsghdr(t, addr)
	if err != nil {
		return 0, 0, err
	}
	req := &socket.SendRequest{Flags: flags}
	// __copy_msghdr: a negative name length is EINVAL, a longer one than
	// a sockaddr_storage is cut to it.
	if h.name != 0 && int32(h.namelen) < 0 {
		return 0, 0, unix.EINVAL
	}
	if h.name != 0 && h.namelen != 0 {
		if req.To, err = copyInAddr(t, h.name, min(h.namelen, sockaddrMax)); err != nil {
			return 0, 0, err
		}
	}
	v, total, err := msgIovecs(t, h.iov, h.iovlen)
	if err != nil {
		return 0, 0, err
	}
	if h.ctrllen > 1<<31-1 {
		return 0, 0, unix.ENOBUFS
	}
	// Any control buffer is copied in (a bad one faults), but one too
	// short for a header holds no messages.
	if h.ctrllen > 0 {
		if h.ctrllen > 1<<20 {
			return 0, 0, unix.ENOBUFS
		}
		b := make([]byte, h.ctrllen)
		if err := t.CopyIn(h.control, b); err != nil {
			return 0, 0, err
		}
		if req.Control, err = parseControl(t, b); err != nil {
			return 0, 0, err
		}
	}
	// The data is copied after the control messages, as Linux's
	// protocols copy it: a bad control buffer is its error, not the
	// data's.
	n, err := sendData(t, s, d, req, total, iovecSource(t, v))
	return n, int(total), err
}

func sysSendmsg(t *kernel.Task, a [6]uint64) (uint64, error) {
	if a[2]&msgCmsgCompat != 0 {
		return 0, unix.EINVAL
	}
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		n, err := sendMsg(t, s, d, a[1], int(int32(a[2])))
		return uint64(n), err
	})
}

func sysSendmmsg(t *kernel.Task, a [6]uint64) (uint64, error) {
	if a[3]&msgCmsgCompat != 0 {
		return 0, unix.EINVAL
	}
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		vlen := min(a[2]&0xffffffff, uioMaxIOV)
		flags := int(int32(a[3]))
		var done uint64
		for ; done < vlen; done++ {
			h := a[1] + done*mmsghdrSize
			n, size, err := sendMsgLen(t, s, d, h, flags)
			if err != nil {
				if done > 0 {
					return done, nil
				}
				return 0, err
			}
			if err := putUint32(t, h+mmsgLenOff, uint32(n)); err != nil {
				if done > 0 {
					return done, nil
				}
				return 0, err
			}
			if n < size {
				// A stream send that went in part ends the batch.
				return done + 1, nil
			}
		}
		return done, nil
	})
}

// userAddrEnd is x86-64 Linux's TASK_SIZE_MAX (4-level paging): a user
// buffer must end at or below it.
const userAddrEnd = 0x7ffffffff000

// accessOK is Linux's access_ok: the range lies within the user address
// space. A buffer outside it is EFAULT before anything else happens
// (import_ubuf, import_iovec); one inside it but unmapped faults only
// when it is copied.
func accessOK(addr, n uint64) bool {
	return n == 0 || addr+n >= addr && addr+n <= userAddrEnd
}

// streamRecvFault handles a stream receive into a buffer whose first
// byte cannot be written. Linux copies stream data out before it
// consumes it, so such a receive fails with EFAULT once there is data,
// and leaves the data queued; errors that come before any data (EAGAIN,
// ENOTCONN, EINVAL for MSG_OOB) and end of stream (0) come back as they
// are. uk copies after receiving, so it first peeks for one byte. ok is
// false when the buffer is fine (or the socket is not a stream one).
// Datagrams are consumed even when the copy fails, as in Linux.
func streamRecvFault(t *kernel.Task, s socket.Socket, d *vfs.FileDescription, addr, n uint64, flags int) (ok bool, ret uint64, err error) {
	if s.Type() != unix.SOCK_STREAM || n == 0 || flags&(unix.MSG_TRUNC|unix.MSG_PEEK) == unix.MSG_TRUNC {
		return false, 0, nil
	}
	if _, err := t.MM.KernelBytes(addr, 1, true); err == nil {
		return false, 0, nil
	}
	req := &socket.RecvRequest{Len: 1, Flags: flags | unix.MSG_PEEK,
		NonBlock: d.NonBlocking() || flags&unix.MSG_DONTWAIT != 0}
	res, err := s.RecvMsg(sockCtx{t}, req)
	if err != nil {
		return true, 0, err
	}
	res.Control.Release()
	if res.N == 0 {
		return true, 0, nil
	}
	return true, 0, unix.EFAULT
}

func sysRecvfrom(t *kernel.Task, a [6]uint64) (uint64, error) {
	if !accessOK(a[1], min(a[2], maxRW)) {
		return 0, unix.EFAULT
	}
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		flags := int(int32(a[3]))
		if ok, n, err := streamRecvFault(t, s, d, a[1], a[2], flags); ok {
			return n, err
		}
		req := &socket.RecvRequest{Len: int(min(a[2], maxRW)), Flags: flags,
			NonBlock: d.NonBlocking() || flags&unix.MSG_DONTWAIT != 0, WantAddr: a[4] != 0}
		res, err := s.RecvMsg(sockCtx{t}, req)
		if err != nil {
			return 0, err
		}
		res.Control.Release()
		if len(res.Data) > 0 {
			if err := t.CopyOut(a[1], res.Data); err != nil {
				return 0, err
			}
		}
		if a[4] != 0 {
			if err := copyOutAddr(t, res.From, a[4], a[5]); err != nil {
				return 0, err
			}
		}
		return uint64(res.N), nil
	})
}

// recvMsg is recvmsg on an already resolved socket.
func recvMsg(t *kernel.Task, s socket.Socket, d *vfs.FileDescription, addr uint64, flags int) (int, error) {
	h, err := readMsghdr(t, addr)
	if err != nil {
		return 0, err
	}
	if h.name != 0 && int32(h.namelen) < 0 {
		return 0, unix.EINVAL
	}
	if h.iovlen > uioMaxIOV {
		return 0, unix.EMSGSIZE
	}
	v, err := iovecs(t, h.iov, h.iovlen)
	if err != nil {
		return 0, err
	}
	var total uint64
	for _, iv := range v {
		if !accessOK(iv[0], min(iv[1], maxRW)) {
			return 0, unix.EFAULT
		}
	}
	for _, iv := range v {
		if total == 0 {
			if ok, n, err := streamRecvFault(t, s, d, iv[0], iv[1], flags); ok {
				return int(n), err
			}
		}
		total += iv[1]
	}
	req := &socket.RecvRequest{Len: int(min(total, maxRW)), Flags: flags,
		NonBlock: d.NonBlocking() || flags&unix.MSG_DONTWAIT != 0, WantAddr: h.name != 0}
	res, err := s.RecvMsg(sockCtx{t}, req)
	if err != nil {
		return 0, err
	}
	ctl, ctlFlags := buildControl(t, &res.Control, res.PassCred, h.control, h.ctrllen, flags&msgCmsgCloexec != 0)
	if _, err := scatter(t, v, res.Data); err != nil {
		return 0, err
	}
	if h.name != 0 {
		n := min(int(min(h.namelen, sockaddrMax)), len(res.From))
		if n > 0 {
			if err := t.CopyOut(h.name, res.From[:n]); err != nil {
				return 0, err
			}
		}
		if err := putUint32(t, addr+msgNamelenOff, uint32(len(res.From))); err != nil {
			return 0, err
		}
	}
	if len(ctl) > 0 {
		if err := t.CopyOut(h.control, ctl); err != nil {
			return 0, err
		}
	}
	if err := putUint64(t, addr+msgCtrllenOff, uint64(len(ctl))); err != nil {
		return 0, err
	}
	outFlags := uint32(res.Flags|ctlFlags) | uint32(flags&msgCmsgCloexec)
	if err := putUint32(t, addr+msgFlagsOff, outFlags); err != nil {
		return 0, err
	}
	return res.N, nil
}

// buildControl is scm_recv: SCM_CREDENTIALS first (when the socket passes
// credentials), then SCM_RIGHTS, installing as many descriptions as fit in
// room bytes (MSG_CTRUNC for what does not; those are closed). It returns
// the control bytes and MSG_CTRUNC if something was cut.
func buildControl(t *kernel.Task, c *socket.Control, passCred bool, buf, room uint64, cloexec bool) ([]byte, int) {
	defer c.Release()
	if buf == 0 || room < cmsghdrSize {
		if passCred || len(c.Rights) > 0 || len(c.Other) > 0 {
			return nil, unix.MSG_CTRUNC
		}
		return nil, 0
	}
	var out []byte
	flags := 0
	le := binary.LittleEndian
	var putLevel func(level, typ int32, data []byte)
	put := func(typ int32, data []byte) { putLevel(unix.SOL_SOCKET, typ, data) }
	putLevel = func(level, typ int32, data []byte) {
		left := int(room) - len(out)
		if left < cmsghdrSize {
			flags |= unix.MSG_CTRUNC
			return
		}
		clen := cmsghdrSize + len(data)
		if left < clen {
			flags |= unix.MSG_CTRUNC
			clen = left
		}
		h := le.AppendUint64(nil, uint64(clen))
		h = le.AppendUint32(h, uint32(level))
		h = le.AppendUint32(h, uint32(typ))
		out = append(out, h...)
		out = append(out, data[:clen-cmsghdrSize]...)
		if pad := min(cmsgAlign(clen), left) - clen; pad > 0 {
			out = append(out, make([]byte, pad)...)
		}
	}
	for _, m := range c.Other {
		putLevel(m.Level, m.Type, m.Data)
	}
	if passCred && c.Cred != nil {
		b := le.AppendUint32(nil, uint32(c.Cred.PID))
		b = le.AppendUint32(b, c.Cred.UID)
		put(unix.SCM_CREDENTIALS, le.AppendUint32(b, c.Cred.GID))
	}
	if len(c.Rights) > 0 {
		left := int(room) - len(out)
		fdmax := 0
		if left > cmsghdrSize {
			fdmax = (left - cmsghdrSize) / 4
		}
		var fds []byte
		i := 0
		for ; i < len(c.Rights) && i < fdmax; i++ {
			n, err := t.Files.Install(c.Rights[i], 0, cloexec, t.NoFileLimit())
			if err != nil {
				break
			}
			fds = le.AppendUint32(fds, uint32(n))
		}
		if i > 0 {
			put(unix.SCM_RIGHTS, fds)
		}
		if i < len(c.Rights) {
			flags |= unix.MSG_CTRUNC
		}
	}
	return out, flags
}

func sysRecvmsg(t *kernel.Task, a [6]uint64) (uint64, error) {
	if a[2]&msgCmsgCompat != 0 {
		return 0, unix.EINVAL
	}
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		n, err := recvMsg(t, s, d, a[1], int(int32(a[2])))
		return uint64(n), err
	})
}

// readRecvmmsgTimeout reads recvmmsg's struct timespec: EFAULT when it
// cannot be read, EINVAL when it is not a valid time.
func readRecvmmsgTimeout(t *kernel.Task, addr uint64) (time.Duration, error) {
	var b [16]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec := int64(binary.LittleEndian.Uint64(b[:]))
	nsec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= int64(time.Second) {
		return 0, unix.EINVAL
	}
	if sec >= int64(math.MaxInt64/time.Second) {
		return math.MaxInt64, nil
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}

// sysRecvmmsg receives up to vlen messages, as Linux's do_recvmmsg: a
// pending socket error is reported first; MSG_WAITFORONE makes every
// message after the first non-blocking; the timeout is checked only
// between messages (it never cuts a receive short: SO_RCVTIMEO does), and
// what is left of it is written back. An error after some messages ends
// the batch; it is kept as the socket's pending error, except EAGAIN.
func sysRecvmmsg(t *kernel.Task, a [6]uint64) (uint64, error) {
	flags := int(int32(a[3]))
	if flags&msgCmsgCompat != 0 {
		return 0, unix.EINVAL
	}
	var deadline time.Time
	timed := a[4] != 0
	if timed {
		d, err := readRecvmmsgTimeout(t, a[4])
		if err != nil {
			return 0, err
		}
		// A zero timeout ends the batch after the first message.
		if d > 0 {
			deadline = time.Now().Add(d)
		}
	}
	return onSocket(t, a[0], func(s socket.Socket, d *vfs.FileDescription) (uint64, error) {
		var err error
		eh, _ := s.(socket.ErrorHolder)
		if eh != nil && flags&unix.MSG_ERRQUEUE == 0 {
			if err := eh.TakeError(); err != nil {
				return 0, err
			}
		}
		vlen := min(a[2]&0xffffffff, uioMaxIOV)
		f := flags &^ msgWaitForOne
		var done uint64
		var left time.Duration
		for done < vlen {
			h := a[1] + done*mmsghdrSize
			var n int
			n, err = recvMsg(t, s, d, h, f)
			if err != nil {
				break
			}
			if err = putUint32(t, h+mmsgLenOff, uint32(n)); err != nil {
				break
			}
			done++
			if flags&msgWaitForOne != 0 {
				f |= unix.MSG_DONTWAIT
			}
			if timed {
				left = time.Until(deadline)
				if left <= 0 {
					left = 0
					break
				}
			}
		}
		if err != nil {
			if done == 0 {
				return 0, err
			}
			var errno unix.Errno
			if errors.As(err, &errno) && errno != unix.EAGAIN && errno < 512 && eh != nil {
				eh.SetError(errno)
			}
		}
		if timed && done > 0 {
			var b [16]byte
			binary.LittleEndian.PutUint64(b[:], uint64(left/time.Second))
			binary.LittleEndian.PutUint64(b[8:], uint64(left%time.Second))
			if err := t.CopyOut(a[4], b[:]); err != nil {
				return 0, err
			}
		}
		return done, nil
	})
}
