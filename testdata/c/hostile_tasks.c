/*
 * hostile_tasks: a program that tries to take every thread and process ID
 * the host has. Run it only under uk with --pids set (hostile_test.go
 * does): natively, the "bomb" mode is a fork bomb.
 *
 * What a safe kernel does: clone and fork fail with EAGAIN once the
 * sandbox holds its task limit (a pids cgroup, threads-max, or uk's
 * --pids), zombies count until they are reaped, RLIMIT_NPROC limits an
 * unprivileged user's threads, and the kernel itself (uk) stays alive with
 * the host's threads and PIDs bounded; after the tasks go, clone works
 * again.
 *
 *   hostile_tasks threads   pthreads until pthread_create fails
 *   hostile_tasks forks     blocked children until fork fails
 *   hostile_tasks zombies   unreaped children until fork fails
 *   hostile_tasks bomb      every process forks until two seconds after
 *                           the first EAGAIN (30 s at most)
 *   hostile_tasks nproc     RLIMIT_NPROC 3 for uid 54321 (safe natively as root)
 *
 * Each mode ends in a few seconds whatever the kernel does, and prints
 * "created N" (how many it got) and the errno that stopped it.
 */
#include "uktest.h"
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#define MAXN 100000

static int release_word; /* futex word the threads wait on */

static void *sleeper(void *arg) {
	while (!__atomic_load_n(&release_word, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &release_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return arg;
}

/* pause_for_sampling gives the test, which samples uk's host threads,
 * time to see the peak. */
static void pause_for_sampling(void) {
	struct timespec ts = {0, 400 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pthread_t tids[MAXN];

static int threads(void) {
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	int n = 0, err = 0;
	while (n < MAXN) {
		err = pthread_create(&tids[n], &attr, sleeper, NULL);
		if (err)
			break;
		n++;
	}
	printf("created %d\n", n);
	printf("stopped by %s\n", errname(err));
	pause_for_sampling();
	__atomic_store_n(&release_word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &release_word, FUTEX_WAKE_PRIVATE, MAXN, NULL, NULL, 0);
	for (int i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	/* Every thread is gone: there is room again. */
	pthread_t t;
	err = pthread_create(&t, &attr, sleeper, NULL);
	printf("after join: %s\n", errname(err));
	if (!err)
		pthread_join(t, NULL);
	return 0;
}

static pid_t pids[MAXN];

/* forks makes children that wait for the pipe to close, until fork fails. */
static int forks(void) {
	int p[2];
	if (pipe(p))
		return 1;
	int n = 0, err = 0;
	while (n < MAXN) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			char c;
			close(p[1]);
			read(p[0], &c, 1);
			_exit(0);
		}
		pids[n++] = pid;
	}
	printf("created %d\n", n);
	printf("stopped by %s\n", errname(err));
	pause_for_sampling();
	close(p[1]);
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	printf("after wait: %s\n", pid > 0 ? "0" : errname(errno));
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return 0;
}

/* zombies makes children that exit at once and are not reaped: each holds
 * its PID until it is. */
static int zombies(void) {
	int n = 0, err = 0;
	while (n < MAXN) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0)
			_exit(0);
		n++;
	}
	printf("created %d\n", n);
	printf("stopped by %s\n", errname(err));
	while (waitpid(-1, NULL, 0) > 0)
		;
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	printf("after reaping: %s\n", pid > 0 ? "0" : errname(errno));
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return 0;
}

/* bomb: every process forks as fast as it can until two seconds after the
 * first EAGAIN anywhere in the tree (or 30 s without one: forks are slow on
 * some platforms of a loaded machine), then reaps its children and exits.
 * A pipe collects one byte per process that saw EAGAIN; a shared page says
 * when the first did. */
static int bomb(void) {
	int p[2];
	if (pipe(p))
		return 1;
	volatile double *first = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (first == MAP_FAILED)
		return 1;
	double deadline = now() + 30;
	int top = 1, eagain = 0;
	for (;;) {
		double t = now();
		if (t >= deadline || (*first > 0 && t >= *first + 2))
			break;
		pid_t pid = fork();
		if (pid == 0) {
			top = 0;
			continue;
		}
		if (pid < 0 && errno == EAGAIN && !eagain) {
			eagain = 1;
			if (*first == 0)
				*first = now();
			write(p[1], "x", 1);
		}
		if (pid < 0) {
			struct timespec ts = {0, 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	while (waitpid(-1, NULL, 0) > 0)
		;
	if (!top)
		_exit(0);
	close(p[1]);
	char buf[4096];
	long got = 0, r;
	while ((r = read(p[0], buf, sizeof buf)) > 0)
		got += r;
	printf("bomb: %s\n", got > 0 ? "EAGAIN seen" : "no EAGAIN");
	return 0;
}

/* nproc: an unprivileged user with RLIMIT_NPROC 3 gets two children. */
static int nproc(void) {
	struct rlimit rl = {3, 3};
	if (setrlimit(RLIMIT_NPROC, &rl)) {
		printf("setrlimit: %s\n", errname(errno));
		return 1;
	}
	if (setgid(54321) || setuid(54321)) {
		printf("setuid: %s (run as root)\n", errname(errno));
		return 1;
	}
	int p[2];
	if (pipe(p))
		return 1;
	int n = 0, err = 0;
	while (n < 100) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			char c;
			close(p[1]);
			read(p[0], &c, 1);
			_exit(0);
		}
		pids[n++] = pid;
	}
	printf("created %d\n", n);
	printf("stopped by %s\n", errname(err));
	close(p[1]);
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	return 0;
}

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "threads"))
		return threads();
	if (!strcmp(argv[1], "forks"))
		return forks();
	if (!strcmp(argv[1], "zombies"))
		return zombies();
	if (!strcmp(argv[1], "bomb"))
		return bomb();
	if (!strcmp(argv[1], "nproc"))
		return nproc();
	return 2;
}
