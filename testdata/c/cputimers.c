/* cputimers.c: timers that count CPU time (ITIMER_VIRTUAL, ITIMER_PROF,
 * POSIX timers on CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID)
 * fire as the CPU time is used, not as the wall clock runs: not while the
 * process sleeps, on time while it spins, and a thread's own timer not
 * while another thread spins. Only booleans are printed. */
#include "uktest.h"

#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t prof, vt, pcpu, tcpu;

static void on_sig(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	if (sig == SIGPROF)
		prof++;
	else if (sig == SIGVTALRM)
		vt++;
	else if (si->si_value.sival_int == 1)
		pcpu++;
	else
		tcpu++;
}

static double clk(clockid_t id) {
	struct timespec t;
	clock_gettime(id, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void spin(clockid_t id, double s) {
	double end = clk(id) + s;
	while (clk(id) < end)
		for (volatile int i = 0; i < 10000; i++)
			;
}

static void rest(double s) {
	struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static volatile int stop;

static void *burner(void *arg) {
	(void)arg;
	while (!stop)
		for (volatile int i = 0; i < 10000; i++)
			;
	return NULL;
}

int main(void) {
	struct sigaction sa = {.sa_sigaction = on_sig, .sa_flags = SA_SIGINFO | SA_RESTART};
	sigaction(SIGPROF, &sa, NULL);
	sigaction(SIGVTALRM, &sa, NULL);
	sigaction(SIGRTMIN, &sa, NULL);

	/* Interval timers: 50 ms periods. */
	struct itimerval iv = {{0, 50000}, {0, 50000}};
	setitimer(ITIMER_PROF, &iv, NULL);
	setitimer(ITIMER_VIRTUAL, &iv, NULL);
	rest(0.5);
	printf("sleeping 0.5 s: SIGPROF %d, SIGVTALRM %d\n", prof, vt);
	spin(CLOCK_PROCESS_CPUTIME_ID, 0.5);
	printf("spinning 0.5 s of CPU: SIGPROF about 10: %d, SIGVTALRM some: %d\n", prof >= 5 && prof <= 12, vt >= 3 && vt <= 12);
	struct itimerval off = {0}, left;
	setitimer(ITIMER_PROF, &off, NULL);
	setitimer(ITIMER_VIRTUAL, &off, NULL);
	getitimer(ITIMER_PROF, &left);
	printf("disarmed: %d\n", left.it_value.tv_sec == 0 && left.it_value.tv_usec == 0);

	/* A POSIX timer on the process's CPU clock: 200 ms. */
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN, .sigev_value.sival_int = 1};
	timer_t pt, tt;
	timer_create(CLOCK_PROCESS_CPUTIME_ID, &sev, &pt);
	struct itimerspec its = {.it_value = {0, 200000000}};
	timer_settime(pt, 0, &its, NULL);
	rest(0.5);
	printf("process CPU timer while sleeping: %d\n", pcpu);
	struct itimerspec g;
	timer_gettime(pt, &g);
	printf("still about 200 ms left: %d\n", g.it_value.tv_sec == 0 && g.it_value.tv_nsec > 100000000);
	spin(CLOCK_PROCESS_CPUTIME_ID, 0.3);
	printf("after 0.3 s of CPU: %d\n", pcpu);

	/* A thread's CPU timer (1 s) does not count another thread's CPU.
	 * (uk counts a thread's time from when it leaves the kernel to when
	 * it comes back, waits for a CPU included: a long timer keeps a busy
	 * machine's waits from reaching it.) */
	sev.sigev_value.sival_int = 2;
	timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &tt);
	struct itimerspec one = {.it_value = {1, 0}};
	timer_settime(tt, 0, &one, NULL);
	pthread_t b;
	pthread_create(&b, NULL, burner, NULL);
	rest(0.5);
	stop = 1;
	pthread_join(b, NULL);
	printf("thread CPU timer while another thread spins: %d\n", tcpu);
	spin(CLOCK_THREAD_CPUTIME_ID, 1.1);
	rest(0.05);
	printf("after the thread's own 1.1 s: %d\n", tcpu);

	/* Clock ids for a process or a thread (clock_getcpuclockid,
	 * pthread_getcpuclockid): read as the clocks they name. */
	clockid_t cid;
	EXPECT_EQ(clock_getcpuclockid(0, &cid), 0);
	double a = clk(cid), r = clk(CLOCK_PROCESS_CPUTIME_ID);
	printf("own process's clock by id: %d\n", r - a >= 0 && r - a < 0.05);
	EXPECT_EQ(pthread_getcpuclockid(pthread_self(), &cid), 0);
	a = clk(cid), r = clk(CLOCK_THREAD_CPUTIME_ID);
	printf("own thread's clock by id: %d\n", r - a >= 0 && r - a < 0.05);
	int pfd[2];
	pipe(pfd);
	pid_t c = fork();
	if (c == 0) {
		spin(CLOCK_PROCESS_CPUTIME_ID, 0.2);
		write(pfd[1], "x", 1);
		pause();
		_exit(0);
	}
	char x;
	read(pfd[0], &x, 1);
	EXPECT_EQ(clock_getcpuclockid(c, &cid), 0);
	printf("a child's clock by id: %d\n", clk(cid) >= 0.15);
	struct timespec ts;
	clockid_t other = (clockid_t)((~(unsigned)c << 3) | 6); /* its thread's */
	EXPECT_ERR(syscall(SYS_clock_gettime, other, &ts), EINVAL);
	EXPECT_ERR(syscall(SYS_clock_gettime, -1, &ts), EINVAL); /* no such kind */
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	return ukt_exit();
}
