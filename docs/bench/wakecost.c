/* wakecost: what a hand-off and a mapping change cost on this machine,
 * natively (docs/BENCHMARKS.md §34): two processes taking turns through a
 * futex word in shared memory, both on CPU 0 and on CPUs 0 and 1 (where
 * each turn wakes a CPU that went idle); and mmap, a write, munmap of one
 * page, alone, with a thread of the same process spinning on CPU 1 (the
 * unmap must flush that CPU's TLB: an interrupt) and with it asleep.
 *
 *   gcc -O2 -static -pthread -o wakecost wakecost.c && ./wakecost
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void pin(int cpu) {
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof s, &s);
}

static void futex(_Atomic int *w, int op, int v) { syscall(SYS_futex, w, op, v, 0, 0, 0); }

/* pingpong: a child on cpu answers each turn; the parent on CPU 0 waits
 * for the answer. Each side sleeps on the word until it is its turn. */
static void pingpong(int cpu) {
	enum { n = 20000 };
	_Atomic int *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fork() == 0) {
		pin(cpu);
		for (int i = 0; i < n; i++) {
			while (atomic_load(w) != 2 * i + 1)
				futex(w, FUTEX_WAIT, 2 * i);
			atomic_store(w, 2 * i + 2);
			futex(w, FUTEX_WAKE, 1);
		}
		_exit(0);
	}
	pin(0);
	usleep(10000);
	double t0 = now();
	for (int i = 0; i < n; i++) {
		atomic_store(w, 2 * i + 1);
		futex(w, FUTEX_WAKE, 1);
		while (atomic_load(w) != 2 * i + 2)
			futex(w, FUTEX_WAIT, 2 * i + 1);
	}
	printf("futex hand-off, processes on CPUs 0 and %d: %.1f us a round trip\n", cpu, (now() - t0) / n / 1000);
	wait(NULL);
}

static _Atomic int stop;

static void *spinner(void *arg) {
	pin(1);
	while (!atomic_load(&stop))
		;
	return arg;
}

static void *sleeper(void *arg) {
	pin(1);
	while (!atomic_load(&stop))
		usleep(1000);
	return arg;
}

static void remap(const char *peer) {
	enum { n = 20000 };
	double t0 = now();
	for (int i = 0; i < n; i++) {
		char *p = mmap((void *)0x200000000, 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		p[0] = 1;
		munmap(p, 4096);
	}
	printf("mmap, write, munmap of a page, %s: %.1f us\n", peer, (now() - t0) / n / 1000);
}

int main(void) {
	pingpong(0);
	pingpong(1);
	pin(0);
	remap("alone");
	for (int i = 0; i < 2; i++) {
		pthread_t t;
		atomic_store(&stop, 0);
		pthread_create(&t, NULL, i == 0 ? spinner : sleeper, NULL);
		usleep(10000);
		remap(i == 0 ? "a thread spinning on CPU 1" : "a thread sleeping on CPU 1");
		atomic_store(&stop, 1);
		pthread_join(t, NULL);
	}
	return 0;
}
