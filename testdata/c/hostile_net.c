/*
 * hostile_net: make the kernel's network stack hold as much as it will for
 * a program that never reads: TCP loopback connections whose both ends
 * are filled without reading, connections left unaccepted in a listen
 * backlog and filled, and UDP sockets flooded with datagrams. Every socket
 * asks for the largest buffers (SO_SNDBUF/SO_RCVBUF); the program never
 * reads anything back. Run it only under uk with a small --mem
 * (hostile_net_test.go does).
 *
 * What a safe kernel does: it charges the memory of socket buffers to the
 * sandbox (Linux's socket memory limits, tcp_mem/udp_mem with memory
 * cgroups), so once the sandbox's memory is spent a send fails (EAGAIN on
 * a non-blocking socket, ENOBUFS; a new socket may get ENOMEM) or a
 * datagram is dropped, and the
 * kernel's own footprint stays within a fixed bound above the sandbox's
 * memory limit however many sockets are filled.
 *
 *   hostile_net tcp N      N connected pairs, both ends filled without
 *                          blocking until sends fail
 *   hostile_net backlog N  N connections a listener never accepts, each
 *                          client filled without blocking
 *   hostile_net udp N      N UDP receivers, 64 KiB datagrams sent to each
 *                          until 256 sends to each were made or refused
 *
 * Each mode prints one deterministic line saying that every socket is
 * full (or how the sends stopped), and ends within a few seconds.
 */
#include "uktest.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define MiB (1L << 20)

static char chunk[64 << 10];

/* bigbufs asks for the largest socket buffers an unprivileged program
 * gets (Linux caps them at wmem_max/rmem_max). */
static void bigbufs(int fd) {
	int v = 64 * MiB;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
}

static void nonblock(int fd) {
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int listener(int backlog, struct sockaddr_in *sa) {
	int l = socket(AF_INET, SOCK_STREAM, 0);
	bigbufs(l);
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof *sa;
	if (bind(l, (struct sockaddr *)sa, len) || listen(l, backlog) ||
	    getsockname(l, (struct sockaddr *)sa, &len)) {
		printf("FAIL listener: %s\n", errname(errno));
		exit(1);
	}
	return l;
}

/* spent reports whether err is how a kernel says its memory is spent. */
static int spent(int err) {
	return err == EAGAIN || err == ENOBUFS || err == ENOMEM;
}

/* dial connects a new socket to sa; -1 with *err set when the kernel
 * refused the socket or the connection for want of memory. */
static int dial(struct sockaddr_in *sa, int *err) {
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 && spent(errno)) {
		*err = errno;
		return -1;
	}
	bigbufs(c);
	if (connect(c, (struct sockaddr *)sa, sizeof *sa)) {
		if (spent(errno)) {
			*err = errno;
			close(c);
			return -1;
		}
		printf("FAIL connect: %s\n", errname(errno));
		exit(1);
	}
	nonblock(c);
	return c;
}

/* fill writes to fd until a send fails, returning the bytes written; *err
 * is the errno that stopped it. */
static long fill(int fd, int *err) {
	long total = 0;
	for (;;) {
		ssize_t n = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
		if (n < 0) {
			*err = errno;
			return total;
		}
		total += n;
	}
}

/* report prints how the sends stopped: EAGAIN, ENOBUFS and ENOMEM are all
 * what a kernel out of socket memory may answer, so they print the same. */
static void report(const char *mode, long total, int err) {
	if (!spent(err)) {
		printf("%s: stopped by %s\n", mode, errname(err));
		return;
	}
	fprintf(stderr, "%s: kernel holds %ld MiB\n", mode, total / MiB);
	printf("%s: every socket full\n", mode);
}

static void tcp(int n) {
	struct sockaddr_in sa;
	int l = listener(n, &sa);
	long total = 0;
	int err = 0;
	for (int i = 0; i < n; i++) {
		int c = dial(&sa, &err);
		if (c < 0)
			break;
		int s = accept(l, NULL, NULL);
		if (s < 0) {
			if (spent(errno)) {
				err = errno;
				break;
			}
			printf("FAIL accept: %s\n", errname(errno));
			exit(1);
		}
		bigbufs(s);
		nonblock(s);
		total += fill(c, &err);
		if (!spent(err))
			break;
		total += fill(s, &err);
		if (!spent(err))
			break;
	}
	report("tcp", total, err);
}

static void backlog(int n) {
	struct sockaddr_in sa;
	listener(n, &sa);
	long total = 0;
	int err = 0;
	for (int i = 0; i < n; i++) {
		int c = dial(&sa, &err);
		if (c < 0)
			break;
		total += fill(c, &err);
		if (!spent(err))
			break;
	}
	report("backlog", total, err);
}

static void udp(int n) {
	int *rx = calloc(n, sizeof *rx);
	struct sockaddr_in *sa = calloc(n, sizeof *sa);
	for (int i = 0; i < n; i++) {
		rx[i] = socket(AF_INET, SOCK_DGRAM, 0);
		bigbufs(rx[i]);
		sa[i].sin_family = AF_INET;
		sa[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t len = sizeof sa[i];
		if (bind(rx[i], (struct sockaddr *)&sa[i], len) || getsockname(rx[i], (struct sockaddr *)&sa[i], &len)) {
			printf("FAIL udp bind: %s\n", errname(errno));
			exit(1);
		}
	}
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	bigbufs(tx);
	nonblock(tx);
	long sent = 0;
	for (int round = 0; round < 256; round++)
		for (int i = 0; i < n; i++) {
			ssize_t r = sendto(tx, chunk, 60000, 0, (struct sockaddr *)&sa[i], sizeof sa[i]);
			if (r > 0)
				sent += r;
			else if (!spent(errno)) {
				printf("udp: stopped by %s\n", errname(errno));
				return;
			}
		}
	fprintf(stderr, "udp: sent %ld MiB\n", sent / MiB);
	printf("udp: every socket full\n");
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: hostile_net tcp|backlog|udp [N]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 100;
	memset(chunk, 'n', sizeof chunk);
	printf("hostile_net %s\n", argv[1]);
	if (!strcmp(argv[1], "tcp"))
		tcp(n);
	else if (!strcmp(argv[1], "backlog"))
		backlog(n);
	else if (!strcmp(argv[1], "udp"))
		udp(n);
	else {
		fprintf(stderr, "hostile_net: unknown mode %s\n", argv[1]);
		return 2;
	}
	return 0;
}
