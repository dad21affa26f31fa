/*
 * pidfd.c: pidfd_open, pidfd_send_signal and waitid(P_PIDFD), with the
 * cases of LTP's pidfd_open01-04 and pidfd_send_signal01/02, and clone's
 * and clone3's CLONE_PIDFD: the pidfd is
 * close-on-exec, polls readable once its process has exited (a zombie
 * too), PIDFD_NONBLOCK makes waitid through it say EAGAIN while the child
 * runs, a signal goes to that process (with the caller's siginfo only
 * where Linux allows it), and the errors come in Linux's order.
 */
#include "uktest.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define PIDFD_NONBLOCK_ O_NONBLOCK

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int pidfd_send(int fd, int sig, siginfo_t *info, unsigned flags) {
	return syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}

static int readable(int fd, int ms) {
	struct pollfd p = {fd, POLLIN, 0};
	int n = poll(&p, 1, ms);
	return n == 1 && p.revents == POLLIN ? 1 : n;
}

static volatile pid_t thread_tid;
static int thread_pipe[2];
static void *thread_main(void *arg) {
	(void)arg;
	thread_tid = gettid();
	char x;
	read(thread_pipe[0], &x, 1); /* live until told */
	return NULL;
}

static void opening(void) {
	int fd = EXPECT_OK(pidfd_open(getpid(), 0));
	CHECK("close-on-exec", fcntl(fd, F_GETFD) & FD_CLOEXEC);
	char link[64] = {0}, path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	EXPECT_OK(readlink(path, link, sizeof link - 1));
	printf("link: %s\n", link);
	char buf[8];
	EXPECT_ERR(read(fd, buf, 8), EINVAL);
	EXPECT_EQ(readable(fd, 0), 0);
	close(fd);
	EXPECT_ERR(pidfd_open(-1, 0), EINVAL);
	EXPECT_ERR(pidfd_open(0, 0), EINVAL);
	EXPECT_ERR(pidfd_open(getpid(), 1), EINVAL);
	EXPECT_ERR(pidfd_open(ukt_unused_pid(), 0), ESRCH);
	/* A thread that is not its process's leader has no pidfd. */
	pthread_t th;
	EXPECT_OK(pipe(thread_pipe));
	pthread_create(&th, NULL, thread_main, NULL);
	while (thread_tid == 0)
		sched_yield();
	EXPECT_ERR(pidfd_open(thread_tid, 0), ENOENT);
	write(thread_pipe[1], "x", 1);
	pthread_join(th, NULL);
}

/* pidfd_open03 and 04: a child's exit, seen through poll and waitid. */
static void exits(void) {
	int p[2];
	EXPECT_OK(pipe(p));
	pid_t c = fork();
	if (c == 0) {
		char x;
		read(p[0], &x, 1);
		_exit(7);
	}
	int fd = EXPECT_OK(pidfd_open(c, PIDFD_NONBLOCK_));
	CHECK("PIDFD_NONBLOCK is O_NONBLOCK", fcntl(fd, F_GETFL) & O_NONBLOCK);
	siginfo_t si;
	EXPECT_EQ(readable(fd, 0), 0);
	EXPECT_ERR(waitid(P_PIDFD, fd, &si, WEXITED), EAGAIN);
	EXPECT_EQ(pidfd_send(fd, 0, NULL, 0), 0);
	EXPECT_EQ(write(p[1], "x", 1), 1);
	/* The exit wakes the poll: it does not wait out its timeout. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(readable(fd, 20000), 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK("poll woken by the exit, well before its 20 s", t1.tv_sec - t0.tv_sec < 10);
	EXPECT_EQ(pidfd_send(fd, SIGTERM, NULL, 0), 0); /* a zombie drops it */
	memset(&si, 0, sizeof si);
	EXPECT_OK(waitid(P_PIDFD, fd, &si, WEXITED));
	CHECK("waitid found the child", si.si_pid == c && si.si_code == CLD_EXITED && si.si_status == 7);
	EXPECT_ERR(waitid(P_PIDFD, fd, &si, WEXITED), ECHILD);
	EXPECT_ERR(pidfd_send(fd, SIGTERM, NULL, 0), ESRCH);
	close(fd);

	/* A zombie's pidfd: readable at once. */
	c = fork();
	if (c == 0)
		_exit(3);
	EXPECT_OK(waitid(P_PID, c, &si, WEXITED | WNOWAIT));
	fd = EXPECT_OK(pidfd_open(c, 0));
	EXPECT_EQ(readable(fd, 0), 1);
	EXPECT_OK(waitid(P_PIDFD, fd, &si, WEXITED));
	CHECK("zombie reaped through its pidfd", si.si_pid == c && si.si_status == 3);
	close(fd);

	int null = EXPECT_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERR(waitid(P_PIDFD, null, &si, WEXITED), EBADF);
	EXPECT_ERR(waitid(P_PIDFD, -1, &si, WEXITED), EINVAL);
	close(null);
	close(p[0]);
	close(p[1]);
}

