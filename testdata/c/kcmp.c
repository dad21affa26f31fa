/*
 * kcmp.c: kcmp(2) with the cases of LTP's kcmp01-03: a task against
 * itself, its threads, a fork's child and clone children sharing one
 * resource each (CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_IO, CLONE_SYSVSEM);
 * the order of distinct objects (1 or 2, antisymmetric and transitive:
 * the values themselves depend on addresses, so only their relations are
 * printed); KCMP_EPOLL_TFD; and the errors in Linux's order (ESRCH, then
 * EPERM for a caller that may not ptrace both tasks, then EINVAL for the
 * type and EBADF for a descriptor).
 */
#include "uktest.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>

enum { KCMP_FILE, KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND, KCMP_IO, KCMP_SYSVSEM, KCMP_EPOLL_TFD, KCMP_TYPES };
struct kcmp_epoll_slot {
	uint32_t efd, tfd, toff;
};

static long kcmp(pid_t p1, pid_t p2, int type, unsigned long i1, unsigned long i2) {
	return syscall(SYS_kcmp, p1, p2, type, i1, i2);
}

static const char *names[] = {"FILE", "VM", "FILES", "FS", "SIGHAND", "IO", "SYSVSEM"};

/* rel prints how two tasks' objects of each type compare: "=" for the
 * same object, "<>" for distinct ones (after checking that the reverse
 * comparison says the opposite). */
static void rel(const char *what, pid_t a, pid_t b) {
	printf("%s:", what);
	for (int type = KCMP_VM; type <= KCMP_SYSVSEM; type++) {
		long r = kcmp(a, b, type, 0, 0), s = kcmp(b, a, type, 0, 0);
		if (r == 0 && s == 0)
			printf(" %s=", names[type]);
		else if ((r == 1 && s == 2) || (r == 2 && s == 1))
			printf(" %s<>", names[type]);
		else {
			printf(" %s:FAIL(%ld,%ld,%s)", names[type], r, s, errname(errno));
			ukt_failures++;
		}
	}
	printf("\n");
}

static pid_t children[16];
static int nchildren;
static int wait_kill(void *arg) {
	(void)arg;
	for (;;)
		pause();
	return 0;
}

/* clone_child runs a child made with clone flags (each on a stack of its
 * own: CLONE_VM children share the memory) that waits to be killed. */
static pid_t clone_child(int flags) {
	static char stacks[16][16384] __attribute__((aligned(16)));
	fflush(stdout);
	pid_t c = clone(wait_kill, stacks[nchildren] + sizeof stacks[0], flags | SIGCHLD, NULL);
	children[nchildren++] = c;
	return c;
}

