/* ptrace.c: one process tracing another, compared with Linux (LTP's
 * ptrace01-06 cases and what strace and debuggers rely on): TRACEME and
 * signal-delivery-stops (even of ignored signals), PTRACE_KILL, ATTACH's
 * SIGSTOP, PEEK/POKE of data and registers, syscall stops with
 * TRACESYSGOOD (a call cancelled, its result replaced), the exec and fork
 * events, SEIZE and INTERRUPT, siginfo and sigmask requests, the regsets,
 * a single step, TracerPid, and the errors of each. */
#include "uktest.h"
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <elf.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <pthread.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/* PTRACE_GET_SYSCALL_INFO's structure, as the UAPI header has it. */
struct syscall_info {
	unsigned char op, pad[3];
	unsigned arch;
	unsigned long long ip, sp;
	union {
		struct { unsigned long long nr, args[6]; } entry;
		struct { long long rval; unsigned char is_error; } exit;
		struct { unsigned long long nr, args[6]; unsigned ret_data; } seccomp;
	};
};
#define GET_SYSCALL_INFO 0x420e

static volatile long target = 1234;
static volatile int got_usr2;

static void on_usr2(int sig) { (void)sig; got_usr2 = 1; }

/* stopped waits for pid and returns its stop signal (with the event bits
 * above it), or -1 after printing how it ended otherwise. */
static int stopped(pid_t pid) {
	int st;
	if (waitpid(pid, &st, __WALL) != pid) {
		printf("waitpid: FAIL %s\n", errname(errno));
		ukt_failures++;
		return -1;
	}
	if (WIFSTOPPED(st))
		return st >> 8;
	if (WIFEXITED(st))
		printf("exited %d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("killed by %d\n", WTERMSIG(st));
	return -1;
}

/* traced_child forks a child that asks to be traced, then runs fn. */
static pid_t traced_child(void (*fn)(void)) {
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(90);
		fn();
		_exit(0);
	}
	return c;
}

static void raise_usr2_ignored(void) {
	signal(SIGUSR2, SIG_IGN);
	raise(SIGUSR2);
	_exit(1);
}

static void raise_usr2_handled(void) {
	signal(SIGUSR2, on_usr2);
	EXPECT_ERR(ptrace(PTRACE_TRACEME, 0, 0, 0), EPERM); /* traced already */
	raise(SIGUSR2);
	fflush(stdout);
	_exit(got_usr2 ? 7 : 8);
}

static void sigstop_then_calls(void) {
	raise(SIGSTOP);
	long r = syscall(SYS_getuid);
	long p = syscall(SYS_getppid);
	char buf[64];
	int n = snprintf(buf, sizeof buf, "child saw getuid %ld getppid==parent %d\n", r, p == getppid());
	write(1, buf, n);
	_exit(0);
}

static void sigstop_then_exec(void) {
	raise(SIGSTOP);
	char *argv[] = {"ptrace", "exec-child", NULL};
	execv("/proc/self/exe", argv);
	_exit(91);
}

static void sigstop_then_fork(void) {
	raise(SIGSTOP);
	pid_t g = fork();
	if (g == 0)
		_exit(5);
	int st;
	waitpid(g, &st, 0);
	_exit(WIFEXITED(st) ? 10 + WEXITSTATUS(st) : 99);
}

static void *thread_body(void *a) { return a; }

static int thread_sync[2];

static void sigstop_then_thread(void) {
	raise(SIGSTOP);
	pthread_t th;
	pthread_create(&th, NULL, thread_body, NULL);
	pthread_join(th, NULL);
	char b;
	read(thread_sync[0], &b, 1); /* the tracer has the thread's exit */
	_exit(6);
}

static void sigstop_then_exit(void) {
	raise(SIGSTOP);
	_exit(7);
}

static void sigstop_then_vfork(void) {
	raise(SIGSTOP);
	pid_t v = vfork();
	if (v == 0)
		_exit(9);
	int st;
	waitpid(v, &st, 0);
	_exit(WEXITSTATUS(st) + 20);
}

static void sigstop_then_spin(void) {
	raise(SIGSTOP);
	for (;;)
		target++;
}

static void test_signal_stops(void) {
	/* LTP ptrace01: an ignored signal still stops the tracee. */
	pid_t c = traced_child(raise_usr2_ignored);
	printf("ignored SIGUSR2 stop: %d\n", stopped(c));
	EXPECT_OK(ptrace(PTRACE_KILL, c, 0, 0));
	printf("after PTRACE_KILL: ");
	stopped(c);

	/* A handled one: the tracer decides whether the handler runs. */
	c = traced_child(raise_usr2_handled);
	printf("handled SIGUSR2 stop: %d\n", stopped(c));
	siginfo_t si;
	EXPECT_OK(ptrace(PTRACE_GETSIGINFO, c, 0, &si));
	printf("siginfo signo %d code %d pid==child %d\n", si.si_signo, si.si_code, si.si_pid == c);
	EXPECT_ERR(ptrace(PTRACE_CONT, c, 0, 100), EIO);
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, SIGUSR2));
	printf("handled, delivered: ");
	stopped(c);

	c = traced_child(raise_usr2_handled);
	stopped(c);
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	printf("handled, suppressed: ");
	stopped(c);
}

