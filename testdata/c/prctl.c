/* prctl.c: prctl(2)'s process and thread settings, compared with Linux:
 * the argument checks LTP's prctl02 makes (with CAP_SYS_ADMIN and
 * CAP_SETPCAP dropped), PR_SET/GET_THP_DISABLE with its flag and across
 * fork, keepcaps and securebits (locks, unknown bits, what setresuid
 * keeps), the ambient capability set (prctl07's steps, /proc's CapAmb,
 * kept across execve), timer slack (prctl08: values, /proc/self/
 * timerslack_ns, what a child inherits), PR_GET_TSC, timing, the
 * machine-check policy, PR_GET_TID_ADDRESS and speculation control.
 * With argument "after-exec" it prints the capability lines of
 * /proc/self/status and the keepcaps bit. */
#include "uktest.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED (1 << 1)
#endif

static void status_caps(const char *when) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "Cap", 3) && strncmp(line, "CapBnd", 6))
			printf("%s: %s", when, line);
	if (f)
		fclose(f);
}

/* setcaps sets the effective, permitted and inheritable sets to the
 * capabilities in the bit masks. */
static int setcaps(uint64_t eff, uint64_t perm, uint64_t inh) {
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {
		{(uint32_t)eff, (uint32_t)perm, (uint32_t)inh},
		{(uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32)},
	};
	return syscall(SYS_capset, &h, d);
}

static uint64_t getcaps(int which) {
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0)
		return ~0ull;
	uint32_t lo = which == 0 ? d[0].effective : which == 1 ? d[0].permitted : d[0].inheritable;
	uint32_t hi = which == 0 ? d[1].effective : which == 1 ? d[1].permitted : d[1].inheritable;
	return (uint64_t)hi << 32 | lo;
}

#define BIT(c) (1ull << (c))

static void run(const char *what, void (*fn)(void)) {
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		fn();
		fflush(stdout);
		_exit(ukt_failures ? 1 : 0);
	}
	int st;
	waitpid(p, &st, 0);
	printf("%s: exit %d\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void errors(void) {
	uint64_t all = getcaps(1);
	EXPECT_OK(setcaps(all & ~(BIT(CAP_SYS_ADMIN) | BIT(CAP_SETPCAP)), all, 0));
	uint64_t allow = 0x7fff000000000006ull; /* BPF_RET|BPF_K, SECCOMP_RET_ALLOW */
	struct sock_fprog { unsigned short len; void *filter; } prog = {1, &allow};
	EXPECT_ERR(prctl(999, 1, 0, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_SET_PDEATHSIG, ULONG_MAX, 0, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_SET_DUMPABLE, 2, 0, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_SET_NAME, 8, 0, 0, 0), EFAULT);
	EXPECT_ERR(prctl(PR_SET_SECCOMP, 2, 8, 0, 0), EFAULT);
	EXPECT_ERR(prctl(PR_SET_SECCOMP, 2, &prog, 0, 0), EACCES);
	EXPECT_ERR(prctl(PR_SET_TIMING, 1, 0, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_SET_THP_DISABLE, 0, 1, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_GET_THP_DISABLE, 1, 1, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_CAP_AMBIENT, ULONG_MAX, 0, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_GET_SPECULATION_CTRL, 0, ULONG_MAX, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_SET_SECUREBITS, 0, 0, 0, 0), EPERM);
	EXPECT_ERR(prctl(PR_CAPBSET_DROP, 1, 0, 0, 0), EPERM);
	EXPECT_ERR(prctl(PR_GET_PDEATHSIG, 0, 0, 0, 0), EFAULT);
	EXPECT_ERR(prctl(PR_GET_CHILD_SUBREAPER, 0, 0, 0, 0), EFAULT);
}

static void thp(void) {
	EXPECT_EQ(prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0), 0);
	EXPECT_ERR(prctl(PR_SET_THP_DISABLE, 1, 4, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_SET_THP_DISABLE, 1, 0, 1, 0), EINVAL);
	EXPECT_OK(prctl(PR_SET_THP_DISABLE, 1, PR_THP_DISABLE_EXCEPT_ADVISED, 0, 0));
	EXPECT_EQ(prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0), 3);
	EXPECT_OK(prctl(PR_SET_THP_DISABLE, 7, 0, 0, 0));
	EXPECT_EQ(prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0), 1);
	pid_t c = fork();
	if (c == 0) {
		printf("a child's THP disable: %d\n", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	EXPECT_OK(prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0));
	EXPECT_EQ(prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0), 0);
}

