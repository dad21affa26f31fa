/*
 * hostile_mem: system calls that ask the kernel to hold far more memory
 * than the program has: writev of a gigabyte made of one buffer repeated,
 * pipes and sockets filled to their largest sizes, a huge datagram, a
 * million open files, huge descriptor tables. Run it only under uk with
 * a small --mem (hostile_test.go does).
 *
 * What a safe kernel does: it copies big writes through bounded buffers,
 * and charges what it must hold (pipe and socket buffers, a datagram being
 * gathered, descriptor tables, open files) to the sandbox's memory, so
 * the program gets ENOMEM, ENOBUFS or EAGAIN once that is spent and the
 * kernel's own footprint stays within a fixed bound above the sandbox's
 * memory limit.
 *
 *   hostile_mem writev T   T threads writev 1024 x 2 MiB (one 2 MiB buffer)
 *                          to /dev/null for a second, then to a pipe
 *                          nobody reads, where they block
 *   hostile_mem pipes N    N pipes grown to 1 MiB, filled without blocking
 *   hostile_mem sockets N  N unix stream pairs with 1 GiB send buffers
 *                          (SO_SNDBUFFORCE), filled without blocking
 *   hostile_mem dgram      a 512 MiB datagram gathered from 256 iovecs
 *   hostile_mem files      open /dev/null until it fails (RLIMIT 1M)
 *   hostile_mem tables N   N processes each dup2 to fd 1048575
 *   hostile_mem filters    4096-instruction socket filters on netlink
 *                          sockets until it fails
 *   hostile_mem mqueues    a POSIX message queue of 65536 x 1 MiB
 *                          messages (RLIMIT_MSGQUEUE unlimited) filled
 *                          until it fails
 *   hostile_mem sysv       System V message queues of 1 GiB (root may)
 *                          filled until it fails; then semaphore sets of
 *                          32000 until it fails
 *   hostile_mem aio        AIO contexts of one event (each a ring of a
 *                          page, in the process and in the kernel) made
 *                          until it fails
 *   hostile_mem procfiles  16,000 mappings, then /proc/self/smaps opened
 *                          and read (each description keeps its 12 MB)
 *                          until it fails
 *   hostile_mem epoll      1000 epoll instances each watching every one
 *                          of more and more descriptors until it fails
 *   hostile_mem cycles     20,000 unix socket pairs each passed over
 *                          itself (SCM_RIGHTS) and closed: unreachable
 *                          cycles a collector must free; a socket in
 *                          flight on a queue still open must survive them
 *   hostile_mem landlock   a Landlock ruleset of 16384 port rules, then
 *                          children each stacking it 16 times (a copy of
 *                          the rules a layer) and staying, until one fails
 *   hostile_mem names      symbolic links with 4000-byte targets and
 *                          200-byte names, then hard links to one file,
 *                          made in a tmpfs directory until it fails; all
 *                          removed, and made again
 *   hostile_mem poison     64 GiB of reserved memory registered with a
 *                          userfaultfd, poisoned (UFFDIO_POISON: a marker
 *                          for each missing page) until it fails
 *
 * Each mode prints what stopped it and how much it got the kernel to
 * hold, in MiB, and ends within a few seconds.
 */
#include "uktest.h"
#include <linux/filter.h>
#include <linux/netlink.h>
#include <mqueue.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#define MiB (1L << 20)

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *buf2m;
static struct iovec iov[1024];
static int sink = -1;

static void setup_iov(void) {
	buf2m = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf2m, 'x', 2 * MiB);
	for (int i = 0; i < 1024; i++) {
		iov[i].iov_base = buf2m;
		iov[i].iov_len = 2 * MiB;
	}
}

static void *writer(void *arg) {
	int fd = *(int *)arg;
	double end = now() + 1;
	while (now() < end)
		if (writev(fd, iov, 1024) < 0)
			break;
	/* Then block in a writev to a full pipe until the process ends. */
	writev(sink, iov, 1024);
	return NULL;
}