/* LTP ptrace05: every signal a tracee sends itself stops it, those whose
 * default is to be ignored (SIGCHLD, SIGURG, SIGWINCH) and SIGCONT too;
 * SIGKILL kills. */
static void test_every_signal(void) {
	int stops = 0;
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		if (sig >= 32 && sig < SIGRTMIN)
			continue;
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			if (ptrace(PTRACE_TRACEME, 0, 0, 0) == 0)
				kill(getpid(), sig);
			_exit(2);
		}
		int st;
		waitpid(c, &st, 0);
		if (WIFSTOPPED(st) && WSTOPSIG(st) == sig)
			stops++;
		else
			printf("signal %d: status %#x\n", sig, st);
		kill(c, SIGKILL);
		waitpid(c, &st, 0);
	}
	printf("signals that stopped the tracee: %d\n", stops);
}

static void test_errors(void) {
	int unused = ukt_unused_pid();
	EXPECT_ERR(ptrace(PTRACE_ATTACH, unused, 0, 0), ESRCH);
	EXPECT_ERR(ptrace(PTRACE_ATTACH, getpid(), 0, 0), EPERM);
	EXPECT_ERR(ptrace(PTRACE_CONT, getppid(), 0, 0), ESRCH);
	EXPECT_ERR(ptrace(PTRACE_PEEKDATA, getppid(), 0, 0), ESRCH);
	EXPECT_ERR(ptrace(PTRACE_SEIZE, getppid(), 1, 0), EIO);

	pid_t c = traced_child(sigstop_then_spin);
	EXPECT_EQ(stopped(c), SIGSTOP);
	long word;
	/* LTP ptrace06: bad addresses and offsets. */
	long bad[] = {0, 1, -1, -4};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		long r = ptrace(PTRACE_PEEKDATA, c, (void *)bad[i], 0);
		printf("PEEKDATA %ld: %ld %s\n", bad[i], r, errname(errno));
		errno = 0;
		r = ptrace(PTRACE_POKEDATA, c, (void *)bad[i], 0);
		printf("POKEDATA %ld: %ld %s\n", bad[i], r, errname(errno));
	}
	long badu[] = {sizeof(struct user) + 1, sizeof(struct user), 4, -1, -8};
	for (unsigned i = 0; i < sizeof badu / sizeof badu[0]; i++) {
		errno = 0;
		long r = ptrace(PTRACE_PEEKUSER, c, (void *)badu[i], 0);
		printf("PEEKUSER %ld: %ld %s\n", badu[i], r, errname(errno));
		errno = 0;
		r = ptrace(PTRACE_POKEUSER, c, (void *)badu[i], 0);
		printf("POKEUSER %ld: %ld %s\n", badu[i], r, errname(errno));
	}
	EXPECT_ERR(ptrace(PTRACE_GETREGS, c, 0, (void *)1), EFAULT);
	EXPECT_ERR(ptrace(PTRACE_SETREGS, c, 0, (void *)-1), EFAULT);
	EXPECT_ERR(ptrace(PTRACE_GETFPREGS, c, 0, (void *)2), EFAULT);
	EXPECT_ERR(ptrace(PTRACE_GETSIGINFO, c, 0, (void *)3), EFAULT);
	EXPECT_ERR(ptrace(PTRACE_SETSIGINFO, c, 0, (void *)-4), EFAULT);
	EXPECT_ERR(ptrace(PTRACE_SETOPTIONS, c, 0, (void *)0x80000), EINVAL);
	EXPECT_ERR(ptrace(PTRACE_GETSIGMASK, c, 4, &word), EINVAL);
	EXPECT_ERR(ptrace(0x4321, c, 0, 0), EIO);
	EXPECT_ERR(ptrace(PTRACE_INTERRUPT, c, 0, 0), EIO); /* not seized */
	EXPECT_ERR(ptrace(PTRACE_POKEUSER, c, offsetof(struct user, u_debugreg[4]), 0), EIO);
	EXPECT_ERR(ptrace(PTRACE_POKEUSER, c, offsetof(struct user, u_debugreg[0]), -4096L), EINVAL);
	EXPECT_ERR(ptrace(PTRACE_POKEUSER, c, offsetof(struct user, regs.cs), 0x30), EIO);
	EXPECT_ERR(ptrace(PTRACE_POKEUSER, c, offsetof(struct user, regs.fs_base), -1L), EIO);

	/* Memory: read and change the child's variable. */
	EXPECT_EQ(ptrace(PTRACE_PEEKDATA, c, &target, 0), 1234);
	EXPECT_OK(ptrace(PTRACE_POKEDATA, c, &target, 99));
	EXPECT_EQ(ptrace(PTRACE_PEEKDATA, c, &target, 0), 99);
	/* Text is read-only to the child, not to its tracer. */
	long text = ptrace(PTRACE_PEEKTEXT, c, (void *)test_errors, 0);
	EXPECT_OK(ptrace(PTRACE_POKETEXT, c, (void *)test_errors, text ^ 0xff));
	EXPECT_EQ(ptrace(PTRACE_PEEKTEXT, c, (void *)test_errors, 0) == (text ^ 0xff), 1);
	EXPECT_EQ(*(volatile long *)test_errors == text, 1); /* ours is untouched */

	/* The same through /proc/PID/mem. */
	char mp[64];
	snprintf(mp, sizeof mp, "/proc/%d/mem", c);
	int mfd = EXPECT_OK(open(mp, O_RDWR));
	long v = 0;
	EXPECT_EQ(pread(mfd, &v, sizeof v, (off_t)&target), 8);
	printf("mem read %ld\n", v);
	v = 777;
	EXPECT_EQ(pwrite(mfd, &v, sizeof v, (off_t)&target), 8);
	EXPECT_EQ(ptrace(PTRACE_PEEKDATA, c, &target, 0), 777);
	EXPECT_ERR(pread(mfd, &v, sizeof v, 0), EIO);
	EXPECT_EQ(lseek(mfd, (off_t)&target, SEEK_SET) == (off_t)&target, 1);
	EXPECT_EQ(read(mfd, &v, sizeof v), 8);
	close(mfd);

	/* Registers three ways agree. */
	struct user_regs_struct regs;
	EXPECT_OK(ptrace(PTRACE_GETREGS, c, 0, &regs));
	EXPECT_EQ(ptrace(PTRACE_PEEKUSER, c, offsetof(struct user, regs.rip), 0) == (long)regs.rip, 1);
	struct iovec iov = {&regs, sizeof regs};
	EXPECT_OK(ptrace(PTRACE_GETREGSET, c, NT_PRSTATUS, &iov));
	printf("NT_PRSTATUS len %zu cs %llx ss %llx\n", iov.iov_len, regs.cs, regs.ss);
	EXPECT_EQ(ptrace(PTRACE_PEEKUSER, c, offsetof(struct user, u_debugreg[5]), 0), 0);
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, offsetof(struct user, u_debugreg[1]), 0x1000));
	EXPECT_EQ(ptrace(PTRACE_PEEKUSER, c, offsetof(struct user, u_debugreg[1]), 0), 0x1000);
	/* Only the user EFLAGS bits change. */
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, offsetof(struct user, regs.eflags), 0xffffffffUL));
	printf("eflags after poking all ones %lx\n",
	       ptrace(PTRACE_PEEKUSER, c, offsetof(struct user, regs.eflags), 0) & 0x50dd5);
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, offsetof(struct user, regs.eflags), regs.eflags));

	struct user_fpregs_struct fp;
	EXPECT_OK(ptrace(PTRACE_GETFPREGS, c, 0, &fp));
	printf("mxcsr %x\n", fp.mxcsr & 0xffff);
	unsigned mx = fp.mxcsr;
	fp.mxcsr = 0xffffffff;
	EXPECT_ERR(ptrace(PTRACE_SETFPREGS, c, 0, &fp), EINVAL);
	fp.mxcsr = mx;
	EXPECT_OK(ptrace(PTRACE_SETFPREGS, c, 0, &fp));
	static char xs[16384] __attribute__((aligned(64)));
	struct iovec xiov = {xs, sizeof xs};
	EXPECT_OK(ptrace(PTRACE_GETREGSET, c, NT_X86_XSTATE, &xiov));
	/* Linux puts XCR0 in the software bytes, where gdb reads it. */
	printf("xstate len %zu xcr0 %llx then %llx, mxcsr %x\n", xiov.iov_len, *(unsigned long long *)(xs + 464),
	       *(unsigned long long *)(xs + 472), *(unsigned *)(xs + 24));
	xiov.iov_len = 16;
	EXPECT_ERR(ptrace(PTRACE_GETREGSET, c, 0x999, &xiov), EINVAL);
	xiov.iov_len = 12;
	EXPECT_ERR(ptrace(PTRACE_GETREGSET, c, NT_X86_XSTATE, &xiov), EINVAL);

	/* Sigmask. */
	unsigned long mask = 1UL << (SIGUSR1 - 1);
	EXPECT_OK(ptrace(PTRACE_SETSIGMASK, c, 8, &mask));
	mask = 0;
	EXPECT_OK(ptrace(PTRACE_GETSIGMASK, c, 8, &mask));
	printf("sigmask %lx\n", mask);

	/* A running tracee answers only KILL. */
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	EXPECT_ERR(ptrace(PTRACE_CONT, c, 0, 0), ESRCH);
	EXPECT_ERR(ptrace(PTRACE_GETREGS, c, 0, &regs), ESRCH);
	EXPECT_OK(ptrace(PTRACE_KILL, c, 0, 0));
	printf("spinning child after kill: ");
	stopped(c);
}

