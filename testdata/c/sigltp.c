/* sigltp: the signal behaviors where LTP found uk and Linux apart.
 *
 * tgkill03: tgkill's argument checks, in Linux's order (ids that are not
 * positive are EINVAL before anything is looked up; a thread that does not
 * exist, or not in the process named, is ESRCH; a bad signal to a thread
 * that exists is EINVAL), and rt_tgsigqueueinfo/rt_sigqueueinfo alike.
 *
 * sigaction01: SA_RESETHAND resets only the handler when the signal is
 * delivered: sigaction in the handler reads back SIG_DFL with the flags
 * (SA_SIGINFO included) unchanged, and the signal is blocked while the
 * handler runs unless SA_NODEFER.
 */
#include "uktest.h"

#include <pthread.h>
#include <signal.h>

static pid_t gettid_(void) {
	return (pid_t)syscall(SYS_gettid);
}

static long tgkill_(long tgid, long tid, long sig) {
	return syscall(SYS_tgkill, tgid, tid, sig);
}

static long tgsigqueue(long tgid, long tid, long sig, siginfo_t *si) {
	return syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, si);
}

static long sigqueue_(long pid, long sig, siginfo_t *si) {
	return syscall(SYS_rt_sigqueueinfo, pid, sig, si);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int child_ready, child_release;
static pid_t child_tid, defunct_tid;

static void *child_thread(void *arg) {
	pthread_mutex_lock(&mu);
	child_tid = gettid_();
	child_ready = 1;
	pthread_cond_broadcast(&cv);
	while (!child_release)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return arg;
}

static void *defunct_thread(void *arg) {
	defunct_tid = gettid_();
	return arg;
}

static void tgkill_checks(void) {
	/* SIGUSR1 stays blocked: the valid calls below leave it pending. */
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);

	pid_t tgid = getpid(), tid = gettid_();
	pthread_t child, defunct;
	pthread_create(&child, NULL, child_thread, NULL);
	pthread_mutex_lock(&mu);
	while (!child_ready)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	pthread_create(&defunct, NULL, defunct_thread, NULL);
	pthread_join(defunct, NULL);
	/* pthread_join returns when the kernel clears the thread's tid word,
	 * which Linux does a little before the thread is gone: wait for its
	 * /proc entry to go, as LTP does. */
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d", (int)defunct_tid);
	for (int i = 0; i < 1000 && access(path, F_OK) == 0; i++)
		usleep(1000);
	CHECK("the joined thread is gone", access(path, F_OK) != 0);

	EXPECT_ERR(tgkill_(-1, tid, SIGUSR1), EINVAL);
	EXPECT_ERR(tgkill_(0, tid, SIGUSR1), EINVAL);
	EXPECT_ERR(tgkill_(tgid, -1, SIGUSR1), EINVAL);
	EXPECT_ERR(tgkill_(tgid, 0, SIGUSR1), EINVAL);
	EXPECT_ERR(tgkill_(tgid, tid, -1), EINVAL);
	EXPECT_ERR(tgkill_(tgid, tid, 65), EINVAL);
	EXPECT_ERR(tgkill_(tgid, defunct_tid, SIGUSR1), ESRCH);
	EXPECT_ERR(tgkill_(defunct_tid, child_tid, SIGUSR1), ESRCH);
	EXPECT_ERR(tgkill_(tgid, defunct_tid, -1), ESRCH);
	EXPECT_ERR(tgkill_(tgid, defunct_tid, 65), ESRCH);
	EXPECT_EQ(tgkill_(tgid, child_tid, SIGUSR1), 0);
	EXPECT_EQ(tgkill_(tgid, tid, 0), 0);
	EXPECT_ERR(syscall(SYS_tkill, -1, SIGUSR1), EINVAL);
	EXPECT_ERR(syscall(SYS_tkill, 0, SIGUSR1), EINVAL);
	EXPECT_ERR(syscall(SYS_tkill, defunct_tid, -1), ESRCH);
	EXPECT_ERR(syscall(SYS_tkill, tid, -1), EINVAL);

	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_code = SI_QUEUE;
	si.si_pid = tgid;
	EXPECT_ERR(tgsigqueue(-1, tid, SIGUSR1, &si), EINVAL);
	EXPECT_ERR(tgsigqueue(tgid, 0, SIGUSR1, &si), EINVAL);
	EXPECT_ERR(tgsigqueue(tgid, defunct_tid, SIGUSR1, &si), ESRCH);
	EXPECT_ERR(tgsigqueue(tgid, defunct_tid, -1, &si), ESRCH);
	EXPECT_ERR(tgsigqueue(tgid, tid, -1, &si), EINVAL);
	EXPECT_EQ(tgsigqueue(tgid, tid, SIGUSR1, &si), 0);
	/* rt_sigqueueinfo names one process: never a group or everyone. */
	EXPECT_ERR(sigqueue_(-1, SIGUSR1, &si), ESRCH);
	EXPECT_ERR(sigqueue_(0, SIGUSR1, &si), ESRCH);
	EXPECT_ERR(sigqueue_(-tgid, SIGUSR1, &si), ESRCH);
	EXPECT_ERR(sigqueue_(defunct_tid, -1, &si), ESRCH);
	EXPECT_ERR(sigqueue_(tgid, -1, &si), EINVAL);
	EXPECT_EQ(sigqueue_(tgid, SIGUSR1, &si), 0);
	/* A positive si_code claims to be the kernel: only to oneself. */
	si.si_code = SI_KERNEL > 0 ? SI_KERNEL : 0x80;
	EXPECT_ERR(tgsigqueue(tgid, child_tid, SIGUSR1, &si), EPERM);
	EXPECT_ERR(sigqueue_(defunct_tid, SIGUSR1, &si), EPERM);

	pthread_mutex_lock(&mu);
	child_release = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(child, NULL);

	/* Take what is pending, so that it is not delivered later. */
	struct timespec zero = {0, 0};
	while (sigtimedwait(&usr1, NULL, &zero) == SIGUSR1)
		;
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
}

