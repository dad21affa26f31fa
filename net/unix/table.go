package unix

import (
	"cmp"
	"slices"
)

// SocketInfo is a live socket as /proc/net/unix shows it (Linux's
// unix_seq_show): what a program such as ss or netstat learns of the
// sockets of its network namespace.
type SocketInfo struct {
	// Listening marks a socket in listen(2) (__SO_ACCEPTCON).
	Listening bool
	// Type is SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
	Type int
	// State is the socket's SS_* state: SS_CONNECTED or SS_UNCONNECTED
	// for a socket a descriptor holds; SS_CONNECTING for a connection
	// not accepted yet.
	State int
	// Inode is the socket's inode number, as fstat and /proc/PID/fd
	// show it; 0 for a connection not accepted yet, which has no
	// socket file, as in Linux.
	Inode uint64
	// Addr is the socket's name; unnamed for an unbound socket. A
	// connection's accepted side carries its listener's name, as Linux's.
	Addr Address
}

// SS_* socket states (include/uapi/linux/net.h).
const (
	ssUnconnected = 1
	ssConnecting  = 2
	ssConnected   = 3
)

// Sockets lists the live sockets made in network namespace net
// (socket.Context.NetNamespace), ordered by inode number.
func (ns *Namespace) Sockets(net any) []SocketInfo {
	ns.lock()
	defer ns.unlock()
	ns.liveMu.Lock()
	defer ns.liveMu.Unlock()
	var out []SocketInfo
	for s := range ns.live {
		if s.net != net {
			continue
		}
		info := SocketInfo{
			Listening: s.state == stateListening,
			Type:      s.typ,
			State:     ssUnconnected,
			Inode:     s.inode.Ino,
			Addr:      s.addr,
		}
		// Linux derives the column from the socket's TCP-like state and
		// whether a struct socket (a descriptor's side) exists yet; an
		// embryo is always connected, and has no inode yet.
		switch {
		case s.embryo:
			info.State, info.Inode = ssConnecting, 0
		case s.state == stateConnected:
			info.State = ssConnected
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b SocketInfo) int { return cmp.Compare(a.Inode, b.Inode) })
	return out
}
