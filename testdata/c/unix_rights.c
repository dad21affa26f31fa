/*
 * unix_rights: ancillary data on AF_UNIX sockets and blocking behaviour.
 * SCM_RIGHTS passes open file descriptions between processes (a pipe end,
 * a file with its offset, a socket), MSG_CMSG_CLOEXEC, MSG_CTRUNC when the
 * control buffer is short, EBADF for a bad fd; SCM_CREDENTIALS with
 * SO_PASSCRED (default and explicit credentials, EPERM for a forged pid);
 * blocking accept, recv and poll/epoll woken by another process; a signal
 * interrupting a blocking recv (EINTR without SA_RESTART).
 *
 * Socket files are made in a fresh directory under argv[1] (default /tmp).
 */
#include "uktest.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

static int send_fds(int s, const int *fds, int n, const char *data) {
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec iov = {(void *)data, strlen(data)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return sendmsg(s, &m, 0);
}

/* recv_fds receives one message and returns the number of fds in it. */
static int recv_fds(int s, int *fds, size_t ctl, int flags, int *msgflags, char *data, size_t dlen) {
	char cbuf[512];
	struct iovec iov = {data, dlen};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl ? cbuf : NULL, .msg_controllen = ctl};
	ssize_t r = recvmsg(s, &m, flags);
	if (r < 0)
		return -1;
	if (dlen)
		data[r < (ssize_t)dlen ? r : (ssize_t)dlen - 1] = 0;
	*msgflags = m.msg_flags;
	int n = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds + n, CMSG_DATA(c), k * sizeof(int));
			n += k;
		}
	}
	return n;
}

