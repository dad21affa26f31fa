/* proc: process identity and per-process state: pids, credentials, uname,
 * arch_prctl, set_tid_address, robust lists, rseq, resource limits, CPU
 * affinity and sched_yield.
 * With argument "nodename" it prints only uname's nodename (for --hostname). */
#include "uktest.h"

#include <asm/prctl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#endif

static void ids(void) {
	pid_t pid = getpid();
	CHECK("getpid() > 0", pid > 0);
	CHECK("syscall(SYS_getpid) == getpid()", syscall(SYS_getpid) == pid);
	CHECK("gettid() == getpid() (single thread)", gettid() == pid);
	CHECK("getppid() > 0", getppid() > 0);
	CHECK("getppid() != getpid()", getppid() != pid);

	uid_t r, e, s;
	gid_t gr, ge, gs;
	EXPECT_OK(getresuid(&r, &e, &s));
	CHECK("getresuid matches getuid/geteuid", r == getuid() && e == geteuid());
	CHECK("saved uid == effective uid", s == e);
	EXPECT_OK(getresgid(&gr, &ge, &gs));
	CHECK("getresgid matches getgid/getegid", gr == getgid() && ge == getegid());
	CHECK("saved gid == effective gid", gs == ge);
	CHECK("getuid() == geteuid()", getuid() == geteuid());
	CHECK("getgid() == getegid()", getgid() == getegid());
	EXPECT_OK(setuid(getuid()));
	EXPECT_OK(setgid(getgid()));
	EXPECT_OK(setreuid(-1, -1));
	EXPECT_OK(setregid(-1, -1));
	EXPECT_OK(setresuid(-1, -1, -1));
	EXPECT_OK(setresgid(-1, -1, -1));
	CHECK("setfsuid(-1) returns the euid", (uid_t)syscall(SYS_setfsuid, -1) == geteuid());
	CHECK("setfsgid(-1) returns the egid", (gid_t)syscall(SYS_setfsgid, -1) == getegid());
	int ng = EXPECT_OK(getgroups(0, NULL));
	CHECK("getgroups(0) >= 0", ng >= 0);
	EXPECT_ERR(getresuid(NULL, &e, &s), EFAULT);
}

static void names(void) {
	struct utsname u;
	EXPECT_OK(uname(&u));
	printf("sysname: %s\n", u.sysname);
	printf("machine: %s\n", u.machine);
	CHECK("release starts with a digit and has a dot",
	      u.release[0] >= '0' && u.release[0] <= '9' && strchr(u.release, '.'));
	CHECK("version is not empty", u.version[0] != 0);
	CHECK("nodename is not empty", u.nodename[0] != 0);
	char host[256];
	EXPECT_OK(gethostname(host, sizeof host));
	CHECK("gethostname == uname nodename", strcmp(host, u.nodename) == 0);
	EXPECT_ERR(uname(NULL), EFAULT);
}

static void archprctl(void) {
	unsigned long oldfs = 0, oldgs = 0, got = 0;
	static unsigned long tls_block[4] = {0x1122334455667788UL, 0, 0, 0};
	static unsigned long gs_block[4] = {0x0badc0ffee0ddf00UL, 0, 0, 0};
	unsigned long seen_fs = 0, seen_gs = 0;
	long r1, r2, r3, r4, r5;

	/* Between setting and restoring FS nothing may touch TLS (errno, stdio):
	 * only raw syscalls and plain loads. */
	r1 = raw_syscall2(SYS_arch_prctl, ARCH_GET_FS, (long)&oldfs);
	r2 = raw_syscall2(SYS_arch_prctl, ARCH_SET_FS, (long)tls_block);
	r3 = raw_syscall2(SYS_arch_prctl, ARCH_GET_FS, (long)&got);
	__asm__ volatile("movq %%fs:0, %0" : "=r"(seen_fs));
	r4 = raw_syscall2(SYS_arch_prctl, ARCH_SET_FS, (long)oldfs);
	CHECK("ARCH_GET_FS == 0", r1 == 0);
	CHECK("ARCH_GET_FS returned a nonzero base (glibc TLS)", oldfs != 0);
	CHECK("ARCH_SET_FS == 0", r2 == 0);
	CHECK("ARCH_GET_FS reads back the new base", got == (unsigned long)tls_block);
	CHECK("%fs:0 loads through the new base", seen_fs == tls_block[0]);
	CHECK("ARCH_SET_FS restore == 0", r4 == 0);

	r1 = raw_syscall2(SYS_arch_prctl, ARCH_GET_GS, (long)&oldgs);
	r2 = raw_syscall2(SYS_arch_prctl, ARCH_SET_GS, (long)gs_block);
	r3 = raw_syscall2(SYS_arch_prctl, ARCH_GET_GS, (long)&got);
	__asm__ volatile("movq %%gs:0, %0" : "=r"(seen_gs));
	r5 = raw_syscall2(SYS_arch_prctl, ARCH_SET_GS, (long)oldgs);
	CHECK("ARCH_GET_GS == 0", r1 == 0);
	CHECK("ARCH_SET_GS == 0", r2 == 0 && r3 == 0);
	CHECK("ARCH_GET_GS reads back the new base", got == (unsigned long)gs_block);
	CHECK("%gs:0 loads through the new base", seen_gs == gs_block[0]);
	CHECK("ARCH_SET_GS restore == 0", r5 == 0);

	EXPECT_RAW(raw_syscall2(SYS_arch_prctl, ARCH_SET_FS, 0x800000000000L), -EPERM);
	EXPECT_RAW(raw_syscall2(SYS_arch_prctl, ARCH_GET_FS, 8), -EFAULT);
	EXPECT_RAW(raw_syscall2(SYS_arch_prctl, 0x9999, 0), -EINVAL);
}

