// Package netlink implements AF_NETLINK sockets for the sandbox: the
// NETLINK_ROUTE ("rtnetlink") protocol that ip(8), Go's net.Interfaces and
// vishvananda/netlink use to read and change interfaces, addresses and
// routes, and NETLINK_KOBJECT_UEVENT sockets that bind but never hear an
// event (the sandbox has no hotplug).
//
// The "kernel" side of NETLINK_ROUTE answers a request synchronously inside
// sendmsg: every nlmsghdr in the buffer is parsed and its replies are queued
// on the sender's receive queue, encoded byte for byte as Linux encodes them
// (struct layouts, attribute order and alignment, NLMSG_ERROR acks echoing
// the request header, NLM_F_MULTI dump parts ending in NLMSG_DONE). Dumps
// are produced lazily as Linux's netlink_dump does: one datagram at send
// time and the next after each recvmsg drains the queue, each sized after
// the largest receive buffer the socket has seen, so a reader with a small
// buffer sees the same datagram boundaries it would on Linux.
//
// The interface state itself lives behind netdev.Table; this package never
// touches the network stack directly.
package netlink
