/*
 * schedattr.c: sched_setattr(2) and sched_getattr(2), with the cases of
 * LTP's sched_setattr01, sched_getattr01 and sched_getattr02 and Linux
 * 6.x's rules (kernel/sched/syscalls.c) around them: the size field
 * (SCHED_ATTR_SIZE_VER0 48, 0 read as 48, VER1 56 the kernel's size,
 * E2BIG with 56 written back, a longer struct's tail that must be zero),
 * the errors in Linux's order, nice values and the fair policies' time
 * slice (sched_runtime), real-time priorities, SCHED_FLAG_KEEP_POLICY,
 * SCHED_FLAG_KEEP_PARAMS, SCHED_FLAG_RESET_ON_FORK, SCHED_DEADLINE's
 * parameters (admitted as root; a deadline thread cannot fork), a zombie
 * target and an unprivileged caller. This host's kernel has no
 * CONFIG_UCLAMP_TASK: the utilization clamp flags are EOPNOTSUPP and
 * sched_util_min/max read 0, as uk reports them. The default slice depends
 * on the number of CPUs, so only its being the default is printed.
 */
#include "uktest.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

#define FLAG_RESET_ON_FORK 0x01
#define FLAG_RECLAIM 0x02
#define FLAG_DL_OVERRUN 0x04
#define FLAG_KEEP_POLICY 0x08
#define FLAG_KEEP_PARAMS 0x10
#define FLAG_UTIL_CLAMP_MIN 0x20
#define FLAG_SUGOV 0x10000000

/* struct sched_attr (include/uapi/linux/sched/types.h), size VER1, and
 * room past it for the longer structs of a newer caller. */
struct attr {
	uint32_t size;
	uint32_t policy;
	uint64_t flags;
	int32_t nice;
	uint32_t prio;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
	unsigned char tail[64];
};

static long setattr(pid_t pid, struct attr *a, unsigned flags) {
	return syscall(SYS_sched_setattr, pid, a, flags);
}

static long getattr(pid_t pid, struct attr *a, unsigned size, unsigned flags) {
	return syscall(SYS_sched_getattr, pid, a, size, flags);
}

static struct attr attr(uint32_t policy, int32_t nice, uint32_t prio) {
	struct attr a;
	memset(&a, 0, sizeof a);
	a.size = 48;
	a.policy = policy;
	a.nice = nice;
	a.prio = prio;
	return a;
}

static struct attr deadline(uint64_t runtime, uint64_t dl, uint64_t period) {
	struct attr a = attr(SCHED_DEADLINE, 0, 0);
	a.runtime = runtime;
	a.deadline = dl;
	a.period = period;
	return a;
}

static uint64_t default_slice;

/* show prints what sched_getattr reports for pid; a fair thread's slice as
 * "default" when it is the one the process started with. */
static void show(const char *what, pid_t pid) {
	struct attr a;
	memset(&a, 0xee, sizeof a);
	long r = getattr(pid, &a, 56, 0);
	if (r != 0) {
		printf("%s: getattr FAIL %s\n", what, errname(errno));
		ukt_failures++;
		return;
	}
	char rt[32];
	if (a.runtime == default_slice && a.runtime != 0)
		snprintf(rt, sizeof rt, "default");
	else
		snprintf(rt, sizeof rt, "%llu", (unsigned long long)a.runtime);
	printf("%s: size %u policy %u flags %#llx nice %d prio %u runtime %s deadline %llu period %llu util %u %u\n",
	       what, a.size, a.policy, (unsigned long long)a.flags, a.nice, a.prio, rt,
	       (unsigned long long)a.deadline, (unsigned long long)a.period, a.util_min, a.util_max);
}

