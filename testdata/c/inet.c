/*
 * inet: AF_INET and AF_INET6 sockets on loopback, all in one process.
 * TCP: socket/bind/listen/accept4/connect, blocking and non-blocking
 * connect (EINPROGRESS, then poll and SO_ERROR), getsockname/getpeername,
 * send/recv with MSG_PEEK, FIONREAD, shutdown, ECONNREFUSED, EADDRINUSE and
 * SO_REUSEADDR over a TIME_WAIT, epoll and select readiness of a listening
 * socket, IPv4-mapped peers of a dual-stack IPv6 listener. UDP: sendto and
 * recvfrom with MSG_PEEK and MSG_TRUNC, datagram boundaries, FIONREAD,
 * ICMP port-unreachable as ECONNREFUSED on a connected socket. Options:
 * SO_REUSEADDR, SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF, SO_ERROR, SO_TYPE,
 * SO_ACCEPTCONN, SO_LINGER, SO_RCVTIMEO, TCP_NODELAY, IP_TTL, IPV6_V6ONLY.
 * Resets: SO_LINGER 0 and closing with unread data send RST (ECONNRESET,
 * then EOF; EPIPE and SIGPIPE on writes). Sharing: a listener accepted
 * from by forked children, a connection passed with SCM_RIGHTS, dup.
 * Signals: blocked recv and accept end with EINTR, or restart with
 * SA_RESTART unless SO_RCVTIMEO is set.
 * More: SO_REUSEPORT, SO_SNDTIMEO, SO_BROADCAST, SO_DOMAIN/SO_PROTOCOL,
 * TCP keepalive tuning, IP_TOS; recvmsg control messages (IP_PKTINFO,
 * IP_TTL), sendmmsg/recvmmsg; the interface ioctls on lo (SIOCGIFINDEX,
 * SIOCGIFNAME, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFHWADDR,
 * SIOCGIFMTU, SIOCGIFCONF). SO_SNDTIMEO on a full connection; sendfile
 * into a slow connection. Last, TCP_INFO's state through a connection's
 * life and TCP_MAXSEG.
 *
 * Ports are ephemeral and never printed: only whether addresses match
 * what they must.
 */
#include "uktest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

/* enet names the errno values of networking that uktest.h's table lacks,
 * and defers to it for the rest. */
static const char *enet(int e) {
	switch (e) {
	case ECONNREFUSED: return "ECONNREFUSED";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EINPROGRESS: return "EINPROGRESS";
	case EALREADY: return "EALREADY";
	case EISCONN: return "EISCONN";
	case ENOTCONN: return "ENOTCONN";
	case ECONNRESET: return "ECONNRESET";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EDESTADDRREQ: return "EDESTADDRREQ";
	case ENOTSOCK: return "ENOTSOCK";
	case EMSGSIZE: return "EMSGSIZE";
	}
	return errname(e);
}

