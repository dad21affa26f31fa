/* cow_break_bench: times N copy-on-write breaks: a fork child's first write
 * to each page of a heap buffer its parent filled (32 MiB, a fresh child
 * for each 8192 pages), with CLOCK_MONOTONIC around the child's loop only,
 * and prints "ns_total NS iterations N". Under uk the first copies go into
 * pages the host has not backed yet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGES 8192L

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1000;
	char *buf = malloc(PAGES * 4096);
	if (buf == NULL)
		return 1;
	memset(buf, 1, PAGES * 4096);
	long long total = 0;
	for (long done = 0; done < n;) {
		long k = n - done < PAGES ? n - done : PAGES;
		int fds[2];
		if (pipe(fds) != 0)
			return 1;
		pid_t p = fork();
		if (p < 0)
			return 1;
		if (p == 0) {
			struct timespec t0, t1;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			for (long i = 0; i < k; i++)
				((volatile char *)buf)[i * 4096] = 2;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
			_exit(write(fds[1], &ns, sizeof ns) == sizeof ns ? 0 : 1);
		}
		int st;
		long long ns;
		if (waitpid(p, &st, 0) != p || st != 0 || read(fds[0], &ns, sizeof ns) != sizeof ns)
			return 1;
		close(fds[0]);
		close(fds[1]);
		total += ns;
		done += k;
	}
	printf("ns_total %lld iterations %ld\n", total, n);
	return 0;
}
