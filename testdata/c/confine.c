/* confine: a hostile program that looks for a way past uk's first barrier
 * (every syscall it makes is uk's to implement) into the host kernel.
 *
 *   confine wait     print "ready", then block until stdin ends; meanwhile
 *                    the test reads uk's and its stubs' posture from the
 *                    host (/proc/PID/status, /proc/PID/ns, fds, root).
 *   confine stubsite call the `syscall; int3` site in the ptrace stub's
 *                    code, where uk injects its own host syscalls, with
 *                    getpid and then exit_group(99).
 *
 * What a safe kernel does: the stub site is ordinary code to the program,
 * and a syscall made there is trapped like any other: getpid returns the
 * sandbox's pid (what getpid() says), not the stub's host pid; the int3
 * after it raises SIGTRAP; exit_group(99) ends the program with status 99,
 * and nothing runs on the host. Natively the address is not mapped: the
 * test runs this under uk only. Bounded: no loops, a 10 s alarm.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* The ptrace stub's `syscall; int3` site (platform/ptrace/stub.go:
 * stubBase + codeOff + 0x10). An attacker would find it in uk's source. */
#define STUB_SYSCALL_SITE 0x7fffffff0090UL

static sigjmp_buf env;
static volatile sig_atomic_t trapped;
static volatile long trap_rax;

static void on_trap(int sig, siginfo_t *si, void *ctx) {
	ucontext_t *uc = ctx;
	(void)si;
	trapped = sig;
	trap_rax = uc->uc_mcontext.gregs[REG_RAX];
	siglongjmp(env, 1);
}

/* stub_call jumps to the stub site with nr in rax and a0 in rdi; the int3
 * there traps before it could return, so this never returns normally. */
static void stub_call(long nr, long a0) {
	__asm__ volatile(
		"lea 1f(%%rip), %%rcx\n\t"
		"push %%rcx\n\t"
		"jmp *%2\n\t"
		"1:\n\t"
		: "+a"(nr), "+D"(a0)
		: "r"(STUB_SYSCALL_SITE)
		: "rcx", "r11", "memory");
}

int main(int argc, char **argv) {
	alarm(10);
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "wait") == 0) {
		char buf[64];
		printf("ready\n");
		while (read(0, buf, sizeof buf) > 0)
			;
		printf("done\n");
		return 0;
	}
	if (strcmp(mode, "stubsite") == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_trap;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigaction(SIGTRAP, &sa, NULL);
		sigaction(SIGSEGV, &sa, NULL);
		if (sigsetjmp(env, 1) == 0)
			stub_call(SYS_getpid, 0);
		printf("getpid at the stub site: signal %d (want SIGTRAP %d), result %s the sandbox's pid\n",
		       (int)trapped, SIGTRAP, trap_rax == getpid() ? "is" : "IS NOT");
		trapped = 0;
		if (sigsetjmp(env, 1) == 0)
			stub_call(SYS_exit_group, 99);
		printf("FAIL: exit_group at the stub site returned (signal %d)\n", (int)trapped);
		return 1;
	}
	fprintf(stderr, "usage: confine wait|stubsite\n");
	return 2;
}
