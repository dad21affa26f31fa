/* threads: pthreads on clone/futex: create and join, mutex contention,
 * condition variable broadcast (FUTEX_CMP_REQUEUE or WAKE), a raw
 * FUTEX_CMP_REQUEUE moving waiters between words, thread-directed signals
 * and gettid, and exit_group from a thread ending the process. */
#include "uktest.h"
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>

#define NT 8
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;
static int go;

static void *adder(void *arg) {
	for (int i = 0; i < 10000; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	return arg;
}

static void *waiter(void *arg) {
	pthread_mutex_lock(&mu);
	while (!go)
		pthread_cond_wait(&cv, &mu);
	counter++;
	pthread_mutex_unlock(&mu);
	return NULL;
}

static int fw1, fw2;
static volatile int raw_woken, raw_arrived;
static void *raw_waiter(void *arg) {
	__atomic_fetch_add(&raw_arrived, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &fw1, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	__atomic_fetch_add(&raw_woken, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static volatile pid_t sig_tid;
static void on_usr1(int s) { sig_tid = syscall(SYS_gettid); }
static volatile pid_t worker_tid;
static volatile int worker_stop;
static void *spinner(void *arg) {
	worker_tid = syscall(SYS_gettid);
	while (!worker_stop)
		;
	return NULL;
}

int main(void) {
	pthread_t th[NT];
	for (int i = 0; i < NT; i++)
		pthread_create(&th[i], NULL, adder, (void *)(long)i);
	long sum = 0;
	for (int i = 0; i < NT; i++) {
		void *r;
		pthread_join(th[i], &r);
		sum += (long)r;
	}
	CHECK("8 threads x 10000 locked increments", counter == NT * 10000);
	CHECK("join returns each thread's value", sum == 28);

	counter = 0;
	for (int i = 0; i < NT; i++)
		pthread_create(&th[i], NULL, waiter, NULL);
	usleep(50000);
	pthread_mutex_lock(&mu);
	go = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	CHECK("condvar broadcast woke every waiter", counter == NT);

	/* Raw CMP_REQUEUE: wake 1 of 4 waiters on fw1, move the rest to fw2,
	 * then wake them from fw2. */
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, raw_waiter, NULL);
	/* Every waiter is a few instructions from its FUTEX_WAIT, then has
	 * 100 ms to get there (a busy host or an emulated CPU took longer than
	 * a bare 100 ms to start them: a waiter missed the requeue and the join
	 * below never returned). */
	while (raw_arrived < 4)
		usleep(1000);
	usleep(100000);
	long n = syscall(SYS_futex, &fw1, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(long)10, &fw2, 0);
	CHECK("CMP_REQUEUE woke 1 and requeued 3", n == 4);
	usleep(50000);
	CHECK("one waiter woken by the requeue call", raw_woken == 1);
	EXPECT_ERR(syscall(SYS_futex, &fw1, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(long)10, &fw2, 5), EAGAIN);
	n = syscall(SYS_futex, &fw2, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);
	CHECK("the 3 requeued waiters wake from the second word", n == 3);
	/* Any waiter still asleep after a failed check: wake it, so that the
	 * failure is reported instead of a hang. */
	usleep(50000);
	if (raw_woken < 4) {
		syscall(SYS_futex, &fw1, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);
		syscall(SYS_futex, &fw2, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK("all raw waiters done", raw_woken == 4);

	/* A thread-directed signal runs on that thread; a spinning thread is
	 * interrupted to take it. */
	signal(SIGUSR1, on_usr1);
	pthread_t sp;
	pthread_create(&sp, NULL, spinner, NULL);
	while (!worker_tid)
		usleep(1000);
	pthread_kill(sp, SIGUSR1);
	for (int i = 0; i < 1000 && !sig_tid; i++)
		usleep(1000);
	CHECK("tgkill ran the handler on the target thread", sig_tid == worker_tid);
	CHECK("thread ids differ from the pid", worker_tid != getpid());
	worker_stop = 1;
	pthread_join(sp, NULL);
	return ukt_exit();
}