/* stat_prio prints /proc/self/stat's priority, nice, rt_priority and policy. */
static void stat_prio(const char *what) {
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	if (!f || !fgets(buf, sizeof buf, f)) {
		printf("%s: /proc/self/stat FAIL\n", what);
		ukt_failures++;
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	long v[52] = {0};
	int n = 0;
	for (char *tok = strtok(strrchr(buf, ')') + 2, " "); tok && n < 52; tok = strtok(NULL, " "))
		v[n++] = atol(tok);
	/* Fields 18, 19, 40 and 41, counted from the state (field 3). */
	printf("%s: stat priority %ld nice %ld rt_priority %ld policy %ld\n", what, v[15], v[16], v[37], v[38]);
}

static void errors(void) {
	int unused = ukt_unused_pid();
	struct attr a = attr(SCHED_OTHER, 0, 0), g;

	/* sched_getattr02 */
	EXPECT_ERR(getattr(unused, &g, 56, 0), ESRCH);
	EXPECT_ERR(getattr(0, NULL, 56, 0), EINVAL);
	EXPECT_ERR(getattr(0, &g, 47, 0), EINVAL);
	EXPECT_ERR(getattr(0, &g, 4097, 0), EINVAL);
	EXPECT_ERR(getattr(0, &g, 56, 1000), EINVAL);
	EXPECT_ERR(getattr(-1, &g, 56, 0), EINVAL);
	EXPECT_ERR(getattr(unused, NULL, 56, 0), EINVAL);
	EXPECT_ERR(getattr(0, (void *)8, 56, 0), EFAULT);

	/* sched_setattr01 */
	EXPECT_ERR(setattr(unused, &a, 0), ESRCH);
	EXPECT_ERR(setattr(0, NULL, 0), EINVAL);
	EXPECT_ERR(setattr(0, &a, 1000), EINVAL);
	EXPECT_ERR(setattr(-1, &a, 0), EINVAL);
	EXPECT_ERR(setattr(unused, NULL, 0), EINVAL);
	EXPECT_ERR(setattr(0, (void *)8, 0), EFAULT);
	EXPECT_ERR(setattr(unused, (void *)8, 0), EFAULT);

	/* The size: E2BIG, with the kernel's size written back. */
	uint32_t sizes[] = {1, 47, 4097, 0xffffffff};
	for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		a.size = sizes[i];
		long r = setattr(unused, &a, 0);
		printf("setattr size %u: %ld %s, size now %u\n", sizes[i], r, r ? errname(errno) : "", a.size);
	}
	a.size = 64;
	EXPECT_OK(setattr(0, &a, 0));
	a.size = 0;
	EXPECT_OK(setattr(0, &a, 0));
	EXPECT_EQ(a.size, 0);
	a.size = 64;
	a.tail[7] = 1;
	EXPECT_ERR(setattr(unused, &a, 0), E2BIG);
	EXPECT_EQ(a.size, 56);
	a.size = 57;
	a.tail[7] = 0;
	a.tail[0] = 1;
	EXPECT_ERR(setattr(0, &a, 0), E2BIG);
	a.tail[0] = 0;
	a.size = 48;

	/* Then the policy, the target, the flags and the priority. */
	a.policy = -1;
	EXPECT_ERR(setattr(unused, &a, 0), EINVAL);
	a.policy = 4;
	EXPECT_ERR(setattr(unused, &a, 0), ESRCH);
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	a.policy = 7;
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	a.policy = SCHED_OTHER;
	a.flags = 0x80;
	EXPECT_ERR(setattr(unused, &a, 0), ESRCH);
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	a.flags = FLAG_SUGOV;
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	a.flags = FLAG_UTIL_CLAMP_MIN;
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	a.size = 56;
	EXPECT_ERR(setattr(0, &a, 0), EOPNOTSUPP);
	a.size = 48;
	a.flags = 0;
	a.prio = 1;
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	a = attr(SCHED_FIFO, 0, 0);
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	a.prio = 100;
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	a.prio = -1;
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	a = attr(SCHED_BATCH, 0, 5);
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);

	/* SCHED_DEADLINE's parameters: runtime >= 1024 ns, runtime <=
	 * deadline <= period (deadline when 0), period from 100 us to 2^22 us. */
	struct {
		uint64_t runtime, deadline, period;
	} bad[] = {
		{1023, 1000000, 1000000}, {1000000, 0, 2000000}, {2000000, 1000000, 3000000},
		{1000000, 3000000, 2000000}, {1024, 1024, 0}, {99999, 99999, 0},
		{1000000, 3000000, 4194304001ULL}, {1000000, 3000000, 1ULL << 63}, {1000000, 1ULL << 63, 0},
	};
	for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
		a = deadline(bad[i].runtime, bad[i].deadline, bad[i].period);
		long r = setattr(0, &a, 0);
		printf("deadline %llu %llu %llu: %ld %s\n", (unsigned long long)bad[i].runtime,
		       (unsigned long long)bad[i].deadline, (unsigned long long)bad[i].period, r, r ? errname(errno) : "");
	}
	a = deadline(1000000, 2000000, 0);
	a.prio = 1;
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	show("after the errors", 0);

	/* An attr that ends on an unmapped page. */
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + 4096, 4096);
	struct attr *edge = (struct attr *)(page + 4096 - 48);
	memset(edge, 0, 48);
	edge->size = 56;
	EXPECT_ERR(setattr(0, edge, 0), EFAULT);
	edge->size = 64;
	EXPECT_ERR(setattr(0, edge, 0), EFAULT);
	edge->size = 5000;
	EXPECT_ERR(setattr(0, edge, 0), E2BIG);
	EXPECT_EQ(edge->size, 56);
	edge->size = 48;
	EXPECT_OK(setattr(0, edge, 0));
	EXPECT_ERR(getattr(0, edge, 56, 0), EFAULT);
	EXPECT_OK(getattr(0, edge, 48, 0));
	EXPECT_EQ(edge->size, 48);
	EXPECT_ERR(setattr(0, (struct attr *)(page + 4094), 0), EFAULT);
	munmap(page, 4096);
}

