/* procvm.c: process_vm_readv and process_vm_writev compared with Linux
 * (LTP's process_vm01, process_vm_readv02/03, process_vm_writev02): the
 * argument checks in their order, permission, copies to and from a child
 * across scattered vectors, a copy cut short by an unmapped page, and
 * writes into a child's read-only and private file mappings. */
#include "uktest.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/uio.h>

static long vm(int write, pid_t pid, struct iovec *l, unsigned long ln, struct iovec *r, unsigned long rn, unsigned long flags) {
	return syscall(write ? SYS_process_vm_writev : SYS_process_vm_readv, pid, l, ln, r, rn, flags);
}

static void errors(int w) {
	const char *name = w ? "writev" : "readv";
	printf("-- %s\n", name);
	char lb[4096], rb[4096];
	memset(rb, 'r', sizeof rb);
	struct iovec l = {lb, sizeof lb}, r = {rb, sizeof rb};
	EXPECT_EQ(vm(w, getpid(), &l, 1, &r, 1, 0), 4096);
	long flags[] = {-INT_MAX, -1, 1, INT_MAX};
	for (int i = 0; i < 4; i++) EXPECT_ERR(vm(w, getpid(), &l, 1, &r, 1, flags[i]), EINVAL);
	struct iovec lo = {lb, (size_t)-1}, ro = {rb, (size_t)-1};
	EXPECT_ERR(vm(w, getpid(), &lo, 1, &ro, 1, 0), EINVAL);
	EXPECT_ERR(vm(w, getpid(), &l, 1, &ro, 1, 0), EINVAL);
	struct iovec bad = {(void *)-1, 4096};
	EXPECT_ERR(vm(w, getpid(), &bad, 1, &r, 1, 0), EFAULT);
	EXPECT_ERR(vm(w, getpid(), &l, 1, &bad, 1, 0), EFAULT);
	EXPECT_ERR(vm(w, getpid(), (void *)-1, 1, &r, 1, 0), EFAULT);
	EXPECT_ERR(vm(w, getpid(), &l, 1, (void *)-1, 1, 0), EFAULT);
	EXPECT_ERR(vm(w, -1, &l, 1, &r, 1, 0), ESRCH);
	EXPECT_ERR(vm(w, 4194305, &l, 1, &r, 1, 0), ESRCH);
	EXPECT_ERR(vm(w, getpid(), &l, 1025, &r, 1, 0), EINVAL);
	EXPECT_ERR(vm(w, getpid(), &l, 1, &r, 1025, 0), EINVAL);
	/* nothing to copy: no further check */
	struct iovec none = {lb, 0};
	EXPECT_EQ(vm(w, -1, &none, 1, &r, 1, 0), 0);
	EXPECT_EQ(vm(w, -1, &l, 0, (void *)-1, 1, 0), 0);
	EXPECT_EQ(vm(w, -1, &l, 1, &none, 1, 0), 0);
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iovec pn = {p, 4096};
	EXPECT_ERR(vm(w, getpid(), &pn, 1, &r, 1, 0), EFAULT);
	EXPECT_ERR(vm(w, getpid(), &l, 1, &pn, 1, 0), EFAULT);
	munmap(p, 4096);
	pid_t parent = getpid();
	pid_t c = fork();
	if (c == 0) {
		setuid(65534);
		EXPECT_ERR(vm(w, parent, &l, 1, &r, 1, 0), EPERM);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

int main(void) {
	errors(0);
	errors(1);

	/* a child's memory: the same addresses after fork */
	enum { N = 3 * 4096 + 100 };
	char *buf = malloc(N);
	for (int i = 0; i < N; i++) buf[i] = (char)(i * 7);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(two, 'a', 8192);
	mprotect(two + 4096, 4096, PROT_NONE); /* no access after one page */
	char path[] = "/tmp/procvm.XXXXXX";
	int fd = mkstemp(path);
	write(fd, "file contents here", 18);
	char *fm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	int go[2], back[2];
	pipe(go);
	pipe(back);
	pid_t c = fork();
	if (c == 0) {
		for (int i = 0; i < N; i++) buf[i] = (char)(i * 13 + 1);
		char x;
		write(back[1], "r", 1);
		read(go[0], &x, 1); /* the parent has read and written */
		int same = 1;
		for (int i = 0; i < 4096; i++) same &= buf[i] == (char)(0x55 ^ i);
		printf("child sees the parent's write: %d\n", same);
		printf("child's private file page: %.18s\n", fm);
		fflush(stdout);
		_exit(0);
	}
	char x;
	read(back[0], &x, 1);
	/* scattered: remote in uneven pieces, local in others */
	char *got = calloc(1, N);
	struct iovec r[4] = {{buf, 1}, {buf + 1, 4095}, {buf + 4096, 5000}, {buf + 9096, N - 9096}};
	struct iovec l[3] = {{got, 3000}, {got + 3000, 7}, {got + 3007, N - 3007}};
	EXPECT_EQ(vm(0, c, l, 3, r, 4, 0), N);
	int same = 1;
	for (int i = 0; i < N; i++) same &= got[i] == (char)(i * 13 + 1);
	printf("read the child's bytes: %d\n", same);
	/* the local vector shorter than the remote one */
	struct iovec shortl = {got, 10};
	EXPECT_EQ(vm(0, c, &shortl, 1, r, 4, 0), 10);
	/* a hole in the remote range cuts the copy */
	struct iovec hole = {two, 8192};
	struct iovec big = {got, 8192};
	EXPECT_EQ(vm(0, c, &big, 1, &hole, 1, 0), 4096);
	struct iovec holeonly = {two + 4096, 4096};
	EXPECT_ERR(vm(0, c, &big, 1, &holeonly, 1, 0), EFAULT);
	/* writes */
	for (int i = 0; i < 4096; i++) got[i] = (char)(0x55 ^ i);
	struct iovec wl = {got, 4096}, wr = {buf, 4096};
	EXPECT_EQ(vm(1, c, &wl, 1, &wr, 1, 0), 4096);
	struct iovec rov = {ro, 16};
	EXPECT_ERR(vm(1, c, &wl, 1, &rov, 1, 0), EFAULT);
	struct iovec fl = {"FILE", 4}, fr = {fm, 4};
	EXPECT_EQ(vm(1, c, &fl, 1, &fr, 1, 0), 4);
	write(go[1], "g", 1);
	waitpid(c, NULL, 0);
	char disk[19] = {0};
	pread(fd, disk, 18, 0);
	printf("file on disk: %s; parent's private page: %.18s\n", disk, fm);
	unlink(path);
	return ukt_exit();
}
