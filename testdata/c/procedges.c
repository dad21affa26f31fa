/* procedges.c: process, id and timer edge cases LTP checks (setreuid05,
 * setregid02-04, setuid and setgroups with -1, waitpid with SIGCHLD
 * ignored, wait403/waitpid04, timer_settime02, timer_create and
 * clock_nanosleep on clocks that have no timers or sleeps, clone3's
 * argument checks, setpgid of a zombie child, select's time left, the
 * coarse clocks' resolution through the vDSO): the saved id
 * setreuid leaves, so that a process dropping root with setreuid(x, x)
 * cannot take it back, and the errno values Linux gives. The id checks run
 * in children, as root. */
#include "uktest.h"
#include <limits.h>
#include <signal.h>
#include <time.h>
#include <grp.h>
#include <sys/select.h>
#include <sys/utsname.h>
#include <sys/personality.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/sem.h>
#include <fcntl.h>
#include <linux/sched.h>

static void ids(const char *what) {
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	printf("%s: uid %d/%d/%d gid %d/%d/%d\n", what, (int)r, (int)e, (int)s, (int)gr, (int)ge, (int)gs);
}

static void drop_with_setreuid(void) {
	EXPECT_OK(setregid(65534, 65534));
	EXPECT_OK(setreuid(65534, 65534));
	ids("after setreuid(65534, 65534)");
	EXPECT_ERR(setuid(0), EPERM);
	EXPECT_ERR(seteuid(0), EPERM);
	EXPECT_ERR(setreuid(-1, 0), EPERM);
	EXPECT_ERR(setgid(0), EPERM);
}

static void saved_follows_effective(void) {
	/* setreuid05's walk: the saved id follows a new effective id that
	 * differs from the real one, and only then. */
	EXPECT_OK(setresuid(0, 0, 0));
	EXPECT_OK(setreuid(-1, 2));
	ids("setreuid(-1, 2) from 0/0/0");
	EXPECT_OK(setreuid(-1, 0));
	ids("setreuid(-1, 0)");
	EXPECT_OK(setreuid(-1, 2));
	EXPECT_OK(setreuid(-1, 2));
	ids("setreuid(-1, 2) twice");
}

static void real_id_rules(void) {
	/* Unprivileged, the real id may become the real or effective id,
	 * not the saved one; setting it moves the saved id too. */
	EXPECT_OK(setresuid(1, 2, 3));
	EXPECT_ERR(setreuid(3, -1), EPERM);
	EXPECT_OK(setreuid(2, -1));
	ids("setreuid(2, -1) from 1/2/3");
	EXPECT_ERR(setreuid(-1, 3), EPERM);
}

static void setuid_rules(void) {
	/* setuid unprivileged: to the real or saved id only. */
	EXPECT_OK(setresuid(1, 2, 3));
	EXPECT_ERR(setuid(2), EPERM);
	EXPECT_OK(setuid(3));
	ids("setuid(3) from 1/2/3");
	EXPECT_OK(setuid(1));
	ids("setuid(1)");
}

static void setregid_saved(void) {
	EXPECT_OK(setregid(100, 100));
	ids("setregid(100, 100)");
	EXPECT_OK(setresuid(65534, 65534, 65534));
	EXPECT_ERR(setgid(0), EPERM);
	EXPECT_ERR(setregid(-1, 0), EPERM);
}

/* The UTS names through /proc/sys, in a namespace of the child's own
 * (natively too: the host's names stay). */
static void uts_sysctl(void) {
	EXPECT_OK(unshare(CLONE_NEWUTS));
	int fd = EXPECT_OK(open("/proc/sys/kernel/hostname", O_WRONLY));
	EXPECT_EQ(write(fd, "ukhost\n", 7), 7);
	close(fd);
	fd = EXPECT_OK(open("/proc/sys/kernel/domainname", O_WRONLY));
	EXPECT_EQ(write(fd, "ukdomain", 8), 8);
	close(fd);
	struct utsname u;
	uname(&u);
	printf("after the sysctl writes: %s %s\n", u.nodename, u.domainname);
}