static int writev_mode(int threads) {
	setup_iov();
	int null = open("/dev/null", O_WRONLY);
	int p[2];
	if (pipe(p))
		return 1;
	sink = p[1];
	long got = writev(null, iov, 1024);
	printf("one writev to /dev/null: %ld MiB\n", got / MiB);
	pthread_t t[64];
	for (int i = 0; i < threads && i < 64; i++)
		pthread_create(&t[i], NULL, writer, &null);
	sleep(2);
	printf("writers still alive\n");
	return 0; /* exit_group ends the blocked writers */
}

static int pipes_mode(int n) {
	struct rlimit rl = {4 * n + 64, 4 * n + 64};
	setrlimit(RLIMIT_NOFILE, &rl);
	long held = 0;
	int stop = 0;
	char *page = malloc(64 << 10);
	memset(page, 'p', 64 << 10);
	for (int i = 0; i < n && !stop; i++) {
		int p[2];
		if (pipe2(p, O_NONBLOCK)) {
			stop = errno;
			break;
		}
		fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
		for (;;) {
			long w = write(p[1], page, 64 << 10);
			if (w < 0) {
				if (errno != EAGAIN)
					stop = errno;
				break;
			}
			held += w;
		}
	}
	/* Memory is spent: give it back before anything else needs some. */
	syscall(SYS_close_range, 3, ~0U, 0);
	printf("pipes: stopped by %s\n", errname(stop));
	fprintf(stderr, "pipes held %ld MiB\n", held / MiB);
	return 0;
}

static int sockets_mode(int n) {
	struct rlimit rl = {4 * n + 64, 4 * n + 64};
	setrlimit(RLIMIT_NOFILE, &rl);
	long held = 0;
	int stop = 0;
	char *chunk = malloc(1 << 20);
	memset(chunk, 's', 1 << 20);
	for (int i = 0; i < n && !stop; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv)) {
			stop = errno;
			break;
		}
		int big = 1 << 30;
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
		for (;;) {
			long w = write(sv[0], chunk, 1 << 20);
			if (w < 0) {
				if (errno != EAGAIN)
					stop = errno;
				break;
			}
			held += w;
		}
	}
	syscall(SYS_close_range, 3, ~0U, 0);
	printf("sockets: stopped by %s\n", errname(stop));
	fprintf(stderr, "sockets held %ld MiB\n", held / MiB);
	return 0;
}

static int dgram_mode(void) {
	setup_iov();
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		return 1;
	int big = 1 << 30;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
	struct msghdr m = {0};
	m.msg_iov = iov;
	m.msg_iovlen = 256;
	long r = sendmsg(sv[0], &m, 0);
	printf("512 MiB datagram: %s\n", r < 0 ? errname(errno) : "sent");
	return 0;
}

static int files_mode(void) {
	struct rlimit rl = {1 << 20, 1 << 20};
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		printf("setrlimit: %s\n", errname(errno));
		return 1;
	}
	long n = 0;
	int err = 0;
	for (;;) {
		if (open("/dev/null", O_RDONLY) < 0) {
			err = errno;
			break;
		}
		n++;
	}
	syscall(SYS_close_range, 3, ~0U, 0);
	printf("files: stopped by %s\n", errname(err));
	fprintf(stderr, "files opened %ld\n", n);
	return 0;
}

/* filters_mode attaches the largest socket filter (4096 instructions) to
 * netlink socket after netlink socket: the kernel holds every program. */
static int filters_mode(void) {
	struct rlimit rl = {1 << 20, 1 << 20};
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		printf("setrlimit: %s\n", errname(errno));
		return 1;
	}
	/* Allocated here, not static: the other modes' processes keep their
	 * small footprint. */
	struct sock_filter *prog = calloc(4096, sizeof *prog);
	if (!prog)
		return 1;
	for (int i = 0; i < 4095; i++)
		prog[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_IMM, i);
	prog[4095] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffff);
	struct sock_fprog fp = {.len = 4096, .filter = prog};
	long n = 0;
	const char *where = "socket";
	int err = 0;
	for (;;) {
		int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
		if (s < 0) {
			err = errno;
			break;
		}
		if (setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) != 0) {
			err = errno;
			where = "setsockopt";
			break;
		}
		n++;
	}
	syscall(SYS_close_range, 3, ~0U, 0);
	printf("filters: %s stopped by %s\n", where, errname(err));
	fprintf(stderr, "filters attached %ld (%ld MiB of programs)\n", n, n * 32768 >> 20);
	return 0;
}

