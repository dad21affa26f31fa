/* cachestat.c: cachestat(2) on tmpfs compared with Linux (LTP's
 * cachestat02 and cachestat03's checks): written pages are cached, holes
 * are not, a zero length means to the end, pipes report nothing; EBADF,
 * EFAULT, EINVAL and EPERM in Linux's order. */
#include "uktest.h"
#include <fcntl.h>
#include <sys/stat.h>

struct cs_range { uint64_t off, len; };
struct cs { uint64_t cache, dirty, writeback, evicted, recently; };

static long cachestat(int fd, struct cs_range *r, struct cs *c, unsigned flags) {
	return syscall(451, fd, r, c, flags);
}

static void show(const char *what, int fd, uint64_t off, uint64_t len) {
	struct cs_range r = {off, len};
	struct cs c;
	memset(&c, 0xff, sizeof c);
	long rc = cachestat(fd, &r, &c, 0);
	printf("%s: rc %ld cache %llu writeback %llu evicted %llu recently %llu\n", what, rc, (unsigned long long)c.cache,
	       (unsigned long long)c.writeback, (unsigned long long)c.evicted, (unsigned long long)c.recently);
}

int main(void) {
	char path[] = "/dev/shm/cachestat.XXXXXX";
	int fd = mkstemp(path);
	char page[4096];
	memset(page, 'a', sizeof page);
	for (int i = 0; i < 8; i++) write(fd, page, sizeof page);
	show("8 written", fd, 0, 8 * 4096);
	show("to the end", fd, 0, 0);
	show("middle 3", fd, 4096 + 10, 3 * 4096 - 20);
	show("past the end", fd, 100 * 4096, 4096);
	ftruncate(fd, 64 * 4096);
	pwrite(fd, page, 1, 40 * 4096);
	show("sparse", fd, 0, 0);
	show("one past", fd, 40 * 4096 + 1, 0);
	int p[2];
	pipe(p);
	show("pipe", p[0], 0, 0);
	struct cs_range r = {0, 4096};
	struct cs c;
	EXPECT_ERR(cachestat(-1, &r, &c, 0), EBADF);
	EXPECT_ERR(cachestat(99, &r, &c, 0), EBADF);
	int op = open(path, O_PATH);
	EXPECT_ERR(cachestat(op, &r, &c, 0), EBADF);
	EXPECT_ERR(cachestat(fd, &r, &c, 1), EINVAL);
	EXPECT_ERR(cachestat(fd, &r, &c, -1), EINVAL);
	EXPECT_ERR(cachestat(fd, NULL, &c, 0), EFAULT);
	EXPECT_ERR(cachestat(fd, &r, NULL, 0), EFAULT);
	EXPECT_ERR(cachestat(fd, (void *)-1, &c, 1), EFAULT); /* the range is read first */
	fchmod(fd, 0644);
	pid_t k = fork();
	if (k == 0) {
		setuid(65534);
		int ro = open(path, O_RDONLY);
		EXPECT_ERR(cachestat(ro, &r, &c, 0), EPERM);
		EXPECT_ERR(cachestat(ro, &r, &c, 1), EPERM);
		fflush(stdout);
		_exit(0);
	}
	waitpid(k, NULL, 0);
	fchmod(fd, 0666);
	k = fork();
	if (k == 0) {
		setuid(65534);
		int ro = open(path, O_RDONLY);
		EXPECT_OK(cachestat(ro, &r, &c, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(k, NULL, 0);
	unlink(path);
	return ukt_exit();
}
