/*
 * unix_stream: AF_UNIX stream sockets. A server and a client process
 * (fork) echo over a path name; names (getsockname/getpeername encodings for
 * path, abstract, autobound and unnamed sockets); the errno values of bind,
 * connect, listen and accept; shutdown and close semantics (EOF, EPIPE and
 * SIGPIPE, MSG_NOSIGNAL, ECONNRESET); MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT;
 * FIONREAD; poll readiness; SO_* options; SO_PEERCRED; fstat.
 *
 * Socket files are made in a fresh directory under argv[1] (default /tmp).
 */
#include "uktest.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

static socklen_t mkaddr(struct sockaddr_un *a, const char *path) {
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static char abstract_name[64];

static socklen_t mkabstract(struct sockaddr_un *a, const char *suffix) {
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "%s%s", abstract_name, suffix);
	return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

static int sigpipes;
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }

static const char *events(short ev) {
	static char buf[128];
	buf[0] = 0;
	if (ev & POLLIN) strcat(buf, "IN ");
	if (ev & POLLOUT) strcat(buf, "OUT ");
	if (ev & POLLERR) strcat(buf, "ERR ");
	if (ev & POLLHUP) strcat(buf, "HUP ");
	if (ev & POLLRDHUP) strcat(buf, "RDHUP ");
	if (ev & POLLNVAL) strcat(buf, "NVAL ");
	if (!buf[0]) strcpy(buf, "none");
	return buf;
}

static void show_poll(const char *what, int fd) {
	struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
	poll(&p, 1, 0);
	printf("poll %s: %s\n", what, events(p.revents));
}

static int getint(int fd, int opt) {
	int v = -1;
	socklen_t l = sizeof v;
	if (getsockopt(fd, SOL_SOCKET, opt, &v, &l) < 0)
		return -1000 - errno;
	return v;
}

static void echo_between_processes(void) {
	struct sockaddr_un a;
	socklen_t al = mkaddr(&a, "echo.sock");
	int ls = EXPECT_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	EXPECT_OK(bind(ls, (struct sockaddr *)&a, al));
	EXPECT_OK(listen(ls, 5));
	EXPECT_EQ(getint(ls, SO_ACCEPTCONN), 1);
	struct stat st;
	EXPECT_OK(stat("echo.sock", &st));
	CHECK("bound path is a socket inode", S_ISSOCK(st.st_mode));
	EXPECT_ERR(open("echo.sock", O_RDWR), ENXIO);

	pid_t pid = fork();
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, al) < 0)
			_exit(10);
		char buf[256];
		for (;;) {
			ssize_t n = read(c, buf, sizeof buf);
			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n; i++)
				buf[i] = buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i];
			if (write(c, buf, n) != n)
				_exit(11);
		}
		struct ucred cr;
		socklen_t l = sizeof cr;
		getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &l);
		_exit(cr.pid == getppid() ? 0 : 12);
	}
	struct sockaddr_un peer;
	socklen_t pl = sizeof peer;
	int s = EXPECT_OK(accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC));
	EXPECT_EQ(pl, sizeof(sa_family_t));
	EXPECT_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
	struct ucred cr;
	socklen_t cl = sizeof cr;
	EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cl));
	EXPECT_EQ(cl, sizeof cr);
	CHECK("SO_PEERCRED pid is the client", cr.pid == pid);
	CHECK("SO_PEERCRED uid/gid", cr.uid == geteuid() && cr.gid == getegid());
	struct sockaddr_un me;
	socklen_t ml = sizeof me;
	EXPECT_OK(getsockname(s, (struct sockaddr *)&me, &ml));
	EXPECT_EQ(ml, al);
	CHECK("accepted socket has the listener's name", strcmp(me.sun_path, "echo.sock") == 0);
	const char *msgs[] = {"hello", "unix sockets", "x"};
	for (int i = 0; i < 3; i++) {
		char buf[64] = {0};
		size_t n = strlen(msgs[i]);
		EXPECT_EQ(write(s, msgs[i], n), n);
		EXPECT_EQ(recv(s, buf, n, MSG_WAITALL), n);
		printf("echo: %s\n", buf);
	}
	EXPECT_OK(shutdown(s, SHUT_WR));
	char b;
	EXPECT_EQ(read(s, &b, 1), 0);
	int status;
	waitpid(pid, &status, 0);
	EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
	close(s);
	close(ls);
	EXPECT_OK(unlink("echo.sock"));
}

