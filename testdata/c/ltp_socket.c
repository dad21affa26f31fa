/*
 * ltp_socket: the error paths and edge cases of the socket system calls
 * that the Linux Test Project's socket tests check (socket, socketpair,
 * bind, listen, connect, accept, getsockname, getpeername, send, sendto,
 * sendmsg, sendmmsg, recv, recvfrom, recvmsg, recvmmsg, getsockopt,
 * setsockopt), written afresh from the man pages: bad descriptors,
 * non-sockets, bad addresses (EFAULT), bad lengths, wrong families,
 * unconnected sockets, MSG_* flags, recvmmsg timeouts, SO_* options.
 *
 * A forked server accepts TCP connections on loopback (and AF_UNIX ones in
 * a directory given as argv[1]), greets each with a line, and answers an
 * 'R' on a unix connection with a descriptor passed by SCM_RIGHTS.
 *
 * Each case prints one line with what the call returned; a result that is
 * not what Linux documents prints FAIL. Ports are never printed.
 */
#include "uktest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

/* ename names errno values, including the networking ones uktest.h's
 * table lacks. */
static const char *ename(int e) {
	switch (e) {
	case ECONNREFUSED: return "ECONNREFUSED";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EINPROGRESS: return "EINPROGRESS";
	case EALREADY: return "EALREADY";
	case EISCONN: return "EISCONN";
	case ENOTCONN: return "ENOTCONN";
	case ECONNRESET: return "ECONNRESET";
	case ECONNABORTED: return "ECONNABORTED";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
	case EPROTOTYPE: return "EPROTOTYPE";
	case EPROTO: return "EPROTO";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EDESTADDRREQ: return "EDESTADDRREQ";
	case ENOTSOCK: return "ENOTSOCK";
	case EMSGSIZE: return "EMSGSIZE";
	case ENOBUFS: return "ENOBUFS";
	case EDOM: return "EDOM";
	case ENETUNREACH: return "ENETUNREACH";
	case ENODEV: return "ENODEV";
	}
	return errname(e);
}

/* res formats a call's outcome: "ok", "=N" when asked for the value, or
 * "-1 ENAME". */
static const char *res(long r, int e, int showval) {
	static char buf[64];
	if (r == -1)
		snprintf(buf, sizeof buf, "-1 %s", ename(e));
	else if (showval)
		snprintf(buf, sizeof buf, "=%ld", r);
	else
		snprintf(buf, sizeof buf, "ok");
	return buf;
}

/* ERR requires expr to fail with E; OK requires success (any value); VAL
 * requires the exact value. Each prints one line. */
#define ERR(desc, expr, E) ({ errno = 0; long r_ = (long)(expr); int e_ = errno; \
	int good_ = r_ == -1 && e_ == (E); \
	printf("%s: %s%s\n", desc, res(r_, e_, 1), good_ ? "" : " FAIL"); \
	if (!good_) { ukt_failures++; } r_; })
#define OK(desc, expr) ({ errno = 0; long r_ = (long)(expr); int e_ = errno; \
	printf("%s: %s%s\n", desc, res(r_, e_, 0), r_ != -1 ? "" : " FAIL"); \
	if (r_ == -1) { ukt_failures++; } r_; })
#define VAL(desc, expr, want) ({ errno = 0; long r_ = (long)(expr); int e_ = errno; \
	printf("%s: %s%s\n", desc, res(r_, e_, 1), r_ == (long)(want) ? "" : " FAIL"); \
	if (r_ != (long)(want)) { ukt_failures++; } r_; })
/* SHOW prints the outcome whatever it is (for cases where Linux's answer
 * is what we compare against, not a documented promise). */
#define SHOW(desc, expr) ({ errno = 0; long r_ = (long)(expr); int e_ = errno; \
	printf("%s: %s\n", desc, res(r_, e_, 1)); r_; })

static void *bad_addr;		/* a PROT_NONE page */
static struct sockaddr_in srv_in;	/* the server's TCP address (0.0.0.0:port) */
static struct sockaddr_un srv_un;	/* the server's unix address */
static pid_t server_pid;
static char sock_dir[200];

static const char greeting[] = "hello\n";

/* pass_fd sends a descriptor of a fresh temporary file with a message. */
static void pass_fd(int conn) {
	char path[300];
	snprintf(path, sizeof path, "%s/passed", sock_dir);
	int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (f < 0)
		return;
	unlink(path);
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec iv = {.iov_base = "rights", .iov_len = 6};
	struct msghdr mh = {.msg_iov = &iv, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(c), &f, sizeof f);
	sendmsg(conn, &mh, 0);
	close(f);
}

/* serve is the server child: it accepts on both listeners forever. */
static void serve(int lin, int lun) {
	fd_set all;
	FD_ZERO(&all);
	FD_SET(lin, &all);
	FD_SET(lun, &all);
	int nfds = (lin > lun ? lin : lun) + 1;
	for (;;) {
		fd_set rd = all;
		if (select(nfds, &rd, NULL, NULL, NULL) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		for (int fd = 0; fd < nfds; fd++) {
			if (!FD_ISSET(fd, &rd))
				continue;
			if (fd == lin || fd == lun) {
				int c = accept(fd, NULL, NULL);
				if (c >= 0) {
					FD_SET(c, &all);
					if (c >= nfds)
						nfds = c + 1;
					if (fd == lin)
						write(c, greeting, sizeof greeting - 1);
				}
				continue;
			}
			char b[1024];
			ssize_t n = read(fd, b, sizeof b);
			if (n > 0 && b[0] == 'R')
				pass_fd(fd);
			if (n == 0 || (n < 0 && errno != EINTR)) {
				close(fd);
				FD_CLR(fd, &all);
			}
		}
	}
}

static void start_server(void) {
	int lin = socket(AF_INET, SOCK_STREAM, 0);
	srv_in.sin_family = AF_INET;
	srv_in.sin_addr.s_addr = htonl(INADDR_ANY);
	socklen_t len = sizeof srv_in;
	if (lin < 0 || bind(lin, (struct sockaddr *)&srv_in, sizeof srv_in) || listen(lin, 10) ||
	    getsockname(lin, (struct sockaddr *)&srv_in, &len)) {
		printf("server setup: FAIL %s\n", ename(errno));
		exit(1);
	}
	int lun = socket(AF_UNIX, SOCK_STREAM, 0);
	srv_un.sun_family = AF_UNIX;
	snprintf(srv_un.sun_path, sizeof srv_un.sun_path, "%s/srv", sock_dir);
	unlink(srv_un.sun_path);
	if (lun < 0 || bind(lun, (struct sockaddr *)&srv_un, sizeof srv_un) || listen(lun, 10)) {
		printf("unix server setup: FAIL %s\n", ename(errno));
		exit(1);
	}
	server_pid = fork();
	if (server_pid == 0)
		serve(lin, lun);
	close(lin);
	close(lun);
}

static void stop_server(void) {
	kill(server_pid, SIGKILL);
	waitpid(server_pid, NULL, 0);
	unlink(srv_un.sun_path);
}

/* unused_port returns a TCP or UDP port nothing listens on (in network
 * order): bind to port 0, read the port back, close. */
static in_port_t unused_port(int type) {
	int s = socket(AF_INET, type, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
	socklen_t len = sizeof a;
	bind(s, (struct sockaddr *)&a, sizeof a);
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	return a.sin_port;
}

/* connected returns a TCP socket connected to the server with its
 * greeting waiting (select says readable within 2 s). */
static int connected(void) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&srv_in, sizeof srv_in) < 0) {
		printf("connect to server: FAIL %s\n", ename(errno));
		ukt_failures++;
		return s;
	}
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(s, &rd);
	struct timeval tv = {2, 0};
	if (select(s + 1, &rd, NULL, NULL, &tv) != 1) {
		printf("greeting: FAIL not readable\n");
		ukt_failures++;
	}
	return s;
}

static int devnull(void) { return open("/dev/null", O_WRONLY); }

