package unix

import (
	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/kernel/landlock"
	"uk/net/socket"
)

// Bind implements socket.Socket: a path name makes a socket inode in the
// sandbox filesystem (EADDRINUSE if the name exists), an abstract name
// goes in the namespace's table, and a bare family autobinds. EINVAL if
// the socket is already bound.
func (s *Socket) Bind(ctx socket.Context, b []byte) error {
	a, auto, err := ParseAddress(b)
	if err != nil {
		return err
	}
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	ns := s.ns
	ns.lock()
	if !s.addr.Unnamed() || s.closed {
		ns.unlock()
		if !auto && !a.Abstract {
			// Linux makes the node before it looks at the socket: a
			// name in use wins over "already bound".
			if _, _, err := ctx.LookupSocket(a.Name); err != linux.ENOENT && err != linux.ENOTDIR {
				return linux.EADDRINUSE
			}
		}
		return linux.EINVAL
	}
	switch {
	case auto:
		err = ns.autobindLocked(s)
		ns.unlock()
		return err
	case a.Abstract:
		defer ns.unlock()
		k := abstractName{s.net, a.Name}
		if _, ok := ns.abstract[k]; ok {
			return linux.EADDRINUSE
		}
		ns.abstract[k] = s
		s.addr = a
		return nil
	}
	ns.unlock()
	ino, err := ctx.MknodSocket(a.Name, 0o777)
	if err == linux.EEXIST {
		return linux.EADDRINUSE
	}
	if err != nil {
		return err
	}
	ns.lock()
	defer ns.unlock()
	if s.closed {
		return linux.EINVAL
	}
	s.addr, s.pathIno = a, ino
	ns.paths[ino] = s
	return nil
}

// Listen implements socket.Socket: EOPNOTSUPP for datagram sockets,
// EINVAL unless bound and not connected. A listening socket may listen
// again to change its backlog.
func (s *Socket) Listen(ctx socket.Context, backlog int) error {
	if s.typ == linux.SOCK_DGRAM {
		return linux.EOPNOTSUPP
	}
	if uint(backlog) > Somaxconn {
		backlog = Somaxconn
	}
	ns := s.ns
	ns.lock()
	defer ns.unlock()
	if s.addr.Unnamed() || (s.state != stateClosed && s.state != stateListening) {
		return linux.EINVAL
	}
	grew := backlog > s.backlog
	s.backlog = backlog
	s.state = stateListening
	s.peerCred, s.hasPeerCred = credOf(ctx), true
	if grew {
		ns.notifyLocked(&s.spaceQ, writeEvents)
	}
	return nil
}

// resolve finds the socket named by a sockaddr for connect and sendto.
func (s *Socket) resolve(ctx socket.Context, b []byte) (*Socket, error) {
	a, auto, err := ParseAddress(b)
	if err != nil {
		return nil, err
	}
	if auto {
		return nil, linux.EINVAL
	}
	var ino vfs.Inode
	if !a.Abstract {
		var typ uint32
		ino, typ, err = ctx.LookupSocket(a.Name)
		if err != nil {
			return nil, err
		}
		if typ != linux.S_IFSOCK {
			return nil, linux.ECONNREFUSED
		}
	}
	s.ns.lock()
	defer s.ns.unlock()
	o, err := s.ns.lookupLocked(a, s.net, ino)
	if err != nil {
		return nil, err
	}
	if a.Abstract && landlock.ScopeDenied(landlock.Of(ctx.Credentials()), o.landlock, landlock.ScopeAbstractUnix) {
		return nil, linux.EPERM
	}
	if o.typ != s.typ {
		if a.Abstract {
			// An abstract name is looked up by type as well: one of
			// another type is no peer at all (Linux's
			// unix_find_abstract), where a path names the socket.
			return nil, linux.ECONNREFUSED
		}
		return nil, linux.EPROTOTYPE
	}
	return o, nil
}

// Connect implements socket.Socket. For stream and seqpacket sockets it
// queues a new server-side socket on the listener (ECONNREFUSED when
// nobody listens; waits, or EAGAIN, while the backlog is full) and the
// connection is established at once. A datagram socket just records its
// peer (AF_UNSPEC dissolves it).
func (s *Socket) Connect(ctx socket.Context, b []byte, nonblock bool) error {
	if s.typ == linux.SOCK_DGRAM {
		return s.connectDgram(ctx, b)
	}
	o, err := s.resolve(ctx, b)
	if err != nil {
		return err
	}
	ns := s.ns
	ns.lock()
	defer ns.unlock()
	bl := socket.NewBlocker(writeEvents|vfs.EventErr|vfs.EventHUp, s.opts.SndTimeo)
	defer bl.Done()
	for {
		if o.closed || o.state != stateListening || o.shut&shutRcv != 0 {
			return linux.ECONNREFUSED
		}
		if !o.recvqFullLocked() {
			break
		}
		if nonblock {
			return linux.EAGAIN
		}
		if err := bl.WaitReleasing(ctx, &o.spaceQ, (*nsLocker)(ns)); err != nil {
			return err
		}
	}
	switch {
	case s.state == stateConnected:
		return linux.EISCONN
	case s.state == stateListening || s.closed:
		return linux.EINVAL
	}
	if s.opts.PassCred && s.addr.Unnamed() {
		if err := ns.autobindLocked(s); err != nil {
			return err
		}
	}
	n := ns.newSocket(ctx, s.typ)
	n.embryo = true
	n.state = stateConnected
	n.addr = o.addr
	n.peer = s
	n.peerCred, n.hasPeerCred = credOf(ctx), true
	n.opts.PassCred = o.opts.PassCred
	n.inode.UID, n.inode.GID = o.inode.UID, o.inode.GID
	s.peer = n
	s.state = stateConnected
	s.peerCred, s.hasPeerCred = o.peerCred, o.hasPeerCred
	o.pending = append(o.pending, n)
	ns.notifyLocked(&o.q, readEvents)
	ns.notifyLocked(&s.q, writeEvents)
	return nil
}

