/* sparse_fault_bench: times N first writes to fresh anonymous memory, one
 * every 2 MiB (each a page fault with no neighbour touched: a sparse heap,
 * a hash table, a runtime's reservations), with CLOCK_MONOTONIC around the
 * loop only, and prints "ns_total NS iterations N". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define STRIDE (2UL << 20)

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1000;
	char *p = mmap(NULL, (n + 1) * STRIDE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++)
		((volatile char *)p)[i * STRIDE] = 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	printf("ns_total %lld iterations %ld\n", ns, n);
	return 0;
}
