/*
 * ioprio.c: ioprio_get(2) and ioprio_set(2), with the cases of LTP's
 * ioprio_get01 and ioprio_set01-03 and Linux 6.x's rules (block/ioprio.c)
 * around them: IOPRIO_WHO_PROCESS reports a thread's own value (0 when it
 * set none), a process group or user the best of their threads' effective
 * ones (from the nice value and the policy when unset); the classes and
 * levels, 6.x's hint bits (not checked) and the 16 bits kept; EINVAL,
 * EPERM and ESRCH in Linux's order; threads, fork, a zombie, and callers
 * without privileges or of another uid. The process-group cases run in a
 * group of their own, the user ones under a uid no one else has (54321).
 */
#include "uktest.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define WHO_PROCESS 1
#define WHO_PGRP 2
#define WHO_USER 3
#define NONE 0
#define RT 1
#define BE 2
#define IDLE 3
#define V(class, level) ((class) << 13 | (level))
#define HINT(h) ((h) << 3)

#define UID 54321

static long iget(int which, int who) { return syscall(SYS_ioprio_get, which, who); }
static long iset(int which, int who, int prio) { return syscall(SYS_ioprio_set, which, who, prio); }

static int setsched(int policy, int prio) {
	struct sched_param p = {.sched_priority = prio};
	return sched_setscheduler(0, policy, &p);
}

/* derived: with none set, a group's value follows nice value and policy. */
static void derived(void) {
	setpgid(0, 0);
	EXPECT_EQ(iget(WHO_PROCESS, 0), 0);
	EXPECT_EQ(iget(WHO_PGRP, 0), V(BE, 4));
	EXPECT_EQ(iget(WHO_PGRP, getpgrp()), V(BE, 4));
	int nices[] = {7, 19, -20, -16, -15, -1, 3};
	for (unsigned i = 0; i < sizeof nices / sizeof *nices; i++) {
		setpriority(PRIO_PROCESS, 0, nices[i]);
		printf("nice %d: process %#lx, group %#lx\n", nices[i], iget(WHO_PROCESS, 0), iget(WHO_PGRP, 0));
	}
	EXPECT_OK(setsched(SCHED_FIFO, 3));
	EXPECT_EQ(iget(WHO_PGRP, 0), V(RT, 4));
	EXPECT_OK(setsched(SCHED_RR, 50));
	EXPECT_EQ(iget(WHO_PGRP, 0), V(RT, 4));
	EXPECT_OK(setsched(SCHED_IDLE, 0));
	EXPECT_EQ(iget(WHO_PGRP, 0), V(IDLE, 4));
	EXPECT_OK(setsched(SCHED_BATCH, 0));
	EXPECT_EQ(iget(WHO_PGRP, 0), V(BE, 4));
	struct {
		uint32_t size, policy;
		uint64_t flags;
		int32_t nice;
		uint32_t prio;
		uint64_t runtime, deadline, period;
	} dl = {48, 6, 0, 0, 0, 1000000, 100000000, 100000000};
	EXPECT_OK(syscall(SYS_sched_setattr, 0, &dl, 0));
	EXPECT_EQ(iget(WHO_PGRP, 0), V(RT, 4));
	EXPECT_OK(setsched(SCHED_OTHER, 0));
	EXPECT_EQ(iget(WHO_PROCESS, 0), 0);

	/* A class-less value with a hint reads as set, but counts as unset. */
	EXPECT_OK(iset(WHO_PROCESS, 0, HINT(1)));
	EXPECT_EQ(iget(WHO_PROCESS, 0), HINT(1));
	EXPECT_EQ(iget(WHO_PGRP, 0), V(BE, 4));
	EXPECT_OK(iset(WHO_PROCESS, 0, V(IDLE, 5) | HINT(3)));
	EXPECT_EQ(iget(WHO_PGRP, 0), V(IDLE, 5) | HINT(3));
}

static void classes(void) {
	/* ioprio_set01/03: every class and level (8 is a hint, 0 a level). */
	int levels[] = {0, 1, 4, 7, 8};
	for (int c = 0; c <= 8; c++) {
		for (unsigned i = 0; i < sizeof levels / sizeof *levels; i++) {
			long r = iset(WHO_PROCESS, 0, V(c, levels[i]));
			int e = errno;
			printf("class %d level %d: %s, now %#lx\n", c, levels[i], r ? errname(e) : "ok",
			       iget(WHO_PROCESS, 0));
		}
	}
	int odd[] = {V(BE, 4) | HINT(1), V(BE, 4) | HINT(0x3ff), V(RT, 0) | HINT(5), V(NONE, 5),
		     0x10000 | V(BE, 1), 0x7fff0000 | V(IDLE, 2), -1, V(7, 0), V(4, 0), V(NONE, 0) | HINT(2)};
	for (unsigned i = 0; i < sizeof odd / sizeof *odd; i++) {
		long r = iset(WHO_PROCESS, 0, odd[i]);
		int e = errno;
		printf("ioprio %#x: %s, now %#lx\n", odd[i], r ? errname(e) : "ok", iget(WHO_PROCESS, 0));
	}
	EXPECT_OK(iset(WHO_PROCESS, 0, 0));
	EXPECT_EQ(iget(WHO_PROCESS, 0), 0);
}

