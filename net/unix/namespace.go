package unix

import (
	"fmt"
	"sync"

	linux "golang.org/x/sys/unix"

	"uk/fs/vfs"
	"uk/net/socket"
)

// MaxDgramQlen is /proc/sys/net/unix/max_dgram_qlen: how many datagrams a
// socket's receive queue holds from senders it is not connected to.
const MaxDgramQlen = 10

// Somaxconn is net.core.somaxconn: the largest listen backlog.
const Somaxconn = 4096

// Namespace is one kernel's AF_UNIX world: the abstract names, the
// sockets bound to filesystem inodes, and the lock that guards every
// socket in it.
type Namespace struct {
	mu       sync.Mutex
	abstract map[abstractName]*Socket // protected by mu
	paths    map[vfs.Inode]*Socket    // protected by mu
	nextAuto uint32                   // protected by mu

	// Work to do once mu is released; protected by mu.
	notes []note
	drops []*vfs.FileDescription

	// sentSockets counts socket descriptions sent since the last
	// collection (gc.go), keptSockets the sockets it left; protected by
	// mu.
	sentSockets, keptSockets int

	// live is every socket made and not yet released, for /proc/net/unix
	// (Sockets). liveMu is a leaf lock: taken with or without mu, which
	// newSocket may or may not hold.
	liveMu sync.Mutex
	live   map[*Socket]struct{} // protected by liveMu
}

type note struct {
	q  *vfs.Queue
	ev vfs.EventMask
}

// NewNamespace returns an empty namespace.
func NewNamespace() *Namespace {
	return &Namespace{abstract: map[abstractName]*Socket{}, paths: map[vfs.Inode]*Socket{}, live: map[*Socket]struct{}{}}
}

// abstractName is an abstract name in the network namespace it was
// bound in (socket.Context.NetNamespace): a socket in another network
// namespace neither sees nor collides with it, as in Linux, while
// filesystem names reach across network namespaces.
type abstractName struct {
	net  any
	name string
}

func (ns *Namespace) lock() { ns.mu.Lock() }

// unlock releases mu, then delivers the queued notifications and drops
// the queued description references.
func (ns *Namespace) unlock() {
	notes, drops := ns.notes, ns.drops
	ns.notes, ns.drops = nil, nil
	ns.mu.Unlock()
	for _, n := range notes {
		n.q.Notify(n.ev)
	}
	for _, d := range drops {
		d.DecRef()
	}
}

// nsLocker is a Namespace seen as a sync.Locker, so that a
// socket.Blocker can release the namespace lock for its sleep: Unlock is
// ns.unlock, which delivers the notifications queued under the lock
// before the caller sleeps.
type nsLocker Namespace

// Lock takes the namespace lock.
func (l *nsLocker) Lock() { (*Namespace)(l).lock() }

// Unlock releases the namespace lock and delivers its queued work.
func (l *nsLocker) Unlock() { (*Namespace)(l).unlock() }

// notifyLocked queues a notification of q for after the unlock.
func (ns *Namespace) notifyLocked(q *vfs.Queue, ev vfs.EventMask) {
	ns.notes = append(ns.notes, note{q, ev})
}

// dropLocked queues the release of a control's references.
func (ns *Namespace) dropLocked(c *socket.Control) {
	ns.drops = append(ns.drops, c.Rights...)
	c.Rights = nil
}

// autobindLocked gives s a fresh abstract name of five hex digits, as
// Linux's unix_autobind.
func (ns *Namespace) autobindLocked(s *Socket) error {
	for i := 0; i < 0x100000; i++ {
		name := fmt.Sprintf("%05x", ns.nextAuto&0xfffff)
		ns.nextAuto++
		if k := (abstractName{s.net, name}); ns.abstract[k] == nil {
			s.addr = Address{Abstract: true, Name: name}
			ns.abstract[k] = s
			return nil
		}
	}
	return linux.ENOSPC
}

// lookupLocked finds the socket bound to a (ECONNREFUSED if none): an
// abstract name in network namespace net, a path name by ino, the inode
// the caller resolved.
func (ns *Namespace) lookupLocked(a Address, net any, ino vfs.Inode) (*Socket, error) {
	var s *Socket
	if a.Abstract {
		s = ns.abstract[abstractName{net, a.Name}]
	} else {
		s = ns.paths[ino]
	}
	if s == nil || s.closed {
		return nil, linux.ECONNREFUSED
	}
	return s, nil
}
