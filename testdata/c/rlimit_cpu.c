/* rlimit_cpu.c: RLIMIT_CPU as Linux enforces it. A child with a soft
 * limit of 1 s and a hard one of 2 s spins: SIGXCPU comes at the soft
 * limit (and the soft limit is then 2), SIGKILL at the hard one. A child
 * with only a soft limit and SIGXCPU's default action dies of SIGXCPU. A
 * limit set before fork is the child's too. Only booleans are printed. */
#include "uktest.h"

#include <signal.h>
#include <sys/resource.h>
#include <time.h>

static double cpu(void) {
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static volatile sig_atomic_t xcpu;
static volatile double at;
static volatile rlim_t soft_after;

static void on_xcpu(int sig) {
	(void)sig;
	if (xcpu++ == 0) {
		at = cpu();
		struct rlimit r;
		getrlimit(RLIMIT_CPU, &r);
		soft_after = r.rlim_cur;
	}
}

static void spin(double seconds) {
	while (cpu() < seconds)
		__asm__ volatile("" ::: "memory");
}

static void status(const char *what, int st) {
	if (WIFSIGNALED(st))
		printf("%s: killed by signal %d%s\n", what, WTERMSIG(st), WCOREDUMP(st) ? " (core)" : "");
	else
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
}

int main(void) {
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);
	int pfd[2];
	pipe(pfd);
	pid_t c = fork();
	if (c == 0) {
		signal(SIGXCPU, on_xcpu);
		struct rlimit r = {1, 2};
		if (setrlimit(RLIMIT_CPU, &r) != 0)
			_exit(9);
		while (!xcpu)
			spin(cpu() + 0.01);
		/* Not before the soft limit. Not after the hard one either, or
		 * SIGKILL would have come first; the time the handler reads
		 * may be later than that on a VM (its clock also counts time
		 * the host ran something else: a native run once read 2 s or
		 * more here), so it is not compared with 2. */
		char msg[3] = {'0' + (at >= 0.9), '0' + (soft_after == 2), '\n'};
		write(pfd[1], msg, 3);
		spin(10); /* SIGKILL comes at 2 s */
		_exit(0);
	}
	close(pfd[1]);
	char msg[3] = {0};
	read(pfd[0], msg, 3);
	int st;
	waitpid(c, &st, 0);
	printf("SIGXCPU at the soft limit: %c\n", msg[0]);
	printf("the soft limit is then 2: %c\n", msg[1]);
	status("hard limit", st);

	/* Set in the parent, inherited by fork; SIGXCPU's default kills. */
	struct rlimit r = {1, RLIM_INFINITY};
	EXPECT_OK(setrlimit(RLIMIT_CPU, &r));
	c = fork();
	if (c == 0) {
		spin(10);
		_exit(0);
	}
	waitpid(c, &st, 0);
	status("soft limit, default action", st);
	return ukt_exit();
}
