// netns: network namespaces. A new one has only lo, down until brought
// up (until then loopback is unreachable); its ports are its own (a port
// bound outside is free inside), and so are AF_UNIX abstract names (a
// name bound outside is neither reached nor taken inside), while a
// filesystem socket is reached from any; children inherit it and setns enters
// another's; it needs CAP_SYS_ADMIN. A bind mount of its file (what `ip
// netns add` does) or an open descriptor of it keeps it after its last
// process. 100 namespaces used
// and dropped in turn by one process must not run out (uk stops a dropped
// one's stack).
#include "uktest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

static int listener(int port) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 4)) {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	return s;
}

static int dial(int port) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int r = connect(s, (struct sockaddr *)&a, sizeof a);
	int e = errno;
	close(s);
	errno = e;
	return r;
}

static int port;

// The parent's AF_UNIX listeners: an abstract name and a filesystem one,
// both named after its pid (natively the abstract name is in the
// host's namespace).
static struct sockaddr_un abs_addr, path_addr;
static socklen_t abs_len;

static int unix_listener(const struct sockaddr_un *a, socklen_t len) {
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (const struct sockaddr *)a, len) || listen(s, 4))
		return -1;
	return s;
}

static int unix_dial(const struct sockaddr_un *a, socklen_t len) {
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	int r = connect(s, (const struct sockaddr *)a, len);
	int e = errno;
	close(s);
	errno = e;
	return r;
}

static void interfaces(void) {
	struct if_nameindex *ifs = if_nameindex(), *i;
	for (i = ifs; i && i->if_index; i++)
		printf("interface: %s\n", i->if_name);
	if (ifs)
		if_freenameindex(ifs);
}

static int lo_flags(int s) {
	struct ifreq r = {0};
	strcpy(r.ifr_name, "lo");
	return ioctl(s, SIOCGIFFLAGS, &r) ? -1 : r.ifr_flags;
}

// bring_lo_up brings lo up, as `ip link set lo up` does.
static int bring_lo_up(void) {
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r = {0};
	strcpy(r.ifr_name, "lo");
	r.ifr_flags = IFF_UP | IFF_LOOPBACK;
	int ret = s < 0 ? -1 : ioctl(s, SIOCSIFFLAGS, &r);
	int e = errno;
	close(s);
	errno = e;
	return ret;
}

// lo_up reports whether lo exists and is up.
static int lo_up(int s) {
	int f = lo_flags(s);
	return f >= 0 && (f & IFF_UP);
}

static void fresh(void) {
	char before[64], after[64];
	ssize_t n = readlink("/proc/self/ns/net", before, sizeof before - 1);
	before[n < 0 ? 0 : n] = 0;
	EXPECT_OK(unshare(CLONE_NEWNET));
	n = readlink("/proc/self/ns/net", after, sizeof after - 1);
	after[n < 0 ? 0 : n] = 0;
	CHECK("a new namespace has a link of its own", strncmp(after, "net:[", 5) == 0 && strcmp(after, before) != 0);
	interfaces();
	int s = EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
	CHECK("lo is down", lo_flags(s) >= 0 && !lo_up(s));
	EXPECT_ERR(dial(port), ENETUNREACH);
	EXPECT_OK(bring_lo_up());
	CHECK("lo is up", lo_up(s));
	// The port the parent holds is free here, and nobody listens on it.
	EXPECT_ERR(dial(port), ECONNREFUSED);
	int l = EXPECT_OK(listener(port));
	EXPECT_OK(dial(port));
	// The parent's abstract name is not here, and is free to bind; its
	// filesystem socket is reached.
	EXPECT_ERR(unix_dial(&abs_addr, abs_len), ECONNREFUSED);
	int ul = EXPECT_OK(unix_listener(&abs_addr, abs_len));
	EXPECT_OK(unix_dial(&abs_addr, abs_len));
	close(ul);
	EXPECT_OK(unix_dial(&path_addr, sizeof path_addr));
	// A child is in the same namespace; one that enters it from outside
	// sees the same listener.
	int fd = EXPECT_OK(open("/proc/self/ns/net", O_RDONLY));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0)
		_exit(dial(port) == 0 ? 0 : 1);
	int st;
	waitpid(c, &st, 0);
	CHECK("a child reaches the listener", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	EXPECT_ERR(setns(fd, CLONE_NEWNS), EINVAL);
	EXPECT_OK(setns(fd, CLONE_NEWNET));
	close(fd);
	close(l);
	EXPECT_OK(setresuid(1000, 1000, 1000));
	EXPECT_ERR(unshare(CLONE_NEWNET), EPERM);
}

static char held[] = "/tmp/netnsXXXXXX";

// maker makes a namespace, brings lo up there, binds its file on held and
// exits.
static void maker(void) {
	EXPECT_OK(unshare(CLONE_NEWNET));
	EXPECT_OK(bring_lo_up());
	EXPECT_OK(mount("/proc/self/ns/net", held, NULL, MS_BIND, NULL));
}

// user enters the namespace through the bound file: lo is still up.
static void user(void) {
	int fd = EXPECT_OK(open(held, O_RDONLY));
	EXPECT_OK(setns(fd, CLONE_NEWNET));
	int s = EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
	CHECK("lo is still up in the held namespace", lo_up(s));
	EXPECT_ERR(dial(port), ECONNREFUSED);
}

