/* uffd.c: userfaultfd(2), compared with Linux (LTP's userfaultfd01, 02
 * and 04 and their error cases): the API handshake, registration, page
 * faults reported as messages and served by UFFDIO_COPY, ZEROPAGE and
 * MOVE from another thread, a write fault's flag, a syscall's access to a
 * missing page waiting for the handler, EEXIST, UFFD_FEATURE_SIGBUS,
 * EXACT_ADDRESS and THREAD_ID, close waking a waiter, /dev/userfaultfd,
 * and fork leaving the child unregistered. */
#include "uktest.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/userfaultfd.h>

/* UFFDIO_MOVE (Linux 6.8) when the headers predate it. */
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#define _UFFDIO_POISON 0x08
struct uffdio_poison {
	struct uffdio_range range;
	__u64 mode;
	__s64 updated;
};
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#define _UFFDIO_MOVE 0x05
struct uffdio_move {
	__u64 dst, src, len, mode;
	__s64 move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#endif

#define PG 4096L
#define OURS (UFFD_FEATURE_SIGBUS | UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_EXACT_ADDRESS | UFFD_FEATURE_MOVE | UFFD_FEATURE_POISON)

static int uffd;
static char *page, *src;
static volatile int mode; /* how the handler serves: 0 copy, 1 zeropage, 2 move */
static struct uffd_msg last;

static int new_uffd(int flags, long features) {
	int fd = syscall(SYS_userfaultfd, flags);
	if (fd < 0)
		return -1;
	struct uffdio_api api = {.api = UFFD_API, .features = features};
	if (ioctl(fd, UFFDIO_API, &api) != 0)
		return -1;
	return fd;
}

static void reg(int fd, void *p, long len) {
	struct uffdio_register r = {.range = {(unsigned long)p, len}, .mode = UFFDIO_REGISTER_MODE_MISSING};
	if (ioctl(fd, UFFDIO_REGISTER, &r) != 0)
		printf("register: FAIL %s\n", errname(errno)), ukt_failures++;
}

static char *fresh(void) {
	return mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* handler serves one fault of uffd as mode says. */
static void *handler(void *arg) {
	(void)arg;
	struct pollfd p = {uffd, POLLIN, 0};
	poll(&p, 1, -1);
	if (read(uffd, &last, sizeof last) != sizeof last) {
		printf("handler read: FAIL %s\n", errname(errno));
		return NULL;
	}
	unsigned long dst = last.arg.pagefault.address & ~(PG - 1);
	if (mode == 0) {
		memset(src, 'X', PG);
		struct uffdio_copy c = {.dst = dst, .src = (unsigned long)src, .len = PG};
		if (ioctl(uffd, UFFDIO_COPY, &c) != 0 || c.copy != PG)
			printf("copy: FAIL %s %lld\n", errname(errno), (long long)c.copy);
	} else if (mode == 1) {
		struct uffdio_zeropage z = {.range = {dst, PG}};
		if (ioctl(uffd, UFFDIO_ZEROPAGE, &z) != 0 || z.zeropage != PG)
			printf("zeropage: FAIL %s\n", errname(errno));
	} else if (mode == 3) {
		struct uffdio_poison p = {.range = {dst, PG}};
		if (ioctl(uffd, UFFDIO_POISON, &p) != 0 || p.updated != PG)
			printf("poison: FAIL %s\n", errname(errno));
	} else {
		memset(src, 'M', PG);
		struct uffdio_move m = {.dst = dst, .src = (unsigned long)src, .len = PG};
		if (ioctl(uffd, UFFDIO_MOVE, &m) != 0 || m.move != PG)
			printf("move: FAIL %s %lld\n", errname(errno), (long long)m.move);
	}
	return NULL;
}

static void fault_and_serve(const char *what, int m, int write) {
	page = fresh();
	src = fresh();
	reg(uffd, page, PG);
	mode = m;
	pthread_t th;
	pthread_create(&th, NULL, handler, NULL);
	char c;
	if (write) {
		page[0x10] = 'w';
		c = page[0x10];
	} else {
		c = page[0xf];
	}
	pthread_join(th, NULL);
	printf("%s: read %d, event %#x flags %llu address==page %d\n", what, c, last.event,
	       (unsigned long long)last.arg.pagefault.flags, last.arg.pagefault.address == (unsigned long)page);
}

static sigjmp_buf jb;
static void on_bus(int sig) { (void)sig; siglongjmp(jb, 1); }

static pid_t gettid_(void) { return syscall(SYS_gettid); }

static int memfd;

/* minor_handler serves one minor fault: it changes the shared page, then
 * maps it with UFFDIO_CONTINUE. */
static void *minor_handler(void *arg) {
	(void)arg;
	if (read(uffd, &last, sizeof last) != sizeof last)
		return NULL;
	printf("minor fault flags %llu\n", (unsigned long long)last.arg.pagefault.flags);
	pwrite(memfd, "Z", 1, 0);
	struct uffdio_continue c = {.range = {last.arg.pagefault.address & ~(PG - 1), PG}};
	if (ioctl(uffd, UFFDIO_CONTINUE, &c) != 0 || c.mapped != PG)
		printf("continue: FAIL %s\n", errname(errno));
	return NULL;
}

/* wp_handler serves one write-protect fault: the write is not visible
 * while it waits; releasing the protection lets it go on. */
static void *wp_handler(void *arg) {
	(void)arg;
	if (read(uffd, &last, sizeof last) != sizeof last)
		return NULL;
	printf("wp fault flags %llu, write not visible yet %d\n",
	       (unsigned long long)last.arg.pagefault.flags, page[0xf] == 0);
	struct uffdio_writeprotect w = {.range = {last.arg.pagefault.address & ~(PG - 1), PG}};
	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &w) != 0)
		printf("release: FAIL %s\n", errname(errno));
	return NULL;
}