/* The ids the next System V objects take (checkpoint/restore's
 * /proc/sys/kernel/{msg,shm,sem}_next_id; LTP's msgget04/05, shmget05/06,
 * semget05), in an IPC namespace of the child's own. */
static void set_next_id(const char *kind, const char *v) {
	char path[64];
	snprintf(path, sizeof path, "/proc/sys/kernel/%s_next_id", kind);
	int fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, v, strlen(v)) != (ssize_t)strlen(v)) {
		printf("%s: FAIL %s\n", path, errname(errno));
		ukt_failures++;
	}
	if (fd >= 0)
		close(fd);
}
static long next_id(const char *kind) {
	char path[64], b[32] = {0};
	snprintf(path, sizeof path, "/proc/sys/kernel/%s_next_id", kind);
	int fd = open(path, O_RDONLY);
	read(fd, b, sizeof b - 1);
	close(fd);
	return atol(b);
}
static void ipc_next_ids(void) {
	EXPECT_OK(unshare(CLONE_NEWIPC));
	EXPECT_EQ(next_id("msg"), -1);
	set_next_id("msg", "12345");
	EXPECT_EQ(msgget(IPC_PRIVATE, IPC_CREAT | 0600), 12345);
	EXPECT_EQ(next_id("msg"), -1);
	set_next_id("msg", "12345");
	int second = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	CHECK("a taken id gives the next free index", second == 12346);
	set_next_id("shm", "777");
	EXPECT_EQ(shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600), 777);
	set_next_id("sem", "4242");
	EXPECT_EQ(semget(IPC_PRIVATE, 1, IPC_CREAT | 0600), 4242);
	int fd = open("/proc/sys/kernel/msg_next_id", O_WRONLY);
	EXPECT_ERR(write(fd, "-2", 2), EINVAL);
	close(fd);
}

/* syslog: the permission before the action's validity (an unknown
 * action is EPERM without privilege, EINVAL with it), and a read's buffer
 * checked before the log is looked at. */
static void syslog_checks(void) {
	char buf[16];
	EXPECT_ERR(syscall(SYS_syslog, 3, (void *)-1, 100), EFAULT);
	EXPECT_EQ(syscall(SYS_syslog, 3, buf, 0), 0);
	EXPECT_ERR(syscall(SYS_syslog, 3, NULL, 10), EINVAL);
	EXPECT_ERR(syscall(SYS_syslog, 100, buf, 10), EINVAL);
	CHECK("the log buffer has a size", syscall(SYS_syslog, 10, NULL, 0) > 0);
	EXPECT_OK(setuid(65534));
	EXPECT_ERR(syscall(SYS_syslog, 100, buf, 10), EPERM);
	EXPECT_ERR(syscall(SYS_syslog, 2, buf, 10), EPERM);
	EXPECT_ERR(syscall(SYS_syslog, 5, NULL, 0), EPERM);
}