/* sysv_mode has the kernel hold messages, then semaphore sets, until it
 * refuses. */
static int sysv_mode(void) {
	static struct {
		long type;
		char text[8192];
	} m = {.type = 1};
	int ids[256], nq = 0, err = 0;
	long bytes = 0;
	while (nq < 256) {
		int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
		if (q < 0) {
			err = errno;
			break;
		}
		ids[nq++] = q;
		struct msqid_ds ds;
		msgctl(q, IPC_STAT, &ds);
		ds.msg_qbytes = 1 << 30;
		msgctl(q, IPC_SET, &ds);
		while (msgsnd(q, &m, sizeof m.text, IPC_NOWAIT) == 0)
			bytes += sizeof m.text;
		err = errno;
		if (err != EAGAIN)
			break;
	}
	/* Memory is spent: give it back before anything else (a page fault
	 * now would find none). */
	for (int i = 0; i < nq; i++)
		msgctl(ids[i], IPC_RMID, NULL);
	printf("msgsnd: stopped by %s\n", errname(err));
	fprintf(stderr, "messages held %ld MiB in %d queues\n", bytes >> 20, nq);
	long sets = 0;
	for (; sets < 256; sets++) {
		if ((ids[sets] = semget(IPC_PRIVATE, 32000, IPC_CREAT | 0600)) < 0) {
			err = errno;
			break;
		}
	}
	for (int i = 0; i < sets; i++)
		semctl(ids[i], 0, IPC_RMID);
	printf("semget: stopped by %s\n", errname(err));
	fprintf(stderr, "semaphore sets of 32000 made %ld\n", sets);
	return 0;
}

static int tables_mode(int n) {
	struct rlimit rl = {1 << 20, 1 << 20};
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		printf("setrlimit: %s\n", errname(errno));
		return 1;
	}
	int p[2];
	if (pipe(p))
		return 1;
	int ok = 0, refused = 0;
	pid_t kids[256];
	int nk = 0;
	for (int i = 0; i < n && i < 256; i++) {
		int r[2];
		if (pipe(r))
			break;
		pid_t pid = fork();
		if (pid < 0)
			break;
		if (pid == 0) {
			char c = dup2(0, (1 << 20) - 1) < 0 && errno == ENOMEM ? 'n' : (errno = 0, 'y');
			/* With memory spent the pipe may refuse this byte too:
			 * closing r then tells the parent all the same. */
			write(r[1], &c, 1);
			close(r[1]);
			close(p[1]);
			read(p[0], &c, 1); /* hold the table until the parent is done */
			_exit(0);
		}
		kids[nk++] = pid;
		/* A child the OOM killer ends before it answers (memory is
		 * spent: its first copy-on-write fault found none) closes r. */
		close(r[1]);
		char c = 'k';
		read(r[0], &c, 1);
		close(r[0]);
		if (c == 'y')
			ok++;
		else
			refused++;
	}
	close(p[1]);
	for (int i = 0; i < nk; i++)
		waitpid(kids[i], NULL, 0);
	printf("tables: %s\n", refused ? "ENOMEM once memory was spent" : "never refused");
	fprintf(stderr, "tables: %d of 8 MiB, %d refused\n", ok, refused);
	return 0;
}

static int mqueues_mode(void) {
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
	if (setrlimit(RLIMIT_MSGQUEUE, &rl)) {
		printf("setrlimit: %s\n", errname(errno));
		return 1;
	}
	struct mq_attr a = {.mq_maxmsg = 65536, .mq_msgsize = MiB};
	mqd_t q = mq_open("/hostile_mem", O_RDWR | O_CREAT | O_NONBLOCK, 0600, &a);
	if (q < 0) {
		printf("mq_open: %s\n", errname(errno));
		return 1;
	}
	mq_unlink("/hostile_mem");
	char *m = malloc(MiB);
	memset(m, 'm', MiB);
	long n = 0;
	while (mq_send(q, m, MiB, n % 100) == 0)
		n++;
	int e = errno;
	printf("mqueues: stopped by %s\n", errname(e));
	fprintf(stderr, "mqueues: %ld MiB queued\n", n);
	return 0;
}

