/* hostile_sigsys: attacks on the sigsys platform's trap path
 * (platform/sigsys). The program knows the stub's layout (an attacker
 * would read it in uk's source): the stub's code page at 0x7fffffff0000,
 * its sites from there (stub.go), the thread region of 64 MiB below it,
 * one slot per stub thread, slot 0 the first thread's.
 *
 *   hostile_sigsys sites    run syscalls at the handler's own syscall
 *                           instructions with other numbers: getpid at the
 *                           exit site, mmap of fd 3 (MAP_SHARED|MAP_FIXED)
 *                           at the rt_sigreturn site, then exit_group(42)
 *                           at the futex wait site.
 *   hostile_sigsys handler  jump into the handler with forged registers
 *                           (RSP in a buffer of its own) and wait there
 *                           until a SIGALRM gets it out.
 *   hostile_sigsys trampoline jump into the trampoline of patched
 *                           syscall sites with the slot register pointing
 *                           at a buffer of its own, and wait there until
 *                           a SIGALRM gets it out.
 *   hostile_sigsys ring0    rt_sigreturn at the handler's site with a frame
 *                           of its own that restores ring-0 selectors.
 *   hostile_sigsys race     one thread overwrites the other's slot (state
 *                           word, frame pointers, the frame itself, and
 *                           what a patched syscall site's trampoline uses:
 *                           the fast frame, the slot's self pointer, the
 *                           fast states) while that one makes syscalls,
 *                           trapping and through a patched site, for half
 *                           a second; `race fast`: only the trampoline's.
 *   hostile_sigsys stuck    rt_sigreturn at the handler's site with a frame
 *                           that disables its signal stack, then a syscall.
 *   hostile_sigsys renew    fork a child that maps a page at a fixed
 *                           address, writes a secret there and exits, then
 *                           a child that reads that address, 40 times: the
 *                           second may run in the stub the first left
 *                           (platform/sigsys's recycle.go).
 *   hostile_sigsys servewake one thread wakes the futex the stub's serving
 *                           thread sleeps on (the request page's sequence
 *                           word), over and over, from the handler's wake
 *                           site, while the other maps a page, writes it,
 *                           unmaps it and reads it again, 2000 times.
 *
 * What a safe kernel does: every syscall made at a stub site other than
 * the one it is there for is trapped like any other: getpid returns the
 * sandbox's pid, mmap of fd 3 fails with EBADF (the program has no fd 3:
 * it never sees the host's memory file), exit_group(42) ends the program
 * with 42. The jump into the handler writes only to the program's own
 * buffer and leaves the thread waiting on a futex of its own, which a
 * signal ends; so does the jump into the trampoline, which writes the
 * registers and the state word of the buffer it was given. The ring-0 frame is refused by the host (user selectors
 * are forced) and the program gets a SIGSEGV. The race ends with the
 * program done, or killed by uk (its thread state was garbage), and uk
 * alive: never a crash of uk or anything outside the sandbox. The thread
 * without a signal stack is stuck for good in its own handler; uk kills
 * the program (status 137) once it leaves an interrupt unanswered.
 * The reading child faults every time: nothing of the first child is left
 * mapped in a stub another process gets.
 * The serving thread, woken with nothing new to run, runs nothing and
 * reports nothing: every read after an munmap faults (a forged or early
 * "done" would let it read the page still mapped).
 * Natively there is no stub: these run under uk on sigsys only.
 * Bounded: a 10 s alarm, loops of fixed length or time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define STUB_CODE 0x7fffffff0000UL
#define SITE_EXIT (STUB_CODE + 0x80 + 0x90)    /* mov eax, 60; xor edi, edi; syscall */
#define SITE_HANDLER (STUB_CODE + 0x80 + 0x100)
#define SITE_FAST (STUB_CODE + 0x80 + 0x280) /* the trampoline of patched sites */
#define THREAD_REGION (STUB_CODE - (64UL << 20))