static void rights_between_processes(void) {
	printf("-- SCM_RIGHTS between processes\n");
	int sv[2];
	EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		int fds[8], fl;
		char data[32];
		int n = recv_fds(sv[1], fds, 512, 0, &fl, data, sizeof data);
		if (n != 3)
			_exit(20 + (n < 0 ? 9 : n));
		/* fds[0]: pipe write end; fds[1]: file at offset 5; fds[2]: socket */
		if (write(fds[0], "via passed pipe", 15) != 15)
			_exit(3);
		char buf[16] = {0};
		if (read(fds[1], buf, 5) != 5 || memcmp(buf, "56789", 5) != 0)
			_exit(4);
		if (write(fds[2], "sock", 4) != 4)
			_exit(5);
		_exit(strcmp(data, "three fds") == 0 ? 0 : 6);
	}
	close(sv[1]);
	int p[2];
	pipe(p);
	int f = open("file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(f, "0123456789", 10);
	lseek(f, 5, SEEK_SET);
	int sp[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	int fds[3] = {p[1], f, sp[1]};
	EXPECT_EQ(send_fds(sv[0], fds, 3, "three fds"), 9);
	close(p[1]);
	close(sp[1]);
	int status;
	waitpid(pid, &status, 0);
	EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
	char buf[32] = {0};
	EXPECT_EQ(read(p[0], buf, sizeof buf), 15);
	printf("pipe got: %s\n", buf);
	EXPECT_EQ(read(p[0], buf, sizeof buf), 0);
	EXPECT_EQ(lseek(f, 0, SEEK_CUR), 10);
	EXPECT_EQ(recv(sp[0], buf, sizeof buf, 0), 4);
	close(p[0]);
	close(f);
	close(sp[0]);
	close(sv[0]);
	unlink("file");
}

static void rights_details(void) {
	printf("-- SCM_RIGHTS details\n");
	int sv[2], fds[8], fl;
	char data[16];
	EXPECT_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	int one[1] = {0};
	EXPECT_EQ(send_fds(sv[0], one, 1, "a"), 1);
	int n = recv_fds(sv[1], fds, 512, MSG_CMSG_CLOEXEC, &fl, data, sizeof data);
	EXPECT_EQ(n, 1);
	printf("msg_flags %#x\n", fl);
	EXPECT_EQ(fcntl(fds[0], F_GETFD), FD_CLOEXEC);
	struct stat a, b;
	fstat(0, &a);
	fstat(fds[0], &b);
	CHECK("received fd is the same file", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(fds[0]);

	/* no room for the fds: MSG_CTRUNC, and they are closed */
	int three[3] = {0, 1, 2};
	EXPECT_EQ(send_fds(sv[0], three, 3, "b"), 1);
	int before = dup(0);
	close(before);
	n = recv_fds(sv[1], fds, CMSG_LEN(sizeof(int) * 2), 0, &fl, data, sizeof data);
	EXPECT_EQ(n, 2);
	printf("short control: flags %#x\n", fl);
	close(fds[0]);
	close(fds[1]);
	EXPECT_EQ(send_fds(sv[0], three, 3, "c"), 1);
	n = recv_fds(sv[1], fds, 0, 0, &fl, data, sizeof data);
	EXPECT_EQ(n, 0);
	printf("no control buffer: flags %#x\n", fl);
	EXPECT_EQ(dup(0), before);
	close(before);

	/* MSG_PEEK leaves the fds for the real read */
	EXPECT_EQ(send_fds(sv[0], one, 1, "d"), 1);
	n = recv_fds(sv[1], fds, 512, MSG_PEEK, &fl, data, sizeof data);
	EXPECT_EQ(n, 1);
	close(fds[0]);
	n = recv_fds(sv[1], fds, 512, 0, &fl, data, sizeof data);
	EXPECT_EQ(n, 1);
	close(fds[0]);

	int bad[1] = {99};
	EXPECT_ERR(send_fds(sv[0], bad, 1, "e"), EBADF);
	/* a malformed control message */
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec iov = {"f", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = 77;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	EXPECT_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = sizeof cbuf + 8;
	EXPECT_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	EXPECT_ERR(recv(sv[1], data, sizeof data, MSG_DONTWAIT), EAGAIN);

	/* rights travel on a stream too, and end the read they arrive with */
	int st[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, st);
	EXPECT_EQ(write(st[0], "plain", 5), 5);
	EXPECT_EQ(send_fds(st[0], one, 1, "withfd"), 6);
	EXPECT_EQ(write(st[0], "after", 5), 5);
	n = recv_fds(st[1], fds, 512, 0, &fl, data, sizeof data);
	printf("stream read 1: %d fds, data %s\n", n, data);
	if (n > 0)
		close(fds[0]);
	n = recv_fds(st[1], fds, 512, 0, &fl, data, sizeof data);
	printf("stream read 2: %d fds, data %s\n", n, data);
	close(st[0]);
	close(st[1]);
	close(sv[0]);
	close(sv[1]);
}

static void credentials(void) {
	printf("-- SCM_CREDENTIALS\n");
	int sv[2], on = 1;
	EXPECT_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	EXPECT_OK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
	pid_t pid = fork();
	if (pid == 0) {
		send(sv[0], "hi", 2, 0);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	char data[8], cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {data, sizeof data};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	EXPECT_EQ(recvmsg(sv[1], &m, 0), 2);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	CHECK("credentials arrive", c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
					     c->cmsg_len == CMSG_LEN(sizeof(struct ucred)));
	struct ucred u;
	memcpy(&u, CMSG_DATA(c), sizeof u);
	CHECK("credentials are the sender's", u.pid == pid && u.uid == getuid() && u.gid == getgid());
	EXPECT_EQ(m.msg_controllen, CMSG_SPACE(sizeof(struct ucred)));

	/* explicit credentials: our own are fine, a forged pid is not */
	struct ucred mine = {getpid(), getuid(), getgid()};
	char sb[CMSG_SPACE(sizeof(struct ucred))];
	memset(sb, 0, sizeof sb);
	struct iovec siov = {"x", 1};
	struct msghdr sm = {.msg_iov = &siov, .msg_iovlen = 1, .msg_control = sb, .msg_controllen = sizeof sb};
	c = CMSG_FIRSTHDR(&sm);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof mine);
	memcpy(CMSG_DATA(c), &mine, sizeof mine);
	EXPECT_EQ(sendmsg(sv[0], &sm, 0), 1);
	m.msg_controllen = sizeof cbuf;
	EXPECT_EQ(recvmsg(sv[1], &m, 0), 1);
	memcpy(&u, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof u);
	CHECK("explicit credentials", u.pid == getpid());
	if (getuid() != 0) {
		mine.pid = 1;
		memcpy(CMSG_DATA(c), &mine, sizeof mine);
		EXPECT_ERR(sendmsg(sv[0], &sm, 0), EPERM);
	}
	/* a control buffer too small for the credentials */
	send(sv[0], "y", 1, 0);
	m.msg_controllen = 8;
	EXPECT_EQ(recvmsg(sv[1], &m, 0), 1);
	printf("tiny control: flags %#x controllen %d\n", m.msg_flags, (int)m.msg_controllen);
	close(sv[0]);
	close(sv[1]);
}

static void on_alarm(int sig) { (void)sig; }

static void blocking(void) {
	printf("-- blocking and readiness\n");
	struct sockaddr_un a;
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, "block.sock");
	socklen_t al = offsetof(struct sockaddr_un, sun_path) + strlen(a.sun_path) + 1;
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(ls, (struct sockaddr *)&a, al);
	listen(ls, 1);
	int ep = EXPECT_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
	EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev));
	pid_t pid = fork();
	if (pid == 0) {
		usleep(20000);
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, al) < 0)
			_exit(1);
		usleep(20000);
		write(c, "late", 4);
		usleep(20000);
		close(c);
		_exit(0);
	}
	struct epoll_event out;
	EXPECT_EQ(epoll_wait(ep, &out, 1, 5000), 1);
	EXPECT_EQ(out.data.u32, 7);
	int s = EXPECT_OK(accept(ls, NULL, NULL));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
	ev.data.u32 = 8;
	EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	EXPECT_EQ(epoll_wait(ep, &out, 1, 5000), 1);
	printf("epoll data %u events %#x\n", out.data.u32, out.events);
	char buf[8];
	EXPECT_EQ(read(s, buf, sizeof buf), 4);
	EXPECT_EQ(epoll_wait(ep, &out, 1, 5000), 1);
	printf("epoll after close: events %#x\n", out.events);
	struct pollfd p = {s, POLLIN | POLLRDHUP, 0};
	EXPECT_EQ(poll(&p, 1, 5000), 1);
	printf("poll after close: %#x\n", p.revents);
	EXPECT_EQ(read(s, buf, sizeof buf), 0);
	waitpid(pid, NULL, 0);
	close(s);
	close(ep);

	/* a blocking accept woken by a connect from another process */
	pid = fork();
	if (pid == 0) {
		usleep(20000);
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		_exit(connect(c, (struct sockaddr *)&a, al) < 0);
	}
	s = EXPECT_OK(accept(ls, NULL, NULL));
	waitpid(pid, NULL, 0);
	close(s);

	/* a signal interrupts a blocking recv: EINTR without SA_RESTART */
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 0}, {0, 30000}};
	setitimer(ITIMER_REAL, &it, NULL);
	EXPECT_ERR(recv(sv[0], buf, 1, 0), EINTR);
	/* with SO_RCVTIMEO set, even SA_RESTART gives EINTR (Linux's rule) */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct timeval tv = {5, 0};
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setitimer(ITIMER_REAL, &it, NULL);
	EXPECT_ERR(recv(sv[0], buf, 1, 0), EINTR);
	close(sv[0]);
	close(sv[1]);
	close(ls);
	unlink("block.sock");
}

int main(int argc, char **argv) {
	const char *base = argc > 1 ? argv[1] : "/tmp";
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/ukrightsXXXXXX", base);
	if (!mkdtemp(dir) || chdir(dir) < 0) {
		printf("FAIL: cannot make a directory under %s\n", base);
		return 1;
	}
	rights_between_processes();
	rights_details();
	credentials();
	blocking();
	chdir("/");
	if (rmdir(dir) < 0)
		printf("rmdir: FAIL %s\n", errname(errno));
	return ukt_exit();
}