static void test_socket(void) {
	int s;
	ERR("socket(0, STREAM)", s = socket(0, SOCK_STREAM, 0), EAFNOSUPPORT);
	ERR("socket(INET, 75)", s = socket(AF_INET, 75, 0), EINVAL);
	s = OK("socket(UNIX, DGRAM)", socket(AF_UNIX, SOCK_DGRAM, 0));
	close(s);
	ERR("socket(INET, RAW, 0)", socket(AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
	ERR("socket(INET6, RAW, 0)", socket(AF_INET6, SOCK_RAW, 0), EPROTONOSUPPORT);
	s = OK("socket(INET, DGRAM, 17)", socket(AF_INET, SOCK_DGRAM, 17));
	close(s);
	ERR("socket(INET, STREAM, 17)", socket(AF_INET, SOCK_STREAM, 17), EPROTONOSUPPORT);
	ERR("socket(INET, DGRAM, 6)", socket(AF_INET, SOCK_DGRAM, 6), EPROTONOSUPPORT);
	s = OK("socket(INET, STREAM, 6)", socket(AF_INET, SOCK_STREAM, 6));
	close(s);
	ERR("socket(INET, STREAM, 1)", socket(AF_INET, SOCK_STREAM, 1), EPROTONOSUPPORT);
	ERR("socket(INET, SEQPACKET, 0)", socket(AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
	ERR("socket(INET, STREAM, -1)", socket(AF_INET, SOCK_STREAM, -1), EINVAL);
	ERR("socket(INET, STREAM, 256)", socket(AF_INET, SOCK_STREAM, 256), EPROTONOSUPPORT);
	ERR("socket(INET, 0, 0)", socket(AF_INET, 0, 0), ESOCKTNOSUPPORT);
	ERR("socket(INET, -1, 0)", socket(AF_INET, -1, 0), EINVAL);
	ERR("socket(-1, STREAM)", socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
	ERR("socket(1000, STREAM)", socket(1000, SOCK_STREAM, 0), EAFNOSUPPORT);
	ERR("socket(UNIX, STREAM, 2)", socket(AF_UNIX, SOCK_STREAM, 2), EPROTONOSUPPORT);
	s = OK("socket(UNIX, RAW, 0)", socket(AF_UNIX, SOCK_RAW, 0));
	int ty = 0;
	socklen_t tylen = sizeof ty;
	getsockopt(s, SOL_SOCKET, SO_TYPE, &ty, &tylen);
	VAL("  unix RAW is DGRAM", ty, SOCK_DGRAM);
	close(s);

	/* SOCK_CLOEXEC and SOCK_NONBLOCK. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	VAL("plain F_GETFD", fcntl(s, F_GETFD), 0);
	VAL("plain F_GETFL", fcntl(s, F_GETFL), O_RDWR);
	close(s);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	VAL("SOCK_CLOEXEC F_GETFD", fcntl(s, F_GETFD), FD_CLOEXEC);
	close(s);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	VAL("SOCK_NONBLOCK F_GETFL", fcntl(s, F_GETFL), O_RDWR | O_NONBLOCK);
	close(s);
	s = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	VAL("INET6 both F_GETFD", fcntl(s, F_GETFD), FD_CLOEXEC);
	VAL("INET6 both F_GETFL", fcntl(s, F_GETFL), O_RDWR | O_NONBLOCK);
	close(s);
	ERR("socket(INET, STREAM|O_APPEND)", socket(AF_INET, SOCK_STREAM | O_APPEND, 0), EINVAL);
}

static void test_socketpair(void) {
	int sv[2];
	ERR("socketpair(INET, STREAM)", socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
	ERR("socketpair(INET, DGRAM)", socketpair(AF_INET, SOCK_DGRAM, 0, sv), EOPNOTSUPP);
	ERR("socketpair(INET6, STREAM)", socketpair(AF_INET6, SOCK_STREAM, 0, sv), EOPNOTSUPP);
	ERR("socketpair(0, STREAM)", socketpair(0, SOCK_STREAM, 0, sv), EAFNOSUPPORT);
	ERR("socketpair(UNIX, 75)", socketpair(AF_UNIX, 75, 0, sv), EINVAL);
	ERR("socketpair(UNIX, STREAM, 6)", socketpair(AF_UNIX, SOCK_STREAM, 6, sv), EPROTONOSUPPORT);
	ERR("socketpair(INET, STREAM, 17)", socketpair(AF_INET, SOCK_STREAM, 17, sv), EPROTONOSUPPORT);
	ERR("socketpair(INET, DGRAM, 6)", socketpair(AF_INET, SOCK_DGRAM, 6, sv), EPROTONOSUPPORT);
	ERR("socketpair(UNIX, STREAM, bad sv)", socketpair(AF_UNIX, SOCK_STREAM, 0, bad_addr), EFAULT);
	ERR("socketpair(UNIX, STREAM, NULL sv)", socketpair(AF_UNIX, SOCK_STREAM, 0, NULL), EFAULT);
	if (OK("socketpair(UNIX, STREAM|NONBLOCK|CLOEXEC)", socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv)) == 0) {
		VAL("pair[0] F_GETFD", fcntl(sv[0], F_GETFD), FD_CLOEXEC);
		VAL("pair[1] F_GETFL", fcntl(sv[1], F_GETFL), O_RDWR | O_NONBLOCK);
		close(sv[0]);
		close(sv[1]);
	}
}

static void test_bind(void) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
	int nul = devnull();
	ERR("bind(400)", bind(400, (struct sockaddr *)&a, sizeof a), EBADF);
	ERR("bind(-1)", bind(-1, (struct sockaddr *)&a, sizeof a), EBADF);
	ERR("bind(/dev/null)", bind(nul, (struct sockaddr *)&a, sizeof a), ENOTSOCK);
	close(nul);

	int s = socket(AF_INET, SOCK_STREAM, 0);
	ERR("bind(addr=-1)", bind(s, (struct sockaddr *)-1, sizeof a), EFAULT);
	ERR("bind(bad page)", bind(s, bad_addr, sizeof a), EFAULT);
	ERR("bind(len 3)", bind(s, (struct sockaddr *)&a, 3), EINVAL);
	ERR("bind(len 0)", bind(s, (struct sockaddr *)&a, 0), EINVAL);
	ERR("bind(len -1)", bind(s, (struct sockaddr *)&a, -1), EINVAL);
	ERR("bind(len 129)", bind(s, (struct sockaddr *)&a, 129), EINVAL);
	struct sockaddr_in nonlocal = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0AFFFEFD)};
	ERR("bind(10.255.254.253)", bind(s, (struct sockaddr *)&nonlocal, sizeof nonlocal), EADDRNOTAVAIL);
	struct sockaddr_in fam47 = {.sin_family = 47};
	ERR("bind(family 47)", bind(s, (struct sockaddr *)&fam47, sizeof fam47), EAFNOSUPPORT);
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	ERR("bind(AF_UNIX addr on INET)", bind(s, (struct sockaddr *)&un, sizeof un), EAFNOSUPPORT);
	struct sockaddr_in unspec = {.sin_family = AF_UNSPEC, .sin_addr.s_addr = htonl(INADDR_ANY)};
	OK("bind(AF_UNSPEC, INADDR_ANY)", bind(s, (struct sockaddr *)&unspec, sizeof unspec));
	ERR("bind again", bind(s, (struct sockaddr *)&a, sizeof a), EINVAL);
	close(s);

	s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = srv_in.sin_port};
	ERR("bind(port in use)", bind(s, (struct sockaddr *)&lo, sizeof lo), EADDRINUSE);
	struct sockaddr_in unspec_lo = {.sin_family = AF_UNSPEC, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ERR("bind(AF_UNSPEC, loopback)", bind(s, (struct sockaddr *)&unspec_lo, sizeof unspec_lo), EAFNOSUPPORT);
	close(s);

	/* A port below 1024 needs CAP_NET_BIND_SERVICE: as root it binds. */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in low = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(1023)};
	SHOW("bind(UDP port 1023 as root)", bind(s, (struct sockaddr *)&low, sizeof low));
	close(s);

	/* bind on a UDP socket then getsockname. */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	OK("bind(UDP loopback:0)", bind(s, (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)}, sizeof a));
	struct sockaddr_in got;
	socklen_t len = sizeof got;
	getsockname(s, (struct sockaddr *)&got, &len);
	CHECK("bound UDP has a port and loopback address", got.sin_port != 0 && got.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && len == sizeof got);
	close(s);

	/* AF_INET6 sockets. */
	s = socket(AF_INET6, SOCK_STREAM, 0);
	ERR("INET6 bind(sockaddr_in len 16)", bind(s, (struct sockaddr *)&a, sizeof a), EINVAL);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	ERR("INET6 bind(len 23)", bind(s, (struct sockaddr *)&a6, 23), EINVAL);
	OK("INET6 bind(any, len 24)", bind(s, (struct sockaddr *)&a6, 24));
	close(s);

	/* unix: path too long, EADDRINUSE, ENOENT directory. */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ERR("unix bind(existing path)", bind(s, (struct sockaddr *)&srv_un, sizeof srv_un), EADDRINUSE);
	struct sockaddr_un nodir = {.sun_family = AF_UNIX};
	snprintf(nodir.sun_path, sizeof nodir.sun_path, "%s/nodir/sock", sock_dir);
	ERR("unix bind(missing dir)", bind(s, (struct sockaddr *)&nodir, sizeof nodir), ENOENT);
	ERR("unix bind(len 200)", bind(s, (struct sockaddr *)&nodir, 200), EINVAL);
	struct sockaddr_un notdir = {.sun_family = AF_UNIX};
	char file[300];
	snprintf(file, sizeof file, "%s/file", sock_dir);
	close(open(file, O_CREAT | O_WRONLY, 0644));
	snprintf(notdir.sun_path, sizeof notdir.sun_path, "%s/file/sock", sock_dir);
	ERR("unix bind(under a file)", bind(s, (struct sockaddr *)&notdir, sizeof notdir), ENOTDIR);
	unlink(file);
	close(s);

	/* A bound unix socket cannot be bound again, and the failed bind
	 * leaves no file behind (bind03). */
	struct sockaddr_un ua = {.sun_family = AF_UNIX}, ub = {.sun_family = AF_UNIX};
	snprintf(ua.sun_path, sizeof ua.sun_path, "%s/a", sock_dir);
	snprintf(ub.sun_path, sizeof ub.sun_path, "%s/b", sock_dir);
	int s1 = socket(AF_UNIX, SOCK_STREAM, 0), s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	OK("unix bind(a)", bind(s1, (struct sockaddr *)&ua, sizeof ua));
	ERR("unix rebind(b)", bind(s1, (struct sockaddr *)&ub, sizeof ub), EINVAL);
	ERR("unix bind(a) by another", bind(s2, (struct sockaddr *)&ua, sizeof ua), EADDRINUSE);
	ERR("unlink(b): no file left", unlink(ub.sun_path), ENOENT);
	close(s1);
	close(s2);
	unlink(ua.sun_path);
}

static void test_listen(void) {
	int nul = devnull();
	ERR("listen(400)", listen(400, 0), EBADF);
	ERR("listen(/dev/null)", listen(nul, 0), ENOTSOCK);
	close(nul);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	ERR("listen(UDP)", listen(s, 0), EOPNOTSUPP);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	OK("listen(unbound TCP)", listen(s, 5));
	OK("listen twice", listen(s, -1));
	int opt;
	socklen_t len = sizeof opt;
	getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &opt, &len);
	VAL("SO_ACCEPTCONN of listener", opt, 1);
	close(s);
	s = connected();
	ERR("listen(connected TCP)", listen(s, 5), EINVAL);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	shutdown(s, SHUT_RDWR);
	SHOW("listen(after shutdown)", listen(s, 5));
	close(s);
}

static void test_connect(void) {
	int nul = devnull();
	ERR("connect(400)", connect(400, (struct sockaddr *)&srv_in, sizeof srv_in), EBADF);
	ERR("connect(/dev/null)", connect(nul, (struct sockaddr *)&srv_in, sizeof srv_in), ENOTSOCK);
	close(nul);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	ERR("connect(addr=-1)", syscall(SYS_connect, s, (struct sockaddr *)-1, sizeof srv_in), EFAULT);
	ERR("connect(len 3)", connect(s, (struct sockaddr *)&srv_in, 3), EINVAL);
	ERR("connect(len -1)", connect(s, (struct sockaddr *)&srv_in, -1), EINVAL);
	ERR("connect(len 1000)", connect(s, (struct sockaddr *)&srv_in, 1000), EINVAL);
	close(s);

	s = socket(AF_INET, SOCK_STREAM, 0);
	OK("connect(0.0.0.0:server)", connect(s, (struct sockaddr *)&srv_in, sizeof srv_in));
	ERR("connect again (EISCONN)", connect(s, (struct sockaddr *)&srv_in, sizeof srv_in), EISCONN);
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	getpeername(s, (struct sockaddr *)&peer, &len);
	CHECK("peer of a 0.0.0.0 connect is 127.0.0.1", peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && peer.sin_port == srv_in.sin_port);
	len = sizeof peer;
	getsockname(s, (struct sockaddr *)&peer, &len);
	CHECK("local address of it is 127.0.0.1", peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	close(s);

	s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in refused = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY), .sin_port = unused_port(SOCK_STREAM)};
	ERR("connect(unused port)", connect(s, (struct sockaddr *)&refused, sizeof refused), ECONNREFUSED);
	ERR("connect after refusal", connect(s, (struct sockaddr *)&refused, sizeof refused), ECONNREFUSED);
	int soerr = -1;
	socklen_t elen = sizeof soerr;
	getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &elen);
	VAL("SO_ERROR after a reported refusal", soerr, 0);
	struct pollfd ep = {.fd = s, .events = POLLIN | POLLOUT};
	poll(&ep, 1, 0);
	CHECK("no POLLERR once reported", !(ep.revents & POLLERR));
	OK("the same socket connects to a listener", connect(s, (struct sockaddr *)&srv_in, sizeof srv_in));
	close(s);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r0 = connect(s, (struct sockaddr *)&refused, sizeof refused);
	CHECK("non-blocking connect refused: EINPROGRESS", r0 == -1 && errno == EINPROGRESS);
	ep.events = POLLOUT;
	poll(&ep, 1, 2000);
	CHECK("poll: ERR and HUP", (ep.revents & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP));
	ERR("connect reports the refusal", connect(s, (struct sockaddr *)&refused, sizeof refused), ECONNREFUSED);
	close(s);
	/* The refusal read through SO_ERROR: the next connect says
	 * ECONNABORTED, the one after starts anew. */
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	connect(s, (struct sockaddr *)&refused, sizeof refused);
	ep.fd = s;
	ep.events = POLLOUT;
	poll(&ep, 1, 2000);
	elen = sizeof soerr;
	getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &elen);
	VAL("SO_ERROR says the refusal", soerr, ECONNREFUSED);
	ERR("connect after SO_ERROR", connect(s, (struct sockaddr *)&refused, sizeof refused), ECONNABORTED);
	ERR("connect again starts anew", connect(s, (struct sockaddr *)&srv_in, sizeof srv_in), EINPROGRESS);
	ep.events = POLLOUT;
	VAL("poll the new attempt", poll(&ep, 1, 2000), 1);
	elen = sizeof soerr;
	getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &elen);
	VAL("SO_ERROR of the new attempt", soerr, 0);
	close(s);

	s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in fam47 = {.sin_family = 47, .sin_addr.s_addr = htonl(0x0AFFFEFD)};
	ERR("connect(family 47)", connect(s, (struct sockaddr *)&fam47, sizeof fam47), EAFNOSUPPORT);
	close(s);

	s = socket(AF_INET, SOCK_DGRAM, 0);
	OK("UDP connect(loopback)", connect(s, (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(9)}, sizeof(struct sockaddr_in)));
	OK("UDP connect(AF_UNSPEC)", connect(s, (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_UNSPEC}, sizeof(struct sockaddr_in)));
	len = sizeof peer;
	ERR("UDP getpeername after AF_UNSPEC", getpeername(s, (struct sockaddr *)&peer, &len), ENOTCONN);
	close(s);

	/* Non-blocking connect to the server: EINPROGRESS or success, then
	 * writable; a second connect says EISCONN. */
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	errno = 0;
	int r = connect(s, (struct sockaddr *)&srv_in, sizeof srv_in);
	CHECK("non-blocking connect: 0 or EINPROGRESS", r == 0 || errno == EINPROGRESS);
	struct pollfd p = {.fd = s, .events = POLLOUT};
	VAL("poll for connect", poll(&p, 1, 2000), 1);
	int err = -1;
	len = sizeof err;
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
	VAL("SO_ERROR after connect", err, 0);
	SHOW("connect again after non-blocking", connect(s, (struct sockaddr *)&srv_in, sizeof srv_in));
	ERR("and once more", connect(s, (struct sockaddr *)&srv_in, sizeof srv_in), EISCONN);
	close(s);

	/* unix: EPROTOTYPE and EACCES (connect03). */
	int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
	ERR("unix DGRAM connect to STREAM listener", connect(dg, (struct sockaddr *)&srv_un, sizeof srv_un), EPROTOTYPE);
	close(dg);
	int us = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un missing = {.sun_family = AF_UNIX};
	snprintf(missing.sun_path, sizeof missing.sun_path, "%s/missing", sock_dir);
	ERR("unix connect(missing)", connect(us, (struct sockaddr *)&missing, sizeof missing), ENOENT);
	close(us);
}

