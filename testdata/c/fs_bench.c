/* fs_bench: times N iterations of one file-system operation in DIR
 * (created if needed) and prints "ns_total NS iterations N"; set-up such as
 * creating the files to read is outside the timed loop.
 *   fs_bench open N DIR      open + read 100 bytes + close of a small file
 *   fs_bench create N DIR    create + close + unlink
 *   fs_bench stat N DIR      stat of a file
 *   fs_bench getdents N DIR  open + list a 1000-entry directory + close
 *   fs_bench write N DIR     write 1 MiB sequentially (64 KiB writes) at offset 0
 *   fs_bench read N DIR      read 1 MiB sequentially (64 KiB reads) from offset 0 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void die(const char *what) {
	perror(what);
	exit(1);
}

static char buf[64 << 10];

int main(int argc, char **argv) {
	if (argc < 4) {
		fprintf(stderr, "usage: fs_bench MODE N DIR\n");
		return 2;
	}
	const char *mode = argv[1];
	long n = atol(argv[2]);
	if (mkdir(argv[3], 0755) != 0 && chdir(argv[3]) != 0)
		die(argv[3]);
	if (chdir(argv[3]) != 0)
		die(argv[3]);
	int fd = open("small", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, buf, 100) != 100)
		die("small");
	close(fd);
	if (strcmp(mode, "getdents") == 0) {
		mkdir("big", 0755);
		char name[64];
		for (int i = 0; i < 1000; i++) {
			snprintf(name, sizeof name, "big/entry-%04d", i);
			fd = open(name, O_WRONLY | O_CREAT, 0644);
			if (fd < 0)
				die(name);
			close(fd);
		}
	}
	int big = -1;
	if (strcmp(mode, "write") == 0 || strcmp(mode, "read") == 0) {
		big = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (big < 0)
			die("data");
		for (int i = 0; i < 16; i++)
			if (write(big, buf, sizeof buf) != sizeof buf)
				die("write");
	}
	long long t0 = now();
	for (long i = 0; i < n; i++) {
		if (strcmp(mode, "open") == 0) {
			fd = open("small", O_RDONLY);
			if (fd < 0 || read(fd, buf, 100) != 100)
				die("open/read");
			close(fd);
		} else if (strcmp(mode, "create") == 0) {
			fd = open("tmpfile", O_WRONLY | O_CREAT | O_EXCL, 0644);
			if (fd < 0)
				die("create");
			close(fd);
			if (unlink("tmpfile") != 0)
				die("unlink");
		} else if (strcmp(mode, "stat") == 0) {
			struct stat st;
			if (stat("small", &st) != 0)
				die("stat");
		} else if (strcmp(mode, "getdents") == 0) {
			fd = open("big", O_RDONLY | O_DIRECTORY);
			if (fd < 0)
				die("open big");
			long total = 0, r;
			while ((r = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
				total += r;
			if (r < 0 || total == 0)
				die("getdents64");
			close(fd);
		} else if (strcmp(mode, "write") == 0 || strcmp(mode, "read") == 0) {
			int w = mode[0] == 'w';
			for (int k = 0; k < 16; k++) {
				ssize_t r = w ? pwrite(big, buf, sizeof buf, (off_t)k * sizeof buf)
					      : pread(big, buf, sizeof buf, (off_t)k * sizeof buf);
				if (r != sizeof buf)
					die(mode);
			}
		} else {
			fprintf(stderr, "unknown mode %s\n", mode);
			return 2;
		}
	}
	long long ns = now() - t0;
	printf("ns_total %lld iterations %ld\n", ns, n);
	return 0;
}