static void *thread_fault(void *arg) {
	(void)arg;
	*(volatile pid_t *)(page + 8) = gettid_();
	return (void *)(long)gettid_();
}

int main(void) {
	EXPECT_ERR(syscall(SYS_userfaultfd, 0x1234), EINVAL);
	uffd = EXPECT_OK(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
	struct uffd_msg msg;
	EXPECT_ERR(read(uffd, &msg, sizeof msg), EINVAL); /* before UFFDIO_API */
	struct uffdio_register r = {.range = {0, PG}, .mode = UFFDIO_REGISTER_MODE_MISSING};
	EXPECT_ERR(ioctl(uffd, UFFDIO_REGISTER, &r), EINVAL);
	struct uffdio_api api = {.api = 0x12};
	EXPECT_ERR(ioctl(uffd, UFFDIO_API, &api), EINVAL);
	api = (struct uffdio_api){.api = UFFD_API};
	EXPECT_OK(ioctl(uffd, UFFDIO_API, &api));
	printf("features ours %d ioctls %llx\n", (api.features & OURS) == OURS,
	       (unsigned long long)(api.ioctls & (1 << _UFFDIO_REGISTER | 1 << _UFFDIO_UNREGISTER | 1ULL << _UFFDIO_API)));
	EXPECT_ERR(ioctl(uffd, UFFDIO_API, &api), EINVAL); /* once */
	EXPECT_ERR(read(uffd, &msg, sizeof msg), EAGAIN);
	EXPECT_ERR(read(uffd, &msg, 8), EINVAL);

	page = fresh();
	r = (struct uffdio_register){.range = {(unsigned long)page + 1, PG}, .mode = UFFDIO_REGISTER_MODE_MISSING};
	EXPECT_ERR(ioctl(uffd, UFFDIO_REGISTER, &r), EINVAL);
	r.range = (struct uffdio_range){(unsigned long)page, 0};
	EXPECT_ERR(ioctl(uffd, UFFDIO_REGISTER, &r), EINVAL);
	r.range = (struct uffdio_range){(unsigned long)page, PG};
	r.mode = 0;
	EXPECT_ERR(ioctl(uffd, UFFDIO_REGISTER, &r), EINVAL);
	char *hole = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, PG);
	r.range = (struct uffdio_range){(unsigned long)hole, PG};
	r.mode = UFFDIO_REGISTER_MODE_MISSING;
	EXPECT_ERR(ioctl(uffd, UFFDIO_REGISTER, &r), EINVAL);
	r.range = (struct uffdio_range){(unsigned long)page, PG};
	EXPECT_OK(ioctl(uffd, UFFDIO_REGISTER, &r));
	printf("range ioctls %llx\n", (unsigned long long)(r.ioctls & (1 << _UFFDIO_WAKE | 1 << _UFFDIO_COPY |
	                                                               1 << _UFFDIO_ZEROPAGE | 1 << _UFFDIO_MOVE |
	                                                               1 << _UFFDIO_POISON)));
	int other = new_uffd(0, 0);
	r.range = (struct uffdio_range){(unsigned long)page, PG};
	EXPECT_ERR(ioctl(other, UFFDIO_REGISTER, &r), EBUSY);
	close(other);
	struct uffdio_range ur = {(unsigned long)page, PG};
	EXPECT_OK(ioctl(uffd, UFFDIO_UNREGISTER, &ur));
	close(uffd);

	/* LTP userfaultfd01, 02; a zero page; a write fault. */
	uffd = new_uffd(O_CLOEXEC, 0);
	fault_and_serve("copy", 0, 0);
	fault_and_serve("zeropage", 1, 0);
	fault_and_serve("move", 2, 0);
	printf("moved source now missing: %d\n", src[0]); /* reads as zero again */
	fault_and_serve("write fault", 0, 1);

	/* A page present already: EEXIST, in the count too. */
	struct uffdio_copy c = {.dst = (unsigned long)page, .src = (unsigned long)src, .len = PG};
	EXPECT_ERR(ioctl(uffd, UFFDIO_COPY, &c), EEXIST);
	printf("copy count %lld\n", (long long)c.copy);
	c = (struct uffdio_copy){.dst = (unsigned long)page + 1, .src = (unsigned long)src, .len = PG};
	EXPECT_ERR(ioctl(uffd, UFFDIO_COPY, &c), EINVAL);
	c = (struct uffdio_copy){.dst = (unsigned long)page, .src = (unsigned long)src, .len = PG + 1};
	EXPECT_ERR(ioctl(uffd, UFFDIO_COPY, &c), EINVAL);
	/* The source need not be aligned. */
	page = fresh();
	reg(uffd, page, PG);
	memset(src, 'u', PG);
	src[PG - 1] = 'v';
	c = (struct uffdio_copy){.dst = (unsigned long)page, .src = (unsigned long)src + 1, .len = PG - 4096 + 4096};
	c.src = (unsigned long)src + 1;
	c.len = PG;
	errno = 0;
	long rc = ioctl(uffd, UFFDIO_COPY, &c);
	printf("unaligned source: %ld %s\n", rc, errname(errno));

	/* A syscall reading a missing page waits for the handler too. */
	page = fresh();
	src = fresh();
	reg(uffd, page, PG);
	mode = 0;
	int pp[2];
	pipe(pp);
	pthread_t th;
	pthread_create(&th, NULL, handler, NULL);
	EXPECT_EQ(write(pp[1], page, 4), 4);
	pthread_join(th, NULL);
	char got[5] = {0};
	read(pp[0], got, 4);
	printf("write(2) from the page: %s\n", got);
	close(uffd);

	/* Features: SIGBUS instead of a message; the exact address and the
	 * faulting thread's id in one. */
	uffd = new_uffd(0, UFFD_FEATURE_SIGBUS);
	page = fresh();
	reg(uffd, page, PG);
	signal(SIGBUS, on_bus);
	if (sigsetjmp(jb, 1) == 0) {
		volatile char x = page[5];
		(void)x;
		printf("SIGBUS feature: no signal FAIL\n");
		ukt_failures++;
	} else {
		printf("SIGBUS feature: SIGBUS\n");
	}
	close(uffd);
	uffd = new_uffd(0, UFFD_FEATURE_EXACT_ADDRESS | UFFD_FEATURE_THREAD_ID);
	page = fresh();
	src = fresh();
	reg(uffd, page, PG);
	pthread_create(&th, NULL, thread_fault, NULL);
	EXPECT_EQ(read(uffd, &msg, sizeof msg), sizeof msg);
	printf("exact address %d\n", msg.arg.pagefault.address == (unsigned long)page + 8);
	pid_t ptid = msg.arg.pagefault.feat.ptid;
	struct uffdio_zeropage z = {.range = {(unsigned long)page, PG}};
	EXPECT_OK(ioctl(uffd, UFFDIO_ZEROPAGE, &z));
	void *ret;
	pthread_join(th, &ret);
	printf("ptid is the faulting thread %d\n", ptid == (pid_t)(long)ret);

	/* Closing the file lets a waiting thread go on, with a zero page. */
	page = fresh();
	reg(uffd, page, PG);
	pthread_create(&th, NULL, thread_fault, NULL);
	EXPECT_EQ(read(uffd, &msg, sizeof msg), sizeof msg);
	close(uffd);
	pthread_join(th, &ret);
	printf("after close the thread wrote its id %d\n", *(pid_t *)(page + 8) == (pid_t)(long)ret);

	/* Hostile: a terabyte of reserved memory registers at once. */
	uffd = new_uffd(0, 0);
	char *huge = mmap(NULL, 1L << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK("terabyte reserved", huge != (void *)-1);
	reg(uffd, huge, 1L << 40);
	ur = (struct uffdio_range){(unsigned long)huge, 1L << 40};
	EXPECT_OK(ioctl(uffd, UFFDIO_UNREGISTER, &ur));
	munmap(huge, 1L << 40);
	close(uffd);

	/* LTP userfaultfd06: a poisoned page is a bus error, and EFAULT to a
	 * syscall; unmapping forgets it. */
	uffd = new_uffd(0, UFFD_FEATURE_POISON);
	page = fresh();
	reg(uffd, page, PG);
	mode = 3;
	pthread_create(&th, NULL, handler, NULL);
	if (sigsetjmp(jb, 1) == 0) {
		volatile char x = page[7];
		(void)x;
		printf("poisoned page: no signal FAIL\n");
		ukt_failures++;
	} else {
		printf("poisoned page: SIGBUS\n");
	}
	pthread_join(th, NULL);
	EXPECT_ERR(write(pp[1], page, 4), EFAULT);
	struct uffdio_poison po = {.range = {(unsigned long)page, PG}};
	EXPECT_ERR(ioctl(uffd, UFFDIO_POISON, &po), EEXIST);
	EXPECT_OK(madvise(page, PG, MADV_DONTNEED));
	close(uffd);
	printf("after MADV_DONTNEED: %d\n", page[7]);

	/* LTP userfaultfd05: write-protect mode. */
	uffd = new_uffd(0, UFFD_FEATURE_PAGEFAULT_FLAG_WP);
	page = fresh();
	memset(page, 0, PG);
	r = (struct uffdio_register){.range = {(unsigned long)page, PG}, .mode = UFFDIO_REGISTER_MODE_WP};
	EXPECT_OK(ioctl(uffd, UFFDIO_REGISTER, &r));
	printf("wp range ioctls has WRITEPROTECT %d\n", !!(r.ioctls & (1 << _UFFDIO_WRITEPROTECT)));
	struct uffdio_writeprotect w = {.range = {(unsigned long)page, PG}, .mode = UFFDIO_WRITEPROTECT_MODE_WP};
	EXPECT_OK(ioctl(uffd, UFFDIO_WRITEPROTECT, &w));
	printf("reads still work: %d\n", page[3]);
	pthread_create(&th, NULL, wp_handler, NULL);
	page[0xf] = 'W';
	pthread_join(th, NULL);
	printf("after release: %c\n", page[0xf]);
	/* A syscall writing a protected page waits for the handler too. */
	EXPECT_OK(ioctl(uffd, UFFDIO_WRITEPROTECT, &w));
	pthread_create(&th, NULL, wp_handler, NULL);
	write(pp[1], "kk", 2);
	EXPECT_EQ(read(pp[0], page + 0xf, 2), 2);
	pthread_join(th, NULL);
	printf("read(2) into it: %c\n", page[0xf]);
	w.mode = 3;
	EXPECT_ERR(ioctl(uffd, UFFDIO_WRITEPROTECT, &w), EINVAL);
	close(uffd);

	/* LTP userfaultfd07: minor faults of shared memory. */
	uffd = new_uffd(0, UFFD_FEATURE_MINOR_SHMEM);
	memfd = EXPECT_OK(memfd_create("uffd-minor", MFD_CLOEXEC));
	EXPECT_OK(ftruncate(memfd, PG));
	pwrite(memfd, "A", 1, 0);
	page = mmap(NULL, PG, PROT_READ, MAP_SHARED, memfd, 0);
	r = (struct uffdio_register){.range = {(unsigned long)page, PG}, .mode = UFFDIO_REGISTER_MODE_MINOR};
	EXPECT_OK(ioctl(uffd, UFFDIO_REGISTER, &r));
	printf("minor range ioctls has CONTINUE %d\n", !!(r.ioctls & (1 << _UFFDIO_CONTINUE)));
	EXPECT_OK(madvise(page, PG, MADV_DONTNEED));
	pthread_create(&th, NULL, minor_handler, NULL);
	char seen = page[0];
	pthread_join(th, NULL);
	printf("read after CONTINUE: %c\n", seen);
	struct uffdio_continue uc = {.range = {(unsigned long)page, PG}};
	EXPECT_ERR(ioctl(uffd, UFFDIO_CONTINUE, &uc), EEXIST);
	close(uffd);
	munmap(page, PG);
	close(memfd);

	/* LTP userfaultfd04: /dev/userfaultfd. */
	int dev = EXPECT_OK(open("/dev/userfaultfd", O_RDWR));
	uffd = EXPECT_OK(ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC));
	close(dev);
	api = (struct uffdio_api){.api = UFFD_API};
	EXPECT_OK(ioctl(uffd, UFFDIO_API, &api));
	fault_and_serve("/dev/userfaultfd copy", 0, 0);

	/* A fork's child has no registration: its fault is its own. */
	page = fresh();
	reg(uffd, page, PG);
	fflush(stdout);
	pid_t k = fork();
	if (k == 0)
		_exit(page[3] == 0 ? 0 : 1);
	int st;
	waitpid(k, &st, 0);
	printf("child read a zero page %d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* No message came; a blocking userfaultfd polls as POLLERR. */
	struct pollfd pf = {uffd, POLLIN, 0};
	EXPECT_EQ(poll(&pf, 1, 20), 1);
	printf("revents %x\n", pf.revents);
	close(uffd);
	uffd = new_uffd(O_NONBLOCK, 0);
	pf.fd = uffd;
	EXPECT_EQ(poll(&pf, 1, 0), 0);
	return ukt_exit();
}