static void fair(void) {
	struct attr a, g;

	/* The reported size: the caller's when smaller, a longer tail zeroed. */
	memset(&g, 0xee, sizeof g);
	EXPECT_OK(getattr(0, &g, 48, 0));
	CHECK("getattr 48: size 48, the rest untouched", g.size == 48 && g.util_min == 0xeeeeeeee);
	memset(&g, 0xee, sizeof g);
	EXPECT_OK(getattr(0, &g, 64, 0));
	CHECK("getattr 64: size 56, util 0, tail zeroed",
	      g.size == 56 && g.util_min == 0 && g.util_max == 0 && g.tail[0] == 0 && g.tail[7] == 0 && g.tail[8] == 0xee);
	CHECK("a fair thread's runtime is its slice", g.runtime > 0);
	show("initially", 0);

	/* Nice values, clamped; SCHED_IDLE takes none. */
	a = attr(SCHED_OTHER, 3, 0);
	EXPECT_OK(setattr(0, &a, 0));
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), 3);
	a.nice = 100;
	EXPECT_OK(setattr(0, &a, 0));
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), 19);
	a.nice = -40;
	a.size = 0;
	EXPECT_OK(setattr(0, &a, 0));
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), -20);
	a = attr(SCHED_IDLE, 7, 0);
	EXPECT_OK(setattr(0, &a, 0));
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), -20);
	EXPECT_EQ(sched_getscheduler(0), SCHED_IDLE);
	show("idle", 0);
	a = attr(SCHED_BATCH, 2, 0);
	EXPECT_OK(setattr(0, &a, 0));
	EXPECT_EQ(sched_getscheduler(0), SCHED_BATCH);
	show("batch nice 2", 0);

	/* A custom slice (sched_runtime): clamped to 100 us..100 ms, kept by
	 * sched_setscheduler and fork, reset by 0 and by reset-on-fork. */
	a = attr(SCHED_OTHER, 2, 0);
	a.runtime = 5000000;
	EXPECT_OK(setattr(0, &a, 0));
	show("slice 5 ms", 0);
	a.runtime = 1;
	EXPECT_OK(setattr(0, &a, 0));
	show("slice 1 ns", 0);
	a.runtime = 1000000000;
	EXPECT_OK(setattr(0, &a, 0));
	show("slice 1 s", 0);
	struct sched_param zero = {0};
	EXPECT_OK(sched_setscheduler(0, SCHED_BATCH, &zero));
	show("sched_setscheduler batch", 0);
	a.runtime = 3000000;
	EXPECT_OK(setattr(0, &a, 0));
	pid_t c = fork();
	if (c == 0) {
		show("child", 0);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	a.flags = FLAG_RESET_ON_FORK;
	EXPECT_OK(setattr(0, &a, 0));
	EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER | SCHED_RESET_ON_FORK);
	show("reset-on-fork", 0);
	c = fork();
	if (c == 0) {
		show("reset-on-fork child", 0);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	a = attr(SCHED_OTHER, 0, 0);
	EXPECT_OK(setattr(0, &a, 0));
	show("back", 0);
}