static void test_accept(void) {
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	/* Descriptors without a file behind them (O_PATH) are EBADF to every
	 * socket call; other non-sockets ENOTSOCK (accept03). */
	int path = open("/", O_PATH);
	ERR("accept(O_PATH)", accept(path, (struct sockaddr *)&a, &len), EBADF);
	ERR("bind(O_PATH)", bind(path, (struct sockaddr *)&a, sizeof a), EBADF);
	ERR("getsockopt(O_PATH)", getsockopt(path, SOL_SOCKET, SO_TYPE, &a, &len), EBADF);
	ERR("sendto(O_PATH)", sendto(path, "x", 1, 0, NULL, 0), EBADF);
	ERR("shutdown(O_PATH)", shutdown(path, SHUT_RDWR), EBADF);
	close(path);
	int pfd[2];
	pipe(pfd);
	ERR("accept(pipe)", accept(pfd[0], (struct sockaddr *)&a, &len), ENOTSOCK);
	ERR("shutdown(pipe)", shutdown(pfd[1], SHUT_RDWR), ENOTSOCK);
	close(pfd[0]);
	close(pfd[1]);
	int dir = open("/", O_RDONLY | O_DIRECTORY);
	ERR("accept(directory)", accept(dir, (struct sockaddr *)&a, &len), ENOTSOCK);
	close(dir);
	int nul = devnull();
	ERR("accept(400)", accept(400, (struct sockaddr *)&a, &len), EBADF);
	ERR("accept(/dev/null)", accept(nul, (struct sockaddr *)&a, &len), ENOTSOCK);
	close(nul);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	ERR("accept(UDP)", accept(s, (struct sockaddr *)&a, &len), EOPNOTSUPP);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	ERR("accept(not listening)", accept(s, (struct sockaddr *)&a, &len), EINVAL);
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(s, (struct sockaddr *)&lo, sizeof lo);
	ERR("accept(bound, not listening)", accept(s, (struct sockaddr *)&a, &len), EINVAL);
	listen(s, 5);
	fcntl(s, F_SETFL, O_NONBLOCK);
	ERR("accept(non-blocking, none pending)", accept(s, (struct sockaddr *)&a, &len), EAGAIN);
	ERR("accept4(bad flags)", accept4(s, (struct sockaddr *)&a, &len, O_APPEND), EINVAL);
	socklen_t l2 = sizeof lo;
	getsockname(s, (struct sockaddr *)&lo, &l2);
	/* Each case gets a fresh pending connection: Linux takes the
	 * connection off the queue before it copies the address out, and a
	 * failed copy loses it. */
	int c[6];
	struct pollfd p = {.fd = s, .events = POLLIN};
	for (int i = 0; i < 6; i++)
		c[i] = -1;
#define PENDING(i) do { c[i] = socket(AF_INET, SOCK_STREAM, 0); connect(c[i], (struct sockaddr *)&lo, sizeof lo); \
	poll(&p, 1, 2000); } while (0)
	PENDING(0);
	len = sizeof a;
	ERR("accept(bad addr)", accept(s, bad_addr, &len), EFAULT);
	ERR("accept after the failed one", accept(s, NULL, NULL), EAGAIN);
	PENDING(1);
	len = (socklen_t)-1;
	ERR("accept(addrlen -1)", accept(s, (struct sockaddr *)&a, &len), EINVAL);
	SHOW("accept after addrlen -1", accept(s, NULL, NULL));
	PENDING(2);
	ERR("accept(bad addrlen ptr)", accept(s, (struct sockaddr *)&a, bad_addr), EFAULT);
	SHOW("accept after bad addrlen ptr", accept(s, NULL, NULL));
	PENDING(3);
	ERR("accept(addr, NULL addrlen)", accept(s, (struct sockaddr *)&a, NULL), EFAULT);
	SHOW("accept after NULL addrlen", accept(s, NULL, NULL));
	PENDING(4);
	len = 4;
	int n = OK("accept4(CLOEXEC|NONBLOCK, addrlen 4)", accept4(s, (struct sockaddr *)&a, &len, SOCK_CLOEXEC | SOCK_NONBLOCK));
	VAL("accepted addrlen", len, 16);
	VAL("accepted F_GETFD", fcntl(n, F_GETFD), FD_CLOEXEC);
	VAL("accepted F_GETFL", fcntl(n, F_GETFL), O_RDWR | O_NONBLOCK);
	close(n);
	PENDING(5);
	n = OK("accept(NULL, NULL)", accept(s, NULL, NULL));
	VAL("accepted (plain) F_GETFL", fcntl(n, F_GETFL), O_RDWR);
	close(n);
#undef PENDING
	for (int i = 0; i < 6; i++)
		close(c[i]);
	close(s);
}

static void test_names(void) {
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	socklen_t neg = (socklen_t)-1;
	int nul = devnull();
	ERR("getsockname(400)", getsockname(400, (struct sockaddr *)&a, &len), EBADF);
	ERR("getsockname(/dev/null)", getsockname(nul, (struct sockaddr *)&a, &len), ENOTSOCK);
	ERR("getpeername(400)", getpeername(400, (struct sockaddr *)&a, &len), EBADF);
	ERR("getpeername(-1)", getpeername(-1, (struct sockaddr *)&a, &len), EBADF);
	ERR("getpeername(/dev/null)", getpeername(nul, (struct sockaddr *)&a, &len), ENOTSOCK);
	close(nul);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
	bind(s, (struct sockaddr *)&any, sizeof any);
	ERR("getsockname(addr NULL)", getsockname(s, NULL, &len), EFAULT);
	ERR("getsockname(len NULL)", getsockname(s, (struct sockaddr *)&a, NULL), EFAULT);
	ERR("getsockname(len 1)", getsockname(s, (struct sockaddr *)&a, (socklen_t *)1), EFAULT);
	ERR("getsockname(len -1)", getsockname(s, (struct sockaddr *)&a, &neg), EINVAL);
	len = 0;
	OK("getsockname(len 0)", getsockname(s, NULL, &len));
	VAL("len after len 0", len, 16);
	len = 4;
	memset(&a, 0xee, sizeof a);
	OK("getsockname(len 4)", getsockname(s, (struct sockaddr *)&a, &len));
	VAL("len after len 4", len, 16);
	VAL("bytes after the 4th untouched", ((unsigned char *)&a)[4], 0xee);
	len = sizeof a;
	ERR("getpeername(unconnected)", getpeername(s, (struct sockaddr *)&a, &len), ENOTCONN);
	ERR("getpeername(unconnected, bad addr)", getpeername(s, bad_addr, &len), ENOTCONN);
	close(s);

	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	ERR("getpeername(pair, len -1)", getpeername(sv[0], (struct sockaddr *)&a, &neg), EINVAL);
	len = sizeof a;
	ERR("getpeername(pair, addr -1)", getpeername(sv[0], (struct sockaddr *)-1, &len), EFAULT);
	ERR("getpeername(pair, len NULL)", getpeername(sv[0], (struct sockaddr *)&a, NULL), EFAULT);
	ERR("getpeername(pair, len 1)", getpeername(sv[0], (struct sockaddr *)&a, (socklen_t *)1), EFAULT);
	len = sizeof a;
	OK("getpeername(pair)", getpeername(sv[0], (struct sockaddr *)&a, &len));
	VAL("pair peer len", len, 2);
	close(sv[0]);
	close(sv[1]);

	/* Unbound sockets report the any address and port 0. */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	len = sizeof a;
	memset(&a, 0xee, sizeof a);
	OK("getsockname(unbound UDP)", getsockname(s, (struct sockaddr *)&a, &len));
	CHECK("unbound: AF_INET 0.0.0.0:0", len == 16 && a.sin_family == AF_INET && a.sin_port == 0 && a.sin_addr.s_addr == 0);
	close(s);
	s = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a6;
	len = sizeof a6;
	OK("getsockname(unbound UDP6)", getsockname(s, (struct sockaddr *)&a6, &len));
	VAL("UDP6 len", len, 28);
	close(s);
}

static void test_recv(void) {
	char buf[1024];
	int nul = devnull();
	ERR("recv(400)", recv(400, buf, sizeof buf, 0), EBADF);
	ERR("recv(/dev/null)", recv(nul, buf, sizeof buf, 0), ENOTSOCK);
	int s = connected();
	ERR("recv(buf -1)", recv(s, (void *)-1, sizeof buf, 0), EFAULT);
	VAL("recv after EFAULT: the data is still there", recv(s, buf, sizeof buf, MSG_DONTWAIT), 6);
	/* A buffer outside the address space fails at once (access_ok);
	 * an unmapped page inside it only when there is data to copy. */
	ERR("recv(buf -1), nothing queued", recv(s, (void *)-1, sizeof buf, MSG_DONTWAIT), EFAULT);
	ERR("recv(400, buf -1)", recv(400, (void *)-1, sizeof buf, MSG_DONTWAIT), EFAULT);
	ERR("sendto(400, buf -1)", sendto(400, (void *)-1, sizeof buf, 0, NULL, 0), EFAULT);
	ERR("recv(bad page), nothing queued", recv(s, bad_addr, sizeof buf, MSG_DONTWAIT), EAGAIN);
	ERR("recv(bad page, MSG_OOB)", recv(s, bad_addr, sizeof buf, MSG_OOB), EINVAL);
	struct iovec biv = {bad_addr, 10};
	struct msghdr bm = {.msg_iov = &biv, .msg_iovlen = 1};
	ERR("recvmsg(iov_base bad page), nothing queued", recvmsg(s, &bm, MSG_DONTWAIT), EAGAIN);
	biv.iov_base = (void *)-1;
	ERR("recvmsg(iov_base -1), nothing queued", recvmsg(s, &bm, MSG_DONTWAIT), EFAULT);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	ERR("recv(unconnected, bad page)", recv(s, bad_addr, sizeof buf, 0), ENOTCONN);
	close(s);
	s = connected();
	VAL("TCP recv(NULL, 2, MSG_TRUNC) discards", recv(s, NULL, 2, MSG_TRUNC), 2);
	memset(buf, 0, sizeof buf);
	VAL("  the rest", recv(s, buf, sizeof buf, 0), 4);
	CHECK("  is llo\\n", memcmp(buf, "llo\n", 4) == 0);
	close(s);
	s = connected();
	ERR("recv(bad page), data queued", recv(s, bad_addr, sizeof buf, 0), EFAULT);
	VAL("  the data stays", recv(s, buf, sizeof buf, MSG_DONTWAIT), 6);
	close(s);
	s = connected();
	ERR("recv(MSG_OOB)", recv(s, buf, sizeof buf, MSG_OOB), EINVAL);
	close(s);
	s = connected();
	ERR("recv(MSG_ERRQUEUE)", recv(s, buf, sizeof buf, MSG_ERRQUEUE), EAGAIN);
	VAL("recv(MSG_PEEK)", recv(s, buf, sizeof buf, MSG_PEEK), 6);
	VAL("recv(len 2)", recv(s, buf, 2, 0), 2);
	VAL("recv rest", recv(s, buf, sizeof buf, 0), 4);
	ERR("recv(MSG_DONTWAIT), empty", recv(s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	SHOW("recv(len 0, DONTWAIT)", recv(s, buf, 0, MSG_DONTWAIT));
	VAL("read(len 0), nothing queued", read(s, buf, 0), 0);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	ERR("recv(unconnected TCP)", recv(s, buf, sizeof buf, 0), ENOTCONN);
	ERR("recv(unconnected TCP, DONTWAIT)", recv(s, buf, sizeof buf, MSG_DONTWAIT), ENOTCONN);
	VAL("read(unconnected TCP, len 0)", read(s, buf, 0), 0);
	ERR("write(unconnected TCP, len 0)", write(s, buf, 0), EPIPE);
	close(s);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	ERR("recv(unbound UDP, DONTWAIT)", recv(s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	SHOW("recv(UDP, MSG_OOB|DONTWAIT)", recv(s, buf, sizeof buf, MSG_OOB | MSG_DONTWAIT));
	struct timeval tv = {0, 100000};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ERR("recv(UDP, SO_RCVTIMEO 100ms)", recv(s, buf, sizeof buf, 0), EAGAIN);
	close(s);
	close(nul);
}

static void test_recvfrom(void) {
	char buf[1024];
	struct sockaddr_in from;
	socklen_t fromlen = sizeof from;
	int nul = devnull();
	ERR("recvfrom(400)", recvfrom(400, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen), EBADF);
	ERR("recvfrom(/dev/null)", recvfrom(nul, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen), ENOTSOCK);
	close(nul);
	int s = connected();
	fromlen = sizeof from;
	SHOW("recvfrom(TCP, from -1)", recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)-1, &fromlen));
	VAL("fromlen after TCP recvfrom", fromlen, 0);
	close(s);
	s = connected();
	fromlen = (socklen_t)-1;
	ERR("recvfrom(fromlen -1)", recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen), EINVAL);
	fromlen = sizeof from;
	ERR("recvfrom after EINVAL: the data went", recvfrom(s, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen), EAGAIN);
	close(s);
	s = connected();
	fromlen = sizeof from;
	ERR("recvfrom(buf -1)", recvfrom(s, (void *)-1, sizeof buf, 0, (struct sockaddr *)&from, &fromlen), EFAULT);
	close(s);
	s = connected();
	ERR("recvfrom(MSG_OOB)", recvfrom(s, buf, sizeof buf, MSG_OOB, (struct sockaddr *)&from, &fromlen), EINVAL);
	ERR("recvfrom(MSG_ERRQUEUE)", recvfrom(s, buf, sizeof buf, MSG_ERRQUEUE, (struct sockaddr *)&from, &fromlen), EAGAIN);
	close(s);

	/* UDP: the sender's address; a bad address buffer faults after the
	 * datagram is taken. */
	int r = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(r, (struct sockaddr *)&lo, sizeof lo);
	socklen_t l = sizeof lo;
	getsockname(r, (struct sockaddr *)&lo, &l);
	int w = socket(AF_INET, SOCK_DGRAM, 0);
	VAL("sendto(UDP 5 bytes)", sendto(w, "abcde", 5, 0, (struct sockaddr *)&lo, sizeof lo), 5);
	VAL("sendto(UDP 3 bytes)", sendto(w, "xyz", 3, 0, (struct sockaddr *)&lo, sizeof lo), 3);
	VAL("sendto(UDP 0 bytes)", sendto(w, "", 0, 0, (struct sockaddr *)&lo, sizeof lo), 0);
	fromlen = 4;
	memset(&from, 0xee, sizeof from);
	VAL("recvfrom(UDP, MSG_PEEK, fromlen 4)", recvfrom(r, buf, sizeof buf, MSG_PEEK, (struct sockaddr *)&from, &fromlen), 5);
	VAL("fromlen", fromlen, 16);
	VAL("byte 4 untouched", ((unsigned char *)&from)[4], 0xee);
	fromlen = sizeof from;
	VAL("recvfrom(UDP, len 2, MSG_TRUNC)", recvfrom(r, buf, 2, MSG_TRUNC, (struct sockaddr *)&from, &fromlen), 5);
	CHECK("from is the loopback sender", from.sin_family == AF_INET && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && from.sin_port != 0);
	fromlen = sizeof from;
	ERR("recvfrom(UDP, from bad)", recvfrom(r, buf, sizeof buf, 0, bad_addr, &fromlen), EFAULT);
	SHOW("recvfrom(UDP) after the fault", recvfrom(r, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL));
	SHOW("recvfrom(UDP) empty datagram", recvfrom(r, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL));
	ERR("recvfrom(UDP) none left", recvfrom(r, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL), EAGAIN);
	close(r);
	close(w);
}

static void test_recvmsg(void) {
	char buf[1024], cbuf[1024];
	struct sockaddr_in from;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
	struct msghdr m;
#define RESET(name, namelen, iovp, iovcnt, ctl, ctllen) do { memset(&m, 0, sizeof m); \
	m.msg_name = (name); m.msg_namelen = (namelen); m.msg_iov = (iovp); m.msg_iovlen = (iovcnt); \
	m.msg_control = (ctl); m.msg_controllen = (ctllen); } while (0)
	int nul = devnull();
	RESET(&from, sizeof from, &iov, 1, NULL, 0);
	ERR("recvmsg(400)", recvmsg(400, &m, 0), EBADF);
	ERR("recvmsg(/dev/null)", recvmsg(nul, &m, 0), ENOTSOCK);
	close(nul);
	int s = connected();
	RESET((void *)-1, sizeof from, &iov, 1, NULL, 0);
	VAL("recvmsg(TCP, name -1)", recvmsg(s, &m, 0), 6);
	VAL("namelen after", m.msg_namelen, 0);
	close(s);
	s = connected();
	RESET(&from, -1, &iov, 1, NULL, 0);
	ERR("recvmsg(namelen -1, flags -1)", recvmsg(s, &m, -1), EINVAL);
	RESET(&from, sizeof from, &iov, 1, NULL, 0);
	ERR("recvmsg(flags MSG_CMSG_COMPAT)", recvmsg(s, &m, 0x80000000), EINVAL);
	RESET(&from, -1, &iov, 1, NULL, 0);
	ERR("recvmsg(namelen -1)", recvmsg(s, &m, 0), EINVAL);
	ERR("recvmsg(-1, MSG_CMSG_COMPAT)", recvmsg(-1, &m, 0x80000000), EINVAL);
	RESET(NULL, -1, &iov, 1, NULL, 0);
	VAL("recvmsg(name NULL, namelen -1)", recvmsg(s, &m, MSG_PEEK), 6);
	close(s);
	s = connected();
	struct iovec badiov = {.iov_base = (void *)-1, .iov_len = sizeof buf};
	RESET(&from, sizeof from, &badiov, 1, NULL, 0);
	ERR("recvmsg(iov_base -1)", recvmsg(s, &m, 0), EFAULT);
	close(s);
	s = connected();
	RESET(&from, sizeof from, NULL, 1, NULL, 0);
	ERR("recvmsg(iov NULL)", recvmsg(s, &m, 0), EFAULT);
	RESET(&from, sizeof from, &iov, (size_t)-1, NULL, 0);
	ERR("recvmsg(iovlen -1)", recvmsg(s, &m, 0), EMSGSIZE);
	RESET(&from, sizeof from, &iov, 1025, NULL, 0);
	ERR("recvmsg(iovlen 1025)", recvmsg(s, &m, 0), EMSGSIZE);
	ERR("recvmsg(msghdr bad)", recvmsg(s, bad_addr, 0), EFAULT);
	RESET(&from, sizeof from, &iov, 1, NULL, 0);
	ERR("recvmsg(MSG_OOB)", recvmsg(s, &m, MSG_OOB), EINVAL);
	ERR("recvmsg(MSG_ERRQUEUE)", recvmsg(s, &m, MSG_ERRQUEUE), EAGAIN);
	RESET(&from, sizeof from, &iov, 0, NULL, 0);
	VAL("recvmsg(iovlen 0)", recvmsg(s, &m, 0), 0);
	struct iovec two[2] = {{buf, 2}, {buf + 100, 100}};
	RESET(&from, sizeof from, two, 2, NULL, 0);
	VAL("recvmsg(two iovecs)", recvmsg(s, &m, 0), 6);
	CHECK("scattered", memcmp(buf, "he", 2) == 0 && memcmp(buf + 100, "llo\n", 4) == 0);
	VAL("msg_flags", m.msg_flags, 0);
	close(s);

	/* Rights over unix: cmsg buffer big, too small for a header, huge. */
	const int lens[] = {sizeof cbuf, sizeof(struct cmsghdr) - 1, 128 * 1024, sizeof(struct cmsghdr) + 2};
	const char *names[] = {"cmsg 1024", "cmsg 15", "cmsg 128K", "cmsg 18"};
	for (int i = 0; i < 4; i++) {
		char *cb = i == 2 ? malloc(128 * 1024) : cbuf;
		int u = socket(AF_UNIX, SOCK_STREAM, 0);
		connect(u, (struct sockaddr *)&srv_un, sizeof srv_un);
		write(u, "R", 1);
		struct pollfd p = {.fd = u, .events = POLLIN};
		poll(&p, 1, 2000);
		RESET(NULL, 0, &iov, 1, cb, lens[i]);
		char desc[64];
		snprintf(desc, sizeof desc, "recvmsg(rights, %s)", names[i]);
		VAL(desc, recvmsg(u, &m, 0), 6);
		snprintf(desc, sizeof desc, "  msg_flags (%s)", names[i]);
		VAL(desc, m.msg_flags, i == 0 || i == 2 ? 0 : MSG_CTRUNC);
		snprintf(desc, sizeof desc, "  controllen (%s)", names[i]);
		VAL(desc, m.msg_controllen, i == 0 || i == 2 ? CMSG_SPACE(sizeof(int)) : 0);
		if (i == 0 || i == 2) {
			struct cmsghdr *c = CMSG_FIRSTHDR(&m);
			int fd = -1;
			if (c)
				memcpy(&fd, CMSG_DATA(c), sizeof fd);
			CHECK("  SCM_RIGHTS with a descriptor", c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && fcntl(fd, F_GETFD) == 0);
			close(fd);
		}
		if (i == 2)
			free(cb);
		close(u);
	}

	/* UDP: MSG_TRUNC in msg_flags, the sender's name. */
	int r = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(r, (struct sockaddr *)&lo, sizeof lo);
	socklen_t l = sizeof lo;
	getsockname(r, (struct sockaddr *)&lo, &l);
	int w = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(w, "0123456789", 10, 0, (struct sockaddr *)&lo, sizeof lo);
	struct iovec small = {.iov_base = buf, .iov_len = 4};
	RESET(&from, sizeof from, &small, 1, NULL, 0);
	VAL("recvmsg(UDP, 4 of 10)", recvmsg(r, &m, 0), 4);
	VAL("  msg_flags MSG_TRUNC", m.msg_flags, MSG_TRUNC);
	VAL("  namelen", m.msg_namelen, 16);
	sendto(w, "0123456789", 10, 0, (struct sockaddr *)&lo, sizeof lo);
	RESET(NULL, 0, &small, 1, NULL, 0);
	VAL("recvmsg(UDP, MSG_TRUNC flag)", recvmsg(r, &m, MSG_TRUNC), 10);
	sendto(w, "0123456789", 10, 0, (struct sockaddr *)&lo, sizeof lo);
	RESET(&from, sizeof from, &small, 1, (void *)-1, 100);
	VAL("recvmsg(UDP, control -1 len 100)", recvmsg(r, &m, 0), 4);
	VAL("  controllen", m.msg_controllen, 0);
	close(r);
	close(w);
#undef RESET
}