/* Per thread: servewake takes faults on two threads at once. */
static __thread sigjmp_buf env;
static __thread volatile sig_atomic_t trapped;
static __thread volatile long trap_rax;

static void on_trap(int sig, siginfo_t *si, void *ctx) {
	ucontext_t *uc = ctx;
	(void)si;
	trapped = sig;
	trap_rax = uc->uc_mcontext.gregs[REG_RAX];
	siglongjmp(env, 1);
}

/* handler_syscalls finds the handler's syscall instructions (0f 05) in
 * order: the futex wake, the futex wait, rt_sigreturn. */
static unsigned long sites[3];
static int find_sites(void) {
	const unsigned char *p = (const unsigned char *)SITE_HANDLER;
	int n = 0;
	for (int i = 0; i < 0x100 && n < 3; i++)
		if (p[i] == 0x0f && p[i + 1] == 0x05)
			sites[n++] = SITE_HANDLER + i;
	return n;
}

/* at_site jumps to a syscall instruction with nr and six arguments. What
 * follows the instruction there traps (ud2) or loops; the signal handler
 * gets control back. */
static void at_site(unsigned long site, long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	__asm__ volatile("jmp *%7" : "+a"(nr), "+D"(a0), "+S"(a1), "+d"(a2), "+r"(r10), "+r"(r8), "+r"(r9)
			 : "r"(site) : "rcx", "r11", "memory");
}

static void catch(int sig) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(sig, &sa, NULL);
}

static int mode_sites(void) {
	if (find_sites() != 3) {
		printf("FAIL: %d syscall instructions in the handler\n", find_sites());
		return 1;
	}
	catch(SIGILL);
	catch(SIGSEGV);
	trapped = 0;
	if (sigsetjmp(env, 1) == 0)
		at_site(SITE_EXIT + 7, SYS_getpid, 0, 0, 0, 0, 0, 0);
	printf("getpid at the exit site: %s the sandbox's pid\n", trap_rax == getpid() ? "is" : "IS NOT");
	trapped = 0;
	if (sigsetjmp(env, 1) == 0)
		at_site(sites[2], SYS_mmap, 0x10000000, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, 3, 0);
	printf("mmap of fd 3 at the rt_sigreturn site: %ld (%s)\n", trap_rax,
	       trap_rax == -EBADF ? "EBADF" : "NOT EBADF");
	at_site(sites[1], SYS_exit_group, 42, 0, 0, 0, 0, 0);
	printf("FAIL: exit_group at the futex site returned\n");
	return 1;
}

/* A buffer to hand the handler as its "slot": 64 KiB aligned, so that the
 * handler's rounding of RSP (at 72 KiB) lands at 64 KiB whatever the slot
 * size. */
static unsigned char fake[128 << 10] __attribute__((aligned(64 << 10)));

static void on_alarm(int sig) {
	trapped = sig;
	siglongjmp(env, 1);
}

/* escape_by_alarm readies a SIGALRM, on a stack of its own (the program's
 * RSP may be in the buffer), that leaves a forged jump through on_alarm,
 * and clears the buffer. */
static void escape_by_alarm(void) {
	static unsigned char altstack[64 << 10];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGALRM, &sa, NULL);
	memset(fake, 0, sizeof fake);
	trapped = 0;
}

static int mode_handler(void) {
	escape_by_alarm();
	if (sigsetjmp(env, 1) == 0) {
		alarm(1);
		/* RDI, RSI, RDX as the kernel would pass them: forged. */
		__asm__ volatile("mov %0, %%rsp\n\t"
				 "mov $0x1234, %%edi\n\t"
				 "mov $0x5678, %%esi\n\t"
				 "mov $0x9abc, %%edx\n\t"
				 "jmp *%1"
				 : : "r"(fake + (72 << 10)), "r"(SITE_HANDLER) : "rdi", "rsi", "rdx", "memory");
	}
	/* RSP rounded down to the slot size (16 to 64 KiB). */
	uint64_t *h = (uint64_t *)(fake + (64 << 10));
	printf("jump into the handler: left by signal %d; it wrote signo %#lx info %#lx uctx %#lx to the program's own buffer, state %lu\n",
	       (int)trapped, (unsigned long)h[1], (unsigned long)h[2], (unsigned long)h[3], (unsigned long)(h[0] & 0xffffffff));
	return 0;
}

