/* confine: a hostile program that looks for a way past uk's first barrier
 * (every syscall it makes is uk's to implement) into the host kernel.
 *
 *   confine wait     print "ready", then block until stdin ends; meanwhile
 *                    the test reads uk's and its stubs' posture from the
 *                    host (/proc/PID/status, /proc/PID/ns, fds, root).
 *   confine stubsite call the `syscall; int3` site in the ptrace stub's
 *                    code, where uk injects its own host syscalls, with
 *                    getpid and then exit_group(99).
 *   confine maps     list what /proc/self/maps shows at the top of the
 *                    address space and read the stub's request page.
 *   confine ia32     make 32-bit syscalls: int $0x80 and sysenter from
 *                    64-bit code, with a number that names another call in
 *                    the 64-bit table (getpid).
 *   confine compat   far-jump into compat mode and make a syscall there
 *                    with a number that is exit in the 64-bit table.
 *   confine ppid     print "before", call getppid, print "after": the test
 *                    makes uk's getppid panic, a stand-in for a bug of uk;
 *                    uk must end with one line naming getppid, status 70,
 *                    and no stub process left (nothing of this program's
 *                    doing: "after" never comes).
 *
 * What a safe kernel does: the stub site is ordinary code to the program,
 * and a syscall made there is trapped like any other: getpid returns the
 * sandbox's pid (what getpid() says), not the stub's host pid; the int3
 * after it raises SIGTRAP; exit_group(99) ends the program with status 99,
 * and nothing runs on the host. The stub's pages show in /proc/self/maps
 * as special mappings ([uk-stub], [uk-stub-requests], [uk-stub-scratch]), and the request
 * page, which held the memory-file offsets of uk's last mapping batch, is
 * empty. The 32-bit entries fail as on a kernel without IA32 emulation:
 * int $0x80 is a SIGSEGV (SI_KERNEL, address 0) at the instruction,
 * sysenter a SIGILL (AMD) or SIGSEGV (Intel), a compat-mode syscall
 * -ENOSYS or a SIGSEGV; none runs the 64-bit call. Natively the stub is
 * not there and this host may have IA32 emulation: the test runs these
 * under uk only. Bounded: no loops but over /proc/self/maps, a 10 s alarm.
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

/* The 32-bit entries. Each is at a global label, so that a SIGSEGV's
 * RIP can be checked against it. */
extern char int80_insn[], sysenter_insn[];
__attribute__((noinline)) static long do_int80(long nr) {
	__asm__ volatile(".globl int80_insn\nint80_insn: int $0x80" : "+a"(nr) : : "memory");
	return nr;
}
__attribute__((noinline)) static long do_sysenter(long nr) {
	__asm__ volatile(".globl sysenter_insn\nsysenter_insn: sysenter" : "+a"(nr) : : "rcx", "r11", "memory");
	return nr;
}

/* compat_syscall far-returns into compat mode (code segment 0x23, code and
 * a stack below 4 GiB in this static binary), makes a syscall there with
 * eax = 60 (exit in the 64-bit table) and far-jumps back to 64-bit mode,
 * returning eax. */
long compat_syscall(void);
char compat_stack[4096] __attribute__((aligned(16)));
long compat_saved_rsp;
__asm__(".text\n"
	".globl compat_syscall\n"
	"compat_syscall:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	mov %rsp, compat_saved_rsp(%rip)\n"
	"	lea compat_stack+4096(%rip), %rsp\n"
	"	pushq $0x23\n"
	"	lea 1f(%rip), %rax\n"
	"	pushq %rax\n"
	"	lretq\n"
	".code32\n"
	"1:	mov $60, %eax\n"
	"	xor %ebx, %ebx\n"
	"	syscall\n"
	"	ljmp $0x33, $2f\n"
	".code64\n"
	"2:	mov compat_saved_rsp(%rip), %rsp\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	movslq %eax, %rax\n"
	"	ret\n");

static volatile long seg_rip, seg_addr;
static volatile int seg_code;

static void on_fault(int sig, siginfo_t *si, void *ctx) {
	ucontext_t *uc = ctx;
	trapped = sig;
	seg_code = si->si_code;
	seg_addr = (long)si->si_addr;
	seg_rip = uc->uc_mcontext.gregs[REG_RIP];
	siglongjmp(env, 1);
}

static const char *signame(int sig) {
	return sig == SIGSEGV ? "SIGSEGV" : sig == SIGILL ? "SIGILL" : sig == 0 ? "none" : "other";
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
	if (strcmp(mode, "maps") == 0) {
		FILE *f = fopen("/proc/self/maps", "r");
		char line[512];
		int requests = 0;
		while (f && fgets(line, sizeof line, f)) {
			unsigned long start = strtoul(line, NULL, 16);
			if (start >= 0x7fffffff0000UL && start < 0x800000000000UL) {
				char *name = strchr(line, '[');
				printf("%.29s %s", line, name ? name : "(no name)\n");
				requests |= name && strncmp(name, "[uk-stub-requests]", 18) == 0;
			}
		}
		if (requests) {
			/* The page after the stub's code (platform/internal/stubproc),
			 * but for its last 8 bytes: the serving thread's control
			 * words (a count of this stub's batches) on sigsys. */
			const unsigned char *req = (const unsigned char *)(STUB_SYSCALL_SITE & ~0xfffUL) + 0x1000;
			int nonzero = 0;
			for (int i = 0; i < 4096 - 8; i++)
				nonzero += req[i] != 0;
			printf("request page: %d bytes not zero\n", nonzero);
		}
		return 0;
	}
	if (strcmp(mode, "ia32") == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_fault;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGILL, &sa, NULL);
		long r = 0;

		/* int $0x80 with eax = 39: mkdir in the 32-bit table, getpid in
		 * the 64-bit one. */
		trapped = 0;
		if (sigsetjmp(env, 1) == 0)
			r = do_int80(39);
		printf("int $0x80: %s code %#x addr %#lx, rip %s the instruction%s\n", signame(trapped), seg_code,
		       seg_addr, seg_rip == (long)int80_insn ? "at" : "NOT at",
		       trapped ? "" : (r == getpid() ? " (FAIL: ran getpid)" : " (FAIL: returned)"));

		trapped = 0;
		if (sigsetjmp(env, 1) == 0)
			r = do_sysenter(39);
		printf("sysenter: %s%s\n", signame(trapped), trapped ? "" : " (FAIL: returned)");

		printf("done\n");
		return 0;
	}
	if (strcmp(mode, "compat") == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_fault;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGILL, &sa, NULL);
		long r = 0;
		/* syscall in compat mode with eax = 60: exit in the 64-bit table,
		 * which would end the program here. */
		trapped = 0;
		if (sigsetjmp(env, 1) == 0)
			r = compat_syscall();
		if (trapped)
			printf("compat-mode syscall: %s code %#x\n", signame(trapped), seg_code);
		else
			printf("compat-mode syscall: returned %ld%s\n", r, r == -38 ? " (ENOSYS)" : " (FAIL)");
		printf("done\n");
		return 0;
	}
	if (strcmp(mode, "ppid") == 0) {
		printf("before\n");
		printf("after %d\n", (int)getppid());
		return 0;
	}
	fprintf(stderr, "usage: confine wait|stubsite|maps|ia32|compat|ppid\n");
	return 2;
}
