// procnet: /proc/net/tcp, tcp6 and udp list the Internet sockets of the
// reader's network namespace by address, port, state, queue and owner;
// /proc/net/unix lists the AF_UNIX sockets of the reader's
// network namespace as Linux's unix_seq_show does: a listener's
// __SO_ACCEPTCON flag, each type, the SS_* state (a connection not yet
// accepted is SS_CONNECTING), the inode fstat reports, and the name (an
// abstract one with '@' for its NULs). A closed socket's row goes, and a
// new network namespace sees none of the sockets made outside it. Rows are
// found by inode, so the machine's other sockets (natively) do not matter;
// names hold the pid and print as labels.
#include "uktest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

static char path_name[64], abs_name[64];

// row finds the /proc/net/unix line of the socket fd and prints its
// columns but Num, RefCount and Inode, with our names as labels.
static void row(const char *label, int fd) {
	struct stat st;
	if (fstat(fd, &st)) {
		printf("%s: fstat failed\n", label);
		return;
	}
	FILE *f = fopen("/proc/net/unix", "r");
	if (!f) {
		printf("%s: /proc/net/unix: %s\n", label, errname(errno));
		return;
	}
	char line[512];
	int found = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned refs, proto, flags, type, state;
		unsigned long ino;
		int n = 0;
		if (sscanf(line, "%*[0-9a-f]: %x %x %x %x %x %lu%n", &refs, &proto, &flags, &type, &state, &ino, &n) != 6 || ino != st.st_ino)
			continue;
		char *path = line + n;
		path[strcspn(path, "\n")] = 0;
		if (*path == ' ')
			path++;
		const char *shown = path;
		if (*path && !strcmp(path, path_name))
			shown = "PATH";
		else if (*path && !strcmp(path, abs_name))
			shown = "ABSTRACT";
		printf("%s: proto %x flags %08x type %04x st %02x name '%s'\n", label, proto, flags, type, state, shown);
		found++;
	}
	fclose(f);
	if (found != 1)
		printf("%s: %d rows\n", label, found);
}

// port_of is fd's local (peer 0) or peer's (peer 1) port, 0 if none.
static unsigned port_of(int fd, int peer) {
	struct sockaddr_in6 a;
	socklen_t len = sizeof a;
	if ((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&a, &len))
		return 0;
	return ntohs(a.sin6_port); /* sin_port sits at the same offset */
}

// inet_row finds fd's line in /proc/net/NAME and prints its addresses (the
// ports as labels), state, the queues when asked, and whether the uid is
// ours.
static void inet_row(const char *label, const char *name, int fd, int queues) {
	struct stat st;
	fstat(fd, &st);
	char path[64];
	snprintf(path, sizeof path, "/proc/net/%s", name);
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("%s: %s: %s\n", label, path, errname(errno));
		return;
	}
	char line[512], la[40], ra[40];
	unsigned lp, rp, state, tx, rx, uid;
	unsigned long ino;
	int found = 0;
	fgets(line, sizeof line, f);
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, " %*d: %39[0-9A-F]:%x %39[0-9A-F]:%x %x %x:%x %*x:%*x %*x %u %*d %lu",
			   la, &lp, ra, &rp, &state, &tx, &rx, &uid, &ino) != 9 || ino != st.st_ino)
			continue;
		char lps[16], rps[16];
		snprintf(lps, sizeof lps, lp == port_of(fd, 0) ? "LOCAL" : "%u", lp);
		snprintf(rps, sizeof rps, rp && rp == port_of(fd, 1) ? "PEER" : "%u", rp);
		printf("%s: %s:%s %s:%s st %02X", label, la, lps, ra, rps, state);
		if (queues)
			printf(" tx %u rx %u", tx, rx);
		printf(" uid %s\n", uid == getuid() ? "ours" : "other");
		found++;
	}
	fclose(f);
	if (found != 1)
		printf("%s: %d rows in %s\n", label, found, path);
}

// The inode column of /proc/net/unix and of the Internet tables, for
// rows_of.
#define UNIX_INO "%*[0-9a-f]: %*x %*x %*x %*x %*x %lu"
#define INET_INO " %*d: %*[0-9A-F]:%*x %*[0-9A-F]:%*x %*x %*x:%*x %*x:%*x %*x %*u %*d %lu"

// rows_of counts the lines of the file at path whose inode, read with
// format, is ino.
static int rows_of(const char *path, const char *format, unsigned long ino) {
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512];
	int n = 0;
	unsigned long i;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, format, &i) == 1 && i == ino)
			n++;
	fclose(f);
	return n;
}

// lines counts /proc/net/NAME's lines after its header.
static int lines(const char *name) {
	char path[64];
	snprintf(path, sizeof path, "/proc/net/%s", name);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512];
	int n = -1;
	while (fgets(line, sizeof line, f))
		n++;
	fclose(f);
	return n;
}

