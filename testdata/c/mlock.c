/* mlock.c: what mlock and fork-time madvise advice do, compared with
 * Linux: VmLck in /proc/self/status through mlock, munlock, mlockall
 * (MCL_FUTURE locking a later mmap) and munlockall; RLIMIT_MEMLOCK for a
 * process without CAP_IPC_LOCK (EPERM at 0, ENOMEM past it, the pages
 * already locked not counted twice); a fork's child not inheriting locks;
 * MADV_DONTFORK (the child faults there), MADV_WIPEONFORK (the child
 * reads zeros, the parent keeps its data) and their undoing. */
#include "uktest.h"

#include <linux/capability.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>

static long vmlck(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static sigjmp_buf jb;
static void on_segv(int sig) { siglongjmp(jb, 1); }

/* readable reports whether the child can read p, and what it reads. */
static void child_reads(const char *what, volatile char *p) {
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		signal(SIGSEGV, on_segv);
		if (sigsetjmp(jb, 1))
			printf("%s: the child faults\n", what);
		else
			printf("%s: the child reads %d\n", what, p[0]);
		printf("%s: the child's VmLck %ld kB\n", what, vmlck());
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

int main(void) {
	long pg = sysconf(_SC_PAGESIZE);
	char *a = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(a, 7, 8 * pg);
	printf("VmLck at the start: %ld kB\n", vmlck());
	EXPECT_OK(mlock(a + 100, 2 * pg)); /* rounds to 3 pages */
	printf("after mlock: %ld kB\n", vmlck());
	child_reads("locked", a);
	EXPECT_OK(munlock(a + pg, pg));
	printf("after munlock of the middle page: %ld kB\n", vmlck());
	EXPECT_OK(munlockall());
	printf("after munlockall: %ld kB\n", vmlck());
	EXPECT_OK(mlockall(MCL_FUTURE));
	char *b = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("a mapping after MCL_FUTURE: %ld kB\n", vmlck());
	EXPECT_OK(munlockall());
	munmap(b, 4 * pg);
	printf("after munlockall: %ld kB\n", vmlck());

	EXPECT_OK(madvise(a, pg, MADV_DONTFORK));
	child_reads("MADV_DONTFORK", a);
	EXPECT_OK(madvise(a, pg, MADV_DOFORK));
	child_reads("MADV_DOFORK", a);
	EXPECT_OK(madvise(a + pg, pg, MADV_WIPEONFORK));
	child_reads("MADV_WIPEONFORK", a + pg);
	printf("the parent still reads %d\n", a[pg]);
	EXPECT_OK(madvise(a + pg, pg, MADV_KEEPONFORK));
	child_reads("MADV_KEEPONFORK", a + pg);

	/* RLIMIT_MEMLOCK binds a process without CAP_IPC_LOCK. */
	pid_t c = fork();
	if (c == 0) {
		struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct d[2] = {{0}};
		EXPECT_OK(syscall(SYS_capset, &h, d));
		struct rlimit r = {0, 2 * pg};
		EXPECT_OK(setrlimit(RLIMIT_MEMLOCK, &r));
		EXPECT_ERR(mlock(a, pg), EPERM);
		EXPECT_ERR(mlockall(MCL_CURRENT), EPERM);
		r.rlim_cur = r.rlim_max = 2 * pg;
		EXPECT_OK(setrlimit(RLIMIT_MEMLOCK, &r));
		EXPECT_OK(mlock(a, 2 * pg));
		EXPECT_OK(mlock(a, 2 * pg)); /* the same pages again */
		EXPECT_ERR(mlock(a, 3 * pg), ENOMEM);
		EXPECT_ERR(mlockall(MCL_CURRENT), ENOMEM);
		printf("limited: %ld kB\n", vmlck());
		fflush(stdout);
		_exit(ukt_failures ? 1 : 0);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("the limited child passed", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return ukt_exit();
}
