/*
 * pidfd_getfd.c: pidfd_getfd(2) with the cases of LTP's pidfd_getfd01/02:
 * the new descriptor is the target's open file (one description: what is
 * written through it arrives at the target's pipe) and close-on-exec;
 * flags must be 0 (EINVAL, checked first), a descriptor that is no pidfd
 * or a target descriptor that is not open is EBADF (an O_PATH one is
 * taken as any other), an
 * exited process is ESRCH, and only a caller that may ptrace the target
 * (the same real ids and a dumpable target, or CAP_SYS_PTRACE) gets in:
 * EPERM otherwise.
 */
#include "uktest.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#define KCMP_FILE 0

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int getfd(int pidfd, int fd, unsigned flags) { return syscall(SYS_pidfd_getfd, pidfd, fd, flags); }

/* A child that opens a pipe, tells its parent (over ready) the number of
 * the write end, and exits 0 if "hi" arrives on the read end. Before it
 * opens the pipe it sets its dumpable flag to dumpable. */
static pid_t pipe_child(int dumpable, int *wfd) {
	int ready[2];
	pipe(ready);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		close(ready[0]);
		prctl(PR_SET_DUMPABLE, dumpable);
		int p[2];
		pipe(p);
		write(ready[1], &p[1], sizeof p[1]);
		char buf[3] = {0};
		alarm(20);
		int n = read(p[0], buf, 2);
		_exit(n == 2 && strcmp(buf, "hi") == 0 ? 0 : 1);
	}
	close(ready[1]);
	if (read(ready[0], wfd, sizeof *wfd) != sizeof *wfd)
		printf("pipe_child: FAIL\n");
	close(ready[0]);
	return c;
}

