/* mapcost: what the host's mapping calls that uk's mapping batches are made
 * of cost on this machine, natively (docs/BENCHMARKS.md §35): a MAP_SHARED
 * mapping of PAGES pages of a memfd, with and without MAP_POPULATE, a read
 * of every eighth page (a host minor fault each when not populated, with
 * its fault-around), and the munmap.
 *
 *   gcc -O2 -o mapcost mapcost.c && ./mapcost 1 && ./mapcost 64
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	long pages = argc > 1 ? atol(argv[1]) : 1, size = pages * 4096;
	const int iters = 200;
	if (pages < 1 || pages > 1024) {
		fprintf(stderr, "usage: mapcost PAGES (1-1024)\n");
		return 2;
	}
	int fd = memfd_create("mapcost", 0);
	if (fd < 0 || ftruncate(fd, 8 * size) < 0) {
		perror("memfd");
		return 1;
	}
	/* Every page of the file in the page cache, as uk's memory file's are. */
	char *all = mmap(0, 8 * size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	memset(all, 1, 8 * size);
	char *dst = mmap(0, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int populate = 0; populate < 2; populate++) {
		double tmap = 0, ttouch = 0, tunmap = 0;
		for (int i = 0; i < iters; i++) {
			double a = now_us();
			if (mmap(dst, size, PROT_READ, MAP_SHARED | MAP_FIXED | (populate ? MAP_POPULATE : 0), fd, (i % 8) * size) == MAP_FAILED) {
				perror("mmap");
				return 1;
			}
			double b = now_us();
			volatile char sum = 0;
			for (long p = 0; p < pages; p += 8)
				sum += dst[p * 4096];
			double c = now_us();
			munmap(dst, size);
			double d = now_us();
			tmap += b - a, ttouch += c - b, tunmap += d - c;
		}
		printf("%ld pages, %s: mmap %.1f us, reading every 8th page %.1f us, munmap %.1f us\n",
		       pages, populate ? "populated" : "unpopulated", tmap / iters, ttouch / iters, tunmap / iters);
	}
	return 0;
}