/* What the handler saw, checked after it returns. */
static volatile int seen_case;
static volatile void *seen_handler;
static volatile unsigned long seen_flags;
static volatile int seen_blocked, seen_info, seen_usr2_blocked;

static void handler(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	struct sigaction cur;
	sigaction(sig, NULL, &cur);
	sigset_t mask;
	sigprocmask(SIG_BLOCK, NULL, &mask);
	seen_handler = (void *)cur.sa_sigaction;
	seen_flags = (unsigned long)cur.sa_flags;
	seen_blocked = sigismember(&mask, sig);
	seen_usr2_blocked = sigismember(&mask, SIGUSR2);
	seen_info = si != NULL;
	seen_case++;
}

static void resethand_case(const char *name, int flags, int mask_usr2, int use_pthread_kill) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (mask_usr2)
		sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);
	int before = seen_case;
	if (use_pthread_kill)
		pthread_kill(pthread_self(), SIGUSR1);
	else
		kill(getpid(), SIGUSR1);
	char what[160];
	snprintf(what, sizeof what, "%s: the handler ran", name);
	CHECK(what, seen_case == before + 1);
	snprintf(what, sizeof what, "%s: sigaction in the handler reads SIG_DFL", name);
	CHECK(what, seen_handler == (void *)SIG_DFL);
	snprintf(what, sizeof what, "%s: SA_RESETHAND left the flags as set", name);
	CHECK(what, (seen_flags & (SA_SIGINFO | SA_RESETHAND | SA_NODEFER)) ==
			    (unsigned long)(flags & (SA_SIGINFO | SA_RESETHAND | SA_NODEFER)));
	snprintf(what, sizeof what, "%s: the signal is blocked in the handler", name);
	CHECK(what, seen_blocked == !(flags & SA_NODEFER));
	snprintf(what, sizeof what, "%s: sa_mask is blocked in the handler", name);
	CHECK(what, seen_usr2_blocked == mask_usr2);
	snprintf(what, sizeof what, "%s: a siginfo pointer", name);
	CHECK(what, seen_info);
	struct sigaction after;
	sigaction(SIGUSR1, NULL, &after);
	snprintf(what, sizeof what, "%s: after delivery the action is SIG_DFL with its flags", name);
	CHECK(what, after.sa_handler == SIG_DFL && (after.sa_flags & SA_SIGINFO) == (flags & SA_SIGINFO));
	snprintf(what, sizeof what, "%s: after delivery sa_mask is kept", name);
	CHECK(what, sigismember(&after.sa_mask, SIGUSR2) == mask_usr2);
}

int main(void) {
	tgkill_checks();
	resethand_case("RESETHAND|SIGINFO by kill", SA_RESETHAND | SA_SIGINFO, 0, 0);
	resethand_case("RESETHAND by kill", SA_RESETHAND, 0, 0);
	resethand_case("RESETHAND|SIGINFO with sa_mask by pthread_kill", SA_RESETHAND | SA_SIGINFO, 1, 1);
	resethand_case("RESETHAND|NODEFER|SIGINFO by pthread_kill", SA_RESETHAND | SA_NODEFER | SA_SIGINFO, 0, 1);
	return ukt_exit();
}