static void names_and_errors(void) {
	struct sockaddr_un a, b;
	socklen_t al = mkaddr(&a, "n.sock");
	int s1 = socket(AF_UNIX, SOCK_STREAM, 0);
	int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	int d1 = socket(AF_UNIX, SOCK_DGRAM, 0);

	socklen_t l = sizeof b;
	EXPECT_OK(getsockname(s1, (struct sockaddr *)&b, &l));
	EXPECT_EQ(l, sizeof(sa_family_t));
	l = sizeof b;
	EXPECT_ERR(getpeername(s1, (struct sockaddr *)&b, &l), ENOTCONN);

	EXPECT_ERR(connect(s1, (struct sockaddr *)&a, al), ENOENT);
	EXPECT_ERR(listen(s1, 1), EINVAL);
	EXPECT_ERR(accept(s1, NULL, NULL), EINVAL);
	EXPECT_OK(bind(s1, (struct sockaddr *)&a, al));
	/* rebinding: the name in use wins over "already bound" */
	EXPECT_ERR(bind(s1, (struct sockaddr *)&a, al), EADDRINUSE);
	socklen_t ol = mkaddr(&b, "other.sock");
	EXPECT_ERR(bind(s1, (struct sockaddr *)&b, ol), EINVAL);
	EXPECT_ERR(unlink("other.sock"), ENOENT);
	EXPECT_ERR(bind(s2, (struct sockaddr *)&a, al), EADDRINUSE);
	EXPECT_ERR(connect(s2, (struct sockaddr *)&a, al), ECONNREFUSED);
	EXPECT_ERR(connect(d1, (struct sockaddr *)&a, al), EPROTOTYPE);
	l = sizeof b;
	EXPECT_OK(getsockname(s1, (struct sockaddr *)&b, &l));
	EXPECT_EQ(l, al);
	printf("getsockname path: %s\n", b.sun_path);

	struct sockaddr_un bad = a;
	bad.sun_family = AF_INET;
	EXPECT_ERR(bind(s2, (struct sockaddr *)&bad, al), EINVAL);
	EXPECT_ERR(connect(s2, (struct sockaddr *)&a, 1), EINVAL);
	EXPECT_ERR(bind(s2, (struct sockaddr *)&a, sizeof a + 1), EINVAL);
	EXPECT_ERR(socket(AF_UNIX, SOCK_STREAM, 7), EPROTONOSUPPORT);
	EXPECT_ERR(socket(AF_UNIX, 9, 0), ESOCKTNOSUPPORT);
	EXPECT_ERR(socketpair(AF_UNIX, SOCK_STREAM, 0, NULL), EFAULT);
	EXPECT_ERR(listen(d1, 1), EOPNOTSUPP);
	EXPECT_ERR(accept(d1, NULL, NULL), EOPNOTSUPP);
	int fd = open(".", O_RDONLY);
	EXPECT_ERR(bind(fd, (struct sockaddr *)&a, al), ENOTSOCK);
	EXPECT_ERR(listen(fd, 1), ENOTSOCK);
	close(fd);
	EXPECT_ERR(listen(99, 1), EBADF);

	/* not a socket: ECONNREFUSED; no such directory: ENOENT */
	close(open("plain", O_CREAT | O_WRONLY, 0644));
	socklen_t pl = mkaddr(&b, "plain");
	EXPECT_ERR(connect(s2, (struct sockaddr *)&b, pl), ECONNREFUSED);
	pl = mkaddr(&b, "nodir/x.sock");
	EXPECT_ERR(bind(s2, (struct sockaddr *)&b, pl), ENOENT);
	unlink("plain");

	/* After close the name stays in the filesystem but nobody answers. */
	close(s1);
	EXPECT_ERR(connect(s2, (struct sockaddr *)&a, al), ECONNREFUSED);
	EXPECT_ERR(bind(s2, (struct sockaddr *)&a, al), EADDRINUSE);
	EXPECT_OK(unlink("n.sock"));
	EXPECT_OK(bind(s2, (struct sockaddr *)&a, al));

	/* umask applies to the socket inode */
	mode_t old = umask(077);
	int s3 = socket(AF_UNIX, SOCK_STREAM, 0);
	socklen_t ml = mkaddr(&b, "mode.sock");
	EXPECT_OK(bind(s3, (struct sockaddr *)&b, ml));
	struct stat st;
	stat("mode.sock", &st);
	printf("socket inode mode %o\n", st.st_mode);
	umask(old);
	close(s3);
	unlink("mode.sock");
	close(s2);
	unlink("n.sock");

	/* Abstract names. */
	int x = socket(AF_UNIX, SOCK_STREAM, 0);
	int y = socket(AF_UNIX, SOCK_STREAM, 0);
	socklen_t xl = mkabstract(&a, "-abs");
	EXPECT_OK(bind(x, (struct sockaddr *)&a, xl));
	EXPECT_ERR(bind(y, (struct sockaddr *)&a, xl), EADDRINUSE);
	EXPECT_ERR(connect(y, (struct sockaddr *)&a, xl), ECONNREFUSED);
	EXPECT_OK(listen(x, 1));
	EXPECT_OK(connect(y, (struct sockaddr *)&a, xl));
	l = sizeof b;
	EXPECT_OK(getpeername(y, (struct sockaddr *)&b, &l));
	CHECK("abstract peer name length", l == xl);
	CHECK("abstract peer name bytes", memcmp(&a, &b, xl) == 0);
	l = sizeof b;
	EXPECT_OK(getsockname(x, (struct sockaddr *)&b, &l));
	CHECK("abstract name round trip", l == xl && b.sun_path[0] == 0 && memcmp(&a, &b, xl) == 0);
	int z = EXPECT_OK(accept(x, NULL, NULL));
	close(z);
	close(y);
	close(x);
	/* the abstract name is free again once the socket is closed */
	x = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_OK(bind(x, (struct sockaddr *)&a, xl));
	close(x);

	/* Autobind: bind with only the family. */
	x = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_OK(bind(x, (struct sockaddr *)&a, sizeof(sa_family_t)));
	l = sizeof b;
	EXPECT_OK(getsockname(x, (struct sockaddr *)&b, &l));
	EXPECT_EQ(l, 8);
	CHECK("autobind name is abstract", b.sun_path[0] == 0);
	close(x);
	close(d1);
}