static void test_send(void) {
	char buf[1024];
	static char big[128 * 1024];
	memset(buf, 'x', sizeof buf);
	int nul = devnull();
	ERR("send(400)", send(400, buf, sizeof buf, 0), EBADF);
	ERR("send(/dev/null)", send(nul, buf, sizeof buf, 0), ENOTSOCK);
	ERR("sendto(400)", sendto(400, buf, sizeof buf, 0, (struct sockaddr *)&srv_in, sizeof srv_in), EBADF);
	ERR("sendto(/dev/null)", sendto(nul, buf, sizeof buf, 0, (struct sockaddr *)&srv_in, sizeof srv_in), ENOTSOCK);
	close(nul);

	int s = socket(AF_INET, SOCK_DGRAM, 0);
	connect(s, (struct sockaddr *)&srv_in, sizeof srv_in);
	ERR("sendto(UDP, buf -1)", sendto(s, (void *)-1, sizeof buf, 0, (struct sockaddr *)&srv_in, sizeof srv_in), EFAULT);
	ERR("send(UDP, buf -1)", send(s, (void *)-1, sizeof buf, 0), EFAULT);
	ERR("sendto(UDP, tolen -1)", sendto(s, buf, sizeof buf, 0, (struct sockaddr *)&srv_in, -1), EINVAL);
	ERR("sendto(UDP, tolen 3)", sendto(s, buf, sizeof buf, 0, (struct sockaddr *)&srv_in, 3), EINVAL);
	ERR("sendto(UDP, to -1)", sendto(s, buf, sizeof buf, 0, (struct sockaddr *)-1, sizeof srv_in), EFAULT);
	ERR("sendto(UDP, 128K)", sendto(s, big, sizeof big, 0, (struct sockaddr *)&srv_in, sizeof srv_in), EMSGSIZE);
	ERR("send(UDP, 65508)", send(s, big, 65508, 0), EMSGSIZE);
	VAL("send(UDP, 65507)", send(s, big, 65507, 0), 65507);
	ERR("sendto(UDP, MSG_OOB)", sendto(s, buf, sizeof buf, MSG_OOB, (struct sockaddr *)&srv_in, sizeof srv_in), EOPNOTSUPP);
	struct sockaddr_in fam47 = {.sin_family = 47};
	ERR("sendto(UDP, family 47)", sendto(s, buf, 1, 0, (struct sockaddr *)&fam47, sizeof fam47), EAFNOSUPPORT);
	/* The 65507 bytes went to a port with no UDP socket: the ICMP error
	 * comes back on the next call. */
	SHOW("sendto(UDP, to NULL len 16)", sendto(s, buf, 1, 0, NULL, sizeof srv_in));
	VAL("sendto(UDP, to NULL len 16) again", sendto(s, buf, 1, 0, NULL, sizeof srv_in), 1);
	close(s);

	s = socket(AF_INET, SOCK_DGRAM, 0);
	ERR("send(unconnected UDP)", send(s, buf, 1, 0), EDESTADDRREQ);
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = unused_port(SOCK_DGRAM)};
	VAL("sendto(UDP, nobody listening)", sendto(s, buf, 1, 0, (struct sockaddr *)&lo, sizeof lo), 1);
	close(s);

	s = connected();
	struct sockaddr_in zero = {0};
	VAL("sendto(connected TCP, zero to)", sendto(s, buf, sizeof buf, 0, (struct sockaddr *)&zero, sizeof zero), sizeof buf);
	VAL("sendto(connected TCP, tolen 3)", sendto(s, buf, 10, 0, (struct sockaddr *)&zero, 3), 10);
	SHOW("sendto(connected TCP, to -1)", sendto(s, buf, 10, 0, (struct sockaddr *)-1, sizeof zero));
	SHOW("sendto(connected TCP, tolen -1)", sendto(s, buf, 10, 0, (struct sockaddr *)&zero, -1));
	VAL("send(TCP, MSG_OOB)", send(s, buf, 1, MSG_OOB), 1);
	ERR("send(TCP, buf -1)", send(s, (void *)-1, 10, 0), EFAULT);
	VAL("send(TCP, len 0)", send(s, buf, 0, 0), 0);
	close(s);

	s = socket(AF_INET, SOCK_STREAM, 0);
	ERR("sendto(unconnected TCP)", sendto(s, buf, sizeof buf, 0, (struct sockaddr *)&srv_in, sizeof srv_in), EPIPE);
	ERR("send(unconnected TCP)", send(s, buf, sizeof buf, MSG_NOSIGNAL), EPIPE);
	ERR("send(unconnected TCP, len 0)", send(s, buf, 0, 0), EPIPE);
	close(s);

	s = connected();
	shutdown(s, SHUT_WR);
	ERR("sendto(after SHUT_WR)", sendto(s, buf, sizeof buf, 0, (struct sockaddr *)&srv_in, sizeof srv_in), EPIPE);
	ERR("send(after SHUT_WR, NOSIGNAL)", send(s, buf, sizeof buf, MSG_NOSIGNAL), EPIPE);
	close(s);

	/* sendmsg. */
	struct iovec iov = {.iov_base = buf, .iov_len = 10};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	s = socket(AF_INET, SOCK_DGRAM, 0);
	ERR("sendmsg(400)", sendmsg(400, &m, 0), EBADF);
	ERR("sendmsg(UDP unconnected, no name)", sendmsg(s, &m, 0), EDESTADDRREQ);
	m.msg_name = &lo;
	m.msg_namelen = sizeof lo;
	VAL("sendmsg(UDP, name)", sendmsg(s, &m, 0), 10);
	ERR("sendmsg(msghdr bad)", sendmsg(s, bad_addr, 0), EFAULT);
	m.msg_namelen = -1;
	ERR("sendmsg(namelen -1)", sendmsg(s, &m, 0), EINVAL);
	m.msg_namelen = sizeof lo;
	m.msg_name = (void *)-1;
	ERR("sendmsg(name -1)", sendmsg(s, &m, 0), EFAULT);
	m.msg_name = &lo;
	m.msg_iov = NULL;
	ERR("sendmsg(iov NULL)", sendmsg(s, &m, 0), EFAULT);
	m.msg_iov = &iov;
	m.msg_iovlen = (size_t)-1;
	ERR("sendmsg(iovlen -1)", sendmsg(s, &m, 0), EMSGSIZE);
	m.msg_iovlen = 1;
	struct iovec biov = {.iov_base = (void *)-1, .iov_len = 10};
	m.msg_iov = &biov;
	ERR("sendmsg(iov_base -1)", sendmsg(s, &m, 0), EFAULT);
	m.msg_iov = &iov;
	m.msg_control = (void *)-1;
	m.msg_controllen = 100;
	ERR("sendmsg(control -1)", sendmsg(s, &m, 0), EFAULT);
	char cbuf[64] = {0};
	struct cmsghdr *c = (struct cmsghdr *)cbuf;
	m.msg_control = cbuf;
	c->cmsg_len = 8;
	m.msg_controllen = sizeof(struct cmsghdr);
	ERR("sendmsg(cmsg_len 8)", sendmsg(s, &m, 0), EINVAL);
	c->cmsg_len = sizeof(struct cmsghdr) + 4;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	m.msg_controllen = CMSG_SPACE(4);
	int one = 0;
	memcpy(CMSG_DATA(c), &one, 4);
	SHOW("sendmsg(UDP, SCM_RIGHTS)", sendmsg(s, &m, 0));
	c->cmsg_level = SOL_IP;
	c->cmsg_type = 12345;
	SHOW("sendmsg(UDP, SOL_IP unknown type)", sendmsg(s, &m, 0));
	m.msg_control = NULL;
	m.msg_controllen = 0;
	ERR("sendmsg(UDP, MSG_OOB)", sendmsg(s, &m, MSG_OOB), EOPNOTSUPP);
	m.msg_controllen = 10;
	m.msg_control = cbuf;
	VAL("sendmsg(controllen 10, under a header)", sendmsg(s, &m, 0), 10);
	m.msg_control = (void *)-1;
	ERR("sendmsg(controllen 10, control -1)", sendmsg(s, &m, 0), EFAULT);
	m.msg_control = NULL;
	m.msg_controllen = 0;
	m.msg_namelen = 1000;
	VAL("sendmsg(namelen 1000)", sendmsg(s, &m, 0), 10);
	m.msg_namelen = sizeof lo;
	ERR("sendmsg(MSG_CMSG_COMPAT)", sendmsg(s, &m, 0x80000000), EINVAL);
	ERR("sendmsg(-1, MSG_CMSG_COMPAT)", sendmsg(-1, &m, 0x80000000), EINVAL);
	ERR("sendmmsg(MSG_CMSG_COMPAT)", sendmmsg(s, (struct mmsghdr *)&m, 1, 0x80000000), EINVAL);
	ERR("sendmmsg(-1, MSG_CMSG_COMPAT)", sendmmsg(-1, (struct mmsghdr *)&m, 1, 0x80000000), EINVAL);
	/* IP-level control messages on UDP. */
	struct { struct cmsghdr h; int v; } ttl = {{CMSG_LEN(sizeof(int)), SOL_IP, IP_TTL}, 9};
	m.msg_control = &ttl;
	m.msg_controllen = sizeof ttl;
	VAL("sendmsg(IP_TTL 9)", sendmsg(s, &m, 0), 10);
	ttl.v = 0;
	ERR("sendmsg(IP_TTL 0)", sendmsg(s, &m, 0), EINVAL);
	ttl.v = 64;
	ttl.h.cmsg_type = IP_TOS;
	VAL("sendmsg(IP_TOS 64)", sendmsg(s, &m, 0), 10);
	ttl.h.cmsg_type = IP_PKTINFO;
	ERR("sendmsg(IP_PKTINFO, short)", sendmsg(s, &m, 0), EINVAL);
	ttl.h.cmsg_level = IPPROTO_UDP;
	ttl.h.cmsg_type = 12345;
	ERR("sendmsg(SOL_UDP unknown)", sendmsg(s, &m, 0), EINVAL);
	ttl.h.cmsg_level = IPPROTO_TCP;
	VAL("sendmsg(SOL_TCP unknown, ignored)", sendmsg(s, &m, 0), 10);
	ttl.h.cmsg_level = SOL_SOCKET;
	ERR("sendmsg(SOL_SOCKET unknown)", sendmsg(s, &m, 0), EINVAL);
	ttl.h.cmsg_level = SOL_IPV6;
	VAL("sendmsg(SOL_IPV6 on INET, ignored)", sendmsg(s, &m, 0), 10);
	close(s);

	/* The same on IPv6 UDP. */
	s = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 lo6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT, .sin6_port = unused_port(SOCK_DGRAM)};
	m.msg_name = &lo6;
	m.msg_namelen = sizeof lo6;
	ttl.h.cmsg_level = SOL_IPV6;
	ttl.h.cmsg_type = IPV6_HOPLIMIT;
	ttl.v = 7;
	VAL("INET6 sendmsg(IPV6_HOPLIMIT 7)", sendmsg(s, &m, 0), 10);
	ttl.v = 256;
	ERR("INET6 sendmsg(IPV6_HOPLIMIT 256)", sendmsg(s, &m, 0), EINVAL);
	ttl.v = 0;
	ttl.h.cmsg_type = IPV6_TCLASS;
	VAL("INET6 sendmsg(IPV6_TCLASS 0)", sendmsg(s, &m, 0), 10);
	ttl.h.cmsg_type = 12345;
	ERR("INET6 sendmsg(SOL_IPV6 unknown)", sendmsg(s, &m, 0), EINVAL);
	ttl.h.cmsg_level = SOL_IP;
	VAL("INET6 sendmsg(SOL_IP unknown, ignored)", sendmsg(s, &m, 0), 10);
	m.msg_control = NULL;
	m.msg_controllen = 0;
	m.msg_namelen = 8;
	ERR("INET6 sendmsg(namelen 8)", sendmsg(s, &m, 0), EINVAL);
	close(s);

	/* unix datagrams: rights, a zero-length control, a bad control. */
	struct sockaddr_un dst = {.sun_family = AF_UNIX};
	snprintf(dst.sun_path, sizeof dst.sun_path, "%s/dgram", sock_dir);
	int ud = socket(AF_UNIX, SOCK_DGRAM, 0);
	OK("unix bind(dgram)", bind(ud, (struct sockaddr *)&dst, sizeof dst));
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct { struct cmsghdr h; int fd; } rights = {{CMSG_LEN(sizeof(int)), SOL_SOCKET, SCM_RIGHTS}, 0};
	rights.fd = devnull();
	m.msg_name = &dst;
	m.msg_namelen = sizeof dst;
	m.msg_control = &rights;
	m.msg_controllen = rights.h.cmsg_len;
	VAL("unix sendmsg(rights)", sendmsg(s, &m, 0), 10);
	rights.h.cmsg_len = 0;
	m.msg_controllen = 0;
	VAL("unix sendmsg(controllen 0, cmsg_len 0)", sendmsg(s, &m, 0), 10);
	m.msg_control = (void *)-1;
	m.msg_controllen = 20;
	ERR("unix sendmsg(control -1)", sendmsg(s, &m, 0), EFAULT);
	m.msg_control = &rights;
	rights.h.cmsg_len = CMSG_LEN(sizeof(int));
	m.msg_controllen = rights.h.cmsg_len;
	rights.h.cmsg_level = SOL_IP;
	VAL("unix sendmsg(SOL_IP cmsg, ignored)", sendmsg(s, &m, 0), 10);
	close(rights.fd);
	close(s);
	close(ud);
	unlink(dst.sun_path);

	/* sendmmsg/recvmmsg: two datagrams, truncation of the second. */
	int r = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in rl = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = unused_port(SOCK_DGRAM)};
	OK("bind(UDP receiver)", bind(r, (struct sockaddr *)&rl, sizeof rl));
	s = socket(AF_INET, SOCK_DGRAM, 0);
	OK("connect(UDP sender)", connect(s, (struct sockaddr *)&rl, sizeof rl));
	struct iovec s1[2] = {{"one", 3}, {"two", 3}}, s2 = {"three3", 6};
	struct mmsghdr sm[2];
	memset(sm, 0, sizeof sm);
	sm[0].msg_hdr.msg_iov = s1;
	sm[0].msg_hdr.msg_iovlen = 2;
	sm[1].msg_hdr.msg_iov = &s2;
	sm[1].msg_hdr.msg_iovlen = 1;
	VAL("sendmmsg(2)", sendmmsg(s, sm, 2, 0), 2);
	VAL("  msg_len[0]", sm[0].msg_len, 6);
	VAL("  msg_len[1]", sm[1].msg_len, 6);
	ERR("sendmmsg(bad fd)", sendmmsg(-1, sm, 2, 0), EBADF);
	ERR("sendmmsg(bad vector)", sendmmsg(s, bad_addr, 2, 0), EFAULT);
	VAL("sendmmsg(vlen 0)", sendmmsg(s, sm, 0, 0), 0);
	char r1[6], r2[5];
	struct iovec ri1 = {r1, 6}, ri2 = {r2, 5};
	struct mmsghdr rm[2];
	memset(rm, 0, sizeof rm);
	rm[0].msg_hdr.msg_iov = &ri1;
	rm[0].msg_hdr.msg_iovlen = 1;
	rm[1].msg_hdr.msg_iov = &ri2;
	rm[1].msg_hdr.msg_iovlen = 1;
	struct timespec ts = {1, 0};
	VAL("recvmmsg(2, 1s)", recvmmsg(r, rm, 2, 0, &ts), 2);
	CHECK("  first is onetwo", memcmp(r1, "onetwo", 6) == 0 && rm[0].msg_len == 6);
	CHECK("  second is three (truncated)", memcmp(r2, "three", 5) == 0 && rm[1].msg_len == 5);
	VAL("  second msg_flags", rm[1].msg_hdr.msg_flags, MSG_TRUNC);
	close(s);
	close(r);
}

