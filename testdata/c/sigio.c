/* sigio.c: signal-driven I/O as Linux (LTP's fcntl31, and what
 * asynchronous servers use): F_SETOWN for the process and its group,
 * F_SETOWN_EX for a thread, F_SETSIG and the siginfo of a pipe's O_ASYNC
 * signal (the descriptor, POLL_IN, the band), plain SIGIO without
 * F_SETSIG, and the errors: an owner that does not exist, a bad signal,
 * a bad owner type; and directory notification (F_NOTIFY, LTP's fcntl38
 * and fcntl39): a signal per change with DN_MULTISHOT, one only without,
 * ENOTDIR for a file. */
#include "uktest.h"
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <sys/stat.h>

static void wait_for(int sig, int fd) {
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	siginfo_t si;
	struct timespec ts = {2, 0};
	int got = sigtimedwait(&set, &si, &ts);
	if (got != sig) {
		printf("signal %d: FAIL (got %d, %s)\n", sig, got, errname(errno));
		ukt_failures++;
		return;
	}
	printf("signal %d: si_code %d, si_fd matches %d, si_band %#lx\n", sig, si.si_code, si.si_fd == fd, (long)si.si_band);
}

int main(void) {
	int p[2];
	pipe(p);
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGIO);
	sigaddset(&block, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &block, NULL);

	EXPECT_EQ(fcntl(p[0], F_GETOWN), 0);
	EXPECT_EQ(fcntl(p[0], F_GETSIG), 0);
	EXPECT_OK(fcntl(p[0], F_SETOWN, getpid()));
	EXPECT_EQ(fcntl(p[0], F_GETOWN) == getpid(), 1);
	EXPECT_OK(fcntl(p[0], F_SETOWN, -getpgrp()));
	EXPECT_EQ(fcntl(p[0], F_GETOWN) == -getpgrp(), 1);
	struct f_owner_ex ex = {F_OWNER_TID, (pid_t)syscall(SYS_gettid)};
	EXPECT_OK(fcntl(p[0], F_SETOWN_EX, &ex));
	struct f_owner_ex got = {0, 0};
	EXPECT_OK(fcntl(p[0], F_GETOWN_EX, &got));
	EXPECT_EQ(got.type == F_OWNER_TID && got.pid == ex.pid, 1);
	EXPECT_ERR(fcntl(p[0], F_SETOWN, ukt_unused_pid()), ESRCH);
	struct f_owner_ex bad = {7, getpid()};
	EXPECT_ERR(fcntl(p[0], F_SETOWN_EX, &bad), EINVAL);
	EXPECT_ERR(fcntl(p[0], F_SETSIG, 1000), EINVAL);

	/* F_SETSIG and O_ASYNC: a write to the pipe signals its reader. */
	EXPECT_OK(fcntl(p[0], F_SETOWN, getpid()));
	EXPECT_OK(fcntl(p[0], F_SETSIG, SIGRTMIN + 1));
	EXPECT_EQ(fcntl(p[0], F_GETSIG) == SIGRTMIN + 1, 1);
	EXPECT_OK(fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_ASYNC));
	write(p[1], "x", 1);
	wait_for(SIGRTMIN + 1, p[0]);
	char c;
	read(p[0], &c, 1);

	/* Without F_SETSIG: plain SIGIO. */
	EXPECT_OK(fcntl(p[0], F_SETSIG, 0));
	write(p[1], "y", 1);
	wait_for(SIGIO, p[0]);
	read(p[0], &c, 1);

	/* O_ASYNC cleared: nothing more. */
	EXPECT_OK(fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) & ~O_ASYNC));
	write(p[1], "z", 1);
	usleep(50000);
	sigset_t pend;
	sigpending(&pend);
	CHECK("no signal after O_ASYNC is cleared", !sigismember(&pend, SIGIO));
	read(p[0], &c, 1);

	/* F_NOTIFY: changes in a directory signal its descriptor's owner. */
	char d[64];
	snprintf(d, sizeof d, "/dev/shm/uk_sigio_%d", getpid());
	mkdir(d, 0755);
	int dfd = open(d, O_RDONLY | O_DIRECTORY);
	EXPECT_ERR(fcntl(p[0], F_NOTIFY, DN_CREATE), ENOTDIR);
	EXPECT_OK(fcntl(dfd, F_SETSIG, SIGRTMIN + 1));
	EXPECT_OK(fcntl(dfd, F_NOTIFY, DN_CREATE | DN_DELETE | DN_MULTISHOT));
	char path[128];
	snprintf(path, sizeof path, "%s/a", d);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	wait_for(SIGRTMIN + 1, dfd);
	unlink(path);
	wait_for(SIGRTMIN + 1, dfd);
	/* A new request of the same descriptor adds to the old: still
	 * multishot. One shot needs a descriptor of its own. */
	EXPECT_OK(fcntl(dfd, F_NOTIFY, DN_CREATE));
	close(open(path, O_CREAT | O_WRONLY, 0644));
	wait_for(SIGRTMIN + 1, dfd);
	unlink(path);
	wait_for(SIGRTMIN + 1, dfd);
	close(dfd);
	dfd = open(d, O_RDONLY | O_DIRECTORY);
	EXPECT_OK(fcntl(dfd, F_SETSIG, SIGRTMIN + 1));
	EXPECT_OK(fcntl(dfd, F_NOTIFY, DN_CREATE));
	close(open(path, O_CREAT | O_WRONLY, 0644));
	wait_for(SIGRTMIN + 1, dfd);
	snprintf(path, sizeof path, "%s/b", d);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	usleep(50000);
	sigset_t pend2;
	sigpending(&pend2);
	CHECK("a one-shot F_NOTIFY signals once", !sigismember(&pend2, SIGRTMIN + 1));
	close(dfd);
	unlink(path);
	snprintf(path, sizeof path, "%s/a", d);
	unlink(path);
	rmdir(d);
	return ukt_exit();
}
