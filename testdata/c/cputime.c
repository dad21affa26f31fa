/* cputime.c: a process's CPU time is the CPU its threads used, not the
 * time they were runnable. Eight threads do a fixed amount of work each on
 * however many CPUs there are; the process's CPU clock, times(),
 * getrusage and a parent's wait4 must show about eight times what one
 * thread's share costs alone, never more than the CPUs could give in the
 * wall time it took, and wait4's and RUSAGE_CHILDREN's counts must include
 * a grandchild that the child reaped (Linux's RUSAGE_BOTH and cutime).
 * Only booleans are printed. */
#include "uktest.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>

#define THREADS 8

static double clk(clockid_t id) {
	struct timespec t;
	clock_gettime(id, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double rusage_s(int who) {
	struct rusage r;
	getrusage(who, &r);
	return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

/* work is the fixed unit of CPU work. */
static void *work(void *arg) {
	(void)arg;
	for (long i = 0; i < 250000000; i++)
		__asm__ volatile("" ::: "memory");
	return NULL;
}

/* parallel runs THREADS units at once and returns the wall time taken. */
static double parallel(void) {
	pthread_t t[THREADS];
	double w = clk(CLOCK_MONOTONIC);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, work, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	return clk(CLOCK_MONOTONIC) - w;
}

static int ncpus(void) {
	cpu_set_t s;
	if (sched_getaffinity(0, sizeof s, &s) != 0)
		return 1;
	return CPU_COUNT(&s);
}

/* near says whether got is about want: from half to twice (a VM's CPU
 * time also holds the time its host ran something else, and a thread's
 * share of caches and clock boost differs when all CPUs are busy). Time
 * counted while runnable would be THREADS / CPUs times too much: four
 * times on two CPUs. */
static int near(double got, double want) { return got >= want * 0.5 && got <= want * 2; }

int main(void) {
	int cpus = ncpus();
	/* The cheaper of two runs: the first may also pay for the start of
	 * the process. */
	double one = 1e9, p0;
	for (int i = 0; i < 2; i++) {
		p0 = clk(CLOCK_PROCESS_CPUTIME_ID);
		work(NULL);
		double d = clk(CLOCK_PROCESS_CPUTIME_ID) - p0;
		if (d < one)
			one = d;
	}
	CHECK("one unit of work takes CPU time", one > 0.005);

	p0 = clk(CLOCK_PROCESS_CPUTIME_ID);
	double r0 = rusage_s(RUSAGE_SELF);
	double wall = parallel();
	double cpu = clk(CLOCK_PROCESS_CPUTIME_ID) - p0;
	double ru = rusage_s(RUSAGE_SELF) - r0;
	printf("process clock: eight units cost about eight times one: %d\n", near(cpu, THREADS * one));
	printf("process clock: no more than the CPUs give in the time: %d\n", cpu <= cpus * wall * 1.1 + 0.02);
	printf("getrusage(RUSAGE_SELF) agrees: %d\n", ru > cpu * 0.8 - 0.02 && ru < cpu * 1.2 + 0.02);
	struct tms tm;
	times(&tm);
	double tk = (double)(tm.tms_utime + tm.tms_stime) / sysconf(_SC_CLK_TCK);
	double all = clk(CLOCK_PROCESS_CPUTIME_ID);
	printf("times() agrees: %d\n", tk > all * 0.8 - 0.05 && tk < all * 1.2 + 0.05);
	printf("thread clock within the process clock: %d\n", clk(CLOCK_THREAD_CPUTIME_ID) <= clk(CLOCK_PROCESS_CPUTIME_ID));

	/* A child does eight units in threads and one more in a grandchild it
	 * reaps itself. */
	pid_t c = fork();
	if (c == 0) {
		pid_t g = fork();
		if (g == 0) {
			work(NULL);
			_exit(0);
		}
		waitpid(g, NULL, 0);
		parallel();
		_exit(0);
	}
	struct rusage r;
	int st;
	double w0 = clk(CLOCK_MONOTONIC);
	wait4(c, &st, 0, &r);
	double wall2 = clk(CLOCK_MONOTONIC) - w0;
	double child = r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
	double children = rusage_s(RUSAGE_CHILDREN);
	printf("wait4: the child's eight units and its grandchild's one: %d\n", near(child, (THREADS + 1) * one));
	printf("wait4: no more than the CPUs give: %d\n", child <= cpus * wall2 * 1.1 + 0.02);
	printf("RUSAGE_CHILDREN: the child's and its reaped grandchild's: %d\n",
	       near(children, (THREADS + 1) * one) && children > child * 0.9);
	return ukt_exit();
}
