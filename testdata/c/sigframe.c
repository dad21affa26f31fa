/* sigframe: signal delivery through the rt_sigframe: siginfo contents, a
 * handler changing the interrupted context, masks during and after handlers,
 * SA_RESETHAND/SA_NODEFER, sigaltstack, the fault signals with their si_code
 * and si_addr, and syscall restart with and without SA_RESTART. */
#include "uktest.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <ucontext.h>

static volatile int got_sig, got_code, got_pid_ok, on_alt;
static volatile void *got_addr;
static volatile sigset_t mask_in_handler;
static char altstack[65536];

static void info_handler(int sig, siginfo_t *si, void *ucv) {
	got_sig = sig;
	got_code = si->si_code;
	got_pid_ok = si->si_pid == getpid();
	got_addr = si->si_addr;
	sigprocmask(SIG_SETMASK, NULL, (sigset_t *)&mask_in_handler);
	char here;
	on_alt = &here >= altstack && &here < altstack + sizeof altstack;
}

/* skip_handler steps over the faulting instruction, whose length the test
 * stores in skip_len, by editing the saved RIP in the ucontext. */
static volatile int skip_len;
static void skip_handler(int sig, siginfo_t *si, void *ucv) {
	ucontext_t *uc = ucv;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	uc->uc_mcontext.gregs[REG_RIP] += skip_len;
}

static volatile int depth, max_depth;
static void nodefer_handler(int sig) {
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (depth < 3)
		raise(sig);
	depth--;
}

static volatile int alarms;
static void count_handler(int sig) { alarms++; }

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = info_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	EXPECT_OK(sigaction(SIGUSR1, &sa, NULL));

	/* raise() is tgkill: SI_TKILL from our own pid. */
	raise(SIGUSR1);
	CHECK("SIGUSR1 handler ran with signo", got_sig == SIGUSR1);
	CHECK("si_code is SI_TKILL", got_code == SI_TKILL);
	CHECK("si_pid is our pid", got_pid_ok);
	CHECK("handler mask has the signal itself", sigismember((sigset_t *)&mask_in_handler, SIGUSR1));
	CHECK("handler mask has sa_mask", sigismember((sigset_t *)&mask_in_handler, SIGUSR2));
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	CHECK("mask restored after the handler", !sigismember(&now, SIGUSR1) && !sigismember(&now, SIGUSR2));

	/* kill() is SI_USER. */
	got_sig = 0;
	kill(getpid(), SIGUSR1);
	CHECK("kill: si_code is SI_USER", got_sig == SIGUSR1 && got_code == SI_USER);

	/* sigqueue carries a value. */
	got_sig = 0;
	union sigval v = {.sival_int = 42};
	EXPECT_OK(sigqueue(getpid(), SIGUSR1, v));
	CHECK("sigqueue: si_code is SI_QUEUE", got_sig == SIGUSR1 && got_code == SI_QUEUE);

	/* A blocked signal stays pending until unblocked. */
	sigset_t blk;
	sigemptyset(&blk);
	sigaddset(&blk, SIGUSR1);
	sigprocmask(SIG_BLOCK, &blk, NULL);
	got_sig = 0;
	raise(SIGUSR1);
	CHECK("blocked signal not delivered", got_sig == 0);
	sigset_t pend;
	sigpending(&pend);
	CHECK("blocked signal is pending", sigismember(&pend, SIGUSR1));
	sigprocmask(SIG_UNBLOCK, &blk, NULL);
	CHECK("delivered once unblocked", got_sig == SIGUSR1);

	/* sigaltstack with SA_ONSTACK. */
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
	EXPECT_OK(sigaltstack(&ss, NULL));
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	EXPECT_OK(sigaction(SIGUSR2, &sa, NULL));
	on_alt = 0;
	raise(SIGUSR2);
	CHECK("SA_ONSTACK handler ran on the alternate stack", on_alt);

	/* SA_RESETHAND: the second raise takes the default action, which we
	 * observe with SIGCHLD-style ignore: use SIGWINCH (default ignore). */
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = info_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	EXPECT_OK(sigaction(SIGWINCH, &sa, NULL));
	raise(SIGWINCH);
	struct sigaction old;
	sigaction(SIGWINCH, NULL, &old);
	CHECK("SA_RESETHAND resets to SIG_DFL", old.sa_handler == SIG_DFL);

	/* SA_NODEFER lets the handler nest. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = nodefer_handler;
	sa.sa_flags = SA_NODEFER;
	EXPECT_OK(sigaction(SIGUSR1, &sa, NULL));
	raise(SIGUSR1);
	CHECK("SA_NODEFER nests three deep", max_depth == 3);

	/* Fault signals, each skipped by editing RIP. */
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = skip_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGTRAP, &sa, NULL);

	skip_len = 2; /* mov (%rax),%eax: 8b 00 */
	__asm__ volatile("mov $0xdead000, %%rax; mov (%%rax), %%eax" ::: "rax");
	CHECK("SIGSEGV on an unmapped read", got_sig == SIGSEGV && got_code == SEGV_MAPERR && got_addr == (void *)0xdead000);

	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	got_sig = 0;
	skip_len = 3; /* movb $1,(%rax): c6 00 01 */
	__asm__ volatile("mov %0, %%rax; movb $1, (%%rax)" ::"r"(ro) : "rax", "memory");
	CHECK("SIGSEGV SEGV_ACCERR writing read-only memory", got_sig == SIGSEGV && got_code == SEGV_ACCERR && got_addr == ro);

	got_sig = 0;
	skip_len = 2; /* ud2 */
	__asm__ volatile("ud2");
	CHECK("SIGILL ILL_ILLOPN from ud2", got_sig == SIGILL && got_code == ILL_ILLOPN);

	got_sig = 0;
	skip_len = 2; /* div %ecx: f7 f1 */
	__asm__ volatile("xor %%edx, %%edx; mov $1, %%eax; xor %%ecx, %%ecx; div %%ecx" ::: "eax", "ecx", "edx");
	CHECK("SIGFPE FPE_INTDIV from a divide by zero", got_sig == SIGFPE && got_code == FPE_INTDIV);

	got_sig = 0;
	skip_len = 0; /* int3 traps after the instruction */
	__asm__ volatile("int3");
	CHECK("SIGTRAP from int3", got_sig == SIGTRAP);

	/* SA_RESTART: a read interrupted by an alarm restarts; without it,
	 * it fails with EINTR. */
	int p[2];
	EXPECT_OK(pipe(p));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = count_handler;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {.it_value = {0, 20000}};
	char c;
	setitimer(ITIMER_REAL, &it, NULL);
	EXPECT_ERR(read(p[0], &c, 1), EINTR);
	CHECK("alarm handler ran", alarms == 1);

	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	pid_t child = fork();
	if (child == 0) {
		usleep(100000);
		write(p[1], "x", 1);
		_exit(0);
	}
	setitimer(ITIMER_REAL, &it, NULL);
	EXPECT_EQ(read(p[0], &c, 1), 1);
	CHECK("SA_RESTART read restarted after the alarm", alarms == 2 && c == 'x');
	waitpid(child, NULL, 0);
	return ukt_exit();
}
