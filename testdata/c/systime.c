/* systime.c: system time and page faults, as LTP's times03 and
 * getrusage01-02 look at them: a process that keeps making system calls
 * has used system time (times' tms_stime, getrusage's
 * ru_stime, /proc/self/stat's stime), and its parent sees it in
 * tms_cstime and wait4's rusage once it has waited; a process that sleeps
 * for half a second has used almost none; a process that touches fresh
 * memory has taken page faults (ru_minflt, /proc/self/stat's minflt), and
 * its parent sees them in RUSAGE_CHILDREN and cminflt; each sleep is a
 * voluntary context switch (ru_nvcsw, /proc's voluntary_ctxt_switches,
 * wait4's and RUSAGE_CHILDREN's for a child). Only booleans are printed. */
#include "uktest.h"

#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double tv(struct timeval t) { return t.tv_sec + t.tv_usec / 1e6; }

/* syscalls makes cheap system calls until the process has used 50 ms of
 * system time (at most 5 s), and returns the time it took. */
static double syscalls(void) {
	struct tms tm;
	struct rusage ru;
	double start = now();
	do {
		for (int i = 0; i < 100; i++) times(&tm);
		getrusage(RUSAGE_SELF, &ru);
	} while (tv(ru.ru_stime) < 0.05 && now() < start + 5);
	return now() - start;
}

/* proc_field returns field n (from 1) of /proc/self/stat, n >= 3. */
static long proc_field(int n) {
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	if (!f || !fgets(buf, sizeof buf, f)) return -1;
	fclose(f);
	/* after the command's closing parenthesis: fields 3.. */
	char *p = strrchr(buf, ')');
	long v = -1;
	for (int field = 3; p && field <= n; field++) {
		p = strchr(p + 1, ' ');
		if (p && field == n) v = atol(p + 1);
	}
	return v;
}
static long proc_stime(void) { return proc_field(15); }

/* status_switches is /proc/self/status's voluntary_ctxt_switches. */
static long status_switches(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long n = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

int main(void) {
	long hz = sysconf(_SC_CLK_TCK);
	double spent = syscalls();
	struct tms tm;
	times(&tm);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("after system calls: tms_stime > 0 %d, ru_stime > 0 %d, /proc stime > 0 %d\n", tm.tms_stime > 0,
	       tv(ru.ru_stime) > 0, proc_stime() > 0);
	/* the process's start before the loop counts too: 0.1 s of slack */
	printf("system time at most the time spent %d, user and system time within it %d\n",
	       (double)tm.tms_stime / hz <= spent + 0.1, (double)(tm.tms_utime + tm.tms_stime) / hz <= spent + 0.1);
	printf("no children yet: tms_cutime %ld tms_cstime %ld\n", (long)tm.tms_cutime, (long)tm.tms_cstime);

	/* a sleeper's system time stays small */
	pid_t c = fork();
	if (c == 0) {
		struct timespec ts = {0, 500000000};
		nanosleep(&ts, NULL);
		_exit(0);
	}
	wait4(c, NULL, 0, &ru);
	printf("a child that slept 0.5 s: system time under 0.1 s %d\n", tv(ru.ru_stime) < 0.1);

	/* a child busy in system calls, reaped */
	c = fork();
	if (c == 0) {
		syscalls();
		_exit(0);
	}
	wait4(c, NULL, 0, &ru);
	struct tms after;
	times(&after);
	printf("wait4 of a child making system calls: ru_stime > 0 %d; tms_cstime > 0 %d\n", tv(ru.ru_stime) > 0,
	       after.tms_cstime > 0);

	/* page faults: a child touching 8 MB of fresh memory */
	struct rusage before;
	getrusage(RUSAGE_CHILDREN, &before);
	c = fork();
	if (c == 0) {
		struct rusage a, b;
		getrusage(RUSAGE_SELF, &a);
		volatile char *p = malloc(8 << 20);
		for (long i = 0; i < 8 << 20; i += 4096) p[i] = 1;
		getrusage(RUSAGE_SELF, &b);
		printf("touching 8 MB: ru_minflt grew %d, ru_majflt %ld\n", b.ru_minflt > a.ru_minflt, b.ru_majflt);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("RUSAGE_CHILDREN's ru_minflt grew %d\n", ru.ru_minflt > before.ru_minflt);
	long minflt = proc_field(10);
	volatile char *p = malloc(4 << 20);
	for (long i = 0; i < 4 << 20; i += 4096) p[i] = 1;
	printf("/proc/self/stat: minflt grew with 4 MB touched %d, cminflt > 0 %d, majflt %ld, cstime > 0 %d\n",
	       proc_field(10) > minflt, proc_field(11) > 0, proc_field(12), proc_field(17) > 0);

	/* voluntary context switches: each sleep is one */
	struct rusage self0, thr0, ch0;
	getrusage(RUSAGE_SELF, &self0);
	getrusage(RUSAGE_THREAD, &thr0);
	getrusage(RUSAGE_CHILDREN, &ch0);
	long vol0 = status_switches();
	struct timespec ms = {0, 1000000};
	for (int i = 0; i < 10; i++)
		nanosleep(&ms, NULL);
	struct rusage self1, thr1;
	getrusage(RUSAGE_SELF, &self1);
	getrusage(RUSAGE_THREAD, &thr1);
	printf("ten sleeps: ru_nvcsw grew by 10 or more %d (thread %d), /proc status voluntary_ctxt_switches %d\n",
	       self1.ru_nvcsw - self0.ru_nvcsw >= 10, thr1.ru_nvcsw - thr0.ru_nvcsw >= 10, status_switches() - vol0 >= 10);
	c = fork();
	if (c == 0) {
		for (int i = 0; i < 5; i++)
			nanosleep(&ms, NULL);
		_exit(0);
	}
	wait4(c, NULL, 0, &ru);
	struct rusage ch1;
	getrusage(RUSAGE_CHILDREN, &ch1);
	printf("a child that slept five times: wait4's ru_nvcsw >= 5 %d, RUSAGE_CHILDREN grew by 5 or more %d\n",
	       ru.ru_nvcsw >= 5, ch1.ru_nvcsw - ch0.ru_nvcsw >= 5);
	return 0;
}