static void test_syscall_stops(void) {
	pid_t c = traced_child(sigstop_then_calls);
	EXPECT_EQ(stopped(c), SIGSTOP);
	EXPECT_OK(ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD));
	int entries = 0, exits = 0, inside = 0;
	for (;;) {
		if (ptrace(PTRACE_SYSCALL, c, 0, 0) != 0)
			break;
		int s = stopped(c);
		if (s < 0)
			break;
		if (s != (SIGTRAP | 0x80)) {
			printf("unexpected stop %d\n", s);
			continue;
		}
		struct user_regs_struct r;
		ptrace(PTRACE_GETREGS, c, 0, &r);
		if (!inside) {
			entries++;
			if ((long)r.rax != -ENOSYS)
				printf("entry rax %lld: FAIL\n", (long long)r.rax), ukt_failures++;
			if (r.orig_rax == SYS_getuid) {
				/* Cancel it: the child sees what we put in rax. */
				r.orig_rax = -1;
				r.rax = 4242;
				ptrace(PTRACE_SETREGS, c, 0, &r);
			}
			if (r.orig_rax == SYS_getppid)
				printf("getppid entry seen\n");
		} else {
			exits++;
			if (r.orig_rax == SYS_getppid)
				printf("getppid exit rax==parent %d\n", (pid_t)r.rax == getpid());
		}
		inside = !inside;
	}
	printf("syscall stops balanced %d, some %d\n", entries - exits <= 1, entries > 3);
}

