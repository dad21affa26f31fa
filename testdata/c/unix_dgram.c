/*
 * unix_dgram: AF_UNIX datagram and seqpacket sockets. Message boundaries,
 * MSG_TRUNC, sender addresses from recvfrom/recvmsg, connect and its
 * restrictions (EPERM, ECONNREFUSED after the peer closed, AF_UNSPEC),
 * the receive queue limit (EAGAIN), EMSGSIZE, sendmmsg/recvmmsg, seqpacket
 * listen/accept and EOF, shutdown, poll readiness and FIONREAD; write(2)
 * and writev(2) of a buffer that faults partway (EFAULT and nothing sent,
 * for stream sockets too: the peer never gets a message cut short).
 *
 * Socket files are made in a fresh directory under argv[1] (default /tmp).
 * With argv[2] "write-sigpipe" it also checks that write(2) on a seqpacket
 * socket whose peer closed fails with EPIPE and raises no SIGPIPE.
 */
#include "uktest.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

static socklen_t mkaddr(struct sockaddr_un *a, const char *path) {
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static const char *events(short ev) {
	static char buf[128];
	buf[0] = 0;
	if (ev & POLLIN) strcat(buf, "IN ");
	if (ev & POLLOUT) strcat(buf, "OUT ");
	if (ev & POLLERR) strcat(buf, "ERR ");
	if (ev & POLLHUP) strcat(buf, "HUP ");
	if (ev & POLLRDHUP) strcat(buf, "RDHUP ");
	if (!buf[0]) strcpy(buf, "none");
	return buf;
}

static void show_poll(const char *what, int fd) {
	struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
	poll(&p, 1, 0);
	printf("poll %s: %s\n", what, events(p.revents));
}

static void boundaries(int type, const char *name) {
	int sv[2];
	char buf[64];
	printf("-- %s boundaries\n", name);
	EXPECT_OK(socketpair(AF_UNIX, type, 0, sv));
	EXPECT_EQ(send(sv[0], "one", 3, 0), 3);
	EXPECT_EQ(send(sv[0], "second", 6, 0), 6);
	EXPECT_EQ(send(sv[0], "", 0, 0), 0);
	EXPECT_EQ(send(sv[0], "third message", 13, 0), 13);
	int n = -1;
	EXPECT_OK(ioctl(sv[1], FIONREAD, &n));
	printf("FIONREAD %d\n", n);
	EXPECT_EQ(recv(sv[1], buf, sizeof buf, 0), 3);
	EXPECT_EQ(recv(sv[1], buf, 2, MSG_PEEK), 2);
	EXPECT_EQ(recv(sv[1], buf, 2, MSG_PEEK | MSG_TRUNC), 6);
	EXPECT_EQ(recv(sv[1], buf, 2, 0), 2);
	EXPECT_EQ(recv(sv[1], buf, sizeof buf, 0), 0);
	struct iovec iov = {buf, 5};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	EXPECT_EQ(recvmsg(sv[1], &m, 0), 5);
	printf("msg_flags %#x\n", m.msg_flags);
	EXPECT_ERR(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	/* readv gathers one datagram into several buffers */
	EXPECT_EQ(send(sv[0], "abcdefgh", 8, 0), 8);
	char x[3] = {0}, y[8] = {0};
	struct iovec v2[2] = {{x, 2}, {y, 7}};
	EXPECT_EQ(readv(sv[1], v2, 2), 8);
	printf("readv: %.2s %s\n", x, y);
	/* sendmmsg/recvmmsg */
	struct mmsghdr mm[3];
	struct iovec iv[3] = {{"aa", 2}, {"bbb", 3}, {"c", 1}};
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 3; i++) {
		mm[i].msg_hdr.msg_iov = &iv[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	EXPECT_EQ(sendmmsg(sv[0], mm, 3, 0), 3);
	printf("sendmmsg lens %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
	char rb[3][8];
	struct iovec ri[3] = {{rb[0], 8}, {rb[1], 8}, {rb[2], 8}};
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 3; i++) {
		mm[i].msg_hdr.msg_iov = &ri[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	EXPECT_EQ(recvmmsg(sv[1], mm, 3, MSG_WAITFORONE, NULL), 3);
	printf("recvmmsg lens %u %u %u: %.2s %.3s %.1s\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len, rb[0], rb[1], rb[2]);
	EXPECT_EQ(send(sv[0], "z", 1, 0), 1);
	EXPECT_EQ(recvmmsg(sv[1], mm, 3, MSG_WAITFORONE, NULL), 1);
	/* a datagram larger than the send buffer */
	int sz = 4096;
	EXPECT_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz));
	static char big[20000];
	EXPECT_ERR(send(sv[0], big, sizeof big, 0), EMSGSIZE);
	close(sv[0]);
	close(sv[1]);
}

static void dgram_addresses(void) {
	printf("-- dgram addresses\n");
	struct sockaddr_un a, b, from;
	socklen_t al = mkaddr(&a, "a.sock"), bl = mkaddr(&b, "b.sock");
	int sa = socket(AF_UNIX, SOCK_DGRAM, 0), sb = socket(AF_UNIX, SOCK_DGRAM, 0), sc = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_OK(bind(sa, (struct sockaddr *)&a, al));
	EXPECT_OK(bind(sb, (struct sockaddr *)&b, bl));
	char buf[32] = {0};
	EXPECT_EQ(sendto(sa, "from a", 6, 0, (struct sockaddr *)&b, bl), 6);
	EXPECT_EQ(sendto(sc, "from c", 6, 0, (struct sockaddr *)&b, bl), 6);
	socklen_t fl = sizeof from;
	EXPECT_EQ(recvfrom(sb, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl), 6);
	printf("got %s from %s (len %d)\n", buf, from.sun_path, (int)fl);
	fl = sizeof from;
	memset(buf, 0, sizeof buf);
	EXPECT_EQ(recvfrom(sb, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl), 6);
	printf("got %s from unnamed (len %d)\n", buf, (int)fl);
	/* a short address buffer gets the full length back */
	EXPECT_EQ(sendto(sa, "x", 1, 0, (struct sockaddr *)&b, bl), 1);
	fl = 4;
	memset(&from, 0, sizeof from);
	EXPECT_EQ(recvfrom(sb, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl), 1);
	printf("short buffer: len %d, copied %.2s\n", (int)fl, from.sun_path);
	/* recvmsg reports the name too */
	EXPECT_EQ(sendto(sa, "y", 1, 0, (struct sockaddr *)&b, bl), 1);
	struct iovec iov = {buf, sizeof buf};
	struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
	EXPECT_EQ(recvmsg(sb, &m, 0), 1);
	printf("recvmsg name %s len %d\n", from.sun_path, (int)m.msg_namelen);

	EXPECT_ERR(send(sc, "x", 1, 0), ENOTCONN);
	EXPECT_OK(connect(sc, (struct sockaddr *)&a, al));
	struct sockaddr_un p;
	socklen_t pl = sizeof p;
	EXPECT_OK(getpeername(sc, (struct sockaddr *)&p, &pl));
	printf("peer %s\n", p.sun_path);
	EXPECT_EQ(send(sc, "conn", 4, 0), 4);
	EXPECT_EQ(recv(sa, buf, sizeof buf, 0), 4);
	/* sa connects to sb: now only sb may send to sa */
	EXPECT_OK(connect(sa, (struct sockaddr *)&b, bl));
	EXPECT_ERR(send(sc, "x", 1, 0), EPERM);
	EXPECT_EQ(sendto(sb, "ok", 2, 0, (struct sockaddr *)&a, al), 2);
	EXPECT_EQ(recv(sa, buf, sizeof buf, 0), 2);
	/* AF_UNSPEC dissolves the association */
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	EXPECT_OK(connect(sa, &unspec, sizeof unspec));
	pl = sizeof p;
	EXPECT_ERR(getpeername(sa, (struct sockaddr *)&p, &pl), ENOTCONN);
	EXPECT_EQ(send(sc, "again", 5, 0), 5);
	/* the receiver goes away */
	close(sa);
	EXPECT_ERR(send(sc, "x", 1, 0), ECONNREFUSED);
	EXPECT_ERR(send(sc, "x", 1, 0), ENOTCONN);
	EXPECT_ERR(sendto(sc, "x", 1, 0, (struct sockaddr *)&a, al), ECONNREFUSED);
	unlink("a.sock");
	EXPECT_ERR(sendto(sc, "x", 1, 0, (struct sockaddr *)&a, al), ENOENT);

	/* the queue of an unconnected receiver holds max_dgram_qlen+1 */
	int sd = socket(AF_UNIX, SOCK_DGRAM, 0);
	int sent = 0;
	for (int i = 0; i < 100; i++) {
		if (sendto(sd, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&b, bl) < 0) {
			printf("queue full after %d: %s\n", sent, errname(errno));
			break;
		}
		sent++;
	}
	show_poll("receiver with a full queue", sb);
	int n = 0;
	while (recv(sb, buf, sizeof buf, MSG_DONTWAIT) > 0)
		n++;
	printf("drained %d\n", n);
	close(sb);
	close(sc);
	close(sd);
	unlink("b.sock");

	/* a datagram socket connected to itself */
	int self = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_OK(bind(self, (struct sockaddr *)&a, al));
	EXPECT_OK(connect(self, (struct sockaddr *)&a, al));
	EXPECT_EQ(send(self, "me", 2, 0), 2);
	EXPECT_EQ(recv(self, buf, sizeof buf, 0), 2);
	close(self);
	unlink("a.sock");
}

static void dgram_pair_close(void) {
	printf("-- dgram pair close and shutdown\n");
	int sv[2];
	char buf[8];
	EXPECT_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	show_poll("dgram pair", sv[0]);
	EXPECT_OK(shutdown(sv[0], SHUT_WR));
	EXPECT_ERR(send(sv[0], "x", 1, 0), EPIPE);
	show_poll("peer of SHUT_WR", sv[1]);
	EXPECT_EQ(send(sv[1], "y", 1, 0), 1);
	EXPECT_OK(shutdown(sv[0], SHUT_RD));
	EXPECT_EQ(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), 1);
	EXPECT_ERR(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	EXPECT_EQ(recv(sv[0], buf, sizeof buf, 0), 0);
	show_poll("SHUT_RDWR dgram", sv[0]);
	EXPECT_ERR(send(sv[1], "y", 1, 0), EPIPE);
	close(sv[0]);
	EXPECT_ERR(send(sv[1], "x", 1, 0), ECONNREFUSED);
	show_poll("dgram whose peer closed", sv[1]);
	close(sv[1]);
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	show_poll("fresh dgram", s);
	close(s);
}

static int write_sigpipe;

static void seqpacket(void) {
	printf("-- seqpacket\n");
	struct sockaddr_un a;
	socklen_t al = mkaddr(&a, "sp.sock");
	int ls = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	EXPECT_OK(bind(ls, (struct sockaddr *)&a, al));
	EXPECT_OK(listen(ls, 4));
	int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	show_poll("fresh seqpacket", c);
	char buf[64];
	EXPECT_ERR(send(c, "x", 1, 0), ENOTCONN);
	EXPECT_ERR(recv(c, buf, 1, 0), ENOTCONN);
	int st = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_ERR(connect(st, (struct sockaddr *)&a, al), EPROTOTYPE);
	close(st);
	pid_t pid = fork();
	if (pid == 0) {
		int s = accept(ls, NULL, NULL);
		char b[64];
		ssize_t n;
		while ((n = recv(s, b, sizeof b, 0)) > 0) {
			if (send(s, b, n, 0) != n)
				_exit(3);
		}
		_exit(n == 0 ? 0 : 4);
	}
	EXPECT_OK(connect(c, (struct sockaddr *)&a, al));
	const char *msgs[] = {"first", "2", "the third record"};
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(send(c, msgs[i], strlen(msgs[i]), MSG_EOR), strlen(msgs[i]));
	for (int i = 0; i < 3; i++) {
		memset(buf, 0, sizeof buf);
		EXPECT_EQ(recv(c, buf, sizeof buf, 0), strlen(msgs[i]));
		printf("record: %s\n", buf);
	}
	EXPECT_OK(shutdown(c, SHUT_WR));
	int status;
	waitpid(pid, &status, 0);
	EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
	EXPECT_EQ(recv(c, buf, sizeof buf, 0), 0);
	EXPECT_EQ(recv(c, buf, sizeof buf, MSG_DONTWAIT), 0);
	show_poll("seqpacket after the peer closed", c);
	signal(SIGPIPE, SIG_DFL);
	EXPECT_ERR(send(c, "x", 1, 0), EPIPE);
	if (write_sigpipe) /* write(2) too raises no SIGPIPE on seqpacket */
		EXPECT_ERR(write(c, "x", 1), EPIPE);
	close(c);
	close(ls);
	unlink("sp.sock");
}

/* faulting_writes writes 20 bytes whose last 10 are not mapped to each
 * kind of socket pair, and says what the peer got. */
static void faulting_writes(void) {
	char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(m + 4096, 4096);
	memset(m, 'a', 4096);
	int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
	const char *names[] = {"stream", "dgram", "seqpacket"};
	for (int i = 0; i < 3; i++) {
		int s[2];
		socketpair(AF_UNIX, types[i], 0, s);
		char b[64];
		long r = write(s[0], m + 4086, 20);
		int e = errno;
		long got = recv(s[1], b, sizeof b, MSG_DONTWAIT);
		printf("%s write of a faulting buffer: %ld %s, the peer got %ld\n", names[i], r, r < 0 ? errname(e) : "", got);
		struct iovec v[2] = {{m, 10}, {m + 4096, 10}};
		r = writev(s[0], v, 2);
		e = errno;
		got = recv(s[1], b, sizeof b, MSG_DONTWAIT);
		printf("%s writev of a faulting vector: %ld %s, the peer got %ld\n", names[i], r, r < 0 ? errname(e) : "", got);
		close(s[0]);
		close(s[1]);
	}
	munmap(m, 4096);
}

int main(int argc, char **argv) {
	faulting_writes();
	const char *base = argc > 1 ? argv[1] : "/tmp";
	write_sigpipe = argc > 2 && strcmp(argv[2], "write-sigpipe") == 0;
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/ukdgramXXXXXX", base);
	if (!mkdtemp(dir) || chdir(dir) < 0) {
		printf("FAIL: cannot make a directory under %s\n", base);
		return 1;
	}
	boundaries(SOCK_DGRAM, "dgram");
	boundaries(SOCK_SEQPACKET, "seqpacket");
	dgram_addresses();
	dgram_pair_close();
	seqpacket();
	chdir("/");
	if (rmdir(dir) < 0)
		printf("rmdir: FAIL %s\n", errname(errno));
	return ukt_exit();
}
