// splice: splice(2) and tee(2) between pipes, files and sockets, with
// their errors; every line is the same on Linux and under uk.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(const char *what, ssize_t r) {
	printf("%s = %zd%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

int main(void) {
	char path[] = "/tmp/spliceXXXXXX";
	int f = mkstemp(path);
	unlink(path);
	char data[100000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)(i * 7 + i / 256);
	write(f, data, sizeof data);

	int p[2], q[2], s[2];
	pipe(p);
	pipe(q);
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);

	// file -> pipe with an offset pointer: the file's own offset stays.
	loff_t off = 10;
	show("file->pipe 1000 at 10", splice(f, &off, p[1], NULL, 1000, 0));
	printf("off now %lld, file offset %lld\n", (long long)off, (long long)lseek(f, 0, SEEK_CUR));
	// tee duplicates without consuming; pipe -> pipe moves.
	show("tee p->q 300", tee(p[0], q[1], 300, 0));
	show("splice p->q 200", splice(p[0], NULL, q[1], NULL, 200, 0));
	char buf[2000];
	ssize_t n = read(q[0], buf, sizeof buf);
	printf("q holds %zd bytes, tee part matches %d, moved part matches %d\n", n,
	       memcmp(buf, data + 10, 300) == 0, memcmp(buf + 300, data + 10, 200) == 0);
	// pipe -> socket, the rest of p (800 bytes: 1000 - 200 moved).
	show("pipe->socket", splice(p[0], NULL, s[0], NULL, 5000, 0));
	n = read(s[1], buf, sizeof buf);
	printf("socket got %zd, matches %d\n", n, memcmp(buf, data + 210, 800) == 0);
	// socket -> pipe.
	write(s[1], "hello splice", 12);
	show("socket->pipe", splice(s[0], NULL, p[1], NULL, 100, 0));
	n = read(p[0], buf, sizeof buf);
	printf("pipe got %.*s\n", (int)n, buf);
	// An empty pipe with SPLICE_F_NONBLOCK; a pipe with no writers.
	show("empty pipe nonblock", splice(p[0], NULL, s[0], NULL, 10, SPLICE_F_NONBLOCK));
	close(q[1]);
	show("pipe without writers", splice(q[0], NULL, s[0], NULL, 10, 0));
	// Errors.
	show("file->file", splice(f, NULL, f, NULL, 10, 0));
	off = 0;
	show("offset on a pipe", splice(p[0], &off, s[0], NULL, 10, 0));
	show("bad flags", splice(f, NULL, p[1], NULL, 10, 0x100));
	show("bad fd", splice(99, NULL, p[1], NULL, 10, 0));
	show("read end as output", splice(f, NULL, p[0], NULL, 10, 0));
	show("tee with a file", tee(f, p[1], 10, 0));
	show("zero length", splice(f, NULL, p[1], NULL, 0, 0));
	// file -> pipe at the file's own offset: it advances.
	lseek(f, 50000, SEEK_SET);
	show("file->pipe at own offset", splice(f, NULL, p[1], NULL, 4096, 0));
	printf("file offset %lld\n", (long long)lseek(f, 0, SEEK_CUR));
	return 0;
}