static void test_exec_and_fork(void) {
	/* Without PTRACE_O_TRACEEXEC: a SIGTRAP after exec. */
	pid_t c = traced_child(sigstop_then_exec);
	EXPECT_EQ(stopped(c), SIGSTOP);
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	EXPECT_EQ(stopped(c), SIGTRAP);
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	printf("exec child: ");
	stopped(c);

	c = traced_child(sigstop_then_exec);
	EXPECT_EQ(stopped(c), SIGSTOP);
	EXPECT_OK(ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEEXEC));
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	EXPECT_EQ(stopped(c), SIGTRAP | PTRACE_EVENT_EXEC << 8);
	unsigned long msg = 0;
	EXPECT_OK(ptrace(PTRACE_GETEVENTMSG, c, 0, &msg));
	printf("exec event msg==child %d\n", msg == (unsigned long)c);
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	printf("exec child with event: ");
	stopped(c);

	c = traced_child(sigstop_then_exit);
	EXPECT_EQ(stopped(c), SIGSTOP);
	EXPECT_OK(ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEEXIT));
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	EXPECT_EQ(stopped(c), SIGTRAP | PTRACE_EVENT_EXIT << 8);
	EXPECT_OK(ptrace(PTRACE_GETEVENTMSG, c, 0, &msg));
	printf("exit event msg %lx\n", msg);
	struct user_regs_struct er;
	EXPECT_OK(ptrace(PTRACE_GETREGS, c, 0, &er));
	printf("exit stop orig_rax %lld\n", (long long)er.orig_rax);
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	printf("exiting child: ");
	stopped(c);

	/* PTRACE_O_TRACECLONE: a new thread is traced, starts stopped, and
	 * its exit is reported to the tracer. */
	pipe(thread_sync);
	c = traced_child(sigstop_then_thread);
	EXPECT_EQ(stopped(c), SIGSTOP);
	EXPECT_OK(ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACECLONE));
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	EXPECT_EQ(stopped(c), SIGTRAP | PTRACE_EVENT_CLONE << 8);
	EXPECT_OK(ptrace(PTRACE_GETEVENTMSG, c, 0, &msg));
	pid_t th = msg;
	EXPECT_EQ(stopped(th), SIGSTOP);
	EXPECT_OK(ptrace(PTRACE_CONT, th, 0, 0));
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	printf("traced thread: ");
	stopped(th);
	write(thread_sync[1], "x", 1);
	printf("its process: ");
	stopped(c);

	/* PTRACE_O_TRACEVFORK and TRACEVFORKDONE. */
	c = traced_child(sigstop_then_vfork);
	EXPECT_EQ(stopped(c), SIGSTOP);
	EXPECT_OK(ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE));
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	EXPECT_EQ(stopped(c), SIGTRAP | PTRACE_EVENT_VFORK << 8);
	EXPECT_OK(ptrace(PTRACE_GETEVENTMSG, c, 0, &msg));
	pid_t vc = msg;
	EXPECT_EQ(stopped(vc), SIGSTOP);
	EXPECT_OK(ptrace(PTRACE_CONT, vc, 0, 0));
	printf("vfork child: ");
	stopped(vc);
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	EXPECT_EQ(stopped(c), SIGTRAP | PTRACE_EVENT_VFORK_DONE << 8);
	unsigned long done = 0;
	EXPECT_OK(ptrace(PTRACE_GETEVENTMSG, c, 0, &done));
	printf("vfork done names the child %d\n", done == msg);
	int sig = 0;
	for (;;) {
		EXPECT_OK(ptrace(PTRACE_CONT, c, 0, sig));
		if ((sig = stopped(c)) < 0)
			break;
		printf("vforking child stopped for %d\n", sig);
	}

	c = traced_child(sigstop_then_fork);
	EXPECT_EQ(stopped(c), SIGSTOP);
	EXPECT_OK(ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEFORK));
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	EXPECT_EQ(stopped(c), SIGTRAP | PTRACE_EVENT_FORK << 8);
	EXPECT_OK(ptrace(PTRACE_GETEVENTMSG, c, 0, &msg));
	pid_t g = msg;
	EXPECT_EQ(stopped(g), SIGSTOP); /* the new child starts stopped, traced */
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", g);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f)) {
		int tp;
		if (sscanf(line, "TracerPid: %d", &tp) == 1)
			printf("grandchild TracerPid==us %d\n", tp == getpid());
		if (!strncmp(line, "State:", 6))
			printf("grandchild %s", line);
	}
	if (f)
		fclose(f);
	EXPECT_OK(ptrace(PTRACE_CONT, g, 0, 0));
	printf("grandchild: ");
	stopped(g);
	/* The grandchild's exit stops the child for its SIGCHLD. */
	sig = 0;
	for (;;) {
		EXPECT_OK(ptrace(PTRACE_CONT, c, 0, sig));
		if ((sig = stopped(c)) < 0)
			break;
		printf("forking child stopped for %d\n", sig);
	}
}