static void realtime(void) {
	struct attr a;

	EXPECT_OK(setpriority(PRIO_PROCESS, 0, -3));
	a = attr(SCHED_FIFO, 5, 10);
	EXPECT_OK(setattr(0, &a, 0));
	EXPECT_EQ(sched_getscheduler(0), SCHED_FIFO);
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), -3);
	show("fifo 10", 0);
	stat_prio("fifo 10");

	/* KEEP_POLICY: the priority changes, the reset-on-fork flag stays. */
	a = attr(SCHED_OTHER, 0, 20);
	a.flags = FLAG_KEEP_POLICY;
	EXPECT_OK(setattr(0, &a, 0));
	show("keep policy, priority 20", 0);
	a.prio = 0;
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	a = attr(SCHED_RR, 0, 3);
	a.flags = FLAG_RESET_ON_FORK;
	EXPECT_OK(setattr(0, &a, 0));
	a.flags = FLAG_KEEP_POLICY;
	a.prio = 4;
	EXPECT_OK(setattr(0, &a, 0));
	show("rr, reset-on-fork kept", 0);
	EXPECT_EQ(sched_getscheduler(0), SCHED_RR | SCHED_RESET_ON_FORK);

	/* KEEP_PARAMS: the thread's own parameters are checked (a real-time
	 * priority under SCHED_OTHER is EINVAL), and only reset-on-fork
	 * changes. */
	a = attr(SCHED_OTHER, 0, 0);
	a.flags = FLAG_KEEP_PARAMS;
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	a = attr(SCHED_FIFO, 0, 0);
	a.flags = FLAG_KEEP_PARAMS;
	EXPECT_OK(setattr(0, &a, 0));
	show("keep params", 0);
	a.flags = FLAG_KEEP_POLICY | FLAG_KEEP_PARAMS;
	EXPECT_OK(setattr(0, &a, 0));
	show("keep both", 0);

	/* A reset-on-fork child runs SCHED_OTHER at nice 0. */
	a = attr(SCHED_RR, 0, 3);
	a.flags = FLAG_RESET_ON_FORK;
	EXPECT_OK(setattr(0, &a, 0));
	pid_t c = fork();
	if (c == 0) {
		show("child of rr reset-on-fork", 0);
		_exit(getpriority(PRIO_PROCESS, 0) == 0 ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	printf("its nice value is 0: %d\n", WEXITSTATUS(st));

	/* KEEP_PARAMS takes the thread's priority 3, which SCHED_OTHER has not. */
	a = attr(SCHED_OTHER, 0, 0);
	a.flags = FLAG_KEEP_PARAMS;
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	EXPECT_EQ(sched_getscheduler(0), SCHED_RR | SCHED_RESET_ON_FORK);
	a.flags = 0;
	EXPECT_OK(setattr(0, &a, 0));
	show("back", 0);
}

static void deadline_policy(void) {
	/* sched_getattr01: what is set reads back. Each bandwidth here is a
	 * few percent: Linux admits a deadline thread only while the sum of
	 * them (with those of threads gone less than a period ago) stays
	 * within 95% of the CPUs; uk does not enforce it. */
	struct attr a = deadline(1000000, 30000000, 30000000);
	EXPECT_OK(setattr(0, &a, 0));
	show("deadline", 0);
	EXPECT_EQ(sched_getscheduler(0), SCHED_DEADLINE);
	struct sched_param p = {-7};
	EXPECT_OK(sched_getparam(0, &p));
	EXPECT_EQ(p.sched_priority, 0);
	EXPECT_ERR(sched_setparam(0, &p), EINVAL);
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), 0);
	stat_prio("deadline");

	/* A deadline thread cannot fork, unless reset-on-fork. */
	fflush(stdout);
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	printf("fork: %s\n", c < 0 ? errname(errno) : "a child");
	if (c > 0)
		waitpid(c, NULL, 0);

	a = deadline(100000, 20000000, 0);
	a.flags = FLAG_RECLAIM | FLAG_DL_OVERRUN | FLAG_RESET_ON_FORK;
	EXPECT_OK(setattr(0, &a, 0));
	show("period 0, flags", 0);
	c = fork();
	if (c == 0) {
		show("child of deadline reset-on-fork", 0);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	a = deadline(1024, 100000, 0);
	EXPECT_OK(setattr(0, &a, 0));
	a = deadline(1000000, 3000000, 4194304000ULL);
	EXPECT_OK(setattr(0, &a, 0));
	show("the longest period", 0);

	/* KEEP_PARAMS keeps the policy too; KEEP_POLICY takes new parameters. */
	a = attr(SCHED_OTHER, 0, 0);
	a.flags = FLAG_KEEP_PARAMS;
	EXPECT_OK(setattr(0, &a, 0));
	EXPECT_EQ(sched_getscheduler(0), SCHED_DEADLINE);
	a = deadline(200000, 40000000, 0);
	a.policy = SCHED_OTHER;
	a.flags = FLAG_KEEP_POLICY;
	EXPECT_OK(setattr(0, &a, 0));
	show("keep policy", 0);

	/* Out of it: sched_setscheduler, or sched_setattr with the slice in
	 * sched_runtime. */
	struct sched_param zero = {0};
	EXPECT_OK(sched_setscheduler(0, SCHED_OTHER, &zero));
	show("sched_setscheduler other", 0);
	a = deadline(1000000, 100000000, 0);
	EXPECT_OK(setattr(0, &a, 0));
	a.policy = SCHED_OTHER;
	EXPECT_OK(setattr(0, &a, 0));
	show("other with the deadline's runtime", 0);
	a.runtime = a.deadline = a.period = 0;
	EXPECT_OK(setattr(0, &a, 0));
	show("back", 0);
}

