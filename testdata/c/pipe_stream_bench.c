/* pipe_stream_bench: times N writes of 4,500 bytes into a pipe that a
 * child process reads and discards (a program's output piped to the next:
 * sort into tail, tar into gzip), from the first write to the reader's
 * exit, and prints "ns_total NS iterations N". The reader reads what is
 * there, up to 64 KiB at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 4500

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1000;
	int p[2];
	if (pipe(p) != 0)
		return 1;
	pid_t child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		static char buf[65536];
		close(p[1]);
		long got = 0;
		ssize_t r;
		while ((r = read(p[0], buf, sizeof buf)) > 0)
			got += r;
		_exit(got == n * CHUNK ? 0 : 1);
	}
	close(p[0]);
	static char chunk[CHUNK];
	memset(chunk, 'x', sizeof chunk);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++)
		if (write(p[1], chunk, CHUNK) != CHUNK)
			return 1;
	close(p[1]);
	int status;
	if (waitpid(child, &status, 0) != child || status != 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	printf("ns_total %lld iterations %ld\n", ns, n);
	return 0;
}