// kept: a process leaves a namespace it made but keeps a descriptor of
// it, which keeps the namespace (lo still up when it comes back).
static void kept(void) {
	int home = EXPECT_OK(open("/proc/self/ns/net", O_RDONLY));
	EXPECT_OK(unshare(CLONE_NEWNET));
	EXPECT_OK(bring_lo_up());
	int fd = EXPECT_OK(open("/proc/self/ns/net", O_RDONLY));
	EXPECT_OK(setns(home, CLONE_NEWNET));
	EXPECT_OK(setns(fd, CLONE_NEWNET));
	int s = EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
	CHECK("lo is still up in the namespace kept by a descriptor", lo_up(s));
}

// count_links counts the interfaces an RTM_GETLINK dump on the netlink
// socket s lists (-1 on error).
static int count_links(int s) {
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {.h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1}};
	if (send(s, &req, sizeof req, 0) != sizeof req)
		return -1;
	int links = 0;
	for (;;) {
		static char buf[32768];
		struct pollfd p = {.fd = s, .events = POLLIN};
		if (poll(&p, 1, 5000) != 1)
			return -1;
		int n = recv(s, buf, sizeof buf, 0);
		if (n <= 0)
			return -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return links;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -1;
			links += h->nlmsg_type == RTM_NEWLINK;
		}
	}
}

// handed: a socket keeps the namespace it was made in. A child makes a
// connected TCP pair in a new namespace, hands both ends to its parent and
// exits; outside the namespace, the ends still carry data, and a netlink
// socket made there still lists the namespace's one interface.
static void handed(void) {
	int sp[2];
	EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		if (unshare(CLONE_NEWNET) || bring_lo_up())
			_exit(1);
		int l = listener(port);
		int cl = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (l < 0 || connect(cl, (struct sockaddr *)&a, sizeof a))
			_exit(2);
		int fds[3] = {cl, accept(l, NULL, NULL), socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)};
		char cbuf[CMSG_SPACE(sizeof fds)] = {0};
		struct iovec iov = {.iov_base = "x", .iov_len = 1};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof fds);
		memcpy(CMSG_DATA(cm), fds, sizeof fds);
		_exit(sendmsg(sp[1], &m, 0) == 1 ? 0 : 3);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("the child handed over a pair made in its namespace", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	int fds[3] = {-1, -1, -1};
	char x, cbuf[CMSG_SPACE(sizeof fds)];
	struct iovec iov = {.iov_base = &x, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	if (recvmsg(sp[0], &m, MSG_DONTWAIT) == 1 && CMSG_FIRSTHDR(&m))
		memcpy(fds, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fds);
	char buf[8] = {0};
	int n = -1;
	if (fds[0] >= 0 && write(fds[0], "ping", 4) == 4) {
		struct pollfd p = {.fd = fds[1], .events = POLLIN};
		if (poll(&p, 1, 5000) == 1)
			n = read(fds[1], buf, sizeof buf);
	}
	CHECK("a socket keeps its namespace after its last process", n == 4 && memcmp(buf, "ping", 4) == 0);
	close(fds[0]);
	close(fds[1]);
	printf("links through a netlink socket of the namespace, its last socket: %d\n", count_links(fds[2]));
	close(fds[2]);
	close(sp[0]);
	close(sp[1]);
}

static void churn(void) {
	int ok = 0;
	for (int i = 0; i < 100; i++) {
		if (unshare(CLONE_NEWNET))
			break;
		int l = bring_lo_up() ? -1 : listener(port);
		if (l < 0)
			break;
		close(l);
		ok++;
	}
	printf("namespaces used and dropped: %d\n", ok);
}

int main(void) {
	// The parent's listener, on a port of its own choosing.
	int l = listener(0);
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	if (l < 0 || getsockname(l, (struct sockaddr *)&a, &len)) {
		printf("listener: FAIL %s\n", errname(errno));
		return 1;
	}
	port = ntohs(a.sin_port);
	abs_addr.sun_family = path_addr.sun_family = AF_UNIX;
	int an = snprintf(abs_addr.sun_path + 1, sizeof abs_addr.sun_path - 1, "uk-netns-%d", (int)getpid());
	abs_len = offsetof(struct sockaddr_un, sun_path) + 1 + an;
	snprintf(path_addr.sun_path, sizeof path_addr.sun_path, "/tmp/uk-netns-%d.sock", (int)getpid());
	unlink(path_addr.sun_path);
	int ua = unix_listener(&abs_addr, abs_len), up = unix_listener(&path_addr, sizeof path_addr);
	if (ua < 0 || up < 0) {
		printf("unix listeners: FAIL %s\n", errname(errno));
		return 1;
	}
	CHECK("the parent's abstract name is reached here", unix_dial(&abs_addr, abs_len) == 0);
	ukt_in_child("unshare(CLONE_NEWNET)", fresh);
	CHECK("the parent's abstract name is still its own", unix_dial(&abs_addr, abs_len) == 0);
	unlink(path_addr.sun_path);
	// The bind mounts go into a mount namespace of the test's own.
	int fd = mkstemp(held);
	if (fd < 0 || unshare(CLONE_NEWNS) || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		printf("setup: FAIL %s\n", errname(errno));
		return 1;
	}
	close(fd);
	ukt_in_child("bind the namespace's file", maker);
	ukt_in_child("enter it through the file", user);
	EXPECT_OK(umount2(held, MNT_DETACH));
	EXPECT_OK(unlink(held));
	ukt_in_child("kept by a descriptor", kept);
	handed();
	ukt_in_child("100 in turn", churn);
	CHECK("the parent's listener is still reached", dial(port) == 0);
	return ukt_exit();
}
