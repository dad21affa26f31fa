package socket

import "net/netip"

// InetInfo is an AF_INET or AF_INET6 socket as /proc/net/tcp, tcp6, udp
// and udp6 show it (Linux's get_tcp4_sock and udp4_format_sock): what
// netstat, psutil and a script waiting for a port read there. Its family
// implements the listing; fs/proc prints it.
type InetInfo struct {
	// Local and Remote are the socket's addresses: unspecified and port 0
	// where none is set. An AF_INET6 socket's IPv4 peers are
	// IPv4-mapped.
	Local, Remote netip.AddrPort
	// State is Linux's TCP_* number: for TCP the connection's
	// (TCP_LISTEN 10, TCP_TIME_WAIT 6, ...); for UDP TCP_ESTABLISHED (1)
	// when connected, else TCP_CLOSE (7).
	State int
	// TxQueue and RxQueue are the bytes sent and not yet acknowledged
	// and received and not yet read.
	TxQueue, RxQueue int
	// RTO, Cwnd and Ssthresh are a TCP connection's retransmission
	// timeout (in clock ticks), congestion window and slow-start
	// threshold (-1 while in its initial slow start).
	RTO, Cwnd, Ssthresh int
	// UID owns the socket; Inode is its inode number, 0 for a
	// connection whose socket is closed (TIME_WAIT).
	UID   uint32
	Inode uint64
}
