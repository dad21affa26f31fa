/* futexpi.c: priority-inheritance futexes compared with Linux: glibc's
 * PTHREAD_PRIO_INHERIT mutexes under contention, trylock, error-checking
 * and robust ones whose owner dies, and the raw calls' errors (EDEADLK,
 * EPERM, ESRCH, EAGAIN, ETIMEDOUT) and what they leave in the word. */
#include "uktest.h"
#include <linux/futex.h>
#include <pthread.h>
#include <time.h>
#include <signal.h>

static pthread_mutex_t mu;
static long counter;

static void *worker(void *a) {
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	return a;
}

static pthread_mutex_t robust;
static void *die_holding(void *a) {
	pthread_mutex_lock(&robust);
	return a; /* exits with the lock held */
}

static long futex(uint32_t *w, int op, uint32_t val, struct timespec *ts) {
	return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static uint32_t word;
static long waiter_rc;
static int waiter_owned, waiter_bit;
static void *waiter(void *a) {
	waiter_rc = futex(&word, FUTEX_LOCK_PI, 0, NULL);
	if (waiter_rc == 0) {
		/* printed by main after the join: the threads' lines would race */
		waiter_owned = (word & FUTEX_TID_MASK) == (uint32_t)gettid();
		waiter_bit = !!(word & FUTEX_WAITERS);
		futex(&word, FUTEX_UNLOCK_PI, 0, NULL);
	}
	return a;
}

int main(void) {
	pthread_mutexattr_t at;
	pthread_mutexattr_init(&at);
	EXPECT_EQ(pthread_mutexattr_setprotocol(&at, PTHREAD_PRIO_INHERIT), 0);
	EXPECT_EQ(pthread_mutex_init(&mu, &at), 0);
	pthread_t th[4];
	for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
	printf("counter %ld\n", counter);
	EXPECT_EQ(pthread_mutex_trylock(&mu), 0);
	pthread_t t2;
	/* trylock from another thread while held */
	pthread_mutexattr_settype(&at, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_t ec;
	pthread_mutex_init(&ec, &at);
	EXPECT_EQ(pthread_mutex_lock(&ec), 0);
	EXPECT_EQ(pthread_mutex_lock(&ec), EDEADLK);
	EXPECT_EQ(pthread_mutex_unlock(&ec), 0);
	EXPECT_EQ(pthread_mutex_unlock(&ec), EPERM);
	pthread_mutex_unlock(&mu);
	/* a robust PI mutex whose owner dies */
	pthread_mutexattr_settype(&at, PTHREAD_MUTEX_NORMAL);
	pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &at);
	pthread_create(&t2, NULL, die_holding, NULL);
	pthread_join(t2, NULL);
	EXPECT_EQ(pthread_mutex_lock(&robust), EOWNERDEAD);
	EXPECT_EQ(pthread_mutex_consistent(&robust), 0);
	EXPECT_EQ(pthread_mutex_unlock(&robust), 0);
	EXPECT_EQ(pthread_mutex_lock(&robust), 0);
	pthread_mutex_unlock(&robust);

	/* raw calls */
	word = 0;
	EXPECT_OK(futex(&word, FUTEX_LOCK_PI, 0, NULL));
	printf("locked: tid matches %d\n", word == (uint32_t)gettid());
	EXPECT_ERR(futex(&word, FUTEX_LOCK_PI, 0, NULL), EDEADLK);
	EXPECT_ERR(futex(&word, FUTEX_TRYLOCK_PI, 0, NULL), EDEADLK);
	EXPECT_OK(futex(&word, FUTEX_UNLOCK_PI, 0, NULL));
	printf("unlocked: word %x\n", word);
	EXPECT_ERR(futex(&word, FUTEX_UNLOCK_PI, 0, NULL), EPERM);
	word = 4000000; /* held by no thread */
	EXPECT_ERR(futex(&word, FUTEX_LOCK_PI, 0, NULL), ESRCH);
	EXPECT_ERR(futex(&word, FUTEX_TRYLOCK_PI, 0, NULL), ESRCH);
	EXPECT_ERR(futex((uint32_t *)((char *)&word + 1), FUTEX_LOCK_PI, 0, NULL), EINVAL);
	EXPECT_ERR(futex((uint32_t *)8, FUTEX_LOCK_PI, 0, NULL), EFAULT);
	/* a waiter gets the lock at unlock, with FUTEX_WAITERS */
	word = 0;
	futex(&word, FUTEX_LOCK_PI, 0, NULL);
	pthread_create(&t2, NULL, waiter, NULL);
	while (!(word & FUTEX_WAITERS)) usleep(1000);
	EXPECT_OK(futex(&word, FUTEX_UNLOCK_PI, 0, NULL));
	pthread_join(t2, NULL);
	printf("waiter rc %ld, owned %d with the waiters bit %d, word after its unlock %x\n", waiter_rc, waiter_owned,
	       waiter_bit, word);
	/* a timed lock and a trylock of a lock a live process holds */
	pid_t sleeper = fork();
	if (sleeper == 0) {
		pause();
		_exit(0);
	}
	uint32_t held = sleeper;
	EXPECT_ERR(futex(&held, FUTEX_TRYLOCK_PI, 0, NULL), EAGAIN);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20000000;
	if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
	EXPECT_ERR(futex(&held, FUTEX_LOCK_PI, 0, &ts), ETIMEDOUT);
	printf("after the timeout: owner kept %d, waiters bit %d\n", (held & FUTEX_TID_MASK) == (uint32_t)sleeper,
	       !!(held & FUTEX_WAITERS));
	kill(sleeper, SIGKILL);
	waitpid(sleeper, NULL, 0);
	return ukt_exit();
}