static void test_attach_seize(void) {
	fflush(stdout);
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		write(p[1], "r", 1);
		for (;;)
			pause();
	}
	char b;
	read(p[0], &b, 1);
	EXPECT_OK(ptrace(PTRACE_ATTACH, c, 0, 0));
	EXPECT_ERR(ptrace(PTRACE_ATTACH, c, 0, 0), EPERM);
	EXPECT_EQ(stopped(c), SIGSTOP);
	EXPECT_OK(ptrace(PTRACE_DETACH, c, 0, 0));
	EXPECT_ERR(ptrace(PTRACE_CONT, c, 0, 0), ESRCH);

	EXPECT_OK(ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACESYSGOOD));
	EXPECT_OK(ptrace(PTRACE_INTERRUPT, c, 0, 0));
	EXPECT_EQ(stopped(c), SIGTRAP | PTRACE_EVENT_STOP << 8);
	siginfo_t si;
	EXPECT_OK(ptrace(PTRACE_GETSIGINFO, c, 0, &si));
	printf("interrupt siginfo signo %d\n", si.si_signo);
	EXPECT_OK(ptrace(PTRACE_DETACH, c, 0, 0));
	kill(c, SIGKILL);
	printf("attached child: ");
	stopped(c);
}

/* traced_filter: a child whose seccomp filter hands getppid (data 42)
 * and getuid (data 7) to its tracer. */
static void traced_filter(void) {
	raise(SIGSTOP);
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 42),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 7),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof f / sizeof f[0], f};
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		_exit(70);
	long pp = syscall(SYS_getppid), uid = syscall(SYS_getuid);
	char buf[80];
	int n = snprintf(buf, sizeof buf, "filtered child: getppid==parent %d getuid %ld\n", pp == getppid(), uid);
	write(1, buf, n);
	_exit(0);
}