/* NET_ERR requires expr to fail with errno E, printing the errno's name. */
#define NET_ERR(expr, E) ({ errno = 0; long r_ = (long)(expr); int e_ = errno; \
	if (r_ == -1 && e_ == (E)) printf("%s: -1 %s\n", #expr, enet(e_)); \
	else { printf("%s: %ld %s FAIL (want -1 %s, line %d)\n", #expr, r_, r_ == -1 ? enet(e_) : "", enet(E), __LINE__); ukt_failures++; } \
	r_; })

/* NET_OK requires expr to succeed and yields its result. */
#define NET_OK(expr) ({ errno = 0; long r_ = (long)(expr); int e_ = errno; \
	if (r_ != -1) printf("%s: ok\n", #expr); \
	else { printf("%s: FAIL -1 %s (line %d)\n", #expr, enet(e_), __LINE__); ukt_failures++; } \
	r_; })

/* NET_EQ requires expr to return exactly want. */
#define NET_EQ(expr, want) ({ errno = 0; long r_ = (long)(expr); int e_ = errno; \
	if (r_ == (long)(want)) printf("%s == %s: ok\n", #expr, #want); \
	else { printf("%s == %s: FAIL (got %ld %s, line %d)\n", #expr, #want, r_, r_ == -1 ? enet(e_) : "", __LINE__); ukt_failures++; } \
	r_; })

static struct sockaddr_in loop4(unsigned short port) {
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static struct sockaddr_in6 loop6(unsigned short port) {
	struct sockaddr_in6 a;
	memset(&a, 0, sizeof a);
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(port);
	a.sin6_addr = in6addr_loopback;
	return a;
}

#define SA(p) ((struct sockaddr *)(p))

/* name4 is getsockname (peer=0) or getpeername (peer=1) of an IPv4 socket,
 * with the length and family checked. */
static struct sockaddr_in name4(int fd, int peer) {
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	socklen_t l = sizeof a;
	int r = peer ? getpeername(fd, SA(&a), &l) : getsockname(fd, SA(&a), &l);
	if (r < 0 || l != sizeof a || a.sin_family != AF_INET) {
		printf("%s: FAIL (r %d %s, len %u, family %d)\n", peer ? "getpeername" : "getsockname",
		       r, r < 0 ? enet(errno) : "", l, a.sin_family);
		ukt_failures++;
	}
	return a;
}

static int same4(struct sockaddr_in a, struct sockaddr_in b) {
	return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
}

static const char *ip4(struct sockaddr_in a) {
	static char buf[INET_ADDRSTRLEN];
	return inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
}

static int getopt_int(int fd, int level, int opt) {
	int v = -1;
	socklen_t l = sizeof v;
	if (getsockopt(fd, level, opt, &v, &l) < 0)
		return -1000 - errno;
	if (l != sizeof v)
		return -2000 - (int)l;
	return v;
}

static int setopt_int(int fd, int level, int opt, int v) {
	return setsockopt(fd, level, opt, &v, sizeof v);
}

static const char *events(unsigned ev) {
	static char buf[128];
	buf[0] = 0;
	if (ev & POLLIN) strcat(buf, "IN ");
	if (ev & POLLPRI) strcat(buf, "PRI ");
	if (ev & POLLOUT) strcat(buf, "OUT ");
	if (ev & POLLERR) strcat(buf, "ERR ");
	if (ev & POLLHUP) strcat(buf, "HUP ");
	if (ev & POLLRDHUP) strcat(buf, "RDHUP ");
	if (ev & POLLNVAL) strcat(buf, "NVAL ");
	if (!buf[0]) strcpy(buf, "none");
	return buf;
}

/* wait_events polls fd for events until one of want is set (at most 5 s)
 * and returns all it got. */
static unsigned poll_now(int fd) {
	struct pollfd p = {fd, (short)(POLLIN | POLLOUT | POLLRDHUP), 0};
	poll(&p, 1, 0);
	return (unsigned short)p.revents;
}

/* wait_events waits up to 5 s for want (or an error or hang-up) on fd and
 * returns every event then. It polls for want alone: asking for POLLOUT
 * too, which a connected socket always has, made each poll return at once,
 * a busy loop of 500 polls that ended before a packet in flight arrived
 * when the polls were fast enough. */
static unsigned wait_events(int fd, short want) {
	struct pollfd p = {fd, (short)(want & (POLLIN | POLLOUT | POLLRDHUP | POLLPRI)), 0};
	for (int i = 0; i < 500; i++) {
		p.revents = 0;
		if (poll(&p, 1, 10) > 0 && (p.revents & (want | POLLERR | POLLHUP | POLLNVAL)))
			break;
	}
	return poll_now(fd);
}

/* listener4 returns a TCP socket listening on 127.0.0.1 at an ephemeral
 * port, and that address. */
static int listener4(struct sockaddr_in *addr) {
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = loop4(0);
	if (ls < 0 || bind(ls, SA(&a), sizeof a) < 0 || listen(ls, 16) < 0) {
		printf("listener4: FAIL %s\n", enet(errno));
		ukt_failures++;
	}
	*addr = name4(ls, 0);
	return ls;
}

static void tcp_basics(void) {
	printf("== tcp basics\n");
	int ls = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_EQ(getopt_int(ls, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	NET_EQ(getopt_int(ls, SOL_SOCKET, SO_ACCEPTCONN), 0);
	NET_ERR(getpeername(ls, SA(&(struct sockaddr_in){0}), &(socklen_t){sizeof(struct sockaddr_in)}), ENOTCONN);
	struct sockaddr_in a = name4(ls, 0);
	printf("unbound name: %s port %s\n", ip4(a), a.sin_port == 0 ? "0" : "nonzero FAIL");
	struct sockaddr_in any = loop4(0);
	NET_ERR(bind(ls, SA(&any), sizeof any - 1), EINVAL);
	NET_OK(bind(ls, SA(&any), sizeof any));
	NET_ERR(bind(ls, SA(&any), sizeof any), EINVAL);
	a = name4(ls, 0);
	printf("bound name: %s port %s\n", ip4(a), a.sin_port != 0 ? "nonzero" : "0 FAIL");
	NET_ERR(accept(ls, NULL, NULL), EINVAL);
	NET_OK(listen(ls, 8));
	NET_EQ(getopt_int(ls, SOL_SOCKET, SO_ACCEPTCONN), 1);
	printf("poll listener before connect: %s\n", events(poll_now(ls)));

	int c = NET_OK(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	NET_OK(connect(c, SA(&a), sizeof a));
	NET_ERR(connect(c, SA(&a), sizeof a), EISCONN);
	printf("poll listener after connect: %s\n", events(wait_events(ls, POLLIN)));

	struct sockaddr_in peer;
	socklen_t pl = sizeof peer;
	int s = NET_OK(accept4(ls, SA(&peer), &pl, SOCK_NONBLOCK | SOCK_CLOEXEC));
	NET_EQ(pl, sizeof(struct sockaddr_in));
	CHECK("accept4 peer is the client's name", same4(peer, name4(c, 0)));
	CHECK("accepted name is the listener's", same4(name4(s, 0), a));
	CHECK("client's peer is the listener", same4(name4(c, 1), a));
	CHECK("server's peer is the client", same4(name4(s, 1), name4(c, 0)));
	printf("client address: %s\n", ip4(name4(c, 0)));
	NET_EQ(fcntl(s, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	NET_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
	NET_EQ(fcntl(c, F_GETFL) & O_NONBLOCK, 0);

	char buf[256];
	NET_ERR(recv(s, buf, sizeof buf, 0), EAGAIN);
	NET_ERR(recv(c, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	printf("poll fresh connection: %s\n", events(poll_now(s)));
	NET_EQ(send(c, "hello, tcp", 10, 0), 10);
	printf("poll after send: %s\n", events(wait_events(s, POLLIN)));
	int avail = -1;
	NET_OK(ioctl(s, FIONREAD, &avail));
	NET_EQ(avail, 10);
	NET_EQ(recv(s, buf, 5, MSG_PEEK), 5);
	NET_EQ(recv(s, buf, sizeof buf, 0), 10);
	printf("received: %.10s\n", buf);
	NET_OK(ioctl(s, FIONREAD, &avail));
	NET_EQ(avail, 0);
	NET_EQ(write(s, "reply", 5), 5);
	NET_EQ(read(c, buf, sizeof buf), 5);

	/* Half-close: the server reads EOF, can still send. */
	NET_OK(shutdown(c, SHUT_WR));
	printf("poll server after client SHUT_WR: %s\n", events(wait_events(s, POLLRDHUP)));
	NET_EQ(recv(s, buf, sizeof buf, 0), 0);
	NET_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	NET_EQ(send(s, "after", 5, 0), 5);
	NET_EQ(recv(c, buf, 5, MSG_WAITALL), 5);
	NET_OK(shutdown(s, SHUT_RDWR));
	printf("poll client after server SHUT_RDWR: %s\n", events(wait_events(c, POLLRDHUP)));
	NET_EQ(recv(c, buf, sizeof buf, 0), 0);
	close(s);
	close(c);
	close(ls);

	int u = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_ERR(shutdown(u, SHUT_RDWR), ENOTCONN);
	NET_ERR(send(u, "x", 1, MSG_NOSIGNAL), EPIPE);
	struct sockaddr_in far = loop4(1);
	far.sin_addr.s_addr = inet_addr("192.0.2.1");
	NET_ERR(bind(u, SA(&far), sizeof far), EADDRNOTAVAIL);
	close(u);
	NET_ERR(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	NET_ERR(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
}

static void tcp_nonblocking_connect(void) {
	printf("== tcp non-blocking connect\n");
	struct sockaddr_in a;
	int ls = listener4(&a);
	int c = NET_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	NET_ERR(connect(c, SA(&a), sizeof a), EINPROGRESS);
	unsigned ev = wait_events(c, POLLOUT);
	printf("poll after connect: %s\n", events(ev));
	NET_EQ(getopt_int(c, SOL_SOCKET, SO_ERROR), 0);
	CHECK("connected to the listener", same4(name4(c, 1), a));
	/* Linux reports the completed connect once more with 0, then
	 * EISCONN; reporting EISCONN at once is as good for a caller. */
	int r = connect(c, SA(&a), sizeof a);
	CHECK("connect again: 0 or EISCONN", r == 0 || errno == EISCONN);
	NET_ERR(connect(c, SA(&a), sizeof a), EISCONN);
	int s = NET_OK(accept(ls, NULL, NULL));
	NET_EQ(send(c, "nb", 2, 0), 2);
	char buf[8];
	NET_EQ(recv(s, buf, sizeof buf, 0), 2);
	close(s);
	close(c);

	/* A listener with a full backlog still completes handshakes in
	 * Linux; here only the accept side matters: accept on a
	 * non-blocking listener with nothing pending. */
	NET_OK(fcntl(ls, F_SETFL, O_NONBLOCK));
	NET_ERR(accept(ls, NULL, NULL), EAGAIN);
	close(ls);
}

static void tcp_refused(void) {
	printf("== tcp refused\n");
	/* A port bound by nobody listening: reserve one, then close it. */
	struct sockaddr_in a = loop4(0);
	int r = socket(AF_INET, SOCK_STREAM, 0);
	bind(r, SA(&a), sizeof a);
	a = name4(r, 0);
	close(r);

	int c = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_ERR(connect(c, SA(&a), sizeof a), ECONNREFUSED);
	NET_EQ(getopt_int(c, SOL_SOCKET, SO_ERROR), 0);
	close(c);

	c = NET_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	int e = connect(c, SA(&a), sizeof a) < 0 ? errno : 0;
	/* Linux may report the refusal at once or after EINPROGRESS. */
	CHECK("non-blocking connect: EINPROGRESS or ECONNREFUSED", e == EINPROGRESS || e == ECONNREFUSED);
	if (e == EINPROGRESS) {
		unsigned ev = wait_events(c, POLLOUT);
		CHECK("poll after refusal has ERR and HUP", (ev & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP));
		CHECK("poll after refusal has OUT", ev & POLLOUT);
		NET_EQ(getopt_int(c, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
		NET_EQ(getopt_int(c, SOL_SOCKET, SO_ERROR), 0);
	}
	close(c);
}

static void tcp_addrinuse(void) {
	printf("== tcp EADDRINUSE and SO_REUSEADDR\n");
	/* The listener has SO_REUSEADDR, as servers do: the connections it
	 * accepts inherit it, and only then may a new socket with it bind
	 * over their TIME_WAIT. */
	int ls = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_OK(setopt_int(ls, SOL_SOCKET, SO_REUSEADDR, 1));
	struct sockaddr_in a = loop4(0);
	NET_OK(bind(ls, SA(&a), sizeof a));
	NET_OK(listen(ls, 4));
	a = name4(ls, 0);
	int b = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_ERR(bind(b, SA(&a), sizeof a), EADDRINUSE);
	NET_OK(setopt_int(b, SOL_SOCKET, SO_REUSEADDR, 1));
	NET_ERR(bind(b, SA(&a), sizeof a), EADDRINUSE);
	close(b);

	/* The server closes first, so its side of the connection waits in
	 * TIME_WAIT on the port: a new listener needs SO_REUSEADDR. */
	int c = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_OK(connect(c, SA(&a), sizeof a));
	int s = NET_OK(accept(ls, NULL, NULL));
	close(ls);
	close(s);
	char buf[4];
	NET_EQ(recv(c, buf, sizeof buf, 0), 0);
	close(c);
	b = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_ERR(bind(b, SA(&a), sizeof a), EADDRINUSE);
	close(b);
	b = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_OK(setopt_int(b, SOL_SOCKET, SO_REUSEADDR, 1));
	NET_OK(bind(b, SA(&a), sizeof a));
	NET_OK(listen(b, 1));
	close(b);
}

static void tcp_options(void) {
	printf("== options\n");
	int fd = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_EQ(getopt_int(fd, SOL_SOCKET, SO_REUSEADDR), 0);
	NET_OK(setopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
	NET_EQ(getopt_int(fd, SOL_SOCKET, SO_REUSEADDR), 1);
	NET_EQ(getopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	NET_OK(setopt_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1));
	NET_EQ(getopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
	NET_OK(setopt_int(fd, SOL_SOCKET, SO_KEEPALIVE, 0));
	NET_EQ(getopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	/* Linux doubles the size asked for, for its bookkeeping. */
	NET_OK(setopt_int(fd, SOL_SOCKET, SO_RCVBUF, 65536));
	NET_EQ(getopt_int(fd, SOL_SOCKET, SO_RCVBUF), 131072);
	NET_OK(setopt_int(fd, SOL_SOCKET, SO_SNDBUF, 65536));
	NET_EQ(getopt_int(fd, SOL_SOCKET, SO_SNDBUF), 131072);
	NET_EQ(getopt_int(fd, SOL_SOCKET, SO_ERROR), 0);
	NET_EQ(getopt_int(fd, IPPROTO_TCP, TCP_NODELAY), 0);
	NET_OK(setopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1));
	NET_EQ(getopt_int(fd, IPPROTO_TCP, TCP_NODELAY), 1);
	NET_EQ(getopt_int(fd, IPPROTO_IP, IP_TTL), 64);
	NET_OK(setopt_int(fd, IPPROTO_IP, IP_TTL, 32));
	NET_EQ(getopt_int(fd, IPPROTO_IP, IP_TTL), 32);
	NET_ERR(setopt_int(fd, IPPROTO_IP, IP_TTL, 256), EINVAL);
	NET_ERR(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, "", 0), EINVAL);
	int v;
	socklen_t vl = sizeof v;
	NET_ERR(getsockopt(fd, SOL_SOCKET, 9999, &v, &vl), ENOPROTOOPT);

	struct linger lg = {0, 0};
	socklen_t l = sizeof lg;
	NET_OK(getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &l));
	printf("SO_LINGER default: onoff %d linger %d len %u\n", lg.l_onoff, lg.l_linger, l);
	lg = (struct linger){1, 5};
	NET_OK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	lg = (struct linger){0, 0};
	l = sizeof lg;
	NET_OK(getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &l));
	printf("SO_LINGER after set: onoff %d linger %d\n", lg.l_onoff, lg.l_linger);

	struct timeval tv = {2, 500000};
	NET_OK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	tv = (struct timeval){0, 0};
	l = sizeof tv;
	NET_OK(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &l));
	printf("SO_RCVTIMEO: %ld.%06ld len %u\n", (long)tv.tv_sec, (long)tv.tv_usec, l);
	close(fd);

	/* SO_RCVTIMEO makes a blocking recv give up with EAGAIN. */
	struct sockaddr_in a;
	int ls = listener4(&a);
	int c = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_OK(connect(c, SA(&a), sizeof a));
	tv = (struct timeval){0, 200000};
	NET_OK(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char buf[4];
	NET_ERR(recv(c, buf, sizeof buf, 0), EAGAIN);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK("SO_RCVTIMEO 200ms: recv waited 150-2000 ms", ms >= 150 && ms < 2000);
	close(c);
	close(ls);

	int u = NET_OK(socket(AF_INET, SOCK_DGRAM, 0));
	NET_EQ(getopt_int(u, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	NET_EQ(getopt_int(u, IPPROTO_IP, IP_TTL), 64);
	close(u);

	int s6 = NET_OK(socket(AF_INET6, SOCK_STREAM, 0));
	NET_EQ(getopt_int(s6, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	NET_OK(setopt_int(s6, IPPROTO_IPV6, IPV6_V6ONLY, 1));
	NET_EQ(getopt_int(s6, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	close(s6);
}

static void tcp_ipv6(void) {
	printf("== tcp ipv6\n");
	int ls = NET_OK(socket(AF_INET6, SOCK_STREAM, 0));
	struct sockaddr_in6 a = loop6(0);
	NET_OK(bind(ls, SA(&a), sizeof a));
	NET_OK(listen(ls, 4));
	socklen_t l = sizeof a;
	NET_OK(getsockname(ls, SA(&a), &l));
	NET_EQ(l, sizeof(struct sockaddr_in6));
	char txt[INET6_ADDRSTRLEN];
	printf("bound: %s family %s\n", inet_ntop(AF_INET6, &a.sin6_addr, txt, sizeof txt),
	       a.sin6_family == AF_INET6 ? "AF_INET6" : "FAIL");
	int c = NET_OK(socket(AF_INET6, SOCK_STREAM, 0));
	NET_OK(connect(c, SA(&a), sizeof a));
	int s = NET_OK(accept(ls, NULL, NULL));
	struct sockaddr_in6 p;
	l = sizeof p;
	NET_OK(getpeername(s, SA(&p), &l));
	printf("peer: %s\n", inet_ntop(AF_INET6, &p.sin6_addr, txt, sizeof txt));
	NET_EQ(send(c, "v6", 2, 0), 2);
	char buf[4];
	NET_EQ(recv(s, buf, sizeof buf, 0), 2);
	close(s);
	close(c);
	close(ls);

	/* A dual-stack listener on :: takes IPv4 connections and shows
	 * their peers as IPv4-mapped addresses; a V6ONLY one refuses. */
	ls = NET_OK(socket(AF_INET6, SOCK_STREAM, 0));
	a = loop6(0);
	a.sin6_addr = in6addr_any;
	NET_OK(bind(ls, SA(&a), sizeof a));
	NET_OK(listen(ls, 4));
	l = sizeof a;
	getsockname(ls, SA(&a), &l);
	struct sockaddr_in a4 = loop4(ntohs(a.sin6_port));
	c = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_OK(connect(c, SA(&a4), sizeof a4));
	s = NET_OK(accept(ls, NULL, NULL));
	l = sizeof p;
	NET_OK(getpeername(s, SA(&p), &l));
	printf("v4 peer of a v6 listener: %s len %s\n", inet_ntop(AF_INET6, &p.sin6_addr, txt, sizeof txt),
	       l == sizeof(struct sockaddr_in6) ? "sockaddr_in6" : "FAIL");
	close(s);
	close(c);
	close(ls);

	ls = NET_OK(socket(AF_INET6, SOCK_STREAM, 0));
	NET_OK(setopt_int(ls, IPPROTO_IPV6, IPV6_V6ONLY, 1));
	a = loop6(0);
	a.sin6_addr = in6addr_any;
	NET_OK(bind(ls, SA(&a), sizeof a));
	NET_OK(listen(ls, 4));
	l = sizeof a;
	getsockname(ls, SA(&a), &l);
	a4 = loop4(ntohs(a.sin6_port));
	c = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_ERR(connect(c, SA(&a4), sizeof a4), ECONNREFUSED);
	close(c);
	close(ls);
}

static void readiness(void) {
	printf("== epoll and select on a listener\n");
	struct sockaddr_in a;
	int ls = listener4(&a);
	int ep = NET_OK(epoll_create1(EPOLL_CLOEXEC));
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
	NET_OK(epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev));
	struct epoll_event out[4];
	NET_EQ(epoll_wait(ep, out, 4, 0), 0);

	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(ls, &rd);
	struct timeval tv = {0, 0};
	NET_EQ(select(ls + 1, &rd, NULL, NULL, &tv), 0);

	int c = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_OK(connect(c, SA(&a), sizeof a));
	int n = NET_EQ(epoll_wait(ep, out, 4, 5000), 1);
	if (n == 1)
		printf("epoll: events %s data %u\n", events(out[0].events), out[0].data.u32);
	FD_ZERO(&rd);
	FD_SET(ls, &rd);
	tv = (struct timeval){5, 0};
	NET_EQ(select(ls + 1, &rd, NULL, NULL, &tv), 1);
	CHECK("select: listener readable", FD_ISSET(ls, &rd));

	int s = NET_OK(accept(ls, NULL, NULL));
	NET_EQ(epoll_wait(ep, out, 4, 0), 0);

	/* Edge-triggered readiness of a connection. */
	ev = (struct epoll_event){.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP, .data.u32 = 9};
	NET_OK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	n = NET_EQ(epoll_wait(ep, out, 4, 5000), 1);
	if (n == 1)
		printf("epoll connection: events %s\n", events(out[0].events));
	NET_EQ(epoll_wait(ep, out, 4, 0), 0);
	NET_EQ(write(c, "ping", 4), 4);
	n = NET_EQ(epoll_wait(ep, out, 4, 5000), 1);
	if (n == 1)
		printf("epoll after data: events %s\n", events(out[0].events));
	FD_ZERO(&rd);
	FD_SET(s, &rd);
	fd_set wr;
	FD_ZERO(&wr);
	FD_SET(s, &wr);
	tv = (struct timeval){5, 0};
	NET_EQ(select(s + 1, &rd, &wr, NULL, &tv), 2);
	close(c);
	n = NET_EQ(epoll_wait(ep, out, 4, 5000), 1);
	if (n == 1)
		printf("epoll after peer close: events %s\n", events(out[0].events));
	close(s);
	close(ep);
	close(ls);
}

static void udp(void) {
	printf("== udp\n");
	int a = NET_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int b = NET_OK(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	struct sockaddr_in la = loop4(0), lb = loop4(0);
	NET_OK(bind(a, SA(&la), sizeof la));
	NET_OK(bind(b, SA(&lb), sizeof lb));
	la = name4(a, 0);
	lb = name4(b, 0);
	char buf[2048];
	NET_ERR(recv(b, buf, sizeof buf, 0), EAGAIN);
	NET_ERR(getpeername(a, SA(&(struct sockaddr_in){0}), &(socklen_t){sizeof(struct sockaddr_in)}), ENOTCONN);
	NET_ERR(send(a, "x", 1, 0), EDESTADDRREQ);

	NET_EQ(sendto(a, "first datagram", 14, 0, SA(&lb), sizeof lb), 14);
	NET_EQ(sendto(a, "second", 6, 0, SA(&lb), sizeof lb), 6);
	NET_EQ(sendto(a, "", 0, 0, SA(&lb), sizeof lb), 0);
	printf("poll after sendto: %s\n", events(wait_events(b, POLLIN)));
	int avail = -1;
	NET_OK(ioctl(b, FIONREAD, &avail));
	NET_EQ(avail, 14);

	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	NET_EQ(recvfrom(b, buf, 5, MSG_PEEK, SA(&from), &fl), 5);
	CHECK("MSG_PEEK: from the sender", fl == sizeof from && same4(from, la));
	NET_EQ(recvfrom(b, buf, 5, MSG_PEEK | MSG_TRUNC, NULL, NULL), 14);
	/* Without MSG_TRUNC the rest of a datagram read short is lost. */
	struct iovec iov = {buf, 5};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	NET_EQ(recvmsg(b, &mh, 0), 5);
	CHECK("recvmsg of 5: MSG_TRUNC in msg_flags", mh.msg_flags & MSG_TRUNC);
	printf("truncated: %.5s\n", buf);
	NET_EQ(recvfrom(b, buf, 2, MSG_TRUNC, NULL, NULL), 6);
	fl = sizeof from;
	NET_EQ(recvfrom(b, buf, sizeof buf, 0, SA(&from), &fl), 0);
	CHECK("empty datagram: from the sender", same4(from, la));
	NET_ERR(recv(b, buf, sizeof buf, 0), EAGAIN);
	NET_OK(ioctl(b, FIONREAD, &avail));
	NET_EQ(avail, 0);

	/* A large datagram in one piece; one larger than IP allows is
	 * EMSGSIZE. */
	static char big[65535];
	NET_EQ(sendto(a, big, 65507, 0, SA(&lb), sizeof lb), 65507);
	wait_events(b, POLLIN);
	NET_EQ(recv(b, big, sizeof big, 0), 65507);
	NET_ERR(sendto(a, big, 65508, 0, SA(&lb), sizeof lb), EMSGSIZE);

	/* connect fixes the peer; datagrams from others are filtered. */
	NET_OK(connect(a, SA(&lb), sizeof lb));
	CHECK("connected peer", same4(name4(a, 1), lb));
	NET_EQ(send(a, "conn", 4, 0), 4);
	NET_EQ(write(a, "conn2", 5), 5);
	wait_events(b, POLLIN);
	NET_EQ(recv(b, buf, sizeof buf, 0), 4);
	wait_events(b, POLLIN);
	NET_EQ(recv(b, buf, sizeof buf, 0), 5);
	int other = NET_OK(socket(AF_INET, SOCK_DGRAM, 0));
	NET_EQ(sendto(other, "stranger", 8, 0, SA(&la), sizeof la), 8);
	NET_EQ(sendto(b, "friend", 6, 0, SA(&la), sizeof la), 6);
	NET_EQ(recv(a, buf, sizeof buf, 0), 6);
	printf("connected socket got: %.6s\n", buf);
	close(other);

	/* ICMP port unreachable reaches a connected sender as ECONNREFUSED. */
	struct sockaddr_in dead = loop4(0);
	int d = socket(AF_INET, SOCK_DGRAM, 0);
	bind(d, SA(&dead), sizeof dead);
	dead = name4(d, 0);
	close(d);
	int u = NET_OK(socket(AF_INET, SOCK_DGRAM, 0));
	NET_OK(connect(u, SA(&dead), sizeof dead));
	NET_EQ(send(u, "anyone?", 7, 0), 7);
	unsigned ev = wait_events(u, POLLIN);
	printf("poll after unreachable: %s\n", events(ev));
	NET_ERR(recv(u, buf, sizeof buf, MSG_DONTWAIT), ECONNREFUSED);
	NET_ERR(recv(u, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	close(u);
	close(a);
	close(b);

	/* UDP over IPv6 loopback. */
	int x = NET_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	struct sockaddr_in6 l6 = loop6(0);
	NET_OK(bind(x, SA(&l6), sizeof l6));
	socklen_t l = sizeof l6;
	getsockname(x, SA(&l6), &l);
	NET_EQ(sendto(x, "six", 3, 0, SA(&l6), sizeof l6), 3);
	wait_events(x, POLLIN);
	struct sockaddr_in6 f6;
	l = sizeof f6;
	NET_EQ(recvfrom(x, buf, sizeof buf, 0, SA(&f6), &l), 3);
	CHECK("udp6 from itself", l == sizeof f6 && f6.sin6_port == l6.sin6_port &&
					  memcmp(&f6.sin6_addr, &in6addr_loopback, 16) == 0);
	close(x);
}


static int sigpipes;
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }

/* connected_pair makes a connected TCP pair on loopback: *c the client,
 * *s the accepted end. */
static void connected_pair(int *c, int *s) {
	struct sockaddr_in a;
	int ls = listener4(&a);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*c, SA(&a), sizeof a) < 0) {
		printf("connected_pair: FAIL connect %s\n", enet(errno));
		ukt_failures++;
	}
	*s = accept(ls, NULL, NULL);
	close(ls);
}

static void tcp_reset(void) {
	printf("== tcp resets\n");
	signal(SIGPIPE, on_sigpipe);
	char buf[16];

	/* SO_LINGER with a zero timeout: close sends RST. */
	int c, s;
	connected_pair(&c, &s);
	struct linger lg = {1, 0};
	NET_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	close(s);
	printf("poll after RST: %s\n", events(wait_events(c, POLLERR)));
	NET_ERR(recv(c, buf, sizeof buf, 0), ECONNRESET);
	NET_EQ(recv(c, buf, sizeof buf, 0), 0);
	NET_EQ(getopt_int(c, SOL_SOCKET, SO_ERROR), 0);
	NET_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	NET_EQ(sigpipes, 0);
	NET_ERR(send(c, "x", 1, 0), EPIPE);
	NET_EQ(sigpipes, 1);
	close(c);

	/* Closing with data not read also resets the connection. */
	connected_pair(&c, &s);
	NET_EQ(send(c, "unread", 6, 0), 6);
	wait_events(s, POLLIN);
	close(s);
	printf("poll after close with unread data: %s\n", events(wait_events(c, POLLERR)));
	NET_ERR(recv(c, buf, sizeof buf, 0), ECONNRESET);
	close(c);

	/* An orderly close: EOF, and a write after it is answered by RST,
	 * which the next write reports as EPIPE. */
	connected_pair(&c, &s);
	close(s);
	NET_EQ(recv(c, buf, sizeof buf, 0), 0);
	NET_EQ(send(c, "first", 5, MSG_NOSIGNAL), 5);
	wait_events(c, POLLERR);
	int r = send(c, "second", 6, MSG_NOSIGNAL);
	int e = errno;
	CHECK("write after the peer's RST: EPIPE or ECONNRESET", r == -1 && (e == EPIPE || e == ECONNRESET));
	NET_ERR(send(c, "third", 5, MSG_NOSIGNAL), EPIPE);
	close(c);
	signal(SIGPIPE, SIG_DFL);
}

/* send_fd passes fd over the unix socket u with SCM_RIGHTS. */
static int send_fd(int u, int fd) {
	char byte = 'F';
	struct iovec iov = {&byte, 1};
	union {
		char raw[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof ctl);
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.raw, .msg_controllen = sizeof ctl.raw};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	return sendmsg(u, &mh, 0);
}

/* recv_fd receives a descriptor sent by send_fd, or returns -1. */
static int recv_fd(int u) {
	char byte;
	struct iovec iov = {&byte, 1};
	union {
		char raw[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.raw, .msg_controllen = sizeof ctl.raw};
	if (recvmsg(u, &mh, 0) != 1)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	return fd;
}

/* echo_once reads one message from fd, sends it back upper-cased with a
 * tag, and returns 0 on success: the children's whole job. */
static int echo_once(int fd, char tag) {
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 1;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] -= 32;
	buf[n] = tag;
	return send(fd, buf, n + 1, 0) == n + 1 ? 0 : 1;
}

static void shared_sockets(void) {
	printf("== sockets shared across processes\n");
	/* Pre-forked servers: two children accept from one listener. */
	struct sockaddr_in a;
	int ls = listener4(&a);
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			int s = accept(ls, NULL, NULL);
			_exit(s < 0 ? 2 : echo_once(s, 'k'));
		}
	}
	close(ls);
	char buf[64];
	for (int k = 0; k < 2; k++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		NET_OK(connect(c, SA(&a), sizeof a));
		NET_EQ(send(c, "prefork", 7, 0), 7);
		int n = NET_EQ(recv(c, buf, sizeof buf, MSG_WAITALL), 8);
		if (n == 8)
			printf("reply: %.8s\n", buf);
		close(c);
	}
	for (int k = 0; k < 2; k++) {
		int st;
		waitpid(kids[k], &st, 0);
		CHECK("accepting child exited 0", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}

	/* An accepted connection handed to another process with SCM_RIGHTS;
	 * the parent's copy closed, the connection lives on in the child. */
	int sp[2];
	NET_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	pid_t kid = fork();
	if (kid == 0) {
		close(sp[0]);
		int fd = recv_fd(sp[1]);
		_exit(fd < 0 ? 2 : echo_once(fd, 'p'));
	}
	close(sp[1]);
	ls = listener4(&a);
	int c = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_OK(connect(c, SA(&a), sizeof a));
	int s = NET_OK(accept(ls, NULL, NULL));
	NET_EQ(send_fd(sp[0], s), 1);
	close(s);
	close(ls);
	NET_EQ(send(c, "passed", 6, 0), 6);
	int n = NET_EQ(recv(c, buf, sizeof buf, MSG_WAITALL), 7);
	if (n == 7)
		printf("reply: %.7s\n", buf);
	int st;
	waitpid(kid, &st, 0);
	CHECK("child with the passed socket exited 0", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The child exited and so the last descriptor of the connection
	 * closed: the client sees EOF. */
	NET_EQ(recv(c, buf, sizeof buf, 0), 0);
	close(c);
	close(sp[0]);

	/* dup: one connection, two descriptors; the connection stays open
	 * until both are closed. */
	ls = listener4(&a);
	c = socket(AF_INET, SOCK_STREAM, 0);
	NET_OK(connect(c, SA(&a), sizeof a));
	s = NET_OK(accept(ls, NULL, NULL));
	int d = NET_OK(dup(s));
	close(s);
	NET_EQ(send(d, "dup", 3, 0), 3);
	NET_EQ(recv(c, buf, sizeof buf, 0), 3);
	close(d);
	NET_EQ(recv(c, buf, sizeof buf, 0), 0);
	close(c);
	close(ls);
}

static int alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

/* arm sets SIGALRM's handler (restarting or not) and fires it once after
 * 100 ms. */
static void arm(int restart) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 0}, {0, 100000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

static void interrupted(void) {
	printf("== blocking socket calls and signals\n");
	char buf[16];
	int c, s;
	connected_pair(&c, &s);

	/* Without SA_RESTART a blocked recv ends with EINTR. */
	alarms = 0;
	arm(0);
	NET_ERR(recv(c, buf, sizeof buf, 0), EINTR);
	NET_EQ(alarms, 1);

	/* With SA_RESTART it goes on waiting and gets the data a child
	 * sends later. */
	pid_t kid = fork();
	if (kid == 0) {
		usleep(400000);
		_exit(send(s, "late", 4, 0) == 4 ? 0 : 1);
	}
	alarms = 0;
	arm(1);
	NET_EQ(recv(c, buf, sizeof buf, 0), 4);
	NET_EQ(alarms, 1);
	int st;
	waitpid(kid, &st, 0);

	/* A socket with a receive timeout is not restarted: EINTR. */
	struct timeval tv = {5, 0};
	NET_OK(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	alarms = 0;
	arm(1);
	NET_ERR(recv(c, buf, sizeof buf, 0), EINTR);
	NET_EQ(alarms, 1);
	close(c);
	close(s);

	/* accept: EINTR without SA_RESTART. */
	struct sockaddr_in a;
	int ls = listener4(&a);
	alarms = 0;
	arm(0);
	NET_ERR(accept(ls, NULL, NULL), EINTR);
	NET_EQ(alarms, 1);
	close(ls);
	signal(SIGALRM, SIG_DFL);
}

static void more_options(void) {
	printf("== more options\n");
	int fd = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_EQ(getopt_int(fd, SOL_SOCKET, SO_DOMAIN), AF_INET);
	NET_EQ(getopt_int(fd, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	NET_EQ(getopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
	NET_EQ(getopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL), 75);
	NET_EQ(getopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT), 9);
	NET_OK(setopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, 60));
	NET_EQ(getopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE), 60);
	NET_ERR(setopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, 0), EINVAL);
	NET_EQ(getopt_int(fd, IPPROTO_IP, IP_TOS), 0);
	NET_OK(setopt_int(fd, IPPROTO_IP, IP_TOS, 0x10));
	NET_EQ(getopt_int(fd, IPPROTO_IP, IP_TOS), 0x10);
	/* 1.5 s is a whole number of jiffies at every usual HZ: Linux
	 * keeps the timeout in jiffies. */
	struct timeval tv = {1, 500000};
	NET_OK(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	tv = (struct timeval){0, 0};
	socklen_t l = sizeof tv;
	NET_OK(getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l));
	printf("SO_SNDTIMEO: %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
	close(fd);

	int u = NET_OK(socket(AF_INET, SOCK_DGRAM, 0));
	NET_EQ(getopt_int(u, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
	NET_EQ(getopt_int(u, SOL_SOCKET, SO_BROADCAST), 0);
	/* lo's broadcast address, 127.255.255.255: sending there needs
	 * SO_BROADCAST; a socket bound to the any address receives it. */
	int r = NET_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in bc = loop4(0);
	bc.sin_addr.s_addr = htonl(INADDR_ANY);
	NET_OK(bind(r, SA(&bc), sizeof bc));
	bc = name4(r, 0);
	bc.sin_addr.s_addr = inet_addr("127.255.255.255");
	NET_ERR(sendto(u, "b", 1, 0, SA(&bc), sizeof bc), EACCES);
	NET_OK(setopt_int(u, SOL_SOCKET, SO_BROADCAST, 1));
	NET_EQ(getopt_int(u, SOL_SOCKET, SO_BROADCAST), 1);
	NET_EQ(sendto(u, "B", 1, 0, SA(&bc), sizeof bc), 1);
	wait_events(r, POLLIN);
	char bb[4];
	NET_EQ(recv(r, bb, sizeof bb, MSG_DONTWAIT), 1);
	close(r);
	close(u);

	/* SO_REUSEPORT: sockets that all set it share a port. */
	int a = NET_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int b = NET_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int c = NET_OK(socket(AF_INET, SOCK_DGRAM, 0));
	NET_OK(setopt_int(a, SOL_SOCKET, SO_REUSEPORT, 1));
	NET_EQ(getopt_int(a, SOL_SOCKET, SO_REUSEPORT), 1);
	NET_OK(setopt_int(b, SOL_SOCKET, SO_REUSEPORT, 1));
	struct sockaddr_in addr = loop4(0);
	NET_OK(bind(a, SA(&addr), sizeof addr));
	addr = name4(a, 0);
	NET_OK(bind(b, SA(&addr), sizeof addr));
	NET_ERR(bind(c, SA(&addr), sizeof addr), EADDRINUSE);
	close(a);
	close(b);
	close(c);
	int l1 = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	int l2 = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_OK(setopt_int(l1, SOL_SOCKET, SO_REUSEPORT, 1));
	NET_OK(setopt_int(l2, SOL_SOCKET, SO_REUSEPORT, 1));
	addr = loop4(0);
	NET_OK(bind(l1, SA(&addr), sizeof addr));
	addr = name4(l1, 0);
	NET_OK(listen(l1, 4));
	NET_OK(bind(l2, SA(&addr), sizeof addr));
	NET_OK(listen(l2, 4));
	close(l1);
	close(l2);
}

static void messages(void) {
	printf("== recvmsg control messages, sendmmsg, recvmmsg\n");
	int a = NET_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int b = NET_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in la = loop4(0), lb = loop4(0);
	NET_OK(bind(a, SA(&la), sizeof la));
	NET_OK(bind(b, SA(&lb), sizeof lb));
	la = name4(a, 0);
	lb = name4(b, 0);
	NET_OK(setopt_int(b, IPPROTO_IP, IP_PKTINFO, 1));
	NET_OK(setopt_int(b, IPPROTO_IP, IP_RECVTTL, 1));
	NET_EQ(getopt_int(b, IPPROTO_IP, IP_PKTINFO), 1);

	char data[] = "with control";
	struct iovec iov = {data, sizeof data - 1};
	struct msghdr mh = {.msg_name = &lb, .msg_namelen = sizeof lb, .msg_iov = &iov, .msg_iovlen = 1};
	NET_EQ(sendmsg(a, &mh, 0), 12);
	wait_events(b, POLLIN);

	char buf[64];
	union {
		char raw[256];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_in from;
	iov = (struct iovec){buf, sizeof buf};
	mh = (struct msghdr){.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.raw, .msg_controllen = sizeof ctl.raw};
	NET_EQ(recvmsg(b, &mh, 0), 12);
	CHECK("recvmsg: from the sender", mh.msg_namelen == sizeof from && same4(from, la));
	NET_EQ(mh.msg_flags, 0);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof pi);
			char t1[INET_ADDRSTRLEN], t2[INET_ADDRSTRLEN];
			printf("cmsg IP_PKTINFO: len %s ifindex %d spec_dst %s addr %s\n",
			       cm->cmsg_len == CMSG_LEN(sizeof pi) ? "ok" : "FAIL", pi.ipi_ifindex,
			       inet_ntop(AF_INET, &pi.ipi_spec_dst, t1, sizeof t1), inet_ntop(AF_INET, &pi.ipi_addr, t2, sizeof t2));
		} else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) {
			int ttl;
			memcpy(&ttl, CMSG_DATA(cm), sizeof ttl);
			printf("cmsg IP_TTL: %d\n", ttl);
		} else {
			printf("cmsg level %d type %d: FAIL unexpected\n", cm->cmsg_level, cm->cmsg_type);
			ukt_failures++;
		}
	}
	/* A control buffer too small for what there is: MSG_CTRUNC. */
	iov = (struct iovec){buf, sizeof buf};
	NET_EQ(sendto(a, "again", 5, 0, SA(&lb), sizeof lb), 5);
	wait_events(b, POLLIN);
	mh = (struct msghdr){.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.raw, .msg_controllen = CMSG_LEN(sizeof(int))};
	NET_EQ(recvmsg(b, &mh, 0), 5);
	CHECK("small control buffer: MSG_CTRUNC", mh.msg_flags & MSG_CTRUNC);

	/* sendmmsg and recvmmsg: three datagrams at once. */
	char m0[] = "one", m1[] = "two!", m2[] = "three";
	struct iovec v[3] = {{m0, 3}, {m1, 4}, {m2, 5}};
	struct mmsghdr out[3];
	memset(out, 0, sizeof out);
	for (int i = 0; i < 3; i++) {
		out[i].msg_hdr.msg_iov = &v[i];
		out[i].msg_hdr.msg_iovlen = 1;
		out[i].msg_hdr.msg_name = &lb;
		out[i].msg_hdr.msg_namelen = sizeof lb;
	}
	NET_EQ(sendmmsg(a, out, 3, 0), 3);
	printf("sendmmsg lengths: %u %u %u\n", out[0].msg_len, out[1].msg_len, out[2].msg_len);
	NET_OK(setopt_int(b, IPPROTO_IP, IP_PKTINFO, 0));
	NET_OK(setopt_int(b, IPPROTO_IP, IP_RECVTTL, 0));
	char r[4][16];
	struct iovec rv[4];
	struct mmsghdr in[4];
	memset(in, 0, sizeof in);
	for (int i = 0; i < 4; i++) {
		rv[i] = (struct iovec){r[i], sizeof r[i]};
		in[i].msg_hdr.msg_iov = &rv[i];
		in[i].msg_hdr.msg_iovlen = 1;
	}
	/* Readiness shows the first datagram; give the other two a moment
	 * in case a stack delivers them one by one. */
	wait_events(b, POLLIN);
	usleep(20000);
	int n = NET_EQ(recvmmsg(b, in, 4, MSG_DONTWAIT, NULL), 3);
	for (int i = 0; i < n && i < 4; i++)
		printf("recvmmsg %d: %u bytes %.*s\n", i, in[i].msg_len, (int)in[i].msg_len, r[i]);
	NET_ERR(recvmmsg(b, in, 4, MSG_DONTWAIT, NULL), EAGAIN);
	close(a);
	close(b);
}

static void if_ioctls(void) {
	printf("== interface ioctls on lo\n");
	int fd = NET_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	NET_OK(ioctl(fd, SIOCGIFINDEX, &ifr));
	printf("SIOCGIFINDEX lo: %d\n", ifr.ifr_ifindex);
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_ifindex = 1;
	NET_OK(ioctl(fd, SIOCGIFNAME, &ifr));
	printf("SIOCGIFNAME 1: %s\n", ifr.ifr_name);
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	NET_OK(ioctl(fd, SIOCGIFFLAGS, &ifr));
	printf("SIOCGIFFLAGS lo: UP %d LOOPBACK %d RUNNING %d BROADCAST %d\n", !!(ifr.ifr_flags & IFF_UP),
	       !!(ifr.ifr_flags & IFF_LOOPBACK), !!(ifr.ifr_flags & IFF_RUNNING), !!(ifr.ifr_flags & IFF_BROADCAST));
	NET_OK(ioctl(fd, SIOCGIFADDR, &ifr));
	struct sockaddr_in sin;
	memcpy(&sin, &ifr.ifr_addr, sizeof sin);
	printf("SIOCGIFADDR lo: family %d %s\n", sin.sin_family, ip4(sin));
	NET_OK(ioctl(fd, SIOCGIFNETMASK, &ifr));
	memcpy(&sin, &ifr.ifr_netmask, sizeof sin);
	printf("SIOCGIFNETMASK lo: %s\n", ip4(sin));
	NET_OK(ioctl(fd, SIOCGIFMTU, &ifr));
	printf("SIOCGIFMTU lo: %d\n", ifr.ifr_mtu);
	NET_OK(ioctl(fd, SIOCGIFHWADDR, &ifr));
	unsigned char *hw = (unsigned char *)ifr.ifr_hwaddr.sa_data;
	printf("SIOCGIFHWADDR lo: family %d %02x:%02x:%02x:%02x:%02x:%02x\n", ifr.ifr_hwaddr.sa_family,
	       hw[0], hw[1], hw[2], hw[3], hw[4], hw[5]);
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "uknosuch0");
	NET_ERR(ioctl(fd, SIOCGIFINDEX, &ifr), ENODEV);
	NET_ERR(ioctl(fd, SIOCGIFFLAGS, &ifr), ENODEV);

	struct ifconf ifc = {.ifc_len = 0, .ifc_req = NULL};
	NET_OK(ioctl(fd, SIOCGIFCONF, &ifc));
	CHECK("SIOCGIFCONF sizes: a whole number of ifreqs, at least one", ifc.ifc_len >= (int)sizeof(struct ifreq) &&
										ifc.ifc_len % sizeof(struct ifreq) == 0);
	struct ifreq reqs[16];
	ifc = (struct ifconf){.ifc_len = sizeof reqs, .ifc_req = reqs};
	NET_OK(ioctl(fd, SIOCGIFCONF, &ifc));
	int found = 0;
	for (int i = 0; i < ifc.ifc_len / (int)sizeof(struct ifreq); i++) {
		memcpy(&sin, &reqs[i].ifr_addr, sizeof sin);
		if (strcmp(reqs[i].ifr_name, "lo") == 0 && sin.sin_family == AF_INET && sin.sin_addr.s_addr == htonl(INADDR_LOOPBACK))
			found = 1;
	}
	CHECK("SIOCGIFCONF lists lo with 127.0.0.1", found);
	close(fd);
}

/* send_timeout: with SO_SNDTIMEO, a blocking send into a connection whose
 * peer does not read gives up: a short count, then EAGAIN. */
static void send_timeout(void) {
	printf("== SO_SNDTIMEO on a full connection\n");
	int c, s;
	connected_pair(&c, &s);
	struct timeval tv = {0, 200000};
	NET_OK(setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	static char chunk[65536];
	long total = 0;
	int e = 0, calls = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (; calls < 10000; calls++) {
		ssize_t n = send(c, chunk, sizeof chunk, 0);
		if (n < 0) {
			e = errno;
			break;
		}
		total += n;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("send stopped with: %s\n", enet(e));
	CHECK("some data went before the buffers filled", total >= 65536);
	CHECK("it stopped within 150 ms - 5 s", ms >= 150 && ms < 5000);
	/* The peer reads it all: nothing was lost. */
	NET_OK(shutdown(c, SHUT_WR));
	long got = 0;
	for (;;) {
		ssize_t n = recv(s, chunk, sizeof chunk, 0);
		if (n <= 0)
			break;
		got += n;
	}
	CHECK("the peer received every byte sent", got == total);
	close(c);
	close(s);
}

/* sendfile_tcp: sendfile from a file into a non-blocking TCP connection
 * whose reader is slow, so most calls send only part of what they are
 * asked: every byte must arrive once, in order, and the file position
 * must end where the data did. */
static void sendfile_tcp(void) {
	printf("== sendfile into a slow TCP connection\n");
	enum { size = 4 << 20 };
	char path[] = "/tmp/uk-inet-sendfile-XXXXXX";
	int fd = NET_OK(mkstemp(path));
	unlink(path);
	static unsigned words[size / 4];
	for (unsigned i = 0; i < size / 4; i++)
		words[i] = i;
	NET_EQ(write(fd, words, size), size);
	NET_OK(lseek(fd, 0, SEEK_SET));
	int c, s;
	connected_pair(&c, &s);
	/* Small buffers, so that the file cannot fit in them however far a
	 * stack's autotuning would grow them (uk's once took all 4 MiB in
	 * one call). */
	NET_OK(setopt_int(c, SOL_SOCKET, SO_SNDBUF, 65536));
	NET_OK(setopt_int(s, SOL_SOCKET, SO_RCVBUF, 65536));
	pid_t kid = fork();
	if (kid == 0) {
		/* The reader: 64 KiB every 2 ms, then the check. */
		close(c);
		static unsigned got[size / 4];
		long n = 0;
		while (n < size) {
			usleep(2000);
			ssize_t r = recv(s, (char *)got + n, size - n < 65536 ? size - n : 65536, 0);
			if (r <= 0)
				break;
			n += r;
		}
		long bad = -1;
		for (long i = 0; i < n / 4 && bad < 0; i++)
			if (got[i] != (unsigned)i)
				bad = i * 4;
		_exit(n != size ? 2 : bad >= 0 ? 3 : 0);
	}
	close(s);
	NET_OK(fcntl(c, F_SETFL, O_NONBLOCK));
	long sent = 0;
	int shorts = 0, zero = 0;
	while (sent < size) {
		ssize_t r = sendfile(c, fd, NULL, size - sent);
		if (r < 0 && errno == EAGAIN) {
			struct pollfd p = {c, POLLOUT, 0};
			poll(&p, 1, 5000);
			continue;
		}
		if (r <= 0) {
			zero = 1;
			break;
		}
		if (r < size - sent)
			shorts++;
		sent += r;
	}
	CHECK("sendfile sent the whole file (no early end)", !zero && sent == size);
	CHECK("some sendfile calls were short", shorts > 0);
	NET_EQ(lseek(fd, 0, SEEK_CUR), size);
	close(c);
	int st;
	waitpid(kid, &st, 0);
	printf("reader: %s\n", WIFEXITED(st) ? (WEXITSTATUS(st) == 0 ? "every byte once and in order" : WEXITSTATUS(st) == 2 ? "FAIL short" : "FAIL corrupt") : "FAIL killed");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		ukt_failures++;
	close(fd);
}

/* tcpi_state is a socket's TCP state as TCP_INFO reports it, or -errno. */
static int tcpi_state(int fd) {
	struct tcp_info ti;
	socklen_t l = sizeof ti;
	memset(&ti, 0, sizeof ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
		return -errno;
	return ti.tcpi_state;
}

/* tcp_info_states: the states tools such as ss read from TCP_INFO
 * (Linux's numbering: 1 ESTABLISHED, 5 FIN_WAIT2, 7 CLOSE, 8 CLOSE_WAIT,
 * 10 LISTEN), and the connection's segment size. Last, so that a
 * difference here does not hide one above. */
static void tcp_info_states(void) {
	printf("== TCP_INFO and TCP_MAXSEG\n");
	int ls = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_EQ(tcpi_state(ls), TCP_CLOSE);
	struct sockaddr_in a = loop4(0);
	NET_OK(bind(ls, SA(&a), sizeof a));
	NET_OK(listen(ls, 4));
	a = name4(ls, 0);
	NET_EQ(tcpi_state(ls), TCP_LISTEN);
	int c = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_OK(connect(c, SA(&a), sizeof a));
	int s = NET_OK(accept(ls, NULL, NULL));
	NET_EQ(tcpi_state(c), TCP_ESTABLISHED);
	NET_EQ(tcpi_state(s), TCP_ESTABLISHED);
	/* The connection's segment size follows lo's MTU of 65536 (Linux
	 * says about 32K, less the options in use). */
	int mss = getopt_int(c, IPPROTO_TCP, TCP_MAXSEG);
	CHECK("TCP_MAXSEG of a loopback connection is above Ethernet's 1460", mss > 1460);
	NET_OK(shutdown(c, SHUT_WR));
	wait_events(s, POLLRDHUP);
	usleep(50000);
	NET_EQ(tcpi_state(c), TCP_FIN_WAIT2);
	NET_EQ(tcpi_state(s), TCP_CLOSE_WAIT);
	close(s);
	wait_events(c, POLLHUP);
	usleep(50000);
	/* In TIME_WAIT the socket itself reports CLOSE: Linux hands the
	 * connection to a time-wait record. */
	NET_EQ(tcpi_state(c), TCP_CLOSE);
	close(c);
	close(ls);
	int fresh = NET_OK(socket(AF_INET, SOCK_STREAM, 0));
	NET_EQ(getopt_int(fresh, IPPROTO_TCP, TCP_MAXSEG), 536);
	close(fresh);
}

int main(void) {
	tcp_basics();
	tcp_nonblocking_connect();
	tcp_refused();
	tcp_addrinuse();
	tcp_options();
	tcp_ipv6();
	readiness();
	udp();
	tcp_reset();
	shared_sockets();
	interrupted();
	more_options();
	messages();
	if_ioctls();
	send_timeout();
	sendfile_tcp();
	tcp_info_states();
	return ukt_exit();
}
