/*
 * sched.c: nice values and scheduling policies, with the cases of LTP's
 * getpriority01/02, setpriority01/02, sched_get_priority_min/max01/02,
 * sched_getscheduler01/02, sched_setscheduler01-04, sched_getparam01/03,
 * sched_setparam01-05 and sched_rr_get_interval01-03: the raw
 * getpriority's 20 - nice, clamping, EINVAL/ESRCH/EFAULT in Linux's order,
 * EPERM for another user's process (pid 1) before EACCES for a nice value
 * RLIMIT_NICE does not allow, RLIMIT_RTPRIO, leaving SCHED_IDLE, SCHED_RESET_ON_FORK seen in a
 * zombie child, and the round-robin slice. Runs as root (natively too: it
 * changes only its own and its children's scheduling); children drop to
 * nobody for the unprivileged cases.
 */
#include "uktest.h"

#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

static long raw_getpriority(int which, int who) { return syscall(SYS_getpriority, which, who); }

static int setsched(pid_t pid, int policy, int prio) {
	struct sched_param p = {.sched_priority = prio};
	return syscall(SYS_sched_setscheduler, pid, policy, &p);
}

static int getparam(pid_t pid) {
	struct sched_param p = {.sched_priority = -7};
	if (syscall(SYS_sched_getparam, pid, &p) != 0)
		return -100 - errno;
	return p.sched_priority;
}

static void rr_interval(const char *what, pid_t pid) {
	struct timespec ts = {99, 99};
	long r = syscall(SYS_sched_rr_get_interval, pid, &ts);
	printf("%s: %ld %s %ld.%09ld\n", what, r, r ? errname(errno) : "", (long)ts.tv_sec, ts.tv_nsec);
}

static void priorities(void) {
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), 0);
	EXPECT_EQ(getpriority(PRIO_PGRP, 0), 0);
	errno = 0;
	int u = getpriority(PRIO_USER, 0);
	CHECK("getpriority(PRIO_USER, 0) in [-20, 0]", errno == 0 && u >= -20 && u <= 0);
	EXPECT_EQ(raw_getpriority(PRIO_PROCESS, 0), 20);
	EXPECT_ERR(getpriority(-1, 0), EINVAL);
	EXPECT_ERR(getpriority(3, 0), EINVAL);
	EXPECT_ERR(getpriority(PRIO_PROCESS, -1), ESRCH);
	EXPECT_ERR(getpriority(PRIO_PGRP, -1), ESRCH);
	EXPECT_ERR(getpriority(PRIO_USER, -1), ESRCH);
	EXPECT_ERR(setpriority(-1, 0, -2), EINVAL);
	EXPECT_ERR(setpriority(PRIO_PROCESS, -1, -2), ESRCH);
	EXPECT_ERR(setpriority(PRIO_PROCESS, ukt_unused_pid(), 2), ESRCH);

	/* Root sets any value; out of range is clamped, not refused. */
	for (int n = -20; n <= 19; n += 13) {
		EXPECT_OK(setpriority(PRIO_PROCESS, 0, n));
		printf("nice %d: getpriority %d, raw %ld\n", n, getpriority(PRIO_PROCESS, 0),
		       raw_getpriority(PRIO_PROCESS, 0));
	}
	EXPECT_OK(setpriority(PRIO_PROCESS, 0, -50));
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), -20);
	EXPECT_OK(setpriority(PRIO_PROCESS, 0, 50));
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), 19);
	EXPECT_OK(setpriority(PRIO_PROCESS, 0, 0));

	/* A child's own process group, and the nice value it inherits. */
	EXPECT_OK(setpriority(PRIO_PROCESS, 0, 3));
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		pause();
		_exit(0);
	}
	setpgid(c, c);
	EXPECT_EQ(getpriority(PRIO_PROCESS, c), 3);
	EXPECT_OK(setpriority(PRIO_PGRP, c, 7));
	EXPECT_EQ(getpriority(PRIO_PROCESS, c), 7);
	EXPECT_EQ(getpriority(PRIO_PGRP, c), 7);
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), 3);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	EXPECT_OK(setpriority(PRIO_PROCESS, 0, 0));
}