func (s *Socket) connectDgram(ctx socket.Context, b []byte) error {
	if len(b) < 2 {
		return linux.EINVAL
	}
	ns := s.ns
	if b[0] == linux.AF_UNSPEC && b[1] == 0 {
		ns.lock()
		defer ns.unlock()
		s.disconnectLocked()
		return nil
	}
	o, err := s.resolve(ctx, b)
	if err != nil {
		return err
	}
	ns.lock()
	defer ns.unlock()
	if o.closed {
		return linux.ECONNREFUSED
	}
	if o.peer != nil && o.peer != s && !o.peer.closed {
		return linux.EPERM
	}
	if s.opts.PassCred && s.addr.Unnamed() {
		if err := ns.autobindLocked(s); err != nil {
			return err
		}
	}
	s.disconnectLocked()
	s.peer = o
	s.state = stateConnected
	if o.dgramFrom == nil {
		o.dgramFrom = map[*Socket]struct{}{}
	}
	o.dgramFrom[s] = struct{}{}
	s.peerCred, s.hasPeerCred = credOf(ctx), true
	return nil
}

// disconnectLocked dissolves a datagram socket's association.
func (s *Socket) disconnectLocked() {
	if p := s.peer; p != nil && p.dgramFrom != nil {
		delete(p.dgramFrom, s)
	}
	s.peer = nil
	s.state = stateClosed
	s.hasPeerCred = false
}

// Accept implements socket.Socket: EOPNOTSUPP for datagram sockets, EINVAL
// unless listening; waits for a connection (SO_RCVTIMEO applies) unless
// nonblock (EAGAIN).
func (s *Socket) Accept(ctx socket.Context, nonblock bool, flags uint32) (*vfs.FileDescription, []byte, error) {
	if s.typ == linux.SOCK_DGRAM {
		return nil, nil, linux.EOPNOTSUPP
	}
	ns := s.ns
	ns.lock()
	defer ns.unlock()
	bl := socket.NewBlocker(readEvents|vfs.EventErr|vfs.EventHUp, s.opts.RcvTimeo)
	defer bl.Done()
	for {
		if s.state != stateListening {
			return nil, nil, linux.EINVAL
		}
		if len(s.pending) > 0 {
			break
		}
		if s.shut&shutRcv != 0 {
			return nil, nil, linux.EINVAL
		}
		if nonblock {
			return nil, nil, linux.EAGAIN
		}
		if err := bl.WaitReleasing(ctx, &s.q, (*nsLocker)(ns)); err != nil {
			return nil, nil, err
		}
	}
	n := s.pending[0]
	s.pending[0] = nil
	s.pending = s.pending[1:]
	n.embryo = false
	ns.notifyLocked(&s.spaceQ, writeEvents)
	var peer []byte
	if n.peer != nil {
		peer = n.peer.addr.Sockaddr()
	}
	return n.description(flags), peer, nil
}

// Shutdown implements socket.Socket: the local direction(s) close, and
// for a connected stream or seqpacket socket the peer's opposite ones.
func (s *Socket) Shutdown(ctx socket.Context, how int) error {
	if how < linux.SHUT_RD || how > linux.SHUT_RDWR {
		return linux.EINVAL
	}
	mode := how + 1
	ns := s.ns
	ns.lock()
	defer ns.unlock()
	s.shut |= mode
	ns.notifyLocked(&s.q, allEvents)
	if p := s.peer; p != nil && s.typ != linux.SOCK_DGRAM {
		pm := 0
		if mode&shutRcv != 0 {
			pm |= shutSend
		}
		if mode&shutSend != 0 {
			pm |= shutRcv
		}
		p.shut |= pm
		ns.notifyLocked(&p.q, allEvents)
	}
	return nil
}

// SockName implements socket.Socket (getsockname).
func (s *Socket) SockName(socket.Context) ([]byte, error) {
	s.ns.lock()
	defer s.ns.unlock()
	return s.addr.Sockaddr(), nil
}

// PeerName implements socket.Socket (getpeername): ENOTCONN without a
// peer; a stream peer that closed still has its name.
func (s *Socket) PeerName(socket.Context) ([]byte, error) {
	s.ns.lock()
	defer s.ns.unlock()
	if s.peer == nil || s.state != stateConnected {
		return nil, linux.ENOTCONN
	}
	return s.peer.addr.Sockaddr(), nil
}