static int aio_mode(void) {
	long n = 0;
	for (;;) {
		unsigned long ctx = 0;
		if (syscall(SYS_io_setup, 1, &ctx) != 0)
			break;
		n++;
	}
	int e = errno;
	printf("aio: stopped by %s\n", errname(e));
	fprintf(stderr, "aio: %ld contexts\n", n);
	return 0;
}

/* procfiles_mode makes 16,000 mappings (every other page of a reservation
 * readable) and opens /proc/self/smaps again and again, reading a byte of
 * each: every open description keeps the whole generated file (about 12
 * MB here), which must be charged to the sandbox until memory is spent. */
static int procfiles_mode(void) {
	struct rlimit rl = {1 << 20, 1 << 20};
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		printf("setrlimit: %s\n", errname(errno));
		return 1;
	}
	enum { vmas = 16000 };
	char *r = mmap(NULL, 2L * vmas * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED) {
		printf("mmap: %s\n", errname(errno));
		return 1;
	}
	for (long i = 0; i < vmas; i++)
		if (mprotect(r + 2 * i * 4096, 4096, PROT_READ)) {
			printf("mprotect %ld: %s\n", i, errname(errno));
			return 1;
		}
	long n = 0;
	int err = 0;
	for (;;) {
		int fd = open("/proc/self/smaps", O_RDONLY);
		char c;
		if (fd < 0) {
			err = errno;
			break;
		}
		if (read(fd, &c, 1) != 1) {
			err = errno;
			break;
		}
		n++;
	}
	syscall(SYS_close_range, 3, ~0U, 0);
	printf("procfiles: stopped by %s\n", errname(err));
	fprintf(stderr, "procfiles: %ld smaps kept\n", n);
	return 0;
}

/* epoll_mode makes 1000 epoll instances and adds each new descriptor (a
 * dup of one eventfd) to all of them: a million interests from a
 * thousand descriptors. */
static int epoll_mode(void) {
	enum { N = 1000 };
	static int eps[N];
	struct rlimit rl = {1 << 20, 1 << 20};
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		printf("setrlimit: %s\n", errname(errno));
		return 1;
	}
	for (int i = 0; i < N; i++)
		if ((eps[i] = epoll_create1(0)) < 0) {
			printf("epoll_create1: %s\n", errname(errno));
			return 1;
		}
	int base = eventfd(0, 0);
	long n = 0;
	int err = 0;
	while (!err) {
		int fd = dup(base);
		if (fd < 0) {
			err = errno;
			break;
		}
		for (int i = 0; i < N; i++) {
			struct epoll_event ev = {.events = EPOLLIN};
			if (epoll_ctl(eps[i], EPOLL_CTL_ADD, fd, &ev)) {
				err = errno;
				break;
			}
			n++;
		}
	}
	printf("epoll: stopped by %s\n", errname(err));
	fprintf(stderr, "epoll: %ld interests\n", n);
	return 0;
}

/* landlock_mode: every layer copies the ruleset's rules, and layers live
 * as long as the processes that stacked them. */
static int landlock_mode(void) {
	struct {
		unsigned long long fs, net, scoped;
	} attr = {0, 1 /* LANDLOCK_ACCESS_NET_BIND_TCP */, 0};
	int rs = syscall(SYS_landlock_create_ruleset, &attr, 16, 0);
	if (rs < 0) {
		printf("landlock_create_ruleset: %s\n", errname(errno));
		return 1;
	}
	for (unsigned long long p = 1; p <= 16384; p++) {
		struct {
			unsigned long long allowed, port;
		} __attribute__((packed)) rule = {1, p};
		if (syscall(SYS_landlock_add_rule, rs, 2 /* LANDLOCK_RULE_NET_PORT */, &rule, 0)) {
			printf("landlock_add_rule: %s\n", errname(errno));
			return 1;
		}
	}
	int err = 0, kids = 0;
	pid_t pids[14];
	while (!err && kids < 14) {
		int p[2];
		pipe(p);
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			int e = 0;
			for (int i = 0; i < 16 && !e; i++)
				if (syscall(SYS_landlock_restrict_self, rs, 0))
					e = errno;
			write(p[1], &e, sizeof e);
			if (e)
				_exit(0);
			pause();
		}
		pids[kids++] = pid;
		read(p[0], &err, sizeof err);
		close(p[0]);
		close(p[1]);
		if (err == E2BIG)
			err = 0; /* sixteen layers: the most a domain has */
	}
	printf("landlock: layers stopped by %s\n", err ? errname(err) : "nothing");
	fprintf(stderr, "landlock: %d children\n", kids);
	for (int i = 0; i < kids; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	return 0;
}