static void threadstate(void) {
	static int tidword;
	CHECK("set_tid_address returns the tid", syscall(SYS_set_tid_address, &tidword) == gettid());

	void *head = NULL;
	size_t len = 0;
	EXPECT_OK(syscall(SYS_get_robust_list, 0, &head, &len));
	printf("robust list len: %zu\n", len);
	static struct {
		void *next;
		long futex_offset;
		void *pending;
	} mine = {&mine, 0, NULL};
	EXPECT_OK(syscall(SYS_set_robust_list, &mine, sizeof mine));
	void *h2 = NULL;
	EXPECT_OK(syscall(SYS_get_robust_list, 0, &h2, &len));
	CHECK("get_robust_list returns what was set", h2 == &mine);
	EXPECT_ERR(syscall(SYS_set_robust_list, &mine, sizeof mine - 1), EINVAL);
	EXPECT_OK(syscall(SYS_set_robust_list, head, sizeof mine));

	/* glibc (>= 2.35) registers rseq at startup when the kernel has it; then
	 * a registration of another area is EINVAL. Where rseq is missing,
	 * glibc's attempt failed (__rseq_size == 0) and ours says ENOSYS or, if
	 * the kernel accepts it, succeeds. */
	static struct {
		uint32_t cpu_id_start, cpu_id;
		uint64_t rseq_cs;
		uint32_t flags;
		uint32_t pad[3];
	} __attribute__((aligned(32))) rs;
	errno = 0;
	long r = syscall(SYS_rseq, &rs, sizeof rs, 0, 0x53053053);
	int e = errno;
	unsigned int glibc_size = 0;
#if __has_include(<sys/rseq.h>)
	glibc_size = __rseq_size;
#endif
	if ((glibc_size > 0 && r == -1 && e == EINVAL) || (glibc_size == 0 && (r == 0 || e == ENOSYS)))
		printf("rseq: ok\n");
	else
		printf("rseq: FAIL %ld %s (glibc registered %u bytes)\n", r, errname(e), glibc_size), ukt_failures++;
}

