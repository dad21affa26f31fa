/* mmedges.c: memory-mapping edge cases LTP checks, compared with Linux: a
 * shared mapping longer than its file (the file's pages read, the rest of
 * the last page zeros, a page wholly past the end SIGBUS; mmap13), on a
 * tmpfs file; MAP_32BIT placing below 2 GiB and failing when it cannot
 * (mmap23, mmap24); MAP_LOCKED making pages locked and resident (mmap14);
 * mincore saying untouched anonymous memory is not resident and locked
 * memory is (mincore03); MREMAP_DONTUNMAP (mremap07); a negative file
 * offset (EOVERFLOW); getcpu after pinning to one CPU (getcpu01);
 * MADV_REMOVE freeing shared memory (a tmpfs file's, shared anonymous,
 * a System V segment's: zeros after) and MADV_POPULATE_WRITE; RLIMIT_AS
 * and RLIMIT_DATA refusing mappings and heap growth past them;
 * /proc/self/pagemap's present, shared and exclusive bits (mmap12); a
 * MAP_GROWSDOWN area growing, and stopping short of a mapping below it by
 * the stack guard gap (mmap18); vm.max_map_count (65530) stopping splits
 * with ENOMEM (mprotect, munmap, MAP_FIXED, mlock, mbind and mremap
 * inside a mapping), but not edits that need no split. */
#include "uktest.h"
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/resource.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static sigjmp_buf jb;
static void onbus(int sig) { siglongjmp(jb, sig); }

/* touch reads *p and says what happened: the byte, or the signal. */
static void touch(const char *what, volatile char *p) {
	int sig = sigsetjmp(jb, 1);
	if (sig == 0)
		printf("%s: reads %d\n", what, *p);
	else
		printf("%s: %s\n", what, sig == SIGBUS ? "SIGBUS" : "other signal");
}

static long vmlck(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char l[256];
	long v = -1;
	while (f && fgets(l, sizeof l, f))
		if (!strncmp(l, "VmLck:", 6))
			sscanf(l + 6, "%ld", &v);
	if (f)
		fclose(f);
	return v;
}

static int resident(void *p, int pages) {
	unsigned char vec[64];
	int n = 0;
	if (mincore(p, pages * 4096, vec) != 0)
		return -1;
	for (int i = 0; i < pages; i++)
		n += vec[i] & 1;
	return n;
}