static void unprivileged_priorities(void) {
	if (setgid(65534) != 0 || setuid(65534) != 0) {
		printf("setuid nobody: FAIL\n");
		return;
	}
	setpgid(0, 0);
	EXPECT_ERR(setpriority(PRIO_PROCESS, 0, -2), EACCES);
	EXPECT_ERR(setpriority(PRIO_PGRP, 0, -2), EACCES);
	EXPECT_ERR(setpriority(PRIO_PROCESS, 1, -2), EPERM);
	EXPECT_ERR(setpriority(PRIO_PROCESS, 1, 2), EPERM);
	EXPECT_ERR(setpriority(PRIO_PROCESS, getppid(), 2), EPERM);
	EXPECT_OK(setpriority(PRIO_PROCESS, 0, 5));
	EXPECT_ERR(setpriority(PRIO_PROCESS, 0, 4), EACCES);
	EXPECT_OK(setpriority(PRIO_PROCESS, 0, 5));
	/* RLIMIT_NICE's hard limit is 0 and only CAP_SYS_RESOURCE raises it. */
	struct rlimit rl = {15, 15};
	EXPECT_ERR(setrlimit(RLIMIT_NICE, &rl), EPERM);
}

static void policies(void) {
	EXPECT_EQ(sched_get_priority_min(SCHED_OTHER), 0);
	EXPECT_EQ(sched_get_priority_min(SCHED_FIFO), 1);
	EXPECT_EQ(sched_get_priority_min(SCHED_RR), 1);
	EXPECT_EQ(sched_get_priority_max(SCHED_OTHER), 0);
	EXPECT_EQ(sched_get_priority_max(SCHED_FIFO), 99);
	EXPECT_EQ(sched_get_priority_max(SCHED_RR), 99);
	EXPECT_EQ(sched_get_priority_max(SCHED_BATCH), 0);
	EXPECT_EQ(sched_get_priority_max(SCHED_IDLE), 0);
	EXPECT_EQ(sched_get_priority_max(SCHED_DEADLINE), 0);
	EXPECT_ERR(sched_get_priority_max(4), EINVAL);
	EXPECT_ERR(sched_get_priority_min(1000), EINVAL);
	EXPECT_ERR(sched_get_priority_max(-1), EINVAL);

	int unused = ukt_unused_pid();
	EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
	EXPECT_ERR(sched_getscheduler(unused), ESRCH);
	EXPECT_ERR(sched_getscheduler(-1), EINVAL);
	EXPECT_EQ(getparam(0), 0);
	EXPECT_EQ(getparam(unused), -100 - ESRCH);
	EXPECT_EQ(getparam(-1), -100 - EINVAL);
	EXPECT_ERR(syscall(SYS_sched_getparam, 0, NULL), EINVAL);

	/* sched_setscheduler01 and sched_setparam04: the order of the checks. */
	struct sched_param zero = {0}, one = {1};
	EXPECT_ERR(sched_setscheduler(unused, SCHED_OTHER, &zero), ESRCH);
	EXPECT_ERR(sched_setscheduler(1, 99, &zero), EINVAL);
	EXPECT_ERR(syscall(SYS_sched_setscheduler, 1, SCHED_OTHER, (void *)-1), EFAULT);
	EXPECT_ERR(syscall(SYS_sched_setscheduler, unused, SCHED_OTHER, (void *)-1), EFAULT);
	EXPECT_ERR(sched_setscheduler(0, SCHED_OTHER, &one), EINVAL);
	EXPECT_ERR(setsched(0, SCHED_FIFO, 0), EINVAL);
	EXPECT_ERR(setsched(0, SCHED_FIFO, 100), EINVAL);
	EXPECT_ERR(setsched(0, SCHED_FIFO, -1), EINVAL);
	EXPECT_ERR(setsched(0, 4, 0), EINVAL);
	EXPECT_ERR(setsched(0, SCHED_DEADLINE, 0), EINVAL);
	EXPECT_ERR(setsched(-1, SCHED_OTHER, 0), EINVAL);
	EXPECT_ERR(setsched(0, -1, 0), EINVAL);
	EXPECT_ERR(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL), EINVAL);
	EXPECT_ERR(sched_setparam(unused, &zero), ESRCH);
	EXPECT_ERR(sched_setparam(-1, &zero), EINVAL);
	EXPECT_ERR(syscall(SYS_sched_setparam, 0, NULL), EINVAL);
	EXPECT_ERR(sched_setparam(0, &one), EINVAL);
	EXPECT_OK(sched_setparam(0, &zero));

	/* Root: each policy reads back; setparam keeps the policy. */
	rr_interval("rr_get_interval OTHER", 0);
	EXPECT_OK(setsched(0, SCHED_RR, 1));
	EXPECT_EQ(sched_getscheduler(0), SCHED_RR);
	rr_interval("rr_get_interval RR", 0);
	EXPECT_OK(setsched(0, SCHED_FIFO, 1));
	EXPECT_EQ(sched_getscheduler(0), SCHED_FIFO);
	rr_interval("rr_get_interval FIFO", 0);
	struct sched_param five = {5};
	EXPECT_OK(sched_setparam(0, &five));
	EXPECT_EQ(getparam(0), 5);
	EXPECT_EQ(sched_getscheduler(0), SCHED_FIFO);
	EXPECT_ERR(sched_setparam(0, &zero), EINVAL);
	EXPECT_ERR(syscall(SYS_sched_rr_get_interval, -1, NULL), EINVAL);
	EXPECT_ERR(syscall(SYS_sched_rr_get_interval, unused, NULL), ESRCH);
	EXPECT_ERR(syscall(SYS_sched_rr_get_interval, 0, (void *)-1), EFAULT);

	/* sched_setparam03: a child raises its parent's priority. */
	pid_t parent = getpid();
	pid_t c = fork();
	if (c == 0) {
		struct sched_param p = {7};
		_exit(sched_setparam(parent, &p) == 0 && getparam(0) == 5 ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child raised the parent's priority: %d\n", WEXITSTATUS(st));
	EXPECT_EQ(getparam(0), 7);

	/* sched_setscheduler04: a child forked with SCHED_RESET_ON_FORK runs
	 * SCHED_OTHER (at nice 0, whatever its parent's), and a zombie still
	 * answers. */
	EXPECT_OK(setpriority(PRIO_PROCESS, 0, 5));
	EXPECT_OK(setsched(0, SCHED_FIFO | SCHED_RESET_ON_FORK, 10));
	EXPECT_EQ(sched_getscheduler(0), SCHED_FIFO | SCHED_RESET_ON_FORK);
	c = fork();
	if (c == 0)
		_exit(getpriority(PRIO_PROCESS, 0) == 0 ? 0 : 1);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	EXPECT_EQ(sched_getscheduler(c), SCHED_OTHER);
	EXPECT_EQ(getparam(c), 0);
	waitpid(c, &st, 0);
	printf("child of a real-time reset-on-fork parent at nice 5 runs at nice 0: %d\n", WEXITSTATUS(st));
	EXPECT_ERR(sched_getscheduler(c), ESRCH);
	EXPECT_OK(setsched(0, SCHED_OTHER, 0));
	EXPECT_OK(setpriority(PRIO_PROCESS, 0, 0));
	EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);

	/* A negative nice value is not inherited through RESET_ON_FORK. */
	EXPECT_OK(setpriority(PRIO_PROCESS, 0, -5));
	EXPECT_OK(setsched(0, SCHED_OTHER | SCHED_RESET_ON_FORK, 0));
	c = fork();
	if (c == 0)
		_exit(getpriority(PRIO_PROCESS, 0) == 0 && sched_getscheduler(0) == SCHED_OTHER ? 0 : 1);
	waitpid(c, &st, 0);
	printf("child of a reset-on-fork parent at nice -5: %d\n", WEXITSTATUS(st));
	EXPECT_OK(setsched(0, SCHED_OTHER, 0));
	EXPECT_OK(setpriority(PRIO_PROCESS, 0, 0));
}

static void unprivileged_policies(void) {
	/* sched_setscheduler02 and sched_setparam05: seteuid only. */
	if (seteuid(65534) != 0) {
		printf("seteuid nobody: FAIL\n");
		return;
	}
	EXPECT_ERR(setsched(0, SCHED_FIFO, 1), EPERM);
	struct sched_param zero = {0};
	EXPECT_ERR(sched_setparam(getppid(), &zero), EPERM);
	EXPECT_ERR(sched_setparam(1, &zero), EPERM);
	EXPECT_OK(setsched(0, SCHED_OTHER, 0));
	EXPECT_OK(setsched(0, SCHED_BATCH, 0));
	EXPECT_OK(setsched(0, SCHED_IDLE, 0));
	/* Out of SCHED_IDLE only as RLIMIT_NICE (0) allows nice 0: no. */
	EXPECT_ERR(setsched(0, SCHED_OTHER, 0), EPERM);
	EXPECT_EQ(sched_getscheduler(0), SCHED_IDLE);
}

int main(void) {
	priorities();
	ukt_in_child("unprivileged priorities", unprivileged_priorities);
	policies();
	ukt_in_child("unprivileged policies", unprivileged_policies);
	return ukt_exit();
}