/* slice_kept: a custom slice outlasts real-time and deadline spells
 * entered and left by sched_setscheduler and sched_setattr. */
static void slice_kept(void) {
	struct attr a = attr(SCHED_OTHER, 2, 0);
	a.runtime = 3000000;
	EXPECT_OK(setattr(0, &a, 0));
	struct sched_param five = {5}, zero = {0};
	EXPECT_OK(sched_setscheduler(0, SCHED_FIFO, &five));
	show("fifo", 0);
	EXPECT_OK(sched_setscheduler(0, SCHED_OTHER, &zero));
	show("other", 0);
	a = deadline(1000000, 100000000, 0);
	EXPECT_OK(setattr(0, &a, 0));
	EXPECT_OK(sched_setscheduler(0, SCHED_BATCH, &zero));
	show("batch after deadline", 0);
	a = attr(SCHED_RR, 0, 7);
	EXPECT_OK(setattr(0, &a, 0));
	EXPECT_OK(sched_setscheduler(0, SCHED_IDLE, &zero));
	show("idle after rr", 0);
	a = attr(SCHED_OTHER, 0, 0);
	EXPECT_OK(setattr(0, &a, 0));
	show("back", 0);
}

/* others: another process's attributes, a zombie's, a thread's. */
static void others(void) {
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	struct attr a = attr(SCHED_BATCH, 4, 0);
	EXPECT_OK(setattr(c, &a, 0));
	show("self", 0);
	show("child", c);
	a = deadline(1000000, 50000000, 100000000);
	EXPECT_OK(setattr(c, &a, 0));
	show("deadline child", c);
	/* (Linux clears a deadline thread's parameters once it has switched
	 * out for the last time, which may be after its parent sees it a
	 * zombie: the zombie here is a real-time one.) */
	a = attr(SCHED_RR, 0, 7);
	a.flags = FLAG_RESET_ON_FORK;
	EXPECT_OK(setattr(c, &a, 0));
	kill(c, SIGKILL);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	show("zombie", c);
	a = attr(SCHED_OTHER, 0, 0);
	EXPECT_OK(setattr(c, &a, 0));
	waitpid(c, NULL, 0);
	struct attr g;
	EXPECT_ERR(getattr(c, &g, 56, 0), ESRCH);
	EXPECT_ERR(setattr(c, &a, 0), ESRCH);
}

static void unprivileged(void) {
	if (setgid(65534) != 0 || setuid(65534) != 0) {
		printf("setuid nobody: FAIL\n");
		return;
	}
	struct attr a = attr(SCHED_OTHER, -1, 0);
	EXPECT_ERR(setattr(0, &a, 0), EPERM);
	a.nice = 5;
	EXPECT_OK(setattr(0, &a, 0));
	a.nice = 4;
	EXPECT_ERR(setattr(0, &a, 0), EPERM);
	a.nice = 6;
	EXPECT_OK(setattr(0, &a, 0));
	EXPECT_ERR(setattr(1, &a, 0), EPERM);
	EXPECT_ERR(setattr(getppid(), &a, 0), EPERM);
	a.flags = FLAG_SUGOV;
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	a.flags = 0;
	a = attr(SCHED_FIFO, 0, 1);
	EXPECT_ERR(setattr(0, &a, 0), EPERM);
	a = deadline(1000000, 2000000, 0);
	EXPECT_ERR(setattr(0, &a, 0), EPERM);
	a.runtime = 1;
	EXPECT_ERR(setattr(0, &a, 0), EINVAL);
	/* Reset-on-fork is not the unprivileged's to clear. */
	a = attr(SCHED_OTHER, 6, 0);
	a.flags = FLAG_RESET_ON_FORK;
	EXPECT_OK(setattr(0, &a, 0));
	a.flags = 0;
	EXPECT_ERR(setattr(0, &a, 0), EPERM);
	a.flags = FLAG_KEEP_POLICY;
	EXPECT_OK(setattr(0, &a, 0));
	show("nobody", 0);
	/* Anyone reads anyone's. */
	show("parent", getppid());
}

int main(void) {
	struct attr g;
	if (getattr(0, &g, 56, 0) != 0) {
		printf("sched_getattr: FAIL %s\n", errname(errno));
		return 1;
	}
	default_slice = g.runtime;
	errors();
	fair();
	realtime();
	deadline_policy();
	slice_kept();
	others();
	ukt_in_child("unprivileged", unprivileged);
	return ukt_exit();
}
