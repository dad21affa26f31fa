/* getpid_bench: times N getpid system calls (N = argv[1]) with
 * CLOCK_MONOTONIC around the loop only, so the cost of starting the program
 * (and the sandbox) is excluded, and prints "ns_total NS iterations N". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1000;
	for (int i = 0; i < 100; i++)
		syscall(SYS_getpid);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++)
		syscall(SYS_getpid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	printf("ns_total %lld iterations %ld\n", ns, n);
	return 0;
}