/* trampoline: jump into the trampoline of patched syscall sites with R11
 * (the slot, as a patched site's entry would pass it) pointing at a buffer
 * of the program's own, and wait there until a SIGALRM gets it out. */
static int mode_trampoline(void) {
	escape_by_alarm();
	if (sigsetjmp(env, 1) == 0) {
		alarm(1);
		__asm__ volatile("mov %0, %%r11\n\t"
				 "mov $0x1234, %%eax\n\t"
				 "mov $0x5678, %%ecx\n\t"
				 "jmp *%1"
				 : : "r"(fake), "r"(SITE_FAST) : "r11", "rax", "rcx", "memory");
	}
	/* The fast frame: RAX at byte 80, RCX at 88 (slot.go, fastcall.go). */
	uint64_t *h = (uint64_t *)fake;
	printf("jump into the trampoline: left by signal %d; it wrote rax %#lx rcx %#lx to the program's own buffer, state %lu\n",
	       (int)trapped, (unsigned long)h[10], (unsigned long)h[11], (unsigned long)(h[0] & 0xffffffff));
	return 0;
}

/* ring0: a frame for rt_sigreturn (struct rt_sigframe from pretcode on)
 * that resumes at a label with the kernel's code and stack selectors. */
static int mode_ring0(void) {
	if (find_sites() != 3)
		return 1;
	catch(SIGSEGV);
	catch(SIGILL);
	catch(SIGBUS);
	static unsigned char frame[4096] __attribute__((aligned(64)));
	static unsigned char stack[16384] __attribute__((aligned(16)));
	memset(frame, 0, sizeof frame);
	ucontext_t *uc = (ucontext_t *)(frame + 8);
	uc->uc_flags = 0x2 | 0x4; /* UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS */
	/* The signal stack the thread has (slot 0's, as long as the smallest
	 * slot), so that rt_sigreturn fails on nothing but the selectors. */
	uc->uc_stack.ss_sp = (void *)(THREAD_REGION + 256);
	uc->uc_stack.ss_size = (16 << 10) - 256;
	greg_t *g = uc->uc_mcontext.gregs;
	g[REG_RIP] = (greg_t)&&resumed;
	g[REG_RSP] = (greg_t)(stack + sizeof stack - 64);
	g[REG_EFL] = 0x202;
	/* cs 0x10, gs 0, fs 0, ss 0x18: the host kernel's selectors. */
	g[REG_CSGSFS] = 0x10 | (0x18UL << 48);
	uc->uc_mcontext.fpregs = NULL;
	trapped = 0;
	if (sigsetjmp(env, 1) == 0) {
		__asm__ volatile("mov %0, %%rsp\n\t"
				 "mov $15, %%eax\n\t"
				 "jmp *%1"
				 : : "r"(frame + 8), "r"(sites[2]) : "rax", "memory");
	}
	printf("ring-0 frame: signal %d (want SIGSEGV %d)\n", (int)trapped, SIGSEGV);
	return 0;
resumed:
	printf("FAIL: resumed from a ring-0 frame\n");
	return 1;
}

/* stuck: rt_sigreturn at the handler's site with a frame that disables
 * the signal stack, then a syscall: the SIGSYS handler runs on the
 * program's own stack, publishes the trap where uk never looks, and waits
 * there with every signal blocked. Nothing brings it back: uk must give up
 * on it (after its interrupt for SIGALRM goes unanswered) and kill it. */
static unsigned char stuck_stack[128 << 10] __attribute__((aligned(64 << 10)));

