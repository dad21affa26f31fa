/* aio.c: Linux AIO compared with Linux (LTP's io_setup, io_destroy,
 * io_submit, io_getevents, io_pgetevents and io_cancel cases): argument
 * checks in their order, reads, writes and fsyncs completing through the
 * ring, eventfd notification, the ring's header in the process's memory,
 * a full ring, contexts not inherited by fork. Ring sizes depend on the
 * CPU count, so they are printed only as relations. */
#include "uktest.h"
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <pthread.h>
#include <sys/time.h>

static aio_context_t waiter_ctx;
static long waiter_got;
static void *waiter(void *a) {
	struct io_event e;
	waiter_got = syscall(SYS_io_getevents, waiter_ctx, 1, 1, &e, NULL);
	return a;
}
static void on_alarm(int s) { (void)s; }

static long io_setup(unsigned n, aio_context_t *c) { return syscall(SYS_io_setup, n, c); }
static long io_destroy(aio_context_t c) { return syscall(SYS_io_destroy, c); }
static long io_submit(aio_context_t c, long n, struct iocb **v) { return syscall(SYS_io_submit, c, n, v); }
static long io_getevents(aio_context_t c, long mn, long n, struct io_event *e, struct timespec *ts) {
	return syscall(SYS_io_getevents, c, mn, n, e, ts);
}
static long io_cancel(aio_context_t c, struct iocb *cb, struct io_event *r) { return syscall(SYS_io_cancel, c, cb, r); }

struct ring {
	unsigned id, nr, head, tail, magic, compat, incompat, header;
};

static void prep(struct iocb *cb, int fd, int op, void *buf, size_t n, long long off, uint64_t data) {
	memset(cb, 0, sizeof *cb);
	cb->aio_fildes = fd;
	cb->aio_lio_opcode = op;
	cb->aio_buf = (uint64_t)buf;
	cb->aio_nbytes = n;
	cb->aio_offset = off;
	cb->aio_data = data;
}

static int in_maps(void) {
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	while (fgets(line, sizeof line, f)) n += strstr(line, "/[aio] (deleted)") != NULL;
	fclose(f);
	return n;
}

