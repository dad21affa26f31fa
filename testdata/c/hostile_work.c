/*
 * hostile_work: system calls asked to do work proportional to a number the
 * program chose rather than to what exists.
 *
 * What a safe kernel does: the cost of one call follows what the call
 * finds (descriptors open, pages present), never the size of an empty
 * range or of an almost-full table, and no call holds a lock through
 * unbounded work: dup in a table of a million descriptors is as quick as
 * in an empty one, lseek(SEEK_DATA) in a file of 2^50 bytes with no pages
 * answers at once, fallocate of 2^50 bytes fails at once (ENOSPC), and
 * RLIMIT_NOFILE cannot go past nr_open (1048576).
 *
 *   hostile_work dup N   raise RLIMIT_NOFILE to N and dup until EMFILE,
 *                        timing the first and the last thousand dups (root)
 *   hostile_work fill N  the same, but most descriptors arrive 253 at a
 *                        time through SCM_RIGHTS (a million in seconds)
 *   hostile_work sparse  huge sparse file on /dev/shm: lseek, fallocate
 *                        (same output natively and under uk)
 *   hostile_work hostfds FILE  FILE (a host file uk serves) opened until
 *                        it fails, two closed, then a fork and a pipe: the
 *                        host fds uk holds for the files must not leave it
 *                        unable to start a process (run under uk with a
 *                        low fd limit: ENFILE)
 *   hostile_work killed  children looping in calls with counts in the
 *                        terabytes (mincore of 2 TiB, move_pages of 2^38
 *                        entries, KEYCTL_CAPABILITIES zeroing 2 TiB) are
 *                        sent SIGKILL: each must be gone
 *                        within a second (only under uk: Linux's
 *                        move_pages does not look at signals, and would
 *                        write a terabyte of statuses)
 */
#include "uktest.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* receive253 passes 253 copies of fd 0 through the socket pair and
 * receives them: 253 new descriptors for two system calls. It returns
 * how many arrived (fewer at the limit, with MSG_CTRUNC). */