static int mode_stuck(void) {
	if (find_sites() != 3)
		return 1;
	static unsigned char frame[4096] __attribute__((aligned(64)));
	memset(frame, 0, sizeof frame);
	ucontext_t *uc = (ucontext_t *)(frame + 8);
	uc->uc_flags = 0x2 | 0x4;
	uc->uc_stack.ss_flags = SS_DISABLE;
	/* Touched, so that uk has mapped it: the host kernel must be able to
	 * push the SIGSYS frame there. */
	memset(stuck_stack, 1, sizeof stuck_stack);
	greg_t *g = uc->uc_mcontext.gregs;
	g[REG_RIP] = (greg_t)&&resumed;
	g[REG_RSP] = (greg_t)(stuck_stack + (72 << 10));
	g[REG_EFL] = 0x202;
	g[REG_CSGSFS] = 0x33 | (0x2bUL << 48);
	alarm(1);
	__asm__ volatile("mov %0, %%rsp\n\t"
			 "mov $15, %%eax\n\t"
			 "jmp *%1"
			 : : "r"(frame + 8), "r"(sites[2]) : "rax", "memory");
resumed:
	__asm__ volatile("mov $39, %%eax\n\tsyscall" : : : "rax", "rcx", "r11", "memory");
	printf("FAIL: the syscall without a signal stack returned\n");
	return 1;
}

static volatile int stop;

/* servewake: the request page (after the stub's code page) ends with the
 * serving thread's sequence word (platform/internal/stubproc/serve.go). */
#define SERVE_WORD (STUB_CODE + 0x1000 + 0x1000 - 8)

static volatile long woken;

static void *serve_waker(void *arg) {
	(void)arg;
	while (!stop) {
		trap_rax = 0;
		if (sigsetjmp(env, 1) == 0) {
			/* FUTEX_WAKE at the wake site; the handler then reads
			 * its "slot header" at RBX = 0 and faults. */
			register long r10 __asm__("r10") = 0;
			__asm__ volatile("xor %%ebx, %%ebx\n\t"
					 "jmp *%4"
					 : : "a"((long)SYS_futex), "D"(SERVE_WORD), "S"(1L), "d"(0x7fffffffL), "r"(sites[0]), "r"(r10)
					 : "rbx", "rcx", "r11", "memory");
		}
		if (trap_rax > 0)
			woken += trap_rax;
	}
	return NULL;
}

static int mode_servewake(void) {
	if (find_sites() != 3)
		return 1;
	catch(SIGSEGV);
	catch(SIGILL);
	pthread_t th;
	if (pthread_create(&th, NULL, serve_waker, NULL) != 0)
		return 1;
	long stale = 0, wrong = 0;
	for (int i = 0; i < 2000; i++) {
		volatile long *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 1;
		p[0] = i + 1;
		if (p[0] != i + 1)
			wrong++;
		munmap((void *)p, 4096);
		if (sigsetjmp(env, 1) == 0) {
			(void)p[0];
			stale++; /* the read did not fault */
		}
	}
	stop = 1;
	pthread_join(th, NULL);
	printf("serving thread woken by the program: %s; reads after munmap that did not fault: %ld; wrong values: %ld\n",
	       woken > 0 ? "yes" : "NO", stale, wrong);
	return 0;
}

/* fast_only: the scribbler writes only what the trampoline uses. */
static int fast_only;