static void as_limit(void) {
	struct rlimit l = {64 << 20, 64 << 20};
	EXPECT_OK(setrlimit(RLIMIT_AS, &l));
	EXPECT_ERR(mmap(0, 128 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
	void *small = mmap(0, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("a mapping within RLIMIT_AS", small != MAP_FAILED);
	EXPECT_ERR(mremap(small, 1 << 20, 128 << 20, MREMAP_MAYMOVE), ENOMEM);
}

static void data_limit(void) {
	struct rlimit l = {0, 0};
	EXPECT_OK(setrlimit(RLIMIT_DATA, &l));
	CHECK("sbrk past RLIMIT_DATA fails", sbrk(1 << 20) == (void *)-1 && errno == ENOMEM);
	EXPECT_ERR(mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
	void *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("a read-only mapping is no data", ro != MAP_FAILED);
	void *sh = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK("a shared mapping is no data", sh != MAP_FAILED);
}

/* grow maps a one-page MAP_GROWSDOWN area with, if below, an accessible
 * page four pages under it, then touches the page just under the area. */
/* map_count_limit splits a reservation into VMAs (every other page made
 * readable) until mprotect fails, then unmaps single pages inside the
 * rest (one more VMA each) until that fails too, leaving exactly the
 * limit's count whatever the process had before; then tries what needs
 * another split and what needs none. */
static void map_count_limit(void) {
	long n = 40000;
	char *r = mmap(0, 2 * n * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK("a reservation of 80000 pages", r != MAP_FAILED);
	long i = 0;
	while (i < n && mprotect(r + 2 * i * 4096, 4096, PROT_READ) == 0)
		i++;
	CHECK("mprotect splits until ENOMEM", i < n && errno == ENOMEM);
	CHECK("the splits stop near 65530 VMAs", i > 32700 && i < 32765);
	char *last = r + 2 * (i - 1) * 4096; /* a readable page, a VMA of its own */
	char *rest = r + 2 * i * 4096;        /* the rest of the reservation, one VMA */
	long j = 0;
	while (j < 4 && munmap(rest + (2 * j + 1) * 4096, 4096) == 0)
		j++;
	CHECK("munmap inside a VMA stops with ENOMEM at the limit", j < 2 && errno == ENOMEM);
	char *tail = rest + 2 * j * 4096; /* what is left of the rest, one VMA */
	EXPECT_ERR(munmap(tail + 4096, 4096), ENOMEM);
	EXPECT_ERR(mprotect(tail + 4096, 4096, PROT_READ), ENOMEM);
	EXPECT_ERR(mmap(tail + 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), ENOMEM);
	EXPECT_ERR(mlock(tail + 4096, 4096), ENOMEM);
	unsigned long node0 = 1;
	EXPECT_ERR(syscall(SYS_mbind, tail + 4096, 4096, 1 /* MPOL_PREFERRED */, &node0, 2, 0), ENOMEM);
	EXPECT_ERR(mremap(tail + 4096, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, r + 2 * n * 4096 - 4096), ENOMEM);
	EXPECT_OK(mprotect(last, 4096, PROT_READ | PROT_WRITE)); /* a whole VMA: no split */
	EXPECT_OK(munmap(last, 4096));                           /* a whole VMA: one fewer */
	EXPECT_OK(munmap(tail + 4096, 4096));                    /* now there is room */
	EXPECT_OK(munmap(r, 2 * n * 4096));
	char *p = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap works again", p != MAP_FAILED);
	munmap(p, 4096);
}

static int grows(int below) {
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		char *top = mmap((void *)0x200000000000UL, 4096, PROT_READ | PROT_WRITE,
		                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
		if (below)
			mmap(top - 4 * 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		signal(SIGSEGV, SIG_DFL);
		top[-100] = 1;
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

int main(void) {
	map_count_limit();
	EXPECT_EQ(grows(0), 0);
	EXPECT_EQ(grows(1), SIGSEGV);
	ukt_in_child("RLIMIT_AS", as_limit);
	ukt_in_child("RLIMIT_DATA", data_limit);
	signal(SIGBUS, onbus);
	signal(SIGSEGV, onbus);
	char path[64];
	snprintf(path, sizeof path, "/dev/shm/uk_mmedges_%d", getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(fd, "hello, tail", 11);
	unlink(path);

	/* A shared mapping longer than its file. */
	for (int len = 2; len <= 16; len *= 8) {
		char *a = mmap(0, len * 4096, PROT_READ, MAP_SHARED, fd, 0);
		CHECK("shared mapping longer than the file", a != MAP_FAILED);
		printf("%d pages:\n", len);
		touch("  byte 0", a);
		touch("  byte 7", a + 7);
		touch("  byte 100 (past the end, same page)", a + 100);
		touch("  page 1 (wholly past the end)", a + 4096);
		munmap(a, len * 4096);
	}

	/* A negative file offset. */
	EXPECT_ERR(mmap(0, 4096, PROT_READ, MAP_PRIVATE, fd, -4096), EOVERFLOW);

	/* MAP_32BIT: below 2 GiB, and ENOMEM when it cannot fit. */
	char *lo = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	CHECK("MAP_32BIT maps below 2 GiB", lo != MAP_FAILED && (unsigned long)lo + (1 << 20) <= 0x80000000UL);
	EXPECT_ERR(mmap(0, 1UL << 31, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0), ENOMEM);

	/* mincore of untouched anonymous memory, and of locked memory. */
	char *an = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_EQ(resident(an, 3), 0);
	EXPECT_OK(mlock(an, 3 * 4096));
	EXPECT_EQ(resident(an, 3), 3);
	munlock(an, 3 * 4096);
	munmap(an, 3 * 4096);

	/* MAP_LOCKED: locked and resident at once. */
	long before = vmlck();
	char *lk = mmap(0, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	CHECK("MAP_LOCKED maps", lk != MAP_FAILED);
	EXPECT_EQ(vmlck() - before, 256);
	EXPECT_EQ(resident(lk, 64), 64);
	munmap(lk, 64 * 4096);

	/* MREMAP_DONTUNMAP: the pages move, the old range stays, empty. */
	char *src = mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(src, 'd', 2 * 4096);
	/* The raw call: this glibc's wrapper refuses the flag itself. */
	char *dst = (char *)syscall(SYS_mremap, src, 2 * 4096, 2 * 4096, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
	CHECK("MREMAP_DONTUNMAP moves", dst != MAP_FAILED && dst != src);
	if (dst != MAP_FAILED) {
		touch("  moved page", dst + 4096);
		touch("  old page", src + 4096);
	}
	EXPECT_ERR(syscall(SYS_mremap, src, 4096, 2 * 4096, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0), EINVAL);
	EXPECT_ERR(syscall(SYS_mremap, src, 4096, 4096, MREMAP_DONTUNMAP, 0), EINVAL);

	/* MADV_REMOVE frees the pages of shared memory: zeros after. */
	ftruncate(fd, 3 * 4096);
	char *fw = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	memset(fw, 'f', 3 * 4096);
	EXPECT_OK(madvise(fw + 4096, 4096, MADV_REMOVE));
	char rb[3];
	pread(fd, rb, 1, 0);
	pread(fd, rb + 1, 1, 4096);
	pread(fd, rb + 2, 1, 8192);
	printf("tmpfs file after MADV_REMOVE of its middle page: %d %d %d, mapped %d\n", rb[0], rb[1], rb[2], fw[4096]);
	char *sa = mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(sa, 's', 2 * 4096);
	EXPECT_OK(madvise(sa, 2 * 4096, MADV_REMOVE));
	printf("shared anonymous after MADV_REMOVE: %d\n", sa[4096]);
	int id = shmget(IPC_PRIVATE, 2 * 4096, IPC_CREAT | 0600);
	char *sm = shmat(id, 0, 0);
	memset(sm, 1, 2 * 4096);
	EXPECT_OK(madvise(sm, 2 * 4096, MADV_REMOVE));
	printf("System V segment after MADV_REMOVE: %d\n", sm[0]);
	shmdt(sm);
	shmctl(id, IPC_RMID, NULL);
	char *pw = mmap(0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_OK(madvise(pw, 8 * 4096, 23 /* MADV_POPULATE_WRITE */));
	EXPECT_EQ(resident(pw, 8), 8);
	char *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_ERR(madvise(ro, 4096, 23 /* MADV_POPULATE_WRITE */), EINVAL);

	/* /proc/self/pagemap. */
	int pm = open("/proc/self/pagemap", O_RDONLY);
	CHECK("pagemap opens", pm >= 0);
	char *pop = mmap(0, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	char *un = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	un[4096] = 1;
	char *shr = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	shr[0] = 1;
	unsigned long long e[16];
	int all = 1;
	pread(pm, e, sizeof e, (unsigned long)pop / 4096 * 8);
	for (int i = 0; i < 3; i++) /* the file's 3 pages */
		all &= (e[i] >> 63) & 1;
	CHECK("MAP_POPULATE's file pages are present", all);
	pread(pm, e, 4 * 8, (unsigned long)un / 4096 * 8);
	printf("anonymous pages present: %llu %llu %llu %llu, the written one exclusive %llu, not shared %d\n",
	       e[0] >> 63, e[1] >> 63, e[2] >> 63, e[3] >> 63, (e[1] >> 56) & 1, !((e[1] >> 61) & 1));
	pread(pm, e, 8, (unsigned long)shr / 4096 * 8);
	printf("shared page: present %llu, file or shared %llu\n", e[0] >> 63, (e[0] >> 61) & 1);
	EXPECT_ERR(pread(pm, e, 4, 0), EINVAL);
	EXPECT_ERR(pread(pm, e, 8, 4), EINVAL);
	close(pm);

	/* getcpu on the one CPU a thread is pinned to. */
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(0, &s);
	EXPECT_OK(sched_setaffinity(0, sizeof s, &s));
	unsigned cpu = 99, node = 99;
	EXPECT_OK(syscall(SYS_getcpu, &cpu, &node, NULL));
	printf("getcpu after pinning to CPU 0: cpu %u node %u\n", cpu, node);
	return ukt_exit();
}
