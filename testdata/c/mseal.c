/* mseal.c: sealed mappings (Linux 6.10's mseal), compared with Linux
 * (LTP's mseal01 and mseal02): the argument errors, and what a seal
 * refuses with EPERM: munmap, mremap from or onto it, mmap MAP_FIXED over
 * it, mprotect, and discarding madvise of read-only private memory; what
 * it allows (use of the memory, madvise of writable memory); and that a
 * fork keeps it. */
#include "uktest.h"
#include <sys/mman.h>
#include <limits.h>

#define PG 4096L

static long sys_mseal(void *p, unsigned long len, unsigned long flags) {
	return syscall(462, p, len, flags);
}

/* refused reports whether a call returning a mapping failed. */
static int refused(void *p) { return p == (void *)-1; }

static char *map(int prot, long pages) {
	return mmap(NULL, pages * PG, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

int main(void) {
	if (sys_mseal(NULL, 0, 0) != 0 && errno == ENOSYS) {
		printf("mseal: ENOSYS FAIL\n");
		return 1;
	}
	/* LTP mseal02: argument errors. */
	char *m = map(PROT_READ | PROT_WRITE, 4);
	EXPECT_ERR(sys_mseal(m, PG, ULONG_MAX), EINVAL);
	EXPECT_ERR(sys_mseal(m + 1, PG, 0), EINVAL);
	EXPECT_ERR(sys_mseal(m, ULONG_MAX - PG + 2, 0), EINVAL);
	EXPECT_ERR(sys_mseal(m, ULONG_MAX - 2 * PG, 0), EINVAL);
	munmap(m + 2 * PG, PG);
	EXPECT_ERR(sys_mseal(m + 2 * PG, 2 * PG, 0), ENOMEM);
	EXPECT_ERR(sys_mseal(m + PG, 2 * PG, 0), ENOMEM);
	EXPECT_ERR(sys_mseal(m, 4 * PG, 0), ENOMEM);
	EXPECT_OK(sys_mseal(m, 0, 0));
	EXPECT_OK(sys_mseal(m, 1, 0)); /* one page, rounded up */
	EXPECT_OK(sys_mseal(m, PG, 0)); /* again: no change */

	/* LTP mseal01: what a seal refuses. */
	char *a = map(PROT_READ | PROT_WRITE, 8);
	a[0] = 1;
	EXPECT_OK(sys_mseal(a + 2 * PG, 2 * PG, 0));
	a[2 * PG] = 7; /* still usable */
	EXPECT_EQ(a[2 * PG], 7);
	/* Linux changes what precedes the sealed part before it stops. */
	EXPECT_ERR(mprotect(a, 8 * PG, PROT_READ), EPERM);
	a[2 * PG] = 8; /* the sealed part kept its rights */
	EXPECT_OK(mprotect(a, 2 * PG, PROT_READ | PROT_WRITE));
	EXPECT_ERR(mprotect(a + 3 * PG, PG, PROT_READ), EPERM);
	EXPECT_OK(mprotect(a + 5 * PG, PG, PROT_READ)); /* unsealed part */
	EXPECT_ERR(munmap(a, 8 * PG), EPERM);
	EXPECT_ERR(munmap(a + 2 * PG, PG), EPERM);
	EXPECT_EQ(a[0], 1); /* the refused munmap left it all */
	EXPECT_OK(munmap(a + 7 * PG, PG));
	EXPECT_EQ(refused(mmap(a, 8 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)), 1);
	printf("mmap MAP_FIXED over it: %s\n", errname(errno));
	EXPECT_EQ(refused(mmap(a + 3 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)), 1);
	printf("mmap MAP_FIXED into it: %s\n", errname(errno));
	char *n = map(PROT_READ, 4);
	EXPECT_EQ(refused(mremap(a + 2 * PG, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, n)), 1);
	printf("mremap of it: %s\n", errname(errno));
	EXPECT_EQ(refused(mremap(a + 2 * PG, 2 * PG, PG, 0)), 1);
	printf("mremap shrinking it: %s\n", errname(errno));
	EXPECT_EQ(refused(mremap(n, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, a + 2 * PG)), 1);
	printf("mremap onto it: %s\n", errname(errno));
	/* Writable memory may still be discarded; read-only may not. */
	EXPECT_OK(madvise(a + 2 * PG, 2 * PG, MADV_DONTNEED));
	EXPECT_EQ(a[2 * PG], 0);
	char *r = map(PROT_READ, 4);
	EXPECT_OK(sys_mseal(r, 4 * PG, 0));
	EXPECT_ERR(madvise(r, 4 * PG, MADV_DONTNEED), EPERM);
	EXPECT_ERR(madvise(r, PG, MADV_FREE), EPERM);
	EXPECT_ERR(madvise(r, PG, MADV_DONTFORK), EPERM);
	EXPECT_OK(madvise(r, PG, MADV_DOFORK));
	EXPECT_OK(madvise(r, PG, MADV_WILLNEED));
	EXPECT_OK(madvise(r, PG, MADV_NORMAL));
	/* A shared read-only mapping is not "private": discarding is allowed. */
	char *s = mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	EXPECT_OK(sys_mseal(s, PG, 0));
	EXPECT_OK(madvise(s, PG, MADV_DONTNEED));
	EXPECT_ERR(munmap(s, PG), EPERM);
	/* Sealing two mappings with a gap between fails and seals none. */
	char *g = map(PROT_READ | PROT_WRITE, 3);
	munmap(g + PG, PG);
	EXPECT_ERR(sys_mseal(g, 3 * PG, 0), ENOMEM);
	EXPECT_OK(munmap(g, PG));

	/* The seal survives fork. */
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		EXPECT_ERR(munmap(a + 2 * PG, PG), EPERM);
		EXPECT_ERR(mprotect(r, PG, PROT_NONE), EPERM);
		fflush(stdout);
		_exit(ukt_failures);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child exited %d\n", WEXITSTATUS(st));
	return ukt_exit();
}