static long sys_recvmmsg(int fd, void *v, unsigned n, unsigned flags, void *ts) {
	return syscall(SYS_recvmmsg, fd, v, n, flags, ts);
}

static void test_recvmmsg(void) {
	int r = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in rl = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = unused_port(SOCK_DGRAM)};
	bind(r, (struct sockaddr *)&rl, sizeof rl);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	connect(s, (struct sockaddr *)&rl, sizeof rl);
	char b[16];
	struct iovec iv = {b, 1};
	struct mmsghdr m;
	memset(&m, 0, sizeof m);
	m.msg_hdr.msg_iov = &iv;
	m.msg_hdr.msg_iovlen = 1;
	VAL("sendmmsg(1)", sendmmsg(s, &m, 1, 0), 1);
	struct timespec zero = {0, 0}, negsec = {-1, 0}, bignsec = {1, 1000000001}, negnsec = {0, -1};
	ERR("recvmmsg(-1)", sys_recvmmsg(-1, &m, 1, 0, &zero), EBADF);
	ERR("recvmmsg(bad vector)", sys_recvmmsg(r, bad_addr, 1, 0, &zero), EFAULT);
	ERR("recvmmsg(tv_sec -1)", sys_recvmmsg(r, &m, 1, 0, &negsec), EINVAL);
	ERR("recvmmsg(tv_nsec 1000000001)", sys_recvmmsg(r, &m, 1, 0, &bignsec), EINVAL);
	ERR("recvmmsg(tv_nsec -1)", sys_recvmmsg(r, &m, 1, 0, &negnsec), EINVAL);
	ERR("recvmmsg(timeout bad)", sys_recvmmsg(r, &m, 1, 0, bad_addr), EFAULT);
	ERR("recvmmsg(-1, bad timeout)", sys_recvmmsg(-1, &m, 1, 0, bad_addr), EFAULT);
	ERR("recvmmsg(/dev/null... bad tv_sec)", sys_recvmmsg(-1, &m, 1, 0, &negsec), EINVAL);
	ERR("recvmmsg(bad flags)", sys_recvmmsg(r, &m, 1, 0x80000000, &zero), EINVAL);
	ERR("recvmmsg(-1, bad flags, bad timeout)", sys_recvmmsg(-1, &m, 1, 0x80000000, bad_addr), EINVAL);
	struct timespec keep = {5, 0};
	VAL("recvmmsg(vlen 0)", sys_recvmmsg(r, &m, 0, 0, &keep), 0);
	CHECK("  timeout untouched", keep.tv_sec == 5 && keep.tv_nsec == 0);
	VAL("recvmmsg(1, timeout 0)", sys_recvmmsg(r, &m, 1, 0, &zero), 1);
	CHECK("  timeout left 0", zero.tv_sec == 0 && zero.tv_nsec == 0);
	sendmmsg(s, &m, 1, 0);
	struct timespec ten = {10, 0};
	VAL("recvmmsg(1, timeout 10s)", sys_recvmmsg(r, &m, 1, 0, &ten), 1);
	CHECK("  timeout left between 9 and 10 s", ten.tv_sec == 9 || (ten.tv_sec == 10 && ten.tv_nsec == 0));
	VAL("  msg_len", m.msg_len, 1);
	/* Nothing queued: with MSG_DONTWAIT EAGAIN; with SO_RCVTIMEO the
	 * first receive times out. */
	ERR("recvmmsg(empty, DONTWAIT)", sys_recvmmsg(r, &m, 1, MSG_DONTWAIT, NULL), EAGAIN);
	struct timeval tv = {0, 100000};
	setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ERR("recvmmsg(empty, SO_RCVTIMEO 100ms)", sys_recvmmsg(r, &m, 1, 0, NULL), EAGAIN);
	struct timespec t2 = {0, 100000000};
	ERR("recvmmsg(empty, SO_RCVTIMEO, timeout 100ms)", sys_recvmmsg(r, &m, 1, 0, &t2), EAGAIN);
	/* One queued, two asked for, SO_RCVTIMEO: one comes back after the
	 * second receive times out. */
	sendmmsg(s, &m, 1, 0);
	struct mmsghdr two[2];
	memset(two, 0, sizeof two);
	two[0].msg_hdr.msg_iov = &iv;
	two[0].msg_hdr.msg_iovlen = 1;
	two[1].msg_hdr.msg_iov = &iv;
	two[1].msg_hdr.msg_iovlen = 1;
	VAL("recvmmsg(2, one queued, SO_RCVTIMEO)", sys_recvmmsg(r, two, 2, 0, NULL), 1);
	sendmmsg(s, &m, 1, 0);
	VAL("recvmmsg(2, one queued, WAITFORONE)", sys_recvmmsg(r, two, 2, MSG_WAITFORONE, NULL), 1);
	sendmmsg(s, &m, 1, 0);
	sendmmsg(s, &m, 1, 0);
	/* A fault on the second header after one datagram: 1. */
	struct mmsghdr *edge = (struct mmsghdr *)((char *)bad_addr - sizeof(struct mmsghdr));
	memset(edge, 0, sizeof *edge);
	edge->msg_hdr.msg_iov = &iv;
	edge->msg_hdr.msg_iovlen = 1;
	VAL("recvmmsg(2, second header faults)", sys_recvmmsg(r, edge, 2, 0, NULL), 1);
	SHOW("recvmmsg then reports the fault?", sys_recvmmsg(r, &m, 1, MSG_DONTWAIT, NULL));
	close(s);
	close(r);
}

