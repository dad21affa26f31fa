/* cpusleep.c: clock_nanosleep on CPU clocks and CPU clocks read while
 * their thread runs. A thread that spins without a syscall must still show
 * its CPU time to another thread's clock_gettime (uk counts a thread's time
 * when it traps: the running stretch must count too, on every platform),
 * a sleep on the process's CPU clock or on that thread's ends when the
 * clock gets there (it slept the wall time, or failed EINVAL), on the
 * caller's own thread clock it is EINVAL, and a signal interrupts it with
 * the time left. Only booleans and errors are printed. */
#include "uktest.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

static void *spin(void *arg) {
	(void)arg;
	for (;;)
		__asm__ volatile("" ::: "memory");
	return NULL;
}

static double clk(clockid_t id) {
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void onalarm(int sig) { (void)sig; }

int main(void) {
	pthread_t th;
	pthread_create(&th, NULL, spin, NULL);
	clockid_t other, own;
	pthread_getcpuclockid(th, &other);
	pthread_getcpuclockid(pthread_self(), &own);

	/* The spinner's clock moves while it spins (at least a fifth of the
	 * wall time: it has a CPU of its own or shares one). */
	usleep(20000);
	double s0 = clk(other), w0 = clk(CLOCK_MONOTONIC);
	usleep(100000);
	double s1 = clk(other), w1 = clk(CLOCK_MONOTONIC);
	CHECK("a spinning thread's clock advances", s1 - s0 >= (w1 - w0) / 5);

	/* Sleeps on the process's clock (glibc passes its own pid's) and on
	 * the spinner's end once the clock has moved by the time asked. */
	struct timespec d = {0, 50000000};
	double p0 = clk(CLOCK_PROCESS_CPUTIME_ID);
	EXPECT_EQ(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &d, NULL), 0);
	CHECK("the process clock moved by the sleep", clk(CLOCK_PROCESS_CPUTIME_ID) - p0 >= 0.05);
	s0 = clk(other);
	EXPECT_EQ(clock_nanosleep(other, 0, &d, NULL), 0);
	CHECK("the thread clock moved by the sleep", clk(other) - s0 >= 0.05);
	struct timespec past = {0, 0};
	EXPECT_EQ(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &past, NULL), 0);
	clockid_t pc;
	clock_getcpuclockid(getpid(), &pc);
	struct timespec until;
	clock_gettime(pc, &until);
	until.tv_nsec += 30000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	EXPECT_EQ(clock_nanosleep(pc, TIMER_ABSTIME, &until, NULL), 0);
	struct timespec after;
	clock_gettime(pc, &after);
	CHECK("an absolute sleep ends at its time", after.tv_sec > until.tv_sec || after.tv_sec == until.tv_sec && after.tv_nsec >= until.tv_nsec);

	/* The caller's own thread clock cannot move while it sleeps: EINVAL;
	 * CLOCK_THREAD_CPUTIME_ID itself has no sleep (EOPNOTSUPP from the
	 * kernel); a clock of nobody is EINVAL. */
	EXPECT_EQ(clock_nanosleep(own, 0, &d, NULL), EINVAL);
	EXPECT_ERR(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL), EOPNOTSUPP);
	EXPECT_EQ(clock_nanosleep((~(clockid_t)99999 << 3) | 2, 0, &d, NULL), EINVAL);

	/* A signal with a handler interrupts a long sleep: EINTR, and the
	 * time left on that clock. */
	struct sigaction sa = {.sa_handler = onalarm};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {.it_value = {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec longer = {30, 0}, rem = {0, 0};
	EXPECT_EQ(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &longer, &rem), EINTR);
	CHECK("the time left is under the time asked", rem.tv_sec < 30 && (rem.tv_sec > 0 || rem.tv_nsec > 0));
	/* A sleep whose end is past 2^63 ns waits (for ever), not wraps. */
	struct timespec forever = {1LL << 40, 0};
	setitimer(ITIMER_REAL, &it, NULL);
	EXPECT_EQ(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &forever, NULL), EINTR);
	return ukt_exit();
}
