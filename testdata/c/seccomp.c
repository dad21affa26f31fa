/* seccomp.c: a program's own system call filters (seccomp(2) and
 * prctl(PR_SET_SECCOMP)), compared with Linux: strict mode, filters that
 * answer with an errno (capped at 4095), SIGSYS (SECCOMP_RET_TRAP, with
 * its siginfo), a killed thread or process, precedence between filters,
 * argument and arch checks, inheritance by fork and execve, TSYNC,
 * /proc/self/status, and the checks of bad programs and arguments (in the
 * order Linux makes them). Each case runs in a child of its own.
 * With argument "after-exec" it reports what a filter set before execve
 * does to getppid. */
#include "uktest.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <ucontext.h>

#define NR offsetof(struct seccomp_data, nr)
#define ARCH offsetof(struct seccomp_data, arch)
#define ARG0 offsetof(struct seccomp_data, args[0])

static int install(int flags, struct sock_filter *f, unsigned short n) {
	struct sock_fprog p = {.len = n, .filter = f};
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p);
}

/* deny returns a filter: nr answers ret, everything else is allowed. */
#define DENY(nr, ret)                                                   \
	struct sock_filter prog_##nr[] = {                                  \
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR),                        \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),               \
		BPF_STMT(BPF_RET | BPF_K, (ret)),                              \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),                  \
	}

static void status(const char *what, int st) {
	if (WIFSIGNALED(st))
		printf("%s: killed by signal %d%s\n", what, WTERMSIG(st), WCOREDUMP(st) ? " (core)" : "");
	else
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
}

/* child runs fn in a child process with no core dumps and prints how it
 * ended. */
static void child(const char *what, void (*fn)(void)) {
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		struct rlimit r = {0, 0};
		setrlimit(RLIMIT_CORE, &r);
		fn();
		fflush(stdout);
		_exit(ukt_failures ? 1 : 0);
	}
	int st;
	waitpid(p, &st, 0);
	status(what, st);
}

