/* signal_bench: times N signal deliveries to this thread (raise: tgkill,
 * frame built, handler run, rt_sigreturn) with CLOCK_MONOTONIC around the
 * loop only, and prints "ns_total NS iterations N". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile long count;
static void handler(int sig) { count++; }

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1000;
	signal(SIGUSR1, handler);
	for (int i = 0; i < 10; i++)
		raise(SIGUSR1);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++)
		raise(SIGUSR1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	if (count != n + 10)
		return 1;
	printf("ns_total %lld iterations %ld\n", ns, n);
	return 0;
}
