/* timens.c: time namespaces compared with Linux (LTP's clock_gettime03,
 * clock_nanosleep03, sysinfo03 and timerfd04): unshare(CLONE_NEWTIME) makes
 * a namespace for the caller's children whose CLOCK_MONOTONIC and
 * CLOCK_BOOTTIME offsets /proc/self/timens_offsets sets until a process
 * enters it; the clocks (through the vDSO and the syscall), absolute sleeps
 * and timers, sysinfo and /proc/uptime follow the offsets; setns through
 * /proc/PID/ns/time goes back. Offsets are printed only as whole seconds
 * of difference, never times. */
#include "uktest.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/timerfd.h>
#include <time.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

static long long now_ns(clockid_t c) {
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long sys_now_ns(clockid_t c) {
	struct timespec ts;
	syscall(SYS_clock_gettime, c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* secs rounds a difference in ns to whole seconds. */
static long secs(long long d) { return (long)((d + (d < 0 ? -500000000LL : 500000000LL)) / 1000000000LL); }

static int write_offsets(const char *s) {
	int fd = open("/proc/self/timens_offsets", O_WRONLY);
	if (fd < 0) return -1;
	int r = write(fd, s, strlen(s));
	int e = errno;
	close(fd);
	errno = e;
	return r < 0 ? -1 : 0;
}

static void show_offsets(const char *what) {
	char buf[256] = {0};
	int fd = open("/proc/self/timens_offsets", O_RDONLY);
	int n = read(fd, buf, sizeof buf - 1);
	close(fd);
	printf("%s: %d bytes\n%s", what, n, buf);
}

static void *thread_fn(void *a) { return a; }

/* child_clocks runs in a child after the parent set offsets: it prints the
 * differences from the parent's readings, then goes back to the parent's
 * namespace with setns and prints them again. */
static void child_clocks(long long pmono, long long pboot, int parent_ns) {
	printf("child mono +%ld boot +%ld (vdso)\n", secs(now_ns(CLOCK_MONOTONIC) - pmono), secs(now_ns(CLOCK_BOOTTIME) - pboot));
	printf("child mono +%ld boot +%ld raw +%ld coarse +%ld (syscall)\n", secs(sys_now_ns(CLOCK_MONOTONIC) - pmono),
	       secs(sys_now_ns(CLOCK_BOOTTIME) - pboot), secs(sys_now_ns(CLOCK_MONOTONIC_RAW) - pmono),
	       secs(sys_now_ns(CLOCK_MONOTONIC_COARSE) - pmono));
	char a[64] = {0}, b[64] = {0};
	readlink("/proc/self/ns/time", a, sizeof a - 1);
	readlink("/proc/self/ns/time_for_children", b, sizeof b - 1);
	printf("child time ns same as for_children: %d\n", strcmp(a, b) == 0);
	EXPECT_ERR(write_offsets("monotonic 1 0\n"), EACCES);
	/* an absolute sleep and timer on the namespace's clock */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += 50000000;
	if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
	long long t0 = now_ns(CLOCK_MONOTONIC);
	EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL), 0);
	long long slept = now_ns(CLOCK_MONOTONIC) - t0;
	printf("absolute sleep of 50 ms within 1 s: %d\n", slept >= 40000000 && slept < 1000000000);
	int tf = timerfd_create(CLOCK_BOOTTIME, 0);
	struct itimerspec its = {0};
	clock_gettime(CLOCK_BOOTTIME, &its.it_value);
	its.it_value.tv_nsec += 50000000;
	if (its.it_value.tv_nsec >= 1000000000) { its.it_value.tv_sec++; its.it_value.tv_nsec -= 1000000000; }
	t0 = now_ns(CLOCK_MONOTONIC);
	EXPECT_OK(timerfd_settime(tf, TFD_TIMER_ABSTIME, &its, NULL));
	uint64_t exp = 0;
	EXPECT_EQ(read(tf, &exp, 8), 8);
	slept = now_ns(CLOCK_MONOTONIC) - t0;
	printf("timerfd expirations %lu, within 1 s: %d\n", (unsigned long)exp, slept < 1000000000);
	struct sysinfo si;
	sysinfo(&si);
	double up = 0;
	FILE *f = fopen("/proc/uptime", "r");
	fscanf(f, "%lf", &up);
	fclose(f);
	printf("sysinfo uptime agrees with /proc/uptime: %d\n", si.uptime >= (long)up - 1 && si.uptime <= (long)up + 1);
	/* whole seconds, rounded up, against the parent's truncated ones, a
	 * fraction of a second later */
	long up_off = (long)si.uptime - (long)(pboot / 1000000000LL);
	printf("uptime 3600 s over the parent's boottime: %d\n", up_off >= 3600 && up_off <= 3602);
	/* threads cannot be made in a namespace other than the children's */
	pthread_t th;
	printf("pthread_create: %s\n", errname(pthread_create(&th, NULL, thread_fn, NULL)));
	if (pthread_join(th, NULL) == 0) printf("joined\n");
	EXPECT_OK(setns(parent_ns, CLONE_NEWTIME));
	printf("after setns mono +%ld boot +%ld (vdso)\n", secs(now_ns(CLOCK_MONOTONIC) - pmono), secs(now_ns(CLOCK_BOOTTIME) - pboot));
	printf("after setns mono +%ld (syscall)\n", secs(sys_now_ns(CLOCK_MONOTONIC) - pmono));
}

int main(int argc, char **argv) {
	if (argc == 2 && strcmp(argv[1], "probe") == 0) {
		/* the test suite asks whether native Linux has time namespaces */
		if (unshare(CLONE_NEWTIME) != 0) {
			printf("unshare(CLONE_NEWTIME): %s\n", errname(errno));
			return 1;
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "exec") == 0) {
		/* run by execve after unshare: this program is in the namespace */
		long long before = atoll(argv[2]);
		printf("after execve mono +%ld (vdso) +%ld (syscall)\n", secs(now_ns(CLOCK_MONOTONIC) - before),
		       secs(sys_now_ns(CLOCK_MONOTONIC) - before));
		return 0;
	}
	int parent_ns = open("/proc/self/ns/time_for_children", O_RDONLY);
	EXPECT_OK(parent_ns < 0 ? -1 : 0);
	struct stat st, st2;
	EXPECT_OK(fstat(parent_ns, &st));
	EXPECT_OK(stat("/proc/self/ns/time", &st2));
	printf("ns file: regular %d mode %o same as ns/time %d\n", S_ISREG(st.st_mode), st.st_mode & 07777, st.st_ino == st2.st_ino);
	EXPECT_OK(lstat("/proc/self/ns/time", &st2));
	printf("ns/time is a link: %d\n", S_ISLNK(st2.st_mode));
	char root[64] = {0};
	readlink("/proc/self/ns/time", root, sizeof root - 1);
	printf("root ns name starts time:[ %d\n", strncmp(root, "time:[", 6) == 0);
	show_offsets("root offsets");
	EXPECT_ERR(write_offsets("monotonic 1 0\n"), EACCES);
	/* setns argument checks */
	EXPECT_ERR(setns(parent_ns, CLONE_NEWNS), EINVAL);
	EXPECT_ERR(setns(1, CLONE_NEWTIME), EINVAL);
	EXPECT_ERR(setns(99, CLONE_NEWTIME), EBADF);
	EXPECT_OK(setns(parent_ns, 0));
	EXPECT_OK(setns(parent_ns, CLONE_NEWTIME));
	/* unshare needs CAP_SYS_ADMIN */
	pid_t c = fork();
	if (c == 0) {
		setuid(65534);
		EXPECT_ERR(unshare(CLONE_NEWTIME), EPERM);
		EXPECT_ERR(setns(parent_ns, CLONE_NEWTIME), EPERM);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);

	EXPECT_OK(unshare(CLONE_NEWTIME));
	char self[64] = {0}, kids[64] = {0};
	readlink("/proc/self/ns/time", self, sizeof self - 1);
	readlink("/proc/self/ns/time_for_children", kids, sizeof kids - 1);
	printf("after unshare: self unchanged %d, children's new %d\n", strcmp(self, root) == 0, strcmp(kids, root) != 0);
	show_offsets("new offsets");
	/* offsets: parsing and range */
	EXPECT_ERR(write_offsets("realtime 1 0\n"), EINVAL);
	EXPECT_ERR(write_offsets("monotonic 1\n"), EINVAL);
	EXPECT_ERR(write_offsets("monotonic 1 1000000000\n"), EINVAL);
	EXPECT_ERR(write_offsets("monotonic -100000000000 0\n"), ERANGE);
	EXPECT_ERR(write_offsets("boottime 9223372036854775807 0\n"), ERANGE);
	EXPECT_ERR(write_offsets("3 1 0\n"), EINVAL);
	EXPECT_OK(write_offsets("monotonic 5 0\n"));
	EXPECT_OK(write_offsets("1 10 0\n7 3600 5\n"));
	show_offsets("set offsets");
	EXPECT_OK(write_offsets("monotonic 10 0\nboottime 3600 0"));
	/* the caller itself is not in the new namespace */
	long long pmono = now_ns(CLOCK_MONOTONIC), pboot = now_ns(CLOCK_BOOTTIME);
	printf("caller mono +%ld (syscall)\n", secs(sys_now_ns(CLOCK_MONOTONIC) - pmono));
	pthread_t th;
	printf("caller pthread_create: %s\n", errname(pthread_create(&th, NULL, thread_fn, NULL)));
	pthread_join(th, NULL);
	c = fork();
	if (c == 0) {
		child_clocks(pmono, pboot, parent_ns);
		fflush(stdout);
		_exit(0);
	}
	int status;
	waitpid(c, &status, 0);
	printf("child status %x\n", status);
	/* the namespace is frozen now that a process entered it */
	EXPECT_ERR(write_offsets("monotonic 1 0\n"), EACCES);
	show_offsets("frozen offsets");
	/* vfork shares the caller's memory: it cannot change namespace */
	c = vfork();
	if (c == 0) _exit(0);
	if (c < 0) printf("vfork: %s\n", errname(errno));
	else { waitpid(c, &status, 0); printf("vfork child ran\n"); }
	/* execve enters the namespace for children */
	c = fork();
	if (c == 0) {
		EXPECT_OK(unshare(CLONE_NEWTIME));
		EXPECT_OK(write_offsets("monotonic 100 0\n"));
		char arg[32];
		snprintf(arg, sizeof arg, "%lld", now_ns(CLOCK_MONOTONIC));
		fflush(stdout);
		execl("/proc/self/exe", "timens", "exec", arg, (char *)NULL);
		printf("execl: %s\n", errname(errno));
		_exit(1);
	}
	waitpid(c, &status, 0);
	printf("exec child status %x\n", status);
	/* clone3 with CLONE_NEWTIME: the child is in a new namespace with the
	 * offsets of the one for children */
	struct clone_args {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} ca = {.flags = CLONE_NEWTIME, .exit_signal = SIGCHLD};
	long long before = now_ns(CLOCK_MONOTONIC);
	c = syscall(SYS_clone3, &ca, sizeof ca);
	if (c == 0) {
		char mine[64] = {0};
		readlink("/proc/self/ns/time", mine, sizeof mine - 1);
		printf("clone3 child: own namespace %d, mono +%ld (syscall)\n", strcmp(mine, kids) != 0 && strcmp(mine, root) != 0,
		       secs(sys_now_ns(CLOCK_MONOTONIC) - before));
		show_offsets("clone3 child's children");
		fflush(stdout);
		_exit(0);
	}
	if (c < 0) printf("clone3: %s\n", errname(errno));
	waitpid(c, &status, 0);
	/* a second unshare starts from the current offsets */
	EXPECT_OK(unshare(CLONE_NEWTIME));
	show_offsets("second namespace");
	/* exec enters the children's namespace: sh reads its own clock */
	EXPECT_OK(setns(parent_ns, CLONE_NEWTIME));
	readlink("/proc/self/ns/time_for_children", kids, sizeof kids - 1);
	printf("setns resets the children's: %d\n", strcmp(kids, root) == 0);
	return ukt_exit();
}