static void errors(void) {
	EXPECT_ERR(syscall(SYS_seccomp, 99, 0, NULL), EINVAL);
	EXPECT_ERR(syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 1, NULL), EINVAL);
	EXPECT_ERR(syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, (void *)8), EINVAL);
	EXPECT_ERR(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, NULL), EFAULT);
	EXPECT_ERR(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0x1000, NULL), EINVAL);
	uint32_t acts[] = {SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, SECCOMP_RET_ERRNO,
			   SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW};
	for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
		EXPECT_EQ(syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &acts[i]), 0);
	uint32_t bad = 0x12340000;
	EXPECT_ERR(syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &bad), EOPNOTSUPP);
	EXPECT_ERR(syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 1, &bad), EINVAL);
	EXPECT_ERR(syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, (void *)8), EFAULT);
	EXPECT_ERR(prctl(PR_SET_SECCOMP, 7, 0, 0, 0), EINVAL);
	EXPECT_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);

	/* Programs Linux refuses (EINVAL), and the pointers (EFAULT). */
	struct sock_filter ok[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	struct sock_filter big[4097];
	for (int i = 0; i < 4097; i++)
		big[i] = ok[0];
	EXPECT_ERR(install(0, ok, 0), EINVAL);
	EXPECT_ERR(install(0, big, 4097), EINVAL);
	EXPECT_ERR(install(0, NULL, 1), EINVAL);
	EXPECT_ERR(install(0, (void *)8, 1), EFAULT);
	struct { const char *what; struct sock_filter f[6]; unsigned short n; } progs[] = {
		{"no return at the end", {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR)}, 1},
		{"jump past the end", {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), BPF_STMT(BPF_RET | BPF_K, 0)}, 2},
		{"ja past the end", {BPF_STMT(BPF_JMP | BPF_JA, 1), BPF_STMT(BPF_RET | BPF_K, 0)}, 2},
		{"load past seccomp_data", {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
		{"unaligned load", {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
		{"byte load", {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
		{"indirect load", {BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
		{"modulo", {BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
		{"division by zero", {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
		{"shift by 32", {BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
		{"scratch read before a store", {BPF_STMT(BPF_LD | BPF_MEM, 3), BPF_STMT(BPF_RET | BPF_A, 0)}, 2},
		{"scratch word 16", {BPF_STMT(BPF_ST, 16), BPF_STMT(BPF_RET | BPF_K, 0)}, 2},
		{"return X", {BPF_STMT(BPF_RET | BPF_X, 0)}, 1},
		{"unknown opcode", {{0xff, 0, 0, 0}, BPF_STMT(BPF_RET | BPF_K, 0)}, 2},
		/* Stored on the only path to the load, but Linux also carries
		 * into it what reached the return before it. */
		{"scratch read after a return", {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2), BPF_STMT(BPF_ST, 0),
			BPF_STMT(BPF_JMP | BPF_JA, 1), BPF_STMT(BPF_RET | BPF_K, 0), BPF_STMT(BPF_LD | BPF_MEM, 0),
			BPF_STMT(BPF_RET | BPF_A, 0)}, 6},
		{"scratch read after a store on every path", {BPF_STMT(BPF_ST, 0), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), BPF_STMT(BPF_LD | BPF_MEM, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)}, 5},
	};
	for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
		errno = 0;
		int r = install(0, progs[i].f, progs[i].n);
		printf("filter with %s: %d %s\n", progs[i].what, r, errname(errno));
	}
	EXPECT_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 2); /* the one that was valid */
}

static void unprivileged(void) {
	if (setuid(65534) != 0) {
		printf("FAIL setuid\n");
		return;
	}
	struct sock_filter ok[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	EXPECT_ERR(install(0, ok, 1), EACCES);
	EXPECT_ERR(install(0, ok, 0), EINVAL); /* the length comes first */
	EXPECT_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	pid_t c = fork();
	if (c == 0) {
		printf("no_new_privs in a forked child: %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	EXPECT_EQ(install(0, ok, 1), 0);
	EXPECT_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 2);
}

static void errnos(void) {
	DENY(SYS_getppid, SECCOMP_RET_ERRNO | EPERM);
	EXPECT_EQ(install(0, prog_SYS_getppid, 4), 0);
	EXPECT_ERR(syscall(SYS_getppid), EPERM);
	DENY(SYS_umask, SECCOMP_RET_ERRNO | 0);
	EXPECT_EQ(install(0, prog_SYS_umask, 4), 0);
	EXPECT_EQ(umask(077), 0); /* "succeeds" without running: */
	EXPECT_EQ(umask(0), 0);   /* the mask is not 077 */
	DENY(SYS_dup, SECCOMP_RET_ERRNO | 5000);
	EXPECT_EQ(install(0, prog_SYS_dup, 4), 0);
	errno = 0;
	long r = syscall(SYS_dup, 1);
	printf("dup with errno 5000: %ld %d\n", r, errno);
	/* The most recent filter is asked first and wins a tie; a more
	 * severe action wins over a later one. */
	DENY(SYS_getuid, SECCOMP_RET_ERRNO | 11);
	EXPECT_EQ(install(0, prog_SYS_getuid, 4), 0);
	struct sock_filter again[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 22),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	EXPECT_EQ(install(0, again, 4), 0);
	errno = 0;
	r = syscall(SYS_getuid);
	printf("two errno filters: %ld %s\n", r, errname(errno));
	/* Arguments, the arch and the data length. */
	struct sock_filter args[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARCH),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close, 0, 10),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0 + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 8),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0),
		BPF_STMT(BPF_ST, 2),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1000, 0, 5),
		BPF_STMT(BPF_LDX | BPF_MEM, 2),
		BPF_STMT(BPF_MISC | BPF_TXA, 0),
		BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, 1000 - 7),
		BPF_STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
		BPF_STMT(BPF_RET | BPF_A, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	EXPECT_EQ(install(0, args, sizeof args / sizeof args[0]), 0);
	EXPECT_ERR(syscall(SYS_close, 0x1000003e8L), E2BIG); /* errno 1000 - 993 = 7 */
	EXPECT_ERR(syscall(SYS_close, 1000), EBADF);          /* the high word differs */
	EXPECT_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 2);
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "Seccomp", 7) || !strncmp(line, "NoNewPrivs", 10))
			printf("status: %s", line);
	if (f)
		fclose(f);
}

static volatile sig_atomic_t trapped;

static void on_sigsys(int sig, siginfo_t *si, void *uc) {
	ucontext_t *u = uc;
	printf("SIGSYS: signo %d code %d errno %#x syscall %d arch %#x addr %s rax %lld\n", sig, si->si_code, si->si_errno,
	       si->si_syscall, si->si_arch, si->si_call_addr ? "set" : "0", (long long)u->uc_mcontext.gregs[REG_RAX]);
	trapped = 1;
}

static void traps(void) {
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
	sigaction(SIGSYS, &sa, NULL);
	DENY(SYS_getppid, SECCOMP_RET_TRAP | 0x42);
	EXPECT_EQ(install(0, prog_SYS_getppid, 4), 0);
	long r = syscall(SYS_getppid);
	printf("after the trap: %d, returned the number: %d\n", trapped, r == SYS_getppid);
	DENY(SYS_getpgrp, SECCOMP_RET_TRACE | 3);
	EXPECT_EQ(install(0, prog_SYS_getpgrp, 4), 0);
	EXPECT_ERR(syscall(SYS_getpgrp), ENOSYS); /* no tracer */
	/* getpid, not getsid: a session begun outside our PID namespace
	 * has id 0 (as under a CI runner), which would pass for a refusal. */
	DENY(SYS_getpid, SECCOMP_RET_LOG);
	EXPECT_EQ(install(0, prog_SYS_getpid, 4), 0);
	CHECK("a logged call runs", syscall(SYS_getpid) > 0);
	/* Blocked, SIGSYS kills. */
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGSYS);
	sigprocmask(SIG_BLOCK, &s, NULL);
	syscall(SYS_getppid);
	printf("FAIL still alive\n");
}

static void kill_thread(void) {
	DENY(SYS_getppid, SECCOMP_RET_KILL_THREAD);
	EXPECT_EQ(install(0, prog_SYS_getppid, 4), 0);
	syscall(SYS_getppid);
	printf("FAIL still alive\n");
}

static void kill_process_unknown_action(void) {
	DENY(SYS_getppid, 0x00ab0000); /* unknown: as KILL_PROCESS */
	EXPECT_EQ(install(0, prog_SYS_getppid, 4), 0);
	syscall(SYS_getppid);
	printf("FAIL still alive\n");
}

static void *call_getppid(void *arg) {
	(void)arg;
	syscall(SYS_getppid);
	return (void *)1;
}

static void *sleeper(void *arg) {
	(void)arg;
	pause();
	return NULL;
}

static void thread_kills(void) {
	/* KILL_THREAD from a second thread ends that thread only. */
	DENY(SYS_getppid, SECCOMP_RET_KILL_THREAD);
	EXPECT_EQ(install(0, prog_SYS_getppid, 4), 0);
	pthread_t t;
	pthread_create(&t, NULL, call_getppid, NULL);
	sleep(1);
	printf("the process lives on after its thread was killed\n");
	/* KILL_PROCESS from a second thread ends the whole process. */
	DENY(SYS_getpgrp, SECCOMP_RET_KILL_PROCESS);
	EXPECT_EQ(install(0, prog_SYS_getpgrp, 4), 0);
	pthread_t u;
	pthread_create(&u, NULL, sleeper, NULL);
	syscall(SYS_getpgrp);
	printf("FAIL still alive\n");
}

static void strict(void) {
	EXPECT_EQ(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0), 0);
	static const char msg[] = "strict: write works\n";
	fflush(stdout);
	write(1, msg, sizeof msg - 1);
	syscall(SYS_getpid); /* killed */
	write(1, "FAIL still alive\n", 17);
}

static void strict_then_filter(void) {
	struct sock_filter ok[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	EXPECT_EQ(install(0, ok, 1), 0);
	EXPECT_ERR(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0), EINVAL);
	EXPECT_ERR(syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL), EINVAL);
}