static void test_seccomp_trace(void) {
	pid_t c = traced_child(traced_filter);
	EXPECT_EQ(stopped(c), SIGSTOP);
	struct syscall_info si;
	memset(&si, 0xff, sizeof si);
	EXPECT_EQ(ptrace(GET_SYSCALL_INFO, c, sizeof si, &si), 24);
	printf("signal stop info op %d arch %x\n", si.op, si.arch);
	EXPECT_OK(ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD));
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	for (;;) {
		int s = stopped(c);
		if (s < 0)
			break;
		unsigned long msg = 0;
		ptrace(PTRACE_GETEVENTMSG, c, 0, &msg);
		memset(&si, 0, sizeof si);
		long n = ptrace(GET_SYSCALL_INFO, c, sizeof si, &si);
		printf("stop %#x msg %lu info %ld op %d nr==%s data %u\n", s, msg, n, si.op,
		       si.seccomp.nr == SYS_getppid ? "getppid" : si.seccomp.nr == SYS_getuid ? "getuid" : "other",
		       si.seccomp.ret_data);
		if (si.seccomp.nr == SYS_getuid) {
			struct user_regs_struct r;
			ptrace(PTRACE_GETREGS, c, 0, &r);
			printf("seccomp stop rax %lld\n", (long long)r.rax);
			r.orig_rax = -1;
			r.rax = 555;
			ptrace(PTRACE_SETREGS, c, 0, &r);
			/* The cancelled call's exit stop, then the next one's
			 * entry. */
			for (int i = 0; i < 2; i++) {
				EXPECT_OK(ptrace(PTRACE_SYSCALL, c, 0, 0));
				EXPECT_EQ(stopped(c), SIGTRAP | 0x80);
				ptrace(PTRACE_GETEVENTMSG, c, 0, &msg);
				long n = ptrace(GET_SYSCALL_INFO, c, sizeof si, &si);
				printf("syscall stop: msg %lu info %ld op %d", msg, n, si.op);
				if (si.op == 2)
					printf(" rval %lld is_error %d\n", si.exit.rval, si.exit.is_error);
				else
					printf(" nr==getppid %d\n", si.entry.nr == SYS_getppid);
				/* The result is the whole's size, whatever was asked. */
				EXPECT_EQ(ptrace(GET_SYSCALL_INFO, c, 8, &si), n);
			}
		}
		ptrace(PTRACE_CONT, c, 0, 0);
	}
}

/* unused_fn is rewritten through /proc/self/mem: text is read-only to the
 * program, not to a debugger's access, even its own. */
__attribute__((noinline)) static int unused_fn(void) { return 1; }

static void test_self_mem(void) {
	int fd = EXPECT_OK(open("/proc/self/mem", O_RDWR));
	unsigned char b[4];
	EXPECT_EQ(pread(fd, b, sizeof b, (off_t)unused_fn), 4);
	EXPECT_EQ(b[0] == *(unsigned char *)unused_fn, 1);
	unsigned char ret[1] = {0xc3};
	EXPECT_EQ(pwrite(fd, ret, 1, (off_t)unused_fn), 1);
	EXPECT_EQ(*(volatile unsigned char *)unused_fn, 0xc3);
	EXPECT_ERR(pwrite(fd, ret, 1, 4096), EIO);
	/* Hostile: the forced access must not write a file through a shared
	 * mapping the program may not write, nor through a private one. */
	int exe = EXPECT_OK(open("/proc/self/exe", O_RDONLY));
	unsigned char head[16], after[16];
	pread(exe, head, sizeof head, 0);
	unsigned char *sh = mmap(NULL, 4096, PROT_READ, MAP_SHARED, exe, 0);
	unsigned char *pr = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, exe, 0);
	EXPECT_ERR(pwrite(fd, "XXXX", 4, (off_t)sh), EIO);
	EXPECT_EQ(pwrite(fd, "XXXX", 4, (off_t)pr), 4);
	printf("private copy changed %d, shared mapping unchanged %d\n", pr[0] == 'X', sh[0] == head[0]);
	pread(exe, after, sizeof after, 0);
	EXPECT_EQ(memcmp(head, after, sizeof head), 0);
	close(exe);
	close(fd);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		/* A process that may not ptrace us may not open our memory. */
		setresuid(1000, 1000, 1000);
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/mem", getppid());
		EXPECT_ERR(open(p, O_RDONLY), EACCES);
		EXPECT_ERR(ptrace(PTRACE_ATTACH, getppid(), 0, 0), EPERM);
		EXPECT_ERR(ptrace(PTRACE_SEIZE, getppid(), 0, 0), EPERM);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