static const char *self;
static int selffd; /* the program, opened while root: a test directory may be closed to uid 65534 */

static void reexec(void) {
	char *argv[] = {(char *)self, "after-exec", NULL};
	char *envp[] = {NULL};
	syscall(SYS_execveat, selffd, "", argv, envp, AT_EMPTY_PATH);
	printf("FAIL execveat: %s\n", errname(errno));
}

static void keepcaps(void) {
	EXPECT_EQ(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 0);
	EXPECT_ERR(prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0), EINVAL);
	EXPECT_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	EXPECT_EQ(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 1);
	EXPECT_EQ(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), SECBIT_KEEP_CAPS);
	EXPECT_OK(setcaps(BIT(CAP_CHOWN) | BIT(CAP_SETUID), BIT(CAP_CHOWN) | BIT(CAP_SETUID) | BIT(CAP_KILL), 0));
	EXPECT_OK(setresuid(65534, 65534, 65534));
	printf("with keepcaps, after setresuid: effective %#llx permitted %#llx\n", (unsigned long long)getcaps(0),
	       (unsigned long long)getcaps(1));
	printf("keepcaps after setresuid: %d\n", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
	fflush(stdout);
	reexec();
}

static void no_keepcaps(void) {
	EXPECT_OK(setcaps(BIT(CAP_CHOWN) | BIT(CAP_SETUID), BIT(CAP_CHOWN) | BIT(CAP_SETUID), 0));
	EXPECT_OK(setresuid(65534, 65534, 65534));
	printf("without keepcaps, after setresuid: effective %#llx permitted %#llx\n", (unsigned long long)getcaps(0),
	       (unsigned long long)getcaps(1));
}

static void securebits(void) {
	EXPECT_EQ(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), 0);
	EXPECT_ERR(prctl(PR_SET_SECUREBITS, 1 << 20, 0, 0, 0), EPERM);
	EXPECT_OK(prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_KEEP_CAPS_LOCKED, 0, 0, 0));
	EXPECT_EQ(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), SECBIT_NOROOT | SECBIT_KEEP_CAPS_LOCKED);
	EXPECT_ERR(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), EPERM);
	/* A locked bit cannot change, a lock cannot go. */
	EXPECT_ERR(prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_KEEP_CAPS_LOCKED | SECBIT_KEEP_CAPS, 0, 0, 0), EPERM);
	EXPECT_ERR(prctl(PR_SET_SECUREBITS, SECBIT_NOROOT, 0, 0, 0), EPERM);
	EXPECT_OK(prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS_LOCKED, 0, 0, 0));
	EXPECT_EQ(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), SECBIT_KEEP_CAPS_LOCKED);
}

static void ambient(void) {
	uint64_t three = BIT(CAP_NET_RAW) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SETPCAP) | BIT(CAP_SETUID);
	EXPECT_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
	EXPECT_ERR(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 99, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 1, 1, 0), EINVAL);
	EXPECT_OK(setcaps(three, three, 0));
	EXPECT_ERR(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0), EPERM);
	EXPECT_OK(setcaps(three, three, three));
	pid_t c = fork();
	if (c == 0) {
		EXPECT_OK(setcaps(0, 0, three));
		EXPECT_ERR(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0), EPERM);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	EXPECT_OK(prctl(PR_SET_SECUREBITS, SECBIT_NO_CAP_AMBIENT_RAISE, 0, 0, 0));
	EXPECT_ERR(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0), EPERM);
	EXPECT_OK(prctl(PR_SET_SECUREBITS, 0, 0, 0, 0));
	EXPECT_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
	EXPECT_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
	status_caps("raised");
	EXPECT_EQ(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0), 1);
	EXPECT_EQ(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0), 0);
	EXPECT_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_NET_RAW, 0, 0));
	EXPECT_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_NET_BIND_SERVICE, 0, 0));
	status_caps("lowered");
	EXPECT_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0));
	/* Dropping a capability from the inheritable set drops it from
	 * the ambient set too. */
	EXPECT_OK(setcaps(three, three, BIT(CAP_SETPCAP) | BIT(CAP_SETUID)));
	EXPECT_EQ(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0), 0);
	EXPECT_OK(setcaps(three, three, three));
	/* Leaving uid 0 empties the ambient set, with keepcaps too. */
	EXPECT_OK(setcaps(three, three, three));
	EXPECT_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0));
	c = fork();
	if (c == 0) {
		EXPECT_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
		EXPECT_OK(setresuid(65534, 65534, 65534));
		printf("ambient after leaving uid 0: %d\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0));
		status_caps("keepcaps");
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	/* Unless SECBIT_NO_SETUID_FIXUP; then an execve by the program,
	 * no longer root, gives it its ambient set alone. */
	EXPECT_OK(prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0));
	EXPECT_OK(setresuid(65534, 65534, 65534));
	status_caps("no setuid fixup");
	fflush(stdout);
	reexec();
}

