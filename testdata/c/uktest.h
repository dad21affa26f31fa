/*
 * uktest.h: helpers shared by the C test programs of uk's integration suite.
 *
 * Every program prints only deterministic lines (results, booleans, errno
 * names; never pids, addresses or times), so the suite can require that the
 * output under uk is byte-identical to the output on native Linux. A check
 * that does not hold prints "FAIL", which the suite also rejects natively, so
 * a program that is wrong about Linux is caught on the host before it is used
 * to judge uk.
 */
#ifndef UKTEST_H
#define UKTEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static __attribute__((unused)) int ukt_failures;

/* Line buffering makes the order of printf lines and raw write(2)s on stdout
 * the same whether stdout is a pipe or a terminal, and flushes each line
 * before a deliberate crash. */
__attribute__((constructor)) static void ukt_init(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* errname returns the symbolic name of an errno value; our own table keeps the
 * programs independent of strerrorname_np (glibc >= 2.32). */
static __attribute__((unused)) const char *errname(int e) {
	static char buf[32];
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case ENOEXEC: return "ENOEXEC";
	case EBADF: return "EBADF";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EXDEV: return "EXDEV";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case EROFS: return "EROFS";
	case EPIPE: return "EPIPE";
	case ERANGE: return "ERANGE";
	case ENODATA: return "ENODATA";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOSYS: return "ENOSYS";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ELOOP: return "ELOOP";
	case EOVERFLOW: return "EOVERFLOW";
	case ESTALE: return "ESTALE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENETUNREACH: return "ENETUNREACH";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECANCELED: return "ECANCELED";
	case ENOBUFS: return "ENOBUFS";
	case EMSGSIZE: return "EMSGSIZE";
	case EIDRM: return "EIDRM";
	case EBADFD: return "EBADFD";
	case ENOMSG: return "ENOMSG";
	case ENOKEY: return "ENOKEY";
	case EKEYREVOKED: return "EKEYREVOKED";
	case EKEYEXPIRED: return "EKEYEXPIRED";
	case EKEYREJECTED: return "EKEYREJECTED";
	case EDQUOT: return "EDQUOT";
	case EDEADLK: return "EDEADLK";
	default:
		snprintf(buf, sizeof buf, "errno%d", e);
		return buf;
	}
}

static __attribute__((unused)) void ukt_check(const char *what, int ok, int line) {
	if (ok) {
		printf("%s: ok\n", what);
	} else {
		printf("%s: FAIL (line %d)\n", what, line);
		ukt_failures++;
	}
}

/* CHECK prints "what: ok" when cond holds, else "what: FAIL". */
#define CHECK(what, cond) ukt_check((what), !!(cond), __LINE__)

static __attribute__((unused)) void ukt_ok(const char *expr, long r, int e, int line) {
	if (r != -1) {
		printf("%s: ok\n", expr);
	} else {
		printf("%s: FAIL -1 %s (line %d)\n", expr, errname(e), line);
		ukt_failures++;
	}
}

static __attribute__((unused)) void ukt_err(const char *expr, long r, int e, int want, int line) {
	if (r == -1 && e == want) {
		printf("%s: -1 %s\n", expr, errname(e));
		return;
	}
	if (r == -1)
		printf("%s: -1 %s FAIL (want -1 %s, line %d)\n", expr, errname(e), errname(want), line);
	else
		printf("%s: %ld FAIL (want -1 %s, line %d)\n", expr, r, errname(want), line);
	ukt_failures++;
}

static __attribute__((unused)) void ukt_eq(const char *expr, const char *wants, long r, long want, int e, int line) {
	if (r == want) {
		printf("%s == %s: ok\n", expr, wants);
		return;
	}
	if (r == -1)
		printf("%s == %s: FAIL (got -1 %s, line %d)\n", expr, wants, errname(e), line);
	else
		printf("%s == %s: FAIL (got %ld, line %d)\n", expr, wants, r, line);
	ukt_failures++;
}

/* EXPECT_OK evaluates a call that returns -1 and sets errno on failure,
 * prints whether it succeeded, and yields its result. */
#define EXPECT_OK(expr) ({ errno = 0; long ukt_r = (long)(expr); int ukt_e = errno; \
	ukt_ok(#expr, ukt_r, ukt_e, __LINE__); ukt_r; })

/* EXPECT_ERR requires a call to fail with errno E and prints the error name. */
#define EXPECT_ERR(expr, E) ({ errno = 0; long ukt_r = (long)(expr); int ukt_e = errno; \
	ukt_err(#expr, ukt_r, ukt_e, (E), __LINE__); ukt_r; })

/* EXPECT_EQ requires a call to return exactly want (a deterministic value). */
#define EXPECT_EQ(expr, want) ({ errno = 0; long ukt_r = (long)(expr); int ukt_e = errno; \
	ukt_eq(#expr, #want, ukt_r, (long)(want), ukt_e, __LINE__); ukt_r; })

/* ukt_unused_pid is a pid no process has, as LTP's tst_get_unused_pid
 * finds one: /proc/sys/kernel/pid_max itself. */
static __attribute__((unused)) int ukt_unused_pid(void) {
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	int n = -1;
	if (!f || fscanf(f, "%d", &n) != 1)
		printf("pid_max: FAIL\n");
	if (f)
		fclose(f);
	return n;
}

/* ukt_lines counts the lines of a file (-1 if it cannot be opened). */
static __attribute__((unused)) int ukt_lines(const char *path) {
	FILE *f = fopen(path, "r");
	int n = 0, c;
	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* ukt_in_child runs fn in a child (whose failed checks make it exit 1)
 * and prints how the child exited. */
static __attribute__((unused)) void ukt_in_child(const char *what, void (*fn)(void)) {
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		fn();
		fflush(stdout);
		_exit(ukt_failures ? 1 : 0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("%s: child exited %d\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* ukt_exit is what main returns: 0 when every check held. */
static __attribute__((unused)) int ukt_exit(void) {
	return ukt_failures ? 1 : 0;
}

/* Raw system calls that bypass glibc entirely: they return -errno and touch
 * neither errno nor TLS, which matters while the FS base is being changed. */
static inline __attribute__((unused)) long raw_syscall1(long n, long a) {
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory");
	return r;
}

static inline __attribute__((unused)) long raw_syscall2(long n, long a, long b) {
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return r;
}

static inline __attribute__((unused)) long raw_syscall4(long n, long a, long b, long c, long d) {
	long r;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return r;
}

/* rawerr formats a raw syscall result: the value, or "-ENAME". */
static __attribute__((unused)) const char *rawerr(long r) {
	static char buf[48];
	if (r < 0 && r > -4096)
		snprintf(buf, sizeof buf, "-%s", errname((int)-r));
	else
		snprintf(buf, sizeof buf, "%ld", r);
	return buf;
}

/* EXPECT_RAW requires a raw syscall result (value or -errno) to equal want. */
#define EXPECT_RAW(expr, want) ({ long ukt_r = (long)(expr); long ukt_w = (long)(want); \
	if (ukt_r == ukt_w) printf("%s == %s: ok\n", #expr, #want); \
	else { printf("%s == %s: FAIL (got %s, line %d)\n", #expr, #want, rawerr(ukt_r), __LINE__); ukt_failures++; } \
	ukt_r; })

#endif