static void test_single_step(void) {
	pid_t c = traced_child(sigstop_then_spin);
	EXPECT_EQ(stopped(c), SIGSTOP);
	int moved = 0;
	for (int i = 0; i < 20; i++) {
		struct user_regs_struct a, z;
		ptrace(PTRACE_GETREGS, c, 0, &a);
		if (ptrace(PTRACE_SINGLESTEP, c, 0, 0) != 0)
			break;
		if (stopped(c) != SIGTRAP)
			break;
		ptrace(PTRACE_GETREGS, c, 0, &z);
		moved += z.rip != a.rip;
	}
	printf("single steps that moved rip: %d\n", moved);
	siginfo_t si;
	EXPECT_OK(ptrace(PTRACE_GETSIGINFO, c, 0, &si));
	printf("step siginfo signo %d code %d\n", si.si_signo, si.si_code);
	EXPECT_OK(ptrace(PTRACE_KILL, c, 0, 0));
	stopped(c);
}

/* A tracer that exits with PTRACE_O_EXITKILL takes its tracee along; we
 * are the subreaper that collects the orphaned tracee. */
static void test_exit_kill(void) {
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	int p[2];
	pipe(p);
	fflush(stdout);
	pid_t tracer = fork();
	if (tracer == 0) {
		pid_t t = fork();
		if (t == 0)
			for (;;)
				pause();
		if (ptrace(PTRACE_SEIZE, t, 0, PTRACE_O_EXITKILL) != 0)
			_exit(80);
		write(p[1], &t, sizeof t);
		_exit(0);
	}
	pid_t t = 0;
	read(p[0], &t, sizeof t);
	int st;
	waitpid(tracer, &st, 0);
	printf("tracer exited %d; its tracee: ", WEXITSTATUS(st));
	stopped(t);
}

/* LTP ptrace08: attaching to a stopped process traps it at once; a
 * breakpoint address in the kernel's half is refused. */
static void test_attach_stopped(void) {
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		raise(SIGSTOP);
		_exit(0);
	}
	int st;
	EXPECT_EQ(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st), 1);
	EXPECT_OK(ptrace(PTRACE_ATTACH, c, 0, 0));
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, offsetof(struct user, u_debugreg[0]), 1));
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, offsetof(struct user, u_debugreg[7]), 1));
	EXPECT_ERR(ptrace(PTRACE_POKEUSER, c, offsetof(struct user, u_debugreg[0]), 0xffff800000000000UL), EINVAL);
	EXPECT_EQ(ptrace(PTRACE_PEEKUSER, c, offsetof(struct user, u_debugreg[0]), 0), 1);
	EXPECT_OK(ptrace(PTRACE_DETACH, c, 0, 0));
	EXPECT_OK(kill(c, SIGCONT));
	printf("stopped child, attached and let go: ");
	stopped(c);
}

/* A seized tracee's group stop is PTRACE_EVENT_STOP; PTRACE_LISTEN
 * leaves it stopped until SIGCONT, which the tracer sees. */
static void test_listen(void) {
	int p[2];
	pipe(p);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		char b;
		read(p[0], &b, 1);
		raise(SIGSTOP);
		_exit(4);
	}
	EXPECT_OK(ptrace(PTRACE_SEIZE, c, 0, 0));
	write(p[1], "g", 1);
	int s = stopped(c);
	printf("first stop %#x\n", s); /* the SIGSTOP's delivery */
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, SIGSTOP));
	int gst;
	/* The tracer, its parent, hears of the group stop once. */
	EXPECT_EQ(waitpid(c, &gst, WUNTRACED | __WALL), c);
	s = gst >> 8;
	printf("group stop %#x\n", s);
	EXPECT_EQ(waitpid(c, &gst, WUNTRACED | WNOHANG | __WALL), 0);
	siginfo_t si;
	EXPECT_OK(ptrace(PTRACE_GETSIGINFO, c, 0, &si)); /* seized: it has one */
	printf("group stop siginfo signo %d code %#x\n", si.si_signo, si.si_code);
	EXPECT_OK(ptrace(PTRACE_LISTEN, c, 0, 0));
	EXPECT_ERR(ptrace(PTRACE_LISTEN, c, 0, 0), ESRCH); /* not in a ptrace-stop */
	EXPECT_OK(kill(c, SIGCONT));
	for (int i = 0; i < 4; i++) {
		s = stopped(c);
		if (s < 0)
			break;
		printf("then stop %#x\n", s);
		ptrace(PTRACE_CONT, c, 0, 0);
	}
}

/* PTRACE_PEEKSIGINFO: the pending signals of the tracee's own queue and
 * of its process's, without taking them. */
static void queue_signals_then_stop(void) {
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &m, NULL);
	raise(SIGUSR1);
	kill(getpid(), SIGUSR2);
	union sigval v = {.sival_int = 7};
	sigqueue(getpid(), SIGRTMIN, v);
	v.sival_int = 8;
	sigqueue(getpid(), SIGRTMIN, v);
	raise(SIGSTOP);
	_exit(0);
}