static const char *self;

static void inherit(void) {
	DENY(SYS_getppid, SECCOMP_RET_ERRNO | EACCES);
	EXPECT_EQ(install(0, prog_SYS_getppid, 4), 0);
	pid_t p = fork();
	if (p == 0) {
		errno = 0;
		long r = syscall(SYS_getppid);
		printf("forked child's getppid: %ld %s\n", r, errname(errno));
		fflush(stdout);
		execl(self, self, "after-exec", (char *)NULL);
		_exit(9);
	}
	int st;
	waitpid(p, &st, 0);
	status("the exec'd child", st);
}

static volatile int worker_tid;
static pthread_barrier_t bar;

static void *worker(void *arg) {
	worker_tid = gettid();
	if (arg) {
		DENY(SYS_getsid, SECCOMP_RET_ERRNO | 3);
		EXPECT_EQ(install(0, prog_SYS_getsid, 4), 0);
	}
	pthread_barrier_wait(&bar); /* ready */
	pthread_barrier_wait(&bar); /* the main thread's filter is in */
	errno = 0;
	long r = syscall(SYS_getppid);
	printf("the other thread's getppid: %s %s\n", r > 0 ? "a pid" : "-1", errname(errno));
	return NULL;
}

static void tsync(void) {
	pthread_t t;
	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&t, NULL, worker, NULL);
	pthread_barrier_wait(&bar);
	DENY(SYS_getppid, SECCOMP_RET_ERRNO | ENOENT);
	EXPECT_EQ(install(SECCOMP_FILTER_FLAG_TSYNC, prog_SYS_getppid, 4), 0);
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
}

static void tsync_fails(void) {
	pthread_t t;
	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&t, NULL, worker, (void *)1);
	pthread_barrier_wait(&bar);
	DENY(SYS_getppid, SECCOMP_RET_ERRNO | ENOENT);
	long r = install(SECCOMP_FILTER_FLAG_TSYNC, prog_SYS_getppid, 4);
	printf("TSYNC over a thread with its own filter: returns its tid: %d\n", r == worker_tid);
	EXPECT_ERR(install(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH, prog_SYS_getppid, 4), ESRCH);
	CHECK("the failed TSYNC installed nothing", syscall(SYS_getppid) > 0);
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
		errno = 0;
		long r = syscall(SYS_getppid);
		printf("after execve, getppid: %ld %s; mode %d\n", r, errname(errno), prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
		return 0;
	}
	self = argv[0];
	child("errors", errors);
	child("unprivileged", unprivileged);
	child("errnos", errnos);
	child("traps", traps);
	child("kill_thread", kill_thread);
	child("unknown action", kill_process_unknown_action);
	child("thread kills", thread_kills);
	child("strict", strict);
	child("strict after a filter", strict_then_filter);
	child("inherit", inherit);
	child("tsync", tsync);
	child("tsync fails", tsync_fails);
	return ukt_exit();
}
