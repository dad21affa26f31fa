package unix

import (
	"encoding/binary"

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
	case linux.SO_TYPE:
		return socket.Int(int32(s.typ)), nil
	case linux.SO_DOMAIN:
		return socket.Int(linux.AF_UNIX), nil
	case linux.SO_PROTOCOL:
		return socket.Int(0), nil
	case linux.SO_ACCEPTCONN:
		return socket.Bool(s.state == stateListening), nil
	case linux.SO_ERROR:
		e := s.err
		s.err = 0
		return socket.Int(int32(e)), nil
	case linux.SO_PEERCRED:
		c := socket.Cred{PID: 0, UID: ^uint32(0), GID: ^uint32(0)}
		if s.hasPeerCred {
			c = s.peerCred
		}
		b := binary.LittleEndian.AppendUint32(nil, uint32(c.PID))
		b = binary.LittleEndian.AppendUint32(b, c.UID)
		return binary.LittleEndian.AppendUint32(b, c.GID), nil
	case linux.SO_PEERSEC:
		return nil, linux.ENOPROTOOPT
	}
	if v, ok := s.opts.Get(name); ok {
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
	switch name {
	case linux.SO_TYPE, linux.SO_DOMAIN, linux.SO_PROTOCOL, linux.SO_ACCEPTCONN,
		linux.SO_ERROR, linux.SO_PEERCRED:
		return linux.ENOPROTOOPT
	}
	ok, err := s.opts.Set(name, val, ctx.Credentials().Privileged)
	if !ok {
		return linux.ENOPROTOOPT
	}
	if err == nil && (name == linux.SO_SNDBUF || name == linux.SO_SNDBUFFORCE) {
		ns.notifyLocked(&s.q, writeEvents)
	}
	return err
}