static volatile int got_code, got_value, got_pid;
static void on_usr1(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
	got_pid = si->si_pid;
}

/* pidfd_send_signal01 and 02. */
static void signals(void) {
	struct sigaction sa = {0};
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	int fd = EXPECT_OK(pidfd_open(getpid(), 0));
	EXPECT_OK(pidfd_send(fd, SIGUSR1, NULL, 0));
	CHECK("SI_USER from this process", got_code == SI_USER && got_pid == getpid());
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 42;
	EXPECT_OK(pidfd_send(fd, SIGUSR1, &si, 0));
	CHECK("the siginfo given", got_code == SI_QUEUE && got_value == 42);

	EXPECT_ERR(pidfd_send(fd, SIGUSR1, NULL, 99), EINVAL);
	si.si_signo = SIGUSR2;
	EXPECT_ERR(pidfd_send(fd, SIGUSR1, &si, 0), EINVAL);
	EXPECT_ERR(pidfd_send(fd, SIGUSR1, (siginfo_t *)-1, 0), EFAULT);
	EXPECT_ERR(pidfd_send(-1, SIGUSR1, NULL, 0), EBADF);
	int null = EXPECT_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERR(pidfd_send(null, SIGUSR1, NULL, 0), EBADF);
	close(null);
	EXPECT_ERR(pidfd_send(fd, 1000, NULL, 0), EINVAL);

	/* Another process: only a siginfo that does not claim to be the
	 * kernel; a kill ends it. */
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	int cfd = EXPECT_OK(pidfd_open(c, 0));
	si.si_signo = SIGKILL;
	si.si_code = SI_USER;
	EXPECT_ERR(pidfd_send(cfd, SIGKILL, &si, 0), EPERM);
	EXPECT_OK(pidfd_send(cfd, SIGKILL, NULL, 0));
	siginfo_t w;
	memset(&w, 0, sizeof w);
	EXPECT_OK(waitid(P_PIDFD, cfd, &w, WEXITED));
	CHECK("killed through the pidfd", w.si_code == CLD_KILLED && w.si_status == SIGKILL);
	close(cfd);
	close(fd);
}

/* clone's and clone3's CLONE_PIDFD: the child's pidfd, close-on-exec,
 * written where parent_tid (clone3: pidfd) points. */
static void clones(void) {
	int pfd = -1;
	long c = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pfd, 0, 0);
	if (c == 0)
		syscall(SYS_exit_group, 5);
	CHECK("clone returned a pidfd", c > 0 && pfd >= 0);
	CHECK("the pidfd is close-on-exec", fcntl(pfd, F_GETFD) & FD_CLOEXEC);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	EXPECT_OK(waitid(P_PIDFD, pfd, &si, WEXITED));
	CHECK("waitid through clone's pidfd", si.si_pid == c && si.si_status == 5);
	close(pfd);

	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} args = {.flags = CLONE_PIDFD, .pidfd = (uint64_t)(uintptr_t)&pfd, .exit_signal = SIGCHLD};
	pfd = -1;
	c = syscall(SYS_clone3, &args, sizeof args);
	if (c == 0)
		syscall(SYS_exit_group, 6);
	CHECK("clone3 returned a pidfd", c > 0 && pfd >= 0);
	EXPECT_EQ(readable(pfd, 20000), 1);
	EXPECT_OK(waitid(P_PIDFD, pfd, &si, WEXITED));
	CHECK("waitid through clone3's pidfd", si.si_pid == c && si.si_status == 6);
	close(pfd);

	EXPECT_ERR(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pfd, 0, 0), EINVAL);
	EXPECT_ERR(syscall(SYS_clone, CLONE_PIDFD | CLONE_DETACHED | SIGCHLD, 0, &pfd, 0, 0), EINVAL);
	c = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, (int *)-1, 0, 0);
	if (c == 0)
		syscall(SYS_exit_group, 0);
	printf("clone with an unwritable pidfd address: %s\n", c == -1 ? errname(errno) : "a child");
	EXPECT_ERR(waitpid(-1, NULL, WNOHANG), ECHILD); /* and no child made */
}

int main(void) {
	opening();
	exits();
	signals();
	clones();
	return ukt_exit();
}