static void kill_children(void) {
	for (int i = 0; i < nchildren; i++)
		kill(children[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	nchildren = 0;
}

static volatile pid_t thread_tid;
static int thread_pipe[2];
static void *thread_main(void *arg) {
	(void)arg;
	thread_tid = gettid();
	char x;
	read(thread_pipe[0], &x, 1);
	return NULL;
}

static pthread_t start_thread(void) {
	pthread_t th;
	thread_tid = 0;
	pipe(thread_pipe);
	pthread_create(&th, NULL, thread_main, NULL);
	while (thread_tid == 0)
		sched_yield();
	return th;
}

static void stop_thread(pthread_t th) {
	write(thread_pipe[1], "x", 1);
	pthread_join(th, NULL);
	close(thread_pipe[0]);
	close(thread_pipe[1]);
}

static void tasks(void) {
	pid_t me = getpid();
	rel("self", me, me);

	/* Before any thread: no SysV undo list on either side. */
	pid_t c = clone_child(0);
	rel("fork child, no thread yet", me, c);

	/* glibc's threads are CLONE_SYSVSEM clones: the process gets an undo
	 * list, which a fork's child does not share. */
	pthread_t th = start_thread();
	rel("thread", me, thread_tid);
	rel("the same fork child, after a thread", me, c);
	pid_t c2 = clone_child(0);
	rel("two fork children", c, c2);
	stop_thread(th);

	/* LTP's kcmp03: one shared resource each. */
	rel("CLONE_VM", me, clone_child(CLONE_VM));
	rel("CLONE_FS", me, clone_child(CLONE_FS));
	rel("CLONE_FILES", me, clone_child(CLONE_FILES));
	rel("CLONE_IO", me, clone_child(CLONE_IO));
	rel("CLONE_SYSVSEM", me, clone_child(CLONE_SYSVSEM));
	kill_children();
}

/* CLONE_SIGHAND without CLONE_THREAD: two processes, one handler table
 * (what one sets the other sees), until one execs, and neither may
 * unshare it meanwhile. */
static void on_usr2(int sig) { (void)sig; }
static int set_usr2(void *arg) {
	(void)arg;
	signal(SIGUSR2, on_usr2);
	return 0;
}
static int exec_true(void *arg) {
	(void)arg;
	execl("/proc/self/exe", "kcmp", "pause", (char *)NULL);
	return 1;
}
static void shared_handlers(void) {
	pid_t me = getpid();
	pid_t c = clone_child(CLONE_VM | CLONE_SIGHAND);
	rel("CLONE_VM|CLONE_SIGHAND", me, c);
	/* unshare(CLONE_SIGHAND) needs a table no other process uses, even
	 * a zombie: until it is reaped. */
	EXPECT_ERR(unshare(CLONE_SIGHAND), EINVAL);
	kill(c, SIGKILL);
	siginfo_t si;
	EXPECT_OK(waitid(P_PID, c, &si, WEXITED | WNOWAIT));
	EXPECT_ERR(unshare(CLONE_SIGHAND), EINVAL);
	kill_children();
	EXPECT_OK(unshare(CLONE_SIGHAND));
	static char stack[16384] __attribute__((aligned(16)));
	fflush(stdout);
	c = clone(set_usr2, stack + sizeof stack, CLONE_VM | CLONE_SIGHAND | SIGCHLD, NULL);
	waitpid(c, NULL, 0);
	struct sigaction sa;
	sigaction(SIGUSR2, NULL, &sa);
	CHECK("the child's handler is the parent's", sa.sa_handler == on_usr2);
	int ready[2];
	pipe(ready);
	fflush(stdout);
	c = clone(exec_true, stack + sizeof stack, CLONE_VM | CLONE_SIGHAND | SIGCHLD, NULL);
	/* Once exec has replaced the child's memory it shares neither. */
	for (int i = 0; i < 2000 && kcmp(me, c, KCMP_VM, 0, 0) == 0; i++)
		usleep(1000);
	rel("CLONE_VM|CLONE_SIGHAND child after exec", me, c);
	sigaction(SIGUSR2, NULL, &sa);
	CHECK("the parent's handler stays", sa.sa_handler == on_usr2);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
}

/* unshare(CLONE_SYSVSEM) leaves the list the threads share. */
static void unshare_sysvsem(void) {
	pthread_t th = start_thread();
	rel("thread", getpid(), thread_tid);
	EXPECT_OK(unshare(CLONE_SYSVSEM));
	rel("thread after unshare(CLONE_SYSVSEM)", getpid(), thread_tid);
	stop_thread(th);
}

/* The order of three distinct objects is a total order. */
static void order(void) {
	int fds[3];
	for (int i = 0; i < 3; i++)
		fds[i] = open("/dev/null", O_RDONLY);
	pid_t me = getpid();
	long r[3][3];
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			r[i][j] = kcmp(me, me, KCMP_FILE, fds[i], fds[j]);
	int ok = 1;
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			if (i == j)
				ok &= r[i][j] == 0;
			else
				ok &= (r[i][j] == 1 || r[i][j] == 2) && r[i][j] + r[j][i] == 3;
			for (int k = 0; k < 3; k++)
				if (r[i][j] == 1 && r[j][k] == 1)
					ok &= r[i][k] == 1;
		}
	CHECK("three files: 0 with itself, 1 or 2 and the reverse, transitive", ok);
	int d = dup(fds[0]);
	EXPECT_EQ(kcmp(me, me, KCMP_FILE, fds[0], d), 0);
	/* The index is an unsigned int: the upper half is not looked at. */
	EXPECT_EQ(kcmp(me, me, KCMP_FILE, (1ul << 32) | fds[0], d), 0);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	EXPECT_EQ(kcmp(me, c, KCMP_FILE, d, fds[0]), 0); /* a fork shares descriptions */
	long x = kcmp(me, c, KCMP_FILE, fds[1], fds[0]);
	CHECK("another description differs", x == 1 || x == 2);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(d);
}

static void epoll_tfd(void) {
	pid_t me = getpid();
	int p[2];
	EXPECT_OK(pipe(p));
	int ep = EXPECT_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN};
	EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	struct kcmp_epoll_slot slot = {ep, p[0], 0};
	EXPECT_EQ(kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot), 0);
	long r = kcmp(me, me, KCMP_EPOLL_TFD, p[1], (unsigned long)&slot);
	CHECK("another file orders", r == 1 || r == 2);
	slot.toff = 1;
	EXPECT_ERR(kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot), ENOENT);
	slot.toff = 0;
	slot.tfd = p[1];
	EXPECT_ERR(kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot), ENOENT);
	slot.tfd = p[0];
	slot.efd = p[0];
	EXPECT_ERR(kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot), EINVAL);
	slot.efd = 1000;
	EXPECT_ERR(kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot), EBADF);
	slot.efd = ep;
	EXPECT_ERR(kcmp(me, me, KCMP_EPOLL_TFD, 1000, (unsigned long)&slot), EBADF);
	EXPECT_ERR(kcmp(me, me, KCMP_EPOLL_TFD, 1000, 1), EFAULT); /* the slot first */

	/* One number, two files: watched as x, x closed (the file stays
	 * open as p[0], so the entry lives), x reused for p[1] and watched. */
	int x = EXPECT_OK(dup(p[0]));
	EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, x, &ev));
	close(x);
	EXPECT_EQ(dup(p[1]), x);
	ev.events = EPOLLOUT;
	EXPECT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, x, &ev));
	slot.tfd = x;
	long a0 = kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot);
	long a1 = kcmp(me, me, KCMP_EPOLL_TFD, p[1], (unsigned long)&slot);
	slot.toff = 1;
	long b0 = kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot);
	long b1 = kcmp(me, me, KCMP_EPOLL_TFD, p[1], (unsigned long)&slot);
	CHECK("the two files under one number, one at each offset",
	      (a0 == 0 && b1 == 0 && a1 > 0 && b0 > 0) || (a1 == 0 && b0 == 0 && a0 > 0 && b1 > 0));
	slot.toff = 2;
	EXPECT_ERR(kcmp(me, me, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot), ENOENT);
	close(x);
	close(ep);
	close(p[0]);
	close(p[1]);
}

