/* ioacct: /proc/PID/io's counters compared with Linux. rchar and wchar
 * count the bytes read(2), write(2) and their kin moved, syscr and syscw
 * the calls that reached a file (a refused one, EBADF, is not counted; one
 * at end of file is). A thread has its own (task/TID/io); the process
 * keeps its exited threads' and, once it has waited, its children's.
 *
 * Every snapshot is one read(2) of the io file, which itself counts in
 * the next: deltas subtract it. Results are printed only at the end, so
 * that no stdout write falls between two snapshots. */
#include "uktest.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/wait.h>

struct io {
	long long rchar, wchar, syscr, syscw, read_bytes, len;
};

static struct io snap(const char *path) {
	struct io s = {-1, -1, -1, -1, -1, 0};
	char buf[512];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return s;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return s;
	buf[n] = 0;
	s.len = n;
	sscanf(buf, "rchar: %lld\nwchar: %lld\nsyscr: %lld\nsyscw: %lld\nread_bytes: %lld", &s.rchar, &s.wchar,
	       &s.syscr, &s.syscw, &s.read_bytes);
	return s;
}

static char results[8192];
static size_t rlen;

/* delta records what happened between a and b, less a's own read. */
static void delta(const char *what, struct io a, struct io b) {
	rlen += snprintf(results + rlen, sizeof results - rlen, "%s: rchar +%lld, wchar +%lld, syscr +%lld, syscw +%lld\n",
	                 what, b.rchar - a.rchar - a.len, b.wchar - a.wchar, b.syscr - a.syscr - 1, b.syscw - a.syscw);
}

static char tidpath[64];
static int gate[2], back[2];

static void *reader(void *arg) {
	int fd = *(int *)arg;
	char b[100];
	for (int i = 0; i < 5; i++)
		pread(fd, b, sizeof b, 0);
	snprintf(tidpath, sizeof tidpath, "/proc/self/task/%d/io", gettid());
	char c = 'r';
	write(back[1], &c, 1); /* one write of 1 byte */
	read(gate[0], &c, 1);  /* one read of 1 byte */
	return NULL;
}

int main(void) {
	const char *self = "/proc/self/io";
	char data[10000];
	memset(data, 'x', sizeof data);
	char tmpl[] = "/tmp/ioacctXXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0)
		return 1;
	unlink(tmpl);

	struct io a = snap(self);
	for (int i = 0; i < 10; i++)
		write(fd, data + i * 1000, 1000);
	struct io b = snap(self);
	delta("10 writes of 1000", a, b);

	a = snap(self);
	for (int i = 0; i < 10; i++)
		pread(fd, data, 1000, i * 1000);
	b = snap(self);
	delta("10 preads of 1000", a, b);

	a = snap(self);
	lseek(fd, 9900, SEEK_SET);
	read(fd, data, 1000); /* 100 bytes */
	read(fd, data, 1000); /* end of file: counted, no bytes */
	b = snap(self);
	delta("a short read and one at end of file", a, b);

	int wo = open("/dev/null", O_WRONLY);
	a = snap(self);
	read(wo, data, 10);     /* EBADF: not counted */
	write(wo, data, 123);   /* /dev/null takes it all */
	b = snap(self);
	delta("read of a write-only fd, write to /dev/null", a, b);

	struct iovec v[2] = {{data, 100}, {data + 100, 200}};
	a = snap(self);
	preadv(fd, v, 2, 0);
	writev(wo, v, 2);
	b = snap(self);
	delta("preadv and writev of 300", a, b);

	a = snap(self);
	off_t off = 0;
	sendfile(wo, fd, &off, 4000);
	b = snap(self);
	delta("sendfile of 4000", a, b);

	int p[2];
	pipe(p);
	a = snap(self);
	write(p[1], data, 64);
	read(p[0], data, 1000);
	b = snap(self);
	delta("a pipe's 64 bytes", a, b);

	/* A thread's own counters, then the process's after it ends. */
	pipe(gate);
	pipe(back);
	pthread_t th;
	char c;
	a = snap(self);
	pthread_create(&th, NULL, reader, &fd);
	read(back[0], &c, 1);
	struct io ta = snap(tidpath); /* the thread's: 5 preads and a write so far */
	write(gate[1], &c, 1);
	pthread_join(th, NULL);
	b = snap(self);
	rlen += snprintf(results + rlen, sizeof results - rlen,
	                 "the thread's own: rchar %lld, wchar %lld, syscr %lld, syscw %lld\n", ta.rchar, ta.wchar,
	                 ta.syscr, ta.syscw);
	/* main: a read of 1 (back) + the thread's io file read + write of 1
	 * (gate); the thread: 5 x 100 + 1 written + 1 read */
	delta("with an exited thread", a, b);

	/* A child's I/O reaches its parent when the parent waits. */
	a = snap(self);
	pid_t ch = fork();
	if (ch == 0) {
		for (int i = 0; i < 7; i++)
			pread(fd, data, 10, 0);
		write(wo, data, 33);
		_exit(0);
	}
	/* Wait until it is a zombie without reaping it. */
	siginfo_t si;
	waitid(P_PID, ch, &si, WEXITED | WNOWAIT);
	b = snap(self);
	delta("a child exited, not yet waited for", a, b);
	a = snap(self);
	waitpid(ch, NULL, 0);
	b = snap(self);
	delta("after waiting for it", a, b);
	struct io z = snap(self);
	CHECK("read_bytes is 0 (tmpfs)", z.read_bytes == 0);
	fputs(results, stdout);
	return ukt_exit();
}