/* one_byte_msg makes m a message of the byte at c with room for one
 * descriptor in ctl. */
union fd_control {
	char b[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};
static void one_byte_msg(struct msghdr *m, struct iovec *iov, char *c, union fd_control *ctl) {
	*iov = (struct iovec){c, 1};
	*m = (struct msghdr){.msg_iov = iov, .msg_iovlen = 1, .msg_control = ctl->b, .msg_controllen = sizeof ctl->b};
}

/* send_fd passes fd over the socket s. */
static int send_fd(int s, int fd) {
	char c = 'x';
	struct iovec iov;
	union fd_control u;
	struct msghdr m;
	one_byte_msg(&m, &iov, &c, &u);
	struct cmsghdr *c2 = CMSG_FIRSTHDR(&m);
	c2->cmsg_level = SOL_SOCKET;
	c2->cmsg_type = SCM_RIGHTS;
	c2->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c2), &fd, sizeof fd);
	return sendmsg(s, &m, 0);
}

/* recv_fd receives one passed descriptor from s, or -1. */
static int recv_fd(int s) {
	char c;
	struct iovec iov;
	union fd_control u;
	struct msghdr m;
	one_byte_msg(&m, &iov, &c, &u);
	if (recvmsg(s, &m, 0) != 1 || !CMSG_FIRSTHDR(&m))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
	return fd;
}

/* cycles_mode makes garbage the kernel must collect, around a socket in
 * flight that must not be collected. */
static int cycles_mode(void) {
	int a[2], b[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, a);
	socketpair(AF_UNIX, SOCK_STREAM, 0, b);
	send_fd(b[0], a[0]); /* a[0] now only in flight, on b[1]'s queue */
	close(a[0]);
	long i;
	int err = 0;
	for (i = 0; i < 20000; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
			err = errno;
			break;
		}
		if (send_fd(sv[0], sv[0]) < 0 || send_fd(sv[1], sv[1]) < 0) {
			err = errno;
			break;
		}
		close(sv[0]);
		close(sv[1]);
	}
	if (err)
		printf("cycles: stopped by %s\n", errname(err));
	else
		printf("cycles: 20000 made\n");
	int got = recv_fd(b[1]);
	char c = 0;
	int ok = got >= 0 && write(got, "y", 1) == 1 && read(a[1], &c, 1) == 1 && c == 'y';
	printf("the socket in flight on an open queue: %s\n", ok ? "works" : "lost");
	fprintf(stderr, "cycles: %ld made\n", i);
	return 0;
}

/* make_names makes symbolic links (long targets) or hard links (to
 * /tmp/hostile_names/f) named dir/<200 bytes>N until one fails, and
 * returns how many it made. */
static long make_names(const char *dir, int hard, long max) {
	static char target[4001], name[512];
	memset(target, 't', 4000);
	long n = 0;
	for (; n < max; n++) {
		snprintf(name, sizeof name, "%s/%0200ld", dir, n);
		if (hard ? link("/tmp/hostile_names/f", name) : symlink(target, name))
			break;
	}
	return n;
}

static void unmake_names(const char *dir, long n) {
	char name[512];
	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof name, "%s/%0200ld", dir, i);
		unlink(name);
	}
}

/* names_mode fills a tmpfs directory with names the kernel must keep:
 * what each takes (the entry, its name, a link's target) is memory no
 * page counts. Then it removes them and checks the memory came back. */