static void limits(void) {
	static const struct {
		int res;
		const char *name;
	} rl[] = {
		{RLIMIT_CPU, "CPU"}, {RLIMIT_FSIZE, "FSIZE"}, {RLIMIT_DATA, "DATA"},
		{RLIMIT_STACK, "STACK"}, {RLIMIT_CORE, "CORE"}, {RLIMIT_RSS, "RSS"},
		{RLIMIT_NPROC, "NPROC"}, {RLIMIT_NOFILE, "NOFILE"}, {RLIMIT_MEMLOCK, "MEMLOCK"},
		{RLIMIT_AS, "AS"}, {RLIMIT_LOCKS, "LOCKS"}, {RLIMIT_SIGPENDING, "SIGPENDING"},
		{RLIMIT_MSGQUEUE, "MSGQUEUE"}, {RLIMIT_NICE, "NICE"}, {RLIMIT_RTPRIO, "RTPRIO"},
		{RLIMIT_RTTIME, "RTTIME"},
	};
	for (size_t i = 0; i < sizeof rl / sizeof rl[0]; i++) {
		struct rlimit l;
		char what[64];
		snprintf(what, sizeof what, "getrlimit(RLIMIT_%s) ok, soft <= hard", rl[i].name);
		int r = getrlimit(rl[i].res, &l);
		CHECK(what, r == 0 && (l.rlim_max == RLIM_INFINITY || l.rlim_cur <= l.rlim_max));
	}
	struct rlimit st, nf, old, raw;
	EXPECT_OK(getrlimit(RLIMIT_STACK, &st));
	CHECK("RLIMIT_STACK soft >= 128 KiB", st.rlim_cur >= 128 * 1024);
	EXPECT_OK(getrlimit(RLIMIT_NOFILE, &nf));
	CHECK("RLIMIT_NOFILE soft >= 64", nf.rlim_cur >= 64);
	EXPECT_OK(syscall(SYS_getrlimit, RLIMIT_NOFILE, &raw));
	CHECK("old getrlimit syscall agrees", raw.rlim_cur == nf.rlim_cur && raw.rlim_max == nf.rlim_max);
	EXPECT_OK(prlimit(0, RLIMIT_NOFILE, NULL, &old));
	CHECK("prlimit(0) agrees with getrlimit", old.rlim_cur == nf.rlim_cur && old.rlim_max == nf.rlim_max);
	EXPECT_OK(prlimit(getpid(), RLIMIT_NOFILE, NULL, &old));

	struct rlimit lower = {64, nf.rlim_max}, back;
	EXPECT_OK(setrlimit(RLIMIT_NOFILE, &lower));
	EXPECT_OK(getrlimit(RLIMIT_NOFILE, &back));
	CHECK("setrlimit(NOFILE soft=64) reads back", back.rlim_cur == 64 && back.rlim_max == nf.rlim_max);
	struct rlimit prev;
	EXPECT_OK(prlimit(0, RLIMIT_NOFILE, &nf, &prev));
	CHECK("prlimit returns the previous limit", prev.rlim_cur == 64);
	EXPECT_OK(getrlimit(RLIMIT_NOFILE, &back));
	CHECK("prlimit restored the limit", back.rlim_cur == nf.rlim_cur);

	struct rlimit bad = {100, 10};
	EXPECT_ERR(setrlimit(RLIMIT_NOFILE, &bad), EINVAL);
	EXPECT_ERR(syscall(SYS_prlimit64, 0, 99, NULL, &old), EINVAL);
	EXPECT_ERR(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, (void *)8), EFAULT);
}

static void sched(void) {
	cpu_set_t set;
	CPU_ZERO(&set);
	EXPECT_OK(sched_getaffinity(0, sizeof set, &set));
	CHECK("affinity mask has a CPU", CPU_COUNT(&set) > 0);
	long n = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
	CHECK("raw sched_getaffinity returns a size multiple of 8", n > 0 && n % 8 == 0);
	EXPECT_ERR(syscall(SYS_sched_getaffinity, 0, 1, &set), EINVAL);
	EXPECT_EQ(sched_yield(), 0);
}

static long task_links(void) {
	struct stat st;
	if (stat("/proc/self/task", &st) != 0)
		return -1;
	return (long)st.st_nlink;
}

static void *parked(void *arg) {
	pthread_barrier_wait(arg); /* started */
	pthread_barrier_wait(arg); /* counted */
	return NULL;
}

/* /proc/self/task's link count is 2 plus one a thread: Chromium's sandbox
 * reads it as the thread count. */
static void tasklinks(void) {
	printf("task links, one thread: %ld\n", task_links());
	pthread_barrier_t b;
	pthread_barrier_init(&b, NULL, 2);
	pthread_t th;
	pthread_create(&th, NULL, parked, &b);
	pthread_barrier_wait(&b);
	printf("task links, two threads: %ld\n", task_links());
	pthread_barrier_wait(&b);
	pthread_join(th, NULL);
	/* A join returns when the thread's tid word is cleared, which both
	 * kernels do a moment before the thread leaves its group's list:
	 * give it up to a second. */
	long joined = task_links();
	for (int i = 0; i < 1000 && joined != 3; i++) {
		usleep(1000);
		joined = task_links();
	}
	printf("task links, joined: %ld\n", joined);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "nodename") == 0) {
		struct utsname u;
		if (uname(&u) != 0)
			return 1;
		printf("%s\n", u.nodename);
		return 0;
	}
	ids();
	names();
	archprctl();
	threadstate();
	limits();
	sched();
	tasklinks();
	return ukt_exit();
}