static void errors(void) {
	int unused = ukt_unused_pid();
	EXPECT_ERR(iget(0, 0), EINVAL);
	EXPECT_ERR(iget(4, 0), EINVAL);
	EXPECT_ERR(iget(-1, 0), EINVAL);
	EXPECT_ERR(iset(0, 0, V(BE, 4)), EINVAL);
	EXPECT_ERR(iset(4, 0, V(BE, 4)), EINVAL);
	EXPECT_ERR(iset(4, unused, V(4, 0)), EINVAL);
	EXPECT_ERR(iget(WHO_PROCESS, unused), ESRCH);
	EXPECT_ERR(iget(WHO_PROCESS, -1), ESRCH);
	EXPECT_ERR(iget(WHO_PGRP, unused), ESRCH);
	EXPECT_ERR(iget(WHO_PGRP, -1), ESRCH);
	EXPECT_ERR(iget(WHO_USER, -1), ESRCH);
	EXPECT_ERR(iget(WHO_USER, UID + 1), ESRCH);
	EXPECT_ERR(iset(WHO_PROCESS, unused, V(BE, 4)), ESRCH);
	EXPECT_ERR(iset(WHO_PROCESS, -1, V(BE, 4)), ESRCH);
	EXPECT_ERR(iset(WHO_PGRP, unused, V(BE, 4)), ESRCH);
	EXPECT_ERR(iset(WHO_USER, -1, V(BE, 4)), ESRCH);
	EXPECT_ERR(iset(WHO_USER, UID + 1, V(BE, 4)), ESRCH);
	/* The value is checked first. */
	EXPECT_ERR(iset(WHO_PROCESS, unused, V(5, 0)), EINVAL);
	EXPECT_ERR(iset(WHO_PROCESS, unused, V(NONE, 1)), EINVAL);
}

static pthread_barrier_t barrier;
static volatile pid_t thread_tid;

static void *thread(void *arg) {
	thread_tid = gettid();
	pthread_barrier_wait(&barrier);
	pthread_barrier_wait(&barrier);
	printf("thread: own %#lx\n", iget(WHO_PROCESS, 0));
	return NULL;
}

/* threads: WHO_PROCESS is a thread, WHO_PGRP all of them. */
static void threads(void) {
	setpgid(0, 0);
	pthread_t th;
	pthread_barrier_init(&barrier, NULL, 2);
	pthread_create(&th, NULL, thread, NULL);
	pthread_barrier_wait(&barrier);
	EXPECT_OK(iset(WHO_PROCESS, 0, V(BE, 6)));
	EXPECT_EQ(iget(WHO_PROCESS, 0), V(BE, 6));
	EXPECT_EQ(iget(WHO_PROCESS, thread_tid), 0);
	EXPECT_EQ(iget(WHO_PGRP, 0), V(BE, 4));
	EXPECT_OK(iset(WHO_PROCESS, thread_tid, V(IDLE, 0)));
	EXPECT_EQ(iget(WHO_PGRP, 0), V(BE, 6));
	EXPECT_OK(iset(WHO_PGRP, 0, V(BE, 5)));
	EXPECT_EQ(iget(WHO_PROCESS, thread_tid), V(BE, 5));
	EXPECT_OK(iset(WHO_PROCESS, thread_tid, V(RT, 7)));
	EXPECT_EQ(iget(WHO_PGRP, 0), V(RT, 7));
	pthread_barrier_wait(&barrier);
	pthread_join(th, NULL);
}

/* processes: a fork inherits a value with a class; another process's and
 * a zombie's. */
