/*
 * uts.c: sethostname and setdomainname (LTP's sethostname01-03 and
 * setdomainname01-03: what uname, gethostname and /proc/sys/kernel show
 * after them, EPERM without privilege before EINVAL for a length outside
 * 0..64 before EFAULT), personality (a query, a change read back and
 * inherited by fork) and mlock2's flags, and UTS namespaces: names set
 * in a new one are its own, setns enters another's. It first moves into a
 * UTS namespace of its own, so that natively the machine's names are not
 * touched.
 */
#include "uktest.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

static void proc_line(const char *path) {
	char buf[128] = {0};
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof buf, f))
		printf("%s: FAIL\n", path);
	else
		printf("%s: %s", path, buf);
	if (f)
		fclose(f);
}

static void names(void) {
	struct utsname u;
	EXPECT_OK(sethostname("uk-test-host", 12));
	EXPECT_OK(setdomainname("uk.example", 10));
	EXPECT_OK(uname(&u));
	printf("uname: %s %s\n", u.nodename, u.domainname);
	char h[65];
	EXPECT_OK(gethostname(h, sizeof h));
	printf("gethostname: %s\n", h);
	proc_line("/proc/sys/kernel/hostname");
	proc_line("/proc/sys/kernel/domainname");

	/* 64 bytes, the most; a NUL inside ends what uname shows. */
	char long64[64];
	memset(long64, 'x', 64);
	EXPECT_OK(sethostname(long64, 64));
	EXPECT_OK(uname(&u));
	printf("64-byte name: %zu bytes\n", strlen(u.nodename));
	EXPECT_OK(sethostname("ab\0cd", 5));
	EXPECT_OK(uname(&u));
	printf("with a NUL: %s\n", u.nodename);
	EXPECT_OK(sethostname("", 0));
	EXPECT_OK(uname(&u));
	printf("empty: [%s]\n", u.nodename);

	EXPECT_ERR(syscall(SYS_sethostname, long64, 65), EINVAL);
	EXPECT_ERR(syscall(SYS_sethostname, long64, -1), EINVAL);
	EXPECT_ERR(syscall(SYS_sethostname, (char *)-1, 4), EFAULT);
	EXPECT_ERR(syscall(SYS_setdomainname, long64, 65), EINVAL);
	EXPECT_ERR(syscall(SYS_setdomainname, (char *)-1, 4), EFAULT);
	EXPECT_OK(sethostname("uk-test-host", 12));

	pid_t c = fork();
	if (c == 0) {
		if (setuid(65534) != 0)
			_exit(2);
		EXPECT_ERR(sethostname("evil", 4), EPERM);
		EXPECT_ERR(syscall(SYS_sethostname, long64, 65), EPERM);
		EXPECT_ERR(setdomainname("evil", 4), EPERM);
		fflush(stdout);
		_exit(ukt_failures ? 1 : 0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("unprivileged child: %d\n", WEXITSTATUS(st));
	EXPECT_OK(uname(&u));
	printf("still: %s\n", u.nodename);
}

static void persona(void) {
	EXPECT_EQ(personality(0xffffffff), PER_LINUX);
	EXPECT_EQ(personality(PER_LINUX | ADDR_NO_RANDOMIZE), PER_LINUX);
	EXPECT_EQ(personality(0xffffffff), PER_LINUX | ADDR_NO_RANDOMIZE);
	char buf[32] = "";
	int fd = open("/proc/self/personality", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	printf("/proc/self/personality: %s", n > 0 ? buf : "unreadable\n");
	if (fd >= 0)
		close(fd);
	pid_t c = fork();
	if (c == 0)
		_exit(personality(0xffffffff) == (PER_LINUX | ADDR_NO_RANDOMIZE) ? 0 : 1);
	int st;
	waitpid(c, &st, 0);
	printf("child inherits the personality: %d\n", WEXITSTATUS(st));
	EXPECT_EQ(personality(PER_LINUX), PER_LINUX | ADDR_NO_RANDOMIZE);
}

static void mlock2s(void) {
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_OK(syscall(SYS_mlock2, p, 8192, 0));
	EXPECT_OK(syscall(SYS_mlock2, p, 8192, MLOCK_ONFAULT));
	EXPECT_ERR(syscall(SYS_mlock2, p, 8192, 2), EINVAL);
	EXPECT_ERR(syscall(SYS_mlock2, p, 8192, -1), EINVAL);
	EXPECT_OK(munlock(p, 8192));
	munmap(p, 8192);
}

static void show(const char *who) {
	struct utsname u;
	uname(&u);
	printf("%s: %s %s\n", who, u.nodename, u.domainname);
}

static void namespaces(void) {
	char mine[64], other[64];
	EXPECT_OK(sethostname("first", 5));
	ssize_t n = readlink("/proc/self/ns/uts", mine, sizeof mine - 1);
	mine[n < 0 ? 0 : n] = 0;
	int p[2], q[2];
	EXPECT_OK(pipe(p));
	EXPECT_OK(pipe(q));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		char x;
		EXPECT_OK(unshare(CLONE_NEWUTS));
		show("child after unshare");
		EXPECT_OK(sethostname("second", 6));
		EXPECT_OK(setdomainname("two", 3));
		show("child");
		fflush(stdout);
		if (write(p[1], "x", 1) != 1 || read(q[0], &x, 1) != 1)
			_exit(1);
		_exit(0);
	}
	char x;
	CHECK("the child is ready", read(p[0], &x, 1) == 1);
	show("parent");
	snprintf(other, sizeof other, "/proc/%d/ns/uts", c);
	char link[64];
	n = readlink(other, link, sizeof link - 1);
	link[n < 0 ? 0 : n] = 0;
	CHECK("the child's namespace has another link", strncmp(link, "uts:[", 5) == 0 && strcmp(link, mine) != 0);
	int fd = EXPECT_OK(open(other, O_RDONLY));
	fflush(stdout);
	pid_t d = fork();
	if (d == 0) {
		EXPECT_ERR(setns(fd, CLONE_NEWNS), EINVAL);
		EXPECT_OK(setns(fd, CLONE_NEWUTS));
		show("after setns");
		EXPECT_OK(sethostname("third", 5));
		fflush(stdout);
		_exit(ukt_failures != 0);
	}
	int st;
	waitpid(d, &st, 0);
	CHECK("the setns child exited 0", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (write(q[1], "x", 1) != 1)
		printf("write: FAIL\n");
	waitpid(c, &st, 0);
	show("parent at the end");
	/* Without privilege: EPERM. */
	fflush(stdout);
	if (fork() == 0) {
		EXPECT_OK(setresuid(1000, 1000, 1000));
		EXPECT_ERR(unshare(CLONE_NEWUTS), EPERM);
		EXPECT_ERR(setns(fd, CLONE_NEWUTS), EPERM);
		fflush(stdout);
		_exit(0);
	}
	wait(&st);
	close(fd);
}

int main(void) {
	if (unshare(CLONE_NEWUTS) != 0) {
		printf("unshare(CLONE_NEWUTS): FAIL %s (the machine's names are left alone)\n", errname(errno));
		return 1;
	}
	names();
	namespaces();
	persona();
	mlock2s();
	return ukt_exit();
}