static void test_sockopt(void) {
	int v = 1;
	socklen_t len = sizeof v;
	int nul = devnull();
	ERR("setsockopt(400)", setsockopt(400, SOL_SOCKET, SO_OOBINLINE, &v, sizeof v), EBADF);
	ERR("setsockopt(/dev/null)", setsockopt(nul, SOL_SOCKET, SO_OOBINLINE, &v, sizeof v), ENOTSOCK);
	ERR("getsockopt(400)", getsockopt(400, SOL_SOCKET, SO_OOBINLINE, &v, &len), EBADF);
	ERR("getsockopt(/dev/null)", getsockopt(nul, SOL_SOCKET, SO_OOBINLINE, &v, &len), ENOTSOCK);
	close(nul);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in any = {.sin_family = AF_INET};
	bind(s, (struct sockaddr *)&any, sizeof any);
	ERR("setsockopt(optval NULL)", setsockopt(s, SOL_SOCKET, SO_OOBINLINE, NULL, sizeof v), EFAULT);
	ERR("setsockopt(optval bad)", setsockopt(s, SOL_SOCKET, SO_OOBINLINE, bad_addr, sizeof v), EFAULT);
	ERR("setsockopt(optlen 0)", setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &v, 0), EINVAL);
	ERR("setsockopt(optlen -1)", setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &v, -1), EINVAL);
	ERR("setsockopt(level 500)", setsockopt(s, 500, SO_OOBINLINE, &v, sizeof v), ENOPROTOOPT);
	ERR("setsockopt(IPPROTO_UDP on TCP)", setsockopt(s, IPPROTO_UDP, SO_OOBINLINE, &v, sizeof v), ENOPROTOOPT);
	ERR("setsockopt(IPPROTO_IP, -1)", setsockopt(s, IPPROTO_IP, -1, &v, sizeof v), ENOPROTOOPT);
	ERR("setsockopt(IPPROTO_TCP, -1)", setsockopt(s, IPPROTO_TCP, -1, &v, sizeof v), ENOPROTOOPT);
	ERR("setsockopt(SOL_SOCKET, -1)", setsockopt(s, SOL_SOCKET, -1, &v, sizeof v), ENOPROTOOPT);
	ERR("setsockopt(SOL_SOCKET, 1000)", setsockopt(s, SOL_SOCKET, 1000, &v, sizeof v), ENOPROTOOPT);
	ERR("setsockopt(IPPROTO_IPV6 on INET TCP)", setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v), ENOPROTOOPT);
	OK("setsockopt(SO_OOBINLINE)", setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &v, sizeof v));
	v = 0;
	len = sizeof v;
	OK("getsockopt(SO_OOBINLINE)", getsockopt(s, SOL_SOCKET, SO_OOBINLINE, &v, &len));
	VAL("  value", v, 1);
	VAL("  len", len, 4);
	ERR("getsockopt(optval NULL)", getsockopt(s, SOL_SOCKET, SO_OOBINLINE, NULL, &len), EFAULT);
	ERR("getsockopt(optlen NULL)", getsockopt(s, SOL_SOCKET, SO_OOBINLINE, &v, NULL), EFAULT);
	ERR("getsockopt(optlen bad)", getsockopt(s, SOL_SOCKET, SO_OOBINLINE, &v, bad_addr), EFAULT);
	len = -1;
	ERR("getsockopt(optlen -1)", getsockopt(s, SOL_SOCKET, SO_OOBINLINE, &v, &len), EINVAL);
	len = sizeof v;
	ERR("getsockopt(level 500)", getsockopt(s, 500, SO_OOBINLINE, &v, &len), EOPNOTSUPP);
	ERR("getsockopt(SOL_SOCKET, -1)", getsockopt(s, SOL_SOCKET, -1, &v, &len), ENOPROTOOPT);
	ERR("getsockopt(IPPROTO_IP, -1)", getsockopt(s, IPPROTO_IP, -1, &v, &len), ENOPROTOOPT);
	ERR("getsockopt(IPPROTO_TCP, -1)", getsockopt(s, IPPROTO_TCP, -1, &v, &len), ENOPROTOOPT);
	SHOW("getsockopt(IPPROTO_UDP on TCP)", getsockopt(s, IPPROTO_UDP, 1, &v, &len));
	len = 0;
	OK("getsockopt(SO_TYPE, len 0)", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
	VAL("  len", len, 0);
	len = 2;
	v = 0;
	OK("getsockopt(SO_TYPE, len 2)", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
	VAL("  len", len, 2);
	VAL("  value", v, SOCK_STREAM);
	len = 100;
	OK("getsockopt(SO_TYPE, len 100)", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
	VAL("  len", len, 4);
	len = sizeof v;
	getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &len);
	VAL("SO_DOMAIN", v, AF_INET);
	getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &len);
	VAL("SO_PROTOCOL", v, IPPROTO_TCP);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len);
	VAL("SO_ERROR", v, 0);
	getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &len);
	VAL("SO_ACCEPTCONN", v, 0);
	ERR("setsockopt(SO_TYPE)", setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof v), ENOPROTOOPT);
	ERR("setsockopt(SO_ERROR)", setsockopt(s, SOL_SOCKET, SO_ERROR, &v, sizeof v), ENOPROTOOPT);

	/* Booleans read back as 0/1. */
	const struct { int level, name; const char *n; } bools[] = {
		{SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR"}, {SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE"},
		{SOL_SOCKET, SO_BROADCAST, "SO_BROADCAST"}, {SOL_SOCKET, SO_DONTROUTE, "SO_DONTROUTE"},
		{SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT"}, {SOL_SOCKET, SO_TIMESTAMP, "SO_TIMESTAMP"},
		{IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY"}, {IPPROTO_TCP, TCP_CORK, "TCP_CORK"},
		{IPPROTO_IP, IP_RECVTOS, "IP_RECVTOS"}, {IPPROTO_IP, IP_PKTINFO, "IP_PKTINFO"},
	};
	for (unsigned i = 0; i < sizeof bools / sizeof bools[0]; i++) {
		char d[64];
		int x = 0;
		len = sizeof x;
		getsockopt(s, bools[i].level, bools[i].name, &x, &len);
		snprintf(d, sizeof d, "%s default", bools[i].n);
		VAL(d, x, 0);
		x = 7;
		snprintf(d, sizeof d, "%s set 7", bools[i].n);
		OK(d, setsockopt(s, bools[i].level, bools[i].name, &x, sizeof x));
		len = sizeof x;
		getsockopt(s, bools[i].level, bools[i].name, &x, &len);
		snprintf(d, sizeof d, "%s reads", bools[i].n);
		VAL(d, x, 1);
	}

	/* Buffer sizes double; tiny ones are raised to the minimum. */
	v = 10000;
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
	len = sizeof v;
	getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len);
	VAL("SO_RCVBUF 10000 reads", v, 20000);
	v = 1;
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
	getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &len);
	VAL("SO_SNDBUF 1 reads", v, 4608);
	v = 1;
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
	getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len);
	VAL("SO_RCVBUF 1 reads", v, 2304);
	v = -256;
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
	getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &len);
	VAL("SO_SNDBUF -256 reads twice wmem_max", v, 8388608);
	v = 0xffffff00;
	OK("SO_SNDBUFFORCE 0xffffff00 as root", setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v));
	getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &len);
	VAL("  reads the minimum", v, 4608);
	v = 1 << 30;
	setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v);
	getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len);
	VAL("SO_RCVBUFFORCE 1<<30 reads", v, 2147483646);

	/* SO_LINGER. */
	struct linger lg = {1, 5}, lg2;
	OK("SO_LINGER set", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	len = sizeof lg2;
	getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &len);
	CHECK("SO_LINGER reads {1,5}", lg2.l_onoff == 1 && lg2.l_linger == 5 && len == sizeof lg2);
	ERR("SO_LINGER short", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, 4), EINVAL);

	/* Timeouts. */
	struct timeval tv = {1, 500000}, tv2;
	OK("SO_RCVTIMEO set", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	len = sizeof tv2;
	getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv2, &len);
	CHECK("SO_RCVTIMEO reads 1.5s", tv2.tv_sec == 1 && tv2.tv_usec == 500000 && len == sizeof tv2);
	tv.tv_usec = 1000000;
	ERR("SO_RCVTIMEO usec 1000000", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
	ERR("SO_SNDTIMEO short", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, 8), EINVAL);
	tv.tv_sec = -1;
	tv.tv_usec = 0;
	OK("SO_SNDTIMEO negative", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	len = sizeof tv2;
	getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv2, &len);
	CHECK("SO_SNDTIMEO negative reads 0", tv2.tv_sec == 0 && tv2.tv_usec == 0);

	/* TCP options. */
	v = 0;
	ERR("TCP_KEEPIDLE 0", setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v), EINVAL);
	v = 100;
	OK("TCP_KEEPIDLE 100", setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v));
	len = sizeof v;
	getsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len);
	VAL("TCP_KEEPIDLE reads", v, 100);
	ERR("TCP_NODELAY optlen 2", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, 2), EINVAL);
	v = 256;
	ERR("IP_TTL 256", setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof v), EINVAL);
	v = 0;
	ERR("IP_TTL 0", setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof v), EINVAL);
	v = 32;
	OK("IP_TTL 32", setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof v));
	len = sizeof v;
	getsockopt(s, IPPROTO_IP, IP_TTL, &v, &len);
	VAL("IP_TTL reads", v, 32);
	v = 0x0200;
	len = 3;
	OK("getsockopt(IP_TTL, len 3)", getsockopt(s, IPPROTO_IP, IP_TTL, &v, &len));
	VAL("  one byte written", v, 0x0220);
	VAL("  len", len, 1);
	len = 2;
	v = 0;
	OK("getsockopt(TCP_MAXSEG, len 2)", getsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &v, &len));
	VAL("  len", len, 2);
	len = -1;
	ERR("getsockopt(TCP_NODELAY, len -1)", getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len), EINVAL);
	len = sizeof v;
	v = -1;
	OK("IP_TTL -1", setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof v));
	getsockopt(s, IPPROTO_IP, IP_TTL, &v, &len);
	VAL("IP_TTL default", v, 64);
	close(s);

	s = socket(AF_INET, SOCK_DGRAM, 0);
	v = 1;
	ERR("UDP setsockopt(IPPROTO_TCP, TCP_NODELAY)", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), ENOPROTOOPT);
	len = sizeof v;
	ERR("UDP getsockopt(level 500)", getsockopt(s, 500, 1, &v, &len), EOPNOTSUPP);
	ERR("UDP setsockopt(level 500)", setsockopt(s, 500, 1, &v, sizeof v), ENOPROTOOPT);
	ERR("UDP getsockopt(IPPROTO_UDP, -1)", getsockopt(s, IPPROTO_UDP, -1, &v, &len), ENOPROTOOPT);
	ERR("UDP setsockopt(IPPROTO_UDP, -1)", setsockopt(s, IPPROTO_UDP, -1, &v, sizeof v), ENOPROTOOPT);
	len = sizeof v;
	ERR("UDP getsockopt(IPPROTO_TCP, TCP_NODELAY)", getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len), EOPNOTSUPP);
	getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len);
	VAL("UDP SO_TYPE", v, SOCK_DGRAM);
	getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &len);
	VAL("UDP SO_PROTOCOL", v, IPPROTO_UDP);
	close(s);
}

/* test_privilege runs in a child that dropped to nobody's effective ids:
 * the checks that need CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_NET_ADMIN. */
static void test_privilege(void) {
	/* nobody needs a directory it can reach: the one given may sit
	 * under directories only root may enter. */
	char pdir[] = "/tmp/ltpsockXXXXXX";
	if (!mkdtemp(pdir)) {
		printf("mkdtemp: FAIL %s\n", ename(errno));
		ukt_failures++;
		return;
	}
	chmod(pdir, 0777);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		ukt_failures = 0;
		if (setegid(65534) || seteuid(65534)) {
			printf("seteuid(nobody): FAIL %s\n", ename(errno));
			_exit(1);
		}
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY), .sin_port = htons(463)};
		ERR("nobody: bind(port 463)", bind(s, (struct sockaddr *)&a, sizeof a), EACCES);
		a.sin_port = 0;
		OK("nobody: bind(port 0)", bind(s, (struct sockaddr *)&a, sizeof a));
		int v = 7;
		ERR("nobody: SO_PRIORITY 7", setsockopt(s, SOL_SOCKET, SO_PRIORITY, &v, sizeof v), EPERM);
		ERR("nobody: SO_SNDBUFFORCE", setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v), EPERM);
		close(s);
		ERR("nobody: socket(INET, RAW, ICMP)", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
		ERR("nobody: socket(INET, RAW, 0)", socket(AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
		s = socket(AF_INET6, SOCK_DGRAM, 0);
		struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
		ERR("nobody: INET6 bind(port 80)", bind(s, (struct sockaddr *)&a6, sizeof a6), EACCES);
		close(s);

		/* connect03: a unix socket file nobody made, then took write
		 * permission from. */
		struct sockaddr_un un = {.sun_family = AF_UNIX};
		snprintf(un.sun_path, sizeof un.sun_path, "%s/sock", pdir);
		int srv = socket(AF_UNIX, SOCK_STREAM, 0);
		OK("nobody: unix bind", bind(srv, (struct sockaddr *)&un, sizeof un));
		OK("nobody: chmod 0700", chmod(un.sun_path, 0700));
		OK("nobody: unix listen", listen(srv, 5));
		int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
		ERR("nobody: unix DGRAM connect to STREAM", connect(dg, (struct sockaddr *)&un, sizeof un), EPROTOTYPE);
		OK("nobody: chmod 0500", chmod(un.sun_path, 0500));
		int st = socket(AF_UNIX, SOCK_STREAM, 0);
		ERR("nobody: unix connect without write permission", connect(st, (struct sockaddr *)&un, sizeof un), EACCES);
		close(st);
		close(dg);
		close(srv);
		unlink(un.sun_path);
		fflush(stdout);
		_exit(ukt_failures ? 1 : 0);
	}
	int st;
	waitpid(pid, &st, 0);
	rmdir(pdir);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("privilege child: FAIL\n");
		ukt_failures++;
	}
}