static void test_peeksiginfo(void) {
	pid_t c = traced_child(queue_signals_then_stop);
	EXPECT_EQ(stopped(c), SIGSTOP);
	siginfo_t si[8];
	struct { unsigned long long off; unsigned flags; int nr; } a = {0, 0, 8};
	long n = ptrace(0x4209, c, &a, si);
	printf("thread queue: %ld:", n);
	for (long i = 0; i < n; i++)
		printf(" %d/%d", si[i].si_signo, si[i].si_code);
	a.flags = 1;
	n = ptrace(0x4209, c, &a, si);
	printf("\nprocess queue: %ld:", n);
	for (long i = 0; i < n; i++)
		printf(" %d/%d/%d", si[i].si_signo, si[i].si_code, si[i].si_code == SI_QUEUE ? si[i].si_value.sival_int : 0);
	a.off = 2;
	a.nr = 5;
	n = ptrace(0x4209, c, &a, si);
	printf("\nfrom the third: %ld, value %d\n", n, si[0].si_value.sival_int);
	a.flags = 2;
	EXPECT_ERR(ptrace(0x4209, c, &a, si), EINVAL);
	a.flags = 0;
	a.nr = -1;
	EXPECT_ERR(ptrace(0x4209, c, &a, si), EINVAL);
	a.nr = 1;
	a.off = 0;
	EXPECT_ERR(ptrace(0x4209, c, &a, (void *)8), EFAULT);
	EXPECT_OK(ptrace(PTRACE_KILL, c, 0, 0));
	stopped(c);
}

/* A traced child's exit reaches its parent only once its tracer, another
 * process, has collected it. */
static void test_exit_held(void) {
	int up[2], down[2], go[2];
	pipe(up);
	pipe(down);
	pipe(go);
	fflush(stdout);
	pid_t parent = fork();
	if (parent == 0) {
		pid_t c = fork();
		if (c == 0) {
			char b;
			read(go[0], &b, 1);
			_exit(4);
		}
		write(up[1], &c, sizeof c);
		char b;
		read(down[0], &b, 1); /* the tracer saw the exit */
		int st, early = waitpid(c, &st, WNOHANG);
		write(up[1], &early, sizeof early);
		read(down[0], &b, 1); /* the tracer collected it */
		if (waitpid(c, &st, 0) != c)
			_exit(98);
		_exit(10 + WEXITSTATUS(st));
	}
	pid_t c;
	read(up[0], &c, sizeof c);
	EXPECT_OK(ptrace(PTRACE_SEIZE, c, 0, 0));
	write(go[1], "g", 1);
	siginfo_t si;
	EXPECT_OK(waitid(P_PID, c, &si, WEXITED | WNOWAIT | __WALL));
	printf("tracer sees the exit: code %d status %d\n", si.si_code, si.si_status);
	write(down[1], "s", 1);
	int early;
	read(up[0], &early, sizeof early);
	printf("parent's WNOHANG wait before the tracer's: %d\n", early);
	printf("tracer collects: ");
	stopped(c);
	write(down[1], "c", 1);
	printf("parent after it: ");
	stopped(parent);
}

/* LTP ptrace11: root may trace init. Run under uk only (the test suite
 * does): natively it would stop the machine's own init. */
static int trace_init(void) {
	EXPECT_OK(ptrace(PTRACE_ATTACH, 1, 0, 0));
	EXPECT_ERR(ptrace(PTRACE_ATTACH, 1, 0, 0), EPERM);
	int st;
	EXPECT_EQ(waitpid(1, &st, 0), 1);
	printf("init stopped %d by %d\n", WIFSTOPPED(st), WSTOPSIG(st));
	EXPECT_ERR(ptrace(PTRACE_PEEKDATA, 1, 0x400000, 0), EIO);
	struct user_regs_struct r;
	EXPECT_OK(ptrace(PTRACE_GETREGS, 1, 0, &r));
	EXPECT_OK(ptrace(PTRACE_DETACH, 1, 0, 0));
	EXPECT_ERR(ptrace(PTRACE_DETACH, 1, 0, 0), ESRCH);
	return ukt_exit();
}

int main(int argc, char **argv) {
	if (argc > 1 && !strcmp(argv[1], "exec-child"))
		return 3;
	if (argc > 1 && !strcmp(argv[1], "init"))
		return trace_init();
	test_signal_stops();
	test_every_signal();
	test_errors();
	test_syscall_stops();
	test_exec_and_fork();
	test_attach_seize();
	test_single_step();
	test_seccomp_trace();
	test_self_mem();
	test_exit_kill();
	test_exit_held();
	test_attach_stopped();
	test_listen();
	test_peeksiginfo();
	return ukt_exit();
}
