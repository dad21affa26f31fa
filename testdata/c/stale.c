/* stale: a page the program gave up must not stay reachable. 1000 times
 * each: a page written, then unmapped, made PROT_NONE, or cut off by a
 * truncate of the shared file it maps, is touched again and must fault
 * (SIGSEGV, SIGSEGV, SIGBUS). Then the top of the lower half, where the KVM
 * platform keeps its supervisor window (trampoline, IDT, page tables,
 * per-vCPU stacks), must be neither readable nor writable, and a page a
 * child process mapped and wrote must not be reachable from its parent.
 * The same lines are printed natively, on ptrace and on KVM. */
#include "uktest.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define ROUNDS 1000

static sigjmp_buf jb;
static volatile int caught;

static void handler(int sig) {
	caught = sig;
	siglongjmp(jb, 1);
}

/* touch reads (or writes) *p and returns the signal it raised, 0 if none. */
static int touch(volatile char *p, int write) {
	caught = 0;
	if (sigsetjmp(jb, 1) == 0) {
		if (write)
			*p = 'x';
		else
			(void)*p;
	}
	return caught;
}

static const char *signame(int s) {
	switch (s) {
	case 0: return "none";
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	}
	return "other";
}

/* report prints how many of the rounds raised want, and the first other
 * outcome. */
static void report(const char *what, int got[ROUNDS], int want) {
	int n = 0, other = -1;
	for (int i = 0; i < ROUNDS; i++) {
		if (got[i] == want)
			n++;
		else if (other < 0)
			other = i;
	}
	printf("%s: %d of %d %s", what, n, ROUNDS, signame(want));
	if (other >= 0)
		printf(" (FAIL: round %d: %s)", other, signame(got[other]));
	printf("\n");
	if (n != ROUNDS)
		ukt_failures++;
}

int main(void) {
	long pg = sysconf(_SC_PAGESIZE);
	struct sigaction sa = {.sa_handler = handler};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	static int got[ROUNDS];

	for (int i = 0; i < ROUNDS; i++) {
		char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p[0] = 'a';
		munmap(p, pg);
		got[i] = touch(p, i & 1);
	}
	report("munmap then touch", got, SIGSEGV);

	for (int i = 0; i < ROUNDS; i++) {
		char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		p[0] = 'a';
		mprotect(p, pg, PROT_NONE);
		got[i] = touch(p, i & 1);
		munmap(p, pg);
	}
	report("mprotect(PROT_NONE) then touch", got, SIGSEGV);

	/* A read-only downgrade: reads still work, a write faults. */
	int ro = 0;
	for (int i = 0; i < ROUNDS; i++) {
		char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p[0] = 'a';
		mprotect(p, pg, PROT_READ);
		ro += touch(p, 0) == 0 && p[0] == 'a';
		got[i] = touch(p, 1);
		munmap(p, pg);
	}
	printf("mprotect(PROT_READ): %d of %d still readable\n", ro, ROUNDS);
	if (ro != ROUNDS)
		ukt_failures++;
	report("mprotect(PROT_READ) then write", got, SIGSEGV);

	char path[] = "/tmp/stale-XXXXXX";
	int fd = mkstemp(path);
	CHECK("mkstemp", fd >= 0);
	unlink(path);
	for (int i = 0; i < ROUNDS; i++) {
		ftruncate(fd, pg);
		char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		p[0] = 'a';
		ftruncate(fd, 0);
		got[i] = touch(p, i & 1);
		munmap(p, pg);
	}
	close(fd);
	report("truncate then touch", got, SIGBUS);

	/* The KVM platform's supervisor window: PML4 slot 255. */
	static const unsigned long window[] = {
		0x7f8000000000UL, /* trampoline code */
		0x7f8000002000UL, /* IDT */
		0x7f8000003000UL, /* window PDPT */
		0x7f8000004000UL, /* window page directory */
		0x7f8000005000UL, /* idle root page table */
		0x7f8000006000UL, /* first allocated page: tables, vCPU blocks */
		0x7f8000010000UL,
		0x7f8000100000UL,
		0x7f800ffff000UL,
	};
	int wr = 0, ww = 0, nw = sizeof window / sizeof window[0];
	for (int i = 0; i < nw; i++) {
		wr += touch((volatile char *)window[i], 0) == SIGSEGV;
		ww += touch((volatile char *)window[i], 1) == SIGSEGV;
	}
	printf("supervisor window: %d of %d reads and %d of %d writes SIGSEGV\n", wr, nw, ww, nw);
	if (wr != nw || ww != nw)
		ukt_failures++;

	/* Another address space: a child maps and writes a page at a fixed
	 * address and exits; the parent, which never mapped it, faults. */
	char *fixed = (char *)0x200000000000UL;
	int seen = 0;
	for (int i = 0; i < 100; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			char *p = mmap(fixed, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (p != fixed)
				_exit(1);
			p[0] = 's';
			_exit(0);
		}
		int status;
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ukt_failures++;
		seen += touch(fixed, 0) == SIGSEGV;
	}
	printf("child's page from the parent: %d of 100 SIGSEGV\n", seen);
	if (seen != 100)
		ukt_failures++;

	/* Recycled pages: a child fills 8 MiB with a pattern and exits, or
	 * unmaps it; whatever memory the parent then gets (anonymous, or a
	 * tmpfs file grown) must read as zeros, not as the child's bytes. */
	const size_t big = 8 << 20;
	long dirty = 0;
	for (int i = 0; i < 20; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			char *p = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				_exit(1);
			memset(p, 0x5a, big);
			if (i & 1)
				munmap(p, big);
			_exit(0);
		}
		int status;
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ukt_failures++;
		char *q;
		int tfd = -1;
		if (i % 4 < 2) {
			q = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		} else {
			char tpath[] = "/tmp/stale-XXXXXX";
			tfd = mkstemp(tpath);
			unlink(tpath);
			ftruncate(tfd, big);
			q = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_SHARED, tfd, 0);
		}
		if (q == MAP_FAILED) {
			printf("recycled pages: mmap failed\n");
			ukt_failures++;
			continue;
		}
		for (size_t off = 0; off < big; off += 64)
			dirty += q[off] != 0;
		munmap(q, big);
		if (tfd >= 0)
			close(tfd);
	}
	printf("recycled pages: %ld dirty bytes seen in 20 x 8 MiB\n", dirty);
	if (dirty != 0)
		ukt_failures++;
	return ukt_exit();
}