/* test_protocols: protocols that Linux serves with another's machinery,
 * and options of them. */
static void test_protocols(void) {
	int s = OK("socket(INET, DGRAM, UDPLITE)", socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE));
	int v = 0;
	socklen_t len = sizeof v;
	getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &len);
	VAL("  SO_PROTOCOL", v, IPPROTO_UDPLITE);
	close(s);
	s = OK("socket(INET6, DGRAM, UDPLITE)", socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDPLITE));
	close(s);
	ERR("socket(INET, STREAM, SCTP)", socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP), EPROTONOSUPPORT);
	s = OK("socket(INET, STREAM, MPTCP)", socket(AF_INET, SOCK_STREAM, 262));
	getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &len);
	VAL("  SO_PROTOCOL", v, 262);
	close(s);

	/* TCP_ULP with a name no module provides. */
	s = connected();
	ERR("TCP_ULP \"nosuch\"", setsockopt(s, SOL_TCP, TCP_ULP, "nosuch", 6), ENOENT);
	close(s);

	/* Multicast membership on a TCP socket (Linux keeps it per socket,
	 * and an accepted socket does not inherit it). */
	s = socket(AF_INET, SOCK_STREAM, 0);
	struct group_req gr;
	memset(&gr, 0, sizeof gr);
	struct sockaddr_in *g = (struct sockaddr_in *)&gr.gr_group;
	g->sin_family = AF_INET;
	g->sin_addr.s_addr = htonl(0xe0000000);
	OK("TCP MCAST_JOIN_GROUP 224.0.0.0", setsockopt(s, SOL_IP, MCAST_JOIN_GROUP, &gr, sizeof gr));
	ERR("TCP MCAST_JOIN_GROUP again", setsockopt(s, SOL_IP, MCAST_JOIN_GROUP, &gr, sizeof gr), EADDRINUSE);
	OK("TCP MCAST_LEAVE_GROUP", setsockopt(s, SOL_IP, MCAST_LEAVE_GROUP, &gr, sizeof gr));
	ERR("TCP MCAST_LEAVE_GROUP again", setsockopt(s, SOL_IP, MCAST_LEAVE_GROUP, &gr, sizeof gr), EADDRNOTAVAIL);
	ERR("TCP MCAST_JOIN_GROUP short", setsockopt(s, SOL_IP, MCAST_JOIN_GROUP, &gr, 8), EINVAL);
	g->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ERR("TCP MCAST_JOIN_GROUP unicast", setsockopt(s, SOL_IP, MCAST_JOIN_GROUP, &gr, sizeof gr), EINVAL);
	struct ip_mreqn mr = {.imr_multiaddr.s_addr = htonl(0xe0000001)};
	ERR("TCP IP_DROP_MEMBERSHIP", setsockopt(s, SOL_IP, IP_DROP_MEMBERSHIP, &mr, sizeof mr), EPROTO);
	ERR("TCP IP_ADD_MEMBERSHIP short", setsockopt(s, SOL_IP, IP_ADD_MEMBERSHIP, &mr, 4), EPROTO);
	ERR("TCP IP_ADD_MEMBERSHIP", setsockopt(s, SOL_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr), EPROTO);
	close(s);

	/* IPv6: the same rules, EADDRNOTAVAIL for a group of another
	 * family; UDP joins for real (on lo). */
	for (int t = 0; t < 2; t++) {
		const char *n = t ? "UDP6" : "TCP6";
		char d[96];
		s = socket(AF_INET6, t ? SOCK_DGRAM : SOCK_STREAM, 0);
		struct ipv6_mreq m6;
		inet_pton(AF_INET6, "ff02::1:3", &m6.ipv6mr_multiaddr);
		m6.ipv6mr_interface = 1;
		snprintf(d, sizeof d, "%s IPV6_ADD_MEMBERSHIP", n);
		SHOW(d, setsockopt(s, SOL_IPV6, IPV6_ADD_MEMBERSHIP, &m6, sizeof m6));
		snprintf(d, sizeof d, "%s IPV6_ADD_MEMBERSHIP short", n);
		ERR(d, setsockopt(s, SOL_IPV6, IPV6_ADD_MEMBERSHIP, &m6, 8), EINVAL);
		struct group_req g6;
		memset(&g6, 0, sizeof g6);
		g6.gr_interface = 1;
		struct sockaddr_in6 *gs = (struct sockaddr_in6 *)&g6.gr_group;
		gs->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "ff02::1:4", &gs->sin6_addr);
		snprintf(d, sizeof d, "%s MCAST_JOIN_GROUP", n);
		OK(d, setsockopt(s, SOL_IPV6, MCAST_JOIN_GROUP, &g6, sizeof g6));
		snprintf(d, sizeof d, "%s MCAST_JOIN_GROUP again", n);
		ERR(d, setsockopt(s, SOL_IPV6, MCAST_JOIN_GROUP, &g6, sizeof g6), EADDRINUSE);
		snprintf(d, sizeof d, "%s MCAST_LEAVE_GROUP", n);
		OK(d, setsockopt(s, SOL_IPV6, MCAST_LEAVE_GROUP, &g6, sizeof g6));
		snprintf(d, sizeof d, "%s MCAST_LEAVE_GROUP again", n);
		ERR(d, setsockopt(s, SOL_IPV6, MCAST_LEAVE_GROUP, &g6, sizeof g6), EADDRNOTAVAIL);
		gs->sin6_family = AF_INET;
		snprintf(d, sizeof d, "%s MCAST_JOIN_GROUP AF_INET group", n);
		ERR(d, setsockopt(s, SOL_IPV6, MCAST_JOIN_GROUP, &g6, sizeof g6), EADDRNOTAVAIL);
		gs->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "::1", &gs->sin6_addr);
		snprintf(d, sizeof d, "%s MCAST_JOIN_GROUP unicast", n);
		ERR(d, setsockopt(s, SOL_IPV6, MCAST_JOIN_GROUP, &g6, sizeof g6), EINVAL);
		close(s);
	}
}

/* test_more: MSG_MORE holds data back until a send without it, on TCP
 * (one read gets both) and UDP (one datagram), as send02 checks. */
static void test_more(void) {
	const char *names[] = {"TCP send", "UDP send", "UDP sendto", "UDP sendmsg"};
	for (int t = 0; t < 4; t++) {
		int type = t == 0 ? SOCK_STREAM : SOCK_DGRAM;
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t l = sizeof a;
		int ls = socket(AF_INET, type, 0);
		bind(ls, (struct sockaddr *)&a, l);
		getsockname(ls, (struct sockaddr *)&a, &l);
		if (t == 0)
			listen(ls, 1);
		int good = 1;
		for (int i = 0; i < 20 && good; i++) {
			int s = socket(AF_INET, type, 0);
			if (t < 2)
				connect(s, (struct sockaddr *)&a, l);
			int d = t == 0 ? accept(ls, NULL, NULL) : ls;
			char buf[16], rb[32];
			memset(buf, 0x42, sizeof buf);
			const int sizes[3] = {16, 16, 1}, flags[3] = {0, MSG_MORE, 0}, want[3] = {16, -1, 17};
			for (int k = 0; k < 3 && good; k++) {
				long r;
				struct iovec iv = {buf, sizes[k]};
				struct msghdr m = {.msg_name = &a, .msg_namelen = l, .msg_iov = &iv, .msg_iovlen = 1};
				if (t < 2)
					r = send(s, buf, sizes[k], flags[k]);
				else if (t == 2)
					r = sendto(s, buf, sizes[k], flags[k], (struct sockaddr *)&a, l);
				else
					r = sendmsg(s, &m, flags[k]);
				if (r != sizes[k])
					good = 0;
				long n;
				if (want[k] < 0) {
					n = recv(d, rb, sizeof rb, MSG_DONTWAIT);
					if (!(n == -1 && errno == EAGAIN))
						good = 0;
					continue;
				}
				struct pollfd p = {.fd = d, .events = POLLIN};
				poll(&p, 1, 2000);
				n = recv(d, rb, sizeof rb, MSG_DONTWAIT);
				if (n != want[k])
					good = 0;
			}
			close(s);
			if (d != ls)
				close(d);
		}
		close(ls);
		char desc[64];
		snprintf(desc, sizeof desc, "MSG_MORE, %s", names[t]);
		CHECK(desc, good);
	}
	/* An AF_UNSPEC destination is taken as IPv4 by UDP and raw sockets;
	 * the any address means this host. */
	int r = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ra = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t rl = sizeof ra;
	bind(r, (struct sockaddr *)&ra, rl);
	getsockname(r, (struct sockaddr *)&ra, &rl);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in unspec = ra;
	unspec.sin_family = AF_UNSPEC;
	VAL("UDP sendto(AF_UNSPEC loopback:port)", sendto(u, "ab", 2, 0, (struct sockaddr *)&unspec, sizeof unspec), 2);
	struct pollfd rp = {.fd = r, .events = POLLIN};
	poll(&rp, 1, 2000);
	char rb[8];
	VAL("  received", recv(r, rb, sizeof rb, MSG_DONTWAIT), 2);
	close(u);
	close(r);
	int raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	unsigned char junk[100];
	memset(junk, 0xcc, sizeof junk);
	struct iovec jv[4] = {{junk, 100}, {junk, 100}, {junk, 100}, {junk, 100}};
	struct sockaddr_in zero = {0};
	struct msghdr jm = {.msg_name = &zero, .msg_namelen = sizeof zero, .msg_iov = jv, .msg_iovlen = 4};
	VAL("raw ICMP sendmsg(zeroed sockaddr)", sendmsg(raw, &jm, 0), 400);
	close(raw);

	/* A corked datagram may not outgrow UDP. */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = unused_port(SOCK_DGRAM)};
	static char big[40000];
	VAL("sendto(40000, MSG_MORE)", sendto(s, big, sizeof big, MSG_MORE, (struct sockaddr *)&lo, sizeof lo), 40000);
	ERR("sendto(40000 more, MSG_MORE)", sendto(s, big, sizeof big, MSG_MORE, (struct sockaddr *)&lo, sizeof lo), EMSGSIZE);
	ERR("send(unconnected UDP, MSG_MORE)", send(s, big, 1, MSG_MORE), EDESTADDRREQ);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	int v = 0;
	socklen_t len = sizeof v;
	getsockopt(s, SOL_TCP, TCP_CORK, &v, &len);
	VAL("TCP_CORK default", v, 0);
	close(s);
}

/* test_misc: shutdown's errors and the SOL_SOCKET options programs
 * probe. */
static void test_misc(void) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	ERR("shutdown(unconnected TCP)", shutdown(s, SHUT_RDWR), ENOTCONN);
	ERR("shutdown(how 3)", shutdown(s, 3), EINVAL);
	ERR("shutdown(how -1)", shutdown(s, -1), EINVAL);
	int nul = devnull();
	ERR("shutdown(/dev/null)", shutdown(nul, SHUT_RD), ENOTSOCK);
	ERR("shutdown(400)", shutdown(400, SHUT_RD), EBADF);
	close(nul);
	struct { int pid, uid, gid; } cred = {7, 7, 7};
	socklen_t len = sizeof cred;
	SHOW("getsockopt(TCP, SO_PEERCRED)", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len));
	printf("  pid %d uid %d gid %d len %d\n", cred.pid, cred.uid, cred.gid, (int)len);
	int v = 0;
	len = sizeof v;
	SHOW("getsockopt(SO_RCVLOWAT)", getsockopt(s, SOL_SOCKET, SO_RCVLOWAT, &v, &len));
	printf("  = %d\n", v);
	SHOW("getsockopt(SO_SNDLOWAT)", getsockopt(s, SOL_SOCKET, SO_SNDLOWAT, &v, &len));
	printf("  = %d\n", v);
	v = 5;
	SHOW("setsockopt(SO_SNDLOWAT)", setsockopt(s, SOL_SOCKET, SO_SNDLOWAT, &v, sizeof v));
	char dev[IFNAMSIZ] = "x";
	len = sizeof dev;
	SHOW("getsockopt(SO_BINDTODEVICE) unbound", getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, dev, &len));
	printf("  len %d\n", (int)len);
	OK("setsockopt(SO_BINDTODEVICE lo)", setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
	len = sizeof dev;
	OK("getsockopt(SO_BINDTODEVICE)", getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, dev, &len));
	printf("  %s len %d\n", dev, (int)len);
	ERR("setsockopt(SO_BINDTODEVICE nosuch0)", setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "nosuch0", 8), ENODEV);
	len = sizeof v;
	v = -1;
	SHOW("getsockopt(SO_PEEK_OFF)", getsockopt(s, SOL_SOCKET, SO_PEEK_OFF, &v, &len));
	printf("  = %d\n", v);
	v = -1;
	SHOW("getsockopt(SO_PRIORITY)", getsockopt(s, SOL_SOCKET, SO_PRIORITY, &v, &len));
	printf("  = %d\n", v);
	struct linger lg = {9, 9};
	len = sizeof lg;
	OK("getsockopt(SO_LINGER) default", getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &len));
	printf("  {%d, %d} len %d\n", lg.l_onoff, lg.l_linger, (int)len);
	close(s);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	len = sizeof v;
	getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &len);
	VAL("UDP SO_SNDBUF default", v, 212992);
	getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len);
	VAL("UDP SO_RCVBUF default", v, 212992);
	ERR("shutdown(unconnected UDP)", shutdown(s, SHUT_WR), ENOTCONN);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &len);
	VAL("TCP SO_SNDBUF default", v, 16384);
	getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len);
	VAL("TCP SO_RCVBUF default", v, 131072);
	close(s);
}

