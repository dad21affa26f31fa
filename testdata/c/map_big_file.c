/* map_big_file: maps the file argv[1] read-only and private, reads the
 * first byte of every page, twice over, and prints their sum and the
 * number of pages: a program reading a file bigger than its sandbox's
 * memory through a mapping (a big library, a data file). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(argv[1]);
		return 1;
	}
	unsigned char *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	long pages = (st.st_size + 4095) / 4096;
	unsigned long long sum = 0;
	for (int pass = 0; pass < 2; pass++)
		for (long i = 0; i < pages; i++)
			sum += p[i * 4096];
	printf("pages %ld sum %llu\n", pages, sum);
	return 0;
}
