package netlink

import (
	"encoding/binary"
	"sort"

	linux "golang.org/x/sys/unix"

	"uk/net/socket"
)

// GetSockOpt implements socket.Socket: SOL_SOCKET options and
// SOL_NETLINK's flags and NETLINK_LIST_MEMBERSHIPS; other levels are
// ENOPROTOOPT, as netlink_getsockopt.
func (s *Socket) GetSockOpt(ctx socket.Context, level, name int, optlen int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch level {
	case linux.SOL_SOCKET:
		switch name {
		case linux.SO_ACCEPTCONN:
			return socket.Int(0), nil
		case linux.SO_ERROR:
			e := s.err
			s.err = 0
			return socket.Int(int32(e)), nil
		case linux.SO_PEERCRED:
			return socket.NoPeerCred.Ucred(), nil
		case linux.SO_LOCK_FILTER:
			return socket.Bool(s.filterLocked), nil
		}
		if v, ok := socket.GetCommon(s, &s.opts, name); ok {
			return v, nil
		}
		return nil, linux.ENOPROTOOPT
	case linux.SOL_NETLINK:
	default:
		return nil, linux.ENOPROTOOPT
	}
	if optlen < 4 {
		return nil, linux.EINVAL
	}
	if isFlag(name) {
		return socket.Bool(s.flags.has(name)), nil
	}
	switch name {
	case linux.NETLINK_LIST_MEMBERSHIPS:
		// One bit per group in 32-bit words; the syscall layer copies
		// what fits and reports this full length, as Linux does.
		words := make([]uint32, (groupsOf(s.protocol)+31)/32)
		gs := make([]uint32, 0, len(s.groups))
		for g := range s.groups {
			gs = append(gs, g)
		}
		sort.Slice(gs, func(i, j int) bool { return gs[i] < gs[j] })
		for _, g := range gs {
			words[(g-1)/32] |= 1 << ((g - 1) % 32)
		}
		var b []byte
		for _, w := range words {
			b = binary.LittleEndian.AppendUint32(b, w)
		}
		return b, nil
	}
	return nil, linux.ENOPROTOOPT
}

// SetSockOpt implements socket.Socket: SOL_SOCKET options through
// socket.Options and the socket filter's, SOL_NETLINK flags and group
// membership.
func (s *Socket) SetSockOpt(ctx socket.Context, level, name int, val []byte) error {
	var filter *socket.Filter
	if level == linux.SOL_SOCKET && name == linux.SO_ATTACH_FILTER {
		// The program is read outside the lock: it is in the caller's
		// memory.
		s.mu.Lock()
		locked := s.filterLocked
		s.mu.Unlock()
		var err error
		if filter, err = socket.ReadFilter(ctx, val, locked); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch level {
	case linux.SOL_SOCKET:
		switch name {
		case linux.SO_ATTACH_FILTER, linux.SO_DETACH_FILTER, linux.SO_LOCK_FILTER:
			return socket.SetFilter(&s.filter, &s.filterLocked, name, val, filter)
		}
		return s.opts.Set(name, val, ctx.Credentials().Privileged)
	case linux.SOL_NETLINK:
	default:
		return linux.ENOPROTOOPT
	}
	// netlink_setsockopt reads an int when one is given and uses 0
	// otherwise.
	var v uint32
	if len(val) >= 4 {
		v = binary.LittleEndian.Uint32(val)
	}
	on := v != 0
	switch name {
	case linux.NETLINK_ADD_MEMBERSHIP, linux.NETLINK_DROP_MEMBERSHIP:
		if v == 0 || v > groupsOf(s.protocol) {
			return linux.EINVAL
		}
		if name == linux.NETLINK_ADD_MEMBERSHIP {
			s.groups[v] = struct{}{}
		} else {
			delete(s.groups, v)
		}
		return nil
	case linux.NETLINK_NO_ENOBUFS:
		if on {
			s.err = 0
		}
	case linux.NETLINK_LISTEN_ALL_NSID:
		if !ctx.Credentials().Privileged {
			return linux.EPERM
		}
	}
	if !isFlag(name) {
		return linux.ENOPROTOOPT
	}
	s.flags.set(name, on)
	return nil
}
