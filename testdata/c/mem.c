/* mem: the address space: mmap (anonymous private and shared, MAP_FIXED,
 * hints, MAP_NORESERVE), munmap, mprotect, brk, mremap, madvise, mincore,
 * msync, copy-out into fresh and read-only pages, and a large malloc. */
#include "uktest.h"

#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#define MB (1024UL * 1024)

static long pg;

static int filled(const char *p, size_t n, char c) {
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

static char *anon(size_t len, int flags) {
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
}

static void basic(void) {
	char *p = anon(4 * pg, MAP_PRIVATE);
	CHECK("mmap anon private", p != MAP_FAILED);
	CHECK("fresh private pages are zero", filled(p, 4 * pg, 0));
	memset(p, 'p', 4 * pg);
	CHECK("private pages keep what was written", filled(p, 4 * pg, 'p'));
	EXPECT_OK(munmap(p, 4 * pg));

	char *s = anon(4 * pg, MAP_SHARED);
	CHECK("mmap anon shared", s != MAP_FAILED);
	CHECK("fresh shared pages are zero", filled(s, 4 * pg, 0));
	memset(s, 's', 4 * pg);
	CHECK("shared pages keep what was written", filled(s, 4 * pg, 's'));
	EXPECT_OK(munmap(s, 4 * pg));

	char *pp = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	CHECK("MAP_POPULATE mapping is zero", pp != MAP_FAILED && filled(pp, 2 * pg, 0));
	munmap(pp, 2 * pg);

	/* MAP_FIXED replaces the middle of an existing mapping. */
	char *a = anon(4 * pg, MAP_PRIVATE);
	memset(a, 'a', 4 * pg);
	char *b = mmap(a + pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK("MAP_FIXED returns the address asked", b == a + pg);
	CHECK("MAP_FIXED page is fresh and zero", filled(a + pg, pg, 0));
	CHECK("pages around it are kept", filled(a, pg, 'a') && filled(a + 2 * pg, 2 * pg, 'a'));
	EXPECT_ERR(mmap(a, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
	EXPECT_OK(munmap(a, 4 * pg));

	/* A free hint is honoured; an unaligned one is rounded, not refused. */
	void *hint = (void *)0x100000000000UL;
	char *h = mmap(hint, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("a free hint address is used", h == hint);
	h[0] = 1;
	munmap(h, pg);
	char *u = mmap((char *)hint + 123, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("an unaligned hint gives a page-aligned mapping", u != MAP_FAILED && ((uintptr_t)u & (pg - 1)) == 0);
	munmap(u, pg);

	EXPECT_ERR(mmap((char *)hint + 123, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), EINVAL);
	EXPECT_ERR(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
	EXPECT_ERR(mmap(NULL, pg, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
	EXPECT_ERR(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
	EXPECT_ERR(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 99, 0), EBADF);
	EXPECT_ERR(mmap(NULL, 1UL << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
}

static void noreserve(void) {
	size_t len = 1UL << 30;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK("1 GiB MAP_NORESERVE reservation", p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	for (size_t off = 0; off < len; off += 16 * MB)
		p[off] = (char)(off >> 24);
	int ok = 1;
	for (size_t off = 0; off < len; off += 16 * MB)
		ok &= p[off] == (char)(off >> 24) && p[off + 1] == 0;
	p[len - 1] = 'z';
	CHECK("sparse touches every 16 MiB read back", ok && p[len - 1] == 'z');
	EXPECT_OK(munmap(p, len));
}

static void unmap_protect(void) {
	char *p = anon(3 * pg, MAP_PRIVATE);
	memset(p, 'x', 3 * pg);
	EXPECT_OK(munmap(p + pg, pg));
	CHECK("munmap of the middle page keeps both ends", filled(p, pg, 'x') && filled(p + 2 * pg, pg, 'x'));
	unsigned char v;
	EXPECT_ERR(mincore(p + pg, pg, &v), ENOMEM);
	EXPECT_OK(munmap(p, 3 * pg));
	EXPECT_OK(munmap(p, 3 * pg));
	EXPECT_ERR(munmap(p + 1, pg), EINVAL);
	EXPECT_ERR(munmap(p, 0), EINVAL);

	char *q = anon(2 * pg, MAP_PRIVATE);
	memset(q, 'q', 2 * pg);
	EXPECT_OK(mprotect(q, 2 * pg, PROT_READ));
	CHECK("PROT_READ pages are still readable", filled(q, 2 * pg, 'q'));
	EXPECT_OK(mprotect(q, 2 * pg, PROT_NONE));
	EXPECT_OK(mprotect(q, 2 * pg, PROT_READ | PROT_WRITE));
	CHECK("contents survive PROT_NONE and back", filled(q, 2 * pg, 'q'));
	q[0] = 'w';
	CHECK("writable again", q[0] == 'w');
	EXPECT_ERR(mprotect(q + 1, pg, PROT_READ), EINVAL);
	EXPECT_ERR(mprotect(q, pg, 0x1000), EINVAL);
	munmap(q, 2 * pg);
	EXPECT_ERR(mprotect(q, pg, PROT_READ), ENOMEM);

	char *n = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("PROT_NONE mapping", n != MAP_FAILED);
	EXPECT_OK(mprotect(n, pg, PROT_READ | PROT_WRITE));
	n[10] = 'n';
	CHECK("PROT_NONE then mprotect RW is usable and zero", n[10] == 'n' && n[11] == 0);
	munmap(n, pg);
}

static void copyout(void) {
	/* The kernel writes into pages the program never touched. */
	char *p = anon(4 * pg, MAP_PRIVATE);
	EXPECT_EQ(getrandom(p + 2 * pg - 8, 16, 0), 16);
	struct timespec *ts = (struct timespec *)(p + 3 * pg);
	EXPECT_OK(clock_gettime(CLOCK_MONOTONIC, ts));
	CHECK("clock_gettime wrote into an untouched page", ts->tv_sec != 0 || ts->tv_nsec != 0);
	EXPECT_OK(mprotect(p, 4 * pg, PROT_READ));
	EXPECT_ERR(getrandom(p, 16, 0), EFAULT);
	EXPECT_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, p), EFAULT);
	EXPECT_EQ(write(1, p + 2 * pg - 8, 0), 0);
	munmap(p, 4 * pg);
}

static void heap(void) {
	char *cur = (char *)syscall(SYS_brk, 0);
	CHECK("brk(0) == sbrk(0)", cur == sbrk(0));
	char *want = cur + MB;
	CHECK("brk grows by 1 MiB", (char *)syscall(SYS_brk, want) == want);
	memset(cur, 'b', MB);
	CHECK("grown heap keeps what was written", filled(cur, MB, 'b'));
	CHECK("brk shrinks back", (char *)syscall(SYS_brk, cur) == cur);
	CHECK("brk(0) reports the shrunk break", (char *)syscall(SYS_brk, 0) == cur);
	CHECK("brk grows again", (char *)syscall(SYS_brk, want) == want);
	CHECK("regrown heap is zero", filled(cur, MB, 0));
	CHECK("brk below the start fails, returning the break", (char *)syscall(SYS_brk, 4096) == want);
	syscall(SYS_brk, cur);

	size_t big = 100 * MB;
	unsigned char *m = malloc(big);
	CHECK("malloc(100 MiB)", m != NULL);
	if (!m)
		return;
	for (size_t i = 0; i < big; i += pg)
		m[i] = (unsigned char)(i / pg);
	int ok = 1;
	for (size_t i = 0; i < big; i += pg)
		ok &= m[i] == (unsigned char)(i / pg) && m[i + 1] == 0;
	CHECK("every page of 100 MiB written and read back", ok);
	free(m);
}

static void remap(void) {
	/* Three pages, the last replaced by a read-only one: growing the first
	 * two in place is impossible, so it must move. */
	char *p = anon(3 * pg, MAP_PRIVATE);
	memset(p, 'r', 2 * pg);
	char *block = mmap(p + 2 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK("block the page after the mapping", block == p + 2 * pg);
	EXPECT_ERR(mremap(p, 2 * pg, 64 * pg, 0), ENOMEM);
	char *q = mremap(p, 2 * pg, 64 * pg, MREMAP_MAYMOVE);
	CHECK("mremap MAYMOVE grows", q != MAP_FAILED);
	CHECK("grown mapping keeps contents", filled(q, 2 * pg, 'r'));
	CHECK("grown part is zero", filled(q + 2 * pg, 62 * pg, 0));
	q[64 * pg - 1] = 'e';
	unsigned char v;
	EXPECT_ERR(mincore(p, pg, &v), ENOMEM);
	char *s = mremap(q, 64 * pg, pg, 0);
	CHECK("mremap shrinks in place", s == q && filled(q, pg, 'r'));
	void *fixed = (void *)0x110000000000UL;
	char *f = mremap(q, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED, fixed);
	CHECK("MREMAP_FIXED moves to the address asked", f == fixed && filled(f, pg, 'r'));
	EXPECT_ERR(mremap(f + 1, pg, 2 * pg, MREMAP_MAYMOVE), EINVAL);
	EXPECT_ERR(mremap(f, pg, 0, MREMAP_MAYMOVE), EINVAL);
	EXPECT_ERR(mremap(f, pg, pg, 0x100), EINVAL);
	munmap(f, pg);
	munmap(block, pg);
}

static void advise(void) {
	char *p = anon(8 * pg, MAP_PRIVATE);
	memset(p, 'd', 8 * pg);
	EXPECT_OK(madvise(p + 2 * pg, 4 * pg, MADV_DONTNEED));
	CHECK("MADV_DONTNEED zeroes private anonymous pages", filled(p + 2 * pg, 4 * pg, 0));
	CHECK("and leaves the others", filled(p, 2 * pg, 'd') && filled(p + 6 * pg, 2 * pg, 'd'));
	EXPECT_OK(madvise(p, 8 * pg, MADV_NORMAL));
	EXPECT_OK(madvise(p, 8 * pg, MADV_WILLNEED));
	EXPECT_OK(madvise(p, 8 * pg, MADV_SEQUENTIAL));
	EXPECT_OK(madvise(p, 8 * pg, MADV_RANDOM));
	EXPECT_ERR(madvise(p, 8 * pg, 999), EINVAL);
	EXPECT_ERR(madvise(p + 1, pg, MADV_DONTNEED), EINVAL);

	/* mincore: pages just written are resident. */
	unsigned char vec[8];
	memset(p, 'm', 8 * pg);
	EXPECT_OK(mincore(p, 8 * pg, vec));
	int all = 1;
	for (int i = 0; i < 8; i++)
		all &= vec[i] & 1;
	CHECK("mincore: touched pages are resident", all);
	EXPECT_ERR(mincore(p + 1, pg, vec), EINVAL);

	EXPECT_OK(msync(p, 8 * pg, MS_SYNC));
	EXPECT_OK(msync(p, 8 * pg, MS_ASYNC));
	EXPECT_OK(msync(p, 8 * pg, MS_INVALIDATE));
	EXPECT_ERR(msync(p + 1, pg, MS_SYNC), EINVAL);
	EXPECT_ERR(msync(p, pg, MS_SYNC | MS_ASYNC), EINVAL);
	munmap(p, 8 * pg);
	EXPECT_ERR(madvise(p, pg, MADV_DONTNEED), ENOMEM);
	EXPECT_ERR(msync(p, pg, MS_SYNC), ENOMEM);

	char *s = anon(4 * pg, MAP_SHARED);
	memset(s, 'S', 4 * pg);
	EXPECT_OK(madvise(s, 4 * pg, MADV_DONTNEED));
	CHECK("MADV_DONTNEED keeps shared anonymous contents", filled(s, 4 * pg, 'S'));
	munmap(s, 4 * pg);
}

int main(void) {
	pg = sysconf(_SC_PAGESIZE);
	printf("page size: %ld\n", pg);
	basic();
	noreserve();
	unmap_protect();
	copyout();
	heap();
	remap();
	advise();
	return ukt_exit();
}
