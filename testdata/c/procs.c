/* procs: fork, vfork, exec-less process life: wait statuses, zombies and
 * reaping, orphans adopted by a subreaper, process groups and sessions,
 * SIGCHLD, pipes between processes (EOF, EPIPE/SIGPIPE), and job-control
 * stop/continue seen through waitpid. */
#include "uktest.h"
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static volatile int chld;
static void on_chld(int sig) { chld++; }
static volatile pid_t chld_pid;
static void on_chld_info(int sig, siginfo_t *si, void *uc) { chld_pid = si->si_pid; }
static void on_usr1(int sig) {}

int main(void) {
	int st;
	pid_t c = fork();
	if (c == 0)
		_exit(7);
	EXPECT_EQ(waitpid(c, &st, 0) == c, 1);
	CHECK("child exit status 7", WIFEXITED(st) && WEXITSTATUS(st) == 7);
	EXPECT_ERR(waitpid(c, &st, 0), ECHILD);

	/* A zombie still holds its pid: kill, sigqueue and its process group
	 * find it (the signal goes nowhere) until it is reaped. */
	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		_exit(0);
	}
	siginfo_t zi;
	EXPECT_OK(waitid(P_PID, c, &zi, WEXITED | WNOWAIT));
	EXPECT_OK(kill(c, 0));
	EXPECT_OK(kill(c, SIGCONT));
	EXPECT_OK(kill(c, SIGKILL));
	EXPECT_OK(kill(-c, SIGCONT));
	EXPECT_ERR(kill(c, 65), EINVAL);
	EXPECT_OK(sigqueue(c, SIGCONT, (union sigval){0}));
	EXPECT_ERR(sigqueue(c, 65, (union sigval){0}), EINVAL);
	EXPECT_EQ(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0, 1);
	EXPECT_ERR(kill(c, 0), ESRCH);
	EXPECT_ERR(kill(-c, 0), ESRCH);
	EXPECT_ERR(sigqueue(c, SIGCONT, (union sigval){0}), ESRCH);

	c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	kill(c, SIGTERM);
	waitpid(c, &st, 0);
	CHECK("child killed by SIGTERM", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);

	/* WNOHANG on a running child. */
	int p[2];
	pipe(p);
	c = fork();
	if (c == 0) {
		char b;
		close(p[1]);
		read(p[0], &b, 1); /* returns 0 at EOF when the parent closes */
		_exit(3);
	}
	close(p[0]);
	EXPECT_EQ(waitpid(c, &st, WNOHANG), 0);
	close(p[1]);
	waitpid(c, &st, 0);
	CHECK("pipe EOF ended the child", WIFEXITED(st) && WEXITSTATUS(st) == 3);

	/* vfork: the parent waits until the child exits; memory is shared. */
	volatile int shared = 0;
	c = vfork();
	if (c == 0) {
		shared = 1;
		_exit(0);
	}
	CHECK("vfork child ran first and shared memory", shared == 1);
	waitpid(c, &st, 0);

	/* Orphans go to the nearest subreaper. */
	EXPECT_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	int q[2];
	pipe(q);
	c = fork();
	if (c == 0) {
		pid_t g = fork();
		if (g == 0) {
			usleep(50000);
			int ok = getppid() != getpid();
			char r = 'n';
			/* our parent is now the subreaper: getppid == its pid */
			if (ok)
				r = 'y';
			pid_t pp = getppid();
			write(q[1], &r, 1);
			write(q[1], &pp, sizeof pp);
			_exit(0);
		}
		_exit(0);
	}
	waitpid(c, &st, 0);
	char r;
	pid_t pp;
	read(q[0], &r, 1);
	read(q[0], &pp, sizeof pp);
	CHECK("orphan reparented to the subreaper", pp == getpid());
	CHECK("subreaper reaps the orphan", wait(&st) > 0 && WIFEXITED(st));

	/* SIGCHLD is sent on exit. */
	struct sigaction sa = {.sa_handler = on_chld};
	sigaction(SIGCHLD, &sa, NULL);
	c = fork();
	if (c == 0)
		_exit(0);
	waitpid(c, &st, 0);
	CHECK("SIGCHLD delivered", chld >= 1);
	/* A wait that reaps a child returns with the child's SIGCHLD already
	 * pending, so the handler has run by the time waitpid returns: Linux
	 * makes the zombie and queues the signal under one lock. Were the
	 * signal late, it would interrupt the next wait instead (EINTR). */
	int late = 0;
	for (int i = 0; i < 200; i++) {
		int before = chld;
		c = fork();
		if (c == 0)
			_exit(0);
		waitpid(c, &st, 0);
		if (chld == before)
			late++;
	}
	CHECK("SIGCHLD handled before waitpid returns, 200 times", late == 0);

	/* A zombie orphan adopted by a subreaper is an exit the subreaper has
	 * not heard of: it gets SIGCHLD for it (Linux's reparent_leader).
	 * The middle process's own exit signal is SIGUSR1, so the SIGCHLD
	 * can only be the orphan's. */
	struct sigaction sai = {.sa_sigaction = on_chld_info, .sa_flags = SA_SIGINFO};
	sigaction(SIGCHLD, &sai, NULL);
	signal(SIGUSR1, on_usr1);
	int zp[2];
	pipe(zp);
	chld_pid = 0;
	pid_t m = syscall(SYS_clone, SIGUSR1, 0, 0, 0, 0);
	if (m == 0) {
		pid_t g = fork();
		if (g == 0)
			_exit(0);
		siginfo_t zs;
		waitid(P_PID, g, &zs, WEXITED | WNOWAIT); /* g is a zombie now */
		write(zp[1], &g, sizeof g);
		_exit(0);
	}
	pid_t g = 0;
	read(zp[0], &g, sizeof g);
	EXPECT_EQ(waitpid(m, &st, __WCLONE) == m, 1);
	CHECK("a subreaper hears SIGCHLD for an adopted zombie", g > 0 && chld_pid == g);
	EXPECT_EQ(waitpid(g, &st, 0) == g, 1);
	sigaction(SIGCHLD, &sa, NULL);

	/* Sessions and groups. */
	c = fork();
	if (c == 0) {
		int ok = setsid() == getpid() && getsid(0) == getpid() && getpgrp() == getpid();
		_exit(ok ? 0 : 1);
	}
	waitpid(c, &st, 0);
	CHECK("setsid makes a new session and group", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	EXPECT_OK(setpgid(c, c));
	EXPECT_EQ(getpgid(c) == c, 1);
	EXPECT_OK(kill(-c, SIGKILL));
	waitpid(c, &st, 0);
	CHECK("kill(-pgid) reached the group", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/* Stop and continue. */
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	kill(c, SIGSTOP);
	EXPECT_EQ(waitpid(c, &st, WUNTRACED) == c, 1);
	CHECK("WIFSTOPPED by SIGSTOP", WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	kill(c, SIGCONT);
	EXPECT_EQ(waitpid(c, &st, WCONTINUED) == c, 1);
	CHECK("WIFCONTINUED", WIFCONTINUED(st));
	/* The same through waitid: CLD_STOPPED and CLD_CONTINUED with the
	 * signal as si_status (LTP's waitid07 and waitid08). */
	siginfo_t si;
	kill(c, SIGSTOP);
	memset(&si, 0, sizeof si);
	EXPECT_OK(waitid(P_PID, c, &si, WSTOPPED));
	printf("waitid WSTOPPED: signo %d code %d status %d pid %d\n", si.si_signo, si.si_code, si.si_status, si.si_pid == c);
	kill(c, SIGCONT);
	memset(&si, 0, sizeof si);
	EXPECT_OK(waitid(P_PID, c, &si, WCONTINUED));
	printf("waitid WCONTINUED: signo %d code %d status %d pid %d\n", si.si_signo, si.si_code, si.si_status, si.si_pid == c);
	kill(c, SIGKILL);
	memset(&si, 0, sizeof si);
	EXPECT_OK(waitid(P_PID, c, &si, WEXITED));
	printf("waitid WEXITED: signo %d code %d status %d pid %d\n", si.si_signo, si.si_code, si.si_status, si.si_pid == c);

	/* Writing to a pipe without readers: EPIPE when SIGPIPE is ignored,
	 * death by SIGPIPE otherwise. */
	int w[2];
	pipe(w);
	close(w[0]);
	signal(SIGPIPE, SIG_IGN);
	EXPECT_ERR(write(w[1], "x", 1), EPIPE);
	signal(SIGPIPE, SIG_DFL);
	c = fork();
	if (c == 0) {
		write(w[1], "x", 1);
		_exit(0);
	}
	waitpid(c, &st, 0);
	CHECK("killed by SIGPIPE", WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
	return ukt_exit();
}