static int child_status(pid_t c) {
	int st;
	waitpid(c, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void basic(void) {
	int wfd;
	pid_t c = pipe_child(1, &wfd);
	int pfd = EXPECT_OK(pidfd_open(c, 0));
	int fd = EXPECT_OK(getfd(pfd, wfd, 0));
	CHECK("close-on-exec", fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK("the target's pipe, write end", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY);
	EXPECT_EQ(syscall(SYS_kcmp, getpid(), c, KCMP_FILE, fd, wfd), 0); /* as LTP's pidfd_getfd01 */
	EXPECT_EQ(write(fd, "hi", 2), 2);
	printf("the child read what was written: exit %d\n", child_status(c));
	close(fd);
	close(pfd);

	/* One's own process. */
	int self = EXPECT_OK(pidfd_open(getpid(), 0));
	int null = EXPECT_OK(open("/dev/null", O_WRONLY));
	fd = EXPECT_OK(getfd(self, null, 0));
	CHECK("a new descriptor", fd != null);
	/* One description: the offset and status flags are shared. */
	EXPECT_OK(fcntl(null, F_SETFL, O_APPEND));
	CHECK("status flags shared", fcntl(fd, F_GETFL) & O_APPEND);
	close(fd);
	int opath = EXPECT_OK(open("/", O_PATH));
	fd = EXPECT_OK(getfd(self, opath, 0)); /* O_PATH too, since Linux 6.x */
	CHECK("an O_PATH description", fcntl(fd, F_GETFL) & O_PATH);
	close(fd);
	close(opath);

	/* Errors, in order. */
	EXPECT_ERR(getfd(-1, 0, 1), EINVAL);
	EXPECT_ERR(getfd(self, null, 1), EINVAL);
	EXPECT_ERR(getfd(-1, 0, 0), EBADF);
	EXPECT_ERR(getfd(null, 0, 0), EBADF);
	EXPECT_ERR(getfd(self, 1000, 0), EBADF);
	EXPECT_ERR(getfd(self, -1, 0), EBADF);

	/* An exited process: a zombie, then reaped. */
	c = fork();
	if (c == 0)
		_exit(0);
	pfd = EXPECT_OK(pidfd_open(c, 0));
	siginfo_t si;
	EXPECT_OK(waitid(P_PID, c, &si, WEXITED | WNOWAIT));
	EXPECT_ERR(getfd(pfd, 0, 0), ESRCH);
	EXPECT_ERR(getfd(pfd, 0, 1), EINVAL);
	waitpid(c, NULL, 0);
	EXPECT_ERR(getfd(pfd, 0, 0), ESRCH);
	close(pfd);

	/* No descriptor left for the copy. */
	struct rlimit old, rl;
	getrlimit(RLIMIT_NOFILE, &old);
	int top = EXPECT_OK(fcntl(null, F_DUPFD, 0));
	rl.rlim_cur = top + 1;
	rl.rlim_max = old.rlim_max;
	EXPECT_OK(setrlimit(RLIMIT_NOFILE, &rl));
	EXPECT_ERR(getfd(self, null, 0), EMFILE);
	EXPECT_OK(setrlimit(RLIMIT_NOFILE, &old));
	close(top);
	close(null);
	close(self);
}

/* Permission: a child of uid 65534 may not take root's descriptors, root
 * (CAP_SYS_PTRACE) may take the child's; between processes of one uid
 * only a dumpable target. */
static void as_nobody(void) {
	int root = pidfd_open(getppid(), 0);
	/* A dumpable process of another uid, without capabilities. */
	int ready[2], hold[2];
	pipe(ready);
	pipe(hold);
	fflush(stdout);
	pid_t other = fork();
	if (other == 0) {
		close(hold[1]);
		if (setgid(65533) || setuid(65533))
			_exit(2);
		prctl(PR_SET_DUMPABLE, 1);
		write(ready[1], "r", 1);
		char x;
		read(hold[0], &x, 1); /* until this process exits */
		_exit(0);
	}
	close(hold[0]);
	char r;
	read(ready[0], &r, 1);
	int ofd = pidfd_open(other, 0);
	if (setgid(65534) || setuid(65534)) {
		printf("setuid: FAIL %s\n", errname(errno));
		return;
	}
	EXPECT_ERR(getfd(root, 0, 0), EPERM);
	EXPECT_ERR(getfd(root, 1000, 0), EPERM); /* before the descriptor */
	EXPECT_ERR(getfd(ofd, 0, 0), EPERM); /* the uids differ */
	int wfd;
	pid_t c = pipe_child(1, &wfd);
	int pfd = EXPECT_OK(pidfd_open(c, 0));
	int fd = EXPECT_OK(getfd(pfd, wfd, 0));
	EXPECT_EQ(write(fd, "hi", 2), 2);
	printf("dumpable, same ids: exit %d\n", child_status(c));
	close(fd);
	close(pfd);

	c = pipe_child(0, &wfd);
	pfd = EXPECT_OK(pidfd_open(c, 0));
	EXPECT_ERR(getfd(pfd, wfd, 0), EPERM);
	kill(c, SIGKILL);
	printf("not dumpable: %d\n", child_status(c));
	close(pfd);
}

/* uid 0 without capabilities: the same ids as its root parent, but the
 * parent's permitted capabilities are not within its own (commoncap). */
static void capless_root(void) {
	int root = pidfd_open(getppid(), 0);
	struct { uint32_t version; int pid; } hdr = {0x20080522, 0};
	struct { uint32_t eff, perm, inh; } data[2] = {{0, 0, 0}, {0, 0, 0}};
	EXPECT_OK(syscall(SYS_capset, &hdr, data));
	EXPECT_ERR(getfd(root, 0, 0), EPERM);
	int self = pidfd_open(getpid(), 0);
	int fd = EXPECT_OK(getfd(self, 0, 0)); /* its own process, always */
	close(fd);
}

static void from_root(void) {
	int p[2], ready[2];
	pipe(p);
	pipe(ready);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		close(ready[0]);
		if (setgid(65534) || setuid(65534))
			_exit(2);
		write(ready[1], "r", 1);
		char buf[3] = {0};
		alarm(20);
		_exit(read(p[0], buf, 2) == 2 && strcmp(buf, "hi") == 0 ? 0 : 1);
	}
	close(ready[1]);
	char r;
	read(ready[0], &r, 1);
	int pfd = EXPECT_OK(pidfd_open(c, 0));
	close(p[0]);
	int fd = EXPECT_OK(getfd(pfd, p[1], 0)); /* the child's copy of the write end */
	close(p[1]);
	EXPECT_EQ(write(fd, "hi", 2), 2);
	printf("root took the descriptor of a uid 65534 child: exit %d\n", child_status(c));
	close(fd);
	close(pfd);
	close(ready[0]);
}

int main(void) {
	basic();
	ukt_in_child("as uid 65534", as_nobody);
	ukt_in_child("as uid 0 without capabilities", capless_root);
	from_root();
	return ukt_exit();
}