static void errors(void) {
	pid_t me = getpid(), none = ukt_unused_pid();
	int fd = EXPECT_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERR(kcmp(none, me, KCMP_VM, 0, 0), ESRCH);
	EXPECT_ERR(kcmp(me, none, KCMP_VM, 0, 0), ESRCH);
	EXPECT_ERR(kcmp(0, me, KCMP_VM, 0, 0), ESRCH);
	EXPECT_ERR(kcmp(me, -1, KCMP_VM, 0, 0), ESRCH);
	EXPECT_ERR(kcmp(none, me, KCMP_TYPES, 0, 0), ESRCH);
	EXPECT_ERR(kcmp(me, me, KCMP_TYPES, 0, 0), EINVAL);
	EXPECT_ERR(kcmp(me, me, -1, 0, 0), EINVAL);
	EXPECT_ERR(kcmp(me, me, 100, 0, 0), EINVAL);
	EXPECT_ERR(kcmp(me, me, KCMP_FILE, fd, 1000), EBADF);
	EXPECT_ERR(kcmp(me, me, KCMP_FILE, 1000, fd), EBADF);
	EXPECT_ERR(kcmp(me, me, KCMP_FILE, -1ul, fd), EBADF);
	EXPECT_EQ(kcmp(me, me, KCMP_VM, 1000, -1ul), 0); /* indices only for files */
	close(fd);
}

/* A caller of uid 65534 may not inspect its root parent, whichever the
 * type; itself, always. */
static void as_nobody(void) {
	pid_t parent = getppid(), me = getpid();
	if (setgid(65534) || setuid(65534)) {
		printf("setuid: FAIL %s\n", errname(errno));
		return;
	}
	EXPECT_ERR(kcmp(parent, me, KCMP_VM, 0, 0), EPERM);
	EXPECT_ERR(kcmp(me, parent, KCMP_FILES, 0, 0), EPERM);
	EXPECT_ERR(kcmp(me, parent, KCMP_TYPES, 0, 0), EPERM); /* before the type */
	EXPECT_ERR(kcmp(me, parent, KCMP_FILE, 1000, 1000), EPERM);
	EXPECT_ERR(kcmp(ukt_unused_pid(), parent, KCMP_VM, 0, 0), ESRCH);
	EXPECT_EQ(kcmp(me, me, KCMP_VM, 0, 0), 0);
}

int main(int argc, char **argv) {
	if (argc > 1) {
		for (;;)
			pause();
	}
	(void)argv;
	tasks();
	ukt_in_child("shared handlers", shared_handlers);
	ukt_in_child("unshare", unshare_sysvsem);
	order();
	epoll_tfd();
	errors();
	ukt_in_child("as uid 65534", as_nobody);
	return ukt_exit();
}
