/* wait.c: which children wait4 and waitid report and how, compared with
 * Linux (LTP's waitid, waitpid and wait4 cases): argument errors, ECHILD
 * with no child, WNOHANG and WNOWAIT, a NULL siginfo, P_PGID, deaths by
 * signal (si_code and si_status), "clone" children that exit with a
 * signal other than SIGCHLD (seen only with __WCLONE or __WALL), and the
 * errors of setpgid, getpgid, getsid, kill and tgkill. */
#include "uktest.h"

#include <signal.h>
#include <sys/resource.h>

static void nocore(void) {
	struct rlimit r = {0, 0};
	setrlimit(RLIMIT_CORE, &r);
}

static void report(const char *what, siginfo_t *si) {
	printf("%s: signo %d code %d status %d\n", what, si->si_signo, si->si_code, si->si_status);
}

int main(void) {
	siginfo_t si;
	int st;
	EXPECT_ERR(waitpid(-1, &st, WNOHANG), ECHILD);
	EXPECT_ERR(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), ECHILD);
	EXPECT_ERR(waitid(P_ALL, 0, &si, 0), EINVAL);
	EXPECT_ERR(waitid(7, 0, &si, WEXITED), EINVAL);
	EXPECT_ERR(waitid(P_PID, 0, &si, WEXITED), EINVAL);
	EXPECT_ERR(wait4(-1, &st, 0x100, NULL), EINVAL);
	EXPECT_ERR(waitpid(1, &st, 0), ECHILD);

	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	memset(&si, 0x55, sizeof si);
	EXPECT_OK(waitid(P_PID, c, &si, WEXITED | WNOHANG));
	printf("WNOHANG, nothing ready: signo %d pid %d\n", si.si_signo, si.si_pid);
	kill(c, SIGKILL);
	EXPECT_OK(waitid(P_PID, c, &si, WEXITED | WNOWAIT));
	report("WNOWAIT", &si);
	EXPECT_OK(waitid(P_PID, c, &si, WEXITED));
	report("then reaped", &si);
	EXPECT_ERR(waitid(P_PID, c, &si, WEXITED), ECHILD);

	c = fork();
	if (c == 0)
		_exit(3);
	EXPECT_OK(waitid(P_PID, c, NULL, WEXITED));

	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		_exit(4);
	}
	setpgid(c, c);
	EXPECT_OK(waitid(P_PGID, c, &si, WEXITED));
	report("P_PGID", &si);

	c = fork();
	if (c == 0) {
		nocore();
		volatile int zero = 0;
		printf("%d", 1 / zero);
		_exit(0);
	}
	EXPECT_OK(waitid(P_PID, c, &si, WEXITED));
	report("SIGFPE", &si);
	c = fork();
	if (c == 0) {
		nocore();
		abort();
	}
	waitpid(c, &st, 0);
	printf("abort: signal %d, core %d\n", WTERMSIG(st), WCOREDUMP(st) != 0);

	EXPECT_ERR(getpgid(999999), ESRCH);
	EXPECT_ERR(getsid(999999), ESRCH);
	EXPECT_ERR(setpgid(-1, 0), EINVAL);
	EXPECT_ERR(setpgid(-5, 3), ESRCH);
	EXPECT_ERR(setpgid(999999, 0), ESRCH);
	EXPECT_ERR(setpgid(0, -1), EINVAL);
	EXPECT_ERR(kill(999999, 0), ESRCH);
	EXPECT_ERR(kill(getpid(), 99), EINVAL);
	EXPECT_ERR(syscall(SYS_tgkill, getpid(), getpid(), 99), EINVAL);
	EXPECT_ERR(syscall(SYS_tgkill, -1, getpid(), 0), EINVAL);
	EXPECT_ERR(syscall(SYS_tgkill, getpid(), -1, 0), EINVAL);
	EXPECT_ERR(syscall(SYS_tgkill, getpid(), 999999, 0), ESRCH);
	EXPECT_ERR(syscall(SYS_tkill, -1, 0), EINVAL);

	/* A child that exits with SIGUSR1 is a "clone" child. */
	signal(SIGUSR1, SIG_IGN);
	c = syscall(SYS_clone, SIGUSR1, 0, 0, 0, 0);
	if (c == 0)
		_exit(5);
	EXPECT_ERR(waitpid(c, &st, WNOHANG), ECHILD);
	EXPECT_ERR(waitid(P_PID, c, &si, WEXITED | WNOHANG), ECHILD);
	CHECK("__WCLONE reaps it", waitpid(c, &st, __WCLONE) == c && WIFEXITED(st) && WEXITSTATUS(st) == 5);
	c = fork();
	if (c == 0)
		_exit(6);
	EXPECT_ERR(waitpid(c, &st, __WCLONE), ECHILD);
	CHECK("__WALL reaps a fork child", waitpid(c, &st, __WALL) == c && WEXITSTATUS(st) == 6);
	c = syscall(SYS_clone, 0, 0, 0, 0, 0);
	if (c == 0)
		_exit(7);
	EXPECT_ERR(waitpid(c, &st, WNOHANG), ECHILD);
	CHECK("__WALL reaps one with no exit signal", waitpid(c, &st, __WALL) == c && WEXITSTATUS(st) == 7);
	return ukt_exit();
}
