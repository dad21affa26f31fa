/* signal: rt_sigaction and rt_sigprocmask bookkeeping, without delivering a
 * signal. The raw kernel ABI is used so the values read back are exactly what
 * the kernel (or uk) stored, not glibc's translation. */
#include "uktest.h"

#include <signal.h>

struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

#define BIT(sig) (1ULL << ((sig) - 1))

static void handler(int sig) {
	(void)sig;
}

static void restorer(void) {
}

static long sigact(int sig, const struct ksigaction *act, struct ksigaction *old) {
	return syscall(SYS_rt_sigaction, sig, act, old, 8);
}

static long procmask(int how, const uint64_t *set, uint64_t *old) {
	return syscall(SYS_rt_sigprocmask, how, set, old, 8);
}

static void actions(void) {
	struct ksigaction act = {
		.handler = (void *)handler,
		.flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK | SA_RESTORER,
		.restorer = (void *)restorer,
		.mask = BIT(SIGUSR2) | BIT(SIGTERM) | BIT(SIGKILL) | BIT(SIGSTOP),
	};
	struct ksigaction old;
	memset(&old, 0xff, sizeof old);
	EXPECT_OK(sigact(SIGUSR1, &act, &old));
	CHECK("the initial SIGUSR1 action is SIG_DFL", old.handler == SIG_DFL);
	memset(&old, 0, sizeof old);
	EXPECT_OK(sigact(SIGUSR1, NULL, &old));
	CHECK("handler reads back", old.handler == (void *)handler);
	CHECK("flags read back", old.flags == act.flags);
	CHECK("restorer reads back", old.restorer == (void *)restorer);
	CHECK("mask reads back without SIGKILL and SIGSTOP", old.mask == (BIT(SIGUSR2) | BIT(SIGTERM)));

	struct ksigaction ign = {.handler = SIG_IGN, .flags = SA_RESTORER, .restorer = (void *)restorer};
	memset(&old, 0, sizeof old);
	EXPECT_OK(sigact(SIGUSR1, &ign, &old));
	CHECK("replacing returns the previous handler", old.handler == (void *)handler);
	EXPECT_OK(sigact(SIGUSR1, NULL, &old));
	CHECK("SIG_IGN reads back", old.handler == SIG_IGN);
	struct ksigaction dfl = {.handler = SIG_DFL};
	EXPECT_OK(sigact(SIGUSR1, &dfl, NULL));
	EXPECT_OK(sigact(SIGUSR1, NULL, &old));
	CHECK("SIG_DFL reads back", old.handler == SIG_DFL && old.flags == 0);

	act.mask = 0;
	EXPECT_OK(sigact(64, &act, NULL));
	EXPECT_OK(sigact(64, NULL, &old));
	CHECK("realtime signal 64 handler reads back", old.handler == (void *)handler);
	EXPECT_OK(sigact(64, &dfl, NULL));

	EXPECT_ERR(sigact(0, &act, NULL), EINVAL);
	EXPECT_ERR(sigact(65, &act, NULL), EINVAL);
	EXPECT_ERR(sigact(-1, NULL, &old), EINVAL);
	EXPECT_ERR(sigact(SIGKILL, &act, NULL), EINVAL);
	EXPECT_ERR(sigact(SIGSTOP, &act, NULL), EINVAL);
	EXPECT_ERR(sigact(SIGKILL, &ign, NULL), EINVAL);
	EXPECT_OK(sigact(SIGKILL, NULL, &old));
	CHECK("SIGKILL action reads as SIG_DFL", old.handler == SIG_DFL);
	EXPECT_ERR(syscall(SYS_rt_sigaction, SIGUSR1, &act, NULL, 4), EINVAL);
	EXPECT_ERR(syscall(SYS_rt_sigaction, SIGUSR1, &act, NULL, 16), EINVAL);
	EXPECT_ERR(sigact(SIGUSR1, (void *)8, NULL), EFAULT);
	EXPECT_ERR(sigact(SIGUSR1, NULL, (void *)8), EFAULT);

	/* The libc wrapper on top of the same calls. */
	struct sigaction sa, so;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	EXPECT_OK(sigaction(SIGUSR2, &sa, NULL));
	EXPECT_OK(sigaction(SIGUSR2, NULL, &so));
	CHECK("sigaction handler reads back", so.sa_handler == handler);
	CHECK("sigaction SA_RESTART reads back", (so.sa_flags & SA_RESTART) != 0);
	CHECK("sigaction mask reads back", sigismember(&so.sa_mask, SIGINT) == 1 &&
	      sigismember(&so.sa_mask, SIGQUIT) == 0);
	CHECK("signal() returns the previous handler", signal(SIGUSR2, SIG_DFL) == handler);
}

static void masks(void) {
	uint64_t set = 0, old = ~0ULL;
	EXPECT_OK(procmask(SIG_SETMASK, &set, NULL));
	set = BIT(SIGUSR1) | BIT(SIGUSR2);
	EXPECT_OK(procmask(SIG_BLOCK, &set, &old));
	CHECK("old mask was empty", old == 0);
	EXPECT_OK(procmask(SIG_BLOCK, NULL, &old));
	CHECK("SIG_BLOCK reads back", old == (BIT(SIGUSR1) | BIT(SIGUSR2)));
	set = BIT(SIGUSR1);
	EXPECT_OK(procmask(SIG_UNBLOCK, &set, &old));
	EXPECT_OK(procmask(SIG_SETMASK, NULL, &old));
	CHECK("SIG_UNBLOCK removes only SIGUSR1", old == BIT(SIGUSR2));
	set = BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGTERM) | BIT(64);
	EXPECT_OK(procmask(SIG_SETMASK, &set, NULL));
	EXPECT_OK(procmask(SIG_SETMASK, NULL, &old));
	CHECK("SIGKILL and SIGSTOP cannot be blocked", old == (BIT(SIGTERM) | BIT(64)));
	set = ~0ULL;
	EXPECT_OK(procmask(SIG_BLOCK, &set, NULL));
	EXPECT_OK(procmask(SIG_BLOCK, NULL, &old));
	CHECK("blocking everything leaves SIGKILL and SIGSTOP out", old == (~0ULL & ~(BIT(SIGKILL) | BIT(SIGSTOP))));

	EXPECT_ERR(procmask(99, &set, NULL), EINVAL);
	EXPECT_OK(procmask(99, NULL, &old));
	EXPECT_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4), EINVAL);
	EXPECT_ERR(procmask(SIG_BLOCK, (void *)8, NULL), EFAULT);
	EXPECT_ERR(procmask(SIG_BLOCK, NULL, (void *)8), EFAULT);

	/* glibc's sigprocmask on top. */
	sigset_t s, o;
	sigemptyset(&s);
	EXPECT_OK(sigprocmask(SIG_SETMASK, &s, NULL));
	sigaddset(&s, SIGHUP);
	EXPECT_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	EXPECT_OK(sigprocmask(SIG_SETMASK, NULL, &o));
	CHECK("sigprocmask reads back SIGHUP only", sigismember(&o, SIGHUP) == 1 && sigismember(&o, SIGINT) == 0);

	uint64_t pending = ~0ULL;
	EXPECT_OK(syscall(SYS_rt_sigpending, &pending, 8));
	CHECK("nothing is pending", pending == 0);
	set = 0;
	EXPECT_OK(procmask(SIG_SETMASK, &set, NULL));

	stack_t ss;
	EXPECT_OK(sigaltstack(NULL, &ss));
	CHECK("no alternate signal stack at start", ss.ss_flags == SS_DISABLE);
}

int main(void) {
	actions();
	masks();
	return ukt_exit();
}