static void nonblocking_and_backlog(void) {
	struct sockaddr_un a;
	socklen_t al = mkabstract(&a, "-nb");
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT_OK(bind(ls, (struct sockaddr *)&a, al));
	EXPECT_OK(listen(ls, 1));
	EXPECT_ERR(accept(ls, NULL, NULL), EAGAIN);
	show_poll("listener idle", ls);
	int c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT_OK(connect(c1, (struct sockaddr *)&a, al));
	EXPECT_ERR(connect(c1, (struct sockaddr *)&a, al), EISCONN);
	show_poll("listener with a pending connection", ls);
	int c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT_OK(connect(c2, (struct sockaddr *)&a, al));
	int c3 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT_ERR(connect(c3, (struct sockaddr *)&a, al), EAGAIN);
	/* the client can write before it is accepted */
	EXPECT_EQ(write(c1, "early", 5), 5);
	int s1 = EXPECT_OK(accept4(ls, NULL, NULL, SOCK_NONBLOCK));
	EXPECT_EQ(fcntl(s1, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	char buf[16] = {0};
	EXPECT_EQ(read(s1, buf, sizeof buf), 5);
	EXPECT_ERR(read(s1, buf, sizeof buf), EAGAIN);
	EXPECT_ERR(recv(c1, buf, 1, MSG_DONTWAIT), EAGAIN);
	/* closing the listener resets the connection that was never accepted */
	close(ls);
	EXPECT_ERR(read(c2, buf, 1), ECONNRESET);
	EXPECT_EQ(read(c2, buf, 1), 0);
	EXPECT_EQ(read(s1, buf, 1) == -1 && errno == EAGAIN, 1);
	close(c1);
	close(c2);
	close(c3);
	close(s1);
}

static void shutdown_and_close(void) {
	int sv[2];
	char buf[32];
	EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	show_poll("fresh pair", sv[0]);
	EXPECT_OK(shutdown(sv[0], SHUT_WR));
	show_poll("after SHUT_WR (self)", sv[0]);
	show_poll("after SHUT_WR (peer)", sv[1]);
	sigpipes = 0;
	EXPECT_ERR(write(sv[0], "x", 1), EPIPE);
	EXPECT_EQ(sigpipes, 1);
	EXPECT_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	EXPECT_EQ(sigpipes, 1);
	EXPECT_ERR(send(sv[0], "x", 1, 0), EPIPE);
	EXPECT_EQ(sigpipes, 2);
	EXPECT_EQ(read(sv[1], buf, sizeof buf), 0);
	EXPECT_EQ(write(sv[1], "back", 4), 4);
	EXPECT_EQ(read(sv[0], buf, sizeof buf), 4);
	EXPECT_OK(shutdown(sv[0], SHUT_RD));
	EXPECT_EQ(read(sv[0], buf, sizeof buf), 0);
	EXPECT_ERR(write(sv[1], "x", 1), EPIPE);
	show_poll("after SHUT_RDWR", sv[0]);
	EXPECT_ERR(shutdown(sv[0], 7), EINVAL);
	close(sv[0]);
	close(sv[1]);

	/* close with unread data: the peer sees ECONNRESET once, then EOF */
	EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ(write(sv[1], "unread", 6), 6);
	EXPECT_EQ(write(sv[0], "kept", 4), 4);
	close(sv[0]);
	show_poll("peer closed with unread data", sv[1]);
	EXPECT_EQ(getint(sv[1], SO_ERROR), ECONNRESET);
	EXPECT_EQ(getint(sv[1], SO_ERROR), 0);
	EXPECT_EQ(read(sv[1], buf, sizeof buf), 4);
	EXPECT_EQ(read(sv[1], buf, sizeof buf), 0);
	close(sv[1]);

	EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ(write(sv[1], "abc", 3), 3);
	close(sv[1]);
	show_poll("peer closed", sv[0]);
	EXPECT_EQ(read(sv[0], buf, sizeof buf), 3);
	EXPECT_EQ(read(sv[0], buf, sizeof buf), 0);
	EXPECT_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	close(sv[0]);

	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	show_poll("unconnected stream", s);
	EXPECT_ERR(read(s, buf, 1), EINVAL);
	EXPECT_ERR(write(s, buf, 1), ENOTCONN);
	EXPECT_OK(shutdown(s, SHUT_RDWR));
	close(s);
}

static void data_flags(void) {
	int sv[2];
	char buf[64];
	EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ(write(sv[0], "hello ", 6), 6);
	EXPECT_EQ(write(sv[0], "world", 5), 5);
	int n = -1;
	EXPECT_OK(ioctl(sv[1], FIONREAD, &n));
	EXPECT_EQ(n, 11);
	memset(buf, 0, sizeof buf);
	EXPECT_EQ(recv(sv[1], buf, 8, MSG_PEEK), 8);
	printf("peek: %s\n", buf);
	memset(buf, 0, sizeof buf);
	EXPECT_EQ(recv(sv[1], buf, sizeof buf, 0), 11);
	printf("read across writes: %s\n", buf);
	EXPECT_OK(ioctl(sv[1], FIONREAD, &n));
	EXPECT_EQ(n, 0);
	EXPECT_OK(ioctl(sv[0], TIOCOUTQ, &n));
	EXPECT_EQ(n, 0);

	/* MSG_WAITALL collects data from a slow writer */
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 4; i++) {
			usleep(10000);
			write(sv[0], "abcd", 4);
		}
		_exit(0);
	}
	memset(buf, 0, sizeof buf);
	EXPECT_EQ(recv(sv[1], buf, 16, MSG_WAITALL), 16);
	printf("waitall: %s\n", buf);
	waitpid(pid, NULL, 0);

	/* SO_RCVTIMEO makes a blocking read give up with EAGAIN */
	struct timeval tv = {0, 200000};
	EXPECT_OK(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	struct timeval got;
	socklen_t gl = sizeof got;
	EXPECT_OK(getsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &got, &gl));
	CHECK("SO_RCVTIMEO round trip", gl == sizeof got && got.tv_sec == 0 && got.tv_usec == 200000);
	EXPECT_ERR(read(sv[1], buf, 1), EAGAIN);
	tv.tv_usec = 2000000;
	EXPECT_ERR(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
	EXPECT_ERR(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, 4), EINVAL);
	close(sv[0]);
	close(sv[1]);
}