static void *scribbler(void *arg) {
	(void)arg;
	/* Slot 0 is the main thread's (the first stub thread); its first
	 * 16 KiB are inside it whatever the slot size. */
	volatile uint64_t *slot = (volatile uint64_t *)THREAD_REGION;
	uint64_t x = 88172645463325252ULL;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0;; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (fast_only ? 4 + i % 3 : i % 7) {
		case 0: /* the state word: "trapped" */
			*(volatile uint32_t *)slot = 1;
			break;
		case 1: /* the frame pointers */
			slot[3] = THREAD_REGION + (x & 0x3fff);
			slot[2] = x;
			break;
		case 2: /* the frame, anywhere on the stack */
			slot[32 + (x % 2000)] = x;
			break;
		case 3: /* ring-0 selectors where sigcontext's cs/ss may be */
			slot[32 + (x % 2000)] = 0x0018000000000010ULL;
			break;
		case 4: /* the fast frame: registers, flags, FS base, RIP */
			slot[10 + (x % 19)] = (x & 1) ? x : 0x0018000000000010ULL;
			break;
		case 5: /* the self pointer the patched entry checks GS with */
			slot[9] = (x & 1) ? x : THREAD_REGION + 64;
			break;
		case 6: /* the fast states: trapped, resume, re-enter */
			*(volatile uint32_t *)slot = 5 + (x % 4);
			break;
		}
		if ((i & 1023) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > 500000000L)
				break;
		}
	}
	stop = 1;
	return NULL;
}

/* fast_getpid is a site uk's sigsys patches once it is hot. */
static __attribute__((noinline)) long fast_getpid(void) {
	long r;
	__asm__ volatile("mov $39, %%eax\n\tsyscall" : "=a"(r) : : "rcx", "r11", "memory");
	return r;
}

static int mode_race(void) {
	pthread_t th;
	pid_t pid = getpid();
	long bad = 0, n = 0;
	for (int i = 0; i < 200; i++) /* hot enough to be patched first */
		fast_getpid();
	if (pthread_create(&th, NULL, scribbler, NULL) != 0)
		return 1;
	while (!stop) {
		if (syscall(SYS_getpid) != pid)
			bad++;
		if (fast_getpid() != pid)
			bad++;
		n += 2;
	}
	pthread_join(th, NULL);
	printf("race done: %ld syscalls\n", n);
	(void)bad;
	return 0;
}

/* renew: RENEW_AT is where the first child of each round leaves its
 * secret. */
#define RENEW_AT ((volatile uint64_t *)0x10000000UL)
#define RENEW_SECRET 0x5ec2e75ec2e7UL

static int mode_renew(void) {
	int leaks = 0, faults = 0, rounds = 40;
	for (int i = 0; i < rounds; i++) {
		pid_t a = fork();
		if (a == 0) {
			if (mmap((void *)RENEW_AT, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
				_exit(1);
			*RENEW_AT = RENEW_SECRET;
			_exit(0);
		}
		int st;
		if (a < 0 || waitpid(a, &st, 0) != a || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return 1;
		pid_t b = fork();
		if (b == 0) {
			catch(SIGSEGV);
			trapped = 0;
			if (sigsetjmp(env, 1) == 0) {
				uint64_t v = *RENEW_AT;
				_exit(v == RENEW_SECRET ? 3 : 2);
			}
			_exit(trapped == SIGSEGV ? 0 : 4);
		}
		if (b < 0 || waitpid(b, &st, 0) != b || !WIFEXITED(st))
			return 1;
		if (WEXITSTATUS(st) == 0)
			faults++;
		else if (WEXITSTATUS(st) == 3)
			leaks++;
	}
	printf("reads of a dead process's page: %d faulted, %d did not (%d saw its secret)\n", faults, rounds - faults, leaks);
	return 0;
}

int main(int argc, char **argv) {
	alarm(10);
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "sites") == 0)
		return mode_sites();
	if (strcmp(mode, "handler") == 0)
		return mode_handler();
	if (strcmp(mode, "ring0") == 0)
		return mode_ring0();
	if (strcmp(mode, "trampoline") == 0)
		return mode_trampoline();
	if (strcmp(mode, "race") == 0) {
		fast_only = argc > 2 && strcmp(argv[2], "fast") == 0;
		return mode_race();
	}
	if (strcmp(mode, "servewake") == 0)
		return mode_servewake();
	if (strcmp(mode, "stuck") == 0)
		return mode_stuck();
	if (strcmp(mode, "renew") == 0)
		return mode_renew();
	fprintf(stderr, "usage: hostile_sigsys sites|handler|trampoline|ring0|race [fast]|stuck|servewake|renew\n");
	return 2;
}