static void processes(void) {
	setpgid(0, 0);
	EXPECT_OK(iset(WHO_PROCESS, 0, V(BE, 3)));
	int ready[2];
	if (pipe(ready) != 0)
		printf("pipe: FAIL\n");
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		printf("child: %#lx\n", iget(WHO_PROCESS, 0));
		fflush(stdout);
		write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	char x;
	read(ready[0], &x, 1);
	EXPECT_EQ(iget(WHO_PROCESS, c), V(BE, 3));
	EXPECT_OK(iset(WHO_PROCESS, c, V(IDLE, 1)));
	EXPECT_EQ(iget(WHO_PROCESS, c), V(IDLE, 1));
	EXPECT_EQ(iget(WHO_PROCESS, 0), V(BE, 3));
	EXPECT_EQ(iget(WHO_PGRP, 0), V(BE, 3));
	EXPECT_OK(iset(WHO_PROCESS, c, V(RT, 2)));
	EXPECT_EQ(iget(WHO_PGRP, 0), V(RT, 2));
	kill(c, SIGKILL);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	EXPECT_EQ(iget(WHO_PROCESS, c), 0);
	EXPECT_OK(iset(WHO_PROCESS, c, V(BE, 1)));
	EXPECT_EQ(iget(WHO_PROCESS, c), 0);
	waitpid(c, NULL, 0);
	EXPECT_ERR(iget(WHO_PROCESS, c), ESRCH);
	EXPECT_EQ(iget(WHO_PGRP, 0), V(BE, 3));

	EXPECT_OK(iset(WHO_PROCESS, 0, HINT(1)));
	fflush(stdout);
	c = fork();
	if (c == 0) {
		printf("child of a class-less hint: %#lx\n", iget(WHO_PROCESS, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

static void unprivileged(void) {
	if (setgid(UID) != 0 || setuid(UID) != 0) {
		printf("setuid: FAIL\n");
		return;
	}
	int unused = ukt_unused_pid();
	EXPECT_ERR(iset(WHO_PROCESS, 0, V(RT, 4)), EPERM);
	EXPECT_ERR(iset(WHO_PROCESS, unused, V(RT, 4)), EPERM);
	EXPECT_ERR(iset(WHO_PROCESS, unused, V(6, 4)), EINVAL);
	EXPECT_ERR(iset(WHO_PROCESS, 1, V(BE, 4)), EPERM);
	EXPECT_ERR(iset(WHO_PROCESS, getppid(), V(BE, 4)), EPERM);
	CHECK("ioprio_get of pid 1", iget(WHO_PROCESS, 1) >= 0);
	EXPECT_OK(iset(WHO_PROCESS, 0, V(IDLE, 0)));
	EXPECT_OK(iset(WHO_PROCESS, 0, V(BE, 0)));
	EXPECT_EQ(iget(WHO_PROCESS, 0), V(BE, 0));
	/* The caller's group holds its root parent. */
	EXPECT_ERR(iset(WHO_PGRP, 0, V(BE, 4)), EPERM);
	/* Linux's quirk: ioprio_set's user 0 is root, ioprio_get's the caller. */
	EXPECT_ERR(iset(WHO_USER, 0, V(BE, 5)), EPERM);
	EXPECT_OK(iset(WHO_USER, UID, V(BE, 6)));
	EXPECT_EQ(iget(WHO_USER, UID), V(BE, 6));
	EXPECT_EQ(iget(WHO_USER, 0), V(BE, 6));
	EXPECT_EQ(iget(WHO_PROCESS, 0), V(BE, 6));
}

/* other_uid: the target's real uid is compared with the caller's real and
 * effective ones; privilege goes with the effective uid. */
static void other_uid(void) {
	pid_t parent = getppid();
	EXPECT_OK(setresuid(UID, 0, 0));
	EXPECT_OK(iset(WHO_PROCESS, parent, V(BE, 4)));
	EXPECT_OK(iset(WHO_PROCESS, 0, V(RT, 4)));
	EXPECT_OK(setresuid(UID, UID, 0));
	EXPECT_ERR(iset(WHO_PROCESS, parent, V(BE, 4)), EPERM);
	EXPECT_OK(iset(WHO_PROCESS, 0, V(BE, 4)));
	EXPECT_ERR(iset(WHO_PROCESS, 0, V(RT, 4)), EPERM);
	EXPECT_OK(setresuid(0, UID, 0));
	EXPECT_OK(iset(WHO_PROCESS, parent, V(BE, 4)));
	EXPECT_ERR(iset(WHO_PROCESS, 0, V(RT, 4)), EPERM);
}

int main(void) {
	ukt_in_child("derived", derived);
	classes();
	errors();
	ukt_in_child("threads", threads);
	ukt_in_child("processes", processes);
	ukt_in_child("unprivileged", unprivileged);
	ukt_in_child("other uid", other_uid);
	/* other_uid's child set its parent's. */
	EXPECT_EQ(iget(WHO_PROCESS, 0), V(BE, 4));
	return ukt_exit();
}