int main(void) {
	if (geteuid() == 0) {
		ukt_in_child("syslog", syslog_checks);
		ukt_in_child("UTS names through /proc/sys", uts_sysctl);
		ukt_in_child("System V next ids", ipc_next_ids);
	}
	if (geteuid() != 0) {
		printf("not root: the id checks are left out\n");
	} else {
		EXPECT_ERR(setuid(-1), EINVAL);
		EXPECT_ERR(setgid(-1), EINVAL);
		gid_t bad[1] = {(gid_t)-1};
		EXPECT_ERR(setgroups(1, bad), EINVAL);
		ukt_in_child("drop with setreuid", drop_with_setreuid);
		ukt_in_child("saved follows effective", saved_follows_effective);
		ukt_in_child("real id rules", real_id_rules);
		ukt_in_child("setuid rules", setuid_rules);
		ukt_in_child("setregid saved", setregid_saved);
	}

	/* A blocking wait for a child that is reaped at once, SIGCHLD
	 * ignored: ECHILD when it ends, not a wait for ever. */
	signal(SIGCHLD, SIG_IGN);
	pid_t c = fork();
	if (c == 0) {
		usleep(50000);
		_exit(0);
	}
	alarm(5);
	EXPECT_ERR(waitpid(c, NULL, 0), ECHILD);
	alarm(0);
	signal(SIGCHLD, SIG_DFL);

	EXPECT_ERR(syscall(SYS_wait4, INT_MIN, NULL, 0, NULL), ESRCH);

	timer_t id;
	struct sigevent ev = {.sigev_notify = SIGEV_NONE};
	EXPECT_OK(timer_create(CLOCK_MONOTONIC, &ev, &id));
	struct itimerspec old;
	EXPECT_ERR(syscall(SYS_timer_settime, id, 0, NULL, &old), EINVAL);
	timer_delete(id);
	clockid_t noTimers[] = {CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE};
	for (int i = 0; i < 3; i++) {
		int r = syscall(SYS_timer_create, noTimers[i], &ev, &id);
		printf("timer_create(clock %d): %s\n", noTimers[i], r == 0 ? "ok" : errname(errno));
		struct timespec ts = {0, 1000};
		r = syscall(SYS_clock_nanosleep, noTimers[i], 0, &ts, NULL);
		printf("clock_nanosleep(clock %d): %s\n", noTimers[i], r == 0 ? "ok" : errname(errno));
	}

	/* clone3: CLONE_DETACHED and exit-signal bits in flags, the pidfd
	 * and parent tid at one address, a bad cgroup fd. */
	struct clone_args ca = {.flags = CLONE_DETACHED, .exit_signal = SIGCHLD};
	EXPECT_ERR(syscall(SYS_clone3, &ca, sizeof ca), EINVAL);
	ca = (struct clone_args){.flags = SIGCHLD, .exit_signal = SIGCHLD};
	EXPECT_ERR(syscall(SYS_clone3, &ca, sizeof ca), EINVAL);
	int both;
	ca = (struct clone_args){.flags = CLONE_PIDFD | CLONE_PARENT_SETTID, .pidfd = (unsigned long)&both,
		.parent_tid = (unsigned long)&both, .exit_signal = SIGCHLD};
	EXPECT_ERR(syscall(SYS_clone3, &ca, sizeof ca), EINVAL);
	ca = (struct clone_args){.flags = CLONE_INTO_CGROUP, .cgroup = 999, .exit_signal = SIGCHLD};
	EXPECT_ERR(syscall(SYS_clone3, &ca, sizeof ca), EBADF);

	/* setpgid of a child that has exited but is not reaped yet. */
	c = fork();
	if (c == 0)
		_exit(0);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	EXPECT_OK(setpgid(c, c));
	EXPECT_EQ(getpgid(c), c);
	waitpid(c, NULL, 0);

	/* select writes back the time left: none once it has run out, some
	 * when an fd was ready first. */
	struct timeval tv = {0, 20000};
	EXPECT_EQ(select(0, NULL, NULL, NULL, &tv), 0);
	printf("select's time left after the timeout: %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
	int p[2];
	pipe(p);
	write(p[1], "x", 1);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	tv = (struct timeval){5, 0};
	EXPECT_EQ(select(p[0] + 1, &rs, NULL, NULL, &tv), 1);
	CHECK("select's time left when an fd was ready: some, at most what was given",
	      (tv.tv_sec > 0 || tv.tv_usec > 0) && tv.tv_sec <= 5);

	/* UNAME26: a 2.6 release for old programs, in a child. */
	fflush(stdout);
	if (fork() == 0) {
		personality(0x0020000 /* UNAME26 */);
		struct utsname u;
		uname(&u);
		printf("UNAME26 release starts 2.6.: %d\n", !strncmp(u.release, "2.6.", 4));
		fflush(stdout);
		_exit(0);
	}
	wait(NULL);

	/* The coarse clocks resolve to a tick, not a nanosecond. */
	struct timespec res;
	EXPECT_OK(clock_getres(CLOCK_MONOTONIC_COARSE, &res));
	CHECK("CLOCK_MONOTONIC_COARSE resolves to at least a millisecond", res.tv_sec > 0 || res.tv_nsec >= 1000000);
	return ukt_exit();
}