static void slack(void) {
	printf("timer slack: %d\n", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
	unsigned long vals[] = {1, 70000, INT_MAX};
	for (int i = 0; i < 3; i++) {
		EXPECT_OK(prctl(PR_SET_TIMERSLACK, vals[i], 0, 0, 0));
		unsigned long p = 0;
		FILE *f = fopen("/proc/self/timerslack_ns", "r");
		if (!f || fscanf(f, "%lu", &p) != 1)
			printf("FAIL timerslack_ns\n");
		if (f)
			fclose(f);
		printf("set %lu: get %d, /proc %lu\n", vals[i], prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), p);
	}
	EXPECT_OK(prctl(PR_SET_TIMERSLACK, 70000, 0, 0, 0));
	pid_t c = fork();
	if (c == 0) {
		int cur = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
		prctl(PR_SET_TIMERSLACK, 5, 0, 0, 0);
		prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0);
		printf("child: current %d, default %d\n", cur, prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	EXPECT_OK(prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0));
	printf("reset: %d\n", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
	FILE *f = fopen("/proc/self/timerslack_ns", "w");
	if (f) {
		fprintf(f, "12345\n");
		fclose(f);
	}
	printf("written through /proc: %d\n", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
}

static void misc(void) {
	int v = -5;
	EXPECT_OK(prctl(PR_GET_TSC, &v, 0, 0, 0));
	printf("PR_GET_TSC: %d\n", v);
	EXPECT_OK(prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0));
	EXPECT_ERR(prctl(PR_SET_TSC, 3, 0, 0, 0), EINVAL);
	EXPECT_EQ(prctl(PR_GET_TIMING, 0, 0, 0, 0), PR_TIMING_STATISTICAL);
	EXPECT_OK(prctl(PR_SET_TIMING, PR_TIMING_STATISTICAL, 0, 0, 0));
	EXPECT_EQ(prctl(PR_MCE_KILL_GET, 0, 0, 0, 0), PR_MCE_KILL_DEFAULT);
	EXPECT_ERR(prctl(PR_MCE_KILL_GET, 1, 0, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_MCE_KILL, PR_MCE_KILL_SET, 7, 0, 0), EINVAL);
	EXPECT_ERR(prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 1, 0, 0), EINVAL);
	EXPECT_OK(prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0));
	EXPECT_EQ(prctl(PR_MCE_KILL_GET, 0, 0, 0, 0), PR_MCE_KILL_EARLY);
	EXPECT_OK(prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0));
	EXPECT_EQ(prctl(PR_MCE_KILL_GET, 0, 0, 0, 0), PR_MCE_KILL_DEFAULT);
	static int tidword;
	syscall(SYS_set_tid_address, &tidword);
	int *addr = NULL;
	EXPECT_OK(prctl(PR_GET_TID_ADDRESS, &addr, 0, 0, 0));
	CHECK("PR_GET_TID_ADDRESS is set_tid_address's", addr == &tidword);
	for (int w = 0; w < 4; w++) {
		errno = 0;
		int r = prctl(PR_GET_SPECULATION_CTRL, w, 0, 0, 0);
		printf("speculation control %d: %d %s\n", w, r, r < 0 ? errname(errno) : "");
	}
	EXPECT_OK(prctl(PR_TASK_PERF_EVENTS_DISABLE, 0, 0, 0, 0));
	EXPECT_OK(prctl(PR_TASK_PERF_EVENTS_ENABLE, 0, 0, 0, 0));
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
		status_caps("after execve");
		printf("keepcaps after execve: %d\n", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
		return 0;
	}
	self = argv[0];
	selffd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	run("errors", errors);
	run("thp", thp);
	run("keepcaps", keepcaps);
	run("no keepcaps", no_keepcaps);
	run("securebits", securebits);
	run("ambient", ambient);
	run("timer slack", slack);
	run("misc", misc);
	return ukt_exit();
}
