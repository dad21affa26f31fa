// Package inet is uk's Internet protocol family: AF_INET and AF_INET6
// sockets (TCP, UDP, ICMP echo "ping" sockets and raw sockets) on the
// protocol stack of gvisor.dev/gvisor/pkg/tcpip, and the stack's
// interfaces, addresses and routes (Stack, which implements
// netdev.Table for netlink and the SIOCGIF ioctls).
//
// The stack never makes host socket calls: its only way out of the
// sandbox is the Ethernet link of an attached TAP device (net/tap).
// Loopback (lo, 127.0.0.1/8 and ::1) always exists.
//
// A socket here is a thin adapter: tcpip endpoints keep the protocol
// state; this package translates sockaddrs, options, errors and blocking
// (a tcpip waiter.Queue feeds the description's vfs.Queue, and blocking
// calls wait on it with the task's interruptible Block).
package inet
