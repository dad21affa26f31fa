/* watchpoint.c: the debug registers a tracer sets, as gdb's hardware
 * watchpoints and `hbreak` use them, compared with Linux: DR7's checks
 * (an I/O type, a wide execution breakpoint, a misaligned watchpoint are
 * EINVAL and leave DR7 as it was), DR6's polarity, a read/write
 * watchpoint firing at a read and at a write of the same value, a write
 * watchpoint firing after each write with its bit in DR6 and SIGTRAP
 * (TRAP_HWBKPT),
 * an execution breakpoint firing before its instruction and not again
 * when the tracee resumes there, and everything cleared at detach and at
 * the tracee's exec. */
#include "uktest.h"
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

static volatile int counter;
static volatile int ro = 7, sink;

__attribute__((noinline)) static void target(void) { asm volatile("" ::: "memory"); }

#define DR(n) offsetof(struct user, u_debugreg[n])

/* stop waits for the tracee's next stop and returns its signal, or -1
 * when it exited (printing its status). */
static int stop(pid_t c) {
	int st;
	if (waitpid(c, &st, 0) != c)
		return -2;
	if (WIFEXITED(st)) {
		printf("tracee exited %d\n", WEXITSTATUS(st));
		return -1;
	}
	return WIFSTOPPED(st) ? WSTOPSIG(st) : -3;
}

/* exec_clears: a tracee's exec drops the breakpoints its tracer set
 * (Linux's flush_thread). */
static void exec_clears(void) {
	pid_t c = fork();
	if (c == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		execl("/proc/self/exe", "watchpoint", "exec-child", (char *)0);
		_exit(127);
	}
	CHECK("the exec tracee stops", stop(c) == SIGSTOP);
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, DR(0), (long)&counter));
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, DR(7), 0x1 | 1L << 16 | 3L << 18));
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, DR(6), 0xffff0ff1));
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	CHECK("stopped after its exec", stop(c) == SIGTRAP);
	EXPECT_EQ(ptrace(PTRACE_PEEKUSER, c, DR(0), 0), 0);
	EXPECT_EQ(ptrace(PTRACE_PEEKUSER, c, DR(6), 0), 0xffff0ff0);
	EXPECT_EQ(ptrace(PTRACE_PEEKUSER, c, DR(7), 0), 0);
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	stop(c);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "exec-child") == 0)
		return 3;
	setvbuf(stdout, NULL, _IONBF, 0);
	exec_clears();
	pid_t c = fork();
	if (c == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		sink = ro;
		ro = 7;
		for (int i = 0; i < 5; i++)
			counter += 10;
		target();
		target();
		_exit(counter);
	}
	CHECK("the tracee stops", stop(c) == SIGSTOP);
	EXPECT_EQ(ptrace(PTRACE_PEEKUSER, c, DR(6), 0), 0xffff0ff0);
	EXPECT_EQ(ptrace(PTRACE_PEEKUSER, c, DR(7), 0), 0);

	/* Refused: an I/O breakpoint, an execution breakpoint of 4 bytes, a
	 * 4-byte watchpoint at an odd address. */
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, DR(0), (long)&counter + 1));
	EXPECT_ERR(ptrace(PTRACE_POKEUSER, c, DR(7), 0x1 | 2L << 16), EINVAL);
	EXPECT_ERR(ptrace(PTRACE_POKEUSER, c, DR(7), 0x1 | 3L << 18), EINVAL);
	EXPECT_ERR(ptrace(PTRACE_POKEUSER, c, DR(7), 0x1 | 1L << 16 | 3L << 18), EINVAL);
	EXPECT_EQ(ptrace(PTRACE_PEEKUSER, c, DR(7), 0), 0);

	/* A read/write watchpoint (DR2) on ro: its read, and a write of the
	 * value it holds, each stop the tracee after it, with B2 in DR6. */
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, DR(2), (long)&ro));
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, DR(7), 0x10 | 3L << 24 | 3L << 26));
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	for (int i = 0; i < 2; i++) {
		int sig = stop(c);
		long dr6 = ptrace(PTRACE_PEEKUSER, c, DR(6), 0);
		printf("access %d: signal %d, DR6 B0-B3 %lx\n", i, sig, dr6 & 0xf);
		ptrace(PTRACE_POKEUSER, c, DR(6), 0);
		if (sig != SIGTRAP)
			return 1;
		if (i == 0)
			ptrace(PTRACE_CONT, c, 0, 0);
	}

	/* A 4-byte write watchpoint on counter: each write stops the tracee
	 * after it, with B0 in DR6. */
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, DR(0), (long)&counter));
	long dr7 = 0x1 | 1L << 16 | 3L << 18;
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, DR(7), dr7));
	EXPECT_EQ(ptrace(PTRACE_PEEKUSER, c, DR(7), 0), dr7);
	/* An enabled slot's address must stay aligned. */
	EXPECT_ERR(ptrace(PTRACE_POKEUSER, c, DR(0), (long)&counter + 2), EINVAL);
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	for (int i = 0; i < 5; i++) {
		int sig = stop(c);
		siginfo_t si;
		ptrace(PTRACE_GETSIGINFO, c, 0, &si);
		long dr6 = ptrace(PTRACE_PEEKUSER, c, DR(6), 0);
		long v = ptrace(PTRACE_PEEKDATA, c, &counter, 0);
		printf("stop %d: signal %d code %d, DR6 B0-B3 %lx, counter %d\n", i, sig, si.si_code, dr6 & 0xf, (int)v);
		ptrace(PTRACE_POKEUSER, c, DR(6), 0);
		if (sig != SIGTRAP)
			return 1;
		if (i < 4)
			ptrace(PTRACE_CONT, c, 0, 0);
	}

	/* An execution breakpoint at target, the watchpoint off: it stops the
	 * tracee at target's first instruction, once a call. */
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, DR(1), (long)&target));
	EXPECT_OK(ptrace(PTRACE_POKEUSER, c, DR(7), 0x4));
	EXPECT_OK(ptrace(PTRACE_CONT, c, 0, 0));
	for (int i = 0; i < 2; i++) {
		CHECK("stopped for the execution breakpoint", stop(c) == SIGTRAP);
		struct user_regs_struct r;
		ptrace(PTRACE_GETREGS, c, 0, &r);
		long dr6 = ptrace(PTRACE_PEEKUSER, c, DR(6), 0);
		printf("call %d: at target %d, DR6 B0-B3 %lx\n", i, r.rip == (unsigned long)&target, dr6 & 0xf);
		ptrace(PTRACE_POKEUSER, c, DR(6), 0);
		if (i == 1) {
			EXPECT_OK(ptrace(PTRACE_DETACH, c, 0, 0));
			break;
		}
		ptrace(PTRACE_CONT, c, 0, 0);
	}
	stop(c);
	return ukt_exit();
}