/* optdump prints an option's value bytes (or its error). */
static void optdump(int s, int level, int name, const char *what) {
	unsigned char b[32];
	memset(b, 0xee, sizeof b);
	socklen_t l = sizeof b;
	errno = 0;
	if (getsockopt(s, level, name, b, &l) < 0) {
		printf("%s: -1 %s\n", what, ename(errno));
		return;
	}
	printf("%s: len %d", what, (int)l);
	for (int i = 0; i < (int)l && i < 8; i++)
		printf(" %02x", b[i]);
	printf("\n");
}

/* test_defaults: the default values of IP, IPv6 and socket options. */
static void test_defaults(void) {
	for (int t = 0; t < 2; t++) {
		int s = socket(AF_INET, t ? SOCK_DGRAM : SOCK_STREAM, 0);
		printf("== %s defaults\n", t ? "UDP" : "TCP");
		optdump(s, SOL_IP, IP_OPTIONS, "IP_OPTIONS");
		optdump(s, SOL_IP, IP_MTU, "IP_MTU");
		optdump(s, SOL_IP, IP_MULTICAST_IF, "IP_MULTICAST_IF");
		optdump(s, SOL_IP, IP_MULTICAST_ALL, "IP_MULTICAST_ALL");
		optdump(s, SOL_IP, IP_MULTICAST_TTL, "IP_MULTICAST_TTL");
		optdump(s, SOL_IP, IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP");
		optdump(s, SOL_IP, IP_RECVORIGDSTADDR, "IP_RECVORIGDSTADDR");
		optdump(s, SOL_IP, IP_MTU_DISCOVER, "IP_MTU_DISCOVER");
		optdump(s, SOL_IP, IP_TOS, "IP_TOS");
		optdump(s, SOL_IP, IP_RECVERR, "IP_RECVERR");
		optdump(s, SOL_IP, IP_FREEBIND, "IP_FREEBIND");
		optdump(s, SOL_IP, IP_HDRINCL, "IP_HDRINCL");
		optdump(s, SOL_IP, IP_RECVOPTS, "IP_RECVOPTS");
		optdump(s, SOL_SOCKET, SO_BUSY_POLL, "SO_BUSY_POLL");
		optdump(s, SOL_SOCKET, SO_INCOMING_CPU, "SO_INCOMING_CPU");
		optdump(s, SOL_SOCKET, SO_ZEROCOPY, "SO_ZEROCOPY");
		optdump(s, SOL_SOCKET, SO_RCVTIMEO, "SO_RCVTIMEO");
		if (!t) {
			optdump(s, SOL_TCP, TCP_MAXSEG, "TCP_MAXSEG");
			optdump(s, SOL_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE");
			optdump(s, SOL_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL");
			optdump(s, SOL_TCP, TCP_KEEPCNT, "TCP_KEEPCNT");
			optdump(s, SOL_TCP, TCP_SYNCNT, "TCP_SYNCNT");
			optdump(s, SOL_TCP, TCP_LINGER2, "TCP_LINGER2");
			optdump(s, SOL_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT");
			optdump(s, SOL_TCP, TCP_QUICKACK, "TCP_QUICKACK");
			optdump(s, SOL_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT");
			optdump(s, SOL_TCP, TCP_NOTSENT_LOWAT, "TCP_NOTSENT_LOWAT");
			optdump(s, SOL_TCP, TCP_FASTOPEN, "TCP_FASTOPEN");
		} else {
			struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(9)};
			connect(s, (struct sockaddr *)&lo, sizeof lo);
			optdump(s, SOL_IP, IP_MTU, "connected IP_MTU");
		}
		close(s);
	}
	int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	printf("== UDP6 defaults\n");
	optdump(s6, SOL_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY");
	optdump(s6, SOL_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS");
	optdump(s6, SOL_IPV6, IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS");
	optdump(s6, SOL_IPV6, IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP");
	optdump(s6, SOL_IPV6, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO");
	optdump(s6, SOL_IPV6, IPV6_TCLASS, "IPV6_TCLASS");
	optdump(s6, SOL_IPV6, IPV6_MTU, "IPV6_MTU");
	optdump(s6, SOL_IPV6, IPV6_MULTICAST_IF, "IPV6_MULTICAST_IF");
	optdump(s6, SOL_IPV6, IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT");
	optdump(s6, SOL_IPV6, IPV6_RECVTCLASS, "IPV6_RECVTCLASS");
	struct sockaddr_in6 lo6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT, .sin6_port = htons(9)};
	connect(s6, (struct sockaddr *)&lo6, sizeof lo6);
	optdump(s6, SOL_IPV6, IPV6_MTU, "connected IPV6_MTU");
	int v = 1;
	OK("IPV6_RECVHOPLIMIT on", setsockopt(s6, SOL_IPV6, IPV6_RECVHOPLIMIT, &v, sizeof v));
	optdump(s6, SOL_IPV6, IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT");
	close(s6);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct in_addr ifa = {htonl(INADDR_LOOPBACK)};
	OK("IP_MULTICAST_IF 127.0.0.1", setsockopt(u, SOL_IP, IP_MULTICAST_IF, &ifa, sizeof ifa));
	optdump(u, SOL_IP, IP_MULTICAST_IF, "IP_MULTICAST_IF");
	v = 9;
	ERR("IP_MTU_DISCOVER 9", setsockopt(u, SOL_IP, IP_MTU_DISCOVER, &v, sizeof v), EINVAL);
	close(u);
}

/* test_families: sockaddrs of the wrong family or length, in each call's
 * order of checks; IPv6 datagram sockets reaching IPv4 addresses. */
static void test_families(void) {
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = unused_port(SOCK_DGRAM)};
	char pad[28] = {0};
	memcpy(pad, &a4, sizeof a4);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT, .sin6_port = a4.sin_port};
	struct sockaddr_in6 f47 = a6, f0 = a6;
	f47.sin6_family = 47;
	f0.sin6_family = AF_UNSPEC;
	for (int t = 0; t < 2; t++) {
		const char *n = t ? "UDP6" : "TCP6";
		char d[96];
		int s = socket(AF_INET6, t ? SOCK_DGRAM : SOCK_STREAM | SOCK_NONBLOCK, 0);
#define F(what, expr) do { snprintf(d, sizeof d, "%s %s", n, what); SHOW(d, expr); } while (0)
		F("bind(sockaddr_in, 16)", bind(s, (struct sockaddr *)&a4, sizeof a4));
		F("bind(sockaddr_in, 28)", bind(s, (struct sockaddr *)pad, sizeof pad));
		F("bind(family 47)", bind(s, (struct sockaddr *)&f47, sizeof f47));
		F("bind(sockaddr_in6, 23)", bind(s, (struct sockaddr *)&a6, 23));
		F("connect(family 47)", connect(s, (struct sockaddr *)&f47, sizeof f47));
		F("connect(sockaddr_in6, 23)", connect(s, (struct sockaddr *)&a6, 23));
		F("connect(sockaddr_in, 28)", connect(s, (struct sockaddr *)pad, sizeof pad));
		if (t) {
			int u = socket(AF_INET6, SOCK_DGRAM, 0);
			F("sendto(AF_UNSPEC), unconnected", sendto(u, "x", 1, 0, (struct sockaddr *)&f0, sizeof f0));
			F("sendto(family 47)", sendto(u, "x", 1, 0, (struct sockaddr *)&f47, sizeof f47));
			F("sendto(sockaddr_in6, 23)", sendto(u, "x", 1, 0, (struct sockaddr *)&a6, 23));
			F("sendto(sockaddr_in, 15)", sendto(u, "x", 1, 0, (struct sockaddr *)&a4, 15));
			int r = socket(AF_INET, SOCK_DGRAM, 0);
			struct sockaddr_in ra = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
			socklen_t rl = sizeof ra;
			bind(r, (struct sockaddr *)&ra, rl);
			getsockname(r, (struct sockaddr *)&ra, &rl);
			F("sendto(sockaddr_in of an IPv4 socket)", sendto(u, "v4", 2, 0, (struct sockaddr *)&ra, sizeof ra));
			struct pollfd p = {.fd = r, .events = POLLIN};
			poll(&p, 1, 2000);
			char b[4];
			F("  the IPv4 socket receives it", recv(r, b, sizeof b, MSG_DONTWAIT));
			F("connect(sockaddr_in)", connect(u, (struct sockaddr *)&ra, sizeof ra));
			struct sockaddr_in6 peer;
			socklen_t pl = sizeof peer;
			getpeername(u, (struct sockaddr *)&peer, &pl);
			CHECK("  the peer is v4-mapped", pl == sizeof peer && IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr));
			int v = 1;
			int o = socket(AF_INET6, SOCK_DGRAM, 0);
			setsockopt(o, SOL_IPV6, IPV6_V6ONLY, &v, sizeof v);
			F("v6only sendto(sockaddr_in)", sendto(o, "x", 1, 0, (struct sockaddr *)&ra, sizeof ra));
			F("v6only connect(sockaddr_in)", connect(o, (struct sockaddr *)&ra, sizeof ra));
			close(o);
			close(r);
			close(u);
		}
#undef F
		close(s);
	}
	int s4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in f4 = {.sin_family = 47};
	SHOW("UDP bind(family 47, len 3)", bind(s4, (struct sockaddr *)&f4, 3));
	SHOW("UDP connect(family 47, len 3)", connect(s4, (struct sockaddr *)&f4, 3));
	SHOW("UDP sendto(family 47, len 3)", sendto(s4, "x", 1, 0, (struct sockaddr *)&f4, 3));
	SHOW("UDP sendto(sockaddr_in6)", sendto(s4, "x", 1, 0, (struct sockaddr *)&a6, sizeof a6));
	f4.sin_family = AF_UNSPEC;
	SHOW("UDP connect(AF_UNSPEC, len 2)", connect(s4, (struct sockaddr *)&f4, 2));
	close(s4);
}

/* pollnow prints what poll says of fd at once. */
static void pollnow(const char *what, int fd) {
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT | POLLPRI | POLLRDHUP};
	poll(&p, 1, 0);
	printf("poll %s: %#x\n", what, p.revents);
}

/* test_states: calls made in the wrong TCP state, and what poll says in
 * each state. */
static void test_states(void) {
	int f = socket(AF_INET, SOCK_STREAM, 0);
	pollnow("fresh TCP", f);
	struct sockaddr_in lo0 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(f, (struct sockaddr *)&lo0, sizeof lo0);
	pollnow("bound TCP", f);
	listen(f, 1);
	pollnow("listener", f);
	shutdown(f, SHUT_RDWR);
	pollnow("listener after shutdown", f);
	ERR("accept(listener after shutdown)", accept(f, NULL, NULL), EINVAL);
	close(f);
	f = socket(AF_INET, SOCK_STREAM, 0);
	ERR("shutdown(fresh TCP)", shutdown(f, SHUT_RDWR), ENOTCONN);
	pollnow("fresh TCP after shutdown", f);
	close(f);
	f = socket(AF_INET, SOCK_DGRAM, 0);
	pollnow("fresh UDP", f);
	close(f);

	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof lo;
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	bind(ls, (struct sockaddr *)&lo, l);
	listen(ls, 5);
	getsockname(ls, (struct sockaddr *)&lo, &l);
	ERR("connect(listener)", connect(ls, (struct sockaddr *)&srv_in, sizeof srv_in), EISCONN);
	ERR("bind(listener)", bind(ls, (struct sockaddr *)&lo, l), EINVAL);
	char b[4];
	ERR("recv(listener)", recv(ls, b, sizeof b, MSG_DONTWAIT), ENOTCONN);
	ERR("send(listener)", send(ls, b, 1, MSG_NOSIGNAL), EPIPE);
	int c = connected();
	ERR("bind(connected)", bind(c, (struct sockaddr *)&lo, l), EINVAL);
	OK("shutdown(connected, SHUT_RD)", shutdown(c, SHUT_RD));
	VAL("recv after SHUT_RD", recv(c, b, sizeof b, MSG_DONTWAIT), 4);
	OK("shutdown(connected, SHUT_WR)", shutdown(c, SHUT_WR));
	close(c);
	int a = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in any = {.sin_family = AF_INET};
	ERR("getpeername(listener)", getpeername(ls, (struct sockaddr *)&any, &l), ENOTCONN);
	close(a);
	OK("shutdown(listener)", shutdown(ls, SHUT_RDWR));
	close(ls);
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: ltp_socket DIR\n");
		return 2;
	}
	snprintf(sock_dir, sizeof sock_dir, "%s/ltpsock.%d", argv[1], 0);
	mkdir(sock_dir, 0700);
	signal(SIGPIPE, SIG_IGN);
	bad_addr = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* A writable page right below the bad one, for vectors that run into it. */
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(two + 4096, 4096, PROT_NONE);
	munmap(bad_addr, 4096);
	bad_addr = two + 4096;
	start_server();
	test_socket();
	test_socketpair();
	test_bind();
	test_listen();
	test_connect();
	test_accept();
	test_names();
	test_recv();
	test_recvfrom();
	test_recvmsg();
	test_send();
	test_recvmmsg();
	test_sockopt();
	test_privilege();
	test_protocols();
	test_more();
	test_misc();
	test_states();
	test_defaults();
	test_families();
	stop_server();
	rmdir(sock_dir);
	return ukt_exit();
}