static int receive253(int sv[2]) {
	enum { N = 253 };
	char data = 'x';
	struct iovec iov = {&data, 1};
	union {
		char buf[CMSG_SPACE(N * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof u.buf;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(N * sizeof(int));
	int *fds = (int *)CMSG_DATA(c);
	for (int i = 0; i < N; i++)
		fds[i] = 0;
	if (sendmsg(sv[0], &m, 0) != 1)
		return -1;
	m.msg_controllen = sizeof u.buf;
	if (recvmsg(sv[1], &m, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return 0;
	return (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
}

static int dups(long n, int fill) {
	struct rlimit rl = {1048577, 1048577};
	/* One past nr_open is refused. */
	printf("RLIMIT_NOFILE past nr_open: %s\n", setrlimit(RLIMIT_NOFILE, &rl) ? errname(errno) : "0");
	rl.rlim_cur = rl.rlim_max = n;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		printf("setrlimit %ld: %s (run as root)\n", n, errname(errno));
		return 1;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		return 1;
	long count = 5, err = 0;
	/* The first and the last thousand dups are timed a hundred at a time,
	 * and the fastest hundred of each compared: a pause of the machine
	 * (or of uk's garbage collector, with a million descriptors to
	 * scan) during one window must not look like a slow search. */
	double t0 = now(), first = 0, last = 0, lastStart = 0, chunk = 0;
	double firstMin = 1e9, lastMin = 1e9;
	for (;;) {
		if (fill && count > 1005 && count < n - 2000) {
			int got = receive253(sv);
			if (got <= 0) {
				printf("FAIL: SCM_RIGHTS gave %d\n", got);
				return 1;
			}
			count += got;
			continue;
		}
		int inFirst = count < 1005, inLast = count >= n - 1000;
		if (count == n - 1000)
			lastStart = now();
		if ((inFirst && (count - 5) % 100 == 0) || (inLast && (count - (n - 1000)) % 100 == 0))
			chunk = now();
		int fd = dup(0);
		if (fd < 0) {
			err = errno;
			break;
		}
		count++;
		if (inFirst && (count - 5) % 100 == 0) {
			double d = now() - chunk;
			firstMin = d < firstMin ? d : firstMin;
		}
		if (inLast && (count - (n - 1000)) % 100 == 0) {
			double d = now() - chunk;
			lastMin = d < lastMin ? d : lastMin;
		}
		if (count == 1005)
			first = now() - t0;
	}
	last = now() - lastStart;
	printf("open %ld\n", count);
	printf("stopped by %s\n", errname(err));
	/* The last thousand dups searched a nearly full table; the first an
	 * empty one. A linear search makes the last ones thousands of times
	 * slower (a millisecond a dup). Under uk in the test harness the last
	 * ones have also been up to 12 times slower for another reason, not
	 * found yet, which is not what this checks. */
	fprintf(stderr, "first 1000 dups: %.0f us (fastest 100: %.0f), last 1000: %.0f us (fastest 100: %.0f), all: %.1f s\n",
		first * 1e6, firstMin * 1e6, last * 1e6, lastMin * 1e6, now() - t0);
	printf("last/first: %s\n", lastMin < 50 * firstMin ? "under 50" : "50 or more");
	/* A hole at the bottom is found as fast. */
	close(10);
	printf("dup into a hole: %d\n", dup(0));
	return 0;
}

static int sparse(void) {
	const char *path = "/dev/shm/hostile_work_sparse";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		printf("open: %s\n", errname(errno));
		return 1;
	}
	unlink(path);
	off_t huge = (off_t)1 << 50;
	double t = now();
	printf("ftruncate 2^50: %s\n", ftruncate(fd, huge) ? errname(errno) : "0");
	off_t r = lseek(fd, 0, SEEK_DATA);
	printf("SEEK_DATA empty: %s\n", r < 0 ? errname(errno) : "found");
	r = lseek(fd, 12345, SEEK_HOLE);
	printf("SEEK_HOLE: %lld\n", (long long)r);
	pwrite(fd, "x", 1, huge / 2 + 100);
	r = lseek(fd, 0, SEEK_DATA);
	printf("SEEK_DATA: 2^49%+lld\n", (long long)(r - huge / 2));
	r = lseek(fd, huge / 2, SEEK_HOLE);
	printf("SEEK_HOLE after data: 2^49%+lld\n", (long long)(r - huge / 2));
	r = lseek(fd, huge / 2 + 4096, SEEK_DATA);
	printf("SEEK_DATA past the data: %s\n", r < 0 ? errname(errno) : "found");
	printf("fallocate 2^50: %s\n", fallocate(fd, 0, 0, huge) ? errname(errno) : "0");
	printf("fallocate KEEP_SIZE 2^50 at 2^50: %s\n",
	       fallocate(fd, FALLOC_FL_KEEP_SIZE, huge, huge) ? errname(errno) : "0");
	printf("fallocate ZERO_RANGE: %s\n", fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, huge) ? errname(errno) : "0");
	printf("PUNCH_HOLE 2^50: %s\n",
	       fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, huge) ? errname(errno) : "0");
	r = lseek(fd, 0, SEEK_DATA);
	printf("SEEK_DATA after the punch: %s\n", r < 0 ? errname(errno) : "found");
	double took = now() - t;
	printf("all in under a second: %s\n", took < 1 ? "yes" : "no");
	return 0;
}

/* killed_in forks a child that repeats call(p, v) over two fresh 2 TiB
 * reserved areas (p readable, v writable), kills it 100 ms later and
 * prints whether it died of the kill within a second. */
static void killed_in(const char *name, void (*call)(char *p, char *v, size_t len)) {
	size_t len = 1UL << 41;
	pid_t pid = fork();
	if (pid == 0) {
		char *p = mmap(0, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		char *v = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED || v == MAP_FAILED)
			_exit(1);
		for (;;)
			call(p, v, len);
	}
	usleep(100000);
	double t0 = now();
	kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
	double took = now() - t0;
	printf("%s: killed within a second: %s\n", name,
	       WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && took < 1 ? "yes" : "no");
	if (took >= 1)
		printf("  (it took %.1f s)\n", took);
}

static void call_mincore(char *p, char *v, size_t len) { mincore(p, len, (unsigned char *)v); }
static void call_move_pages(char *p, char *v, size_t len) {
	syscall(SYS_move_pages, 0, len / 8, p, NULL, v, 0);
}
static void call_keyctl_caps(char *p, char *v, size_t len) {
	syscall(SYS_keyctl, 31 /* KEYCTL_CAPABILITIES */, v, len);
}

/* hostfds opens path until open fails, then forks and makes a pipe. */
static int hostfds(const char *path) {
	struct rlimit rl = {1 << 20, 1 << 20};
	setrlimit(RLIMIT_NOFILE, &rl);
	long n = 0;
	int last = -1, fd;
	while ((fd = open(path, O_RDONLY)) >= 0) {
		n++;
		last = fd;
	}
	int e = errno;
	printf("opens stopped by %s\n", e == ENFILE ? "ENFILE" : e == EMFILE ? "EMFILE" : strerror(e));
	close(last); /* room in the program's own table for the pipe */
	close(last - 1);
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	int st = 0;
	if (pid > 0)
		waitpid(pid, &st, 0);
	printf("fork after them: %s\n", pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7 ? "works" : strerror(errno));
	int p[2];
	printf("pipe after them: %s\n", pipe(p) == 0 ? "works" : strerror(errno));
	fprintf(stderr, "hostfds: %ld opens, stopped by %s\n", n, strerror(e));
	return 0;
}

int main(int argc, char **argv) {
	if (argc >= 3 && !strcmp(argv[1], "hostfds"))
		return hostfds(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "killed")) {
		killed_in("mincore", call_mincore);
		killed_in("move_pages", call_move_pages);
		killed_in("keyctl", call_keyctl_caps);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "dup"))
		return dups(atol(argv[2]), 0);
	if (argc >= 3 && !strcmp(argv[1], "fill"))
		return dups(atol(argv[2]), 1);
	if (argc >= 2 && !strcmp(argv[1], "sparse"))
		return sparse();
	return 2;
}
