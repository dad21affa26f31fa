/* sockfilter.c: classic BPF socket filters (SO_ATTACH_FILTER,
 * SO_DETACH_FILTER, SO_LOCK_FILTER) on netlink sockets, compared with
 * Linux: a filter that drops everything hides a route dump's answer, one
 * that returns a length cuts each datagram to it, one that looks at the
 * first message's type (a big-endian load) picks datagrams, detaching
 * brings them back, a locked filter stays, and bad programs and values
 * fail as Linux's checks order them. libudev attaches such a filter to
 * its uevent socket. */
#include "uktest.h"

#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

static int attach(int s, struct sock_filter *f, unsigned short n) {
	struct sock_fprog p = {.len = n, .filter = f};
	return setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p);
}

/* dump asks for the links and returns what the first recv gets (after a
 * moment, without waiting): its length or -errno. */
static long dump(int s) {
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
	} req = {{.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1},
		 {.rtgen_family = AF_UNSPEC}};
	send(s, &req, sizeof req, 0);
	usleep(50000);
	char buf[65536];
	long total = 0, n;
	while ((n = recv(s, buf, sizeof buf, MSG_DONTWAIT)) > 0)
		total += n;
	return total > 0 ? total : -errno;
}

int main(void) {
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	CHECK("netlink socket", s >= 0);
	long all = dump(s);
	CHECK("a dump answers", all > 0);

	struct sock_filter drop[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	EXPECT_EQ(attach(s, drop, 1), 0);
	long r = dump(s);
	printf("drop-all filter: %s\n", r > 0 ? "data" : errname(-r));
	EXPECT_EQ(setsockopt(s, SOL_SOCKET, SO_DETACH_FILTER, &(int){0}, sizeof(int)), 0);
	printf("detached: data %d\n", dump(s) > 0);
	EXPECT_ERR(setsockopt(s, SOL_SOCKET, SO_DETACH_FILTER, &(int){0}, sizeof(int)), ENOENT);

	/* A filter looks at a datagram's first message: the big-endian
	 * halfword at offset 4 of the host-order nlmsg_type RTM_NEWLINK (16)
	 * reads 0x1000. Letting only those through keeps the links; letting
	 * only NLMSG_ERROR (2, 0x0200) through keeps nothing. */
	struct sock_filter links[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x1000, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	EXPECT_EQ(attach(s, links, 4), 0);
	printf("only links: data %d\n", dump(s) > 0);
	links[1].k = 0x0200;
	EXPECT_EQ(attach(s, links, 4), 0);
	r = dump(s);
	printf("only errors: %s\n", r > 0 ? "data" : errname(-r));
	/* A filter that returns 20 cuts each message to 20 bytes. */
	struct sock_filter cut[] = {BPF_STMT(BPF_RET | BPF_K, 20)};
	EXPECT_EQ(attach(s, cut, 1), 0);
	r = dump(s);
	printf("cut to 20: a multiple of 20: %d\n", r > 0 && r % 20 == 0);

	/* Errors, in Linux's order. */
	struct sock_fprog p = {.len = 1, .filter = drop};
	EXPECT_ERR(setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &p, 8), EINVAL);
	p.filter = NULL;
	EXPECT_ERR(setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p), EINVAL);
	p.filter = (void *)8;
	EXPECT_ERR(setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p), EFAULT);
	p.len = 0;
	EXPECT_ERR(setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p), EINVAL);
	struct sock_filter bad[] = {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), BPF_STMT(BPF_RET | BPF_A, 0)};
	EXPECT_ERR(attach(s, bad, 2), EINVAL);
	struct sock_filter anc[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_MAX), BPF_STMT(BPF_RET | BPF_A, 0)};
	EXPECT_ERR(attach(s, anc, 2), EINVAL);
	struct sock_filter rnd[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_RANDOM), BPF_STMT(BPF_RET | BPF_K, 0xffff)};
	EXPECT_EQ(attach(s, rnd, 2), 0);

	/* Locked: the filter stays. */
	EXPECT_EQ(setsockopt(s, SOL_SOCKET, SO_LOCK_FILTER, &(int){1}, sizeof(int)), 0);
	int v = 0;
	socklen_t len = sizeof v;
	EXPECT_EQ(getsockopt(s, SOL_SOCKET, SO_LOCK_FILTER, &v, &len), 0);
	printf("locked: %d\n", v);
	EXPECT_ERR(attach(s, drop, 1), EPERM);
	EXPECT_ERR(setsockopt(s, SOL_SOCKET, SO_DETACH_FILTER, &(int){0}, sizeof(int)), EPERM);
	EXPECT_ERR(setsockopt(s, SOL_SOCKET, SO_LOCK_FILTER, &(int){0}, sizeof(int)), EPERM);
	EXPECT_ERR(setsockopt(s, SOL_SOCKET, SO_LOCK_FILTER, &(int){1}, 2), EINVAL);
	close(s);

	/* libudev's way: a uevent socket with a filter. */
	int u = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	CHECK("uevent socket", u >= 0);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 2};
	EXPECT_EQ(bind(u, (struct sockaddr *)&sa, sizeof sa), 0);
	struct sock_filter udev[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xfeedcafe, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	EXPECT_EQ(attach(u, udev, 4), 0);
	close(u);
	return ukt_exit();
}
