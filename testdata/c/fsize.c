/* fsize.c: RLIMIT_FSIZE, compared with Linux: a write that would pass the
 * limit is cut at it, one that starts at or past it fails with EFBIG and
 * raises SIGXFSZ (caught here, or ignored), and so do truncate,
 * ftruncate, fallocate and appends; writes to a pipe are not bound. A
 * child with the limit set reports to its parent through a pipe, since
 * its own stdout may be a file the limit binds too. */
#include "uktest.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>

static volatile sig_atomic_t xfsz;
static void on_xfsz(int sig) { xfsz++; }

static int out;

#define SAY(...)                                               \
	do {                                                       \
		char b[200];                                           \
		int n = snprintf(b, sizeof b, __VA_ARGS__);            \
		write(out, b, n);                                      \
	} while (0)

static void report(const char *what, long r) {
	SAY("%s: %ld %s, SIGXFSZ %d\n", what, r, r < 0 ? errname(errno) : "", xfsz);
	xfsz = 0;
}

int main(void) {
	char path[64];
	snprintf(path, sizeof path, "/tmp/uk_fsize_%d", getpid());
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		out = p[1];
		signal(SIGXFSZ, on_xfsz);
		struct rlimit r = {10, RLIM_INFINITY};
		setrlimit(RLIMIT_FSIZE, &r);
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		report("write 13 bytes at 0", pwrite(fd, "0123456789abc", 13, 0));
		report("write at 10", pwrite(fd, "x", 1, 10));
		report("write at 9", pwrite(fd, "yz", 2, 9));
		report("ftruncate to 20", ftruncate(fd, 20));
		report("ftruncate to 10", ftruncate(fd, 10));
		report("truncate to 11", truncate(path, 11));
		report("fallocate past it", fallocate(fd, 0, 0, 20));
		report("fallocate keeping the size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 20));
		int ap = open(path, O_WRONLY | O_APPEND);
		report("append", write(ap, "q", 1));
		lseek(fd, 8, SEEK_SET);
		report("write at the offset 8", write(fd, "abcd", 4));
		report("to a pipe", write(p[1], "", 0));
		signal(SIGXFSZ, SIG_IGN);
		report("ignored", pwrite(fd, "x", 1, 100));
		struct stat st;
		fstat(fd, &st);
		SAY("size %ld\n", (long)st.st_size);
		signal(SIGXFSZ, SIG_DFL);
		pwrite(fd, "x", 1, 100);
		SAY("FAIL still alive\n");
		_exit(0);
	}
	close(p[1]);
	char buf[4096];
	int n;
	while ((n = read(p[0], buf, sizeof buf)) > 0)
		fwrite(buf, 1, n, stdout);
	int st;
	waitpid(c, &st, 0);
	printf("the child: %s %d\n", WIFSIGNALED(st) ? "killed by signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	unlink(path);
	return 0;
}