static void options(void) {
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	int q = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	EXPECT_EQ(getint(s, SO_TYPE), SOCK_STREAM);
	EXPECT_EQ(getint(d, SO_TYPE), SOCK_DGRAM);
	EXPECT_EQ(getint(q, SO_TYPE), SOCK_SEQPACKET);
	EXPECT_EQ(getint(s, SO_DOMAIN), AF_UNIX);
	EXPECT_EQ(getint(s, SO_PROTOCOL), 0);
	EXPECT_EQ(getint(s, SO_ERROR), 0);
	EXPECT_EQ(getint(s, SO_ACCEPTCONN), 0);
	EXPECT_EQ(getint(s, SO_PASSCRED), 0);
	EXPECT_EQ(getint(s, SO_SNDBUF), 212992);
	EXPECT_EQ(getint(s, SO_RCVBUF), 212992);
	int v = 65536;
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
	EXPECT_EQ(getint(s, SO_SNDBUF), 131072);
	v = 1;
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
	EXPECT_EQ(getint(s, SO_RCVBUF), 2304);
	v = 5;
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
	EXPECT_EQ(getint(s, SO_REUSEADDR), 1);
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v));
	EXPECT_EQ(getint(s, SO_KEEPALIVE), 1);
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_PASSCRED, &v, sizeof v));
	EXPECT_EQ(getint(s, SO_PASSCRED), 1);
	struct linger lg = {1, 7}, lg2;
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	socklen_t l = sizeof lg2;
	EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &l));
	CHECK("SO_LINGER round trip", l == sizeof lg2 && lg2.l_onoff == 1 && lg2.l_linger == 7);
	EXPECT_ERR(setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof v), ENOPROTOOPT);
	EXPECT_ERR(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, 2), EINVAL);
	EXPECT_ERR(setsockopt(s, SOL_SOCKET, 9999, &v, sizeof v), ENOPROTOOPT);
	EXPECT_ERR(getsockopt(s, SOL_SOCKET, 9999, &v, &l), ENOPROTOOPT);
	EXPECT_ERR(setsockopt(s, 6 /* SOL_TCP */, 1, &v, sizeof v), EOPNOTSUPP);
	/* short option buffers are truncated */
	char c = 9;
	l = 1;
	EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &c, &l));
	CHECK("getsockopt truncates to optlen", l == 1 && c == SOCK_STREAM);
	struct ucred cr;
	l = sizeof cr;
	EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &l));
	CHECK("SO_PEERCRED of an unconnected socket", cr.pid == 0 && cr.uid == (uid_t)-1 && cr.gid == (gid_t)-1);
	int sv[2];
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	l = sizeof cr;
	EXPECT_OK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &l));
	CHECK("SO_PEERCRED of socketpair is the creator", cr.pid == getpid() && cr.uid == geteuid() && cr.gid == getegid());
	struct stat st;
	EXPECT_OK(fstat(sv[0], &st));
	printf("fstat mode %o\n", st.st_mode);
	close(sv[0]);
	close(sv[1]);
	EXPECT_ERR(socket(AF_UNIX + 200, SOCK_STREAM, 0), EAFNOSUPPORT);
	close(s);
	close(d);
	close(q);
}

int main(int argc, char **argv) {
	const char *base = argc > 1 ? argv[1] : "/tmp";
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/uksockXXXXXX", base);
	if (!mkdtemp(dir) || chdir(dir) < 0) {
		printf("FAIL: cannot make a directory under %s\n", base);
		return 1;
	}
	snprintf(abstract_name, sizeof abstract_name, "uk-unix-stream-%d", getpid());
	signal(SIGPIPE, on_sigpipe);
	echo_between_processes();
	names_and_errors();
	nonblocking_and_backlog();
	shutdown_and_close();
	data_flags();
	options();
	chdir("/");
	if (rmdir(dir) < 0)
		printf("rmdir: FAIL %s\n", errname(errno));
	return ukt_exit();
}