static void inet(void) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_OK(bind(l, (struct sockaddr *)&a, sizeof a));
	inet_row("bound, not listening", "tcp", l, 0);
	EXPECT_OK(listen(l, 7));
	inet_row("tcp listener", "tcp", l, 1);
	getsockname(l, (struct sockaddr *)&a, &alen);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	inet_row("unbound", "tcp", c, 0);
	EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof a));
	int s = accept(l, NULL, NULL);
	inet_row("tcp client", "tcp", c, 0);
	write(c, "hello", 5);
	struct pollfd p = {.fd = s, .events = POLLIN};
	poll(&p, 1, 5000);
	inet_row("tcp accepted, 5 bytes unread", "tcp", s, 1);

	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int l6 = socket(AF_INET6, SOCK_STREAM, 0);
	EXPECT_OK(bind(l6, (struct sockaddr *)&a6, sizeof a6));
	EXPECT_OK(listen(l6, 3));
	inet_row("tcp6 listener", "tcp6", l6, 1);
	// An AF_INET6 socket's IPv4 peer is IPv4-mapped, in tcp6.
	struct sockaddr_in6 m6 = {.sin6_family = AF_INET6, .sin6_port = a.sin_port};
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &m6.sin6_addr);
	int c6 = socket(AF_INET6, SOCK_STREAM, 0);
	EXPECT_OK(connect(c6, (struct sockaddr *)&m6, sizeof m6));
	inet_row("tcp6 client of an IPv4 listener", "tcp6", c6, 0);

	int u = socket(AF_INET, SOCK_DGRAM, 0);
	inet_row("udp unbound", "udp", u, 0);
	struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	EXPECT_OK(bind(u, (struct sockaddr *)&ua, sizeof ua));
	inet_row("udp bound", "udp", u, 0);
	EXPECT_OK(connect(u, (struct sockaddr *)&a, sizeof a));
	inet_row("udp connected", "udp", u, 0);

	struct stat ls;
	fstat(l, &ls);
	CHECK("the listener has a row", rows_of("/proc/net/tcp", INET_INO, ls.st_ino) == 1);
	close(l);
	CHECK("a closed listener's row goes", rows_of("/proc/net/tcp", INET_INO, ls.st_ino) == 0);
	close(c6);
	close(l6);
	close(s);
	close(c);
	close(u);
}

// embryos counts the rows of connections to our listener that no accept
// has taken: SS_CONNECTING, with the listener's name and, having no
// socket of their own yet, inode 0.
static int embryos(void) {
	FILE *f = fopen("/proc/net/unix", "r");
	if (!f)
		return -1;
	char line[512];
	int n = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned state;
		unsigned long ino;
		int at = 0;
		if (sscanf(line, "%*[0-9a-f]: %*x %*x %*x %*x %x %lu%n", &state, &ino, &at) != 2)
			continue;
		char *path = line + at;
		path[strcspn(path, "\n")] = 0;
		if (*path == ' ' && !strcmp(path + 1, path_name))
			n += state == 2 && ino == 0;
	}
	fclose(f);
	return n;
}

int main(void) {
	FILE *f = fopen("/proc/net/unix", "r");
	char header[128] = "";
	if (f) {
		fgets(header, sizeof header, f);
		fclose(f);
	}
	printf("header: %s", header);

	snprintf(path_name, sizeof path_name, "/tmp/procnet-%d.sock", getpid());
	unlink(path_name);
	struct sockaddr_un pa = {.sun_family = AF_UNIX};
	strcpy(pa.sun_path, path_name);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_OK(bind(l, (struct sockaddr *)&pa, sizeof pa));
	row("bound stream", l);
	EXPECT_OK(listen(l, 4));
	row("listener", l);

	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	row("unbound stream", c);
	EXPECT_OK(connect(c, (struct sockaddr *)&pa, sizeof pa));
	row("client", c);
	printf("connections not accepted: %d\n", embryos());
	int a = accept(l, NULL, NULL);
	row("accepted", a);
	printf("connections not accepted: %d\n", embryos());

	int sp[2];
	EXPECT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp));
	row("seqpacket pair", sp[0]);

	// An abstract name with a NUL inside: "\0procnet\0PID".
	struct sockaddr_un aa = {.sun_family = AF_UNIX};
	int alen = snprintf(aa.sun_path + 1, sizeof aa.sun_path - 1, "procnet-%d", getpid()) + 1;
	aa.sun_path[8] = 0;
	socklen_t alen_all = offsetof(struct sockaddr_un, sun_path) + alen;
	snprintf(abs_name, sizeof abs_name, "@procnet@%d", getpid());
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_OK(bind(d, (struct sockaddr *)&aa, alen_all));
	row("abstract dgram", d);
	int d2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_OK(connect(d2, (struct sockaddr *)&aa, alen_all));
	row("connected dgram", d2);

	struct stat d2s;
	fstat(d2, &d2s);
	CHECK("the socket has a row", rows_of("/proc/net/unix", UNIX_INO, d2s.st_ino) == 1);
	close(d2);
	CHECK("a closed socket's row goes", rows_of("/proc/net/unix", UNIX_INO, d2s.st_ino) == 0);

	// A new network namespace: none of the sockets above, only its own.
	pid_t p = fork();
	if (p == 0) {
		if (unshare(CLONE_NEWNET)) {
			printf("unshare(CLONE_NEWNET): %s\n", errname(errno));
			_exit(1);
		}
		int n0 = lines("unix");
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		printf("new netns: %d rows, then %d with a socket of its own\n", n0, lines("unix"));
		row("in new netns", s);
		printf("new netns: tcp %d udp %d tcp6 %d udp6 %d rows\n", lines("tcp"), lines("udp"), lines("tcp6"), lines("udp6"));
		_exit(0);
	}
	int ws;
	waitpid(p, &ws, 0);
	CHECK("child ok", WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	row("listener after", l);
	unlink(path_name);
	inet();
	return 0;
}