static int names_mode(void) {
	mkdir("/tmp/hostile_names", 0700);
	close(open("/tmp/hostile_names/f", O_CREAT | O_WRONLY, 0600));
	long s = make_names("/tmp/hostile_names", 0, 10000000);
	int es = errno;
	unmake_names("/tmp/hostile_names", s);
	long h = make_names("/tmp/hostile_names", 1, 100000000);
	int eh = errno;
	unmake_names("/tmp/hostile_names", h);
	long again = make_names("/tmp/hostile_names", 0, s);
	unmake_names("/tmp/hostile_names", again);
	printf("symlinks: stopped by %s\n", errname(es));
	printf("hard links: stopped by %s\n", errname(eh));
	printf("symlinks again after removing them: %s\n", again == s ? "as many" : "fewer");
	fprintf(stderr, "names: %ld symlinks, %ld hard links, %ld symlinks again\n", s, h, again);
	return 0;
}

/* poison_mode poisons the pages of a 64 GiB reservation through a
 * userfaultfd: no page is ever allocated, but each poisoned page needs a
 * marker the kernel keeps (16 million of them). */
static int poison_mode(void) {
	struct {
		unsigned long start, len, mode;
		long updated;
	} p;
	struct {
		unsigned long api, features, ioctls;
	} api = {0xaa, 1 << 14 /* UFFD_FEATURE_POISON */, 0};
	struct {
		unsigned long start, len, mode, ioctls;
	} reg;
	const unsigned long len = 64UL << 30;
	char *r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (r == MAP_FAILED || fd < 0 || ioctl(fd, 0xc018aa3f /* UFFDIO_API */, &api) != 0) {
		printf("setup: %s\n", errname(errno));
		return 1;
	}
	reg = (typeof(reg)){(unsigned long)r, len, 1 /* MODE_MISSING */, 0};
	if (ioctl(fd, 0xc020aa00 /* UFFDIO_REGISTER */, &reg) != 0) {
		printf("register: %s\n", errname(errno));
		return 1;
	}
	unsigned long done = 0;
	int err = 0;
	while (done < len) {
		p = (typeof(p)){(unsigned long)r + done, len - done, 0, 0};
		int rc = ioctl(fd, 0xc020aa08 /* UFFDIO_POISON */, &p);
		if (p.updated > 0)
			done += p.updated;
		if (rc != 0 && errno != EAGAIN) {
			err = errno;
			break;
		}
	}
	if (err)
		printf("poison: stopped by %s\n", errname(err));
	else
		printf("poison: all 64 GiB poisoned\n");
	fprintf(stderr, "poison: %lu MiB poisoned\n", done >> 20);
	return 0;
}

int main(int argc, char **argv) {
	/* stdio's buffer, before memory runs short. */
	printf("hostile_mem %s\n", argc > 1 ? argv[1] : "");
	if (argc >= 3 && !strcmp(argv[1], "writev"))
		return writev_mode(atoi(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "pipes"))
		return pipes_mode(atoi(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "sockets"))
		return sockets_mode(atoi(argv[2]));
	if (argc >= 2 && !strcmp(argv[1], "dgram"))
		return dgram_mode();
	if (argc >= 2 && !strcmp(argv[1], "files"))
		return files_mode();
	if (argc >= 3 && !strcmp(argv[1], "tables"))
		return tables_mode(atoi(argv[2]));
	if (argc >= 2 && !strcmp(argv[1], "filters"))
		return filters_mode();
	if (argc >= 2 && !strcmp(argv[1], "mqueues"))
		return mqueues_mode();
	if (argc >= 2 && !strcmp(argv[1], "sysv"))
		return sysv_mode();
	if (argc >= 2 && !strcmp(argv[1], "poison"))
		return poison_mode();
	if (argc >= 2 && !strcmp(argv[1], "names"))
		return names_mode();
	if (argc >= 2 && !strcmp(argv[1], "epoll"))
		return epoll_mode();
	if (argc >= 2 && !strcmp(argv[1], "cycles"))
		return cycles_mode();
	if (argc >= 2 && !strcmp(argv[1], "landlock"))
		return landlock_mode();
	if (argc >= 2 && !strcmp(argv[1], "aio"))
		return aio_mode();
	if (argc >= 2 && !strcmp(argv[1], "procfiles"))
		return procfiles_mode();
	return 2;
}
