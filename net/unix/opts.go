package unix

import (
	linux "golang.org/x/sys/unix"

	"uk/net/socket"
)

// GetSockOpt implements socket.Socket: SOL_SOCKET options only (other
// levels are EOPNOTSUPP for AF_UNIX, as Linux).
func (s *Socket) GetSockOpt(ctx socket.Context, level, name int, optlen int) ([]byte, error) {
	if level != linux.SOL_SOCKET {
		return nil, linux.EOPNOTSUPP
	}
	ns := s.ns
	ns.lock()
	defer ns.unlock()
	switch name {
	case linux.SO_ACCEPTCONN:
		return socket.Bool(s.state == stateListening), nil
	case linux.SO_ERROR:
		e := s.err
		s.err = 0
		return socket.Int(int32(e)), nil
	case linux.SO_PEERCRED:
		c := socket.NoPeerCred
		if s.hasPeerCred {
			c = s.peerCred
		}
		return c.Ucred(), nil
	case linux.SO_PEERSEC:
		return nil, linux.ENOPROTOOPT
	}
	if v, ok := socket.GetCommon(s, &s.opts, name); ok {
		return v, nil
	}
	return nil, linux.ENOPROTOOPT
}

// SetSockOpt implements socket.Socket.
func (s *Socket) SetSockOpt(ctx socket.Context, level, name int, val []byte) error {
	if level != linux.SOL_SOCKET {
		return linux.EOPNOTSUPP
	}
	ns := s.ns
	ns.lock()
	defer ns.unlock()
	err := s.opts.Set(name, val, ctx.Credentials().Privileged)
	if err == nil && (name == linux.SO_SNDBUF || name == linux.SO_SNDBUFFORCE) {
		ns.notifyLocked(&s.q, writeEvents)
	}
	return err
}
