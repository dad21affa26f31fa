package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	unixsock "uk/net/unix"
)

// NetNamespace is a network namespace: an Internet stack of its own (the
// sandbox's first has the configured TAP device; a new one only its
// loopback), its interfaces, routes and sockets. It implements
// nsfs.Namespace. AF_UNIX abstract names are kept per network namespace
// (net/unix, keyed by the *NetNamespace a socket was made in), while
// filesystem sockets are reached from any, as in Linux.
type NetNamespace struct {
	k    *Kernel
	inum uint64
	net  Network
	// users counts the tasks in the namespace, the bind mounts of its
	// file and the Internet, packet and netlink sockets made in it; when
	// the last goes from one made at run time, its stack stops.
	users atomic.Int64
}

// rootNetInum is the inode number of the initial network namespace, as
// Linux's.
const rootNetInum = 0xEFFFFFF9

// maxNetNamespaces is how many network namespaces made at run time may
// be live at once (each a stack with its goroutines and buffers): past
// it, unshare and clone fail with ENOSPC, as past Linux's
// user.max_net_namespaces.
const maxNetNamespaces = 64

// Kind implements nsfs.Namespace.
func (ns *NetNamespace) Kind() string { return "net" }

// Inum implements nsfs.Namespace.
func (ns *NetNamespace) Inum() uint64 { return ns.inum }

// CloneFlag implements nsfs.Namespace.
func (ns *NetNamespace) CloneFlag() uint64 { return unix.CLONE_NEWNET }

// rootNet returns the sandbox's first network namespace (nil without a
// network).
func (k *Kernel) rootNet() *NetNamespace {
	k.netOnce.Do(func() {
		if k.Network != nil {
			k.netRoot = &NetNamespace{k: k, inum: rootNetInum, net: k.Network}
			k.netRoot.users.Store(1) // the sandbox's own: never released
		}
	})
	return k.netRoot
}

// UnixNamespace is the kernel's AF_UNIX family: every AF_UNIX socket of
// the sandbox, whatever network namespace it was made in (the family
// keeps abstract names apart by namespace itself).
func (k *Kernel) UnixNamespace() *unixsock.Namespace {
	k.unixOnce.Do(func() { k.unixNS = unixsock.NewNamespace() })
	return k.unixNS
}

// NetNamespace returns the network namespace t is in (nil when the
// kernel has no network).
func (t *Task) NetNamespace() *NetNamespace {
	if ns := t.netNS.Load(); ns != nil {
		return ns
	}
	return t.k.rootNet()
}

// Net returns the network t's sockets live on (nil: none).
func (t *Task) Net() Network {
	if ns := t.NetNamespace(); ns != nil {
		return ns.net
	}
	return nil
}

// setNetNamespace moves t into ns (nil: the sandbox's first), counting
// it there and out of the one it was in.
func (t *Task) setNetNamespace(ns *NetNamespace) {
	if ns == t.k.netRoot {
		ns = nil
	}
	if ns != nil {
		ns.Hold()
	}
	if old := t.netNS.Swap(ns); old != nil {
		old.Unhold()
	}
}

// Hold implements nsfs.Holder and socket.NetHolder: a task in the
// namespace, a bind mount of its file (`ip netns add`) or a socket made in
// it keeps it. A nil namespace (a kernel without a network) holds nothing.
func (ns *NetNamespace) Hold() {
	if ns != nil {
		ns.users.Add(1)
	}
}

// Unhold implements nsfs.Holder and socket.NetHolder: the last user gone,
// the stack stops.
func (ns *NetNamespace) Unhold() {
	if ns != nil && ns.users.Add(-1) == 0 {
		ns.k.liveNets.Add(-1)
		ns.net.Close(0)
	}
}

// unshareNet moves t into a new network namespace with only a loopback
// device: EINVAL without a network, ENOSPC past maxNetNamespaces.
func (t *Task) unshareNet() error {
	root := t.k.rootNet()
	if root == nil {
		return unix.EINVAL
	}
	if t.k.liveNets.Add(1) > maxNetNamespaces {
		t.k.liveNets.Add(-1)
		return unix.ENOSPC
	}
	t.setNetNamespace(&NetNamespace{k: t.k, inum: nsInumBase + nextNSInum.Add(1), net: root.net.Fresh()})
	return nil
}