int main(void) {
	aio_context_t ctx = 0, bad = 0;
	/* io_setup */
	EXPECT_ERR(io_setup(0, &ctx), EINVAL);
	EXPECT_ERR(io_setup(1, (void *)-1), EFAULT);
	aio_context_t nonzero = 1;
	EXPECT_ERR(io_setup(1, &nonzero), EINVAL);
	EXPECT_ERR(io_setup(1 << 30, &ctx), EINVAL);
	EXPECT_ERR(io_setup(70000, &ctx), EAGAIN);
	EXPECT_OK(io_setup(8, &ctx));
	struct ring *r = (struct ring *)ctx;
	printf("ring: magic %x id %x compat %u incompat %u header %u head %u tail %u, nr at least 16 %d\n", r->magic, r->id,
	       r->compat, r->incompat, r->header, r->head, r->tail, r->nr >= 16);
	printf("ring mappings %d\n", in_maps());

	char path[] = "/tmp/aio.XXXXXX";
	int fd = mkstemp(path);
	int rd = open(path, O_RDONLY), wr = open(path, O_WRONLY);
	char buf[64] = {0};
	struct iocb cb, cb2, *v[2] = {&cb, &cb2};
	/* io_submit checks */
	prep(&cb, fd, IOCB_CMD_PWRITE, "hello", 5, 0, 7);
	EXPECT_ERR(io_submit(bad, 1, v), EINVAL);
	EXPECT_ERR(io_submit(ctx, -1, v), EINVAL);
	EXPECT_EQ(io_submit(ctx, 0, v), 0);
	EXPECT_ERR(io_submit(ctx, 1, (void *)-1), EFAULT);
	struct iocb *nul[1] = {NULL};
	EXPECT_ERR(io_submit(ctx, 1, nul), EFAULT);
	prep(&cb2, -1, IOCB_CMD_PREAD, buf, 5, 0, 0);
	struct iocb *one[1] = {&cb2};
	EXPECT_ERR(io_submit(ctx, 1, one), EBADF);
	prep(&cb2, rd, IOCB_CMD_PWRITE, buf, 5, 0, 0);
	EXPECT_ERR(io_submit(ctx, 1, one), EBADF);
	prep(&cb2, wr, IOCB_CMD_PREAD, buf, 5, 0, 0);
	EXPECT_ERR(io_submit(ctx, 1, one), EBADF);
	prep(&cb2, fd, 99, buf, 5, 0, 0);
	EXPECT_ERR(io_submit(ctx, 1, one), EINVAL);
	prep(&cb2, fd, IOCB_CMD_PREAD, buf, 5, -1, 0);
	EXPECT_ERR(io_submit(ctx, 1, one), EINVAL);
	prep(&cb2, fd, IOCB_CMD_PREAD, buf, 5, 0, 0);
	cb2.aio_reserved2 = 1;
	EXPECT_ERR(io_submit(ctx, 1, one), EINVAL);
	prep(&cb2, fd, IOCB_CMD_FSYNC, NULL, 1, 0, 0);
	EXPECT_ERR(io_submit(ctx, 1, one), EINVAL);
	prep(&cb2, fd, IOCB_CMD_PREAD, buf, 5, 0, 0);
	cb2.aio_rw_flags = 0x80000000;
	EXPECT_ERR(io_submit(ctx, 1, one), EOPNOTSUPP);
	printf("nothing completed: head %u tail %u\n", r->head, r->tail);
	/* a write then a read, with a second that stops at the first failure */
	prep(&cb2, fd, IOCB_CMD_PREAD, buf, 5, 0, 8);
	EXPECT_EQ(io_submit(ctx, 2, v), 2);
	printf("after two: tail-head %u\n", (r->tail - r->head + r->nr) % r->nr);
	struct io_event ev[8];
	EXPECT_ERR(io_getevents(ctx, 2, 1, ev, NULL), EINVAL);
	EXPECT_ERR(io_getevents(bad, 1, 1, ev, NULL), EINVAL);
	EXPECT_ERR(io_getevents(ctx, 0, -1, ev, NULL), EINVAL);
	EXPECT_ERR(io_getevents(ctx, 1, 1, ev, (void *)-1), EFAULT);
	EXPECT_ERR(io_getevents(ctx, 1, 1, (void *)-1, NULL), EFAULT);
	struct timespec zero = {0, 0};
	EXPECT_EQ(io_getevents(ctx, 1, 8, ev, &zero), 2);
	for (int i = 0; i < 2; i++)
		printf("event: data %llu obj ok %d res %lld res2 %lld\n", (unsigned long long)ev[i].data,
		       ev[i].obj == (uint64_t)v[i], (long long)ev[i].res, (long long)ev[i].res2);
	printf("key zeroed %d\n", cb.aio_key == 0);
	EXPECT_EQ(io_getevents(ctx, 0, 8, ev, &zero), 0);
	struct timespec ms = {0, 10000000};
	EXPECT_EQ(io_getevents(ctx, 1, 8, ev, &ms), 0);
	printf("head==tail %d\n", r->head == r->tail);
	prep(&cb2, fd, IOCB_CMD_PREAD, buf, 5, 0, 9);
	EXPECT_EQ(io_submit(ctx, 1, one), 1);
	EXPECT_EQ(io_getevents(ctx, 1, 8, ev, NULL), 1);
	printf("read: data %llu res %lld buf %s\n", (unsigned long long)ev[0].data, (long long)ev[0].res, buf);
	/* a fault in the operation itself is its result */
	void *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	prep(&cb2, fd, IOCB_CMD_PREAD, hole, 5, 0, 10);
	EXPECT_EQ(io_submit(ctx, 1, one), 1);
	EXPECT_EQ(io_getevents(ctx, 1, 8, ev, NULL), 1);
	printf("faulting read: res %lld\n", (long long)ev[0].res);
	prep(&cb2, fd, IOCB_CMD_PREAD, buf, 5, 100, 11); /* past the end */
	EXPECT_EQ(io_submit(ctx, 1, one), 1);
	EXPECT_EQ(io_getevents(ctx, 1, 8, ev, NULL), 1);
	printf("read past end: res %lld\n", (long long)ev[0].res);
	/* fsync (Linux runs it on a worker: wait for its event) and an eventfd */
	int efd = eventfd(0, EFD_NONBLOCK);
	prep(&cb2, fd, IOCB_CMD_FDSYNC, NULL, 0, 0, 12);
	cb2.aio_flags = IOCB_FLAG_RESFD;
	cb2.aio_resfd = efd;
	EXPECT_EQ(io_submit(ctx, 1, one), 1);
	EXPECT_EQ(io_getevents(ctx, 1, 8, ev, NULL), 1);
	printf("fdsync: data %llu res %lld\n", (unsigned long long)ev[0].data, (long long)ev[0].res);
	uint64_t cnt = 0;
	EXPECT_EQ(read(efd, &cnt, 8), 8);
	printf("eventfd count %lu\n", (unsigned long)cnt);
	cb2.aio_resfd = fd;
	EXPECT_ERR(io_submit(ctx, 1, one), EINVAL);
	cb2.aio_resfd = 999;
	EXPECT_ERR(io_submit(ctx, 1, one), EBADF);
	/* vectored */
	char a1[3] = {0}, a2[8] = {0};
	struct iovec iov[2] = {{a1, 2}, {a2, 3}};
	prep(&cb2, fd, IOCB_CMD_PREADV, iov, 2, 0, 13);
	EXPECT_EQ(io_submit(ctx, 1, one), 1);
	EXPECT_EQ(io_getevents(ctx, 1, 8, ev, NULL), 1);
	printf("preadv: res %lld %s|%s\n", (long long)ev[0].res, a1, a2);
	/* io_pgetevents */
	struct { sigset_t *m; size_t n; } us = {NULL, 4};
	sigset_t mask;
	sigemptyset(&mask);
	us.m = &mask;
	EXPECT_ERR(syscall(SYS_io_pgetevents, ctx, 0, 8, ev, &zero, &us), EINVAL);
	us.n = 8;
	EXPECT_EQ(syscall(SYS_io_pgetevents, ctx, 0, 8, ev, &zero, &us), 0);
	EXPECT_ERR(syscall(SYS_io_pgetevents, ctx, 0, 8, ev, &zero, (void *)-1), EFAULT);
	/* io_cancel */
	EXPECT_ERR(io_cancel(ctx, (void *)-1, ev), EFAULT);
	cb2.aio_key = 1;
	EXPECT_ERR(io_cancel(ctx, &cb2, ev), EINVAL);
	cb2.aio_key = 0;
	EXPECT_ERR(io_cancel(bad, &cb2, ev), EINVAL);
	EXPECT_ERR(io_cancel(ctx, &cb2, ev), EINVAL);
	/* a full ring */
	int ok = 0;
	long rc;
	prep(&cb2, fd, IOCB_CMD_PREAD, buf, 1, 0, 0);
	while ((rc = io_submit(ctx, 1, one)) == 1 && ok < 100000) ok++;
	printf("ring full: %s, took at least nr/2 %d, at most nr-1 %d\n", rc < 0 ? errname(errno) : "no", ok >= (int)r->nr / 2,
	       ok <= (int)r->nr - 1);
	static struct io_event many[100000];
	printf("reaped all %d\n", io_getevents(ctx, ok, 100000, many, NULL) == ok);
	/* a waiter wakes when another thread's request completes */
	waiter_ctx = ctx;
	pthread_t th;
	pthread_create(&th, NULL, waiter, NULL);
	struct timespec pause = {0, 50000000};
	nanosleep(&pause, NULL);
	EXPECT_EQ(io_submit(ctx, 1, one), 1);
	pthread_join(th, NULL);
	printf("waiter got %ld\n", waiter_got);
	/* a signal ends a wait with nothing: EINTR */
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 0}, {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	EXPECT_ERR(io_getevents(ctx, 1, 1, ev, NULL), EINTR);
	/* fork: the child has no context */
	pid_t c = fork();
	if (c == 0) {
		EXPECT_ERR(io_submit(ctx, 1, one), EINVAL);
		EXPECT_ERR(io_destroy(ctx), EINVAL);
		printf("child ring mappings %d\n", in_maps());
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	EXPECT_OK(io_destroy(ctx));
	EXPECT_ERR(io_destroy(ctx), EINVAL);
	printf("ring mappings after destroy %d\n", in_maps());
	unlink(path);
	return ukt_exit();
}
